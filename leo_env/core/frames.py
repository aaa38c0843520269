"""Time scales and reference frames: Julian dates, GMST, TEME <-> ECEF, WGS84 geodetic.

Conventions
-----------
* Times are UTC :class:`datetime.datetime` objects and UTC is used in place of UT1.  Since
  |UT1 - UTC| < 0.9 s, this shifts Earth-fixed satellite positions by at most ~0.42 km (Earth
  rotation at the equator) -- far below cell sizes; pass a UT1 instant if that matters.
  Naive datetimes are taken to be UTC; aware ones are converted to UTC.
* Julian dates are carried as a pair ``(jd, fr)`` -- a whole part ending in ``.5`` and a
  fraction of a day -- as :mod:`sgp4` does, to keep sub-microsecond resolution in float64.
* TEME is the frame in which SGP4 returns positions.  It is turned into the Earth-fixed frame
  (ECEF, ITRF-like, WGS84 geometry) by a single rotation about z by the IAU-82 Greenwich mean
  sidereal time, the convention of Vallado et al. (2006) used by SGP4.  Polar motion (a few
  metres at the surface) is ignored, so "ECEF" here is the pseudo Earth-fixed frame (PEF).
* Positions are metres in arrays whose last axis is (x, y, z).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from numpy.typing import ArrayLike
from sgp4.api import jday

__all__ = [
    "WGS84_A_M",
    "WGS84_F",
    "WGS84_B_M",
    "WGS84_E2",
    "SECONDS_PER_DAY",
    "JD_J2000",
    "julian_date",
    "julian_dates",
    "gmst_rad",
    "teme_to_ecef",
    "ecef_to_teme",
    "geodetic_to_ecef",
    "ecef_to_geodetic",
    "local_up",
]

#: WGS84 semi-major axis (equatorial radius) [m].
WGS84_A_M: float = 6378137.0
#: WGS84 flattening [-].
WGS84_F: float = 1.0 / 298.257223563
#: WGS84 semi-minor axis (polar radius) [m].
WGS84_B_M: float = WGS84_A_M * (1.0 - WGS84_F)
#: WGS84 first eccentricity squared [-].
WGS84_E2: float = WGS84_F * (2.0 - WGS84_F)
#: Seconds in a day [s].
SECONDS_PER_DAY: float = 86400.0
#: Julian date of the J2000 epoch, 2000-01-01 12:00 [day].
JD_J2000: float = 2451545.0

_TWO_PI = 2.0 * np.pi


def julian_date(t: datetime) -> tuple[float, float]:
    """Julian date of a UTC instant as a (whole, fraction) pair.

    Parameters
    ----------
    t : datetime
        Instant.  Naive datetimes are taken as UTC; aware ones are converted to UTC.  UTC is
        treated as UT1.

    Returns
    -------
    jd : float
        Whole part of the Julian date (ends in ``.5``, i.e. the preceding midnight) [day].
    fr : float
        Fraction of the day since that midnight, in [0, 1) [day].

    Examples
    --------
    >>> julian_date(datetime(2000, 1, 1, 12, 0, 0))
    (2451544.5, 0.5)
    """
    if not isinstance(t, datetime):
        raise TypeError(f"t must be a datetime.datetime, got {type(t).__name__}")
    if t.tzinfo is not None:
        t = t.astimezone(UTC)
    second = t.second + t.microsecond * 1e-6
    jd, fr = jday(t.year, t.month, t.day, t.hour, t.minute, second)
    return float(jd), float(fr)


def julian_dates(epoch: datetime, t_s: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Julian dates of times offset from an epoch, as (whole, fraction) arrays.

    Parameters
    ----------
    epoch : datetime
        Reference instant (UTC, see :func:`julian_date`).
    t_s : array_like, shape (T,)
        Offsets from ``epoch`` [s].

    Returns
    -------
    jd, fr : ndarray, shape (T,)
        Whole parts (all equal to the epoch's) and fractions (may leave [0, 1)) [day].  Their sum
        is the Julian date; keeping them apart preserves float64 resolution.
    """
    t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
    if t.ndim != 1:
        raise ValueError(f"t_s must be a scalar or 1-D array of seconds, got shape {t.shape}")
    jd0, fr0 = julian_date(epoch)
    return np.full(t.shape, jd0), fr0 + t / SECONDS_PER_DAY


