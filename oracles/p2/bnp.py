"""Branch-and-price for P2 under the coupled proxy: a valid global bound from the DW master.

Every node is the coupled problem with some (cell, candidate, slot) triples *forced* (the cell
is on that candidate in that slot) or *forbidden*; both are visibility restrictions, so the
node's Lagrangian DP, its Dantzig-Wolfe master and its column generation are those of
:mod:`oracles.p2.colgen` on the restricted visibility.  A node's bound is the best ``L(pi)``
met during its column generation (valid for the node whether or not it converged), and the
global bound is the largest of the incumbent, the bounds of the open nodes and the bounds of
the nodes closed without branching (pruned within the tolerance, or integral in the
association: every cell's columns share one path), so it is valid whenever the search stops
(maximisation).  Nodes are taken best bound first (``strategy="best"``) or depth first
(``"dive"``).

Branching: for the master LP solution, ``X[c, l, k]`` = weight of cell ``c``'s columns on
candidate ``l`` in slot ``k``; branch on the triple with ``X`` closest to 1/2 (ties: first
in (cell, slot) order), forced child first.

Every node's master is kept feasible by one column per cell with zero shares (its DP path at
zero prices, utility ``log(eps)`` per slot): a legitimate point of the relaxation, so the LP
is still a relaxation of the node.  Pricing associations and the per-cell heaviest column
of every node's LP are scored exactly as primal candidates (optionally improved by the local
search of :mod:`oracles.p2.lagrangian`).

:func:`column_dive` is the primal-only variant that fixes many triples per step (no bound).
On ``europe-starlink`` cut-outs the bound of (cell, candidate, slot) branching does not move
(the master is massively degenerate), so both serve as primal heuristics there
(``docs/p2.md``, Limitations, "Session 23").
"""

from __future__ import annotations

import copy
import heapq
import time
from collections.abc import Callable

import numpy as np

from oracles.p2 import colgen as _cg
from oracles.p2.dp import dp_paths
from oracles.p2.problem import Problem
from oracles.p2.result import relative_gap

__all__ = ["branch_and_price", "column_dive"]


def _node_problem(problem: Problem, vis: np.ndarray) -> Problem:
    """Shallow copy of ``problem`` whose candidate-view visibility is ``vis`` (same ``cand``)."""
    q = copy.copy(problem)
    q.__dict__["vis"] = vis  # cached_property slot of the frozen dataclass
    return q


def _append(dst: _cg.ColumnPool, src: _cg.ColumnPool, ids: np.ndarray) -> None:
    """Append columns ``ids`` of ``src`` to ``dst`` (same cells, paths and values; deduplicated)."""
    for j in ids:
        c, pc, yc = src.cell[j], src.path[j], src.y[j]
        key = int(c).to_bytes(4, "little") + pc.tobytes() + yc.tobytes()
        if key in dst._seen:
            continue
        dst._seen.add(key)
        dst.cell.append(c)
        dst.path.append(pc)
        dst.y.append(yc)
        dst.value.append(src.value[j])


def _node_pool(problem: Problem, node: Problem, pool: _cg.ColumnPool, vis: np.ndarray) -> _cg.ColumnPool | None:
    """Columns of ``pool`` compatible with ``vis`` plus a zero-share column per cell (None: infeasible)."""
    K = problem.K  # noqa: N806
    path0, _, _ = dp_paths(node, np.zeros((problem.C, problem.L, K)))
    if np.any(path0[:, 0] < 0):
        return None
    sub = _cg.ColumnPool(node)
    if len(pool):
        cells = np.asarray(pool.cell)
        paths = np.stack(pool.path)
        ok = vis[cells[:, None], paths, np.arange(K)[None, :]].all(axis=1)
        _append(sub, pool, np.nonzero(ok)[0])
    sub.add(path0, np.zeros((problem.C, K)))
    return sub


