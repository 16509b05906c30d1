"""clients commands."""
