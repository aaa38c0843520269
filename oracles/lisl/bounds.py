"""Upper bounds on the optimum of P1: the Lagrangian dual value and an LP relaxation.

Dual value (certified): for prices ``lambda >= 0`` on the arcs,

    -g(lambda) = max_{q in Q} sum_f q_f (1 - min_path_f sum_ij lambda_ij)_+
                 + max_{c in C} sum_{nm in E} (lambda_{i_n i_m} + lambda_{i_m i_n}) r_nm c_nm

is an upper bound on P1's throughput for *every* ``lambda >= 0`` when both maxima are exact:
the first is a transport LP (HiGHS) after exact shortest paths on the whole satellite graph
(Dijkstra with the pure prices; flows without any path get 0), the second an exact max-weight
matching (:func:`leo_env.core.graph.exact_matching`, whose rounding loss is added).  The value
is exact up to HiGHS's optimality tolerance (1e-7 relative).

LP relaxation: fractional matching (``0 <= c <= 1``, one unit per LCT) and splittable flows,
aggregated per source (one commodity per serving satellite), with ``Q``, ``D`` and the coupling
capacity.  It needs ``(#sources) * 2|L|`` flow variables, so it is meant for small instances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from leo_env.core.graph import exact_matching, shortest_paths
from oracles.lisl.lp import TransportLP, solve_highs
from oracles.lisl.problem import LislProblem

__all__ = ["DualBound", "dual_bound", "lp_relaxation_bound"]


@dataclass(frozen=True)
class DualBound:
    """The Lagrangian dual value ``-g(lambda)`` and its two parts [Gbit/s]."""

    value: float
    routing_part: float
    matching_part: float


def dual_bound(
    problem: LislProblem, lam: np.ndarray, *, transport: TransportLP | None = None
) -> DualBound:
    """Certified upper bound ``-g(lambda)`` on P1's throughput (exact matching).

    Parameters
    ----------
    problem : LislProblem
    lam : ndarray, shape (2L,)
        Prices >= 0 (finite).
    transport : TransportLP, optional
        Re-use a transport LP built for ``problem``.
    """
    lam = np.asarray(lam, dtype=float)
    if lam.shape != (problem.n_arcs,) or not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError(f"lam must be finite, >= 0 and of shape ({problem.n_arcs},)")
    tlp = TransportLP(problem) if transport is None else transport
    paths = shortest_paths(problem.arcs, lam, problem.flow_src, problem.flow_dst)
    weight = np.where(paths.reachable, 1.0 - paths.dist, 0.0)
    _, v_route = tlp.solve(weight)
    g = problem.graph
    m = exact_matching(
        g.n_lcts, g.pair_lct[:, 0], g.pair_lct[:, 1], problem.pair_price(lam) * problem.rate_gbps
    )
    return DualBound(v_route + m.upper_bound, v_route, m.upper_bound)


def lp_relaxation_bound(
    problem: LislProblem, *, max_variables: int = 3_000_000, time_limit_s: float | None = None
) -> float:
    """LP relaxation of P1 (fractional matching, splittable per-source flows) [Gbit/s].

    Raises
    ------
    ValueError
        If the model would need more than ``max_variables`` columns.
    """
    g = problem.graph
    n, na, ne, nf = problem.n_sats, problem.n_arcs, g.n_pairs, problem.n_flows
    if nf == 0:
        return 0.0
    src_u, src_of_flow = np.unique(problem.flow_src, return_inverse=True)
    ns = src_u.size
    n_cols = ne + nf + ns * na
    if n_cols > max_variables:
        raise ValueError(
            f"the LP relaxation needs {n_cols} variables > max_variables = {max_variables}"
        )
    # columns: c (E) | q (F) | y[s, a] (S * A)
    c0, q0, y0 = 0, ne, ne + nf
    rows, cols, vals = [], [], []
    lo, hi = [], []
    r = 0
    # one link per LCT
    rows.append(r + g.pair_lct.ravel())
    cols.append(np.repeat(np.arange(ne), 2))
    vals.append(np.ones(2 * ne))
    lo.append(np.zeros(g.n_lcts))
    hi.append(np.ones(g.n_lcts))
    r += g.n_lcts
    # Q_s and D_s'
    dst_u, dst_of_flow = np.unique(problem.flow_dst, return_inverse=True)
    rows += [r + src_of_flow, r + ns + dst_of_flow]
    cols += [q0 + np.arange(nf)] * 2
    vals += [np.ones(nf)] * 2
    lo.append(np.zeros(ns + dst_u.size))
    hi.append(np.concatenate([problem.serve_gbps[src_u], problem.demand_gbps[dst_u]]))
    r += ns + dst_u.size
    # conservation, per source commodity s and node v: out - in - supply(s, v) = 0
    tail, head = g.arc_tail, g.arc_head
    for k in range(ns):
        ycols = y0 + k * na + np.arange(na)
        rows += [r + tail, r + head]
        cols += [ycols, ycols]
        vals += [np.ones(na), -np.ones(na)]
        fl = np.flatnonzero(src_of_flow == k)
        rows += [np.full(fl.size, r + src_u[k]), r + problem.flow_dst[fl]]
        cols += [q0 + fl, q0 + fl]
        vals += [-np.ones(fl.size), np.ones(fl.size)]
        lo.append(np.zeros(n))
        hi.append(np.zeros(n))
        r += n
    # coupling: sum_s y[s, a] - sum_{E_link(a)} r c <= 0
    arcs = np.arange(na)
    for k in range(ns):
        rows.append(r + arcs)
        cols.append(y0 + k * na + arcs)
        vals.append(np.ones(na))
    for side in (0, 1):
        rows.append(r + 2 * g.pair_link + side)
        cols.append(c0 + np.arange(ne))
        vals.append(-problem.rate_gbps)
    lo.append(np.full(na, -np.inf))
    hi.append(np.zeros(na))
    r += na
    a = sp.csc_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, n_cols)
    )
    cost = np.zeros(n_cols)
    cost[q0 : q0 + nf] = 1.0
    col_hi = np.full(n_cols, np.inf)
    col_hi[:ne] = 1.0
    col_hi[q0 : q0 + nf] = problem.flow_cap_gbps
    res = solve_highs(
        cost,
        a,
        np.concatenate(lo),
        np.concatenate(hi),
        np.zeros(n_cols),
        col_hi,
        time_limit_s=time_limit_s,
    )
    if not res.optimal:
        raise RuntimeError(f"HiGHS LP relaxation: {res.status}")
    return res.objective
