"""Building blocks of ``bench/run.py``: processes, /proc readings, redis-benchmark, the memory loader, the report.

They live in small modules so each can be read (and trusted) on its own; none of
them imports ``cacheflow``, because the harness measures the server from the outside,
exactly as it measures redis-server.
"""
