"""Configuration parameters: their types, defaults, parsing and formatting.  Pure: no file I/O."""
