"""Window bound for P2 (coupled proxy): the pools of a few slots exact, the others priced.

The Dantzig-Wolfe bound ``L(pi)`` (:mod:`oracles.p2.colgen`) relaxes *every* pool with a
price.  This bound keeps the pools of a window of consecutive slots ``k0 .. k1`` as hard
constraints and prices only the others::

    W(pi) = sum_{s, k outside the window} pi[s, k]
            + max over associations of  sum_c [ pre_c(l at k0) + window_c + suf_c(l at k1) ]

where ``pre_c(l)`` is the best priced value (the closed-form per-slot values
``phi(pi, w)`` of the Lagrangian DP and ``-lambda_h`` per switch) of slots ``0 .. k0-1``
followed by a switch into ``l`` at ``k0`` if the prefix ended elsewhere, ``suf_c(l)`` the same
for slots ``k1+1 .. K-1`` starting from ``l`` in slot ``k1``, and the window part is the
coupled MILP of :mod:`oracles.p2.milp` on the window's slots (shares, pool rows, handovers
inside the window, tangent envelope of the log).  Every cell's path outside the window is
priced exactly as in ``L(pi)``; the cells interact only through the window's pools, which
the MILP keeps integral.

Validity: for any feasible association, the utility of a slot outside the window is at most
``sum_c phi + sum_s pi`` (the water-filling shares fill each pool at most once), the window's
utility is at most the envelope's, and every handover is charged once; the per-cell budgets
are *dropped* (a relaxation).  HiGHS's dual bound on the window MILP is therefore a valid
upper bound on the coupled optimum for any ``pi >= 0`` and any window, whether or not HiGHS
finishes.  It is no larger than ``L(pi)`` up to the envelope's over-estimate (at most
``cut_error_bound`` per cell-slot of the window) and the dropped budgets.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from oracles.p2.colgen import _new_highs
from oracles.p2.dp import _dual_values
from oracles.p2.logpwl import cut_error_bound
from oracles.p2.milp import _build, _wall_clock_guard, _warm_vector
from oracles.p2.problem import Problem

__all__ = ["best_window_bound", "priced_ends", "unbudgeted_dual_value", "window_bound"]


def _check_pi(problem: Problem, pi: np.ndarray) -> np.ndarray:
    pi = np.asarray(pi, dtype=float)
    if pi.shape != (problem.S, problem.K):
        raise ValueError(f"pi must have shape (S, K) = ({problem.S}, {problem.K}), got {pi.shape}")
    if not np.all(np.isfinite(pi)) or np.any(pi < 0):
        raise ValueError("pi must be finite and >= 0 (pool prices)")
    return np.ascontiguousarray(pi)


def _switch0(problem: Problem) -> np.ndarray:
    """(C, L) handover cost of holding candidate ``l`` in slot 0 (a switch from ``initial``)."""
    init = problem.init_l
    L = problem.L  # noqa: N806
    sw = (init[:, None] != -1) & (np.arange(L)[None, :] != init[:, None])
    return problem.lambda_h * sw


def priced_ends(problem: Problem, phi: np.ndarray, k0: int, k1: int) -> tuple[np.ndarray, np.ndarray]:
    """Best priced prefix / suffix values around the window ``k0 .. k1`` (no budget).

    Parameters
    ----------
    problem : Problem
        Coupled-proxy instance.
    phi : ndarray, shape (C, L, K)
        Per-slot values (``-inf`` where not visible), e.g. from the Lagrangian DP's closed form.
    k0, k1 : int
        First and last slot of the window, ``0 <= k0 <= k1 < K``.

    Returns
    -------
    pre, suf : ndarray, shape (C, L)
        ``pre[c, l]``: best value of slots ``0 .. k0-1`` plus the switch cost into ``l`` at
        ``k0`` (for ``k0 = 0``: minus the switch from ``initial``); ``suf[c, l]``: best value
        of slots ``k1+1 .. K-1`` including the switch away from ``l`` (0 for ``k1 = K-1``).
        ``-inf`` where no path exists.
    """
    C, L, K = phi.shape  # noqa: N806
    lam = problem.lambda_h
    if k0 == 0:
        pre = -_switch0(problem)
    else:
        f = phi[:, :, 0] - _switch0(problem)
        for k in range(1, k0):
            m = f.max(axis=1, keepdims=True)
            f = phi[:, :, k] + np.maximum(f, m - lam)
        pre = np.maximum(f, f.max(axis=1, keepdims=True) - lam)
    if k1 == K - 1:
        suf = np.zeros((C, L))
    else:
        g = phi[:, :, K - 1].copy()
        for k in range(K - 2, k1, -1):
            m = g.max(axis=1, keepdims=True)
            g = phi[:, :, k] + np.maximum(g, m - lam)
        suf = np.maximum(g, g.max(axis=1, keepdims=True) - lam)
    return pre, suf


def unbudgeted_dual_value(problem: Problem, pi: np.ndarray) -> float:
    """``L(pi)`` with the handover budgets dropped (a weaker bound than the Lagrangian DP's)."""
    pi = _check_pi(problem, pi)
    phi, _ = _dual_values(pi, problem.cand, np.ascontiguousarray(problem.w),
                          np.ascontiguousarray(problem.vis), float(problem.eps))
    pre, suf = priced_ends(problem, phi, 0, 0)
    v = (pre + phi[:, :, 0] + suf).max(axis=1)
    return float(pi.sum() + v.sum())


def window_bound(
    problem: Problem,
    pi: np.ndarray,
    k0: int,
    k1: int,
    *,
    time_limit: float = 60.0,
    n_cuts: int = 96,
    threads: int | None = 1,
    mip_rel_gap: float = 1e-6,
    highs_options: dict[str, Any] | None = None,
    start: np.ndarray | None = None,
) -> dict[str, Any]:
    """Upper bound on the coupled optimum with the pools of slots ``k0 .. k1`` kept exact.

    Parameters
    ----------
    problem : Problem
        Coupled-proxy instance.
    pi : ndarray, shape (S, K)
        Pool prices ``>= 0`` for the slots outside the window (entries inside are ignored).
    k0, k1 : int
        First and last slot of the window, ``0 <= k0 <= k1 < K``.
    time_limit : float
        HiGHS wall-clock limit [s]; the dual bound is valid when HiGHS stops early.
    n_cuts : int
        Tangents of the log envelope (over-estimate ``cut_error_bound(n_cuts, eps)`` per
        cell-slot of the window).
    threads : int or None
        HiGHS threads (process-global in HiGHS).
    mip_rel_gap : float
        HiGHS relative MIP gap at which it stops.
    highs_options : dict, optional
        Further HiGHS options.
    start : ndarray of int, shape (C, K), optional
        An association (satellite indices) whose window part warm-starts HiGHS (an incumbent
        helps it prune; the bound does not depend on it otherwise).

    Returns
    -------
    dict
        ``bound`` (valid upper bound), ``priced`` (the sum of the prices outside the window),
        ``milp_bound`` / ``milp_value`` (HiGHS's dual bound and incumbent on the window MILP),
        ``status``, ``nodes``, ``binaries``, ``envelope_error`` (worst-case over-estimate of the
        window's log terms) and ``time_s``.
    """
    import highspy

    t0 = time.perf_counter()
    if problem.proxy != "coupled":
        raise ValueError(f"problem.proxy must be 'coupled' for the window bound, got {problem.proxy!r}")
    K = problem.K  # noqa: N806
    if not (isinstance(k0, (int, np.integer)) and isinstance(k1, (int, np.integer)) and 0 <= k0 <= k1 < K):
        raise ValueError(f"k0, k1 must be integers with 0 <= k0 <= k1 < K = {K}, got ({k0}, {k1})")
    if not np.isfinite(time_limit) or time_limit <= 0:
        raise ValueError(f"time_limit must be a finite number > 0 [s], got {time_limit}")
    if int(n_cuts) < 2:
        raise ValueError(f"n_cuts must be >= 2, got {n_cuts}")
    pi = _check_pi(problem, pi)
    phi, _ = _dual_values(pi, problem.cand, np.ascontiguousarray(problem.w),
                          np.ascontiguousarray(problem.vis), float(problem.eps))
    pre, suf = priced_ends(problem, phi, int(k0), int(k1))
    S, C = problem.S, problem.C  # noqa: N806
    # ends in the satellite view (the window problem has its own candidate view)
    safe = np.maximum(problem.cand, 0)
    pre_d = np.full((S, C), -np.inf)
    suf_d = np.full((S, C), -np.inf)
    cc, ll = np.nonzero(problem.cand >= 0)
    pre_d[safe[cc, ll], cc] = pre[cc, ll]
    suf_d[safe[cc, ll], cc] = suf[cc, ll]
    initial = problem.initial if k0 == 0 else np.full(C, -1, np.int64)
    win = problem.window(int(k0), int(k1) + 1, initial=initial, budget_left=problem.H)
    # no budget: a window of few slots never binds on H >= its length, else relax it
    nk = int(k1) - int(k0) + 1
    if np.any(win.budget < nk):
        win = win.replace(H=np.full(C, nk), budget_left=np.full(C, nk))
    wcand = win.cand
    wsafe = np.maximum(wcand, 0)
    pre_w = np.where(wcand >= 0, pre_d[wsafe, np.arange(C)[:, None]], -np.inf)
    suf_w = np.where(wcand >= 0, suf_d[wsafe, np.arange(C)[:, None]], -np.inf)
    if k0 == 0:
        pre_w = np.zeros_like(pre_w)  # the window problem charges the switch from initial itself
    lp, model = _build(win, int(n_cuts), "exact", "segments", np.zeros((C, win.L)),
                       np.zeros((C, win.L), np.int64))
    pc, pl, pk = model.pairs
    cost = np.asarray(lp.col_cost_, dtype=float).copy()
    hi = np.asarray(lp.col_upper_, dtype=float).copy()
    first = pk == 0
    last = pk == nk - 1
    add = np.zeros(pc.size)
    add[first] += pre_w[pc[first], pl[first]]
    add[last] += suf_w[pc[last], pl[last]]
    dead = ~np.isfinite(add)  # arcs that no whole path extends: hidden
    if np.any(dead):
        hi[: pc.size][dead] = 0.0
        add[dead] = 0.0
    cost[: pc.size] += add
    lp.col_cost_ = cost
    lp.col_upper_ = hi
    h = _new_highs(threads)
    for key, val in {"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap), **(highs_options or {})}.items():
        h.setOptionValue(key, val)
    h.passModel(lp)
    if start is not None:
        assoc = np.asarray(start, dtype=np.int64)
        if assoc.shape != (C, K):
            raise ValueError(f"start must have shape (C, K) = ({C}, {K}), got {assoc.shape}")
        wpath = win.l_from_assoc(assoc[:, int(k0):int(k1) + 1])
        col = _warm_vector(win, model, wpath)
        col[: pc.size] = np.where(hi[: pc.size] > 0, col[: pc.size], 0.0)
        sol = highspy.HighsSolution()
        sol.col_value = list(col)
        sol.value_valid = True
        h.setSolution(sol)
    _wall_clock_guard(h, float(time_limit))
    h.run()
    info = h.getInfo()
    mstat = h.getModelStatus()
    priced = float(pi.sum() - pi[:, int(k0):int(k1) + 1].sum())
    milp_bound = float(info.mip_dual_bound)
    if mstat == highspy.HighsModelStatus.kInfeasible:
        milp_bound = -np.inf
    return {
        "bound": priced + milp_bound,
        "priced": priced,
        "milp_bound": milp_bound,
        "milp_value": float(info.objective_function_value),
        "status": h.modelStatusToString(mstat),
        "nodes": int(info.mip_node_count),
        "binaries": int(pc.size),
        "envelope_error": cut_error_bound(float(problem.eps), int(n_cuts)) * C * nk,
        "time_s": time.perf_counter() - t0,
    }


def best_window_bound(
    problem: Problem,
    pi: np.ndarray,
    *,
    time_limit: float = 120.0,
    slots: int = 1,
    count: int = 1,
    start: np.ndarray | None = None,
    threads: int | None = 1,
) -> dict[str, Any]:
    """Window bounds on the ``count`` windows of ``slots`` slots with the largest price mass.

    The windows do not overlap and share ``time_limit`` [s] equally.  Bounds of different
    windows do not add up (each prices all the other slots), so the result is the smallest.

    Returns
    -------
    dict
        ``bound`` (the smallest window bound, ``inf`` if none ran), ``windows`` (per window:
        ``k0``, ``k1``, ``bound``, ``status``, ``time_s``), ``rounds`` (windows solved),
        ``converged`` (every window MILP solved to optimality) and ``time_s``.
    """
    t0 = time.perf_counter()
    pi = _check_pi(problem, pi)
    K = problem.K  # noqa: N806
    if not 1 <= int(slots) <= K:
        raise ValueError(f"slots must be in [1, K = {K}], got {slots}")
    if int(count) < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if not time_limit > 0:
        raise ValueError(f"time_limit must be > 0 [s], got {time_limit}")
    mass = np.convolve(pi.sum(axis=0), np.ones(int(slots)), mode="valid")  # per first slot
    taken = np.zeros(K, bool)
    chosen: list[int] = []
    for k0 in np.argsort(-mass, kind="stable"):
        if len(chosen) == int(count) or mass[k0] <= 0.0:
            break
        if not taken[k0:k0 + int(slots)].any():
            chosen.append(int(k0))
            taken[k0:k0 + int(slots)] = True
    best = np.inf
    out: list[dict[str, Any]] = []
    each = float(time_limit) / max(1, len(chosen))
    for k0 in chosen:
        r = window_bound(problem, pi, k0, k0 + int(slots) - 1, time_limit=max(1.0, each), start=start,
                         threads=threads)
        best = min(best, float(r["bound"]))
        out.append({"k0": k0, "k1": k0 + int(slots) - 1, "bound": float(r["bound"]), "status": r["status"],
                    "time_s": float(r["time_s"])})
    return {"bound": best, "windows": out, "rounds": len(out),
            "converged": bool(out) and all(w["status"] == "Optimal" for w in out),
            "time_s": time.perf_counter() - t0}
