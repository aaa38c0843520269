"""The objective of the lisl family: routed throughput and the served share of demand.

This module is the ONLY definition; the environment's reward and every oracle call it.
"""

from __future__ import annotations

import numpy as np

from oracles.lisl.problem import LislProblem

__all__ = ["throughput_gbps", "served_share", "arc_load_gbps"]


def throughput_gbps(rate_gbps: np.ndarray) -> float:
    """Total routed throughput ``sum_f q_f`` [Gbit/s] of the flow rates ``q`` (shape (F,))."""
    q = np.asarray(rate_gbps, dtype=float)
    return float(q.sum())


def served_share(problem: LislProblem, rate_gbps: np.ndarray) -> float:
    """Served share of demand, ``sum_f q_f / sum_i D_i`` in [0, 1] (0 when there is no demand)."""
    total = float(problem.demand_gbps.sum())
    return throughput_gbps(rate_gbps) / total if total > 0 else 0.0


def arc_load_gbps(
    problem: LislProblem, path_ptr: np.ndarray, path_arcs: np.ndarray, rate_gbps: np.ndarray
) -> np.ndarray:
    """Load ``sum_f q_f x^f_ij`` of every arc [Gbit/s], shape (2L,)."""
    q = np.asarray(rate_gbps, dtype=float)
    owner = np.repeat(np.arange(q.shape[0]), np.diff(path_ptr))
    return np.bincount(path_arcs, weights=q[owner], minlength=problem.n_arcs)
