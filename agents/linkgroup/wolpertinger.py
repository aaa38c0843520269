"""Exact k nearest *valid* link groups of a proto-action (EMCL's Wolpertinger mapping).

Embedding: a group is its binary link-activation vector in ``R^{J x K}`` (entry ``(j, k)`` is 1
when transmitter ``j`` serves receiver ``k``; an idle transmitter contributes a zero row).  A
proto-action ``p`` of shape (J, K) is at squared distance ``sum_j c_j(a_j)`` from group ``a``,
with ``c_j(k) = ||p_j - e_k||^2`` and ``c_j(idle) = ||p_j||^2``: a sum of one cost per
transmitter.  The suite's exact best-first k-NN over joint actions
(:func:`leo_env.wrappers.wolpertinger.k_nearest_actions`) lists joint actions by nondecreasing
distance; joint actions that are not valid groups (a receiver picked twice, or an SINR below
threshold in the current slot) are skipped.  Because the listing is ordered, the first ``k``
valid ones are exactly the ``k`` nearest valid groups.

Two implementations of that one definition, with identical output (same groups, same order,
same ties):

* :func:`nearest_valid_groups` (``backend="walk"``, the reference): lists ``n`` joint actions with
  :func:`~leo_env.wrappers.wolpertinger.k_nearest_actions`, filters them, and widens ``n`` (x4)
  until ``k`` valid groups are found.  When the proto-action is saturated (entries of ``mu`` at 0
  or 1, as for the trained ``k50`` learners) hundreds to thousands of invalid joint actions
  precede the ``k``-th valid one, and the restarts and the Python heap made this 2-10 ms per
  slot at ``k50``.
* :func:`nearest_valid_groups_table` (``backend="lazy"``, the default of :class:`NearestGroups`):
  the same best-first walk (same heap keys, the same floating-point increments, the same
  insertion-order tie-break) as one compiled loop (:func:`_lazy_walk`, numba) that checks every
  popped joint action's validity at once against the slot's link-validity table
  ``ok[j, k, pattern]`` (the SINR of a link depends only on its receiver and on *which*
  transmitters are active, so this table decides validity exactly) and stops at the ``k``-th
  valid one: no restart, no listing beyond it.  ``backend="python"`` runs the very same loop
  uncompiled (for tests: no numba compile in the default test run).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from leo_env.core.linkgroups import LinkView, link_view, pattern_of
from leo_env.wrappers.wolpertinger import k_nearest_actions, walk_order

__all__ = [
    "BACKENDS", "warm_up", "link_costs", "nearest_valid_groups", "nearest_valid_groups_table", "view_valid_rows",
    "NearestGroups",
]

BACKENDS = ("lazy", "python", "walk")
"""k-NN implementations (module docstring): compiled lazy walk, the same uncompiled, the
widening reference."""


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
    """The ``k`` valid groups nearest to ``proto``, nearest first (the widening reference walk).

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


