"""Exact per-cell dynamic programming over (slot, satellite, handovers used).

With the separable proxy cells do not interact, so the P2 optimum is the union of per-cell
optima.  For one cell with per-slot values ``u[l, k]`` (``l`` a candidate satellite) the
value of ending slot ``k`` on ``l`` having spent exactly ``j`` handovers is::

    V_k[l, j] = u[l, k] + max( V_{k-1}[l, j],                       # stay
                               max_{l' != l} V_{k-1}[l', j-1] - lambda_h )   # switch

The inner maximum over ``l' != l`` comes from the best and second-best entries of
``V_{k-1}[:, j-1]``, so a cell costs ``O(K L B)`` with ``B = min(budget, K)``.  The kernel is
compiled with numba and loops over cells; the same kernel serves the Lagrangian method (with
priced per-slot values) and the rolling window (with a terminal reserve and a terminal cost).
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from oracles.p2.problem import Problem
from oracles.p2.result import P2Result, infeasible_result, make_result

__all__ = ["solve_dp", "dp_paths", "terminal_arrays"]

_BIG = np.iinfo(np.int64).max // 4


@njit(cache=True)
def _dp_kernel(
    val: np.ndarray,
    vis: np.ndarray,
    budget: np.ndarray,
    init_l: np.ndarray,
    lam: float,
    term_cost: np.ndarray,
    term_req: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    C, L, K = val.shape  # noqa: N806
    path = np.full((C, K), -1, np.int64)
    best = np.full(C, -np.inf)
    used = np.zeros(C, np.int64)
    lst_prev = np.empty(L, np.int64)
    lst_cur = np.empty(L, np.int64)
    pos_prev = np.full(L, -1, np.int64)
    for c in range(C):
        bc = budget[c]
        nb = min(bc, K) + 1
        V = np.full((L, nb), -np.inf)  # noqa: N806 - rows by position in the visible list
        W = np.full((L, nb), -np.inf)  # noqa: N806
        back = np.empty((K, L, nb), np.int32)  # written for every visible (k, l, j)
        top1 = np.empty(nb)
        top2 = np.empty(nb)
        arg1 = np.empty(nb, np.int64)
        arg2 = np.empty(nb, np.int64)
        il = init_l[c]
        n_prev = 0
        for li in range(L):
            if vis[c, li, 0]:
                lst_prev[n_prev] = li
                for j in range(nb):
                    V[n_prev, j] = -np.inf
                if il == -1 or il == li:
                    V[n_prev, 0] = val[c, li, 0]
                elif nb > 1:
                    V[n_prev, 1] = val[c, li, 0] - lam
                n_prev += 1
        for k in range(1, K):
            for i in range(n_prev):
                pos_prev[lst_prev[i]] = i
            for j in range(nb):
                t1 = -np.inf
                t2 = -np.inf
                a1 = -1
                a2 = -1
                for i in range(n_prev):
                    x = V[i, j]
                    if x > t1:
                        t2 = t1
                        a2 = a1
                        t1 = x
                        a1 = lst_prev[i]
                    elif x > t2:
                        t2 = x
                        a2 = lst_prev[i]
                top1[j] = t1
                top2[j] = t2
                arg1[j] = a1
                arg2[j] = a2
            n_cur = 0
            for li in range(L):
                if not vis[c, li, k]:
                    continue
                lst_cur[n_cur] = li
                vk = val[c, li, k]
                ip = pos_prev[li]
                for j in range(nb):
                    stay = V[ip, j] if ip >= 0 else -np.inf
                    sw = -np.inf
                    src = -1
                    if j >= 1:
                        if arg1[j - 1] != li:
                            sw = top1[j - 1] - lam
                            src = arg1[j - 1]
                        else:
                            sw = top2[j - 1] - lam
                            src = arg2[j - 1]
                    if sw > stay:
                        W[n_cur, j] = sw + vk
                        back[k, li, j] = src
                    else:
                        W[n_cur, j] = stay + vk
                        back[k, li, j] = -1
                n_cur += 1
            for i in range(n_prev):
                pos_prev[lst_prev[i]] = -1
            V, W = W, V  # noqa: N806
            lst_prev, lst_cur = lst_cur, lst_prev
            n_prev = n_cur
        bv = -np.inf
        bl = -1
        bj = -1
        for i in range(n_prev):
            li = lst_prev[i]
            for j in range(nb):
                if j + term_req[c, li] <= bc:
                    x = V[i, j] - term_cost[c, li]
                    if x > bv:
                        bv = x
                        bl = li
                        bj = j
        if bl < 0:
            continue
        best[c] = bv
        used[c] = bj
        li = bl
        j = bj
        for k in range(K - 1, 0, -1):
            path[c, k] = li
            src = back[k, li, j]
            if src >= 0:
                li = src
                j -= 1
        path[c, 0] = li
    return path, best, used


def terminal_arrays(
    problem: Problem,
    terminal_cost: np.ndarray | None = None,
    terminal_req: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Dense (S, C) terminal cost / reserve -> candidate view (C, L); zeros when None."""
    C, L = problem.C, problem.L  # noqa: N806
    cost = np.zeros((C, L)) if terminal_cost is None else problem.gather(np.asarray(terminal_cost, float))
    if terminal_req is None:
        req = np.zeros((C, L), np.int64)
    else:
        req = problem.gather(np.asarray(terminal_req, np.int64), fill=_BIG).astype(np.int64)
    return np.ascontiguousarray(cost, dtype=float), np.ascontiguousarray(req)


