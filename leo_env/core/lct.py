"""Laser communication terminals (LCTs): mounting directions, field of regard, connectable pairs.

Satellites are nadir-pointing rigid bodies.  Each carries 1 to 4 LCTs with body-fixed mounting
directions, expressed in the inertial frame from the satellite's position ``r`` and velocity
``v``: LCT 0 along ``+v_hat``, LCT 1 along ``-v_hat``, LCT 2 along the orbit normal
``+h_hat = r x v / |r x v|`` and LCT 3 along ``-h_hat`` (two LCTs: fore/aft, DuJo's default; four:
fore/aft and both sides).  An LCT steers within a cone of half angle ``theta`` (its field of
regard) around its mounting direction.

LCTs ``n`` (on satellite ``i``) and ``m`` (on satellite ``j != i``) are *connectable* when

    z_ij <= z_max,   d_ij . u_n > cos(theta),   d_ji . u_m > cos(theta),

with ``d_ij = (r_j - r_i) / z_ij``.  Candidate satellite pairs come from a KD-tree
(:class:`scipy.spatial.cKDTree`) so the cost is linear in the number of close pairs.  Earth
occlusion is optional (it never binds at ``z_max = 3000 km`` for LEO shells).

The result is an :class:`LctGraph`: the connectable LCT pairs ``E`` (each with its satellite pair
and rate) and the undirected satellite pairs ``L`` that have at least one connectable LCT pair.
Directed satellite pair ``(i, j)`` of undirected link ``l = (i, j)``, ``i < j``, has arc index
``2 l`` and ``(j, i)`` has ``2 l + 1``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

__all__ = [
    "MAX_LCTS_PER_SAT",
    "mounting_directions",
    "LctGraph",
    "connectable_pairs",
    "segment_clears_earth",
]

#: Largest number of LCTs per satellite supported by :func:`mounting_directions`.
MAX_LCTS_PER_SAT = 4


def _unit(x: np.ndarray, what: str) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    if np.any(n <= 0.0):
        raise ValueError(f"{what} has a zero-length vector")
    return x / n


def mounting_directions(
    pos_m: ArrayLike, vel_m_s: ArrayLike, lcts_per_sat: int | ArrayLike = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Inertial mounting directions of every LCT.

    Parameters
    ----------
    pos_m : array_like, shape (I, 3)
        Satellite positions in an inertial frame (e.g. TEME) [m].
    vel_m_s : array_like, shape (I, 3)
        Inertial velocities in the same frame [m/s].
    lcts_per_sat : int or array_like of int, shape (I,)
        Number of LCTs of each satellite, in [1, 4] (order: +v, -v, +h, -h).

    Returns
    -------
    lct_sat : ndarray of int64, shape (N,)
        Satellite of each LCT (non-decreasing).
    lct_dir : ndarray, shape (N, 3)
        Unit mounting direction of each LCT.
    """
    r = np.asarray(pos_m, dtype=float)
    v = np.asarray(vel_m_s, dtype=float)
    if r.ndim != 2 or r.shape[1] != 3 or v.shape != r.shape:
        raise ValueError(f"pos_m and vel_m_s must both have shape (I, 3), got {r.shape}, {v.shape}")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(v))):
        raise ValueError("pos_m and vel_m_s must be finite")
    n_sats = r.shape[0]
    k = np.broadcast_to(np.asarray(lcts_per_sat), (n_sats,))
    if not np.issubdtype(k.dtype, np.integer) or np.any((k < 1) | (k > MAX_LCTS_PER_SAT)):
        raise ValueError(f"lcts_per_sat must be integers in [1, {MAX_LCTS_PER_SAT}]")
    v_hat = _unit(v, "vel_m_s")
    h_hat = _unit(np.cross(r, v), "pos_m x vel_m_s")
    frame = np.stack([v_hat, -v_hat, h_hat, -h_hat], axis=1)  # (I, 4, 3)
    keep = np.arange(MAX_LCTS_PER_SAT)[None, :] < k[:, None]
    lct_sat = np.repeat(np.arange(n_sats, dtype=np.int64), k)
    return lct_sat, frame[keep]


def segment_clears_earth(
    pos_a_m: np.ndarray, pos_b_m: np.ndarray, earth_radius_m: float, margin_m: float = 80e3
) -> np.ndarray:
    """True where segment ``a -> b`` stays above ``earth_radius_m + margin_m``, shape (P,)."""
    d = pos_b_m - pos_a_m
    dd = np.einsum("pk,pk->p", d, d)
    t = np.clip(-np.einsum("pk,pk->p", pos_a_m, d) / np.where(dd > 0, dd, 1.0), 0.0, 1.0)
    closest = pos_a_m + t[:, None] * d
    return np.linalg.norm(closest, axis=1) > earth_radius_m + margin_m


