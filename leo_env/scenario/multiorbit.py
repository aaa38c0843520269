"""Instances of the multiorbit (DV-MOSS) family: one Walker shell, a UE disc, a zenith cone.

:class:`MultiOrbitScenario` holds every parameter (unit and range documented per field);
:func:`build_instance` turns ``(scenario, seed, slot)`` into a
:class:`leo_env.core.cochannel.CochannelInstance` -- the candidate set ``S(t)`` (satellites in
the cone of at least one UE), their gains per UE and subcarrier, and the budgets.

Randomness (all from ``seed``): the UE drop, the epoch offset of the constellation (uniform over
one orbital period) and, per slot, log-normal shadowing per (satellite, UE) and Rayleigh fading
per (satellite, UE, subcarrier).  The same seed gives the same instance, bit for bit.

Presets (:data:`PRESETS`): ``dvmoss-paper`` (the family's defaults; see
``docs/families/multiorbit.md``), ``small`` and ``tiny`` (for tests and exact references).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from leo_env.core.channel import (
    db_to_linear,
    dbm_per_hz_to_w_per_hz,
    shadowing_db,
    small_scale_power_gain,
)
from leo_env.core.cochannel import CochannelInstance, ue_drop_disc
from leo_env.core.frames import geodetic_to_ecef
from leo_env.core.geometry import elevation_deg, slant_range_m
from leo_env.core.ntn_pathloss import FREE_SPACE, PathLossModel, pathloss_db
from leo_env.core.orbit import WalkerShell, propagate_ecef

__all__ = [
    "STARLINK_1",
    "MultiOrbitScenario",
    "PRESETS",
    "preset",
    "build_instance",
    "remaining_visible_s",
    "synthetic_instance",
]

#: Starlink shell 1 (53 deg, 550 km, 72 planes x 22, phasing 65), the family's default shell.
STARLINK_1 = WalkerShell("starlink-1", 53.0, 1584, 72, 65, 550.0)

_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class MultiOrbitScenario:
    """Parameters of a multiorbit instance family.

    Attributes
    ----------
    shell : WalkerShell
        The constellation (planes of one shell, same altitude and inclination).
    cone_deg : float
        Zenith-cone half-angle theta, in (0, 90) [deg]; visible iff elevation >= 90 - theta.
    n_ues : int
        Number of UEs U, in [1, 10000].
    centre_lat_deg, centre_lon_deg : float
        Centre of the UE disc; latitude in [-89, 89] [deg].
    radius_km : float
        UE disc radius, in [0, 1000] [km].
    n_sub : int
        Number of subcarriers F, in [1, 1024].
    bandwidth_hz : float
        Subcarrier bandwidth B, > 0 [Hz].
    freq_hz : float
        Carrier frequency f_c, > 0 [Hz].
    n0_dbm_per_hz : float
        Noise density N0, in [-220, -100] [dBm/Hz].
    g_tx_dbi, g_rx_dbi : float
        Satellite and UE antenna gains, in [-50, 80] [dBi].
    shadowing_sigma_db : float
        Log-normal shadowing std, in [0, 30] [dB].
    fading : str
        Small-scale fading ``"rayleigh"``, ``"rician"`` or ``"none"``.
    rician_k_db : float
        Rician K-factor (only for ``fading="rician"``) [dB].
    p_max_w : float
        Power budget per satellite, > 0 [W].
    n_max : int
        Most satellites in service N_max, >= 1.
    r_min_bps : float
        Minimum rate per UE, >= 0 [bit/s].
    penalty_mbps : float
        Objective penalty per UE below its minimum rate, >= 0 [Mbit/s].
    pathloss : PathLossModel
        QuaDRiGa-format path-loss coefficients (free space by default).
    slot_s : float
        Slot length, > 0 [s].
    max_candidates : int or None
        Keep only the this many candidates with the highest mean elevation (None: all).  For
        tiny test instances only.
    """

    shell: WalkerShell = STARLINK_1
    cone_deg: float = 60.0
    n_ues: int = 40
    centre_lat_deg: float = 40.0
    centre_lon_deg: float = 0.0
    radius_km: float = 50.0
    n_sub: int = 16
    bandwidth_hz: float = 1e6
    freq_hz: float = 2e9
    n0_dbm_per_hz: float = -174.0
    g_tx_dbi: float = 30.0
    g_rx_dbi: float = 0.0
    shadowing_sigma_db: float = 1.0
    fading: str = "rayleigh"
    rician_k_db: float = 10.0
    p_max_w: float = 5.0
    n_max: int = 10
    r_min_bps: float = 0.2e6
    penalty_mbps: float = 10.0
    pathloss: PathLossModel = field(default_factory=lambda: FREE_SPACE)
    slot_s: float = 10.0
    max_candidates: int | None = None

    def __post_init__(self) -> None:
        def _num(name: str, lo: float, hi: float, lo_open: bool = False) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ValueError(f"{name} must be a finite number, got {v!r}")
            if (v <= lo if lo_open else v < lo) or v > hi:
                bracket = "(" if lo_open else "["
                raise ValueError(f"{name} must be in {bracket}{lo}, {hi}], got {v}")

        if not isinstance(self.shell, WalkerShell):
            raise ValueError("shell must be a WalkerShell")
        _num("cone_deg", 0.0, 89.999, lo_open=True)
        _num("n_ues", 1, 10000)
        _num("centre_lat_deg", -89.0, 89.0)
        _num("centre_lon_deg", -360.0, 360.0)
        _num("radius_km", 0.0, 1000.0)
        _num("n_sub", 1, 1024)
        _num("bandwidth_hz", 0.0, 1e12, lo_open=True)
        _num("freq_hz", 0.0, 1e12, lo_open=True)
        _num("n0_dbm_per_hz", -220.0, -100.0)
        _num("g_tx_dbi", -50.0, 80.0)
        _num("g_rx_dbi", -50.0, 80.0)
        _num("shadowing_sigma_db", 0.0, 30.0)
        _num("rician_k_db", -50.0, 50.0)
        _num("p_max_w", 0.0, 1e6, lo_open=True)
        _num("n_max", 1, 10000)
        _num("r_min_bps", 0.0, 1e12)
        _num("penalty_mbps", 0.0, 1e9)
        _num("slot_s", 0.0, 1e6, lo_open=True)
        for name in ("n_ues", "n_sub", "n_max"):
            if int(getattr(self, name)) != getattr(self, name):
                raise ValueError(f"{name} must be an integer, got {getattr(self, name)!r}")
        if self.fading not in ("rayleigh", "rician", "none"):
            raise ValueError(f"fading must be 'rayleigh', 'rician' or 'none', got {self.fading!r}")
        if self.max_candidates is not None and int(self.max_candidates) < 1:
            raise ValueError(f"max_candidates must be None or >= 1, got {self.max_candidates}")


PRESETS: dict[str, MultiOrbitScenario] = {
    "dvmoss-paper": MultiOrbitScenario(),
    "small": MultiOrbitScenario(n_ues=10, n_sub=6, n_max=4, radius_km=50.0, max_candidates=6),
    "tiny": MultiOrbitScenario(n_ues=4, n_sub=3, n_max=2, max_candidates=3),
}


def preset(name: str, **overrides: Any) -> MultiOrbitScenario:
    """Preset scenario by name, with optional field overrides."""
    try:
        base = PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown multiorbit preset {name!r}; known: {sorted(PRESETS)}") from None
    return replace(base, **overrides) if overrides else base


def build_instance(sc: MultiOrbitScenario, seed: int, slot: int = 0) -> CochannelInstance:
    """The instance of slot ``slot`` of episode ``seed``.

    The epoch offset is drawn uniformly over one orbital period (the same for every slot of a
    seed); a slot whose candidate set would be empty (possible for narrow cones) takes the
    next epoch draw of the same stream instead, so every instance has at least one candidate
    (such a slot is then a snapshot of another time of the same UE drop).

    Parameters
    ----------
    sc : MultiOrbitScenario
        Parameters.
    seed : int
        Episode seed, >= 0.
    slot : int, optional
        Slot index (time ``t0 + slot * slot_s``), >= 0.

    Returns
    -------
    CochannelInstance
    """
    if int(seed) < 0 or int(slot) < 0:
        raise ValueError(f"seed and slot must be >= 0, got seed={seed}, slot={slot}")
    ue, centre, _, sat, elev, vis, cand = _slot_geometry(sc, seed, slot)
    rng_ch = np.random.default_rng([int(seed), 0x4D4F, int(slot)])
    sat_c = sat[cand]
    dist = slant_range_m(sat_c, ue)
    pl = pathloss_db(dist, sc.freq_hz, sc.pathloss)
    shadow = shadowing_db(rng_ch, dist.shape, sc.shadowing_sigma_db)
    fade = small_scale_power_gain(
        rng_ch, (cand.size, sc.n_ues, int(sc.n_sub)), sc.fading, sc.rician_k_db
    )
    fade = np.maximum(fade, 1e-12)
    large = db_to_linear(sc.g_tx_dbi + sc.g_rx_dbi - pl - shadow)
    return CochannelInstance(
        gain=large[:, :, None] * fade,
        visible=vis[cand],
        bandwidth_hz=sc.bandwidth_hz,
        noise_w=dbm_per_hz_to_w_per_hz(sc.n0_dbm_per_hz) * sc.bandwidth_hz,
        p_max_w=sc.p_max_w,
        r_min_bps=np.full(sc.n_ues, sc.r_min_bps),
        n_max=sc.n_max,
        penalty_mbps=sc.penalty_mbps,
        sat_id=cand,
        plane=cand // sc.shell.sats_per_plane,
        centre_range_m=slant_range_m(sat_c, centre)[:, 0],
        elevation_deg=elev[cand],
        cone_deg=sc.cone_deg,
    )


def _slot_geometry(
    sc: MultiOrbitScenario, seed: int, slot: int
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """UEs, centre, slot time, all satellites, elevations, cone mask and candidates of a slot."""
    ss = np.random.SeedSequence([int(seed), 0x4D4F])
    rng_ue, rng_epoch = (np.random.default_rng(s) for s in ss.spawn(2))
    ue_ll = ue_drop_disc(rng_ue, sc.centre_lat_deg, sc.centre_lon_deg, sc.radius_km, sc.n_ues)
    ue = geodetic_to_ecef(ue_ll[:, 0], ue_ll[:, 1])
    centre = geodetic_to_ecef(sc.centre_lat_deg, sc.centre_lon_deg)[None, :]
    for _ in range(1000):
        t = float(rng_epoch.random()) * sc.shell.period_s + slot * sc.slot_s
        sat = propagate_ecef(sc.shell, _EPOCH, [t], method="kepler")[0]
        # Geocentric vertical: the cone is the angle between (p_s - p_u) and (p_u - p_E).
        elev = elevation_deg(sat, ue)
        vis = elev >= 90.0 - sc.cone_deg
        cand = np.flatnonzero(vis.any(axis=1))
        if cand.size:
            break
    else:  # pragma: no cover - needs an absurdly narrow cone
        raise ValueError(f"cone_deg={sc.cone_deg}: no satellite visible in 1000 epoch draws")
    if sc.max_candidates is not None and cand.size > sc.max_candidates:
        order = np.argsort(-elev[cand].mean(axis=1), kind="stable")
        cand = np.sort(cand[order[: int(sc.max_candidates)]])
    return ue, centre, t, sat, elev, vis, cand


def remaining_visible_s(
    sc: MultiOrbitScenario, seed: int, slot: int, horizon_s: float = 600.0
) -> np.ndarray:
    """How long each candidate of the slot stays in at least one UE's cone [s].

    Sampled every ``slot_s`` from the slot's time (the first sample after the slot where the
    satellite is in no UE's cone ends the count), capped at ``horizon_s``.  Same candidate
    order as :func:`build_instance`.
    """
    if not math.isfinite(horizon_s) or horizon_s <= 0:
        raise ValueError(f"horizon_s must be finite and > 0, got {horizon_s}")
    ue, _, t, _, _, _, cand = _slot_geometry(sc, seed, slot)
    n = int(math.ceil(horizon_s / sc.slot_s))
    times = t + sc.slot_s * np.arange(1, n + 1)
    sats = propagate_ecef(sc.shell, _EPOCH, times, method="kepler")[:, cand]
    vis = (elevation_deg(sats, ue) >= 90.0 - sc.cone_deg).any(axis=2)  # (n, C)
    gone = ~vis
    first_gone = np.where(gone.any(axis=0), gone.argmax(axis=0), n)
    return np.minimum(first_gone * sc.slot_s, horizon_s)


def synthetic_instance(
    rng: np.random.Generator,
    n_sats: int,
    n_ues: int,
    n_sub: int,
    *,
    snr_db_range: tuple[float, float] = (5.0, 30.0),
    visible_prob: float = 0.8,
    p_max_w: float = 1.0,
    n_max: int | None = None,
    r_min_bps: float = 0.2e6,
    bandwidth_hz: float = 1e6,
    penalty_mbps: float = 10.0,
) -> CochannelInstance:
    """Random instance without orbits (for property tests): gains set by a per-link SNR.

    The SNR at full power ``p_max_w`` of each (satellite, UE) link is uniform in
    ``snr_db_range`` [dB], times Rayleigh fading per subcarrier.  Each UE sees each satellite
    with probability ``visible_prob`` (at least one satellite per UE).
    """
    if min(n_sats, n_ues, n_sub) < 1:
        raise ValueError("n_sats, n_ues and n_sub must be >= 1")
    noise_w = 1e-3
    snr = db_to_linear(rng.uniform(*snr_db_range, size=(n_sats, n_ues)))
    fade = np.maximum(small_scale_power_gain(rng, (n_sats, n_ues, n_sub), "rayleigh"), 1e-6)
    gain = (snr * noise_w / p_max_w)[:, :, None] * fade
    vis = rng.random((n_sats, n_ues)) < visible_prob
    vis[rng.integers(0, n_sats, size=n_ues), np.arange(n_ues)] = True
    vis[np.arange(n_sats), rng.integers(0, n_ues, size=n_sats)] = True
    elev = np.where(vis, 60.0, 20.0)
    return CochannelInstance(
        gain=gain,
        visible=vis,
        bandwidth_hz=bandwidth_hz,
        noise_w=noise_w,
        p_max_w=p_max_w,
        r_min_bps=np.full(n_ues, r_min_bps),
        n_max=n_sats if n_max is None else n_max,
        penalty_mbps=penalty_mbps,
        sat_id=np.arange(n_sats),
        plane=np.arange(n_sats),
        centre_range_m=rng.uniform(6e5, 1.2e6, size=n_sats),
        elevation_deg=elev,
        cone_deg=60.0,
    )
