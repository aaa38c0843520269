"""Exact P1 for tiny instances: a MILP with McCormick products (HiGHS branch and bound).

Columns: ``c_e`` (binary, connectable LCT pairs), ``q_f`` in ``[0, U_f]`` with
``U_f = min(Q_s, D_s')``, ``z_f`` (binary, flow ``f`` has a path), ``x_fa`` (binary, arc ``a`` on
the path of ``f``) and ``y_fa = q_f x_fa`` (linearised exactly):

    y_fa <= U_f x_fa,   y_fa <= q_f,   y_fa >= q_f - U_f (1 - x_fa),   y_fa >= 0.

Constraints: one link per LCT; ``sum_{s'} q <= Q_s``; ``sum_s q <= D_s'``; ``q_f <= U_f z_f``;
``x_f`` is a flow of value ``z_f`` from ``s`` to ``s'``; and the coupling ``sum_f y_fa <=
sum_{E_a} r_e c_e`` on every arc.  ``x_f`` may contain extra cycles besides its path; they only add
load, so removing them keeps feasibility: the returned solution routes each flow on a shortest
path inside the support of ``x_f`` and recomputes rates with the LP (35), which is at least the
MILP value.  The model has ``F * 2|L|`` binaries: use it for ``I <= 30``.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from leo_env.core.graph import shortest_paths
from oracles.lisl.lp import rate_lp, solve_highs
from oracles.lisl.problem import LislProblem
from oracles.lisl.solution import LislSolution, make_solution

__all__ = ["MAX_MILP_SATS", "solve_milp"]

#: Largest instance accepted by :func:`solve_milp` unless ``max_sats`` is raised.
MAX_MILP_SATS = 30


def solve_milp(
    problem: LislProblem,
    *,
    time_limit_s: float = 120.0,
    max_sats: int = MAX_MILP_SATS,
    mip_rel_gap: float = 1e-9,
) -> LislSolution:
    """Solve P1 exactly (to ``mip_rel_gap``) with HiGHS.

    Returns
    -------
    LislSolution
        ``upper_bound_gbps`` is HiGHS's MIP dual bound; ``info["optimal"]`` says whether
        optimality was proven within the time limit and ``info["milp_objective"]`` holds the MILP
        value.
    """
    if problem.n_sats > max_sats:
        raise ValueError(f"problem has {problem.n_sats} satellites > max_sats = {max_sats}")
    t0 = time.perf_counter()
    g = problem.graph
    n, na, ne, nf = problem.n_sats, problem.n_arcs, g.n_pairs, problem.n_flows
    if nf == 0 or na == 0:
        c = np.zeros(ne, dtype=bool)
        return make_solution(
            problem,
            "milp",
            c,
            np.zeros(nf + 1, np.int64),
            np.zeros(0, np.int64),
            np.zeros(nf),
            upper_bound_gbps=0.0,
            solve_time_s=time.perf_counter() - t0,
            info={"optimal": True, "milp_objective": 0.0},
        )
    u = problem.flow_cap_gbps
    c0, q0, z0 = 0, ne, ne + nf
    x0 = z0 + nf
    y0 = x0 + nf * na
    n_cols = y0 + nf * na
    fa = np.arange(nf * na)  # flat (f, a) index
    f_of = fa // na
    a_of = fa % na
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lo: list[np.ndarray] = []
    hi: list[np.ndarray] = []
    r = 0

    def add(rr: np.ndarray, cc: np.ndarray, vv: np.ndarray | float) -> None:
        rows.append(np.asarray(rr, dtype=np.int64))
        cols.append(np.asarray(cc, dtype=np.int64))
        vals.append(np.broadcast_to(np.asarray(vv, dtype=float), np.shape(rr)).copy())

    # one link per LCT
    add(r + g.pair_lct.ravel(), c0 + np.repeat(np.arange(ne), 2), 1.0)
    lo.append(np.zeros(g.n_lcts))
    hi.append(np.ones(g.n_lcts))
    r += g.n_lcts
    # Q_s, D_s'
    add(r + problem.flow_src, q0 + np.arange(nf), 1.0)
    lo.append(np.zeros(n))
    hi.append(problem.serve_gbps)
    r += n
    add(r + problem.flow_dst, q0 + np.arange(nf), 1.0)
    lo.append(np.zeros(n))
    hi.append(problem.demand_gbps)
    r += n
    # q_f - U_f z_f <= 0
    add(r + np.arange(nf), q0 + np.arange(nf), 1.0)
    add(r + np.arange(nf), z0 + np.arange(nf), -u)
    lo.append(np.full(nf, -np.inf))
    hi.append(np.zeros(nf))
    r += nf
    # conservation: out - in - z [v = s] + z [v = s'] = 0, rows (f, v)
    tail, head = g.arc_tail, g.arc_head
    add(r + f_of * n + tail[a_of], x0 + fa, 1.0)
    add(r + f_of * n + head[a_of], x0 + fa, -1.0)
    add(r + np.arange(nf) * n + problem.flow_src, z0 + np.arange(nf), -1.0)
    add(r + np.arange(nf) * n + problem.flow_dst, z0 + np.arange(nf), 1.0)
    lo.append(np.zeros(nf * n))
    hi.append(np.zeros(nf * n))
    r += nf * n
    # McCormick: y - U x <= 0 ; y - q <= 0 ; q - y + U x <= U
    add(r + fa, y0 + fa, 1.0)
    add(r + fa, x0 + fa, -u[f_of])
    lo.append(np.full(fa.size, -np.inf))
    hi.append(np.zeros(fa.size))
    r += fa.size
    add(r + fa, y0 + fa, 1.0)
    add(r + fa, q0 + f_of, -1.0)
    lo.append(np.full(fa.size, -np.inf))
    hi.append(np.zeros(fa.size))
    r += fa.size
    add(r + fa, q0 + f_of, 1.0)
    add(r + fa, y0 + fa, -1.0)
    add(r + fa, x0 + fa, u[f_of])
    lo.append(np.full(fa.size, -np.inf))
    hi.append(u[f_of])
    r += fa.size
    # coupling: sum_f y_fa - sum_{E_a} r c <= 0
    add(r + a_of, y0 + fa, 1.0)
    for side in (0, 1):
        add(r + 2 * g.pair_link + side, c0 + np.arange(ne), -problem.rate_gbps)
    lo.append(np.full(na, -np.inf))
    hi.append(np.zeros(na))
    r += na

    a = sp.csc_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, n_cols)
    )
    cost = np.zeros(n_cols)
    cost[q0 : q0 + nf] = 1.0
    col_hi = np.ones(n_cols)
    col_hi[q0 : q0 + nf] = u
    col_hi[y0:] = u[f_of]
    integer = np.zeros(n_cols, dtype=bool)
    integer[c0 : c0 + ne] = True
    integer[z0 : z0 + nf] = True
    integer[x0:y0] = True
    res = solve_highs(
        cost,
        a,
        np.concatenate(lo),
        np.concatenate(hi),
        np.zeros(n_cols),
        col_hi,
        integer=integer,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
    )
    c = res.x[c0 : c0 + ne] > 0.5
    x = res.x[x0:y0].reshape(nf, na) > 0.5
    cap = problem.arc_capacity_gbps(c)
    ptr = np.zeros(nf + 1, dtype=np.int64)
    parts: list[np.ndarray] = []
    for f in range(nf):
        active = x[f] & (cap > 0)
        if res.x[z0 + f] > 0.5 and active.any():
            pb = shortest_paths(
                problem.arcs,
                np.ones(na),
                problem.flow_src[f : f + 1],
                problem.flow_dst[f : f + 1],
                active=active,
            )
            arcs_f = pb.arcs if pb.reachable[0] else np.zeros(0, np.int64)
        else:
            arcs_f = np.zeros(0, np.int64)
        parts.append(arcs_f)
        ptr[f + 1] = ptr[f] + arcs_f.size
    arcs = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    q = rate_lp(problem, cap, ptr, arcs)
    return make_solution(
        problem,
        "milp",
        c,
        ptr,
        arcs,
        q,
        upper_bound_gbps=res.mip_dual_bound,
        solve_time_s=time.perf_counter() - t0,
        info={"optimal": res.optimal, "milp_objective": res.objective, "status": res.status},
    )
