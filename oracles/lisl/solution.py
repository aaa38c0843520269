"""One solution type for every lisl method, with its feasibility check."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from oracles.lisl.objective import arc_load_gbps, served_share, throughput_gbps
from oracles.lisl.problem import LislProblem

__all__ = ["LislSolution", "InfeasibleSolution", "make_solution"]


class InfeasibleSolution(AssertionError):
    """Raised by :meth:`LislSolution.check_feasible` with the violated constraint named."""


@dataclass(frozen=True, eq=False)
class LislSolution:
    """Matched LCT pairs, one path and one rate per flow, throughput and (optionally) a bound.

    Attributes
    ----------
    method : str
        Name of the method that produced it.
    matched : ndarray of bool, shape (E,)
        Established LISLs (connectable LCT pairs).
    path_ptr : ndarray of int64, shape (F + 1,)
        Arcs of flow ``f`` are ``path_arcs[path_ptr[f]:path_ptr[f+1]]`` (empty: not routed).
    path_arcs : ndarray of int64
        Arc indices (see :class:`~oracles.lisl.problem.LislProblem`), from source to target.
    rate_gbps : ndarray, shape (F,)
        Flow rates ``q_f`` [Gbit/s].
    throughput_gbps : float
        ``sum_f q_f`` [Gbit/s].
    served_share : float
        Throughput over total demand.
    upper_bound_gbps : float
        Certified upper bound on the optimum of P1 when the method computed one, else ``nan``.
    solve_time_s : float
        Wall-clock time of the method [s].
    info : dict
        Method-specific diagnostics (iterations, dual trace, ...).
    """

    method: str
    matched: np.ndarray
    path_ptr: np.ndarray
    path_arcs: np.ndarray
    rate_gbps: np.ndarray
    throughput_gbps: float
    served_share: float
    upper_bound_gbps: float = math.nan
    solve_time_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_links(self) -> int:
        """Number of established LISLs."""
        return int(np.count_nonzero(self.matched))

    @property
    def routed(self) -> np.ndarray:
        """Flows with a path, shape (F,)."""
        return np.diff(self.path_ptr) > 0

    @property
    def mean_hops(self) -> float:
        """Mean path length of the flows with a positive rate (0 when none)."""
        hops = np.diff(self.path_ptr)
        pos = self.rate_gbps > 0
        return float(hops[pos].mean()) if pos.any() else 0.0

    def check_feasible(self, problem: LislProblem, tol_gbps: float = 1e-6) -> None:
        """Raise :class:`InfeasibleSolution` unless every constraint of P1 holds.

        Checks: one LISL per LCT; only connectable pairs (by construction of ``matched``); each
        routed flow follows a simple path from its source to its target over established links
        only; rates >= 0 and zero for unrouted flows; per-source ``Q_s`` and per-target
        ``D_s'`` limits; per-arc load <= matched capacity (+ ``tol_gbps``); reported throughput
        equals the sum of rates.
        """
        g = problem.graph
        c = np.asarray(self.matched, dtype=bool)
        if c.shape != (g.n_pairs,):
            raise InfeasibleSolution(f"matched has shape {c.shape}, expected ({g.n_pairs},)")
        deg = np.bincount(g.pair_lct[c].ravel(), minlength=g.n_lcts)
        if deg.size and deg.max() > 1:
            raise InfeasibleSolution(f"LCT {int(deg.argmax())} holds {int(deg.max())} links")
        nf = problem.n_flows
        q = np.asarray(self.rate_gbps, dtype=float)
        ptr = np.asarray(self.path_ptr, dtype=np.int64)
        arcs = np.asarray(self.path_arcs, dtype=np.int64)
        if q.shape != (nf,) or ptr.shape != (nf + 1,) or ptr[0] != 0 or ptr[-1] != arcs.size:
            raise InfeasibleSolution("rate_gbps / path_ptr / path_arcs have inconsistent shapes")
        if not np.all(np.isfinite(q)) or q.min(initial=0.0) < -tol_gbps:
            raise InfeasibleSolution("rates must be finite and >= 0")
        if arcs.size and (arcs.min() < 0 or arcs.max() >= problem.n_arcs):
            raise InfeasibleSolution("path_arcs holds arcs out of range")
        cap = problem.arc_capacity_gbps(c)
        tail, head = g.arc_tail, g.arc_head
        for f in range(nf):
            a = arcs[ptr[f] : ptr[f + 1]]
            if a.size == 0:
                if q[f] > tol_gbps:
                    raise InfeasibleSolution(f"flow {f} has rate {q[f]} but no path")
                continue
            s, t = problem.flow_src[f], problem.flow_dst[f]
            nodes = np.concatenate([tail[a[:1]], head[a]])
            if nodes[0] != s or nodes[-1] != t or np.any(tail[a[1:]] != head[a[:-1]]):
                raise InfeasibleSolution(f"flow {f}: path is not a walk from {s} to {t}")
            if np.unique(nodes).size != nodes.size:
                raise InfeasibleSolution(f"flow {f}: path repeats a satellite")
            if np.any(cap[a] <= 0.0):
                raise InfeasibleSolution(f"flow {f}: path uses a satellite pair without a LISL")
        src_sum = np.bincount(problem.flow_src, weights=q, minlength=problem.n_sats)
        dst_sum = np.bincount(problem.flow_dst, weights=q, minlength=problem.n_sats)
        if np.any(src_sum > problem.serve_gbps + tol_gbps):
            k = int(np.argmax(src_sum - problem.serve_gbps))
            raise InfeasibleSolution(f"source {k} sends {src_sum[k]} > Q = {problem.serve_gbps[k]}")
        if np.any(dst_sum > problem.demand_gbps + tol_gbps):
            k = int(np.argmax(dst_sum - problem.demand_gbps))
            raise InfeasibleSolution(f"target {k} gets {dst_sum[k]} > D = {problem.demand_gbps[k]}")
        load = arc_load_gbps(problem, ptr, arcs, q)
        if np.any(load > cap + tol_gbps):
            k = int(np.argmax(load - cap))
            raise InfeasibleSolution(f"arc {k} carries {load[k]} > capacity {cap[k]} [Gbit/s]")
        if abs(throughput_gbps(q) - self.throughput_gbps) > tol_gbps * max(1, nf):
            raise InfeasibleSolution("throughput_gbps differs from the sum of the rates")


def make_solution(
    problem: LislProblem,
    method: str,
    matched: np.ndarray,
    path_ptr: np.ndarray,
    path_arcs: np.ndarray,
    rate_gbps: np.ndarray,
    *,
    upper_bound_gbps: float = math.nan,
    solve_time_s: float = 0.0,
    info: dict[str, Any] | None = None,
) -> LislSolution:
    """Build a :class:`LislSolution` with throughput and served share from the objective.

    Rates are clipped to >= 0 (LP round-off); throughput and served share come from
    :mod:`oracles.lisl.objective`.
    """
    q = np.maximum(np.asarray(rate_gbps, dtype=float), 0.0)
    arrays = [
        np.asarray(matched, dtype=bool).copy(),
        np.asarray(path_ptr, dtype=np.int64).copy(),
        np.asarray(path_arcs, dtype=np.int64).copy(),
        q,
    ]
    for a in arrays:
        a.setflags(write=False)
    return LislSolution(
        method=method,
        matched=arrays[0],
        path_ptr=arrays[1],
        path_arcs=arrays[2],
        rate_gbps=arrays[3],
        throughput_gbps=throughput_gbps(q),
        served_share=served_share(problem, q),
        upper_bound_gbps=float(upper_bound_gbps),
        solve_time_s=float(solve_time_s),
        info=dict(info or {}),
    )
