"""Column generation and price-and-branch for P2 under the coupled proxy.

The Dantzig-Wolfe master of the Lagrangian relaxation in :mod:`oracles.p2.lagrangian` has one
column per (cell, whole-horizon path, shares): choosing column ``p`` of cell ``c`` puts the
cell on satellite ``s_k(p)`` with share ``y_k(p)`` in every slot ``k`` and earns
``v(p) = sum_k log(eps + y_k / w) - lambda_h h(p)``::

    maximise    sum_p v(p) z_p
    subject to  sum_{p of c} z_p = 1                              for every cell c
                sum_p y_k(p) [s_k(p) = s] z_p <= 1                for every pool (s, k)
                z_p >= 0

Pricing a master dual ``pi`` (pool rows) is exactly the Lagrangian DP of
:func:`oracles.p2.lagrangian.dual_value`: its best path per cell, with the closed-form shares
``y* = clip(1/pi - eps w, 0, min(1, w))``, is the column of largest reduced cost, and
``L(pi)`` is a valid upper bound at every round (:func:`column_generation`).  When no column
prices out, the LP value equals ``min_pi L(pi)``, the best bound any price vector gives.

Integer restricted masters (primal heuristics, no bound):

* :func:`integer_master` / :func:`_sub_master`: binary path columns, each needing
  ``min(1, w)`` of its pool per slot, and a priced overflow per pool (a linear model of the
  water-filling loss); compact enough for ``europe-starlink`` (thousands of paths);
* :func:`oracles.p2.colgen_exact.envelope_master`: the same columns with the MILP's shares and tangent envelope of
  the log (:mod:`oracles.p2.milp`); over all paths it is the MILP, for small problems and
  tests;
* :func:`detour_columns` (each priced visit of a path replaced by the best avoidance) and
  :func:`lns` (a large-neighbourhood search whose repair step prices columns for the freed
  cells against the residual pools and solves their integer master).

Every association is re-scored with the exact water-filling by the caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np

from oracles.p2.dp import _dp_kernel, _dual_values, dp_paths
from oracles.p2.problem import Problem
from oracles.p2.result import relative_gap

__all__ = ["ColumnPool", "column_generation", "integer_master", "detour_columns", "lns"]


def _handovers(path_l: np.ndarray, init_l: np.ndarray) -> np.ndarray:
    h = (path_l[:, 1:] != path_l[:, :-1]).sum(axis=1)
    h += (init_l != -1) & (path_l[:, 0] != init_l)
    return h


@dataclass
class ColumnPool:
    """Master columns: per column its cell, path (candidate indices), shares and value."""

    problem: Problem
    cell: list[int] = field(default_factory=list)
    path: list[np.ndarray] = field(default_factory=list)
    y: list[np.ndarray] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    _seen: set[bytes] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.cell)

    def add(self, path_l: np.ndarray, y: np.ndarray, cells: np.ndarray | None = None) -> np.ndarray:
        """Add the columns ``path_l[c], y[c]`` for ``c`` in ``cells``; returns the new ids."""
        p = self.problem
        C, K = p.C, p.K  # noqa: N806
        cells = np.arange(C) if cells is None else np.asarray(cells, dtype=np.int64)
        path_l = np.asarray(path_l, dtype=np.int64)
        kk = np.arange(K)
        new = []
        h = _handovers(path_l[cells], p.init_l[cells])
        for i, c in enumerate(cells):
            pc = path_l[c]
            if np.any(pc < 0):
                continue
            yc = np.round(np.asarray(y[c], dtype=float), 12)
            key = int(c).to_bytes(4, "little") + pc.tobytes() + yc.tobytes()
            if key in self._seen:
                continue
            self._seen.add(key)
            wc = p.w[c, pc, kk]
            with np.errstate(divide="ignore", invalid="ignore"):
                util = np.where(wc == 0.0, 0.0,
                                np.where(np.isinf(wc), np.log(p.eps),
                                         np.log(p.eps + np.where(wc > 0, yc / np.where(wc > 0, wc, 1.0), 0.0))))
            self.cell.append(int(c))
            self.path.append(pc.copy())
            self.y.append(yc)
            self.value.append(float(util.sum() - p.lambda_h * h[i]))
            new.append(len(self.cell) - 1)
        return np.asarray(new, dtype=np.int64)

    def sparse(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSC data of columns ``ids``: starts, row indices, values (cell rows then pools)."""
        p = self.problem
        K = p.K  # noqa: N806
        starts, idx, val = [], [], []
        n = 0
        for j in ids:
            c = self.cell[j]
            sat = p.cand[c, self.path[j]]
            yk = self.y[j]
            on = yk > 0
            rows = np.concatenate([[c], p.C + sat[on] * K + np.nonzero(on)[0]])
            starts.append(n)
            idx.append(rows)
            val.append(np.concatenate([[1.0], yk[on]]))
            n += rows.size
        if not idx:
            return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0)
        return (np.asarray(starts, np.int32), np.concatenate(idx).astype(np.int32),
                np.concatenate(val))


