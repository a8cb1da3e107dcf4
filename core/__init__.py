"""Shared machinery behind the HTTP doors: configuration, errors, the DashScope adapter."""
