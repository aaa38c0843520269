"""Link groups of an integrated LEO-terrestrial cell: instance arrays, SINR, bits, enumeration.

A *link group* is a set of simultaneous transmitter -> receiver links with at most one link per
transmitter and per receiver (unicast), every link compatible.  It is stored as an assignment
vector ``a`` of length ``J``: ``a[j]`` is the receiver served by transmitter ``j`` or ``-1``.

SINR of link ``(j, k)`` in a group whose active transmitters form the set ``P``::

    sinr = p_j h[j, k, t] / (sum_{j' in P, j' != j, band(j') = band(j)} p_j' h[j', k, t] + N0 B_band(j))

and the bits delivered in one slot are ``dt B_band(j) log2(1 + sinr)``.  A group is valid in
slot ``t`` when every link is compatible, serves an active receiver and meets the receiver's
SINR threshold.

Compact per-link view: since interference only depends on *which* same-band transmitters are
active (not on whom they serve), the bits and SINR of every link under every activity pattern
``P`` (a bit mask over the ``J`` transmitters) form an array of shape ``(J, K, 2^J, T)``; a group
is a pattern plus a matching of its transmitters to distinct receivers.  The exact optimiser and
ADMM work on this view, so they never enumerate groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = [
    "LinkGroupInstance",
    "LinkView",
    "link_view",
    "pattern_of",
    "slot_links",
    "schedule_delivered",
    "count_groups",
    "enumerate_groups",
    "group_valid",
    "group_index",
    "group_embedding",
]


def _arr(name: str, x, dtype=float) -> np.ndarray:
    a = np.asarray(x, dtype=dtype)
    if dtype is float and not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must hold finite numbers")
    return a


@dataclass(frozen=True, eq=False)
class LinkGroupInstance:
    """One deadline window of the link-group scheduling problem (arrays only).

    Attributes
    ----------
    tx_power_w : ndarray, shape (J,)
        Transmit power of every transmitter [W], > 0.
    tx_band : ndarray of int, shape (J,)
        Band id of every transmitter (index into ``bandwidth_hz``).
    bandwidth_hz : ndarray, shape (n_bands,)
        Bandwidth of every band [Hz], > 0.
    noise_w : ndarray, shape (n_bands,)
        Noise power ``N0 B`` of every band [W], > 0.
    dt_s : float
        Slot duration [s], > 0.
    compat : ndarray of bool, shape (J, K)
        Compatibility of transmitter ``j`` and receiver ``k``.
    gain : ndarray, shape (J, K, T)
        Channel power gain of every link and slot (antenna gains, path loss, fading), >= 0.
    demand_bits : ndarray, shape (K,)
        Requested bits ``D_k`` [bit], > 0 for active receivers.
    min_bits : ndarray, shape (K,)
        Bits needed to count as served ``D_k_min`` [bit], ``0 <= D_k_min <= D_k``.
    weight : ndarray, shape (K,)
        Priority weights ``w_k`` >= 0.
    sinr_th : ndarray, shape (K,)
        SINR thresholds (linear) >= 0.
    active : ndarray of bool, shape (K,)
        Receivers present in this window (inactive ones cannot be served and do not count).
    """

    tx_power_w: np.ndarray
    tx_band: np.ndarray
    bandwidth_hz: np.ndarray
    noise_w: np.ndarray
    dt_s: float
    compat: np.ndarray
    gain: np.ndarray
    demand_bits: np.ndarray
    min_bits: np.ndarray
    weight: np.ndarray
    sinr_th: np.ndarray
    active: np.ndarray

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "tx_power_w", _arr("tx_power_w", self.tx_power_w))
        s(self, "tx_band", _arr("tx_band", self.tx_band, np.int64))
        s(self, "bandwidth_hz", _arr("bandwidth_hz", self.bandwidth_hz))
        s(self, "noise_w", _arr("noise_w", self.noise_w))
        s(self, "compat", np.asarray(self.compat, dtype=bool))
        s(self, "gain", _arr("gain", self.gain))
        s(self, "demand_bits", _arr("demand_bits", self.demand_bits))
        s(self, "min_bits", _arr("min_bits", self.min_bits))
        s(self, "weight", _arr("weight", self.weight))
        s(self, "sinr_th", _arr("sinr_th", self.sinr_th))
        s(self, "active", np.asarray(self.active, dtype=bool))
        J = self.tx_power_w.shape[0]  # noqa: N806
        if self.tx_power_w.ndim != 1 or J < 1 or J > 8:
            raise ValueError(f"tx_power_w must have shape (J,) with 1 <= J <= 8, got {self.tx_power_w.shape}")
        if np.any(self.tx_power_w <= 0):
            raise ValueError("tx_power_w must be > 0 [W]")
        nb = self.bandwidth_hz.shape[0]
        if self.tx_band.shape != (J,) or np.any((self.tx_band < 0) | (self.tx_band >= nb)):
            raise ValueError(f"tx_band must have shape ({J},) with values in [0, {nb})")
        if self.noise_w.shape != (nb,) or np.any(self.noise_w <= 0) or np.any(self.bandwidth_hz <= 0):
            raise ValueError("bandwidth_hz and noise_w must be > 0, one per band")
        if not (np.isfinite(self.dt_s) and self.dt_s > 0):
            raise ValueError(f"dt_s must be finite and > 0 [s], got {self.dt_s}")
        if self.gain.ndim != 3 or self.gain.shape[0] != J or np.any(self.gain < 0):
            raise ValueError(f"gain must have shape (J={J}, K, T) with values >= 0")
        K = self.gain.shape[1]  # noqa: N806
        for name in ("demand_bits", "min_bits", "weight", "sinr_th", "active"):
            if getattr(self, name).shape != (K,):
                raise ValueError(f"{name} must have shape ({K},)")
        if self.compat.shape != (J, K):
            raise ValueError(f"compat must have shape ({J}, {K})")
        if np.any(self.weight < 0) or np.any(self.sinr_th < 0) or np.any(self.min_bits < 0):
            raise ValueError("weight, sinr_th and min_bits must be >= 0")
        if np.any(self.min_bits > self.demand_bits + 1e-9):
            raise ValueError("min_bits must be <= demand_bits")
        if np.any(self.demand_bits[self.active] <= 0):
            raise ValueError("demand_bits must be > 0 for active receivers")

    @property
    def J(self) -> int:  # noqa: N802
        """Number of transmitters."""
        return int(self.tx_power_w.shape[0])

    @property
    def K(self) -> int:  # noqa: N802
        """Number of receivers (active or not)."""
        return int(self.gain.shape[1])

    @property
    def T(self) -> int:  # noqa: N802
        """Number of slots in the deadline window."""
        return int(self.gain.shape[2])

    @property
    def usable(self) -> np.ndarray:
        """``compat`` restricted to active receivers, shape (J, K)."""
        return self.compat & self.active[None, :]


class LinkView(NamedTuple):
    """Compact per-link view, every array of shape (J, K, 2^J, T).

    Attributes
    ----------
    sinr : ndarray
        SINR (linear) of link (j, k) when the transmitters of pattern ``P`` are active (defined
        for ``j in P``; 0 elsewhere).
    bits : ndarray
        Bits delivered by the link in one slot [bit] (0 where ``ok`` is False).
    ok : ndarray of bool
        ``j in P``, compatible, receiver active and SINR >= threshold.
    """

    sinr: np.ndarray
    bits: np.ndarray
    ok: np.ndarray


def link_view(inst: LinkGroupInstance) -> LinkView:
    """SINR, bits and validity of every link under every activity pattern (module docstring)."""
    J, K, T = inst.J, inst.K, inst.T  # noqa: N806
    n_p = 1 << J
    contrib = inst.tx_power_w[:, None, None] * inst.gain  # (J, K, T)
    nb = inst.bandwidth_hz.shape[0]
    sinr = np.zeros((J, K, n_p, T))
    members = ((np.arange(n_p)[None, :] >> np.arange(J)[:, None]) & 1).astype(bool)  # (J, P)
    band_onehot = inst.tx_band[:, None] == np.arange(nb)[None, :]  # (J, nb)
    for p in range(1, n_p):
        inp = members[:, p]
        tot = np.einsum("jb,jkt->bkt", band_onehot & inp[:, None], contrib)  # (nb, K, T)
        interf = tot[inst.tx_band] - contrib  # (J, K, T) (for j in P)
        noise = inst.noise_w[inst.tx_band][:, None, None]
        s = contrib / (np.maximum(interf, 0.0) + noise)
        sinr[inp, :, p, :] = s[inp]
    usable = inst.usable
    ok = (
        members[:, None, :, None]
        & usable[:, :, None, None]
        & (sinr >= inst.sinr_th[None, :, None, None])
    )
    rate = inst.dt_s * inst.bandwidth_hz[inst.tx_band][:, None, None, None] * np.log2(1.0 + sinr)
    return LinkView(sinr, np.where(ok, rate, 0.0), ok)


def pattern_of(assign: np.ndarray) -> np.ndarray:
    """Activity pattern (bit mask) of assignment vectors ``(..., J)``."""
    a = np.asarray(assign)
    return ((a >= 0).astype(np.int64) << np.arange(a.shape[-1])).sum(axis=-1)


def slot_links(
    inst: LinkGroupInstance, assign: np.ndarray, t: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SINR, bits and validity of each link of one group in slot ``t`` (direct computation).

    Parameters
    ----------
    assign : ndarray of int, shape (J,)
        Receiver of every transmitter or -1.
    t : int
        Slot index in ``[0, T)``.

    Returns
    -------
    sinr, bits, ok : ndarray, shape (J,)
        Per transmitter (0 / 0 / True for idle transmitters).  ``ok`` is False for an
        incompatible or inactive receiver, a receiver served twice, or an SINR below threshold.
    """
    a = np.asarray(assign, dtype=np.int64)
    J = inst.J  # noqa: N806
    if a.shape != (J,) or np.any((a < -1) | (a >= inst.K)):
        raise ValueError(f"assign must have shape ({J},) with values in [-1, {inst.K})")
    if not 0 <= t < inst.T:
        raise ValueError(f"t must be in [0, {inst.T}), got {t}")
    on = a >= 0
    k = np.maximum(a, 0)
    contrib = inst.tx_power_w[:, None] * inst.gain[:, :, t]  # (J, K)
    sig = contrib[np.arange(J), k]
    same = (inst.tx_band[:, None] == inst.tx_band[None, :]) & on[None, :] & ~np.eye(J, dtype=bool)
    interf = (same * contrib[:, k].T).sum(axis=1)  # interf[j] = sum_{j'} contrib[j', k_j]
    sinr = np.where(on, sig / (interf + inst.noise_w[inst.tx_band]), 0.0)
    dup = np.zeros(J, dtype=bool)
    if on.any():
        vals, cnt = np.unique(a[on], return_counts=True)
        dup[on] = np.isin(a[on], vals[cnt > 1])
    ok = ~on | (inst.usable[np.arange(J), k] & (sinr >= inst.sinr_th[k]) & ~dup)
    bits = np.where(on & ok, inst.dt_s * inst.bandwidth_hz[inst.tx_band] * np.log2(1.0 + sinr), 0.0)
    return sinr, bits, ok


