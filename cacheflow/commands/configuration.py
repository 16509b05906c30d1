"""configuration commands."""
