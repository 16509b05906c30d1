"""The keyspace: databases, values, expiry.  Pure logic; time comes from an injected clock."""