def schedule_delivered(inst: LinkGroupInstance, links: np.ndarray) -> tuple[np.ndarray, bool]:
    """Bits delivered to every receiver by a schedule ``links`` (T, J); and whether it is valid."""
    lk = np.asarray(links, dtype=np.int64)
    if lk.shape != (inst.T, inst.J):
        raise ValueError(f"links must have shape ({inst.T}, {inst.J}), got {lk.shape}")
    d = np.zeros(inst.K)
    valid = True
    for t in range(inst.T):
        _, bits, ok = slot_links(inst, lk[t], t)
        valid &= bool(ok.all())
        on = lk[t] >= 0
        np.add.at(d, lk[t][on], bits[on])
    return d, valid


def count_groups(compat: np.ndarray) -> int:
    """Exact number of link groups (unicast partial matchings, the empty group included).

    Dynamic programme over receivers with the set of used transmitters as state:
    ``O(K 2^J J)``; Python integers, so no overflow.
    """
    c = np.asarray(compat, dtype=bool)
    J, K = c.shape  # noqa: N806
    dp = [0] * (1 << J)
    dp[0] = 1
    for k in range(K):
        new = list(dp)
        js = np.flatnonzero(c[:, k])
        for mask in range(1 << J):
            if dp[mask]:
                for j in js:
                    if not (mask >> j) & 1:
                        new[mask | (1 << j)] += dp[mask]
        dp = new
    return int(sum(dp))


