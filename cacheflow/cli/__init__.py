"""cacheflow-cli: a redis-cli compatible command-line client."""