@dataclass(frozen=True, eq=False)
class LctGraph:
    """Connectable LCT pairs and satellite pairs of one constellation snapshot.

    Attributes
    ----------
    n_sats : int
        Number of satellites I.
    lct_sat : ndarray of int64, shape (N,)
        Satellite of each LCT.
    lct_dir : ndarray, shape (N, 3)
        Unit mounting direction of each LCT (inertial frame).
    pair_lct : ndarray of int64, shape (E, 2)
        Connectable LCT pairs ``(n, m)`` with ``lct_sat[n] < lct_sat[m]``, sorted by link.
    pair_link : ndarray of int64, shape (E,)
        Undirected satellite pair (index into ``link_sat``) of each LCT pair.
    pair_rate_bps : ndarray, shape (E,)
        Effective rate ``r_nm`` of each LCT pair [bit/s].
    pair_align : ndarray, shape (E,)
        Pointing alignment ``d_{i_n i_m} . u_n + d_{i_m i_n} . u_m`` in (2 cos theta, 2].
    link_sat : ndarray of int64, shape (L, 2)
        Undirected satellite pairs ``(i, j)``, ``i < j``, with at least one LCT pair.
    link_distance_m : ndarray, shape (L,)
        Distance ``z_ij`` of each satellite pair [m].
    """

    n_sats: int
    lct_sat: np.ndarray
    lct_dir: np.ndarray
    pair_lct: np.ndarray
    pair_link: np.ndarray
    pair_rate_bps: np.ndarray
    pair_align: np.ndarray
    link_sat: np.ndarray
    link_distance_m: np.ndarray

    def __post_init__(self) -> None:
        for name in (
            "lct_sat",
            "lct_dir",
            "pair_lct",
            "pair_link",
            "pair_rate_bps",
            "pair_align",
            "link_sat",
            "link_distance_m",
        ):
            a = np.ascontiguousarray(getattr(self, name))
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    @property
    def n_lcts(self) -> int:
        """Number of LCTs N."""
        return int(self.lct_sat.shape[0])

    @property
    def n_pairs(self) -> int:
        """Number of connectable LCT pairs |E|."""
        return int(self.pair_lct.shape[0])

    @property
    def n_links(self) -> int:
        """Number of undirected satellite pairs |L| (arcs: 2 |L|)."""
        return int(self.link_sat.shape[0])

    @cached_property
    def arc_tail(self) -> np.ndarray:
        """Tail satellite of every arc, shape (2L,): arc ``2l`` is ``(i, j)``, ``2l+1`` is ``(j, i)``."""
        out = np.empty(2 * self.n_links, dtype=np.int64)
        out[0::2] = self.link_sat[:, 0]
        out[1::2] = self.link_sat[:, 1]
        out.setflags(write=False)
        return out

    @cached_property
    def arc_head(self) -> np.ndarray:
        """Head satellite of every arc, shape (2L,)."""
        out = np.empty(2 * self.n_links, dtype=np.int64)
        out[0::2] = self.link_sat[:, 1]
        out[1::2] = self.link_sat[:, 0]
        out.setflags(write=False)
        return out

    def link_capacity_bps(self, matched: np.ndarray) -> np.ndarray:
        """Capacity ``sum_{E_ij} r_nm c_nm`` of every undirected link for a 0/1 matching, (L,)."""
        c = np.asarray(matched, dtype=float)
        if c.shape != (self.n_pairs,):
            raise ValueError(f"matched must have shape ({self.n_pairs},), got {c.shape}")
        return np.bincount(self.pair_link, weights=c * self.pair_rate_bps, minlength=self.n_links)


