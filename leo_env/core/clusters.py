"""Hexagonal cells grouped into hexagonal cell clusters, with a hidden cluster priority order.

A primary operator's region is cut into hexagonal cells (pointy-top, neighbour spacing
``spacing_km``, i.e. the cell's flat-to-flat width) and the cells are grouped into clusters, each
a hexagon of cells of ``rings`` rings around a centre cell: ``1 + 3 r (r + 1)`` cells (7 cells for
``r = 1``, 127 for ``r = 6``).  Such hexagons tile the plane: cluster centres lie on the lattice
spanned, in axial hex coordinates ``(q, r)``, by ``(r + 1, r)`` and ``(-r, 2 r + 1)`` (its
determinant ``3 r^2 + 3 r + 1`` is the number of cells per cluster).  The ``n_clusters`` lattice
points nearest to the reference point form the region; cluster 0 is centred on it.

Planar coordinates (east, north) [km] around the reference point are turned into latitude and
longitude the way :func:`leo_env.core.ground.hex_cells` does: north by ``KM_PER_DEG_LAT`` km per
degree, east at each point's own latitude.

Each cluster gets a priority rank (0 = served first) from a seeded random permutation; a
secondary operator does not know it (the assignment rule of :mod:`leo_env.core.assignment`
processes clusters in this order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from leo_env.core.frames import geodetic_to_ecef, local_up
from leo_env.core.ground import KM_PER_DEG_LAT

__all__ = ["ClusterLayout", "hex_cluster_layout", "hex_distance"]

_SQRT3 = math.sqrt(3.0)


def hex_distance(dq: np.ndarray, dr: np.ndarray) -> np.ndarray:
    """Number of cell steps between hexagons ``(dq, dr)`` apart in axial coordinates."""
    dq, dr = np.asarray(dq), np.asarray(dr)
    return (np.abs(dq) + np.abs(dr) + np.abs(dq + dr)) // 2


def _axial_to_km(q: np.ndarray, r: np.ndarray, spacing_km: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointy-top axial coordinates -> (east, north) [km] for neighbour spacing ``spacing_km``."""
    east = spacing_km * (q + 0.5 * r)
    north = spacing_km * (_SQRT3 / 2.0) * r
    return east, north


