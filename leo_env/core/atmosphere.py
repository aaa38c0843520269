"""Ka-band LEO link extras: rain/cloud attenuation, slant range, and the pitch-angle pattern.

* Rain/cloud loss (the form used by the LEO-terrestrial scheduling literature):
  ``A = 10^(L chi d / (10 h))`` with ``chi`` the specific attenuation [dB/km], ``L`` the
  thickness of the rain/cloud layer [km] (3 km by default), ``d`` the slant range and ``h`` the
  satellite altitude, so ``L d / h`` is the oblique path through the layer.
* Pitch-angle fading: the satellite antenna's off-boresight loss, modelled with the Bessel
  pattern of an aperture antenna (3GPP TR 38.811): ``G(theta) = (2 J1(x) / x)^2``,
  ``x = 2 pi a f / c sin(theta)``; 1 on boresight.
"""

from __future__ import annotations

import numpy as np
from scipy.special import j1

from leo_env.core.channel import SPEED_OF_LIGHT

__all__ = [
    "EARTH_RADIUS_M",
    "rain_cloud_loss_linear",
    "slant_range_from_elevation_m",
    "satellite_enu_m",
    "off_boresight_rad",
    "bessel_pattern_gain",
]

EARTH_RADIUS_M = 6_371_000.0
"""Mean Earth radius [m]."""


def rain_cloud_loss_linear(
    chi_db_per_km: np.ndarray | float,
    slant_range_m: np.ndarray | float,
    altitude_m: float,
    layer_km: float = 3.0,
) -> np.ndarray:
    """Rain/cloud attenuation ``10^(layer_km chi d / (10 h))`` (linear, >= 1)."""
    chi = np.asarray(chi_db_per_km, dtype=float)
    d = np.asarray(slant_range_m, dtype=float)
    if np.any(~np.isfinite(chi)) or np.any(chi < 0):
        raise ValueError("chi_db_per_km must be finite and >= 0 [dB/km]")
    if np.any(~np.isfinite(d)) or np.any(d <= 0):
        raise ValueError("slant_range_m must be finite and > 0 [m]")
    if not (np.isfinite(altitude_m) and altitude_m > 0):
        raise ValueError(f"altitude_m must be finite and > 0, got {altitude_m}")
    if not (np.isfinite(layer_km) and layer_km >= 0):
        raise ValueError(f"layer_km must be finite and >= 0, got {layer_km}")
    return np.power(10.0, layer_km * chi * d / (10.0 * altitude_m))


def slant_range_from_elevation_m(elevation_deg: np.ndarray | float, altitude_m: float) -> np.ndarray:
    """Slant range [m] to a satellite at ``altitude_m`` seen at ``elevation_deg``.

    Spherical Earth: ``sqrt((R+h)^2 - R^2 cos^2 e) - R sin e``.
    """
    e = np.deg2rad(np.asarray(elevation_deg, dtype=float))
    if np.any(~np.isfinite(e)) or np.any(e <= 0) or np.any(e > np.pi / 2 + 1e-12):
        raise ValueError("elevation_deg must be in (0, 90]")
    r = EARTH_RADIUS_M
    return np.sqrt((r + altitude_m) ** 2 - (r * np.cos(e)) ** 2) - r * np.sin(e)


def satellite_enu_m(elevation_deg: float, azimuth_deg: float, altitude_m: float) -> np.ndarray:
    """Satellite position in the local east/north/up frame of the cell centre [m], shape (3,)."""
    d = float(slant_range_from_elevation_m(elevation_deg, altitude_m))
    e, a = np.deg2rad(elevation_deg), np.deg2rad(azimuth_deg)
    return d * np.array([np.cos(e) * np.sin(a), np.cos(e) * np.cos(a), np.sin(e)])


def off_boresight_rad(sat_enu_m: np.ndarray, ground_xy_m: np.ndarray, aim_xy_m=(0.0, 0.0)) -> np.ndarray:
    """Angle at the satellite between its boresight (towards ``aim_xy_m``) and each ground point.

    ``ground_xy_m`` has shape (K, 2) (local east/north, height 0); returns shape (K,) [rad].
    """
    s = np.asarray(sat_enu_m, dtype=float)
    g = np.column_stack([np.asarray(ground_xy_m, dtype=float), np.zeros(len(ground_xy_m))])
    aim = np.array([aim_xy_m[0], aim_xy_m[1], 0.0]) - s
    v = g - s
    cosang = (v @ aim) / (np.linalg.norm(v, axis=1) * np.linalg.norm(aim))
    return np.arccos(np.clip(cosang, -1.0, 1.0))


def bessel_pattern_gain(off_axis_rad: np.ndarray, freq_hz: float, aperture_radius_m: float) -> np.ndarray:
    """Normalised aperture pattern ``(2 J1(x)/x)^2``, ``x = 2 pi a f sin(theta) / c`` (1 at 0)."""
    if not (np.isfinite(aperture_radius_m) and aperture_radius_m > 0):
        raise ValueError(f"aperture_radius_m must be finite and > 0, got {aperture_radius_m}")
    th = np.asarray(off_axis_rad, dtype=float)
    x = 2.0 * np.pi * aperture_radius_m * freq_hz / SPEED_OF_LIGHT * np.sin(th)
    out = np.ones_like(x)
    nz = np.abs(x) > 1e-12
    out[nz] = (2.0 * j1(x[nz]) / x[nz]) ** 2
    return out
