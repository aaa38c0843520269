"""Capacity proxies for P2 and their closed-form per-slot allocations.

Two proxies bound the satisfaction ``xi[c, k]`` that a cell can reach when it is associated to
satellite ``s`` in slow slot ``k`` (SPEC section 5):

separable (APEX's)
    ``xi <= min(1, rho[s, c, k] / D[c, k])`` with ``rho`` the bits per slow slot of the cell
    when it holds *all* of the satellite's PRBs and power, spread evenly over the ``M`` fast
    slots (:func:`full_satellite_bits`).  Cells do not interact.

coupled (this project's)
    cells on the same satellite share its pool through a share ``y``:
    ``xi <= min(1, y R[s, c, k] / D[c, k])``, ``sum_c y[s, c, k] <= 1``.  For a fixed
    association the best shares follow a water-filling with a closed form
    (:func:`waterfill`), and the Lagrangian per-slot value at price ``pi`` has a closed form
    too (:func:`dual_slot_value`).  ``R`` is built by :func:`coupled_rate_bits`; see
    ``docs/p2.md`` for how it was calibrated against exact P1.

Work is expressed through ``w = D / R``: the share of the satellite a cell needs to be fully
served.  Then ``xi = y / w`` and the water-filling shares are
``y_c(t) = min(w_c, max(0, t - eps w_c))`` for a common water level ``t = 1 / pi``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "full_satellite_bits",
    "coupled_rate_bits",
    "waterfill",
    "coupled_allocation",
    "dual_slot_value",
]


def full_satellite_bits(
    g: np.ndarray,
    N_PRB: np.ndarray | float,  # noqa: N803
    P_max: np.ndarray | float,  # noqa: N803
    W_PRB: float,  # noqa: N803
    N0: float,  # noqa: N803
    T_f: float,  # noqa: N803
    M: int,  # noqa: N803
) -> np.ndarray:
    """Bits per slow slot of a cell that holds all of a satellite's PRBs and power.

    ``rho = M T_f W_PRB N_PRB log2(1 + alpha P_max / N_PRB)`` with ``alpha = g / (W_PRB N0)``:
    power spread evenly over the PRBs and the ``M`` fast slots (optimal for one cell with a
    constant gain, by concavity).

    Parameters
    ----------
    g : ndarray
        Linear gain.
    N_PRB, P_max : ndarray or float
        PRBs per fast slot and power pool [W], broadcast with ``g``.
    W_PRB : float
        PRB bandwidth [Hz].
    N0 : float
        Noise density [W/Hz].
    T_f : float
        Fast-slot length [s].
    M : int
        Fast slots per slow slot.

    Returns
    -------
    ndarray
        Bits per slow slot, shape of ``g`` broadcast with the pools.
    """
    alpha = np.asarray(g, dtype=float) / (W_PRB * N0)
    snr = alpha * np.asarray(P_max, dtype=float) / np.asarray(N_PRB, dtype=float)
    return M * T_f * W_PRB * np.asarray(N_PRB, dtype=float) * np.log2(1.0 + snr)


def coupled_rate_bits(
    g: np.ndarray,
    N_PRB: np.ndarray | float,  # noqa: N803
    P_max: np.ndarray | float,  # noqa: N803
    W_PRB: float,  # noqa: N803
    N0: float,  # noqa: N803
    T_f: float,  # noqa: N803
    a: np.ndarray,
) -> np.ndarray:
    """Rate ``R`` per unit share of the coupled proxy [bit per slow slot].

    Parameters
    ----------
    g : ndarray, shape (C, L, K)
        Linear gain on the candidate view.
    N_PRB, P_max : ndarray, broadcastable to (C, L, K)
        Satellite pools.
    W_PRB, N0, T_f : float
        PRB bandwidth [Hz], noise density [W/Hz], fast-slot length [s].
    a : ndarray, shape (C, 1, K, M)
        Arrivals [bit per fast slot].

    Returns
    -------
    ndarray, shape (C, L, K)
        ``R``: a share ``y`` of both the PRBs and the power of the satellite serves
        ``y R`` bits per slow slot.
    """
    M = a.shape[-1]  # noqa: N806
    return full_satellite_bits(g, N_PRB, P_max, W_PRB, N0, T_f, M)


@njit(cache=True)
def _water_level(w: np.ndarray, eps: float) -> float:
    """Water level ``t`` with ``sum_c min(w_c, max(0, t - eps w_c)) = 1``; inf if sum(w) <= 1."""
    n = w.size
    tot = 0.0
    for i in range(n):
        tot += w[i]
    if tot <= 1.0:
        return np.inf
    bp = np.empty(2 * n)
    for i in range(n):
        bp[i] = eps * w[i]
        bp[n + i] = (1.0 + eps) * w[i]
    order = np.argsort(bp)
    slope = 0.0
    offset = 0.0
    for j in range(2 * n):
        idx = order[j]
        tb = bp[idx]
        if slope > 0.0 and slope * tb + offset >= 1.0:
            return (1.0 - offset) / slope
        if idx < n:
            slope += 1.0
            offset -= eps * w[idx]
        else:
            i = idx - n
            slope -= 1.0
            offset += eps * w[i] + w[i]
    return np.inf  # pragma: no cover - sum(w) > 1 guarantees a crossing


@njit(cache=True)
def _waterfill_into(w: np.ndarray, eps: float, xi: np.ndarray, y: np.ndarray) -> float:
    """Fill ``xi`` and ``y`` for finite ``w > 0``; returns the price ``pi = 1 / t``."""
    t = _water_level(w, eps)
    for i in range(w.size):
        if t == np.inf:
            xi[i] = 1.0
        else:
            v = t / w[i] - eps
            xi[i] = 0.0 if v < 0.0 else (1.0 if v > 1.0 else v)
        y[i] = w[i] * xi[i]
    return 0.0 if t == np.inf else 1.0 / t


def waterfill(w: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Best shares of one satellite pool for cells needing shares ``w`` (coupled proxy).

    Solves ``max sum_c log(eps + xi_c)`` s.t. ``sum_c w_c xi_c <= 1``, ``0 <= xi_c <= 1`` in
    closed form: ``xi_c = clip(t / w_c - eps, 0, 1)`` with the level ``t`` found by sorting the
    ``2n`` breakpoints of the piecewise-linear total share.

    Parameters
    ----------
    w : ndarray, shape (n,)
        Share each cell needs to be fully served (``D / R``), finite and > 0.
    eps : float
        Utility offset.

    Returns
    -------
    xi : ndarray, shape (n,)
        Satisfaction.
    y : ndarray, shape (n,)
        Shares (sum <= 1).
    price : float
        Multiplier of the pool constraint (0 when every cell is fully served).
    """
    w = np.ascontiguousarray(w, dtype=float)
    if w.ndim != 1 or np.any(~np.isfinite(w)) or np.any(w <= 0):
        raise ValueError("w must be a 1-D array of finite values > 0")
    xi = np.empty_like(w)
    y = np.empty_like(w)
    price = _waterfill_into(w, float(eps), xi, y)
    return xi, y, price