def _km_to_latlon(
    east_km: np.ndarray, north_km: np.ndarray, lat0_deg: float, lon0_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    lat = lat0_deg + north_km / KM_PER_DEG_LAT
    lon = lon0_deg + east_km / (KM_PER_DEG_LAT * np.cos(np.radians(lat)))
    return lat, lon


@dataclass(frozen=True, eq=False)
class ClusterLayout:
    """Cells, their clusters and the hidden priority order (built by :func:`hex_cluster_layout`).

    Attributes
    ----------
    ref_lat_deg, ref_lon_deg : float
        Reference point of the region (availability and ranking of satellites) [deg].
    spacing_km : float
        Distance between neighbouring cell centres (flat-to-flat cell width) [km].
    rings : int
        Rings of cells around each cluster's centre cell.
    cell_lat_deg, cell_lon_deg : ndarray, shape (C,)
        Cell centres [deg], cluster by cluster.
    cluster_of_cell : ndarray of int64, shape (C,)
        Cluster index of every cell, in [0, N).
    centre_lat_deg, centre_lon_deg : ndarray, shape (N,)
        Cluster centres (the centre cell's centre) [deg].
    priority : ndarray of int64, shape (N,)
        Priority rank of every cluster: 0 is served first, N - 1 last.
    """

    ref_lat_deg: float
    ref_lon_deg: float
    spacing_km: float
    rings: int
    cell_lat_deg: np.ndarray
    cell_lon_deg: np.ndarray
    cluster_of_cell: np.ndarray
    centre_lat_deg: np.ndarray
    centre_lon_deg: np.ndarray
    priority: np.ndarray

    @property
    def n_clusters(self) -> int:
        """Number of clusters N."""
        return len(self.centre_lat_deg)

    @property
    def n_cells(self) -> int:
        """Number of cells C."""
        return len(self.cell_lat_deg)

    @property
    def order(self) -> np.ndarray:
        """Cluster indices from the highest priority to the lowest, shape (N,)."""
        return np.argsort(self.priority, kind="stable")

    @cached_property
    def ref_ecef(self) -> np.ndarray:
        """Reference point in ECEF (WGS84, altitude 0), shape (3,) [m]."""
        return geodetic_to_ecef(self.ref_lat_deg, self.ref_lon_deg, 0.0)

    @cached_property
    def ref_up(self) -> np.ndarray:
        """Geodetic local vertical at the reference point, unit vector of shape (3,)."""
        return local_up(self.ref_lat_deg, self.ref_lon_deg)

    def centre_ecef(self) -> tuple[np.ndarray, np.ndarray]:
        """Cluster centres in ECEF [m] and their local verticals, each of shape (N, 3)."""
        return (
            geodetic_to_ecef(self.centre_lat_deg, self.centre_lon_deg, 0.0),
            local_up(self.centre_lat_deg, self.centre_lon_deg),
        )

    def sample_points(
        self, include_vertices: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points over which a cluster's minimum elevation is taken.

        Parameters
        ----------
        include_vertices : bool, optional
            Add the six vertices of every cell (pointy-top, circumradius ``spacing/sqrt(3)``) to
            the cell centres.

        Returns
        -------
        ecef : ndarray, shape (P, 3)
            Points in ECEF [m].
        up : ndarray, shape (P, 3)
            Their local verticals.
        cluster : ndarray of int64, shape (P,)
            Cluster of every point (non-decreasing).
        """
        lat, lon, cl = self.cell_lat_deg, self.cell_lon_deg, self.cluster_of_cell
        if include_vertices:
            radius = self.spacing_km / _SQRT3
            ang = np.radians(30.0 + 60.0 * np.arange(6))
            de, dn = radius * np.cos(ang), radius * np.sin(ang)
            ys = (lat[:, None] - self.ref_lat_deg) * KM_PER_DEG_LAT  # north of the reference
            xs = (
                (lon[:, None] - self.ref_lon_deg)
                * KM_PER_DEG_LAT
                * np.cos(np.radians(lat[:, None]))
            )
            vlat, vlon = _km_to_latlon(xs + de, ys + dn, self.ref_lat_deg, self.ref_lon_deg)
            lat = np.concatenate([lat[:, None], vlat], axis=1).ravel()
            lon = np.concatenate([lon[:, None], vlon], axis=1).ravel()
            cl = np.repeat(cl, 7)
        return geodetic_to_ecef(lat, lon, 0.0), local_up(lat, lon), cl


def hex_cluster_layout(
    ref_lat_deg: float,
    ref_lon_deg: float,
    n_clusters: int,
    rings: int,
    spacing_km: float,
    rng: np.random.Generator,
) -> ClusterLayout:
    """Region of ``n_clusters`` hexagonal clusters around a reference point.

    Parameters
    ----------
    ref_lat_deg : float
        Reference latitude, in [-80, 80] [deg].
    ref_lon_deg : float
        Reference longitude, in [-180, 180] [deg].
    n_clusters : int
        Number of clusters N, in [1, 64].
    rings : int
        Rings of cells around each cluster's centre cell, in [0, 10] (``1 + 3 r (r + 1)`` cells
        per cluster).
    spacing_km : float
        Neighbouring cell centres' distance (cell width flat-to-flat), in (0, 1000] [km].
    rng : numpy.random.Generator
        Draws the hidden priority permutation (one ``permutation(N)`` call).

    Returns
    -------
    ClusterLayout
    """
    if not -80.0 <= float(ref_lat_deg) <= 80.0:
        raise ValueError(f"ref_lat_deg must be in [-80, 80], got {ref_lat_deg}")
    if not -180.0 <= float(ref_lon_deg) <= 180.0:
        raise ValueError(f"ref_lon_deg must be in [-180, 180], got {ref_lon_deg}")
    if isinstance(n_clusters, bool) or int(n_clusters) != n_clusters or not 1 <= n_clusters <= 64:
        raise ValueError(f"n_clusters must be an integer in [1, 64], got {n_clusters}")
    if isinstance(rings, bool) or int(rings) != rings or not 0 <= rings <= 10:
        raise ValueError(f"rings must be an integer in [0, 10], got {rings}")
    if not (math.isfinite(spacing_km) and 0.0 < spacing_km <= 1000.0):
        raise ValueError(f"spacing_km must be in (0, 1000], got {spacing_km}")
    n, k = int(n_clusters), int(rings)
    # Cluster centres on the super-lattice, nearest first (ties broken by angle).
    span = int(math.ceil(math.sqrt(n))) + 2
    a, b = np.meshgrid(np.arange(-span, span + 1), np.arange(-span, span + 1), indexing="ij")
    cq = a.ravel() * (k + 1) - b.ravel() * k
    cr = a.ravel() * k + b.ravel() * (2 * k + 1)
    ce, cn = _axial_to_km(cq, cr, 1.0)
    pick = np.lexsort((np.round(np.arctan2(cn, ce), 9), np.round(np.hypot(ce, cn), 9)))[:n]
    cq, cr = cq[pick], cr[pick]
    # Cells of one cluster: axial offsets within `rings` steps.
    oq, orr = np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1), indexing="ij")
    keep = hex_distance(oq, orr) <= k
    oq, orr = oq[keep], orr[keep]
    q = (cq[:, None] + oq[None, :]).ravel()
    r = (cr[:, None] + orr[None, :]).ravel()
    cluster = np.repeat(np.arange(n, dtype=np.int64), len(oq))
    east, north = _axial_to_km(q, r, float(spacing_km))
    lat, lon = _km_to_latlon(east, north, float(ref_lat_deg), float(ref_lon_deg))
    ce, cn = _axial_to_km(cq, cr, float(spacing_km))
    clat, clon = _km_to_latlon(ce, cn, float(ref_lat_deg), float(ref_lon_deg))
    priority = np.empty(n, dtype=np.int64)
    priority[rng.permutation(n)] = np.arange(n)
    return ClusterLayout(
        ref_lat_deg=float(ref_lat_deg),
        ref_lon_deg=float(ref_lon_deg),
        spacing_km=float(spacing_km),
        rings=k,
        cell_lat_deg=lat,
        cell_lon_deg=lon,
        cluster_of_cell=cluster,
        centre_lat_deg=clat,
        centre_lon_deg=clon,
        priority=priority,
    )