def _lazy_walk_py(sorted_cost: np.ndarray, order: np.ndarray, pos: np.ndarray, lens: np.ndarray,
                  base_choice: np.ndarray, base: float, ok: np.ndarray, k: int,
                  limit: int) -> tuple[np.ndarray, int]:
    """Best-first listing of joint actions, validity checked per pop, stop at ``k`` valid.

    The walk of :func:`leo_env.wrappers.wolpertinger.k_nearest_actions` (its states as dense
    index vectors over the ``P = len(pos)`` cells with alternatives; heap key (total, insertion
    counter), totals updated by the same floating-point expressions), so the listing order is
    identical to it, ties included.

    Parameters
    ----------
    sorted_cost : ndarray, shape (C, n)
        Each cell's allowed costs in increasing (stable) order (``inf`` after the allowed ones).
    order : ndarray of int, shape (C, n)
        Candidate index behind each sorted entry (candidate ``n - 1`` = idle).
    pos : ndarray of int, shape (P,)
        Cells with >= 2 allowed choices, by their first cost increment.
    lens : ndarray of int, shape (P,)
        Allowed choices of those cells.
    base_choice : ndarray of int, shape (C,)
        Cheapest choice of every cell.
    base : float
        Its total cost.
    ok : ndarray of bool, shape (C, n - 1, 2^C)
        Link validity under every activity pattern in the current slot.
    k : int
        Valid joint actions wanted.
    limit : int
        Joint actions listed at most.

    Returns
    -------
    actions : ndarray of int, shape (k', C)
        The first ``k' <= k`` valid joint actions of the listing (``n - 1`` = idle).
    listed : int
        Joint actions listed.
    """
    C = sorted_cost.shape[0]  # noqa: N806
    idle = sorted_cost.shape[1] - 1
    P = pos.shape[0]  # noqa: N806
    out = np.empty((k, C), dtype=np.int64)
    n_out = 0
    choice = base_choice.copy()
    listed = 0
    # state storage (dense index vectors over the P positions) and the heap of (total, counter, p)
    cap = 64
    st_idx = np.zeros((cap, max(P, 1)), dtype=np.int64)
    heap = [(0.0, 0, 0)]
    heap.pop()
    if P > 0 and limit > 1:
        st_idx[0, 0] = 1
        heap.append((base + sorted_cost[pos[0], 1] - sorted_cost[pos[0], 0], 0, 0))
    counter = 0
    cur = -1  # state of ``choice`` (-1: the base choice)
    while True:
        # ``choice`` is the next listed joint action: check it
        if cur >= 0:
            for c in range(C):
                choice[c] = base_choice[c]
            for q in range(P):
                i = st_idx[cur, q]
                if i > 0:
                    choice[pos[q]] = order[pos[q], i]
        listed += 1
        pattern = 0
        for c in range(C):
            if choice[c] != idle:
                pattern |= 1 << c
        good = True
        for c in range(C):
            a = choice[c]
            if a == idle:
                continue
            if not ok[c, a, pattern]:
                good = False
                break
            for c2 in range(c + 1, C):
                if choice[c2] == a:
                    good = False
                    break
            if not good:
                break
        if good:
            for c in range(C):
                out[n_out, c] = choice[c]
            n_out += 1
            if n_out == k:
                break
        if listed >= limit or len(heap) == 0:
            break
        total, sid, p = heapq.heappop(heap)
        total_f = total
        # children of state sid (k_nearest_actions' three moves)
        i_p = st_idx[sid, p]
        n_new = 0
        if i_p + 1 < lens[p]:
            n_new += 1
        if p + 1 < P:
            n_new += 2 if i_p == 1 else 1
        if counter + n_new >= cap:
            new_cap = 2 * cap
            while counter + n_new >= new_cap:
                new_cap *= 2
            grown = np.zeros((new_cap, st_idx.shape[1]), dtype=np.int64)
            grown[:cap] = st_idx
            st_idx, cap = grown, new_cap
        row_p = pos[p]
        if i_p + 1 < lens[p]:
            counter += 1
            st_idx[counter] = st_idx[sid]
            st_idx[counter, p] = i_p + 1
            heapq.heappush(heap, (total_f - sorted_cost[row_p, i_p] + sorted_cost[row_p, i_p + 1], counter, p))
        if p + 1 < P:
            row_n = pos[p + 1]
            inc = sorted_cost[row_n, 1] - sorted_cost[row_n, 0]
            counter += 1
            st_idx[counter] = st_idx[sid]
            st_idx[counter, p + 1] = 1
            heapq.heappush(heap, (total_f + inc, counter, p + 1))
            if i_p == 1:
                back = sorted_cost[row_p, 1] - sorted_cost[row_p, 0]
                counter += 1
                st_idx[counter] = st_idx[sid]
                st_idx[counter, p] = 0
                st_idx[counter, p + 1] = 1
                heapq.heappush(heap, (total_f - back + inc, counter, p + 1))
        cur = sid
    return out[:n_out], listed


_lazy_walk = numba.njit(cache=True)(_lazy_walk_py)
"""Compiled :func:`_lazy_walk_py` (numba, cached on disk)."""


def warm_up() -> None:
    """Load (or compile, on a cold cache) the compiled walk now, so no decision pays for it.

    The first call of :func:`_lazy_walk` in a process reads numba's on-disk cache (~0.2 s) or
    compiles it (seconds); :func:`agents.linkgroup.training.load_learner` calls this so that the
    first timed decision of an evaluation does not include it.
    """
    nearest_valid_groups_table(np.zeros((1, 1)), np.ones((1, 1), dtype=bool), 1, np.ones((1, 1, 2), dtype=bool))


def _walk_inputs(costs: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                                np.ndarray, float]:
    """Sorted rows, positions and base of the best-first walk, as the compiled walk's arrays.

    The ordering is :func:`leo_env.wrappers.wolpertinger.walk_order`, the suite's exact k-NN's.
    """
    sorted_cost, order, m, pos, base_choice, base = walk_order(costs, mask)
    return sorted_cost, order.astype(np.int64), pos.astype(np.int64), m[pos].astype(np.int64), \
        base_choice.astype(np.int64), base


