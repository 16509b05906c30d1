"""Hash commands (HSET, HGET, ... and the per-field TTL commands of Redis 7.4)."""