@njit(cache=True)
def _coupled_alloc(
    path_l: np.ndarray, cand: np.ndarray, w: np.ndarray, eps: float, S: int  # noqa: N803
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    C, K = path_l.shape  # noqa: N806
    xi = np.full((C, K), np.nan)
    y = np.zeros((C, K))
    price = np.zeros((S, K))
    head = np.empty(S, np.int64)
    nxt = np.empty(C, np.int64)
    buf_w = np.empty(C)
    buf_c = np.empty(C, np.int64)
    buf_xi = np.empty(C)
    buf_y = np.empty(C)
    for k in range(K):
        head[:] = -1
        for c in range(C - 1, -1, -1):
            li = path_l[c, k]
            if li < 0:
                continue
            s = cand[c, li]
            nxt[c] = head[s]
            head[s] = c
        for s in range(S):
            n = 0
            c = head[s]
            while c >= 0:
                wc = w[c, path_l[c, k], k]
                if wc == 0.0:
                    pass  # zero demand: left out, xi stays nan
                elif wc == np.inf:
                    xi[c, k] = 0.0
                else:
                    buf_w[n] = wc
                    buf_c[n] = c
                    n += 1
                c = nxt[c]
            if n == 0:
                continue
            pr = _waterfill_into(buf_w[:n], eps, buf_xi[:n], buf_y[:n])
            price[s, k] = pr
            for i in range(n):
                xi[buf_c[i], k] = buf_xi[i]
                y[buf_c[i], k] = buf_y[i]
    return xi, y, price


def coupled_allocation(
    path_l: np.ndarray, cand: np.ndarray, w: np.ndarray, eps: float, S: int  # noqa: N803
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact coupled-proxy allocation for a fixed association, slot by slot.

    Parameters
    ----------
    path_l : ndarray of int, shape (C, K)
        Candidate index of each cell's satellite per slot (``-1``: unserved).
    cand : ndarray of int, shape (C, L)
        Candidate satellites per cell.
    w : ndarray, shape (C, L, K)
        ``D / R`` (0 for zero demand, inf when ``R = 0``).
    eps : float
        Utility offset.
    S : int
        Number of satellites.

    Returns
    -------
    xi : ndarray, shape (C, K)
        Satisfaction (nan for zero-demand cell-slots).
    y : ndarray, shape (C, K)
        Share of the serving satellite.
    price : ndarray, shape (S, K)
        Pool multipliers (0 where the pool is not congested).
    """
    return _coupled_alloc(
        np.ascontiguousarray(path_l, dtype=np.int64), np.ascontiguousarray(cand, dtype=np.int64),
        np.ascontiguousarray(w, dtype=float), float(eps), int(S),
    )


def dual_slot_value(pi: np.ndarray, w: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Lagrangian per-slot value ``max_{0 <= y <= min(1, w)} log(eps + y / w) - pi y``.

    Closed form: ``y* = clip(1 / pi - eps w, 0, min(1, w))``.

    Parameters
    ----------
    pi : ndarray
        Pool prices (>= 0), broadcast with ``w``.
    w : ndarray
        ``D / R`` (0: zero demand, value 0; inf: no rate, value ``log(eps)``).
    eps : float
        Utility offset.

    Returns
    -------
    phi : ndarray
        Per-slot value.
    y : ndarray
        Maximising share.
    """
    pi = np.asarray(pi, dtype=float)
    w = np.asarray(w, dtype=float)
    finite = (w > 0) & np.isfinite(w)
    ws = np.where(finite, w, 1.0)
    with np.errstate(divide="ignore"):
        t = np.where(pi > 0, 1.0 / np.where(pi > 0, pi, 1.0), np.inf)
    y = np.clip(t - eps * ws, 0.0, np.minimum(ws, 1.0))
    y = np.where(finite, y, 0.0)
    phi = np.log(eps + y / ws) - pi * y
    phi = np.where(finite, phi, np.where(w == 0, 0.0, np.log(eps)))
    return phi, y
