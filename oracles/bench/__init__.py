"""Benchmark scripts for the oracles: ``python -m oracles.bench {p1,p2,calibrate} --help``."""
