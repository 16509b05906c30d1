"""The hit-ratio benchmark (``make bench-cache``): traces, replay, calibration, eviction pause probe, report."""
