"""The function's own door: health, /openapi.json, FC's hooks."""