def branch_and_price(
    problem: Problem,
    incumbent: np.ndarray,
    incumbent_value: float,
    *,
    time_limit: float = 60.0,
    node_limit: int = 100000,
    cg_rounds: int = 200,
    seed_pool: _cg.ColumnPool | None = None,
    score: Callable[[np.ndarray], float] | None = None,
    polish: Callable[[np.ndarray], np.ndarray] | None = None,
    tol: float = 1e-7,
    threads: int | None = 1,
    strategy: str = "best",
    gap_tol: float = 0.0,
) -> dict:
    """Best-bound (or depth-first) branch-and-price on (cell, candidate, slot) triples.

    Parameters
    ----------
    problem : Problem
        Coupled-proxy instance.
    incumbent : ndarray of int, shape (C, K)
        A feasible association (candidate indices) and ``incumbent_value`` its exact objective.
    time_limit : float
        Wall-clock limit [s]; the bound returned is valid whenever it stops.
    node_limit : int
        Nodes to solve at most.
    cg_rounds : int
        Pricing rounds per node.
    seed_pool : ColumnPool, optional
        Columns to start from (e.g. the root column generation's); copied, not modified.
    score : callable, optional
        ``score(path_l) -> exact objective`` of a candidate association; default: exact
        scoring (:func:`oracles.p2.result.score_path`).
    polish : callable, optional
        ``polish(path_l) -> path_l`` applied to each node's LP rounding (the heaviest column
        per cell) before scoring, e.g. the local search.
    tol : float
        Absolute tolerance of pruning (``bound <= incumbent + tol``); the bounds of nodes
        pruned within it are kept in the global bound, which therefore stays valid.
    threads : int or None
        HiGHS threads.
    strategy : {"best", "dive"}
        Node order: largest bound first (``"best"``), or depth first with the forced child
        first (``"dive"``: a column-generation dive that backtracks; the bound stays valid).

    gap_tol : float
        Stop once ``relative_gap(global bound, incumbent) <= gap_tol``.

    Returns
    -------
    dict
        ``bound`` (valid upper bound on the coupled optimum), ``path`` (best association),
        ``value`` (its exact objective), ``nodes``, ``open`` (nodes left), ``proved`` (the
        global bound is within ``max(tol, 1e-6 max(1, |value|))`` of ``value``, the column
        generation's own tolerance), ``history`` (time [s], node, value) of the improvements, ``root_bound``, ``time_s``.
    """
    from oracles.p2.result import score_path

    if strategy not in ("best", "dive"):
        raise ValueError(f"strategy must be 'best' or 'dive', got {strategy!r}")
    if not time_limit >= 0.0:
        raise ValueError(f"time_limit must be >= 0 [s], got {time_limit}")
    if node_limit < 0:
        raise ValueError(f"node_limit must be >= 0, got {node_limit}")
    t0 = time.perf_counter()
    C, K = problem.C, problem.K  # noqa: N806
    base_vis = np.ascontiguousarray(problem.vis)
    best_path = np.asarray(incumbent, dtype=np.int64).copy()
    best_val = float(incumbent_value)

    def _score(path: np.ndarray) -> float:
        if score is not None:
            return float(score(path))
        return float(score_path(problem, path)[0])

    gpool = _cg.ColumnPool(problem)
    if seed_pool is not None:
        _append(gpool, seed_pool, np.arange(len(seed_pool)))
    # node: (-bound, counter, forced list, forbidden list)
    heap: list[tuple[float, int, tuple, tuple]] = []
    counter = 0
    heapq.heappush(heap, (-np.inf, counter, (), ()))
    nodes = 0
    root_bound = np.nan
    history: list[tuple[float, int, float]] = []
    closed = -np.inf  # largest bound of a node closed without branching (pruned within tol, integral LP)

    def _on_path(path: np.ndarray) -> float:
        nonlocal best_val, best_path
        v = _score(path)
        if v > best_val + 1e-12:
            best_val, best_path = v, path.copy()
            history.append((round(time.perf_counter() - t0, 3), nodes, best_val))
        return best_val

    while heap:
        if time.perf_counter() - t0 > time_limit or nodes >= node_limit:
            break
        if gap_tol > 0.0 and relative_gap(max([best_val, closed] + [-b for b, *_ in heap]), best_val) <= gap_tol:
            break
        if strategy == "dive":
            negb, _, forced, forbidden = heap.pop()
        else:
            negb, _, forced, forbidden = heapq.heappop(heap)
        if -negb <= best_val + tol:
            closed = max(closed, -negb)
            continue
        vis = base_vis.copy()
        for c, li, k in forced:
            keep = vis[c, li, k]
            vis[c, :, k] = False
            vis[c, li, k] = keep
        for c, li, k in forbidden:
            vis[c, li, k] = False
        node = _node_problem(problem, vis)
        pool = _node_pool(problem, node, gpool, vis)
        nodes += 1
        if pool is None:
            continue  # infeasible node

        cg = _cg.column_generation(node, pool, max_rounds=cg_rounds,
                                   time_limit=max(0.0, time_limit - (time.perf_counter() - t0)),
                                   threads=threads, on_path=_on_path)
        bound = float(cg["bound"])
        if nodes == 1:
            root_bound = bound
        _append(gpool, pool, np.arange(len(pool)))  # keep the new columns
        if bound <= best_val + tol:
            closed = max(closed, bound)
            continue
        # LP solution in (cell, candidate, slot) space
        x = np.asarray(cg["x_lp"])
        X = np.zeros((C, problem.L, K))  # noqa: N806
        heavy = np.full(C, -1)
        heavy_w = np.zeros(C)
        kk = np.arange(K)
        for j in np.nonzero(x > 1e-9)[0]:
            c = pool.cell[j]
            X[c, pool.path[j], kk] += x[j]
            if x[j] > heavy_w[c]:
                heavy_w[c], heavy[c] = x[j], j
        if np.all(heavy >= 0):
            rounded = np.stack([pool.path[heavy[c]] for c in range(C)])
            _on_path(rounded)
            if polish is not None:
                _on_path(polish(rounded))
        frac = np.abs(X - 0.5)
        frac[(X <= 1e-6) | (X >= 1 - 1e-6)] = np.inf
        if not np.isfinite(frac).any():
            closed = max(closed, bound)  # integral association: nothing to branch on
            continue
        c, li, k = np.unravel_index(int(np.argmin(frac)), frac.shape)
        trip = (int(c), int(li), int(k))
        kids = [(-bound, counter + 1, forced + (trip,), forbidden), (-bound, counter + 2, forced, forbidden + (trip,))]
        counter += 2
        if strategy == "dive":
            heap.extend(kids[::-1])  # forced child on top of the stack
        else:
            for kid in kids:
                heapq.heappush(heap, kid)
    open_bounds = [-b for b, *_ in heap]
    glob = max([best_val, closed] + open_bounds)
    return {"bound": glob, "path": best_path, "value": best_val, "nodes": nodes, "open": len(open_bounds),
            "proved": glob <= best_val + max(tol, 1e-6 * max(1.0, abs(best_val))), "root_bound": root_bound,
            "time_s": time.perf_counter() - t0, "columns": len(gpool),
            "history": history}


