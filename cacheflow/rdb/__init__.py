"""Redis's RDB serialization: whole snapshot files and single values (DUMP/RESTORE).

Pure: bytes in, bytes out, no files or sockets.  It sits above `store` (it reads
and builds our value types) and `config` (encoding thresholds when loading), and
below `commands` (DUMP and RESTORE use it) and `persistence` (snapshots, AOF base).
"""