def enumerate_groups(compat: np.ndarray, max_bytes: int = 256 * 2**20) -> np.ndarray:
    """All link groups as assignment vectors, shape (G, J); row 0 is the empty group.

    Rows are in lexicographic order of ``(a_0, ..., a_{J-1})`` with ``-1`` (idle) first.

    Raises
    ------
    ValueError
        If the table would need more than ``max_bytes`` (the exact count comes from
        :func:`count_groups` before anything is allocated).
    """
    c = np.asarray(compat, dtype=bool)
    J, _ = c.shape  # noqa: N806
    n = count_groups(c)
    need = n * J * 8
    if need > max_bytes:
        raise ValueError(
            f"enumerate_groups: {n} link groups x {J} transmitters need {need / 2**20:.1f} MiB, "
            f"more than max_bytes={max_bytes / 2**20:.1f} MiB; use fewer receivers, a tighter "
            "compatibility, or the compact per-link view (link_view) instead"
        )
    rows = np.zeros((1, 0), dtype=np.int64)
    for j in range(J):
        opts = np.r_[-1, np.flatnonzero(c[j])].astype(np.int64)
        rep = np.repeat(rows, len(opts), axis=0)
        col = np.tile(opts, len(rows))
        keep = (col < 0) | ~(rep == col[:, None]).any(axis=1)
        rows = np.column_stack([rep[keep], col[keep]])
    assert len(rows) == n
    return rows


