"""The :class:`Scenario` container: every array an environment or oracle needs for one episode.

Array conventions follow APEX: ``S`` satellites, ``C`` cells, ``K`` slow slots (association
epochs) of ``M`` fast slots each.  Gains are linear power ratios, arrivals are bits per fast
slot, powers are watts, times are seconds, positions are metres (ECEF).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from leo_env.core import channel as _channel

__all__ = ["Scenario", "summarise", "nominal_capacity_bits"]


class Sizes:
    """Sizes ``S, C, K, M`` (APEX's names) read from ``v`` (S, C, K) and ``a`` (C, K, M).

    Shared by :class:`Scenario` and :class:`oracles.p2.Problem`.
    """

    v: np.ndarray
    a: np.ndarray

    @property
    def S(self) -> int:  # noqa: N802 - APEX's name
        """Number of satellites."""
        return int(self.v.shape[0])

    @property
    def C(self) -> int:  # noqa: N802
        """Number of cells."""
        return int(self.v.shape[1])

    @property
    def K(self) -> int:  # noqa: N802
        """Number of slow slots."""
        return int(self.v.shape[2])

    @property
    def M(self) -> int:  # noqa: N802
        """Fast slots per slow slot."""
        return int(self.a.shape[2])


@dataclass(frozen=True, eq=False)
class Scenario(Sizes):
    """One sampled episode substrate: visibility, gains, arrivals, budgets and resources.

    Attributes
    ----------
    name : str
        Preset or config name.
    seed : int
        Seed the scenario was built from (the same seed gives the same arrays, bit for bit).
    v : ndarray of bool, shape (S, C, K)
        ``v[s, c, k]`` is True when satellite ``s`` stays at or above the minimum elevation
        seen from cell ``c`` for the whole slow slot ``k``.
    g : ndarray of float, shape (S, C, K)
        Large-scale channel gain, linear (``G_tx G_rx / (FSPL L_atm L_point L_shadow)``).
    a : ndarray of float, shape (C, K, M)
        Realised arrivals [bit per fast slot].
    H : ndarray of int, shape (C,)
        Hard handover budget per cell over the episode.
    N_PRB : ndarray of float, shape (S,)
        PRBs per satellite per fast slot.
    P_max : ndarray of float, shape (S,)
        Transmit power pool per satellite per fast slot [W].
    W_PRB : float
        PRB bandwidth [Hz].
    N0 : float
        Noise power spectral density [W/Hz].
    T_f : float
        Fast-slot length [s].
    T_s : float
        Slow-slot length of the orbital geometry [s].  For orbit-driven scenarios
        ``T_s = M * T_f``; APEX's synthetic presets keep the radio timing ``T_f`` of 10 ms
        and use an abstract geometry time per slot (see ``docs/scenarios.md``).
    eps : float
        Utility offset in ``log(eps + xi)``.
    lambda_h : float
        Handover price in the reward / P2 objective.
    demand_rate : ndarray of float, shape (C, K)
        Expected arrivals per fast slot [bit] (the process mean, before Poisson draws).
    min_handovers : ndarray of int, shape (C,)
        Minimum number of handovers each cell needs over the horizon (dynamic programming).
    elevation_deg : ndarray of float, shape (S, C, K)
        Minimum elevation [deg] over each slow slot (``-90`` where below the horizon).
    sat_ecef : ndarray of float, shape (K*M+1, S, 3) or None
        Satellite positions [m] at every fast-slot boundary (synthetic presets too: their
        time-compressed tracks).
    cell_ecef : ndarray of float, shape (C, 3) or None
        Cell centres [m].
    cell_latlon_deg : ndarray of float, shape (C, 2) or None
        Cell centres as (latitude, longitude) [deg].
    sat_names : tuple of str
        Satellite identifiers (TLE names, or ``shell/plane/slot`` for Walker shells).
    kind : str
        ``"synthetic"`` (APEX presets: time-compressed passes) or ``"orbit"`` (Walker / TLE).
    fading : str
        Small-scale fading model per fast slot: ``"none"``, ``"rician"`` or ``"rayleigh"``.
    rician_k_db : float
        Rician K-factor [dB] when ``fading == "rician"``.
    config : dict
        The resolved configuration the scenario was built from (plain data).

    Every array attribute is a read-only view (``flags.writeable`` is False): copy before
    modifying, e.g. ``dataclasses.replace(sc, a=sc.a * 2)``.
    """

    name: str
    seed: int
    v: np.ndarray
    g: np.ndarray
    a: np.ndarray
    H: np.ndarray
    N_PRB: np.ndarray
    P_max: np.ndarray
    W_PRB: float
    N0: float
    T_f: float
    T_s: float
    eps: float
    lambda_h: float
    demand_rate: np.ndarray
    min_handovers: np.ndarray
    elevation_deg: np.ndarray
    sat_ecef: np.ndarray | None = None
    cell_ecef: np.ndarray | None = None
    cell_latlon_deg: np.ndarray | None = None
    sat_names: tuple[str, ...] = ()
    kind: str = "synthetic"
    fading: str = "none"
    rician_k_db: float = 10.0
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Read-only views: scenarios (and the orbit geometry they share) are cached and reused by
        # environments, oracles and label generation, so no consumer may change them in place.
        # The caller's own arrays are left as they are.
        for f in fields(self):
            arr = getattr(self, f.name)
            if isinstance(arr, np.ndarray):
                view = arr.view()
                view.setflags(write=False)
                object.__setattr__(self, f.name, view)

    @property
    def orbit_driven(self) -> bool:
        """True when positions come from real orbits (Walker shells or TLEs)."""
        return self.kind == "orbit"

    # ------------------------------------------------------------------ channel
    def fast_gain(self, k: int) -> np.ndarray:
        """Gain per fast slot of slow slot ``k``, shape (S, C, M), linear.

        Without small-scale fading this is ``g[:, :, k]`` repeated over the fast slots.  With
        fading, ``g`` is multiplied by unit-mean power gains |h|^2 drawn from a generator
        derived from ``(seed, k)``, so the same slot always gets the same draws.
        """
        if not 0 <= k < self.K:
            raise ValueError(f"k must be in [0, {self.K - 1}], got {k}")
        base = np.repeat(self.g[:, :, k, None], self.M, axis=2)
        if self.fading == "none":
            return base
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(0xFAD, k)))
        h2 = _channel.small_scale_power_gain(
            rng, base.shape, model=self.fading, rician_k_db=self.rician_k_db
        )
        return base * h2

    def summary(self) -> dict[str, Any]:
        """Sizes and headline statistics as plain data (printed by the describe CLI)."""
        return summarise(self)


def nominal_capacity_bits(sc: Scenario) -> np.ndarray:
    """Bits per slow slot a satellite delivers when all its PRBs and power serve one cell.

    ``R[s, c, k] = M T_f N_PRB W log2(1 + g P_max / (N_PRB W N0))`` (zero where not visible);
    the separable proxy's ``rho`` and the coupled proxy's full-satellite rate.
    """
    snr = sc.g * (sc.P_max / sc.N_PRB)[:, None, None] / (sc.W_PRB * sc.N0)
    rate = sc.M * sc.T_f * sc.N_PRB[:, None, None] * sc.W_PRB * np.log2(1.0 + snr)
    return np.where(sc.v, rate, 0.0)


def summarise(sc: Scenario) -> dict[str, Any]:
    """Sizes and headline statistics of a scenario as plain data."""
    vis = sc.v.sum(axis=0)  # (C, K)
    D = sc.a.sum(axis=2)  # noqa: N806  (C, K) bits per slow slot
    slot_s = sc.M * sc.T_f
    R = nominal_capacity_bits(sc)  # noqa: N806
    # Satellite capacity per slot: its full-satellite rate towards the median of its visible cells.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: satellite out of view
        R_sat = np.nanmedian(np.where(sc.v, R, np.nan), axis=1)  # noqa: N806  (S, K)
    cap = np.nansum(R_sat, axis=0)  # (K,)
    load = D.sum(axis=0) / np.where(cap > 0, cap, np.nan)
    gdb = 10 * np.log10(sc.g[sc.v]) if sc.v.any() else np.array([np.nan])
    snr_db = gdb + 10 * np.log10(float(np.median(sc.P_max / sc.N_PRB)) / (sc.W_PRB * sc.N0))
    out: dict[str, Any] = {
        "name": sc.name,
        "kind": sc.kind,
        "seed": sc.seed,
        "sizes": {"S": sc.S, "C": sc.C, "K": sc.K, "M": sc.M},
        "timing": {"T_f_s": sc.T_f, "slow_slot_radio_s": slot_s, "geometry_T_s": sc.T_s},
        "resources": {
            "N_PRB": float(np.median(sc.N_PRB)),
            "P_max_W": float(np.median(sc.P_max)),
            "W_PRB_Hz": sc.W_PRB,
            "N0_W_per_Hz": sc.N0,
        },
        "utility": {"eps": sc.eps, "lambda_h": sc.lambda_h},
        "visible_per_cell_slot": {
            "min": int(vis.min()),
            "mean": float(vis.mean()),
            "max": int(vis.max()),
        },
        "handovers": {
            "min_needed_max": int(sc.min_handovers.max()),
            "min_needed_mean": float(sc.min_handovers.mean()),
            "budget_min": int(sc.H.min()),
            "budget_max": int(sc.H.max()),
        },
        "demand": {
            "mean_rate_Mbps_per_cell": float(D.mean() / slot_s / 1e6),
            "min_cell_rate_Mbps": float(D.mean(axis=1).min() / slot_s / 1e6),
            "max_cell_rate_Mbps": float(D.mean(axis=1).max() / slot_s / 1e6),
            "total_Mbps_mean": float(D.sum(axis=0).mean() / slot_s / 1e6),
            "zero_demand_share": float((D == 0).mean()),
        },
        "channel": {
            "gain_dB_visible_min": float(np.min(gdb)),
            "gain_dB_visible_max": float(np.max(gdb)),
            "snr_per_PRB_full_power_dB_median": float(np.median(snr_db)),
            "fading": sc.fading,
        },
        "load": {
            "definition": "demand / sum over satellites in view of full-satellite rate to their median cell",
            "mean": float(np.nanmean(load)),
            "max": float(np.nanmax(load)),
        },
    }
    return out
