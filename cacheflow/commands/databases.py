"""databases commands."""
