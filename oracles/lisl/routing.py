"""Shared steps of every lisl method: matching from LCT-pair weights, routing, rates (35)."""

from __future__ import annotations

import numpy as np

from leo_env.core.graph import PathBatch, exact_matching, greedy_matching, shortest_paths
from oracles.lisl.lp import rate_lp
from oracles.lisl.problem import LislProblem

__all__ = ["match", "route", "route_and_rate"]


def match(
    problem: LislProblem,
    weight: np.ndarray,
    *,
    exact: bool = False,
    take_nonpositive: bool = True,
    tiebreak: np.ndarray | None = None,
) -> np.ndarray:
    """Matching of connectable LCT pairs for per-pair weights (greedy or exact), shape (E,)."""
    g = problem.graph
    u, v = g.pair_lct[:, 0], g.pair_lct[:, 1]
    if exact:
        return exact_matching(g.n_lcts, u, v, weight).matched
    return greedy_matching(
        g.n_lcts, u, v, weight, take_nonpositive=take_nonpositive, tiebreak=tiebreak
    )


def route(problem: LislProblem, matched: np.ndarray, arc_cost: np.ndarray) -> PathBatch:
    """One shortest path per flow over the arcs of established LISLs (Dijkstra)."""
    active = problem.arc_capacity_gbps(matched) > 0.0
    return shortest_paths(problem.arcs, arc_cost, problem.flow_src, problem.flow_dst, active=active)


def route_and_rate(
    problem: LislProblem, matched: np.ndarray, arc_cost: np.ndarray
) -> tuple[PathBatch, np.ndarray]:
    """Paths on the established links and the optimal rates (35) for them."""
    paths = route(problem, matched, arc_cost)
    q = rate_lp(problem, problem.arc_capacity_gbps(matched), paths.ptr, paths.arcs)
    return paths, q