def group_valid(groups: np.ndarray, view: LinkView) -> np.ndarray:
    """Validity of every group in every slot, shape (G, T), from the compact view."""
    g = np.asarray(groups, dtype=np.int64)
    G, J = g.shape  # noqa: N806
    p = pattern_of(g)
    out = np.ones((G, view.ok.shape[-1]), dtype=bool)
    for j in range(J):
        on = g[:, j] >= 0
        out[on] &= view.ok[j, g[on, j], p[on], :]
    return out


def group_index(groups: np.ndarray, assign: np.ndarray) -> int:
    """Row of ``assign`` in the group table (``-1`` if absent)."""
    hit = np.flatnonzero((np.asarray(groups) == np.asarray(assign)[None, :]).all(axis=1))
    return int(hit[0]) if hit.size else -1


def group_embedding(groups: np.ndarray, n_receivers: int) -> np.ndarray:
    """Binary link-activation vectors of groups, shape (G, J * K) float32.

    Entry ``j * K + k`` is 1 when the group has link ``(j, k)``.  In this embedding the nearest
    neighbours of a group are the groups that differ by few links (the action embedding offered
    for Wolpertinger-style k-NN in the family spec).
    """
    g = np.asarray(groups, dtype=np.int64)
    if g.ndim != 2 or np.any(g >= n_receivers) or np.any(g < -1):
        raise ValueError(f"groups must have shape (G, J) with values in [-1, {n_receivers})")
    G, J = g.shape  # noqa: N806
    out = np.zeros((G, J * n_receivers), dtype=np.float32)
    rows, js = np.nonzero(g >= 0)
    out[rows, js * n_receivers + g[rows, js]] = 1.0
    return out
