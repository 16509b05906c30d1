"""CacheFlow: an in-memory data store that speaks the Redis protocol."""

__version__ = "0.1.0"
# The Redis release whose behaviour CacheFlow matches; clients gate features on it.
REDIS_COMPAT_VERSION = "7.0.15"
