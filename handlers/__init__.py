"""The doors: one package per door, each with `init_app(app)`, registered by its name in app.py's DOORS.
A door imports core/ and web/, never another door (.importlinter)."""
