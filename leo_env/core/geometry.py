"""Satellite-ground and satellite-satellite geometry on ECEF arrays.

Positions are metres in an Earth-fixed frame.  ``sat`` arrays have shape (..., S, 3) (any number
of leading time axes), ``cell`` arrays (C, 3).  Results have shape (..., S, C) or (..., S, S).
Elevation uses the geodetic local vertical of each cell (WGS84) when ``cell_up`` is given, the
geocentric direction otherwise.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "R_EARTH_M",
    "elevation_deg",
    "slant_range_m",
    "zenith_cone_visible",
    "sat_distance_m",
    "isl_line_of_sight",
    "elevation_from_central_angle_deg",
    "coverage_central_angle_rad",
]

R_EARTH_M = 6_371_008.8
"""Mean Earth radius [m] (spherical formulas)."""


def _up(cell_ecef: np.ndarray, cell_up: np.ndarray | None) -> np.ndarray:
    if cell_up is not None:
        return np.asarray(cell_up, dtype=float)
    return cell_ecef / np.linalg.norm(cell_ecef, axis=-1, keepdims=True)


def elevation_deg(
    sat_ecef: np.ndarray, cell_ecef: np.ndarray, cell_up: np.ndarray | None = None
) -> np.ndarray:
    """Elevation angle [deg] of each satellite seen from each cell, shape (..., S, C).

    Computed with matrix products (no (..., S, C, 3) temporary):
    ``sin(el) = (r_s . u_c - r_c . u_c) / |r_s - r_c|`` and
    ``|r_s - r_c|^2 = |r_s|^2 + |r_c|^2 - 2 r_s . r_c``.
    """
    sat = np.asarray(sat_ecef, dtype=float)
    cell = np.asarray(cell_ecef, dtype=float)
    up = _up(cell, cell_up)
    sat_dot_up = sat @ up.T  # (..., S, C)
    cell_dot_up = np.einsum("ci,ci->c", cell, up)
    d2 = (
        np.einsum("...si,...si->...s", sat, sat)[..., None]
        + np.einsum("ci,ci->c", cell, cell)
        - 2.0 * (sat @ cell.T)
    )
    d = np.sqrt(np.maximum(d2, 1e-6))
    return np.degrees(np.arcsin(np.clip((sat_dot_up - cell_dot_up) / d, -1.0, 1.0)))


def slant_range_m(sat_ecef: np.ndarray, cell_ecef: np.ndarray) -> np.ndarray:
    """Distance [m] between each satellite and each cell, shape (..., S, C)."""
    sat = np.asarray(sat_ecef, dtype=float)
    cell = np.asarray(cell_ecef, dtype=float)
    d2 = (
        np.einsum("...si,...si->...s", sat, sat)[..., None]
        + np.einsum("ci,ci->c", cell, cell)
        - 2.0 * (sat @ cell.T)
    )
    return np.sqrt(np.maximum(d2, 0.0))


def zenith_cone_visible(
    sat_ecef: np.ndarray,
    cell_ecef: np.ndarray,
    half_angle_deg: float,
    cell_up: np.ndarray | None = None,
) -> np.ndarray:
    """True where the satellite lies inside the cone of ``half_angle_deg`` around the zenith.

    Equivalent to ``elevation >= 90 - half_angle_deg`` (used by GSL / DV-MOSS style models).
    """
    if not 0 < half_angle_deg <= 90:
        raise ValueError(f"half_angle_deg must be in (0, 90], got {half_angle_deg}")
    return elevation_deg(sat_ecef, cell_ecef, cell_up) >= 90.0 - half_angle_deg


def sat_distance_m(sat_ecef: np.ndarray) -> np.ndarray:
    """Pairwise satellite-to-satellite distance [m], shape (..., S, S)."""
    sat = np.asarray(sat_ecef, dtype=float)
    sq = np.einsum("...si,...si->...s", sat, sat)
    d2 = sq[..., :, None] + sq[..., None, :] - 2.0 * (sat @ np.swapaxes(sat, -1, -2))
    d = np.sqrt(np.maximum(d2, 0.0))
    idx = np.arange(sat.shape[-2])
    d[..., idx, idx] = 0.0
    return d


def isl_line_of_sight(sat_ecef: np.ndarray, grazing_altitude_m: float = 80e3) -> np.ndarray:
    """True where the straight link between two satellites clears the Earth plus a margin.

    The closest approach of segment ``r_i -> r_j`` to the Earth's centre must exceed
    ``R_EARTH_M + grazing_altitude_m`` (80 km keeps the beam above the dense atmosphere).
    """
    sat = np.asarray(sat_ecef, dtype=float)
    ri = sat[..., :, None, :]
    rj = sat[..., None, :, :]
    dvec = rj - ri
    dd = np.einsum("...k,...k->...", dvec, dvec)
    t = np.clip(-np.einsum("...k,...k->...", ri, dvec) / np.where(dd > 0, dd, 1.0), 0.0, 1.0)
    closest = ri + t[..., None] * dvec
    return np.linalg.norm(closest, axis=-1) > R_EARTH_M + grazing_altitude_m


def elevation_from_central_angle_deg(central_angle_rad: np.ndarray, altitude_m: float) -> np.ndarray:
    """Elevation [deg] on a spherical Earth from the Earth-central angle between cell and satellite.

    ``tan(el) = (cos g - R / (R + h)) / sin g``; independent of the ECEF formula (used in tests and
    for coverage sizes).
    """
    g = np.asarray(central_angle_rad, dtype=float)
    ratio = R_EARTH_M / (R_EARTH_M + altitude_m)
    return np.degrees(np.arctan2(np.cos(g) - ratio, np.sin(g)))


def coverage_central_angle_rad(altitude_m: float, min_elevation_deg: float) -> float:
    """Earth-central angle of the coverage disc above ``min_elevation_deg`` (spherical Earth)."""
    el = np.radians(min_elevation_deg)
    ratio = R_EARTH_M / (R_EARTH_M + altitude_m)
    return float(np.arccos(ratio * np.cos(el)) - el)


def slot_link_geometry(
    sat_ecef: np.ndarray,
    cell_ecef: np.ndarray,
    cell_up: np.ndarray,
    n_slots: int,
    fast_per_slot: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per slow slot: minimum elevation and mean inverse squared range over its boundaries.

    Parameters
    ----------
    sat_ecef : ndarray, shape (K*M+1, S, 3)
        Positions [m] at every fast-slot boundary.
    cell_ecef, cell_up : ndarray, shape (C, 3)
        Cell centres [m] and their local vertical.

    Returns
    -------
    el_min_deg : ndarray, shape (S, C, K)
        Minimum elevation over the ``M + 1`` boundaries of each slow slot [deg].
    inv_d2_mean : ndarray, shape (S, C, K)
        Mean of ``1 / d^2`` over the same boundaries [1/m^2] (the slot's mean free-space gain
        up to a constant).
    """
    sat = np.asarray(sat_ecef, dtype=float)
    K, M = n_slots, fast_per_slot  # noqa: N806
    if sat.shape[0] != K * M + 1:
        raise ValueError(f"sat_ecef must have K*M+1 = {K * M + 1} times, got {sat.shape[0]}")
    cell = np.asarray(cell_ecef, dtype=float)
    up = np.asarray(cell_up, dtype=float)
    S, C = sat.shape[1], cell.shape[0]  # noqa: N806
    cell_sq = np.einsum("ci,ci->c", cell, cell)
    cell_up_dot = np.einsum("ci,ci->c", cell, up)
    proj = np.concatenate([cell, up], axis=0).T  # (3, 2C): one matmul for both products
    el_min = np.empty((S, C, K))
    inv_d2 = np.empty((S, C, K))
    # Slots share their boundary times; compute each time once, then reduce per slot.
    step = max(1, int(4_000_000 // max(1, S * C * (M + 1))))
    for k0 in range(0, K, step):
        k1 = min(K, k0 + step)
        block = sat[k0 * M : k1 * M + 1]  # (T_b, S, 3)
        prod = block @ proj  # (T_b, S, 2C)
        d2 = np.einsum("tsi,tsi->ts", block, block)[..., None] + cell_sq - 2.0 * prod[..., :C]
        d2 = np.maximum(d2, 1.0)
        sin_el = (prod[..., C:] - cell_up_dot) / np.sqrt(d2)
        inv = 1.0 / d2
        for k in range(k0, k1):
            sl = slice((k - k0) * M, (k - k0) * M + M + 1)
            el_min[:, :, k] = sin_el[sl].min(axis=0)
            inv_d2[:, :, k] = inv[sl].mean(axis=0)
    el_min = np.degrees(np.arcsin(np.clip(el_min, -1.0, 1.0)))
    return el_min, inv_d2
