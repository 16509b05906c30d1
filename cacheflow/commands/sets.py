"""Set commands."""
