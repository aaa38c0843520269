"""Causal decision-time search: sampled-future rollout of GRD over FSMC channel paths.

Hindsight OPT knows the whole window's channel path; a causal scheduler only knows the current
slot's channel (its FSMC levels and gains) and the model: the FSMC transition matrix of every
link and the large-scale gains.  This module uses that model at decision time (a *rollout*
algorithm in Bertsekas' sense, with sample-average scoring):

1. **Candidates** of slot ``t``: for every link ``(j, k)`` valid alone in slot ``t``, the group
   that GRD builds when it is forced to start from that link, plus GRD's own group; duplicates
   removed, the ``n_candidates`` with the lowest one-slot objective kept (GRD's group always).
2. **Futures**: ``n_samples`` channel paths of slots ``t+1..T-1`` sampled from the current
   levels with the FSMC transition matrices (Ka rows with the Ka chain, C rows with the C chain);
   gains = large-scale gain x level mean, exactly as the scenario builds them.  The same paths
   score every candidate (common random numbers).
3. **Score**: play each candidate in slot ``t`` (on the real slot-``t`` channel), then GRD on each
   sampled future to the deadline; the candidate with the lowest mean final ``F`` is played.

Because GRD's group is always a candidate and the score is GRD's own continuation, the rule is
the classic one-step rollout of GRD; with enough samples it is no worse than GRD in expectation
(up to the sampling error of the score).  GRD is vectorised over candidates x samples here
(:func:`greedy_batch`), so one decision costs ``(T - t)`` batched greedy slots.

Arrays in, arrays out; only ``leo_env.core`` is imported.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from leo_env.core.fsmc import sample_levels
from leo_env.core.linkgroups import LinkGroupInstance, link_view
from oracles.linkgroup.objective import DEFAULT_SPEC, ObjectiveSpec, objective

__all__ = ["greedy_batch", "sample_future_gains", "sample_future_levels", "gains_of_levels", "rollout_group"]


def greedy_batch(
    inst: LinkGroupInstance,
    bits: np.ndarray,
    ok: np.ndarray,
    delivered: np.ndarray,
    init: np.ndarray | None = None,
    spec: ObjectiveSpec = DEFAULT_SPEC,
    tol: float = 1e-12,
) -> np.ndarray:
    """GRD's group for a batch of slots / states at once.

    Same rule as :func:`oracles.linkgroup.greedy.greedy_group` (add the link that most
    decreases ``F`` until none does, SINR re-checked under the grown pattern), for ``B``
    independent problems.

    Parameters
    ----------
    inst : LinkGroupInstance
        The window (demands, weights, thresholds; its gains are not read).
    bits, ok : ndarray, shape (B, J, K, 2^J)
        Per problem: bits [bit] and validity of every link under every activity pattern in the
        slot being decided (a slice of :func:`leo_env.core.linkgroups.link_view`).
    delivered : ndarray, shape (B, K)
        Bits delivered before the slot [bit].
    init : ndarray of int, shape (B, J), optional
        Links to start from (``-1`` idle); they must be valid together.  Default: empty.

    Returns
    -------
    ndarray of int, shape (B, J)
        Receiver of every transmitter (``-1`` idle).
    """
    B, J, K, _ = bits.shape  # noqa: N806
    d0 = np.asarray(delivered, dtype=float)
    a = -np.ones((B, J), dtype=np.int64) if init is None else np.array(init, dtype=np.int64)
    rows = np.arange(B)
    pw = 1 << np.arange(J)

    def cur_delivered(assign: np.ndarray, pat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = d0.copy()
        good = np.ones(B, dtype=bool)
        for jj in range(J):
            on = assign[:, jj] >= 0
            if not on.any():
                continue
            kk = np.maximum(assign[:, jj], 0)
            good &= ~on | ok[rows, jj, kk, pat]
            d[rows[on], kk[on]] += bits[rows[on], jj, kk[on], pat[on]]
        return d, good

    f_cur = np.atleast_1d(objective(inst, cur_delivered(a, (a >= 0) @ pw)[0], spec))
    live = np.ones(B, dtype=bool)
    eye = np.eye(K, dtype=bool)
    for _ in range(J):
        best_f = f_cur - tol * np.maximum(1.0, np.abs(f_cur))
        best_j = -np.ones(B, dtype=np.int64)
        best_k = -np.ones(B, dtype=np.int64)
        used = np.zeros((B, K), dtype=bool)
        for jj in range(J):
            on = a[:, jj] >= 0
            used[rows[on], a[on, jj]] = True
        for j in range(J):
            free = live & (a[:, j] < 0)
            if not free.any():
                continue
            pat = ((a >= 0) @ pw) | (1 << j)
            base, good = cur_delivered(a, pat)
            cand = ok[rows, j, :, pat] & ~used & (free & good)[:, None]  # (B, K)
            dd = base[:, None, :] + np.where(eye[None], bits[rows, j, :, pat][:, :, None], 0.0)
            f = np.where(cand, objective(inst, dd, spec), np.inf)
            kb = np.argmin(f, axis=1)
            fb = f[rows, kb]
            better = fb < best_f
            best_f = np.where(better, fb, best_f)
            best_j = np.where(better, j, best_j)
            best_k = np.where(better, kb, best_k)
        moved = best_j >= 0
        if not moved.any():
            break
        a[rows[moved], best_j[moved]] = best_k[moved]
        f_cur = np.where(moved, best_f, f_cur)
        live &= moved
    return a


def sample_future_gains(
    large_gain: np.ndarray,
    levels_now: np.ndarray,
    chain: np.ndarray,
    transition: np.ndarray,
    level_mean: np.ndarray,
    n_slots: int,
    n_samples: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Channel gains of the next ``n_slots`` slots along ``n_samples`` sampled FSMC paths.

    Parameters
    ----------
    large_gain : ndarray, shape (J, K)
        Link gains without small-scale fading (0 on incompatible links).
    levels_now : ndarray of int, shape (J, K)
        FSMC level of every link in the current slot.
    chain : ndarray of int, shape (J,)
        Which chain (index into ``transition`` / ``level_mean``) drives transmitter ``j``'s links.
    transition : ndarray, shape (n_chains, L, L)
        Row-stochastic FSMC transition matrices.
    level_mean : ndarray, shape (n_chains, L)
        Mean power gain of every level.
    n_slots, n_samples : int
        Future slots (>= 0) and sampled paths (>= 1).

    Returns
    -------
    ndarray, shape (n_samples, J, K, n_slots)
    """
    lv = sample_future_levels(levels_now, chain, transition, n_slots, n_samples, rng)
    return gains_of_levels(large_gain, lv, chain, level_mean)