def nearest_valid_groups_table(
    proto: np.ndarray,
    usable: np.ndarray,
    k: int,
    ok: np.ndarray,
    max_candidates: int = 1 << 16,
    backend: str = "lazy",
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` valid groups nearest to ``proto`` from a link-validity table (lazy walk).

    Same result as :func:`nearest_valid_groups` with ``valid_rows`` reading the same table
    (module docstring), in one pass that stops at the ``k``-th valid group.

    Parameters
    ----------
    proto : ndarray, shape (J, K)
        Proto-action in the link-activation embedding.
    usable : ndarray of bool, shape (J, K)
        Links allowed at all (as in :func:`nearest_valid_groups`).
    k : int
        Number of groups wanted, >= 1.
    ok : ndarray of bool, shape (J, K, 2^J)
        ``ok[j, k, P]``: link ``(j, k)`` is valid when the transmitters of bit pattern ``P``
        are active (a :class:`~leo_env.core.linkgroups.LinkView`'s ``ok`` in one slot).
    max_candidates : int
        Joint actions listed at most (the reference lists ``max(4 k, 16, max_candidates)`` at
        most before giving up; the same bound is used), >= 1.
    backend : str
        ``"lazy"`` (compiled) or ``"python"`` (the same loop, uncompiled).

    Returns
    -------
    groups : ndarray of int, shape (k', J)
        Assignment vectors (-1 = idle), nearest first, k' <= k.
    dist2 : ndarray, shape (k',)
        Squared embedding distances.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if max_candidates < 1:
        raise ValueError(f"max_candidates must be >= 1, got {max_candidates}")
    if backend not in ("lazy", "python"):
        raise ValueError(f"backend must be 'lazy' or 'python', got {backend!r}")
    costs = link_costs(proto)
    J, K = costs.shape[0], costs.shape[1] - 1  # noqa: N806
    u = np.asarray(usable, dtype=bool)
    if u.shape != (J, K):
        raise ValueError(f"usable must have shape ({J}, {K})")
    okc = np.ascontiguousarray(ok, dtype=bool)
    if okc.shape != (J, K, 1 << J):
        raise ValueError(f"ok must have shape ({J}, {K}, {1 << J}), got {okc.shape}")
    mask = np.concatenate([u, np.ones((J, 1), dtype=bool)], axis=1)
    limit = max(4 * k, 16, max_candidates)
    walk: Callable[..., tuple[np.ndarray, int]] = _lazy_walk if backend == "lazy" else _lazy_walk_py
    sorted_cost, order, pos, lens, base_choice, base = _walk_inputs(costs, mask)
    acts, _ = walk(sorted_cost, order, pos, lens, base_choice, base, okc, int(k), int(limit))
    tot = costs[np.arange(J)[None, :], acts].sum(axis=1)
    return np.where(acts == K, -1, acts), tot


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
    current window is computed once per window and cached, with its per-slot validity tables
    laid out contiguously; links that are SINR-infeasible even without interference are pruned
    before the listing (they belong to no valid group).

    Parameters
    ----------
    env : gym.Env
        The environment (its ``unwrapped`` public attributes ``instance`` and ``t`` are read).
    backend : str
        One of :data:`BACKENDS` (module docstring; all give the same groups in the same order).

    Examples
    --------
    >>> from leo_env.envs.linkgroup.env import LinkGroupSchedEnv
    >>> env = LinkGroupSchedEnv(preset="small")
    >>> _ = env.reset(seed=0)
    >>> groups, d2 = NearestGroups(env, backend="python")(np.zeros((env.cfg.J, env.cfg.K)), k=3)
    >>> groups[0].tolist(), float(d2[0])
    ([-1, -1, -1, -1], 0.0)
    """

    def __init__(self, env: Any, backend: str = "lazy") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.env = env
        self.backend = backend
        self._inst: Any = None
        self._view: LinkView | None = None
        self._ok_t: np.ndarray | None = None
        self._alone: np.ndarray | None = None

    def view(self) -> LinkView:
        """Link view of the env's current window (cached per instance)."""
        inst = self.env.unwrapped.instance
        if inst is None:
            raise RuntimeError("reset the environment first")
        if inst is not self._inst:
            v = link_view(inst)
            J = inst.J  # noqa: N806
            self._inst, self._view = inst, v
            self._ok_t = np.ascontiguousarray(np.moveaxis(v.ok, 3, 0))  # (T, J, K, 2^J)
            # (T, J, K): valid without interference (alone in its pattern)
            self._alone = np.ascontiguousarray(np.moveaxis(v.ok[np.arange(J), :, 1 << np.arange(J), :], 2, 0))
        assert self._view is not None
        return self._view

    def __call__(self, proto: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Assignment vectors (k', J) and squared distances of the k nearest valid groups."""
        u = self.env.unwrapped
        v = self.view()
        t = min(u.t, u.instance.T - 1)
        assert self._ok_t is not None and self._alone is not None
        if self.backend == "walk":
            return nearest_valid_groups(proto, self._alone[t], k, valid_rows=view_valid_rows(v, t))
        return nearest_valid_groups_table(proto, self._alone[t], k, self._ok_t[t], backend=self.backend)