def dp_paths(
    problem: Problem,
    values: np.ndarray,
    *,
    budget: np.ndarray | None = None,
    terminal_cost: np.ndarray | None = None,
    terminal_req: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best path per cell for per-slot values on the candidate view.

    Parameters
    ----------
    problem : Problem
        Supplies visibility, initial association, handover price and budgets.
    values : ndarray, shape (C, L, K)
        Value of cell ``c`` being on candidate ``l`` in slot ``k`` (ignored where invisible).
    budget : ndarray of int, shape (C,), optional
        Handovers allowed (default ``problem.budget``).
    terminal_cost, terminal_req : ndarray, shape (C, L), optional
        Cost subtracted for ending on ``l``, and handovers that must remain after the horizon
        when ending on ``l`` (``j + req <= budget``).

    Returns
    -------
    path_l : ndarray of int, shape (C, K)
        Candidate index per slot (``-1`` rows for cells without a feasible path).
    value : ndarray, shape (C,)
        Best value per cell (``-inf`` if infeasible).
    used : ndarray of int, shape (C,)
        Handovers spent.
    """
    C, L = problem.C, problem.L  # noqa: N806
    cost = np.zeros((C, L)) if terminal_cost is None else terminal_cost
    req = np.zeros((C, L), np.int64) if terminal_req is None else terminal_req
    return _dp_kernel(
        np.ascontiguousarray(values, dtype=float),
        np.ascontiguousarray(problem.vis),
        np.ascontiguousarray(problem.budget if budget is None else budget, dtype=np.int64),
        np.ascontiguousarray(problem.init_l),
        float(problem.lambda_h),
        np.ascontiguousarray(cost, dtype=float),
        np.ascontiguousarray(req, dtype=np.int64),
    )


def solve_dp(
    problem: Problem,
    *,
    terminal_cost: np.ndarray | None = None,
    terminal_req: np.ndarray | None = None,
) -> P2Result:
    """Exact optimum of P2 under the separable proxy by per-cell dynamic programming.

    Parameters
    ----------
    problem : Problem
        Must use ``proxy="separable"`` (coupled cells interact: use ``"lagrangian"``).
    terminal_cost, terminal_req : ndarray, shape (S, C), optional
        Used by the rolling window: a cost for ending on each satellite, and the handovers that
        must remain after the last slot when ending on it.

    Returns
    -------
    P2Result
        ``status="optimal"``; ``info["dp_value"]`` is the DP's own objective (including any
        terminal cost).
    """
    if problem.proxy != "separable":
        raise ValueError("method 'dp' is exact only for proxy='separable'; use 'lagrangian' for 'coupled'")
    t0 = time.perf_counter()
    ok, msg = problem.feasibility()
    if not ok:
        return infeasible_result(problem, msg, "dp", time.perf_counter() - t0)
    cost, req = terminal_arrays(problem, terminal_cost, terminal_req)
    path, value, _ = dp_paths(problem, problem.sep_value, terminal_cost=cost, terminal_req=req)
    if np.any(path[:, 0] < 0):
        c = int(np.nonzero(path[:, 0] < 0)[0][0])
        return infeasible_result(
            problem, f"cell {c} has no path that keeps the terminal reserve within its budget "
            f"{problem.budget[c]}", "dp", time.perf_counter() - t0,
        )
    elapsed = time.perf_counter() - t0
    return make_result(
        problem, path, status="optimal", method="dp", solve_time_s=elapsed,
        message="optimal (exact per-cell DP)", info={"dp_value": float(value.sum())},
    )


_UNIT = np.ones((1, 1, 1))
_NIL = np.zeros((1, 1, 1))


@njit(cache=True)
def _slot_values(
    pi: np.ndarray, cand: np.ndarray, w: np.ndarray, vis: np.ndarray, eps: float,
    omega: np.ndarray, beta: np.ndarray, weighted: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-slot values ``max_y omega log(eps + y / w) - pi y + beta`` and their maximisers.

    One kernel for the Lagrangian DP (``weighted=False``: ``omega = 1``, ``beta = 0``; the
    ``omega`` / ``beta`` arrays are then not read and may be ``(1, 1, 1)`` placeholders) and the
    pool-cut pricing of :mod:`oracles.p2.decomp` (``weighted=True``: (C, L, K) arrays).
    ``y* = clip(omega / pi - eps w, 0, min(1, w))`` (``min(1, w)`` at ``pi = 0``, 0 for
    ``omega <= 0``); ``-inf`` where not visible, ``beta`` for ``w = 0``, ``omega log(eps) + beta``
    for ``w = inf``.
    """
    C, L, K = w.shape  # noqa: N806
    phi = np.full((C, L, K), -np.inf)
    ys = np.zeros((C, L, K))
    log_eps = np.log(eps)
    for c in range(C):
        for li in range(L):
            s = cand[c, li]
            if s < 0:
                continue
            for k in range(K):
                if not vis[c, li, k]:
                    continue
                wc = w[c, li, k]
                om = omega[c, li, k] if weighted else 1.0
                b = beta[c, li, k] if weighted else 0.0
                if wc == 0.0:
                    phi[c, li, k] = b
                    continue
                if wc == np.inf:
                    phi[c, li, k] = om * log_eps + b
                    continue
                p = pi[s, k]
                cap = wc if wc < 1.0 else 1.0
                if om <= 0.0:
                    y = 0.0
                elif p > 0.0:
                    y = om / p - eps * wc
                    y = 0.0 if y < 0.0 else (cap if y > cap else y)
                else:
                    y = cap
                ys[c, li, k] = y
                if weighted:
                    phi[c, li, k] = om * np.log(eps + y / wc) - p * y + b
                else:
                    phi[c, li, k] = np.log(eps + y / wc) - p * y
    return phi, ys


def _dual_values(
    pi: np.ndarray, cand: np.ndarray, w: np.ndarray, vis: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form per-slot values and shares on the candidate view (see :func:`dual_slot_value`)."""
    return _slot_values(pi, cand, w, vis, eps, _UNIT, _NIL, False)
