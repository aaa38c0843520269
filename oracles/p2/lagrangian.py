"""Lagrangian dynamic programming for P2 under the coupled proxy.

Relaxing the per-satellite pools ``sum_c y[s,c,k] <= 1`` with prices ``pi[s,k] >= 0`` gives
the dual function::

    L(pi) = sum_{s,k} pi[s,k]
            + sum_c max_{paths of c} sum_k [ phi(pi[s_k, k], w[c, s_k, k]) ] - lambda_h h_c

where the per-slot value has the closed form (``w = D / R``)::

    phi(pi, w) = max_{0 <= y <= min(1, w)} log(eps + y / w) - pi y,
    y* = clip(1 / pi - eps w, 0, min(1, w)).

Each cell's inner maximum is the budgeted DP of :mod:`oracles.p2.dp`, so ``L(pi)`` costs one
DP sweep, and ``L(pi)`` is an upper bound on the coupled-proxy optimum for every ``pi >= 0``.

Dual updates
    Projected subgradient ``g[s,k] = 1 - sum_c y*[c,k]`` (over the cells the DP puts on ``s``)
    with Polyak steps ``theta (L(pi) - best primal) / |g|^2``; ``theta`` is halved after
    ``patience`` iterations without a better bound.  The prices start from the water-filling
    multipliers of the initial primal solution.

Primal recovery (always budget- and visibility-feasible)
    Every DP association is scored with the exact per-satellite water-filling
    (:func:`oracles.p2.proxy.coupled_allocation`); the best one is kept.  A local search then
    re-optimises one cell at a time: with all other cells fixed, the exact change of the
    objective from putting cell ``c`` on satellite ``s`` in slot ``k`` is
    ``U(group + c) - U(group)`` (water-filling utilities), so the cell's best response is again
    the budgeted DP; passes repeat until no cell improves.  Finally, price-guided rounds
    re-optimise the best association with every move charged ``pi * min(1, w)`` at the best
    (optionally noise-perturbed) prices, which moves cells off contested pools, and polish
    the result on the true objective; the best association is kept.

Certificate
    ``gap = (min_iter L(pi) - objective) / max(1, |objective|)`` bounds the distance of the
    returned association from the coupled-proxy optimum.  No choice of prices can make it
    smaller than the integrality gap of the relaxation: ``min_pi L(pi)`` equals the
    Dantzig-Wolfe (convexified per-cell paths) bound, see ``docs/p2.md``.  The option
    ``relaxation`` strengthens it with each pool's integral subsets of cells
    (:mod:`oracles.p2.decomp`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
from numba import njit

from oracles.p2 import proxy as _proxy
from oracles.p2.dp import _dp_kernel, _dual_values, dp_paths, terminal_arrays
from oracles.p2.problem import Problem
from oracles.p2.result import P2Result, infeasible_result, make_result, relative_gap, score_path

__all__ = ["solve_lagrangian", "local_search", "dual_value"]


def dual_value(
    problem: Problem,
    pi: np.ndarray,
    cost_t: np.ndarray | None = None,
    req_t: np.ndarray | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Dual function ``L(pi)``, the DP association and the pool usage it implies.

    Parameters
    ----------
    problem : Problem
        Coupled-proxy instance.
    pi : ndarray, shape (S, K)
        Pool prices, >= 0.
    cost_t, req_t : ndarray, shape (C, L), optional
        Terminal cost and reserve on the candidate view.

    Returns
    -------
    value : float
        ``L(pi)`` (an upper bound on the coupled optimum, terminal cost included).
    path_l : ndarray of int, shape (C, K)
        Per-cell DP association.
    usage : ndarray, shape (S, K)
        ``sum_c y*`` per pool under that association.
    """
    phi, ystar = _dual_values(
        np.ascontiguousarray(pi, dtype=float), problem.cand, np.ascontiguousarray(problem.w),
        np.ascontiguousarray(problem.vis), float(problem.eps),
    )
    path, vals, _ = dp_paths(problem, phi, terminal_cost=cost_t, terminal_req=req_t)
    C, K = problem.C, problem.K  # noqa: N806
    kk = np.broadcast_to(np.arange(K), (C, K))
    cc = np.broadcast_to(np.arange(C)[:, None], (C, K))
    sat = problem.cand[cc, path]
    usage = np.zeros((problem.S, K))
    np.add.at(usage, (sat, kk), ystar[cc, path, kk])
    return float(pi.sum() + vals.sum()), path, usage


@njit(cache=True)
def _group_utility(ws: np.ndarray, n: int, eps: float, xi_buf: np.ndarray, y_buf: np.ndarray) -> float:
    if n == 0:
        return 0.0
    _proxy._waterfill_into(ws[:n], eps, xi_buf[:n], y_buf[:n])
    tot = 0.0
    for i in range(n):
        tot += np.log(eps + xi_buf[i])
    return tot