def column_dive(
    problem: Problem,
    pool: _cg.ColumnPool,
    *,
    time_limit: float = 60.0,
    cg_rounds: int = 50,
    fix_share: float = 0.2,
    on_path: Callable[[np.ndarray], float] | None = None,
    polish: Callable[[np.ndarray], np.ndarray] | None = None,
    threads: int | None = 1,
) -> dict:
    """Column-generation dive: fix the LP's most decided cells, re-price, repeat (no bound).

    At every step the master LP is solved by column generation on the restricted problem;
    every (cell, candidate, slot) triple the LP holds at 1 is forced, and so is the whole
    heaviest path of the ``fix_share`` fraction (at least one) of the fractional cells whose
    heaviest column weighs most.  The dive ends when the LP is integral in the association,
    a step is infeasible, or at ``time_limit``; each step's LP rounding (heaviest column per
    cell, then ``polish``) and every pricing association go to ``on_path``.

    Parameters
    ----------
    problem : Problem
        Coupled-proxy instance.
    pool : ColumnPool
        Starting columns (e.g. the root column generation's); not modified.
    time_limit : float
        Wall-clock limit [s].
    cg_rounds : int
        Pricing rounds per step.
    fix_share : float
        Share of the fractional cells fixed per step, in (0, 1].
    on_path : callable
        ``on_path(path_l) -> best objective so far``: receives every candidate association.
    polish : callable, optional
        ``polish(path_l) -> path_l`` applied to each step's rounding (e.g. the local search).
    threads : int or None
        HiGHS threads.

    Returns
    -------
    dict
        ``steps``, ``time_s``, ``fixed_cells`` (cells fixed whole at the end) and ``status``
        (``"integral"``, ``"infeasible"`` or ``"time"``).
    """
    if not 0.0 < fix_share <= 1.0:
        raise ValueError(f"fix_share must be in (0, 1], got {fix_share}")
    if not time_limit >= 0.0:
        raise ValueError(f"time_limit must be >= 0 [s], got {time_limit}")
    t0 = time.perf_counter()
    C, K, L = problem.C, problem.K, problem.L  # noqa: N806
    kk = np.arange(K)
    vis = np.ascontiguousarray(problem.vis).copy()
    gpool = _cg.ColumnPool(problem)
    _append(gpool, pool, np.arange(len(pool)))
    steps = 0
    status = "time"
    fixed = np.zeros(C, bool)
    while time.perf_counter() - t0 <= time_limit:
        node = _node_problem(problem, vis)
        sub = _node_pool(problem, node, gpool, vis)
        steps += 1
        if sub is None:
            status = "infeasible"
            break
        cg = _cg.column_generation(node, sub, max_rounds=cg_rounds,
                                   time_limit=max(0.0, time_limit - (time.perf_counter() - t0)),
                                   threads=threads, on_path=on_path)
        _append(gpool, sub, np.arange(len(sub)))
        x = np.asarray(cg["x_lp"])
        X = np.zeros((C, L, K))  # noqa: N806
        heavy = np.full(C, -1)
        heavy_w = np.zeros(C)
        for j in np.nonzero(x > 1e-9)[0]:
            c = sub.cell[j]
            X[c, sub.path[j], kk] += x[j]
            if x[j] > heavy_w[c]:
                heavy_w[c], heavy[c] = x[j], j
        if np.any(heavy < 0):
            status = "infeasible"
            break
        rounded = np.stack([sub.path[heavy[c]] for c in range(C)])
        if on_path is not None:
            on_path(rounded)
            if polish is not None:
                on_path(polish(rounded))
        frac_cells = np.nonzero(((X > 1e-6) & (X < 1 - 1e-6)).any(axis=(1, 2)))[0]
        if frac_cells.size == 0:
            status = "integral"
            break
        # force what the LP holds at 1, and the heaviest paths of the most decided cells
        cc, ll, kx = np.nonzero(X >= 1 - 1e-6)
        keep = vis[cc, ll, kx]
        vis[cc, :, kx] = False
        vis[cc, ll, kx] = keep
        n_fix = max(1, int(np.ceil(fix_share * frac_cells.size)))
        pick = frac_cells[np.argsort(-heavy_w[frac_cells], kind="stable")[:n_fix]]
        for c in pick:
            pc = sub.path[heavy[c]]
            vis[c] = False
            vis[c, pc, kk] = True
            fixed[c] = True
    return {"steps": steps, "time_s": time.perf_counter() - t0, "fixed_cells": int(fixed.sum()), "status": status}
