"""Exact k nearest *valid* link groups of a proto-action (EMCL's Wolpertinger mapping).

Embedding: a group is its binary link-activation vector in ``R^{J x K}`` (entry ``(j, k)`` is 1
when transmitter ``j`` serves receiver ``k``; an idle transmitter contributes a zero row).  A
proto-action ``p`` of shape (J, K) is at squared distance ``sum_j c_j(a_j)`` from group ``a``,
with ``c_j(k) = ||p_j - e_k||^2`` and ``c_j(idle) = ||p_j||^2``: a sum of one cost per
transmitter.  The suite's exact best-first k-NN over joint actions
(:func:`leo_env.wrappers.wolpertinger.k_nearest_actions`) lists joint actions by nondecreasing
distance; joint actions that are not valid groups (a receiver picked twice, or an SINR below
threshold in the current slot) are skipped, and the search is widened (x4) until ``k`` valid
groups are found or none are left.  Because the listing is ordered, the result is exactly the
``k`` nearest valid groups.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from leo_env.core.linkgroups import LinkView, link_view, pattern_of
from leo_env.wrappers.wolpertinger import k_nearest_actions

__all__ = ["link_costs", "nearest_valid_groups", "view_valid_rows", "NearestGroups"]


def link_costs(proto: np.ndarray) -> np.ndarray:
    """Per-transmitter costs (J, K + 1): ``||p_j - e_k||^2`` for receiver ``k``, ``||p_j||^2`` idle."""
    p = np.asarray(proto, dtype=float)
    if p.ndim != 2 or not np.all(np.isfinite(p)):
        raise ValueError("proto must be a finite (J, K) array")
    sq = (p * p).sum(axis=1, keepdims=True)
    return np.concatenate([sq - 2.0 * p + 1.0, sq], axis=1)


def nearest_valid_groups(
    proto: np.ndarray,
    usable: np.ndarray,
    k: int,
    is_valid: Callable[[np.ndarray], bool] | None = None,
    max_candidates: int = 1 << 16,
    valid_rows: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` valid groups nearest to ``proto``, nearest first.

    Parameters
    ----------
    proto : ndarray, shape (J, K)
        Proto-action in the link-activation embedding.
    usable : ndarray of bool, shape (J, K)
        Links allowed at all (compatible, receiver present; pruning links that cannot be valid
        in any group, e.g. SINR-infeasible even alone, keeps the result exact and the listing
        short).
    k : int
        Number of groups wanted, >= 1.
    is_valid : callable, optional
        ``is_valid(assign)`` for an assignment vector (J,) without duplicate receivers (e.g. the
        SINR check of the current slot).
    max_candidates : int
        Largest joint-action listing tried before giving up (returns what was found).
    valid_rows : callable, optional
        Vectorised form of ``is_valid``: ``valid_rows(assign)`` for assignments (n, J) without
        duplicates returns a bool array (n,).  One of ``is_valid`` / ``valid_rows`` is needed.

    Returns
    -------
    groups : ndarray of int, shape (k', J)
        Assignment vectors (-1 = idle), k' <= k (fewer only if fewer valid groups exist within
        ``max_candidates``).
    dist2 : ndarray, shape (k',)
        Squared embedding distances.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if is_valid is None and valid_rows is None:
        raise ValueError("give is_valid or valid_rows")
    costs = link_costs(proto)
    J, K = costs.shape[0], costs.shape[1] - 1  # noqa: N806
    u = np.asarray(usable, dtype=bool)
    if u.shape != (J, K):
        raise ValueError(f"usable must have shape ({J}, {K})")
    mask = np.concatenate([u, np.ones((J, 1), dtype=bool)], axis=1)
    n = max(4 * k, 16)
    while True:
        acts, tot = k_nearest_actions(costs, mask, n)
        assign = np.where(acts == K, -1, acts)
        on = assign >= 0
        same = (assign[:, :, None] == assign[:, None, :]) & on[:, :, None] & on[:, None, :]
        nodup = ~(np.triu(np.ones((J, J), dtype=bool), 1)[None] & same).any(axis=(1, 2))
        good = nodup.copy()
        idx_nd = np.flatnonzero(nodup)
        if valid_rows is not None:
            good[idx_nd] = np.asarray(valid_rows(assign[idx_nd]), dtype=bool)
        else:
            for i in idx_nd:
                good[i] = bool(is_valid(assign[i]))
        keep = np.flatnonzero(good)[:k]
        if len(keep) == k or len(acts) < n or n >= max_candidates:
            return assign[keep], tot[keep]
        n = min(4 * n, max_candidates)


def view_valid_rows(view: LinkView, t: int) -> Callable[[np.ndarray], np.ndarray]:
    """Vectorised validity of duplicate-free assignments (n, J) in slot ``t`` from a link view."""
    ok = view.ok[..., t]  # (J, K, P)

    def rows(assign: np.ndarray) -> np.ndarray:
        a = np.asarray(assign, dtype=np.int64)
        if a.size == 0:
            return np.zeros(0, dtype=bool)
        p = pattern_of(a)
        on = a >= 0
        jj = np.broadcast_to(np.arange(a.shape[1]), a.shape)
        vals = ok[jj, np.maximum(a, 0), p[:, None]]
        return np.all(vals | ~on, axis=1)

    return rows


class NearestGroups:
    """k nearest valid groups of the current slot of a ``LinkGroupSched`` env.

    The link view (SINR validity of every link under every activity pattern) of the env's
    current window is computed once per window and cached; links that are SINR-infeasible even
    without interference are pruned before the listing (they belong to no valid group).

    Parameters
    ----------
    env : gym.Env
        The environment (its ``unwrapped`` public attributes ``instance`` and ``t`` are read).

    Examples
    --------
    >>> from leo_env.envs.linkgroup.env import LinkGroupSchedEnv
    >>> env = LinkGroupSchedEnv(preset="small")
    >>> _ = env.reset(seed=0)
    >>> groups, d2 = NearestGroups(env)(np.zeros((env.cfg.J, env.cfg.K)), k=3)
    >>> groups[0].tolist(), float(d2[0])
    ([-1, -1, -1, -1], 0.0)
    """

    def __init__(self, env: Any) -> None:
        self.env = env
        self._inst: Any = None
        self._view: LinkView | None = None

    def view(self) -> LinkView:
        """Link view of the env's current window (cached per instance)."""
        inst = self.env.unwrapped.instance
        if inst is None:
            raise RuntimeError("reset the environment first")
        if inst is not self._inst:
            self._inst, self._view = inst, link_view(inst)
        assert self._view is not None
        return self._view

    def __call__(self, proto: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Assignment vectors (k', J) and squared distances of the k nearest valid groups."""
        u = self.env.unwrapped
        v = self.view()
        t = min(u.t, u.instance.T - 1)
        J = u.instance.J  # noqa: N806
        alone = v.ok[np.arange(J), :, 1 << np.arange(J), t]  # (J, K): valid without interference
        return nearest_valid_groups(proto, alone, k, valid_rows=view_valid_rows(v, t))