def _new_highs(threads: int | None) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    return h


def _master_model(pool: ColumnPool, ids: np.ndarray, threads: int | None) -> highspy.Highs:
    p = pool.problem
    h = _new_highs(threads)
    inf = highspy.kHighsInf
    nrow = p.C + p.S * p.K
    lo = np.concatenate([np.ones(p.C), np.full(p.S * p.K, -inf)])
    hi = np.ones(nrow)
    h.addRows(nrow, lo, hi, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    _add_columns(h, pool, ids)
    return h


def _add_columns(h: highspy.Highs, pool: ColumnPool, ids: np.ndarray) -> None:
    if len(ids) == 0:
        return
    starts, idx, val = pool.sparse(ids)
    cost = np.asarray([pool.value[j] for j in ids])
    h.addCols(len(ids), cost, np.zeros(len(ids)), np.ones(len(ids)), idx.size, starts, idx, val)


def column_generation(
    problem: Problem,
    pool: ColumnPool,
    *,
    max_rounds: int = 200,
    time_limit: float = np.inf,
    tol: float = 1e-6,
    threads: int | None = 1,
    on_path: Callable[[np.ndarray], float] | None = None,
    gap_tol: float = 0.0,
) -> dict:
    """Solve the master LP by column generation, pricing with the Lagrangian DP.

    Parameters
    ----------
    problem : Problem
        Coupled-proxy instance.
    pool : ColumnPool
        Initial columns; they must admit a feasible master (e.g. the columns of a feasible
        association with its water-filling shares).  New columns are appended to it.
    max_rounds : int
        Pricing rounds (one DP sweep and one LP re-solve each).
    time_limit : float
        Wall-clock limit [s] (checked after each round).
    tol : float
        Reduced-cost tolerance; also the relative LP-vs-bound tolerance of convergence.
    threads : int or None
        HiGHS threads (process-global in HiGHS; None leaves the setting alone).
    on_path : callable, optional
        Called with every pricing association (C, K); returns the best primal objective
        known so far (used with ``gap_tol`` to stop early).
    gap_tol : float
        Stop when ``relative_gap(bound, best primal) <= gap_tol``.

    Returns
    -------
    dict
        ``lp_value``, ``bound`` (best ``L(pi)`` met: a valid upper bound on the coupled
        optimum), ``pi`` (S, K) at the best bound, ``x_lp`` (column values), ``rounds``,
        ``converged`` (no column prices out: ``lp_value == min_pi L(pi)``) and ``time_s``.
    """
    t0 = time.perf_counter()
    S, K, C = problem.S, problem.K, problem.C  # noqa: N806
    h = _master_model(pool, np.arange(len(pool)), threads)
    w = np.ascontiguousarray(problem.w)
    vis = np.ascontiguousarray(problem.vis)
    best_bound = np.inf
    best_pi = np.zeros((S, K))
    lp_value = -np.inf
    converged = False
    r = 0
    for r in range(1, max_rounds + 1):  # noqa: B007
        h.run()
        lp_value = h.getInfo().objective_function_value
        dual = np.asarray(h.getSolution().row_dual)
        mu = dual[:C]
        pi = np.maximum(0.0, dual[C:].reshape(S, K))
        phi, ys = _dual_values(pi, problem.cand, w, vis, float(problem.eps))
        path, vals, _ = dp_paths(problem, phi)
        bound = float(pi.sum() + vals.sum())
        if bound < best_bound:
            best_bound, best_pi = bound, pi
        if on_path is not None and np.all(path[:, 0] >= 0):
            primal = on_path(path)
            if relative_gap(best_bound, primal) <= gap_tol:
                break
        red = vals - mu
        cells = np.nonzero(red > tol)[0]
        if cells.size == 0 or best_bound - lp_value <= tol * max(1.0, abs(lp_value)):
            converged = True
            break
        y = ys[np.arange(C)[:, None], path, np.arange(K)[None, :]]
        new = pool.add(path, y, cells)
        if new.size == 0:
            converged = True
            break
        _add_columns(h, pool, new)
        if time.perf_counter() - t0 > time_limit:
            break
    x_lp = np.asarray(h.getSolution().col_value)
    return {"lp_value": lp_value, "bound": best_bound, "pi": best_pi, "x_lp": x_lp, "rounds": r,
            "converged": converged, "time_s": time.perf_counter() - t0}


def integer_master(
    problem: Problem,
    pool: ColumnPool,
    start_path: np.ndarray,
    *,
    time_limit: float = 30.0,
    threads: int | None = 1,
    mip_rel_gap: float = 1e-4,
    overflow_cost: float = 1.0,
    fixed: dict[int, np.ndarray] | None = None,
    verbose: bool = False,
) -> tuple[np.ndarray, dict]:
    """Integer restricted master over the distinct paths of ``pool``, warm-started with ``start_path``.

    Each path needs ``min(1, w)`` of its pool in every slot (full service); a pool may be
    overfilled by ``o >= 0`` at a cost of ``overflow_cost * o / w_max`` (``w_max``: the largest
    need among the paths through the pool), the first-order loss of the water-filling, which
    takes the shortfall from the largest needs first.  ``fixed`` maps cells to the path they
    must keep.  The association it returns is re-scored exactly by the caller.

    Returns
    -------
    path_l : ndarray of int, shape (C, K)
        Best association found (``start_path`` when HiGHS found none).
    info : dict
        HiGHS ``status``, ``objective`` and ``bound`` of the overflow model, ``nodes``,
        ``paths``, ``pool_rows``, ``time_s``.
    """
    t0 = time.perf_counter()
    p = problem
    C, K, S = p.C, p.K, p.S  # noqa: N806
    start_path = np.asarray(start_path, dtype=np.int64)
    kk = np.arange(K)
    # distinct paths per cell, start path first
    paths: list[np.ndarray] = []
    cells: list[int] = []
    seen: set[bytes] = set()
    fixed = {} if fixed is None else fixed
    for c, pc in [(c, start_path[c]) for c in range(C)] + list(zip(pool.cell, pool.path, strict=True)) + list(fixed.items()):
        key = int(c).to_bytes(4, "little") + pc.tobytes()
        if key in seen:
            continue
        seen.add(key)
        paths.append(pc)
        cells.append(int(c))
    n = len(paths)
    P = np.asarray(paths)  # noqa: N806
    cl = np.asarray(cells)
    need = p.w[cl[:, None], P, kk[None, :]]
    need = np.where(np.isfinite(need), np.minimum(need, 1.0), 0.0)
    sat = p.cand[cl[:, None], P]
    pool_id = sat * K + kk[None, :]
    # potential load per pool (each cell counted once with its largest need)
    pot = np.zeros(S * K)
    wmax = np.zeros(S * K)
    cellmax: dict[tuple[int, int], float] = {}
    for j in range(n):
        for k in np.nonzero(need[j] > 0)[0]:
            key2 = (cells[j], pool_id[j, k])
            cellmax[key2] = max(cellmax.get(key2, 0.0), need[j, k])
    for (_c, q), v in cellmax.items():
        pot[q] += v
        wmax[q] = max(wmax[q], v)
    contested = np.nonzero(pot > 1.0 + 1e-12)[0]
    row_of = np.full(S * K, -1, np.int64)
    row_of[contested] = C + np.arange(contested.size)
    h = _new_highs(threads)
    h.setOptionValue("output_flag", bool(verbose))
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    inf = highspy.kHighsInf
    nrow = C + contested.size
    h.addRows(nrow, np.concatenate([np.ones(C), np.full(contested.size, -inf)]), np.ones(nrow),
              0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    hcount = _handovers(P, p.init_l[cl])
    starts, idx, val = [], [], []
    nnz = 0
    for j in range(n):
        r = row_of[pool_id[j]]
        on = (r >= 0) & (need[j] > 0)
        rows = np.concatenate([[cells[j]], r[on]])
        starts.append(nnz)
        idx.append(rows)
        val.append(np.concatenate([[1.0], need[j, on]]))
        nnz += rows.size
    h.addCols(n, -p.lambda_h * hcount.astype(float), np.zeros(n), np.ones(n), nnz,
              np.asarray(starts, np.int32), np.concatenate(idx).astype(np.int32), np.concatenate(val))
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger))
    off = [j for j in range(n) if cells[j] in fixed and not np.array_equal(paths[j], fixed[cells[j]])]
    if off:
        h.changeColsBounds(len(off), np.asarray(off, np.int32), np.zeros(len(off)), np.zeros(len(off)))
    m = contested.size
    h.addCols(m, -overflow_cost / np.maximum(wmax[contested], 1e-9), np.zeros(m), np.full(m, inf), m,
              np.arange(m, dtype=np.int32), (C + np.arange(m)).astype(np.int32), -np.ones(m))
    sol = np.zeros(n + m)
    sol[:C] = 1.0  # the start path is column c of cell c
    load = np.zeros(S * K)
    np.add.at(load, pool_id[:C].ravel(), need[:C].ravel())
    sol[n:] = np.maximum(0.0, load[contested] - 1.0)
    hs = highspy.HighsSolution()
    hs.col_value = list(sol)
    hs.value_valid = True
    if not off:
        h.setSolution(hs)
    h.run()
    info = h.getInfo()
    x = np.asarray(h.getSolution().col_value)
    path = start_path.copy()
    if x.size == n + m:
        best = np.full(C, -1.0)
        for j in range(n):
            if x[j] > best[cells[j]]:
                best[cells[j]] = x[j]
                path[cells[j]] = paths[j]
    return path, {"status": h.modelStatusToString(h.getModelStatus()),
                  "objective": info.objective_function_value, "bound": info.mip_dual_bound,
                  "nodes": int(info.mip_node_count), "paths": n, "pool_rows": int(m),
                  "time_s": time.perf_counter() - t0}


