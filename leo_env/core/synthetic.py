"""Time-compressed pass geometry for APEX's small synthetic presets.

APEX's presets keep radio timing (10 ms fast slots), over which real satellites hardly move.
To make association and handover budgets matter, satellites here fly straight, parallel ground
tracks at a real altitude, with a ground speed chosen so that crossing a cell's coverage disc
takes ``pass_slots`` slow slots.  Positions are real ECEF points, so elevation, slant range and
gains come from the same code as for real orbits.
"""

from __future__ import annotations

import numpy as np

from leo_env.core.geometry import R_EARTH_M, coverage_central_angle_rad
from leo_env.core.ground import KM_PER_DEG_LAT

__all__ = ["synthetic_track_latlon"]


def synthetic_track_latlon(
    rng: np.random.Generator,
    n_sats: int,
    t_slots: np.ndarray,
    *,
    altitude_m: float,
    pass_slots: float,
    mean_visible: float,
    cross_track_km: float,
    centre_lat_deg: float,
    centre_lon_deg: float,
    min_elevation_deg: float,
) -> np.ndarray:
    """Sub-satellite points (latitude, longitude) [deg] at times ``t_slots``, shape (T, S, 2).

    Satellites move north along parallel tracks offset east-west by a uniform draw in
    ``[-cross_track_km, cross_track_km]``.  They are spread around a ring of length
    ``L = max(S * 2 d / mean_visible, 2.2 d)`` (``d`` the coverage radius on the ground), so on
    average ``mean_visible`` of them cover the centre; the ring wraps far outside coverage.

    Parameters
    ----------
    t_slots : ndarray, shape (T,)
        Times in units of slow slots (fast-slot boundaries are fractions).
    """
    d_km = R_EARTH_M / 1e3 * coverage_central_angle_rad(altitude_m, min_elevation_deg)
    speed = 2.0 * d_km / pass_slots  # km per slow slot
    ring = max(n_sats * 2.0 * d_km / mean_visible, 2.2 * d_km)
    if ring > 8000.0:
        raise ValueError(
            f"synthetic.mean_visible={mean_visible} with S={n_sats} needs a {ring:.0f} km ring; "
            f"keep S / mean_visible <= {8000.0 / (2.0 * d_km):.1f} (ring <= 8000 km)"
        )
    phase = rng.uniform(0.0, ring)
    x0 = phase + ring / n_sats * (np.arange(n_sats) + rng.uniform(-0.3, 0.3, n_sats))
    y = rng.uniform(-cross_track_km, cross_track_km, n_sats)
    x = (
        np.mod(x0[None, :] + speed * np.asarray(t_slots, dtype=float)[:, None] + ring / 2, ring)
        - ring / 2
    )
    lat = centre_lat_deg + x / KM_PER_DEG_LAT
    lon = centre_lon_deg + y[None, :] / (KM_PER_DEG_LAT * np.cos(np.radians(centre_lat_deg)))
    return np.stack([lat, np.broadcast_to(lon, lat.shape)], axis=-1)
