"""info commands."""