def detour_columns(
    problem: Problem,
    pool: ColumnPool,
    pi: np.ndarray,
    paths: list[tuple[int, np.ndarray]],
    *,
    chunk: int = 256,
) -> int:
    """Add detour columns: each priced visit of a given path replaced by the best avoidance.

    For every (cell, path) given and every visit of that path to a priced pool, the column
    is the best path at prices ``pi`` that avoids that satellite during the visit.

    A visit is a maximal run of slots on one satellite with ``pi > 0`` in at least one slot.
    Returns the number of new columns.
    """
    C, K = problem.C, problem.K  # noqa: N806
    w = np.ascontiguousarray(problem.w)
    vis = np.ascontiguousarray(problem.vis)
    phi, ys = _dual_values(np.ascontiguousarray(pi, dtype=float), problem.cand, w, vis, float(problem.eps))
    jobs: list[tuple[int, int, int, int]] = []
    for c, pc in paths:
        sat = problem.cand[c, pc]
        k = 0
        while k < K:
            k1 = k
            while k1 + 1 < K and pc[k1 + 1] == pc[k]:
                k1 += 1
            if np.any(pi[sat[k], k:k1 + 1] > 0):
                jobs.append((c, int(pc[k]), k, k1))
            k = k1 + 1
    jobs = sorted(set(jobs))
    added = 0
    for i0 in range(0, len(jobs), chunk):
        part = jobs[i0:i0 + chunk]
        cs = np.asarray([j[0] for j in part])
        v = vis[cs].copy()
        for r, (_c, li, k0, k1) in enumerate(part):
            v[r, li, k0:k1 + 1] = False
        newp, best, _ = _dp_kernel(
            np.ascontiguousarray(phi[cs]), v, problem.budget[cs].astype(np.int64), problem.init_l[cs],
            float(problem.lambda_h), np.zeros((len(part), problem.L)), np.zeros((len(part), problem.L), np.int64),
        )
        for r, c in enumerate(cs):
            if newp[r, 0] < 0:
                continue
            y = ys[c, newp[r], np.arange(K)]
            full = np.full((C, K), -1, np.int64)
            full[c] = newp[r]
            yy = np.zeros((C, K))
            yy[c] = y
            added += pool.add(full, yy, np.asarray([c])).size
    return added


