"""Bitmap commands: bit operations on string values."""
