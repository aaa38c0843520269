"""Module-level tasks for the parallel-map tests (workers import them by name)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def draw(seed: int, n: int) -> list[float]:
    """A pure function of its config: the same numbers on every backend."""
    return np.random.default_rng(seed).standard_normal(n).tolist()


def flaky(marker: str, value: int) -> int:
    """Fails the first time it runs (per marker file), then succeeds."""
    p = Path(marker)
    if not p.exists():
        p.write_text(str(os.getpid()))
        raise RuntimeError("transient failure")
    return value * 2


def always_fails(value: int) -> int:
    """Never succeeds."""
    raise ValueError(f"bad task {value}")


def threads_seen() -> str:
    """The thread pinning a worker got."""
    return os.environ.get("OMP_NUM_THREADS", "")