def _paths_by_cell(pool: ColumnPool, start_path: np.ndarray) -> list[np.ndarray]:
    """Distinct paths per cell (the start path first), as (n_c, K) arrays."""
    C = start_path.shape[0]  # noqa: N806
    out: list[list[np.ndarray]] = [[start_path[c]] for c in range(C)]
    seen = {(c, start_path[c].tobytes()) for c in range(C)}
    for c, pc in zip(pool.cell, pool.path, strict=True):
        key = (c, pc.tobytes())
        if key not in seen:
            seen.add(key)
            out[c].append(pc)
    return [np.asarray(x) for x in out]


def _sub_master(
    problem: Problem,
    cur: np.ndarray,
    free: np.ndarray,
    cand_paths: list[np.ndarray],
    time_limit: float,
    overflow_cost: float,
    threads: int | None,
) -> tuple[np.ndarray, bool]:
    """Best re-association of the cells ``free`` among their paths, the others fixed (MIP).

    Returns the association and whether HiGHS proved the sub-MIP optimal.
    """
    p = problem
    C, K, S = p.C, p.K, p.S  # noqa: N806
    kk = np.arange(K)
    w = p.w
    fixed = np.ones(C, bool)
    fixed[free] = False
    needc = np.where(np.isfinite(w), np.minimum(w, 1.0), 0.0)
    sat_cur = p.cand[np.arange(C)[:, None], cur]
    need_cur = needc[np.arange(C)[:, None], cur, kk[None, :]]
    base = np.zeros(S * K)
    np.add.at(base, (sat_cur * K + kk)[fixed].ravel(), need_cur[fixed].ravel())
    wmax = np.zeros(S * K)
    np.maximum.at(wmax, (sat_cur * K + kk)[fixed].ravel(), need_cur[fixed].ravel())
    cols_c, cols_p = [], []
    for c in free:
        for pc in cand_paths[c]:
            cols_c.append(int(c))
            cols_p.append(pc)
    P = np.asarray(cols_p)  # noqa: N806
    cl = np.asarray(cols_c)
    n = len(cols_c)
    need = needc[cl[:, None], P, kk[None, :]]
    pid = p.cand[cl[:, None], P] * K + kk[None, :]
    np.maximum.at(wmax, pid.ravel(), need.ravel())
    pot = base.copy()
    # potential: each free cell's largest need per pool
    for c in free:
        m = cl == c
        ids = np.unique(pid[m].ravel())
        mx = np.zeros(ids.size)
        pos = np.searchsorted(ids, pid[m].ravel())
        np.maximum.at(mx, pos, need[m].ravel())
        pot[ids] += mx
    rows_pool = np.nonzero((pot > 1.0 + 1e-12) & np.isin(np.arange(S * K), pid.ravel()))[0]
    nf = free.size
    row_of = np.full(S * K, -1, np.int64)
    row_of[rows_pool] = nf + np.arange(rows_pool.size)
    cell_row = np.full(C, -1, np.int64)
    cell_row[free] = np.arange(nf)
    h = _new_highs(threads)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", 1e-6)
    inf = highspy.kHighsInf
    m = rows_pool.size
    h.addRows(nf + m, np.concatenate([np.ones(nf), np.full(m, -inf)]),
              np.concatenate([np.ones(nf), 1.0 - base[rows_pool]]),
              0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    hcount = _handovers(P, p.init_l[cl])
    r = row_of[pid]
    on = (r >= 0) & (need > 0)
    counts = on.sum(axis=1) + 1
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
    idx = np.empty(int(counts.sum()), np.int32)
    val = np.empty(int(counts.sum()))
    for j in range(n):
        s0 = starts[j]
        idx[s0] = cell_row[cl[j]]
        val[s0] = 1.0
        idx[s0 + 1:s0 + counts[j]] = r[j, on[j]]
        val[s0 + 1:s0 + counts[j]] = need[j, on[j]]
    h.addCols(n, -p.lambda_h * hcount.astype(float), np.zeros(n), np.ones(n), idx.size, starts, idx, val)
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger))
    h.addCols(m, -overflow_cost / np.maximum(wmax[rows_pool], 1e-9), np.zeros(m), np.full(m, inf), m,
              np.arange(m, dtype=np.int32), (nf + np.arange(m)).astype(np.int32), -np.ones(m))
    # warm start: the current paths (the first path of every free cell)
    sol = np.zeros(n + m)
    first = np.concatenate([[0], np.nonzero(np.diff(cl))[0] + 1])
    sol[first] = 1.0
    load = base.copy()
    np.add.at(load, pid[first].ravel(), need[first].ravel())
    sol[n:] = np.maximum(0.0, load[rows_pool] - 1.0)
    hs = highspy.HighsSolution()
    hs.col_value = list(sol)
    hs.value_valid = True
    h.setSolution(hs)
    h.run()
    x = np.asarray(h.getSolution().col_value)
    out = cur.copy()
    if x.size == n + m:
        bestv = np.full(C, -1.0)
        for j in range(n):
            if x[j] > bestv[cl[j]]:
                bestv[cl[j]] = x[j]
                out[cl[j]] = P[j]
    return out, h.getModelStatus() == highspy.HighsModelStatus.kOptimal


