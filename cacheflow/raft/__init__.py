"""Raft consensus: a pure core (``raft.core``) and durable storage for it (``raft.storage``).

The core never touches the network, files or the clock; whoever drives it (the
simulation in the tests, later the server) moves bytes and time in and out through
``RawNode.ready()`` / ``advance()``.  See docs/raft.md.
"""
