"""Benchmark and paper-reproduction scripts of the suite (top layer: may import every package).

Each module is runnable as ``python -m benchmarks.<name> --out results/<name>.json``, prints a
table and writes JSON atomically.  Measured figures are recorded in ``docs/benchmarks.md`` with
the command, machine and date.
"""