def lns(
    problem: Problem,
    pool: ColumnPool,
    start_path: np.ndarray,
    pi: np.ndarray,
    *,
    rounds: int = 50,
    cells: int = 40,
    window: int = 4,
    sub_time: float = 5.0,
    time_limit: float = np.inf,
    overflow_cost: float = 1.0,
    seed: int = 0,
    threads: int | None = 1,
    local_pricing: bool = True,
    patience: int = 10,
) -> tuple[np.ndarray, float, dict]:
    """Large-neighbourhood search with the integer restricted master as the repair step.

    Each round picks a priced pool ``(s, k)`` (``pi > 0``, at random), frees the cells whose
    current or pooled paths use ``s`` within ``window`` slots of ``k`` (at most ``cells`` of
    them, at random), prices new paths for them against the residual pools
    (:func:`_local_pricing`, when ``local_pricing``), and re-associates them by the integer
    master (:func:`_sub_master`, HiGHS, ``sub_time`` seconds) with every other cell fixed.
    A round is kept only if the exact coupled objective improves.  Stops after ``rounds``
    rounds, ``patience`` rounds in a row without improvement, at ``time_limit``, or when a
    neighbourhood holding every cell was solved to optimality.

    Returns
    -------
    path_l : ndarray of int, shape (C, K)
        Best association (never worse than ``start_path``).
    objective : float
        Its exact coupled-proxy objective.
    info : dict
        ``rounds``, ``accepted`` and ``time_s``.
    """
    from oracles.p2.result import score_path

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    p = problem
    C, K = p.C, p.K  # noqa: N806
    cur = np.asarray(start_path, dtype=np.int64).copy()
    cur_obj = score_path(p, cur)[0]
    priced = np.argwhere(pi > 0)
    acc = 0
    stall = 0
    r = 0
    for r in range(1, rounds + 1):  # noqa: B007
        if time.perf_counter() - t0 > time_limit or priced.size == 0 or stall >= patience:
            break
        cand_paths = _paths_by_cell(pool, cur)
        s, k = priced[rng.integers(len(priced))]
        k0, k1 = max(0, k - window), min(K, k + window + 1)
        touch = np.asarray([c for c in range(C) if np.any(p.cand[c, cand_paths[c][:, k0:k1]] == s)],
                           dtype=np.int64)
        if touch.size == 0:
            continue
        if touch.size > cells:
            touch = np.sort(rng.choice(touch, cells, replace=False))
        if local_pricing:
            cand_paths = _local_pricing(p, cur, touch, cand_paths, overflow_cost)
        new, proven = _sub_master(p, cur, touch, cand_paths, sub_time, overflow_cost, threads)
        obj = score_path(p, new)[0]
        if obj > cur_obj + 1e-9:
            cur, cur_obj = new, obj
            acc += 1
            stall = 0
        else:
            stall += 1
            if proven and touch.size == C:
                break
    return cur, cur_obj, {"rounds": r, "accepted": acc, "time_s": time.perf_counter() - t0}


