"""The OpenAPI 3.1 document of every door (served at /openapi.json)."""
