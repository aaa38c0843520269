"""Build a :class:`Scenario` from a configuration and a seed.

Pipeline: positions (synthetic passes, Walker shells or TLEs) -> per-slot minimum elevation and
mean range -> visibility and large-scale gains (with shadowing) -> demand rates and Poisson
arrivals -> budgets and feasibility.  Randomness comes from named child streams of
``np.random.SeedSequence(seed)``; an infeasible draw is redrawn (new ``attempt`` stream) at most
``max_resamples`` times, then rejected with a message naming the cell and the numbers.

Orbit geometry that does not depend on the seed (fixed epoch) is cached, so resampling an
episode on ``reset`` only redraws shadowing and demand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np

from leo_env.core import channel, demand, forecast, ground, handover  # noqa: F401
from leo_env.core.geometry import any_slot_visible, slot_link_geometry
from leo_env.core.synthetic import synthetic_track_latlon
from leo_env.scenario.config import (
    ConfigError,
    ScenarioConfig,
    check_build_memory,
    load_config,
    parse_epoch,
    resolve_shells,
)
from leo_env.scenario.scenario import Scenario

__all__ = [
    "make_scenario", "InfeasibleScenarioError", "Geometry", "build_geometry", "clear_caches", "orbit_source",
]

# Child stream ids of SeedSequence(seed, spawn_key=(attempt, STREAM)).
_GEOMETRY, _SHADOWING, _DEMAND = 1, 2, 3


class InfeasibleScenarioError(ValueError):
    """Every draw of a scenario left a cell uncovered or over its handover budget."""


@dataclass(frozen=True)
class Geometry:
    """Seed-independent (or per-draw) link geometry of a scenario.

    Its arrays are read-only: orbit geometries are cached and shared by every scenario built
    from the same configuration.
    """

    sat_ecef: np.ndarray
    """(K*M+1, S, 3) [m]"""
    cell_ecef: np.ndarray
    """(C, 3) [m]"""
    cell_latlon_deg: np.ndarray
    """(C, 2) [deg]"""
    el_min_deg: np.ndarray
    """(S, C, K) minimum elevation over each slow slot [deg]"""
    inv_d2_mean: np.ndarray
    """(S, C, K) mean 1/d^2 over each slow slot [1/m^2]"""
    sat_names: tuple[str, ...]
    T_s: float
    """Geometry time per slow slot [s] (synthetic: abstract pass time)."""

    def __post_init__(self) -> None:
        for f in ("sat_ecef", "cell_ecef", "cell_latlon_deg", "el_min_deg", "inv_d2_mean"):
            getattr(self, f).setflags(write=False)


def _stream(seed: int, attempt: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(attempt, stream)))


def _cells_ecef(latlon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from leo_env.core.frames import geodetic_to_ecef, local_up

    return geodetic_to_ecef(latlon[:, 0], latlon[:, 1], 0.0), local_up(latlon[:, 0], latlon[:, 1])


def _synthetic_geometry(cfg: ScenarioConfig, rng: np.random.Generator) -> Geometry:
    from leo_env.core.frames import geodetic_to_ecef

    sy, K, M = cfg.synthetic, cfg.time.K, cfg.time.M  # noqa: N806
    cells = ground.patch_cells(sy.centre_lat_deg, sy.centre_lon_deg, sy.C, sy.cell_size_deg)
    cell_ecef, cell_up = _cells_ecef(cells)
    t = np.arange(K * M + 1) / M
    ll = synthetic_track_latlon(
        rng,
        sy.S,
        t,
        altitude_m=sy.altitude_km * 1e3,
        pass_slots=sy.pass_slots,
        mean_visible=sy.mean_visible,
        cross_track_km=sy.cross_track_km,
        centre_lat_deg=sy.centre_lat_deg,
        centre_lon_deg=sy.centre_lon_deg,
        min_elevation_deg=cfg.channel.min_elevation_deg,
    )
    sat = geodetic_to_ecef(ll[..., 0], ll[..., 1], sy.altitude_km * 1e3)
    el, inv = slot_link_geometry(sat, cell_ecef, cell_up, K, M)
    names = tuple(f"sat{s:02d}" for s in range(sy.S))
    return Geometry(sat, cell_ecef, cells, el, inv, names, T_s=cfg.time.M * cfg.time.T_f)


def _region_cells(cfg: ScenarioConfig) -> np.ndarray:
    r = cfg.region
    if r.cells == "grid":
        cells = ground.grid_cells(r.lat_min, r.lat_max, r.lon_min, r.lon_max, r.cell_size_deg)
    else:
        cells = ground.hex_cells(r.lat_min, r.lat_max, r.lon_min, r.lon_max, r.hex_spacing_km)
    if len(cells) > r.max_cells:  # the count is checked from the box before; rounding only
        raise ConfigError(
            f"region: {len(cells)} cells exceed region.max_cells={r.max_cells}; use larger cells"
        )
    return cells


def _orbit_source(cfg: ScenarioConfig) -> tuple[Any, tuple[str, ...]]:
    """Satellite source (TLE satrecs or a Walker constellation) and the satellite names.

    TLE files are checked (:func:`leo_env.core.tle.read_tle_file`: duplicates removed with a
    warning) and their epochs compared with the episode's (warning above
    ``TLE_WARN_AGE_DAYS``, refused above ``TLE_MAX_AGE_DAYS``).
    """
    from leo_env.core import orbit, tle

    con = cfg.constellation
    if con.source == "tle":
        assert con.tle_file is not None
        try:
            names, satrecs = tle.read_tle_file(os.path.expanduser(con.tle_file))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"constellation.tle_file: {exc}") from exc
        start = parse_epoch(con.epoch)
        span_s = con.random_epoch_s + cfg.time.K * cfg.time.M * cfg.time.T_f
        try:
            tle.check_epoch_age(satrecs, start, names, span_s=span_s, source=str(con.tle_file))
        except tle.TLEError as exc:
            raise ConfigError(f"constellation.epoch / constellation.tle_file: {exc}") from exc
        check_build_memory(cfg, n_propagated=len(names))
        return satrecs, tuple(names)
    const = orbit.Constellation(tuple(resolve_shells(con)))
    return const, tuple(const.names)


def _propagate(source: Any, epoch: datetime, t_s: np.ndarray, method: str, idx: np.ndarray | None):
    from leo_env.core import orbit

    if isinstance(source, list):  # satrecs (TLE)
        sel = source if idx is None else [source[i] for i in idx]
        return orbit.propagate_ecef(sel, epoch, t_s, method="sgp4")
    if method == "sgp4":
        satrecs = _walker_satrecs(source, epoch)
        sel = satrecs if idx is None else [satrecs[i] for i in idx]
        return orbit.propagate_ecef(sel, epoch, t_s, method="sgp4")
    pos = orbit.propagate_ecef(source, epoch, t_s, method="kepler")
    return pos if idx is None else pos[:, idx]


@lru_cache(maxsize=4)
def _walker_satrecs(const: Any, epoch: datetime) -> list[Any]:
    from leo_env.core import orbit

    return orbit.walker_satrecs(const, epoch)


def _orbit_geometry(cfg: ScenarioConfig, epoch_offset_s: float) -> Geometry:
    K, M, T_f = cfg.time.K, cfg.time.M, cfg.time.T_f  # noqa: N806
    el_thr = cfg.channel.min_elevation_deg
    epoch = parse_epoch(cfg.constellation.epoch) + timedelta(seconds=epoch_offset_s)
    cells = _region_cells(cfg)
    cell_ecef, cell_up = _cells_ecef(cells)
    source, names = _orbit_source(cfg)
    method = cfg.constellation.propagator
    # 1) coarse pass at slow-slot boundaries: a satellite visible for a whole slot is above the
    #    threshold at both of the slot's boundaries from the same cell.
    t_slow = np.arange(K + 1) * M * T_f
    coarse = _propagate(source, epoch, t_slow, method, None)
    keep = np.nonzero(any_slot_visible(coarse, cell_ecef, cell_up, 1, el_thr))[0]
    if keep.size == 0:
        raise InfeasibleScenarioError(
            f"scenario {cfg.name!r}: none of the {len(names)} satellites is above "
            f"channel.min_elevation_deg={el_thr:g} for a whole slow slot (time.M * time.T_f = "
            f"{M * T_f:g} s) from any cell of the region"
        )
    check_build_memory(cfg, n_cells=len(cells), n_propagated=len(names), n_kept=len(keep))
    # 2) fine pass at every fast-slot boundary for the candidates only.
    t_fast = np.arange(K * M + 1) * T_f
    sat = _propagate(source, epoch, t_fast, method, keep)
    el, inv = slot_link_geometry(sat, cell_ecef, cell_up, K, M)
    vis_any = (el >= el_thr).any(axis=(1, 2))
    sel = np.nonzero(vis_any)[0]
    return Geometry(
        sat_ecef=np.ascontiguousarray(sat[:, sel]),
        cell_ecef=cell_ecef,
        cell_latlon_deg=cells,
        el_min_deg=el[sel],
        inv_d2_mean=inv[sel],
        sat_names=tuple(names[keep[i]] for i in sel),
        T_s=M * T_f,
    )


@lru_cache(maxsize=8)
def _cached_orbit_geometry(cfg_key: str, epoch_offset_s: float) -> Geometry:
    from omegaconf import OmegaConf

    cfg = OmegaConf.to_object(
        OmegaConf.merge(OmegaConf.structured(ScenarioConfig), OmegaConf.create(cfg_key))
    )
    assert isinstance(cfg, ScenarioConfig)
    return _orbit_geometry(cfg, epoch_offset_s)


def _geometry_key(cfg: ScenarioConfig) -> str:
    """The part of the config the orbit geometry depends on, as a canonical YAML string."""
    from omegaconf import OmegaConf

    d = cfg.to_dict()
    keep = {k: d[k] for k in ("name", "kind", "time", "constellation", "region", "max_memory_gib")}
    keep["channel"] = {"min_elevation_deg": d["channel"]["min_elevation_deg"]}
    return OmegaConf.to_yaml(OmegaConf.create(keep), sort_keys=True)


def build_geometry(cfg: ScenarioConfig, seed: int, attempt: int = 0) -> Geometry:
    """Geometry for a draw: cached for orbit scenarios with a fixed epoch."""
    if cfg.kind == "synthetic":
        return _synthetic_geometry(cfg, _stream(seed, attempt, _GEOMETRY))
    offset = 0.0
    if cfg.constellation.random_epoch_s > 0:
        offset = float(
            _stream(seed, attempt, _GEOMETRY).uniform(0.0, cfg.constellation.random_epoch_s)
        )
    return _cached_orbit_geometry(_geometry_key(cfg), offset)


def _rates(cfg: ScenarioConfig, geo: Geometry, rng: np.random.Generator) -> np.ndarray:
    d, K = cfg.demand, cfg.time.K  # noqa: N806
    C = len(geo.cell_latlon_deg)  # noqa: N806
    if d.population_weighted:
        radius = (
            cfg.region.hex_spacing_km / ground.KM_PER_DEG_LAT
            if cfg.region.cells == "hex"
            else cfg.region.cell_size_deg
        )
        base, _ = demand.population_rates(
            geo.cell_latlon_deg, d.high_rate_bps, d.low_rate_bps, radius
        )
    else:
        base, _ = demand.two_class_rates(rng, C, d.mismatch_ratio, d.high_rate_bps, d.low_rate_bps)
    rate, _ = demand.regime_shift_rates(
        rng, base, K, d.regime_shifts, d.regime_scale_min, d.regime_scale_max
    )
    epoch_h = 0.0
    if cfg.kind == "orbit":
        ep = parse_epoch(cfg.constellation.epoch)
        epoch_h = ep.hour + ep.minute / 60.0 + ep.second / 3600.0
    prof = demand.profile_factor(
        K,
        d.profile,
        d.period_slots,
        d.amplitude,
        slot_s=geo.T_s,
        start_utc_hour=epoch_h,
        lon_deg=geo.cell_latlon_deg[:, 1],
    )
    rate = rate * prof
    if d.burst_prob > 0:
        rate = rate * demand.burst_multiplier(
            rng, C, K, d.burst_prob, d.burst_factor, d.burst_slots
        )
    if d.churn_depart_prob > 0:
        rate = rate * demand.churn_active(rng, C, K, d.churn_depart_prob, d.churn_arrive_prob)
    return rate * d.scale


def _build_once(cfg: ScenarioConfig, seed: int, attempt: int) -> tuple[Scenario, list[str]]:
    geo = build_geometry(cfg, seed, attempt)
    ch = cfg.channel
    S, C, K = geo.el_min_deg.shape  # noqa: N806
    M, T_f = cfg.time.M, cfg.time.T_f  # noqa: N806
    v = geo.el_min_deg >= ch.min_elevation_deg
    shadow = channel.shadowing_db(
        _stream(seed, attempt, _SHADOWING), (S, C, K), ch.shadowing_sigma_db, ch.shadowing_corr
    )
    fixed_db = ch.G_tx_dbi + ch.G_rx_dbi - ch.atm_loss_db - ch.pointing_loss_db
    lam = channel.SPEED_OF_LIGHT / ch.freq_hz
    # mean over the slot of G / FSPL(d) = G (lambda / 4 pi)^2 E[1/d^2]
    g = channel.db_to_linear(fixed_db - shadow) * (lam / (4.0 * np.pi)) ** 2 * geo.inv_d2_mean
    rng_d = _stream(seed, attempt, _DEMAND)
    rate = _rates(cfg, geo, rng_d)
    a = demand.poisson_arrivals(rng_d, rate, T_f, M, cfg.demand.packet_bits)
    H = np.full(C, cfg.budget.H, dtype=np.int64)  # noqa: N806
    need = handover.min_handovers(v)
    problems: list[str] = []
    uncovered = np.nonzero(~v.any(axis=0))
    if uncovered[0].size:
        c, k = int(uncovered[0][0]), int(uncovered[1][0])
        problems.append(
            f"cell {c} has no visible satellite in slot {k} (0 of {S} satellites stay above "
            f"{ch.min_elevation_deg:g} deg for the whole slot; {uncovered[0].size} (cell, slot) pairs uncovered)"
        )
    over = np.nonzero((need >= 0) & (need > H))[0]
    if over.size:
        c = int(over[0])
        problems.append(
            f"cell {c} needs at least {int(need[c])} handovers but its budget budget.H is {int(H[c])} "
            f"({over.size} cells over budget)"
        )
    sc = Scenario(
        name=cfg.name,
        seed=int(seed),
        v=v,
        g=g,
        a=a,
        H=H,
        N_PRB=np.full(S, float(cfg.N_PRB)),
        P_max=np.full(S, float(cfg.resources.P_max_w)),
        W_PRB=float(ch.W_PRB),
        N0=channel.dbm_per_hz_to_w_per_hz(ch.N0_dbm_per_hz),
        T_f=float(T_f),
        T_s=float(geo.T_s),
        eps=float(cfg.utility.eps),
        lambda_h=float(cfg.utility.lambda_h),
        demand_rate=rate * T_f,
        min_handovers=need,
        elevation_deg=geo.el_min_deg,
        sat_ecef=geo.sat_ecef,
        cell_ecef=geo.cell_ecef,
        cell_latlon_deg=geo.cell_latlon_deg,
        sat_names=geo.sat_names,
        kind=cfg.kind,
        fading=ch.fading,
        rician_k_db=ch.rician_k_db,
        config=cfg.to_dict(),
    )
    return sc, problems


def make_scenario(
    name_or_config: str | os.PathLike[str] | ScenarioConfig | dict[str, Any] = "toy",
    seed: int = 0,
    overrides: list[str] | dict[str, Any] | None = None,
) -> Scenario:
    """Build the scenario for ``seed`` from a preset name, YAML path, dict or config.

    Parameters
    ----------
    name_or_config
        Preset (``toy``, ``medium``, ``stress``, ``europe-starlink``, ``europe-multishell``, ...),
        YAML path, nested dict or :class:`ScenarioConfig`.
    seed : int
        Non-negative seed; the same seed gives the same arrays, bit for bit.
    overrides
        Dotted ``key=value`` overrides (``["demand.mismatch_ratio=0.5"]``) or a nested dict.

    Raises
    ------
    InfeasibleScenarioError
        No feasible draw within ``max_resamples`` resamples; the message names the cell and the
        numbers (uncovered slot, or minimum handovers vs budget).
    ValueError
        Bad configuration (the message names the field and the allowed range).
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    cfg = load_config(name_or_config, overrides)
    seed_independent = cfg.kind == "orbit" and cfg.constellation.random_epoch_s == 0
    problems: list[str] = []
    for attempt in range(cfg.max_resamples + 1):
        sc, problems = _build_once(cfg, int(seed), attempt)
        if not problems:
            return sc
        if seed_independent:
            break  # feasibility depends only on the geometry, which no redraw changes
    raise InfeasibleScenarioError(
        f"scenario {cfg.name!r} (seed {seed}) is infeasible after {attempt + 1} draw(s): "
        + "; ".join(problems)
    )


def clear_caches() -> None:
    """Forget the cached orbit geometry and Walker element sets (cold-build benchmarks)."""
    _cached_orbit_geometry.cache_clear()
    _walker_satrecs.cache_clear()


def orbit_source(cfg: ScenarioConfig) -> tuple[Any, tuple[str, ...]]:
    """The constellation (or element sets) of an orbit config and the satellites' names."""
    return _orbit_source(cfg)