def _local_pricing(
    problem: Problem,
    cur: np.ndarray,
    free: np.ndarray,
    cand_paths: list[np.ndarray],
    overflow_cost: float,
    max_rounds: int = 30,
) -> list[np.ndarray]:
    """Column generation for the cells ``free`` with the other cells fixed on ``cur``.

    The restricted LP is the overflow model of :func:`integer_master` on the residual pools
    (capacity ``1 - load of the fixed cells``); pricing is the budgeted DP with per-slot value
    ``-pi[s, k] * min(1, w)``.  Returns ``cand_paths`` with the priced-out paths appended.
    """
    p = problem
    C, K, S = p.C, p.K, p.S  # noqa: N806
    kk = np.arange(K)
    needc = np.where(np.isfinite(p.w), np.minimum(p.w, 1.0), 0.0)
    fixed = np.ones(C, bool)
    fixed[free] = False
    sat_cur = p.cand[np.arange(C)[:, None], cur]
    need_cur = needc[np.arange(C)[:, None], cur, kk[None, :]]
    base = np.zeros(S * K)
    np.add.at(base, (sat_cur * K + kk)[fixed].ravel(), need_cur[fixed].ravel())
    nf = free.size
    # every pool a free cell can see gets a row
    fc, fl, fk = np.nonzero(p.vis[free] & (needc[free] > 0))
    pid_all = p.cand[free[fc], fl] * K + fk
    upools = np.unique(pid_all)
    row_of = np.full(S * K, -1, np.int64)
    row_of[upools] = nf + np.arange(upools.size)
    wmax = np.zeros(S * K)
    np.maximum.at(wmax, pid_all, needc[free[fc], fl, fk])
    np.maximum.at(wmax, (sat_cur * K + kk)[fixed].ravel(), need_cur[fixed].ravel())
    m = upools.size
    h = _new_highs(None)
    inf = highspy.kHighsInf
    h.addRows(nf + m, np.concatenate([np.ones(nf), np.full(m, -inf)]),
              np.concatenate([np.ones(nf), 1.0 - base[upools]]),
              0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.addCols(m, -overflow_cost / np.maximum(wmax[upools], 1e-9), np.zeros(m), np.full(m, inf), m,
              np.arange(m, dtype=np.int32), (nf + np.arange(m)).astype(np.int32), -np.ones(m))
    out = [list(x) for x in cand_paths]
    seen = {(int(c), pc.tobytes()) for c in free for pc in cand_paths[c]}

    def add(cidx: np.ndarray, P: np.ndarray) -> None:  # noqa: N803
        starts, idx, val = [], [], []
        nnz = 0
        for i, pc in zip(cidx, P, strict=True):
            cc = free[i]
            need = needc[cc, pc, kk]
            r = row_of[p.cand[cc, pc] * K + kk]
            on = (need > 0) & (r >= 0)
            starts.append(nnz)
            idx.append(np.concatenate([[i], r[on]]))
            val.append(np.concatenate([[1.0], need[on]]))
            nnz += int(on.sum()) + 1
        hc = _handovers(P, p.init_l[free[cidx]]).astype(float)
        h.addCols(len(cidx), -p.lambda_h * hc, np.zeros(len(cidx)), np.ones(len(cidx)), nnz,
                  np.asarray(starts, np.int32), np.concatenate(idx).astype(np.int32), np.concatenate(val))

    ci0 = [i for i, c in enumerate(free) for _ in cand_paths[c]]
    add(np.asarray(ci0), np.concatenate([cand_paths[c] for c in free], axis=0))
    vis_f = np.ascontiguousarray(p.vis[free])
    for _ in range(max_rounds):
        h.run()
        dual = np.asarray(h.getSolution().row_dual)
        mu = dual[:nf]
        pi = np.zeros(S * K)
        pi[upools] = np.maximum(0.0, dual[nf:])
        val = -pi[p.cand[free][:, :, None] * K + kk[None, None, :]] * needc[free]
        val = np.where(vis_f, val, -np.inf)
        newp, best, _ = _dp_kernel(np.ascontiguousarray(val), vis_f, p.budget[free].astype(np.int64),
                                   p.init_l[free], float(p.lambda_h), np.zeros((nf, p.L)),
                                   np.zeros((nf, p.L), np.int64))
        red = best - mu
        ci: list[int] = []
        pp = []
        for i in np.nonzero(red > 1e-7)[0]:
            key = (int(free[i]), newp[i].tobytes())
            if newp[i, 0] < 0 or key in seen:
                continue
            seen.add(key)
            ci.append(int(i))
            pp.append(newp[i].copy())
            out[free[i]].append(newp[i].copy())
        if not ci:
            break
        add(np.asarray(ci), np.asarray(pp))
    return [np.asarray(x) for x in out]
