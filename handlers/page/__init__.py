"""The try-it page (/)."""
