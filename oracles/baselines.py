"""Rule-based association baselines.

``greedy_association`` is B0: every cell follows its strongest visible satellite, but only switches
when the hard handover budget still covers every handover the rest of the horizon forces (a
backward dynamic programme over visibility), so it never violates a budget on a feasible
scenario.
"""

from __future__ import annotations

import numpy as np

__all__ = ["future_min_handovers", "greedy_association"]

_INF = np.iinfo(np.int64).max // 4


def future_min_handovers(v: np.ndarray) -> np.ndarray:
    """``need[s, c, k]``: fewest handovers from slot ``k`` to the end when ``s`` serves ``c`` at ``k``.

    Backward DP: ``need[s, c, K-1] = 0`` if visible, and ``need[s, c, k] = min(need[s, c, k+1],
    1 + min_s' need[s', c, k+1])`` where ``v[s, c, k]``; a huge value marks impossible states.
    """
    v = np.asarray(v, dtype=bool)
    S, C, K = v.shape  # noqa: N806
    need = np.full((S, C, K), _INF, dtype=np.int64)
    need[:, :, K - 1] = np.where(v[:, :, K - 1], 0, _INF)
    for k in range(K - 2, -1, -1):
        nxt = need[:, :, k + 1]
        best = nxt.min(axis=0, keepdims=True)
        need[:, :, k] = np.where(v[:, :, k], np.minimum(nxt, np.minimum(best + 1, _INF)), _INF)
    return need


def greedy_association(
    v: np.ndarray,
    g: np.ndarray,
    H: np.ndarray,  # noqa: N803
    initial: np.ndarray | None = None,
    hysteresis_db: float = 0.0,
) -> np.ndarray:
    """B0: strongest visible satellite per cell and slot, within the hard handover budget.

    Parameters
    ----------
    v : ndarray of bool, shape (S, C, K)
        Visibility.
    g : ndarray, shape (S, C, K)
        Large-scale gains (linear).
    H : ndarray of int, shape (C,)
        Remaining handover budget per cell.
    initial : ndarray of int, shape (C,), optional
        Serving satellite before slot 0 (``-1``/None: the first choice is free).
    hysteresis_db : float
        A voluntary switch needs a gain at least this much above the current satellite's.

    Returns
    -------
    assoc : ndarray of int, shape (C, K)
        Satellite index per cell and slot.  A cell whose budget cannot cover the forced
        handovers keeps following visibility (the minimum-handover path) and exceeds its budget:
        check feasibility first (``leo_env.core.handover.min_handovers``).
    """
    v = np.asarray(v, dtype=bool)
    g = np.asarray(g, dtype=float)
    if v.shape != g.shape or v.ndim != 3:
        raise ValueError(f"v and g must both have shape (S, C, K), got {v.shape} and {g.shape}")
    S, C, K = v.shape  # noqa: N806
    budget = np.asarray(H, dtype=np.int64).copy()
    if budget.shape != (C,):
        raise ValueError(f"H must have shape (C,) = ({C},), got {budget.shape}")
    need = future_min_handovers(v)
    cur = np.full(C, -1, dtype=np.int64) if initial is None else np.asarray(initial, dtype=np.int64).copy()
    gdb = 10.0 * np.log10(np.where(v, np.maximum(g, 1e-300), 1e-300))
    assoc = np.empty((C, K), dtype=np.int64)
    cells = np.arange(C)
    for k in range(K):
        vis = v[:, :, k]
        has_cur = cur >= 0
        cur_i = np.where(has_cur, cur, 0)
        cur_vis = has_cur & vis[cur_i, cells]
        # staying costs need[cur]; switching to s costs 1 + need[s] (0 extra when unserved)
        switch_cost = need[:, :, k] + has_cur[None, :]
        affordable = vis & (switch_cost <= budget[None, :])
        score = np.where(affordable, gdb[:, :, k], -np.inf)
        best = score.argmax(axis=0)
        best_ok = np.isfinite(score[best, cells])
        cur_gain = np.where(cur_vis, gdb[cur_i, cells, k], -np.inf)
        stay_ok = cur_vis & (need[cur_i, cells, k] <= budget)
        better = best_ok & (score[best, cells] > cur_gain + hysteresis_db)
        choice = np.where(stay_ok & ~better, cur, np.where(best_ok, best, -1))
        # no affordable option: follow the minimum-handover path (budget will be exceeded)
        fallback = need[:, :, k].argmin(axis=0)
        choice = np.where(choice < 0, np.where(cur_vis, cur, fallback), choice)
        budget -= (has_cur & (choice != cur)).astype(np.int64)
        assoc[:, k] = choice
        cur = choice
    return assoc
