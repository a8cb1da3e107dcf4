"""The /invoke door: views.py (the routes), its body parsing and its answers."""
