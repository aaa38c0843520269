"""Shared helpers of the environment tests."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import leo_env
import leo_env.envs  # noqa: F401  (registers the ids)
from leo_env.core.handover import min_handovers


def _p1_ready() -> bool:
    try:
        from oracles import p1
    except ImportError:
        return False
    return hasattr(p1, "solve_batch")


def _p2_ready() -> bool:
    try:
        from oracles import p2
    except ImportError:
        return False
    return all(hasattr(p2, name) for name in ("Problem", "solve", "evaluate"))


P1_READY = _p1_ready()
P2_READY = _p2_ready()
needs_p1 = pytest.mark.skipif(not P1_READY, reason="oracles.p1.solve_batch not available yet")
needs_p2 = pytest.mark.skipif(not P2_READY, reason="oracles.p2 solve/evaluate not available yet")
DEFAULT_ALLOCATOR = "p1" if P1_READY else "equal"


def random_masked_actions(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uniform allowed index per cell for a (C, n) mask."""
    keys = np.where(mask, rng.random(mask.shape), -1.0)
    return keys.argmax(axis=1)


def custom_scenario(v: np.ndarray, H: np.ndarray | int, base: str = "toy", seed: int = 0):  # noqa: N803
    """A preset scenario with hand-made visibility and budgets (other arrays kept)."""
    sc = leo_env.make_scenario(base, seed=seed)
    v = np.asarray(v, dtype=bool)
    assert v.shape == sc.v.shape
    H = np.broadcast_to(np.asarray(H, dtype=np.int64), (sc.C,)).copy()  # noqa: N806
    return dataclasses.replace(sc, v=v, H=H, min_handovers=min_handovers(v))
