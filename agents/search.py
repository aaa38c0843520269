"""Decision-time local search around a policy's choice on the one-slot coupled capacity proxy.

A cloned or RL policy scores every (cell, candidate) pair independently: it carries what the
oracle knows about the *future* (which satellite to hold for the coming slots, when to spend
the handover budget), but two cells can still pick the same satellite and overload it -- a
coordination error that costs utility in the very slot being decided.  The slot itself is
cheap to model: with the forecasts of the slot's demand ``D[c]`` and the full-satellite
capacities ``rho[c, s]`` (known orbits), the coupled proxy of P2 (docs/model.md section 4,
:mod:`oracles.p2.proxy`) gives each satellite's best split in closed form (water-filling).

:func:`local_search` starts from the policy's masked argmax and improves, cell by cell, the
one-slot objective

    ``J(a) = sum_s sum_{c on s, D[c] > 0} log(eps + xi[c]) - lambda_h * #handovers(a)``

(``xi`` from the water-filling of each satellite's cells with works ``w = D / rho``), moving a
cell only to allowed candidates whose logit is within ``delta`` of the cell's best logit: the
policy decides *which* choices are sensible for the future, the proxy breaks the ties within
the slot.  Every accepted move strictly increases ``J``; the search stops after ``passes``
sweeps or at a 1-opt point (no single-cell move within ``delta`` improves ``J``).  The result
is always allowed by the mask, so budget safety is unchanged.

:func:`slot_objective` is the readable numpy version of ``J`` (tests check the kernel against
it and against :func:`oracles.p2.proxy.waterfill`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from oracles.p2.proxy import _waterfill_into, waterfill

__all__ = ["local_search", "slot_objective"]


def slot_objective(
    sats: np.ndarray, cur: np.ndarray, demand: np.ndarray, rho: np.ndarray, eps: float, lambda_h: float
) -> float:
    """One-slot coupled-proxy objective ``J`` of serving cell ``c`` from satellite ``sats[c]``.

    Parameters
    ----------
    sats : ndarray of int, shape (C,)
        Serving satellite of every cell.
    cur : ndarray of int, shape (C,)
        Previous satellite (-1: none, the first association is free).
    demand : ndarray, shape (C,)
        Forecast demand of the slot [bit]; cells without demand are left out of the utility.
    rho : ndarray, shape (C, S)
        Full-satellite bits per slow slot.
    eps, lambda_h : float
        Utility offset and handover price.
    """
    total = 0.0
    for s in np.unique(sats):
        on = (sats == s) & (demand > 0)
        if on.any():
            xi, _, _ = waterfill(demand[on] / rho[on, s], eps)
            total += float(np.log(eps + xi).sum())
    handovers = int(((cur >= 0) & (sats != cur)).sum())
    return total - lambda_h * handovers


@njit(cache=True)
def _sat_utility(work: np.ndarray, members: np.ndarray, m: int, eps: float) -> float:
    """``sum log(eps + xi)`` of the water-filling of one satellite's ``m`` cells."""
    if m == 0:
        return 0.0
    w = np.empty(m)
    for i in range(m):
        w[i] = work[members[i]]
    xi = np.empty(m)
    _waterfill_into(w, eps, xi, np.empty(m))
    out = 0.0
    for i in range(m):
        out += np.log(eps + xi[i])
    return out


@njit(cache=True)
def _members(sats: np.ndarray, demand: np.ndarray, s: int, out: np.ndarray) -> int:
    m = 0
    for c in range(sats.size):
        if sats[c] == s and demand[c] > 0.0:
            out[m] = c
            m += 1
    return m


@njit(cache=True)
def _utility_of(sats: np.ndarray, demand: np.ndarray, rho: np.ndarray, s: int, buf: np.ndarray, work: np.ndarray,
                eps: float) -> float:
    m = _members(sats, demand, s, buf)
    for i in range(m):
        c = buf[i]
        work[c] = demand[c] / rho[c, s]
    return _sat_utility(work, buf, m, eps)


