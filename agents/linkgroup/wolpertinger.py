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

from leo_env.core.linkgroups import slot_links
from leo_env.wrappers.wolpertinger import k_nearest_actions

__all__ = ["link_costs", "nearest_valid_groups", "NearestGroups"]


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
    is_valid: Callable[[np.ndarray], bool],
    max_candidates: int = 1 << 16,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` valid groups nearest to ``proto``, nearest first.

    Parameters
    ----------
    proto : ndarray, shape (J, K)
        Proto-action in the link-activation embedding.
    usable : ndarray of bool, shape (J, K)
        Links allowed at all (compatible, receiver present).
    k : int
        Number of groups wanted, >= 1.
    is_valid : callable
        ``is_valid(assign)`` for an assignment vector (J,) without duplicate receivers (e.g. the
        SINR check of the current slot).
    max_candidates : int
        Largest joint-action listing tried before giving up (returns what was found).

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
        keep = []
        for i, a in enumerate(assign):
            on = a[a >= 0]
            if on.size == np.unique(on).size and is_valid(a):
                keep.append(i)
                if len(keep) == k:
                    break
        if len(keep) == k or len(acts) < n or n >= max_candidates:
            idx = np.asarray(keep, dtype=np.int64)
            return assign[idx], tot[idx]
        n = min(4 * n, max_candidates)


class NearestGroups:
    """k nearest valid groups of the current slot of a ``LinkGroupSched`` env.

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

    def __call__(self, proto: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Assignment vectors (k', J) and squared distances of the k nearest valid groups."""
        u = self.env.unwrapped
        inst, t = u.instance, u.t
        if inst is None:
            raise RuntimeError("reset the environment first")

        def ok(a: np.ndarray) -> bool:
            return bool(slot_links(inst, a, t)[2].all())

        return nearest_valid_groups(proto, inst.usable, k, ok)
