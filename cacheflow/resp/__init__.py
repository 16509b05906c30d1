"""Sans-IO RESP: request parsing (RESP multibulk and inline) and reply encoding.

Nothing in this package performs I/O or imports other CacheFlow packages.
"""