@njit(cache=True)
def _local_search(
    path: np.ndarray,
    cand: np.ndarray,
    w: np.ndarray,
    vis: np.ndarray,
    budget: np.ndarray,
    init_l: np.ndarray,
    lam: float,
    eps: float,
    S: int,  # noqa: N803
    term_cost: np.ndarray,
    term_req: np.ndarray,
    max_passes: int,
    tol: float,
    order: np.ndarray,
    price: np.ndarray,
    spread: float,
    charge_placed: bool,
) -> tuple[np.ndarray, int, int]:
    C, K = path.shape  # noqa: N806
    L = cand.shape[1]  # noqa: N806
    sat = np.full((C, K), -1, np.int64)
    for c in range(C):
        for k in range(K):
            if path[c, k] >= 0:
                sat[c, k] = cand[c, path[c, k]]
    ws = np.empty(C + 1)
    xb = np.empty(C + 1)
    yb = np.empty(C + 1)
    # current utility of every pool
    ucur = np.zeros((S, K))
    for k in range(K):
        for s in range(S):
            n = 0
            for c in range(C):
                if sat[c, k] == s:
                    wc = w[c, path[c, k], k]
                    if wc > 0.0 and wc < np.inf:
                        ws[n] = wc
                        n += 1
            ucur[s, k] = _group_utility(ws, n, eps, xb, yb)
    val = np.empty((1, L, K))
    moves = 0
    passes = 0
    for _ in range(max_passes):
        passes += 1
        improved = False
        for c in order:
            placed = path[c, 0] >= 0
            for k in range(K):
                s0 = sat[c, k]
                for li in range(L):
                    if not vis[c, li, k]:
                        val[0, li, k] = -np.inf
                        continue
                    s = cand[c, li]
                    wc = w[c, li, k]
                    if wc == 0.0:
                        val[0, li, k] = 0.0
                        continue
                    if wc == np.inf:
                        val[0, li, k] = np.log(eps)
                        continue
                    # members of pool s at k other than c
                    n = 0
                    wsum = wc
                    for c2 in range(C):
                        if c2 != c and sat[c2, k] == s:
                            w2 = w[c2, path[c2, k], k]
                            if w2 > 0.0 and w2 < np.inf:
                                ws[n] = w2
                                wsum += w2
                                n += 1
                    if s == s0:
                        u_without = _group_utility(ws, n, eps, xb, yb)
                        val[0, li, k] = ucur[s, k] - u_without
                    else:
                        ws[n] = wc
                        u_with = _group_utility(ws, n + 1, eps, xb, yb)
                        val[0, li, k] = u_with - ucur[s, k]
                    if charge_placed or not placed:
                        # capacity wanted by other cells (not yet placed, or priced out)
                        val[0, li, k] -= price[s, k] * (wc if wc < 1.0 else 1.0)
                    if spread > 0.0:
                        # tie-break towards pools with spare capacity
                        val[0, li, k] += spread * (1.0 - wsum)
            # current path value under these marginals
            cur = 0.0 if placed else -np.inf
            if placed:
                for k in range(K):
                    cur += val[0, path[c, k], k]
                hcur = 0
                if init_l[c] != -1 and path[c, 0] != init_l[c]:
                    hcur += 1
                for k in range(1, K):
                    if path[c, k] != path[c, k - 1]:
                        hcur += 1
                cur -= lam * hcur + term_cost[c, path[c, K - 1]]
            newp, best, _used = _dp_kernel(
                val, vis[c:c + 1], budget[c:c + 1], init_l[c:c + 1], lam,
                term_cost[c:c + 1], term_req[c:c + 1],
            )
            if newp[0, 0] < 0 or best[0] <= cur + tol:
                continue
            # apply the move
            improved = True
            moves += 1
            for k in range(K):
                lnew = newp[0, k]
                if lnew == path[c, k]:
                    continue
                s_old = sat[c, k]
                s_new = cand[c, lnew]
                path[c, k] = lnew
                sat[c, k] = s_new
                for s in (s_old, s_new):
                    if s < 0:
                        continue
                    n = 0
                    for c2 in range(C):
                        if sat[c2, k] == s:
                            w2 = w[c2, path[c2, k], k]
                            if w2 > 0.0 and w2 < np.inf:
                                ws[n] = w2
                                n += 1
                    ucur[s, k] = _group_utility(ws, n, eps, xb, yb)
        if not improved:
            break
    return path, moves, passes


