"""Satellite-ground and satellite-satellite geometry on ECEF arrays.

Positions are metres in an Earth-fixed frame.  ``sat`` arrays have shape (..., S, 3) (any number
of leading time axes), ``cell`` arrays (C, 3).  Results have shape (..., S, C) or (..., S, S).
Elevation uses the geodetic local vertical of each cell (WGS84) when ``cell_up`` is given, the
geocentric direction otherwise.
"""

from __future__ import annotations

import os

import numba
import numpy as np

# The parallel kernels below run on numba's "workqueue" threading layer unless the user chose
# one (NUMBA_THREADING_LAYER).  numba's default on Linux is its GNU OpenMP layer, whose idle
# worker threads interfere with torch's CPU kernels in the same process: after a scenario build
# a masked-PPO decision on `medium` took 66 ms instead of 0.85 ms (`python -m benchmarks.decision`).
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"  # type: ignore[attr-defined]  # set from the environment at import

__all__ = [
    "R_EARTH_M",
    "elevation_deg",
    "slant_range_m",
    "zenith_cone_visible",
    "sat_distance_m",
    "isl_line_of_sight",
    "elevation_from_central_angle_deg",
    "coverage_central_angle_rad",
    "slot_link_geometry",
    "any_slot_visible",
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


def elevation_from_central_angle_deg(
    central_angle_rad: np.ndarray, altitude_m: float
) -> np.ndarray:
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


@numba.njit(cache=True, parallel=True)
def _slot_kernel(sat, cell, up, n_slots, fast_per_slot, sin_min, inv_mean):  # pragma: no cover
    n_sat, n_cell = sat.shape[1], cell.shape[0]
    for s in numba.prange(n_sat):
        for k in range(n_slots):
            t0 = k * fast_per_slot
            for c in range(n_cell):
                mn = 2.0
                acc = 0.0
                for t in range(t0, t0 + fast_per_slot + 1):
                    dx = sat[t, s, 0] - cell[c, 0]
                    dy = sat[t, s, 1] - cell[c, 1]
                    dz = sat[t, s, 2] - cell[c, 2]
                    d2 = dx * dx + dy * dy + dz * dz
                    sn = (dx * up[c, 0] + dy * up[c, 1] + dz * up[c, 2]) / np.sqrt(d2)
                    mn = min(mn, sn)
                    acc += 1.0 / d2
                sin_min[s, c, k] = mn
                inv_mean[s, c, k] = acc / (fast_per_slot + 1)


@numba.njit(cache=True, parallel=True)
def _any_slot_visible_kernel(sat, cell, up, fast_per_slot, sin_thr, out):  # pragma: no cover
    n_sat, n_cell = sat.shape[1], cell.shape[0]
    for s in numba.prange(n_sat):
        found = False
        for c in range(n_cell):
            run = 0  # consecutive boundaries above the threshold
            for t in range(sat.shape[0]):
                dx = sat[t, s, 0] - cell[c, 0]
                dy = sat[t, s, 1] - cell[c, 1]
                dz = sat[t, s, 2] - cell[c, 2]
                sn = (dx * up[c, 0] + dy * up[c, 1] + dz * up[c, 2]) / np.sqrt(
                    dx * dx + dy * dy + dz * dz
                )
                run = run + 1 if sn >= sin_thr else 0
                # a whole slot [k M, (k+1) M] above the threshold
                if run >= fast_per_slot + 1 and t % fast_per_slot == 0:
                    found = True
                    break
            if found:
                break
        out[s] = found


def any_slot_visible(
    sat_ecef: np.ndarray,
    cell_ecef: np.ndarray,
    cell_up: np.ndarray,
    fast_per_slot: int,
    min_elevation_deg: float,
) -> np.ndarray:
    """Satellites that stay above ``min_elevation_deg`` for a whole slot from some cell, shape (S,).

    ``sat_ecef`` (T, S, 3) holds positions at the sampled boundaries, ``fast_per_slot`` samples
    per slot (1 = slot boundaries only, a necessary condition used to pre-filter a constellation).
    Exits early per satellite.
    """
    sat = np.ascontiguousarray(sat_ecef, dtype=np.float64)
    out = np.zeros(sat.shape[1], dtype=np.bool_)
    _any_slot_visible_kernel(
        sat,
        np.ascontiguousarray(cell_ecef, dtype=np.float64),
        np.ascontiguousarray(cell_up, dtype=np.float64),
        int(fast_per_slot),
        float(np.sin(np.radians(min_elevation_deg))),
        out,
    )
    return out


def slot_link_geometry(
    sat_ecef: np.ndarray,
    cell_ecef: np.ndarray,
    cell_up: np.ndarray,
    n_slots: int,
    fast_per_slot: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per slow slot: minimum elevation and mean inverse squared range over its boundaries.

    A compiled (numba, parallel over satellites) loop over (satellite, cell, slot, boundary):
    no (T, S, C) temporaries, about 2-4 ns per (time, satellite, cell) triple on this machine.

    Parameters
    ----------
    sat_ecef : ndarray, shape (K*M+1, S, 3)
        Positions [m] at every fast-slot boundary.
    cell_ecef, cell_up : ndarray, shape (C, 3)
        Cell centres [m] and their local vertical (unit vectors).
    n_slots, fast_per_slot : int
        ``K`` and ``M``.

    Returns
    -------
    el_min_deg : ndarray, shape (S, C, K)
        Minimum elevation over the ``M + 1`` boundaries of each slow slot [deg].
    inv_d2_mean : ndarray, shape (S, C, K)
        Mean of ``1 / d^2`` over the same boundaries [1/m^2] (the slot's mean free-space gain
        up to a constant).
    """
    sat = np.ascontiguousarray(sat_ecef, dtype=np.float64)
    K, M = int(n_slots), int(fast_per_slot)  # noqa: N806
    if sat.ndim != 3 or sat.shape[2] != 3:
        raise ValueError(f"sat_ecef must have shape (K*M+1, S, 3), got {sat.shape}")
    if sat.shape[0] != K * M + 1:
        raise ValueError(f"sat_ecef must have K*M+1 = {K * M + 1} times, got {sat.shape[0]}")
    cell = np.ascontiguousarray(cell_ecef, dtype=np.float64)
    up = np.ascontiguousarray(cell_up, dtype=np.float64)
    S, C = sat.shape[1], cell.shape[0]  # noqa: N806
    sin_min = np.empty((S, C, K))
    inv = np.empty((S, C, K))
    _slot_kernel(sat, cell, up, K, M, sin_min, inv)
    return np.degrees(np.arcsin(np.clip(sin_min, -1.0, 1.0))), inv