def sample_future_levels(
    levels_now: np.ndarray,
    chain: np.ndarray,
    transition: np.ndarray,
    n_slots: int,
    n_samples: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """FSMC levels of the next ``n_slots`` slots along ``n_samples`` sampled paths.

    Same arguments as :func:`sample_future_gains` (which calls it, so both consume the
    generator identically); returns ints of shape (n_samples, J, K, n_slots).
    """
    J, K = levels_now.shape  # noqa: N806
    if n_samples < 1 or n_slots < 0:
        raise ValueError(f"n_samples must be >= 1 and n_slots >= 0, got {n_samples}, {n_slots}")
    out = np.zeros((n_samples, J, K, n_slots), dtype=np.int64)
    if n_slots == 0:
        return out
    for c in np.unique(chain):
        rows_j = np.flatnonzero(chain == c)
        init = np.broadcast_to(levels_now[rows_j], (n_samples, rows_j.size, K)).reshape(-1)
        lv = sample_levels(rng, transition[c], init.size, n_slots + 1, init)[:, 1:]
        out[:, rows_j] = lv.reshape(n_samples, rows_j.size, K, n_slots)
    return out


def gains_of_levels(large_gain: np.ndarray, levels: np.ndarray, chain: np.ndarray,
                    level_mean: np.ndarray) -> np.ndarray:
    """Gains ``large_gain x level mean`` of level paths ``levels`` (..., J, K, n); same shape."""
    J = large_gain.shape[0]  # noqa: N806
    out = np.empty(levels.shape)
    for j in range(J):
        out[..., j, :, :] = large_gain[j][:, None] * level_mean[chain[j]][levels[..., j, :, :]]
    return out


def _slot_view(inst: LinkGroupInstance, gain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bits, ok) of shape (J, K, 2^J, T') for ``inst`` with its gains replaced by ``gain``."""
    v = link_view(dataclasses.replace(inst, gain=gain))
    return v.bits, v.ok


def rollout_group(
    inst: LinkGroupInstance,
    t: int,
    delivered: np.ndarray,
    future_gain: np.ndarray,
    spec: ObjectiveSpec = DEFAULT_SPEC,
    n_candidates: int = 64,
    local_search: int = 0,
) -> tuple[np.ndarray, dict[str, float]]:
    """The group of slot ``t`` chosen by the sampled-future rollout of GRD (module docstring).

    Parameters
    ----------
    inst : LinkGroupInstance
        The window; only the gains of slot ``t`` (the current, observed channel) are read.
    t : int
        Current slot in ``[0, T)``.
    delivered : ndarray, shape (K,)
        Bits delivered so far [bit].
    future_gain : ndarray, shape (S, J, K, T - t - 1)
        Sampled gains of the remaining slots (:func:`sample_future_gains`).
    n_candidates : int
        Candidate groups scored, >= 1 (GRD's group is always one of them).
    local_search : int
        Rounds of best-improvement local search after the candidates (0: none, the plain
        rollout): every round scores, on the same sampled paths, every valid group that differs
        from the best so far in one transmitter's link (another receiver, or idle) and moves to
        the best of them if it scores lower; stops when none does.  >= 0.

    Returns
    -------
    group : ndarray of int, shape (J,)
    info : dict
        ``n_candidates`` scored (local-search neighbours included), ``score`` (mean final F of
        the choice), ``score_grd`` (of GRD's group), ``chose_grd`` (1.0 if GRD's group was
        kept), ``ls_moves`` (local-search moves made).
    """
    J, K, T = inst.J, inst.K, inst.T  # noqa: N806
    if not 0 <= t < T:
        raise ValueError(f"t must be in [0, {T}), got {t}")
    if n_candidates < 1:
        raise ValueError(f"n_candidates must be >= 1, got {n_candidates}")
    if local_search < 0:
        raise ValueError(f"local_search must be >= 0, got {local_search}")
    S = future_gain.shape[0]  # noqa: N806
    if future_gain.shape != (S, J, K, T - t - 1):
        raise ValueError(f"future_gain must have shape (S, {J}, {K}, {T - t - 1}), got {future_gain.shape}")
    d0 = np.asarray(delivered, dtype=float)
    b_now, ok_now = _slot_view(inst, inst.gain[:, :, t : t + 1])
    b_now, ok_now = b_now[..., 0], ok_now[..., 0]  # (J, K, P)
    pw = 1 << np.arange(J)
    # candidates: GRD's group, then GRD completed from every link valid alone
    single = [(j, k) for j in range(J) for k in np.flatnonzero(ok_now[j, :, 1 << j])]
    init = -np.ones((1 + len(single), J), dtype=np.int64)
    for i, (j, k) in enumerate(single):
        init[1 + i, j] = k
    nb = init.shape[0]
    groups = greedy_batch(inst, np.broadcast_to(b_now, (nb, *b_now.shape)),
                          np.broadcast_to(ok_now, (nb, *ok_now.shape)), np.broadcast_to(d0, (nb, K)),
                          init, spec)
    _, first = np.unique(groups, axis=0, return_index=True)
    order = np.sort(first)  # keeps GRD's group (row 0) first
    groups = groups[order]

    def after(g: np.ndarray) -> np.ndarray:
        d = np.broadcast_to(d0, (g.shape[0], K)).copy()
        pat = (g >= 0) @ pw
        for j in range(J):
            on = g[:, j] >= 0
            d[np.flatnonzero(on), g[on, j]] += b_now[j, g[on, j], pat[on]]
        return d

    d1 = after(groups)
    f1 = np.atleast_1d(objective(inst, d1, spec))
    keep = np.r_[0, 1 + np.argsort(f1[1:], kind="stable")[: n_candidates - 1]]
    groups = groups[keep]
    n_fut = T - t - 1
    if n_fut > 0:
        views = [_slot_view(inst, future_gain[s]) for s in range(S)]
        bits_f = np.stack([v[0] for v in views])  # (S, J, K, P, n_fut)
        ok_f = np.stack([v[1] for v in views])

    def score(g: np.ndarray) -> np.ndarray:
        """Mean final F over the S paths of every first-slot group of ``g`` (C, J)."""
        C = g.shape[0]  # noqa: N806
        d = np.repeat(after(g), S, axis=0)  # (C*S, K), candidate-major
        if n_fut > 0:
            sidx = np.tile(np.arange(S), C)
            for tau in range(n_fut):
                bb = bits_f[sidx, ..., tau]
                oo = ok_f[sidx, ..., tau]
                a = greedy_batch(inst, bb, oo, d, None, spec)
                pat = (a >= 0) @ pw
                rows = np.arange(a.shape[0])
                for j in range(J):
                    on = a[:, j] >= 0
                    d[rows[on], a[on, j]] += bb[rows[on], j, a[on, j], pat[on]]
        return np.atleast_1d(objective(inst, d, spec)).reshape(C, S).mean(axis=1)

    sc = score(groups)
    i = int(np.argmin(sc))
    best, best_s = groups[i].copy(), float(sc[i])
    seen = {tuple(g) for g in groups}
    n_scored = groups.shape[0]
    moves = 0
    for _ in range(local_search):
        nbrs = _neighbours(best, ok_now, seen)
        if nbrs.shape[0] == 0:
            break
        seen.update(tuple(g) for g in nbrs)
        s_nbrs = score(nbrs)
        n_scored += nbrs.shape[0]
        i = int(np.argmin(s_nbrs))
        if not s_nbrs[i] < best_s - 1e-12 * max(1.0, abs(best_s)):
            break
        best, best_s = nbrs[i].copy(), float(s_nbrs[i])
        moves += 1
    return best, {"n_candidates": float(n_scored), "score": best_s, "score_grd": float(sc[0]),
                  "chose_grd": float((best == groups[0]).all()), "ls_moves": float(moves)}


def _neighbours(g: np.ndarray, ok_now: np.ndarray, seen: set[tuple[int, ...]]) -> np.ndarray:
    """Valid groups differing from ``g`` in one transmitter's link (re-pointed or idled), not in ``seen``."""
    J, K, _ = ok_now.shape  # noqa: N806
    pw = 1 << np.arange(J)
    out = []
    for j in range(J):
        for k in range(-1, K):
            if k == g[j] or (k >= 0 and (g == k).any()):
                continue
            h = g.copy()
            h[j] = k
            tup = tuple(int(v) for v in h)
            if tup in seen:
                continue
            pat = int((h >= 0) @ pw)
            on = np.flatnonzero(h >= 0)
            if ok_now[on, h[on], pat].all():
                out.append(h)
    return np.asarray(out, dtype=np.int64).reshape(-1, J)