def gmst_rad(jd: ArrayLike, fr: ArrayLike = 0.0) -> np.ndarray:
    """Greenwich mean sidereal time, IAU-82 model (the angle SGP4's TEME frame uses).

    Parameters
    ----------
    jd : array_like
        Whole part of the UT1 Julian date (or the full Julian date with ``fr = 0``) [day].
    fr : array_like, optional
        Fraction of the day, broadcast against ``jd`` [day].

    Returns
    -------
    ndarray
        GMST in [0, 2 pi) [rad], with the broadcast shape of ``jd`` and ``fr``.

    Notes
    -----
    GMST [s] = 67310.54841 + (876600 h + 8640184.812866 s) Tu + 0.093104 Tu^2 - 6.2e-6 Tu^3,
    with Tu the UT1 Julian centuries since J2000.  The dominant term 876600 h * Tu equals one
    day per day, so it is reduced modulo a day *before* it is scaled, from the two parts of the
    Julian date separately; this keeps the result at ~1e-12 rad instead of ~1e-9 rad.
    """
    jd = np.asarray(jd, dtype=np.float64)
    fr = np.asarray(fr, dtype=np.float64)
    d_whole = jd - JD_J2000  # exact for Julian dates given to a few decimals
    days = d_whole + fr
    tu = days / 36525.0
    day_frac = np.mod(np.mod(d_whole, 1.0) + np.mod(fr, 1.0), 1.0)
    gmst_s = (
        67310.54841
        + SECONDS_PER_DAY * day_frac
        + (8640184.812866 + (0.093104 - 6.2e-6 * tu) * tu) * tu
    )
    return np.mod(gmst_s * (_TWO_PI / SECONDS_PER_DAY), _TWO_PI)


