"""Rolling-window P2: solve ``window`` slots, commit ``step``, carry association and budget.

Window ``[k0, k1)`` is a problem of its own (:meth:`Problem.window`) whose ``initial`` is the
association committed in slot ``k0 - 1``, so a switch in the window's first slot is charged
to the budget exactly as in the full problem, and whose budget is what the cell has left.  Two
devices keep the committed prefix extendable and keep the rolling solution inside the hard
budget:

terminal reserve
    With ``F[c, s, k]`` the fewest handovers cell ``c`` needs after slot ``k`` when on ``s``
    in ``k`` (backward DP), a window path that spends ``j`` handovers and ends on ``s`` must
    satisfy ``j + F[c, s, k1 - 1] <= remaining[c]``.  By induction every window is feasible and
    the full sequence never exceeds the budget.
look-ahead cost
    A window does not see what its last choice costs later (a satellite about to set looks
    as good as one that stays).  ``lookahead="value"`` (default) charges ending on ``s`` the
    loss of a relaxed value-to-go: an unbudgeted per-cell DP with separable values over the
    next ``lookahead_slots`` slots (default: the rest of the horizon), costing ``O(C L K)``
    per window; the relaxation drops the budgets (and, for the coupled proxy, the sharing of
    the pools), which the window itself enforces.  A tie-break of ``1e-3 lambda_h F`` prefers
    satellites that stay longer.  ``lookahead="handovers"`` charges
    ``lambda_h * F[c, s, k1 - 1]`` only, and ``"none"`` nothing (APEX's myopic windows).

Budget split policies
    ``"reserve"``: a window may spend everything except the reserve above.
    ``"proportional"`` (default): in addition at most
    ``max(ceil(remaining * len / slots_left), m*)`` handovers, with ``m*`` the fewest the
    window needs to keep the reserve -- so early windows cannot use up the budget.  On
    ``stress`` with 8x demand (budgets binding) it cut the median gap to the full MILP from
    0.19 % to 0.06 % (max 0.70 % -> 0.09 %); with slack budgets both policies give the same
    objective.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from leo_env.core.handover import count_handovers
from oracles.p2.dp import _BIG, _dp_kernel, solve_dp
from oracles.p2.problem import Problem
from oracles.p2.result import P2Result, infeasible_result, make_result

__all__ = ["solve_rolling", "BUDGET_POLICIES", "INNER_METHODS"]

BUDGET_POLICIES = ("reserve", "proportional")
LOOKAHEADS = ("value", "handovers", "none")
INNER_METHODS = ("milp", "dp", "lagrangian")


def _min_window_handovers(sub: Problem, req: np.ndarray) -> np.ndarray:
    """Fewest handovers each cell needs inside ``sub`` while keeping ``j + req <= budget``."""
    C, L, K = sub.C, sub.L, sub.K  # noqa: N806
    path, value, used = _dp_kernel(
        np.zeros((C, L, K)), np.ascontiguousarray(sub.vis), sub.budget.astype(np.int64),
        sub.init_l, 1.0, np.zeros((C, L)), np.ascontiguousarray(req, dtype=np.int64),
    )
    return np.where(path[:, 0] >= 0, used, -1)


def _value_to_go(problem: Problem, k1: int, horizon: int) -> np.ndarray:
    """Relaxed value of ending slot ``k1 - 1`` on each candidate, shape (C, L).

    Unbudgeted per-cell DP over slots ``k1 .. k1 + horizon - 1`` with the separable values
    (an optimistic stand-in for the coupled proxy) and the handover price; normalised so that
    each cell's best entry is 0.  ``-inf`` where the candidate is invisible at ``k1 - 1``.
    """
    K = problem.K  # noqa: N806
    k2 = min(K, k1 + horizon)
    vis = problem.vis
    u = problem.sep_value
    lam = problem.lambda_h
    W = np.zeros(vis.shape[:2])  # noqa: N806 - value from slot k2 on: 0
    for k in range(k2 - 1, k1 - 1, -1):
        nxt = W
        best = np.where(vis[:, :, k + 1], nxt, -np.inf).max(axis=1, keepdims=True) if k + 1 < k2 else 0.0
        stay = np.where(vis[:, :, k + 1], nxt, -np.inf) if k + 1 < k2 else 0.0
        W = np.where(vis[:, :, k], u[:, :, k] + np.maximum(stay, best - lam), -np.inf)  # noqa: N806
    end_vis = vis[:, :, k1 - 1]
    best = W.max(axis=1, keepdims=True)
    val = np.where(end_vis, np.maximum(W, best - lam), -np.inf)
    top = np.where(np.isfinite(val), val, -np.inf).max(axis=1, keepdims=True)
    return np.where(end_vis, val - top, -np.inf)


def solve_rolling(
    problem: Problem,
    *,
    window: int = 10,
    step: int = 5,
    inner: str = "milp",
    budget_policy: str = "proportional",
    lookahead: str = "value",
    lookahead_slots: int | None = None,
    inner_options: dict[str, Any] | None = None,
) -> P2Result:
    """Rolling-horizon P2 with a hard budget.

    Parameters
    ----------
    problem : Problem
        The instance (either proxy).
    window : int
        Slots optimised per window, >= 1.
    step : int
        Slots committed per window, ``1 <= step <= window``.  The last window commits all its
        slots.
    inner : {"milp", "dp", "lagrangian"}
        Window solver (``"dp"`` needs the separable proxy, ``"lagrangian"`` the coupled one).
    budget_policy : {"reserve", "proportional"}
        How much of the remaining budget a window may spend (see module docstring).
    lookahead : {"value", "handovers", "none"}
        Terminal cost of the window's last choice (see module docstring).
    lookahead_slots : int, optional
        Slots after the window seen by ``lookahead="value"`` (default: the rest of the
        horizon).
    inner_options : dict, optional
        Options of the window solver.

    Returns
    -------
    P2Result
        ``status="feasible"``; ``info`` holds the number of windows and the inner solve times.
    """
    if int(window) < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if not 1 <= int(step) <= int(window):
        raise ValueError(f"step must be in [1, window={window}], got {step}")
    if inner not in INNER_METHODS:
        raise ValueError(f"inner must be one of {INNER_METHODS}, got {inner!r}")
    if budget_policy not in BUDGET_POLICIES:
        raise ValueError(f"budget_policy must be one of {BUDGET_POLICIES}, got {budget_policy!r}")
    if lookahead not in LOOKAHEADS:
        raise ValueError(f"lookahead must be one of {LOOKAHEADS}, got {lookahead!r}")
    if inner == "dp" and problem.proxy != "separable":
        raise ValueError("inner='dp' needs proxy='separable'")
    if inner == "lagrangian" and problem.proxy != "coupled":
        raise ValueError("inner='lagrangian' needs proxy='coupled'")
    t0 = time.perf_counter()
    ok, msg = problem.feasibility()
    if not ok:
        return infeasible_result(problem, msg, "rolling", time.perf_counter() - t0)
    opts = dict(inner_options or {})
    C, K = problem.C, problem.K  # noqa: N806
    F = problem.future_min_handovers  # noqa: N806
    assoc = np.full((C, K), -1, np.int64)
    prev = problem.initial.copy()
    remaining = problem.budget.astype(np.int64).copy()
    inner_times: list[float] = []
    statuses: list[str] = []
    k0 = 0
    n_win = 0
    while k0 < K:
        k1 = min(K, k0 + int(window))
        commit_end = K if k1 == K else k0 + int(step)
        sub = problem.window(k0, k1, initial=prev, budget_left=remaining)
        req_dense = None
        cost_dense = None
        if k1 < K:
            req_dense = problem.scatter(F[:, :, k1 - 1], fill=_BIG)  # (S, C)
            if lookahead == "handovers":
                cost_dense = problem.lambda_h * np.where(req_dense >= _BIG, 0.0, req_dense)
            elif lookahead == "value":
                vtg = _value_to_go(problem, k1, K - k1 if lookahead_slots is None else int(lookahead_slots))
                cost_dense = problem.scatter(np.where(np.isfinite(vtg), -vtg, 0.0))
                # tie-break towards satellites that need fewer handovers later
                cost_dense = cost_dense + 1e-3 * problem.lambda_h * np.where(req_dense >= _BIG, 0.0, req_dense)
        if budget_policy == "proportional":
            req_view = (
                np.zeros((C, sub.L), np.int64) if req_dense is None
                else sub.gather(req_dense, fill=_BIG).astype(np.int64)
            )
            need = _min_window_handovers(sub, req_view)
            share = np.ceil(remaining * (k1 - k0) / (K - k0)).astype(np.int64)
            cap = np.minimum(remaining, np.maximum(share, need))
            if req_dense is not None:
                # j + req <= remaining  <=>  j + (req - (remaining - cap)) <= cap
                req_dense = np.where(req_dense >= _BIG, _BIG, req_dense - (remaining - cap)[None, :])
            else:
                req_dense = np.broadcast_to(-(remaining - cap)[None, :], (problem.S, C)).copy()
            sub = sub.replace(budget_left=cap)
        if inner == "dp":
            res = solve_dp(sub, terminal_cost=cost_dense, terminal_req=req_dense)
        elif inner == "milp":
            from oracles.p2.milp import solve_milp

            res = solve_milp(sub, terminal_cost=cost_dense, terminal_req=req_dense, **opts)
        else:
            from oracles.p2.lagrangian import solve_lagrangian

            res = solve_lagrangian(sub, terminal_cost=cost_dense, terminal_req=req_dense, **opts)
        n_win += 1
        inner_times.append(res.solve_time_s)
        statuses.append(res.status)
        if not res.feasible:
            return infeasible_result(
                problem, f"window [{k0}, {k1}) failed: {res.message}", "rolling",
                time.perf_counter() - t0, status=res.status,
            )
        n_commit = commit_end - k0
        assoc[:, k0:commit_end] = res.assoc[:, :n_commit]
        h = count_handovers(assoc[:, k0:commit_end], prev)
        remaining = remaining - h.sum(axis=1)
        if np.any(remaining < 0):  # pragma: no cover - guarded by the terminal reserve
            c = int(np.argmin(remaining))
            raise RuntimeError(f"rolling window exceeded the budget of cell {c}")
        prev = assoc[:, commit_end - 1].copy()
        k0 = commit_end
    elapsed = time.perf_counter() - t0
    path = problem.l_from_assoc(assoc)
    return make_result(
        problem, path, status="feasible", method="rolling", solve_time_s=elapsed,
        message=f"feasible ({n_win} windows of {window}, step {step}, inner {inner}, {budget_policy})",
        info={
            "windows": n_win, "inner": inner, "budget_policy": budget_policy,
            "lookahead": lookahead, "inner_time_s": float(sum(inner_times)),
            "inner_statuses": ",".join(sorted(set(statuses))),
        },
    )
