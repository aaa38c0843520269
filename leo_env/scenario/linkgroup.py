"""Instances and task streams of the ``linkgroup`` family (EMCL link-group scheduling).

One LEO satellite (Ka band), one base station and ``n_tst`` terrestrial-satellite terminals
(C band) serve ``n_mt`` mobile terminals, ``n_iot`` dual-mode IoT devices and the BS/TSTs as
backhaul receivers over a deadline window of ``T`` slots.  Receivers are ordered MTs, IoT, BS,
TSTs; ``K = n_mt + n_iot + 1 + n_tst``.

* :class:`LinkGroupConfig` — every physical and demand constant (defaults = the family spec's
  recommendations, see ``docs/families/linkgroup.md``), validated once.
* :class:`CellLayout` / :func:`make_layout` — positions, types, priority weights (fixed per
  stream, from a layout seed).
* :class:`Task` — (device set, demand distribution, channel regime).
* :func:`build_instance` — one deadline window: demands, FSMC level paths, channel gains ->
  :class:`~leo_env.core.linkgroups.LinkGroupInstance`.
* :class:`TaskStream` / :func:`make_task_stream` — tasks switching every ``update_interval``
  slots on a schedule of events (arrival, departure, demand burst, channel shock);
  :func:`sample_tasks` draws tasks for meta-training.

Pure numpy; randomness only through explicit generators.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from typing import Any

import numpy as np

from leo_env.core import demand as demand_proc
from leo_env.core import fsmc, terrestrial
from leo_env.core.atmosphere import (
    bessel_pattern_gain,
    off_boresight_rad,
    rain_cloud_loss_linear,
    satellite_enu_m,
)
from leo_env.core.channel import SPEED_OF_LIGHT, db_to_linear, dbm_per_hz_to_w_per_hz
from leo_env.core.linkgroups import LinkGroupInstance

__all__ = [
    "LinkGroupConfig",
    "PRESETS",
    "preset",
    "CellLayout",
    "make_layout",
    "Task",
    "base_task",
    "EVENTS",
    "apply_event",
    "build_instance",
    "TaskStream",
    "make_task_stream",
    "sample_tasks",
    "fsmc_tables",
]


def _finite_in(name: str, v: float, lo: float, hi: float, lo_open: bool = False) -> None:
    ok = np.isfinite(v) and (v > lo if lo_open else v >= lo) and v <= hi
    if not ok:
        br = "(" if lo_open else "["
        raise ValueError(f"{name} must be a finite number in {br}{lo}, {hi}], got {v!r}")


def _int_in(name: str, v: int, lo: int, hi: int) -> None:
    if not (isinstance(v, int | np.integer) and lo <= v <= hi):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}")


def _range(name: str, v: tuple[float, float], lo: float, hi: float) -> None:
    if len(v) != 2 or not (np.isfinite(v[0]) and np.isfinite(v[1]) and lo <= v[0] <= v[1] <= hi):
        raise ValueError(f"{name} must be (low, high) with {lo} <= low <= high <= {hi}, got {v!r}")


@dataclass(frozen=True)
class LinkGroupConfig:
    """Physical, channel and demand constants of one cell (every field validated).

    Attributes
    ----------
    n_mt : int
        Mobile terminals (C band only), 0..500.
    n_iot : int
        Dual-mode IoT devices, 0..500.
    n_tst : int
        Terrestrial-satellite terminals, 0..4 (transmitters ``J = 2 + n_tst``).
    T : int
        Slots per deadline window, 1..100.
    dt_s : float
        Slot duration [s], (0, 10].
    altitude_m : float
        LEO altitude [m], [300e3, 2000e3].
    elevation_deg : tuple of float
        Range of the LEO elevation drawn per task [deg], within (5, 90].
    p_leo_w, p_bs_w, p_tst_w : float
        Transmit powers [W], (0, 1e4].
    bw_ka_hz, bw_c_hz : float
        Bandwidths [Hz], (0, 1e10].
    f_ka_hz, f_c_hz : float
        Carriers [Hz], [1e8, 1e11].
    n0_dbm_hz : float
        Noise density [dBm/Hz], [-200, -100].
    g_leo_dbi, g_bs_dbi, g_tst_dbi : float
        Transmit antenna gains [dBi], [-10, 70].
    g_rx_dbi : float
        Receive gain of MTs and IoT devices [dBi], [-10, 70].
    g_rx_backhaul_dbi : float
        Receive gain of the BS/TST Ka backhaul terminals [dBi], [-10, 70].
    rician_k_db : float
        Rician K-factor of LEO links [dB], [-10, 30].
    chi_db_per_km : float
        Nominal rain/cloud specific attenuation [dB/km], [0, 20].
    rain_layer_km : float
        Thickness of the rain/cloud layer [km], [0, 10].
    pitch_pattern : bool
        Apply the satellite's Bessel antenna pattern at each device's off-boresight angle.
    sat_aperture_m : float
        Radius of the satellite aperture for the pattern [m], (0, 10].
    pathloss_exponent : float
        Terrestrial path-loss exponent, [2, 3.5].
    cell_radius_m : float
        Device disc radius [m], (0, 1e5].
    tst_dist_m : tuple of float
        Range of the BS-TST distance [m].
    fsmc_levels : int
        FSMC levels, 2..64.
    fd_dt : float
        Doppler x slot ``f_D dt``, (0, 1].
    fsmc_method : str
        ``"ar1"`` (exact quantised Gauss-Markov) or ``"lcr"`` (Wang-Moayeri tridiagonal).
    demand_mt_bits, demand_iot_bits, demand_backhaul_bits : tuple of float
        Uniform demand ranges [bit], within [1, 1e12].
    min_frac : float
        ``D_min = min_frac D``, [0, 1].
    weight_values : tuple of float
        Priority weight values, each in [0, 100].
    weight_probs : tuple of float
        Their probabilities (sum 1).
    sinr_th_db : float
        SINR threshold of every receiver [dB], [-30, 40].
    """

    n_mt: int = 12
    n_iot: int = 8
    n_tst: int = 2
    T: int = 10
    dt_s: float = 0.1
    altitude_m: float = 780e3
    elevation_deg: tuple[float, float] = (40.0, 90.0)
    p_leo_w: float = 100.0
    p_bs_w: float = 40.0
    p_tst_w: float = 2.0
    bw_ka_hz: float = 400e6
    bw_c_hz: float = 20e6
    f_ka_hz: float = 30e9
    f_c_hz: float = 4e9
    n0_dbm_hz: float = -174.0
    g_leo_dbi: float = 43.0
    g_bs_dbi: float = 10.0
    g_tst_dbi: float = 5.0
    g_rx_dbi: float = 0.0
    g_rx_backhaul_dbi: float = 30.0
    rician_k_db: float = 10.0
    chi_db_per_km: float = 0.3
    rain_layer_km: float = 3.0
    pitch_pattern: bool = False
    sat_aperture_m: float = 0.5
    pathloss_exponent: float = 3.0
    cell_radius_m: float = 1000.0
    tst_dist_m: tuple[float, float] = (300.0, 500.0)
    fsmc_levels: int = 8
    fd_dt: float = 0.2
    fsmc_method: str = "ar1"
    demand_mt_bits: tuple[float, float] = (1e6, 20e6)
    demand_iot_bits: tuple[float, float] = (0.1e6, 1e6)
    demand_backhaul_bits: tuple[float, float] = (20e6, 100e6)
    min_frac: float = 0.3
    weight_values: tuple[float, ...] = (1.0, 2.0, 5.0)
    weight_probs: tuple[float, ...] = (0.75, 0.20, 0.05)
    sinr_th_db: float = 0.0

    def __post_init__(self) -> None:
        _int_in("n_mt", self.n_mt, 0, 500)
        _int_in("n_iot", self.n_iot, 0, 500)
        _int_in("n_tst", self.n_tst, 0, 4)
        _int_in("T", self.T, 1, 100)
        _int_in("fsmc_levels", self.fsmc_levels, 2, 64)
        if self.n_mt + self.n_iot < 1:
            raise ValueError("n_mt + n_iot must be >= 1")
        _finite_in("dt_s", self.dt_s, 0.0, 10.0, lo_open=True)
        _finite_in("altitude_m", self.altitude_m, 300e3, 2000e3)
        _range("elevation_deg", self.elevation_deg, 5.0, 90.0)
        if self.elevation_deg[0] <= 5.0:
            raise ValueError("elevation_deg low end must be > 5 [deg]")
        for n in ("p_leo_w", "p_bs_w", "p_tst_w"):
            _finite_in(n, getattr(self, n), 0.0, 1e4, lo_open=True)
        for n in ("bw_ka_hz", "bw_c_hz"):
            _finite_in(n, getattr(self, n), 0.0, 1e10, lo_open=True)
        for n in ("f_ka_hz", "f_c_hz"):
            _finite_in(n, getattr(self, n), 1e8, 1e11)
        _finite_in("n0_dbm_hz", self.n0_dbm_hz, -200.0, -100.0)
        for n in ("g_leo_dbi", "g_bs_dbi", "g_tst_dbi", "g_rx_dbi", "g_rx_backhaul_dbi"):
            _finite_in(n, getattr(self, n), -10.0, 70.0)
        _finite_in("rician_k_db", self.rician_k_db, -10.0, 30.0)
        _finite_in("chi_db_per_km", self.chi_db_per_km, 0.0, 20.0)
        _finite_in("rain_layer_km", self.rain_layer_km, 0.0, 10.0)
        _finite_in("sat_aperture_m", self.sat_aperture_m, 0.0, 10.0, lo_open=True)
        _finite_in("pathloss_exponent", self.pathloss_exponent, 2.0, 3.5)
        _finite_in("cell_radius_m", self.cell_radius_m, 0.0, 1e5, lo_open=True)
        _range("tst_dist_m", self.tst_dist_m, 1.0, self.cell_radius_m)
        _finite_in("fd_dt", self.fd_dt, 0.0, 1.0, lo_open=True)
        if self.fsmc_method not in ("ar1", "lcr"):
            raise ValueError(f"fsmc_method must be 'ar1' or 'lcr', got {self.fsmc_method!r}")
        for n in ("demand_mt_bits", "demand_iot_bits", "demand_backhaul_bits"):
            _range(n, getattr(self, n), 1.0, 1e12)
        _finite_in("min_frac", self.min_frac, 0.0, 1.0)
        if len(self.weight_values) < 1 or len(self.weight_values) != len(self.weight_probs):
            raise ValueError("weight_values and weight_probs must be non-empty and of equal length")
        for v in self.weight_values:
            _finite_in("weight_values[i]", v, 0.0, 100.0)
        for v in self.weight_probs:
            _finite_in("weight_probs[i]", v, 0.0, 1.0)
        if abs(sum(self.weight_probs) - 1.0) > 1e-9:
            raise ValueError(f"weight_probs must sum to 1, got {sum(self.weight_probs)}")
        _finite_in("sinr_th_db", self.sinr_th_db, -30.0, 40.0)

    @property
    def n_dev(self) -> int:
        """Number of MTs and IoT devices (the receivers that may come and go)."""
        return self.n_mt + self.n_iot

    @property
    def J(self) -> int:  # noqa: N802
        """Number of transmitters (LEO, BS, TSTs)."""
        return 2 + self.n_tst

    @property
    def K(self) -> int:  # noqa: N802
        """Number of receivers (MTs, IoT, BS, TSTs)."""
        return self.n_dev + 1 + self.n_tst


PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"n_mt": 3, "n_iot": 3, "n_tst": 1, "T": 3},
    "small": {"n_mt": 4, "n_iot": 2, "n_tst": 2, "T": 10},
    "k20": {"n_mt": 12, "n_iot": 8},
    "k30": {"n_mt": 18, "n_iot": 12},
    "k50": {"n_mt": 30, "n_iot": 20},
    "k100": {"n_mt": 60, "n_iot": 40},
}
"""Named overrides of :class:`LinkGroupConfig` (``k20``/``k30``: OPT solves; ``k50``/``k100``:
paper scale, compared with the QP bound; ``tiny``/``small``: tests and checkers)."""


def preset(name: str, **overrides: Any) -> LinkGroupConfig:
    """The configuration of a named preset, with field overrides."""
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {name!r}")
    names = {f.name for f in fields(LinkGroupConfig)}
    bad = set(overrides) - names
    if bad:
        raise ValueError(f"unknown LinkGroupConfig fields {sorted(bad)}")
    return LinkGroupConfig(**{**PRESETS[name], **overrides})


@dataclass(frozen=True, eq=False)
class CellLayout:
    """Positions and fixed attributes of one cell (shared by all tasks of a stream).

    Attributes
    ----------
    tx_xy_m : ndarray, shape (1 + n_tst, 2)
        BS and TSTs [m].
    dev_xy_m : ndarray, shape (K, 2)
        Receivers [m] (MTs, IoT, BS, TSTs).
    dev_type : ndarray of int, shape (K,)
        Receiver types (``leo_env.core.terrestrial.DEV_*``).
    weight : ndarray, shape (K,)
        Priority weights.
    compat : ndarray of bool, shape (J, K)
        Compatibility.
    """

    tx_xy_m: np.ndarray
    dev_xy_m: np.ndarray
    dev_type: np.ndarray
    weight: np.ndarray
    compat: np.ndarray


def make_layout(cfg: LinkGroupConfig, rng: np.random.Generator) -> CellLayout:
    """Draw a cell layout and the priority weights."""
    lay = terrestrial.terrestrial_layout(
        rng, cfg.n_mt, cfg.n_iot, n_tst=cfg.n_tst, cell_radius_m=cfg.cell_radius_m,
        tst_dist_m=cfg.tst_dist_m,
    )
    w = rng.choice(np.asarray(cfg.weight_values), size=cfg.K, p=np.asarray(cfg.weight_probs))
    return CellLayout(
        lay.tx_xy_m, lay.dev_xy_m, lay.dev_type, w.astype(float),
        terrestrial.compatibility(lay.dev_type, cfg.n_tst),
    )


@dataclass(frozen=True, eq=False)
class Task:
    """A task: (device set, demand distribution, channel regime).

    Attributes
    ----------
    task_id : int
        Identifier (>= 0), unique within a stream.
    active : ndarray of bool, shape (n_dev,)
        Which MTs/IoT devices are present (the BS/TST backhaul receivers always are).
    demand_factor : ndarray, shape (n_dev + 1 + n_tst,)
        Multiplier of every receiver's demand range (bursts: > 1 heavy, < 1 light).
    chi_db_per_km : float
        Rain/cloud specific attenuation of this regime [dB/km].
    shadow_db : ndarray, shape (J, K)
        Extra loss of every link [dB] (obstacles; 0 normally).
    elevation_deg : float
        LEO elevation during this task [deg].
    azimuth_deg : float
        LEO azimuth [deg].
    event : str
        The event that created the task (``"base"`` for the first).
    """

    task_id: int
    active: np.ndarray
    demand_factor: np.ndarray
    chi_db_per_km: float
    shadow_db: np.ndarray
    elevation_deg: float
    azimuth_deg: float
    event: str = "base"

    def receivers_active(self) -> np.ndarray:
        """Activity of all K receivers (backhaul receivers always active)."""
        n_bh = self.demand_factor.shape[0] - self.active.shape[0]
        return np.r_[self.active, np.ones(n_bh, dtype=bool)]


def base_task(
    cfg: LinkGroupConfig, rng: np.random.Generator, active_frac: float = 0.8, task_id: int = 0
) -> Task:
    """A normal-regime task: a random ``active_frac`` of the devices, nominal demand and rain."""
    _finite_in("active_frac", active_frac, 0.0, 1.0, lo_open=True)
    n_on = max(1, int(round(active_frac * cfg.n_dev)))
    active = np.zeros(cfg.n_dev, dtype=bool)
    active[rng.choice(cfg.n_dev, n_on, replace=False)] = True
    return Task(
        task_id=task_id,
        active=active,
        demand_factor=np.ones(cfg.K),
        chi_db_per_km=cfg.chi_db_per_km,
        shadow_db=np.zeros((cfg.J, cfg.K)),
        elevation_deg=float(rng.uniform(*cfg.elevation_deg)),
        azimuth_deg=float(rng.uniform(0.0, 360.0)),
    )


EVENTS = ("departure", "arrival", "burst", "shock")
"""Abnormal events that start a new task."""


def apply_event(
    cfg: LinkGroupConfig, task: Task, event: str, rng: np.random.Generator, task_id: int
) -> Task:
    """The task after an abrupt event; the other components are carried over.

    * ``departure``: every active device leaves with probability 0.3 (one step of
      :func:`leo_env.core.demand.churn_active`), at least one stays.
    * ``arrival``: ``1 + Poisson(0.2 n_dev)`` absent devices arrive (all if fewer).
    * ``burst``: demand regime switch: with probability 1/2 heavy (x3, "HD video") for a random
      half of the devices (:func:`leo_env.core.demand.burst_multiplier`), otherwise light
      (x0.2, "voice") for all devices.
    * ``shock``: rain/cloud x10 and an obstacle loss of 10 dB on the C-band links of a random
      30 % of the devices.
    """
    if event not in EVENTS:
        raise ValueError(f"event must be one of {EVENTS}, got {event!r}")
    active = task.active.copy()
    factor = np.ones(cfg.K)
    chi = cfg.chi_db_per_km
    shadow = np.zeros((cfg.J, cfg.K))
    if event == "departure":
        stay = demand_proc.churn_active(rng, cfg.n_dev, 2, 0.3, 0.0)[:, 1]
        new = active & stay
        if not new.any():
            new[rng.choice(np.flatnonzero(active))] = True
        active = new
    elif event == "arrival":
        absent = np.flatnonzero(~active)
        n_arr = min(absent.size, 1 + int(rng.poisson(0.2 * cfg.n_dev)))
        if n_arr:
            active[rng.choice(absent, n_arr, replace=False)] = True
    elif event == "burst":
        if rng.random() < 0.5:
            factor[: cfg.n_dev] = demand_proc.burst_multiplier(rng, cfg.n_dev, 1, 0.5, 3.0, 1)[:, 0]
        else:
            factor[: cfg.n_dev] = 0.2
    else:
        chi = 10.0 * cfg.chi_db_per_km
        hit = rng.random(cfg.n_dev) < 0.3
        shadow[1:, : cfg.n_dev][:, hit] = 10.0
    return Task(task_id, active, factor, chi, shadow, task.elevation_deg, task.azimuth_deg, event)


@lru_cache(maxsize=32)
def _fsmc_tables(levels: int, fd_dt: float, k_db: float, method: str) -> dict[str, np.ndarray]:
    out = {}
    for band, model in (("ka", "rician"), ("c", "rayleigh")):
        out[f"P_{band}"] = fsmc.transition_matrix(levels, fd_dt, model, k_db, method)
        out[f"mean_{band}"] = fsmc.level_means(levels, model, k_db)
    for v in out.values():
        v.setflags(write=False)
    return out


def fsmc_tables(cfg: LinkGroupConfig) -> dict[str, np.ndarray]:
    """FSMC transition matrices and level means of the Ka (Rician) and C (Rayleigh) links.

    Cached per (levels, ``fd_dt``, K-factor, method); the arrays are read-only.
    """
    return dict(_fsmc_tables(cfg.fsmc_levels, cfg.fd_dt, cfg.rician_k_db, cfg.fsmc_method))


def large_scale_gains(cfg: LinkGroupConfig, layout: CellLayout, task: Task) -> np.ndarray:
    """Link power gains without small-scale fading, shape (J, K) (0 on incompatible links)."""
    J, K = cfg.J, cfg.K  # noqa: N806
    g = np.zeros((J, K))
    # LEO (Ka): antenna gains, free space over the 3-D range, rain/cloud, optional pattern
    sat = satellite_enu_m(task.elevation_deg, task.azimuth_deg, cfg.altitude_m)
    pos = np.column_stack([layout.dev_xy_m, np.zeros(K)])
    rng_m = np.linalg.norm(pos - sat[None, :], axis=1)
    g_rx = np.where(layout.dev_type >= terrestrial.DEV_BS, cfg.g_rx_backhaul_dbi, cfg.g_rx_dbi)
    fs = (SPEED_OF_LIGHT / (4.0 * np.pi * rng_m * cfg.f_ka_hz)) ** 2
    atm = rain_cloud_loss_linear(task.chi_db_per_km, rng_m, cfg.altitude_m, cfg.rain_layer_km)
    pitch = (
        bessel_pattern_gain(off_boresight_rad(sat, layout.dev_xy_m), cfg.f_ka_hz, cfg.sat_aperture_m)
        if cfg.pitch_pattern
        else np.ones(K)
    )
    g[0] = db_to_linear(cfg.g_leo_dbi + g_rx) * fs / atm * pitch
    # terrestrial (C): BS and TSTs to every device
    g_tx = np.r_[cfg.g_bs_dbi, np.full(cfg.n_tst, cfg.g_tst_dbi)]
    d = np.linalg.norm(layout.tx_xy_m[:, None, :] - layout.dev_xy_m[None, :, :], axis=2)
    d = np.maximum(d, 1.0)
    g[1:] = terrestrial.cband_gain(
        d, freq_hz=cfg.f_c_hz, exponent=cfg.pathloss_exponent, g_tx_dbi=g_tx[:, None],
        g_rx_dbi=cfg.g_rx_dbi,
    )
    g *= db_to_linear(-task.shadow_db)
    return np.where(layout.compat, g, 0.0)


def build_instance(
    cfg: LinkGroupConfig,
    layout: CellLayout,
    task: Task,
    rng: np.random.Generator,
    tables: dict[str, np.ndarray] | None = None,
    init_levels: np.ndarray | None = None,
) -> tuple[LinkGroupInstance, np.ndarray]:
    """One deadline window of ``task``: demands, FSMC level paths and the instance.

    Parameters
    ----------
    tables : dict, optional
        :func:`fsmc_tables` of ``cfg`` (computed if omitted; pass it to avoid recomputing).
    init_levels : ndarray of int, shape (J, K), optional
        Levels of the first slot (default: drawn from the stationary law).

    Returns
    -------
    inst : LinkGroupInstance
    levels : ndarray of int, shape (J, K, T)
        FSMC level of every link and slot (the channel state the scheduler observes).
    """
    tab = fsmc_tables(cfg) if tables is None else tables
    J, K, T = cfg.J, cfg.K, cfg.T  # noqa: N806
    act = task.receivers_active()
    lo = np.empty(K)
    hi = np.empty(K)
    for typ, rngs in (
        (terrestrial.DEV_MT, cfg.demand_mt_bits),
        (terrestrial.DEV_IOT, cfg.demand_iot_bits),
        (terrestrial.DEV_BS, cfg.demand_backhaul_bits),
        (terrestrial.DEV_TST, cfg.demand_backhaul_bits),
    ):
        m = layout.dev_type == typ
        lo[m], hi[m] = rngs
    dem = rng.uniform(lo, hi) * task.demand_factor
    dem = np.where(act, dem, 0.0)
    init = None if init_levels is None else np.asarray(init_levels).reshape(-1)
    lv = np.empty((J, K, T), dtype=np.int64)
    lv[0] = fsmc.sample_levels(rng, tab["P_ka"], K, T, None if init is None else init[:K])
    lv[1:] = fsmc.sample_levels(
        rng, tab["P_c"], (J - 1) * K, T, None if init is None else init[K:]
    ).reshape(J - 1, K, T)
    fade = np.empty((J, K, T))
    fade[0] = tab["mean_ka"][lv[0]]
    fade[1:] = tab["mean_c"][lv[1:]]
    gain = large_scale_gains(cfg, layout, task)[:, :, None] * fade
    n0 = dbm_per_hz_to_w_per_hz(cfg.n0_dbm_hz)
    bw = np.array([cfg.bw_ka_hz, cfg.bw_c_hz])
    inst = LinkGroupInstance(
        tx_power_w=np.r_[cfg.p_leo_w, cfg.p_bs_w, np.full(cfg.n_tst, cfg.p_tst_w)],
        tx_band=terrestrial.transmitter_bands(cfg.n_tst),
        bandwidth_hz=bw,
        noise_w=n0 * bw,
        dt_s=cfg.dt_s,
        compat=layout.compat,
        gain=gain,
        demand_bits=dem,
        min_bits=cfg.min_frac * dem,
        weight=np.where(act, layout.weight, 0.0),
        sinr_th=np.full(K, float(db_to_linear(cfg.sinr_th_db))),
        active=act,
    )
    return inst, lv


@dataclass(frozen=True, eq=False)
class TaskStream:
    """Tasks switching every ``update_interval`` slots.

    Attributes
    ----------
    tasks : tuple of Task
        ``tasks[i]`` is in force on slots ``[change_slots[i], change_slots[i+1])``.
    change_slots : ndarray of int
        First slot of every task (``change_slots[0] = 0``).
    update_interval : int
        Slots between changes.
    """

    tasks: tuple[Task, ...]
    change_slots: np.ndarray
    update_interval: int
    events: tuple[str, ...] = field(default=())

    def index_at(self, slot: int) -> int:
        """Index of the task in force at global ``slot`` (the last task stays after the end)."""
        if slot < 0:
            raise ValueError(f"slot must be >= 0, got {slot}")
        return int(np.searchsorted(self.change_slots, slot, side="right") - 1)

    def task_at(self, slot: int) -> Task:
        """The task in force at global ``slot``."""
        return self.tasks[self.index_at(slot)]

    def is_change(self, slot: int) -> bool:
        """Whether a new task starts at ``slot`` (slot 0 excluded)."""
        return slot > 0 and bool(np.isin(slot, self.change_slots[1:]))


def make_task_stream(
    cfg: LinkGroupConfig,
    rng: np.random.Generator,
    n_changes: int,
    update_interval: int = 200,
    schedule: tuple[str, ...] | str = "cycle",
    active_frac: float = 0.8,
) -> TaskStream:
    """A base task followed by ``n_changes`` event-driven tasks every ``update_interval`` slots.

    Parameters
    ----------
    schedule : tuple of str or str
        Event of each change (cycled if shorter), ``"cycle"`` (departure, arrival, burst, shock,
        repeated; the order of Fig. 4) or ``"random"`` (uniform over :data:`EVENTS`).
    update_interval : int
        Slots per task, a positive multiple of ``cfg.T`` (tasks switch between episodes).
    """
    _int_in("n_changes", n_changes, 0, 100_000)
    _int_in("update_interval", update_interval, 1, 10**9)
    if update_interval % cfg.T:
        raise ValueError(f"update_interval must be a multiple of T={cfg.T}, got {update_interval}")
    if isinstance(schedule, str):
        if schedule == "cycle":
            events = [EVENTS[i % len(EVENTS)] for i in range(n_changes)]
        elif schedule == "random":
            events = [EVENTS[int(i)] for i in rng.integers(0, len(EVENTS), n_changes)]
        else:
            raise ValueError(f"schedule must be 'cycle', 'random' or a tuple of events, got {schedule!r}")
    else:
        if n_changes and not schedule:
            raise ValueError("schedule must not be empty")
        events = [schedule[i % len(schedule)] for i in range(n_changes)]
    tasks = [base_task(cfg, rng, active_frac)]
    for i, ev in enumerate(events):
        tasks.append(apply_event(cfg, tasks[-1], ev, rng, i + 1))
    return TaskStream(
        tuple(tasks), np.arange(n_changes + 1) * update_interval, update_interval, tuple(events)
    )


def sample_tasks(cfg: LinkGroupConfig, rng: np.random.Generator, n: int) -> list[Task]:
    """``n`` tasks for meta-training: a fresh base task followed by 0-2 random events each."""
    _int_in("n", n, 0, 1_000_000)
    out = []
    for i in range(n):
        t = base_task(cfg, rng, float(rng.uniform(0.5, 1.0)), task_id=i)
        for _ in range(int(rng.integers(0, 3))):
            t = apply_event(cfg, t, EVENTS[int(rng.integers(len(EVENTS)))], rng, i)
        out.append(replace(t, task_id=i))
    return out