@njit(cache=True)
def _local_search(
    logits: np.ndarray, mask: np.ndarray, cand: np.ndarray, cur: np.ndarray, demand: np.ndarray,
    rho: np.ndarray, eps: float, lambda_h: float, delta: float, passes: int,
) -> np.ndarray:
    C, n = logits.shape  # noqa: N806
    S = rho.shape[1]  # noqa: N806
    choice = np.empty(C, dtype=np.int64)
    top = np.empty(C)
    for c in range(C):
        best, bj = -np.inf, -1
        for j in range(n):
            if mask[c, j] and (bj < 0 or logits[c, j] > best):
                best, bj = logits[c, j], j
        choice[c] = bj
        top[c] = best
    sats = np.empty(C, dtype=np.int64)
    for c in range(C):
        sats[c] = cand[c, choice[c]]
    buf = np.empty(C, dtype=np.int64)
    work = np.empty(C)
    util = np.zeros(S)
    for s in range(S):
        util[s] = _utility_of(sats, demand, rho, s, buf, work, eps)
    for _ in range(passes):
        moved = False
        for c in range(C):
            s0 = sats[c]
            h0 = 1.0 if (cur[c] >= 0 and s0 != cur[c]) else 0.0
            best_gain, best_j, best_u0, best_u1 = 1e-12, -1, 0.0, 0.0
            for j in range(n):
                if not mask[c, j] or j == choice[c] or logits[c, j] < top[c] - delta:
                    continue
                s1 = cand[c, j]
                if s1 == s0:
                    continue
                h1 = 1.0 if (cur[c] >= 0 and s1 != cur[c]) else 0.0
                sats[c] = s1
                u0 = _utility_of(sats, demand, rho, s0, buf, work, eps)
                u1 = _utility_of(sats, demand, rho, s1, buf, work, eps)
                sats[c] = s0
                gain = (u0 + u1 - util[s0] - util[s1]) - lambda_h * (h1 - h0)
                if gain > best_gain:
                    best_gain, best_j, best_u0, best_u1 = gain, j, u0, u1
            if best_j >= 0:
                s1 = cand[c, best_j]
                choice[c] = best_j
                sats[c] = s1
                util[s0], util[s1] = best_u0, best_u1
                moved = True
        if not moved:
            break
    return choice


def local_search(
    logits: np.ndarray,
    mask: np.ndarray,
    cand: np.ndarray,
    cur: np.ndarray,
    demand: np.ndarray,
    rho: np.ndarray,
    eps: float,
    lambda_h: float,
    delta: float = 3.0,
    passes: int = 2,
) -> np.ndarray:
    """Candidate index per cell: the masked argmax of ``logits`` improved on the slot's proxy.

    Parameters
    ----------
    logits : ndarray, shape (C, n)
        The policy's per-candidate logits.
    mask : ndarray of bool, shape (C, n)
        Allowed candidates (at least one per cell).
    cand : ndarray of int, shape (C, n)
        Satellite index of every candidate (-1: padding, never allowed).
    cur : ndarray of int, shape (C,)
        Previous satellite of every cell (-1: none).
    demand : ndarray, shape (C,)
        Forecast of the slot's demand [bit].
    rho : ndarray, shape (C, S)
        Full-satellite bits per slow slot of every (cell, satellite) in the slot.
    eps, lambda_h : float
        Utility offset and handover price of the scenario.
    delta : float
        Only candidates with ``logit >= max logit of the cell - delta`` are tried (0: the
        argmax itself; inf: every allowed candidate).
    passes : int
        Sweeps over the cells (>= 1).

    Returns
    -------
    ndarray of int64, shape (C,)
        Allowed candidate indices; ``slot_objective`` of the result >= that of the argmax.
    """
    if passes < 1:
        raise ValueError(f"passes must be >= 1, got {passes}")
    if not delta >= 0:
        raise ValueError(f"delta must be >= 0, got {delta}")
    mask = np.asarray(mask, dtype=np.bool_)
    if not mask.any(axis=1).all():
        raise ValueError("every cell needs at least one allowed candidate")
    return _local_search(
        np.ascontiguousarray(logits, dtype=np.float64), mask, np.ascontiguousarray(cand, dtype=np.int64),
        np.ascontiguousarray(cur, dtype=np.int64), np.ascontiguousarray(demand, dtype=np.float64),
        np.ascontiguousarray(rho, dtype=np.float64), float(eps), float(lambda_h), float(min(delta, 1e300)),
        int(passes),
    )
