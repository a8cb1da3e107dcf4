"""The DashScope-native door (/api/v1)."""