def local_search(
    problem: Problem,
    path_l: np.ndarray,
    *,
    max_passes: int = 20,
    cost_t: np.ndarray | None = None,
    req_t: np.ndarray | None = None,
    order: np.ndarray | None = None,
    price: np.ndarray | None = None,
    spread: float = 0.0,
    charge_placed: bool = False,
) -> tuple[np.ndarray, int, int]:
    """Best-response improvement of a feasible association (coupled proxy).

    Rows of ``path_l`` equal to ``-1`` are cells not yet placed: the first pass inserts them
    (in ``order``) with their best response to the cells placed so far, which makes
    ``local_search(problem, -1)`` a greedy constructive heuristic.  While inserting, the
    opportunity cost ``price[s, k] * min(1, w)`` (pool prices, e.g. the Lagrangian
    multipliers) is charged for the capacity a cell takes, so that early cells leave the
    contested pools to the cells that need them.  ``spread > 0`` adds
    ``spread * (1 - load)`` for the pool's load after joining: among (nearly) equal options
    cells move to pools with spare capacity, which frees contested satellites for the cells
    that have no alternative; the result is then only approximately a local optimum of the
    true objective, so callers finish with ``spread = 0``.  ``charge_placed=True`` charges
    ``price`` in every move, not only while inserting: cells then leave priced (contested)
    pools when an unpriced alternative costs them little, which frees room for the cells
    that need those pools; again callers finish with ``price = None``.

    Returns
    -------
    path_l : ndarray, shape (C, K)
        Improved association (never worse, always budget-feasible).
    moves : int
        Cells whose path changed.
    passes : int
        Passes over the cells.
    """
    C, L = problem.C, problem.L  # noqa: N806
    path0 = np.array(np.broadcast_to(path_l, (C, problem.K)), dtype=np.int64)
    return _local_search(
        path0, problem.cand, np.ascontiguousarray(problem.w),
        np.ascontiguousarray(problem.vis), problem.budget.astype(np.int64), problem.init_l,
        float(problem.lambda_h), float(problem.eps), problem.S,
        np.zeros((C, L)) if cost_t is None else np.ascontiguousarray(cost_t, dtype=float),
        np.zeros((C, L), np.int64) if req_t is None else np.ascontiguousarray(req_t, dtype=np.int64),
        int(max_passes), 1e-9,
        np.arange(C, dtype=np.int64) if order is None else np.asarray(order, dtype=np.int64),
        np.zeros((problem.S, problem.K)) if price is None else np.ascontiguousarray(price, dtype=float),
        float(spread), bool(charge_placed),
    )


def _primal_value(problem: Problem, path: np.ndarray, cost_t: np.ndarray) -> float:
    """Exact coupled objective minus the terminal cost (what the DP maximises)."""
    obj, _, _ = score_path(problem, path)
    C = problem.C  # noqa: N806
    return obj - float(cost_t[np.arange(C), path[:, -1]].sum())