def _rotate_z(r: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Coordinates of vectors ``r`` in a frame rotated by ``theta`` about z (passive rotation)."""
    c, s = np.cos(theta), np.sin(theta)
    out = np.empty(np.broadcast_shapes(r.shape, (*c.shape, 3)), dtype=np.float64)
    x, y = r[..., 0], r[..., 1]
    out[..., 0] = c * x + s * y
    out[..., 1] = c * y - s * x
    out[..., 2] = r[..., 2]
    return out


def _time_angle(r: np.ndarray, jd: ArrayLike, fr: ArrayLike) -> np.ndarray:
    """GMST [rad] shaped to broadcast against ``r[..., 0]``."""
    theta = gmst_rad(jd, fr)
    if theta.ndim == 0:
        return theta
    if theta.ndim != 1:
        raise ValueError(f"jd/fr must be scalars or 1-D arrays of length T, got {theta.shape}")
    if r.ndim < 3 or r.shape[-3] != theta.shape[0]:
        raise ValueError(
            f"positions must have shape (..., T, N, 3) with T = {theta.shape[0]} (the length of "
            f"jd/fr), got {r.shape}"
        )
    return theta[:, None]


def teme_to_ecef(r_teme: ArrayLike, jd: ArrayLike, fr: ArrayLike = 0.0) -> np.ndarray:
    """Rotate TEME positions into the Earth-fixed frame by GMST (polar motion ignored).

    Parameters
    ----------
    r_teme : array_like, shape (..., T, N, 3) or, for scalar times, (..., 3)
        Positions in TEME [m] (any length unit works; it is preserved).
    jd, fr : array_like, shape (T,) or scalars
        UT1 Julian date of each of the T times as (whole, fraction) [day].

    Returns
    -------
    ndarray
        Positions in the pseudo Earth-fixed frame, same shape as ``r_teme`` [m].

    Notes
    -----
    ``r_ecef = R3(gmst) @ r_teme``.  Polar motion (x_p, y_p ~ 0.3") is neglected: the error is
    at most ~10 m at the Earth's surface and identical for satellites and ground points.
    """
    r = np.asarray(r_teme, dtype=np.float64)
    if r.shape[-1:] != (3,):
        raise ValueError(f"r_teme must have a last axis of length 3, got shape {r.shape}")
    return _rotate_z(r, _time_angle(r, jd, fr))


def ecef_to_teme(r_ecef: ArrayLike, jd: ArrayLike, fr: ArrayLike = 0.0) -> np.ndarray:
    """Inverse of :func:`teme_to_ecef` (rotate about z by ``-gmst``).

    Parameters
    ----------
    r_ecef : array_like, shape (..., T, N, 3) or, for scalar times, (..., 3)
        Positions in the pseudo Earth-fixed frame [m].
    jd, fr : array_like, shape (T,) or scalars
        UT1 Julian date of each of the T times as (whole, fraction) [day].

    Returns
    -------
    ndarray
        Positions in TEME, same shape as ``r_ecef`` [m].
    """
    r = np.asarray(r_ecef, dtype=np.float64)
    if r.shape[-1:] != (3,):
        raise ValueError(f"r_ecef must have a last axis of length 3, got shape {r.shape}")
    return _rotate_z(r, -_time_angle(r, jd, fr))


def geodetic_to_ecef(lat_deg: ArrayLike, lon_deg: ArrayLike, alt_m: ArrayLike = 0.0) -> np.ndarray:
    """WGS84 geodetic coordinates to Earth-fixed Cartesian positions.

    Parameters
    ----------
    lat_deg : array_like
        Geodetic latitude, in [-90, 90] [deg].
    lon_deg : array_like
        Longitude, east positive [deg].
    alt_m : array_like, optional
        Height above the WGS84 ellipsoid [m].

    Returns
    -------
    ndarray, shape (..., 3)
        ECEF positions [m]; ``...`` is the broadcast shape of the inputs.
    """
    lat = np.deg2rad(np.asarray(lat_deg, dtype=np.float64))
    lon = np.deg2rad(np.asarray(lon_deg, dtype=np.float64))
    alt = np.asarray(alt_m, dtype=np.float64)
    if np.any(np.abs(lat) > 0.5 * np.pi + 1e-12):
        raise ValueError("lat_deg must be in [-90, 90]")
    sin_lat, cos_lat = np.sin(lat), np.cos(lat)
    n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)  # prime-vertical radius [m]
    lat, lon, alt = np.broadcast_arrays(lat, lon, alt)
    out = np.empty((*lat.shape, 3), dtype=np.float64)
    out[..., 0] = (n + alt) * cos_lat * np.cos(lon)
    out[..., 1] = (n + alt) * cos_lat * np.sin(lon)
    out[..., 2] = (n * (1.0 - WGS84_E2) + alt) * sin_lat
    return out


def ecef_to_geodetic(r_ecef: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Earth-fixed Cartesian positions to WGS84 geodetic coordinates.

    Parameters
    ----------
    r_ecef : array_like, shape (..., 3)
        ECEF positions [m].

    Returns
    -------
    lat_deg : ndarray, shape (...)
        Geodetic latitude [deg].
    lon_deg : ndarray, shape (...)
        Longitude in (-180, 180] [deg].
    alt_m : ndarray, shape (...)
        Height above the ellipsoid [m].

    Notes
    -----
    Bowring's (1976) iteration on the parametric latitude, started from Bowring's guess; three
    iterations bring the latitude to well below 1e-12 rad (sub-millimetre) from the surface to
    far beyond GEO.  The height uses ``h = p cos(lat) + z sin(lat) - a sqrt(1 - e^2 sin^2 lat)``,
    which is well conditioned at the poles as well as at the equator.
    """
    r = np.asarray(r_ecef, dtype=np.float64)
    if r.shape[-1:] != (3,):
        raise ValueError(f"r_ecef must have a last axis of length 3, got shape {r.shape}")
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    a, b, e2 = WGS84_A_M, WGS84_B_M, WGS84_E2
    ep2 = e2 / (1.0 - e2)  # second eccentricity squared
    p = np.hypot(x, y)
    lon = np.arctan2(y, x)
    beta = np.arctan2(a * z, b * p)  # parametric latitude, Bowring's starting value
    lat = beta
    for _ in range(3):
        sin_b, cos_b = np.sin(beta), np.cos(beta)
        lat = np.arctan2(z + ep2 * b * sin_b**3, p - e2 * a * cos_b**3)
        beta = np.arctan2(b * np.sin(lat), a * np.cos(lat))
    sin_lat = np.sin(lat)
    alt = p * np.cos(lat) + z * sin_lat - a * np.sqrt(1.0 - e2 * sin_lat**2)
    return np.rad2deg(lat), np.rad2deg(lon), alt


def local_up(lat_deg: ArrayLike, lon_deg: ArrayLike) -> np.ndarray:
    """Unit normal to the WGS84 ellipsoid (geodetic "up") in ECEF.

    Parameters
    ----------
    lat_deg : array_like
        Geodetic latitude [deg].
    lon_deg : array_like
        Longitude, east positive [deg].

    Returns
    -------
    ndarray, shape (..., 3)
        Unit vectors [-]; ``...`` is the broadcast shape of the inputs.
    """
    lat = np.deg2rad(np.asarray(lat_deg, dtype=np.float64))
    lon = np.deg2rad(np.asarray(lon_deg, dtype=np.float64))
    lat, lon = np.broadcast_arrays(lat, lon)
    out = np.empty((*lat.shape, 3), dtype=np.float64)
    out[..., 0] = np.cos(lat) * np.cos(lon)
    out[..., 1] = np.cos(lat) * np.sin(lon)
    out[..., 2] = np.sin(lat)
    return out
