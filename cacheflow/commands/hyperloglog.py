"""HyperLogLog commands (PFADD, PFCOUNT, PFMERGE) on Redis's own HYLL strings."""
