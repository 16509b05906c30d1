"""The only layer with sockets, timers, signals and files."""