def connectable_pairs(
    pos_m: ArrayLike,
    lct_sat: ArrayLike,
    lct_dir: ArrayLike,
    *,
    max_distance_m: float,
    half_angle_rad: float,
    rate_fn: Callable[[np.ndarray], np.ndarray],
    min_distance_m: float = 1e3,
    earth_radius_m: float | None = None,
    earth_margin_m: float = 80e3,
) -> LctGraph:
    """Connectable LCT pairs of a snapshot through a KD-tree on the satellite positions.

    Parameters
    ----------
    pos_m : array_like, shape (I, 3)
        Satellite positions (inertial frame, same as ``lct_dir``) [m].
    lct_sat, lct_dir : array_like
        Output of :func:`mounting_directions` (``lct_sat`` non-decreasing).
    max_distance_m : float
        Maximum LISL distance ``z_max`` > 0 [m].
    half_angle_rad : float
        Field-of-regard half angle ``theta`` in (0, pi] [rad].
    rate_fn : callable
        Maps an array of distances [m] to rates [bit/s] (e.g.
        :func:`leo_env.core.optical.effective_rate_bps`).
    min_distance_m : float, optional
        Pairs closer than this are ignored (coincident satellites have no direction) [m].
    earth_radius_m : float, optional
        When given, pairs whose segment dips below ``earth_radius_m + earth_margin_m`` are
        dropped (Earth occlusion); off by default.
    earth_margin_m : float, optional
        Grazing altitude of the occlusion test [m].

    Returns
    -------
    LctGraph
    """
    r = np.asarray(pos_m, dtype=float)
    sat = np.asarray(lct_sat, dtype=np.int64)
    u = np.asarray(lct_dir, dtype=float)
    if r.ndim != 2 or r.shape[1] != 3 or not np.all(np.isfinite(r)):
        raise ValueError(f"pos_m must be a finite (I, 3) array, got shape {r.shape}")
    n_sats = r.shape[0]
    if sat.ndim != 1 or u.shape != (sat.shape[0], 3):
        raise ValueError("lct_sat must have shape (N,) and lct_dir shape (N, 3)")
    if sat.size and (np.any(np.diff(sat) < 0) or sat[0] < 0 or sat[-1] >= n_sats):
        raise ValueError("lct_sat must be non-decreasing satellite indices in [0, I)")
    zmax = float(max_distance_m)
    if not math.isfinite(zmax) or zmax <= 0:
        raise ValueError(f"max_distance_m must be a finite number > 0, got {max_distance_m!r}")
    theta = float(half_angle_rad)
    if not math.isfinite(theta) or not 0.0 < theta <= math.pi:
        raise ValueError(f"half_angle_rad must be in (0, pi], got {half_angle_rad!r}")
    counts = np.bincount(sat, minlength=n_sats)
    kmax = max(int(counts.max(initial=0)), 1)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    table = np.full((n_sats, kmax), -1, dtype=np.int64)
    slot = np.arange(sat.shape[0]) - start[sat]
    table[sat, slot] = np.arange(sat.shape[0])

    sp = cKDTree(r).query_pairs(zmax, output_type="ndarray").astype(np.int64)
    if sp.size:
        sp = sp[np.lexsort((sp[:, 1], sp[:, 0]))]
    else:
        sp = np.zeros((0, 2), dtype=np.int64)
    dvec = r[sp[:, 1]] - r[sp[:, 0]]
    z = np.linalg.norm(dvec, axis=1)
    keep = (z >= float(min_distance_m)) & (z <= zmax)
    if earth_radius_m is not None:
        keep &= segment_clears_earth(r[sp[:, 0]], r[sp[:, 1]], earth_radius_m, earth_margin_m)
    sp, dvec, z = sp[keep], dvec[keep], z[keep]
    d_hat = dvec / np.where(z > 0, z, 1.0)[:, None]
    cos_t = math.cos(theta)
    n_idx = table[sp[:, 0]]  # (P, K)
    m_idx = table[sp[:, 1]]
    cos_n = np.einsum("pkc,pc->pk", u[np.maximum(n_idx, 0)], d_hat)
    cos_m = -np.einsum("pkc,pc->pk", u[np.maximum(m_idx, 0)], d_hat)
    ok_n = (n_idx >= 0) & (cos_n > cos_t)
    ok_m = (m_idx >= 0) & (cos_m > cos_t)
    p, a, b = np.nonzero(ok_n[:, :, None] & ok_m[:, None, :])
    used, pair_link = np.unique(p, return_inverse=True)
    pair_lct = np.stack([n_idx[p, a], m_idx[p, b]], axis=1)
    rate = np.asarray(rate_fn(z[p]), dtype=float)
    if rate.shape != p.shape or not np.all(np.isfinite(rate)) or np.any(rate < 0):
        raise ValueError("rate_fn must return finite rates >= 0 of the same shape as its input")
    return LctGraph(
        n_sats=n_sats,
        lct_sat=sat,
        lct_dir=u,
        pair_lct=pair_lct.reshape(-1, 2),
        pair_link=pair_link.astype(np.int64),
        pair_rate_bps=rate,
        pair_align=cos_n[p, a] + cos_m[p, b],
        link_sat=sp[used].reshape(-1, 2),
        link_distance_m=z[used],
    )
