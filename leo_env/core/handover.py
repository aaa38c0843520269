"""Handover accounting and the minimum number of handovers a cell needs (dynamic programming).

Associations are given either as 0/1 arrays ``x`` of shape (S, C, K) (APEX's convention) or as
satellite indices ``assoc`` of shape (C, K) with ``-1`` for "unserved".
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "assoc_to_onehot",
    "onehot_to_assoc",
    "count_handovers",
    "min_handovers",
]


def assoc_to_onehot(assoc: np.ndarray, S: int) -> np.ndarray:  # noqa: N803
    """Satellite indices (C, K) -> 0/1 association (S, C, K) as int8; ``-1`` maps to all zeros."""
    assoc = np.asarray(assoc)
    if assoc.ndim != 2:
        raise ValueError(f"assoc must have shape (C, K), got {assoc.shape}")
    if assoc.size and (assoc.max() >= S or assoc.min() < -1):
        raise ValueError(f"assoc entries must be in [-1, {S - 1}]")
    x = np.zeros((S, *assoc.shape), dtype=np.int8)
    c_idx, k_idx = np.nonzero(assoc >= 0)
    x[assoc[c_idx, k_idx], c_idx, k_idx] = 1
    return x


def onehot_to_assoc(x: np.ndarray) -> np.ndarray:
    """0/1 association (S, C, K) -> satellite indices (C, K); ``-1`` where a cell is unserved.

    Raises if a cell is associated to more than one satellite in a slot.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (S, C, K), got {x.shape}")
    per_cell = (x > 0.5).sum(axis=0)
    if np.any(per_cell > 1):
        c, k = np.argwhere(per_cell > 1)[0]
        raise ValueError(f"x: cell {c} is associated to {per_cell[c, k]} satellites in slot {k}")
    assoc = np.argmax(x > 0.5, axis=0).astype(np.int64)
    assoc[per_cell == 0] = -1
    return assoc


def count_handovers(assoc: np.ndarray, initial: np.ndarray | None = None) -> np.ndarray:
    """Handovers per cell and slot, shape (C, K).

    ``h[c, k] = 1`` when the serving satellite of cell ``c`` changes between slot ``k-1`` and
    ``k`` (both served).  ``initial`` (C,) gives the association before slot 0 (``-1`` or None:
    the first association is free, as in APEX).
    """
    assoc = np.asarray(assoc)
    prev = np.empty_like(assoc)
    prev[:, 1:] = assoc[:, :-1]
    prev[:, 0] = -1 if initial is None else np.asarray(initial)
    return ((prev >= 0) & (assoc >= 0) & (prev != assoc)).astype(np.int64)


def min_handovers(v: np.ndarray, initial: np.ndarray | None = None) -> np.ndarray:
    """Minimum handovers each cell needs to stay served over the horizon, shape (C,).

    Dynamic programming over (slot, satellite): ``cost[k, s] = min(cost[k-1, s], min_s' cost[k-1,
    s'] + 1)`` restricted to satellites visible in slot ``k``.  A cell with a slot in which no
    satellite is visible gets ``-1`` (infeasible).  Vectorised over cells; O(K S C).

    Parameters
    ----------
    v : ndarray of bool, shape (S, C, K)
        Visibility.
    initial : ndarray of int, shape (C,), optional
        Satellite serving each cell before slot 0; switching away from it in slot 0 costs one
        handover (``-1`` or None: free first association).
    """
    v = np.asarray(v, dtype=bool)
    if v.ndim != 3:
        raise ValueError(f"v must have shape (S, C, K), got {v.shape}")
    S, C, K = v.shape  # noqa: N806
    big = np.iinfo(np.int64).max // 4
    cost = np.where(v[:, :, 0], 0, big).astype(np.int64)  # (S, C)
    if initial is not None:
        initial = np.asarray(initial)
        has = initial >= 0
        switch = np.ones((S, C), dtype=np.int64)
        switch[initial[has], np.nonzero(has)[0]] = 0
        cost = np.where(v[:, :, 0], switch * has[None, :], big)
    for k in range(1, K):
        best = cost.min(axis=0, keepdims=True)
        cost = np.where(v[:, :, k], np.minimum(cost, best + 1), big)
    out = cost.min(axis=0)
    return np.where(out >= big, -1, out)
