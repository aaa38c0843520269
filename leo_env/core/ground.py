"""Ground region cut into cells: lat/lon grid (APEX) or hexagonal layout.

Cell centres are returned as (latitude, longitude) pairs [deg]; convert to ECEF with
:func:`leo_env.core.frames.geodetic_to_ecef`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["grid_cells", "hex_cells", "patch_cells", "KM_PER_DEG_LAT"]

KM_PER_DEG_LAT = 111.195
"""Kilometres per degree of latitude on the mean-radius sphere."""


def _check_box(lat_min: float, lat_max: float, lon_min: float, lon_max: float) -> None:
    if not -90 <= lat_min < lat_max <= 90:
        raise ValueError(
            f"region: need -90 <= lat_min < lat_max <= 90, got lat_min={lat_min}, lat_max={lat_max}"
        )
    if not lon_min < lon_max:
        raise ValueError(
            f"region: need lon_min < lon_max, got lon_min={lon_min}, lon_max={lon_max}"
        )


def grid_cells(
    lat_min: float, lat_max: float, lon_min: float, lon_max: float, cell_deg: float
) -> np.ndarray:
    """Centres of ``cell_deg`` x ``cell_deg`` lat/lon cells tiling the box, shape (C, 2) [deg].

    Partial cells at the edges are dropped; an empty result raises ``ValueError``.
    """
    _check_box(lat_min, lat_max, lon_min, lon_max)
    if cell_deg <= 0:
        raise ValueError(f"cell_size_deg must be > 0, got {cell_deg}")
    n_lat = int(np.floor((lat_max - lat_min) / cell_deg + 1e-9))
    n_lon = int(np.floor((lon_max - lon_min) / cell_deg + 1e-9))
    if n_lat < 1 or n_lon < 1:
        raise ValueError(
            f"region: box {lat_max - lat_min:.3f} x {lon_max - lon_min:.3f} deg is smaller than one "
            f"cell of {cell_deg} deg (region is empty)"
        )
    lat = lat_min + cell_deg * (np.arange(n_lat) + 0.5)
    lon = lon_min + cell_deg * (np.arange(n_lon) + 0.5)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    return np.stack([la.ravel(), lo.ravel()], axis=1)


def hex_cells(
    lat_min: float, lat_max: float, lon_min: float, lon_max: float, spacing_km: float
) -> np.ndarray:
    """Centres of a hexagonal layout with ``spacing_km`` between neighbours, shape (C, 2) [deg].

    Rows run east-west, ``spacing * sqrt(3)/2`` apart, alternate rows shifted by half a spacing;
    the east-west spacing is measured at each row's own latitude so hexagons keep their size
    across the box.  Only centres inside the box are kept.
    """
    _check_box(lat_min, lat_max, lon_min, lon_max)
    if spacing_km <= 0:
        raise ValueError(f"hex_spacing_km must be > 0, got {spacing_km}")
    dlat = spacing_km * np.sqrt(3.0) / 2.0 / KM_PER_DEG_LAT
    rows = np.arange(lat_min + dlat / 2.0, lat_max, dlat)
    out = []
    for i, lat in enumerate(rows):
        dlon = spacing_km / (KM_PER_DEG_LAT * np.cos(np.radians(lat)))
        start = lon_min + dlon * (0.25 if i % 2 == 0 else 0.75)
        lons = np.arange(start, lon_max, dlon)
        out.append(np.stack([np.full_like(lons, lat), lons], axis=1))
    cells = np.concatenate(out, axis=0) if out else np.zeros((0, 2))
    if len(cells) == 0:
        raise ValueError(
            f"region: no hexagon centre of spacing {spacing_km} km fits in the box (region is empty)"
        )
    return cells


def patch_cells(centre_lat: float, centre_lon: float, n_cells: int, cell_deg: float) -> np.ndarray:
    """``n_cells`` grid cells filling a near-square patch around a centre, shape (C, 2) [deg].

    Used by the synthetic APEX presets (C cells of 0.15 deg).
    """
    if n_cells < 1:
        raise ValueError(f"C must be >= 1, got {n_cells}")
    cols = int(np.ceil(np.sqrt(n_cells)))
    rows = int(np.ceil(n_cells / cols))
    idx = np.arange(n_cells)
    r, c = idx // cols, idx % cols
    lat = centre_lat + (r - (rows - 1) / 2.0) * cell_deg
    lon = centre_lon + (c - (cols - 1) / 2.0) * cell_deg
    return np.stack([lat, lon], axis=1)
