"""Module-level tasks for the parallel-map tests (workers import them by name)."""

from __future__ import annotations

import os
from pathlib import Path

import numba
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


def counted(log: str, seed: int) -> dict[str, object]:
    """Appends its seed to ``log`` (so tests can see which tasks ran) and returns numpy data."""
    with open(log, "a") as f:
        f.write(f"{seed}\n")
    rng = np.random.default_rng(seed)
    return {"seed": np.int64(seed), "x": rng.standard_normal(3), "pair": (seed, float(rng.random()))}


def jit_square_sum(n: int) -> float:
    """Compiles a numba kernel in the worker (numba was imported when this module was)."""

    @numba.njit
    def kernel(k: int) -> float:
        acc = 0.0
        for i in range(k):
            acc += i * i
        return acc

    return float(kernel(n)) + numba.get_num_threads() * 0.0