def solve_lagrangian(
    problem: Problem,
    *,
    max_iter: int = 400,
    time_limit: float | None = None,
    gap_tol: float = 1e-3,
    theta0: float = 1.0,
    patience: int = 20,
    theta_min: float = 1e-4,
    local_search_passes: int = 20,
    price_guided: bool = True,
    spread_tiebreak: float = 1e-3,
    dual_share: float = 0.7,
    price_rounds: int = 6,
    price_patience: int = 3,
    price_noise: float = 0.5,
    seed: int = 0,
    init: str | np.ndarray = "insertion",
    price_init: str = "zero",
    terminal_cost: np.ndarray | None = None,
    terminal_req: np.ndarray | None = None,
    record: bool = False,
    dual: str = "auto",
    cg_rounds: int = 200,
    cg_time_share: float = 1.0,
    cg_min_gap: float = 0.01,
    primal: str = "local_search",
    pb_rounds: int = 40,
    pb_cells: int = 40,
    pb_sub_time: float = 3.0,
    relaxation: str = "dw",
    dec_rounds: int = 200,
    dec_time_share: float = 0.5,
    dive_nodes: int = 1000,
    dive_share: float = 0.5,
    window_slots: int = 1,
    window_count: int = 1,
) -> P2Result:
    """Coupled-proxy P2 by Lagrangian relaxation of the satellite pools + per-cell DP.

    Parameters
    ----------
    problem : Problem
        Must use ``proxy="coupled"``.
    max_iter : int
        Dual iterations.  With the default ``time_limit=None`` every stage is bounded by an
        iteration count (``max_iter``, ``local_search_passes``, ``price_rounds``), so the result
        depends only on the problem and the options, never on the machine's speed.
    time_limit : float or None
        Optional wall-clock limit [s], > 0 (the final local search is not interrupted).  When
        it binds, the result depends on the machine's speed and load (not reproducible).
    gap_tol : float
        Stop when the certified relative gap is at or below this.
    theta0, patience, theta_min : float, int, float
        Polyak step factor, iterations without a better bound before halving it, and the
        factor at which to stop.
    local_search_passes : int
        Passes of best-response improvement on the best association (0: none).
    price_guided : bool
        Also build an association by greedy insertion charged with the best prices (see
        :func:`local_search`) and improve it, when the gap is above ``gap_tol``.
    spread_tiebreak : float
        Weight of the spare-capacity tie-break in a first local-search round (0: none); a
        second round without it restores a true local optimum.
    dual_share : float
        Share of ``time_limit`` (when given) the dual iterations may use; the rest is left to
        primal recovery.
    price_rounds, price_patience, price_noise : int, int, float
        Price-guided perturbation rounds after the local search (0: none): each round
        re-optimises the best association with every move charged the best prices (the
        first round as they are, later rounds multiplied by log-normal noise of spread
        ``price_noise``), then polishes it on the true objective; the rounds stop after
        ``price_patience`` rounds without improvement, at ``time_limit`` (if any), or when the gap
        reaches ``gap_tol``.
    seed : int
        Seed of the price noise (results are deterministic for a given seed).
    init : {"insertion", "separable"} or ndarray
        Initial primal: greedy insertion of the cells (largest demand first, each on its best
        response to the cells already placed), the separable-proxy DP optimum, or an
        association (C, K) of satellite indices.
    price_init : {"zero", "waterfill"}
        Initial prices: zero (then ``L(0)`` is the separable bound) or the water-filling
        multipliers of the initial association.
    terminal_cost, terminal_req : ndarray, shape (S, C), optional
        Rolling-window terminal cost and handover reserve.
    record : bool
        Keep the bound / primal history in ``info["history"]``.
    dual : {"auto", "subgradient", "colgen", "both"}
        How the prices are found.  ``"subgradient"``: the projected subgradient above
        (``max_iter`` iterations).  ``"colgen"``: column generation on the Dantzig-Wolfe
        master LP (:mod:`oracles.p2.colgen`), priced by the same DP, from the initial
        association's columns; it reaches ``min_pi L(pi)`` (up to ``1e-6``) when it
        converges, and every pricing round's ``L(pi)`` is a valid bound.  ``"both"``: the
        subgradient, then column generation seeded with the best association and the DP
        paths at the subgradient's best prices, when the certified gap is still above
        ``max(gap_tol, cg_min_gap)``.  ``"auto"``: ``"both"``, except for rolling windows
        (terminal cost or reserve given), which use the subgradient.
    cg_rounds : int
        Pricing rounds of column generation.
    cg_time_share : float
        With ``dual="both"`` and a ``time_limit``, column generation may take at most this
        multiple of the time the subgradient took (without a time limit it is bounded by
        ``cg_rounds`` only, so the default answer does not depend on the clock).  The price-guided rounds keep the subgradient's prices (they
        gave better associations than the exact master duals on ``europe-starlink``).
    cg_min_gap : float
        With ``dual="both"``, column generation runs only when the subgradient's certified
        gap exceeds this (always with ``primal="price_and_branch"`` or a ``relaxation`` other than ``"dw"``, which need its
        columns; on ``stress``, 0.05-0.4 %, it did not improve the bound within
        its time share; on ``europe-starlink``, ~8 %, it gains ~0.2 points).
    primal : {"local_search", "price_and_branch", "dive"}
        ``"dive"`` (needs column generation) adds, after the price rounds, a column-generation
        dive (:func:`oracles.p2.bnp.column_dive`: fix the LP's integral triples and the
        heaviest paths of the most decided fifth of the fractional cells, re-price, repeat;
        ``dive_share`` of the time left) and then a depth-first branch-and-price on (cell, candidate, slot) from the column-generation master
        (:func:`oracles.p2.bnp.branch_and_price`, ``strategy="dive"``): every node's LP rounding
        is polished by the local search and every pricing association scored; the tree's
        bound (largest open node or incumbent) is valid when it stops, and the smaller of it and
        the Dantzig-Wolfe bound is reported.  It runs until ``time_limit`` (required unless
        ``dive_nodes`` is finite) or ``dive_nodes`` nodes, or until the tree's gap is within
        ``gap_tol``; it runs only where column generation ran and the certified gap after the
        price rounds is still above ``cg_min_gap`` (on ``stress``, gaps <= 0.42 %, it ran to
        the time limit for a 0.05-point gain on one seed of five).
        ``"price_and_branch"`` (needs column generation) adds, after the local search and
        the price rounds, detour columns (each priced visit of a master path replaced by the
        best path avoiding it) and a large-neighbourhood search whose repair step is the
        integer restricted master over the columns (HiGHS), ``pb_rounds`` neighbourhoods of
        ``pb_cells`` cells, ``pb_sub_time`` seconds each (see :func:`oracles.p2.colgen.lns`).
        It makes the result depend on HiGHS's time limits (machine speed).
    pb_rounds, pb_cells, pb_sub_time : int, int, float
        Price-and-branch neighbourhoods, cells per neighbourhood, HiGHS limit per repair [s].
    relaxation : {"dw", "pool_cuts", "decomposition", "window"}
        ``"dw"``: the bound is ``min_pi L(pi)`` (Dantzig-Wolfe).  The other two strengthen it
        after column generation (they need ``dual="colgen"`` or ``"both"`` and run only
        above ``gap_tol``) with each pool's integral subsets of cells:
        ``"pool_cuts"`` separates pool-hull inequalities into the master and prices them
        in the DP (:func:`oracles.p2.decomp.hull_cut_bound`); ``"decomposition"`` solves the
        Lagrangian-decomposition master with per-pool configurations
        (:func:`oracles.p2.decomp.decomposition_bound`).  Every value either reports is a
        valid bound, never above the Dantzig-Wolfe one (the minimum is kept), and their
        pricing paths are also scored as primal candidates.  Default ``"dw"``: on
        ``europe-starlink`` neither gained more than a few hundredths within the time
        budget (``docs/p2.md``, Limitations).  ``"window"`` keeps the pools of the slot with
        the largest price mass exact (a MILP over that slot, every other slot priced at the
        master's prices: :func:`oracles.p2.window_bound.best_window_bound`, limited to
        ``dec_time_share`` of the time left, at most 600 s).
    window_slots, window_count : int
        ``relaxation="window"``: slots per window and how many non-overlapping windows (by
        largest price mass) to try; their bounds do not add up, the smallest is kept.
    dec_rounds : int
        Rounds (pricing + separation) of the strengthening.
    dive_nodes : int
        Node limit of ``primal="dive"``'s branch-and-price.
    dive_share : float
        Share of the time left that ``primal="dive"``'s column dive may use, in (0, 1].
    dec_time_share : float
        With a ``time_limit``, the share of the time left after column generation that the
        strengthening may use (without one it is bounded by ``dec_rounds`` only); the rest is
        left to the local search and the price-guided rounds.

    Returns
    -------
    P2Result
        ``bound`` is the best dual value ``min L(pi)`` and ``gap`` the certified relative gap.
    """
    if problem.proxy != "coupled":
        raise ValueError("method 'lagrangian' needs proxy='coupled' (the separable proxy is solved exactly by 'dp')")
    if max_iter < 0:
        raise ValueError(f"max_iter must be >= 0, got {max_iter}")
    if time_limit is not None and not 0 < time_limit < np.inf:
        raise ValueError(f"time_limit must be None or finite and > 0 [s], got {time_limit}")
    if dual not in ("auto", "subgradient", "colgen", "both"):
        raise ValueError(f"dual must be 'auto', 'subgradient', 'colgen' or 'both', got {dual!r}")
    if primal not in ("local_search", "price_and_branch", "dive"):
        raise ValueError(f"primal must be 'local_search', 'price_and_branch' or 'dive', got {primal!r}")
    if dive_nodes < 0:
        raise ValueError(f"dive_nodes must be >= 0, got {dive_nodes}")
    if not 0.0 < dive_share <= 1.0:
        raise ValueError(f"dive_share must be in (0, 1], got {dive_share}")
    windowed_in = terminal_cost is not None or terminal_req is not None
    if dual == "auto":
        dual = "subgradient" if windowed_in else "both"
    if dual in ("colgen", "both") and windowed_in:
        raise ValueError(f"dual={dual!r} does not support terminal_cost / terminal_req (use 'subgradient')")
    if primal in ("price_and_branch", "dive") and dual == "subgradient":
        raise ValueError(f"primal={primal!r} needs column generation (dual='colgen' or 'both')")
    if relaxation not in ("dw", "pool_cuts", "decomposition", "window"):
        raise ValueError(f"relaxation must be 'dw', 'pool_cuts', 'decomposition' or 'window', got {relaxation!r}")
    if relaxation != "dw" and dual == "subgradient":
        raise ValueError(f"relaxation={relaxation!r} needs column generation (dual='colgen' or 'both')")
    if dec_rounds < 0:
        raise ValueError(f"dec_rounds must be >= 0, got {dec_rounds}")
    if not 1 <= window_slots <= problem.K:
        raise ValueError(f"window_slots must be in [1, K = {problem.K}], got {window_slots}")
    if window_count < 1:
        raise ValueError(f"window_count must be >= 1, got {window_count}")
    if not 0.0 < dec_time_share <= 1.0:
        raise ValueError(f"dec_time_share must be in (0, 1], got {dec_time_share}")
    limit = np.inf if time_limit is None else float(time_limit)
    t0 = time.perf_counter()
    ok, msg = problem.feasibility()
    if not ok:
        return infeasible_result(problem, msg, "lagrangian", time.perf_counter() - t0)
    cost_t, req_t = terminal_arrays(problem, terminal_cost, terminal_req)
    S, K = problem.S, problem.K  # noqa: N806

    # --- initial primal and prices
    C = problem.C  # noqa: N806
    if isinstance(init, str):
        if init == "insertion":
            order = np.argsort(-problem.D.sum(axis=1), kind="stable")
            path0, _, _ = local_search(problem, -1, max_passes=1, cost_t=cost_t, req_t=req_t, order=order)
        elif init == "separable":
            path0, _, _ = dp_paths(problem, problem.sep_value, terminal_cost=cost_t, terminal_req=req_t)
        else:
            raise ValueError(f"init must be 'insertion', 'separable' or an array, got {init!r}")
    else:
        path0 = problem.l_from_assoc(np.asarray(init))
        if path0.shape != (C, K) or np.any(path0 < 0):
            raise ValueError("init must be an association (C, K) of candidate satellites")
    if np.any(path0[:, 0] < 0):
        c = int(np.nonzero(path0[:, 0] < 0)[0][0])
        return infeasible_result(problem, f"cell {c} has no feasible path within its budget", "lagrangian",
                                 time.perf_counter() - t0)
    best_path = path0
    best_primal = _primal_value(problem, path0, cost_t)
    usable = np.zeros((S, K), bool)
    cc, ll, kk = np.nonzero(problem.vis & (problem.w > 0) & np.isfinite(problem.w))
    usable[problem.cand[cc, ll], kk] = True
    if price_init == "waterfill":
        _, _, pi = _proxy.coupled_allocation(path0, problem.cand, problem.w, problem.eps, S)
        pi = np.where(usable, pi, 0.0)
    elif price_init == "zero":
        pi = np.zeros((S, K))
    else:
        raise ValueError(f"price_init must be 'zero' or 'waterfill', got {price_init!r}")

    best_bound = np.inf
    best_pi = pi.copy()
    theta = theta0
    history: list[tuple[float, float]] = []
    it = 0
    cg: dict[str, Any] | None = None
    dec: dict[str, Any] | None = None
    pool = None
    if dual != "colgen":
        since = 0
        for it in range(1, max_iter + 1):  # noqa: B007
            val, path, usage = dual_value(problem, pi, cost_t, req_t)
            if val < best_bound - 1e-12:
                best_bound = val
                best_pi = pi.copy()
                since = 0
            else:
                since += 1
                if since >= patience:
                    theta *= 0.5
                    since = 0
            if np.all(path[:, 0] >= 0):
                pv = _primal_value(problem, path, cost_t)
                if pv > best_primal:
                    best_primal, best_path = pv, path
            if record:
                history.append((val, best_primal))
            if relative_gap(best_bound, best_primal) <= gap_tol or theta < theta_min:
                break
            if time_limit is not None and time.perf_counter() - t0 > dual_share * limit:
                break
            g = np.where(usable, 1.0 - usage, 0.0)
            g = np.where((pi <= 0) & (g > 0), 0.0, g)
            nrm = float((g * g).sum())
            if nrm <= 1e-18:
                break  # pi is optimal for the relaxation
            step = theta * max(val - best_primal, 1e-9 * max(1.0, abs(val))) / nrm
            pi = np.maximum(0.0, pi - step * g)
    sub_iters = it
    t_sub = time.perf_counter() - t0
    round_pi = best_pi  # prices of the price-guided rounds (the subgradient's when it ran)
    # price-and-branch and the strengthened relaxations need the columns: CG runs above gap_tol
    min_gap = gap_tol if (primal == "price_and_branch" or relaxation != "dw") else max(gap_tol, cg_min_gap)
    if dual == "colgen" or (dual == "both" and relative_gap(best_bound, best_primal) > min_gap):
        from oracles.p2 import colgen as _cg

        pool = _cg.ColumnPool(problem)
        _, y0, _ = _proxy.coupled_allocation(path0, problem.cand, problem.w, problem.eps, S)
        pool.add(path0, np.where(np.isnan(y0), 0.0, y0))
        if dual == "both":
            # seed with the best association and the DP paths at the subgradient's best prices
            _, yb, _ = _proxy.coupled_allocation(best_path, problem.cand, problem.w, problem.eps, S)
            pool.add(best_path, np.where(np.isnan(yb), 0.0, yb))
            phi_b, ys_b = _dual_values(np.ascontiguousarray(best_pi), problem.cand, np.ascontiguousarray(problem.w),
                                       np.ascontiguousarray(problem.vis), float(problem.eps))
            pb, _, _ = dp_paths(problem, phi_b)
            ok_c = np.nonzero(pb[:, 0] >= 0)[0]
            pool.add(pb, ys_b[np.arange(C)[:, None], np.maximum(pb, 0), np.arange(K)[None, :]], ok_c)
        best_seen: list[float] = [best_primal]
        path_seen: list[np.ndarray] = [best_path]

        def _on_path(path: np.ndarray) -> float:
            pv = _primal_value(problem, path, cost_t)
            if pv > best_seen[0]:
                best_seen[0], path_seen[0] = pv, path
            return best_seen[0]

        remaining = max(0.0, dual_share * limit - (time.perf_counter() - t0))
        if dual == "both" and time_limit is not None:  # no clock in the default: reproducible
            remaining = min(remaining, cg_time_share * t_sub)
        cg = _cg.column_generation(problem, pool, max_rounds=cg_rounds, time_limit=remaining,
                                   on_path=_on_path, gap_tol=gap_tol)
        if float(cg["bound"]) < best_bound:
            best_bound, best_pi = float(cg["bound"]), cg["pi"]
        if dual == "colgen":
            round_pi = best_pi
        best_primal, best_path = best_seen[0], path_seen[0]
        it = sub_iters + int(cg["rounds"])
        if relaxation != "dw" and dec_rounds > 0 and relative_gap(best_bound, best_primal) > gap_tol:
            from oracles.p2 import decomp as _dec

            _, yb, _ = _proxy.coupled_allocation(best_path, problem.cand, problem.w, problem.eps, S)
            pool.add(best_path, np.where(np.isnan(yb), 0.0, yb))
            left = np.inf if time_limit is None else dec_time_share * max(0.0, limit - (time.perf_counter() - t0))
            if relaxation == "window":
                from oracles.p2.window_bound import best_window_bound

                dec = best_window_bound(problem, best_pi, time_limit=max(1.0, min(left, 600.0)),
                                        slots=window_slots, count=window_count,
                                        start=problem.assoc_from_l(best_path))
            elif relaxation == "decomposition":
                dec = _dec.decomposition_bound(problem, pool, best_path, max_rounds=dec_rounds, time_limit=left,
                                               on_path=_on_path, gap_tol=gap_tol)
            else:
                dec = _dec.hull_cut_bound(problem, pool, max_rounds=dec_rounds, time_limit=left,
                                          sep_time=max(1.0, 0.5 * left), on_path=_on_path, gap_tol=gap_tol)
            if float(dec["bound"]) < best_bound:
                best_bound = float(dec["bound"])
            best_primal, best_path = best_seen[0], path_seen[0]
            it += int(dec["rounds"])
        if record:
            history.append((best_bound, best_primal))
    dual_iters = it
    t_dual = time.perf_counter() - t0

    moves = passes = 0
    starts = [best_path]
    if price_guided and relative_gap(best_bound, best_primal) > gap_tol:
        # greedy insertion charged with the best prices (capacity wanted by later cells)
        order = np.argsort(-problem.D.sum(axis=1), kind="stable")
        ins, _, _ = local_search(problem, -1, max_passes=1, cost_t=cost_t, req_t=req_t,
                                 order=order, price=round_pi)
        starts.append(ins)
    for start in starts:
        cand_path = start
        if local_search_passes > 0:
            for spread in ((spread_tiebreak, 0.0) if spread_tiebreak > 0 else (0.0,)):
                cand_path, m_, p_ = local_search(
                    problem, cand_path, max_passes=local_search_passes, cost_t=cost_t,
                    req_t=req_t, spread=spread,
                )
                moves += m_
                passes += p_
        pv = _primal_value(problem, cand_path, cost_t)
        if pv > best_primal:
            best_primal, best_path = pv, cand_path
    rounds = 0
    if local_search_passes > 0 and np.any(round_pi > 0):
        # price-guided perturbation: leave contested pools, then polish on the true objective
        rng = np.random.default_rng(seed)
        stall = 0
        t_round = 0.0
        for r in range(price_rounds):
            t_start = time.perf_counter()
            if (stall >= price_patience or relative_gap(best_bound, best_primal) <= gap_tol
                    or (time_limit is not None and t_start - t0 + t_round > limit)):
                break
            noise = 1.0 if r == 0 else np.exp(rng.normal(0.0, price_noise, round_pi.shape))
            cand_path, m_, p_ = local_search(
                problem, best_path, max_passes=local_search_passes, cost_t=cost_t, req_t=req_t,
                price=noise * round_pi, charge_placed=True,
            )
            cand_path, m2, p2 = local_search(
                problem, cand_path, max_passes=local_search_passes, cost_t=cost_t, req_t=req_t,
            )
            rounds += 1
            moves += m_ + m2
            passes += p_ + p2
            pv = _primal_value(problem, cand_path, cost_t)
            if pv > best_primal + 1e-9:
                best_primal, best_path = pv, cand_path
                stall = 0
            else:
                stall += 1
            t_round = time.perf_counter() - t_start
    pb_info: dict[str, Any] = {}
    if primal == "price_and_branch" and pool is not None and cg is not None \
            and relative_gap(best_bound, best_primal) > gap_tol:
        from oracles.p2 import colgen as _cg

        x_lp = cg["x_lp"]
        support = [(pool.cell[j], pool.path[j]) for j in range(min(len(x_lp), len(pool))) if x_lp[j] > 1e-9]
        support += [(c, best_path[c]) for c in range(C)]
        n_det = _cg.detour_columns(problem, pool, best_pi, support)
        left = limit - (time.perf_counter() - t0)
        pb_path, pb_obj, pb_info = _cg.lns(
            problem, pool, best_path, best_pi, rounds=pb_rounds, cells=pb_cells, sub_time=pb_sub_time,
            time_limit=left, seed=seed,
        )
        pb_info["detour_columns"] = n_det
        if pb_obj > best_primal + 1e-9:
            pb_path, m_, p_ = local_search(problem, pb_path, max_passes=local_search_passes)
            moves += m_
            passes += p_
            pv = _primal_value(problem, pb_path, cost_t)
            if pv > best_primal:
                best_primal, best_path = pv, pb_path
    dive: dict[str, Any] | None = None
    if primal == "dive" and pool is not None and relative_gap(best_bound, best_primal) > max(gap_tol, cg_min_gap):
        from oracles.p2 import bnp as _bnp

        left = np.inf if time_limit is None else max(0.0, limit - (time.perf_counter() - t0))

        def _polish(path: np.ndarray) -> np.ndarray:
            return local_search(problem, path, max_passes=local_search_passes)[0]

        seen_d: list[Any] = [best_primal, best_path]

        def _on_dive_path(path: np.ndarray) -> float:
            pv = _primal_value(problem, path, cost_t)
            if pv > seen_d[0]:
                seen_d[0], seen_d[1] = pv, path.copy()
            return float(seen_d[0])

        t_cd = time.perf_counter()
        cdive = _bnp.column_dive(problem, pool, time_limit=dive_share * left, cg_rounds=cg_rounds,
                                 on_path=_on_dive_path, polish=_polish)
        left = max(0.0, left - (time.perf_counter() - t_cd))
        dive = _bnp.branch_and_price(problem, seen_d[1], float(seen_d[0]), time_limit=left, node_limit=dive_nodes,
                                     cg_rounds=cg_rounds, seed_pool=pool, polish=_polish, strategy="dive",
                                     gap_tol=gap_tol)
        dive["column_dive"] = cdive
        if dive["value"] > best_primal:
            best_primal, best_path = float(dive["value"]), dive["path"]
        best_bound = min(best_bound, float(dive["bound"]))
    elapsed = time.perf_counter() - t0
    gap = relative_gap(best_bound, best_primal)
    status = "optimal" if gap <= gap_tol else "feasible"
    info: dict[str, Any] = {
        "iterations": dual_iters, "dual_time_s": t_dual, "local_search_moves": int(moves),
        "local_search_passes": int(passes), "theta_final": theta, "price_rounds": rounds,
        "dual": dual, "primal": primal,
    }
    if dec is not None:
        info.update({"relaxation": relaxation, "dec_rounds": int(dec["rounds"]), "dec_bound": float(dec["bound"]),
                     "dec_converged": bool(dec["converged"]), "dec_time_s": float(dec["time_s"]),
                     "dec_windows": dec.get("windows", []),
                     "dec_cuts_or_links": int(dec.get("cuts", dec.get("links", 0)))})
    if cg is not None:
        info.update({"cg_rounds": int(cg["rounds"]), "cg_converged": bool(cg["converged"]),
                     "cg_lp_value": float(cg["lp_value"]), "columns": len(pool) if pool is not None else 0})
    if dive is not None:
        info.update({"dive_nodes": int(dive["nodes"]), "dive_open": int(dive["open"]),
                     "dive_proved": bool(dive["proved"]), "dive_time_s": float(dive["time_s"]),
                     "dive_bound": float(dive["bound"]), "dive_improvements": len(dive["history"]),
                     "column_dive_steps": int(dive["column_dive"]["steps"]),
                     "column_dive_time_s": float(dive["column_dive"]["time_s"]),
                     "column_dive_status": str(dive["column_dive"]["status"])})
    for key, val in pb_info.items():
        info[f"pb_{key}"] = val
    if record:
        info["history"] = history
        info["pi"] = best_pi
    windowed = terminal_cost is not None
    if windowed:
        # bound and gap refer to objective minus terminal cost (what the window optimises)
        info["window_bound"] = best_bound
        info["window_gap"] = gap
    res = make_result(
        problem, best_path, status=status, method="lagrangian", solve_time_s=elapsed,
        bound=None if windowed else best_bound, info=info,
        message=f"{status}: certified gap {gap:.3g} after {dual_iters} {'pricing rounds' if dual == 'colgen' else 'dual iterations'}",
    )
    return res if windowed else replace(res, gap=gap)
