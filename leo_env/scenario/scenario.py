"""The :class:`Scenario` container: every array an environment or oracle needs for one episode.

Array conventions follow APEX: ``S`` satellites, ``C`` cells, ``K`` slow slots (association
epochs) of ``M`` fast slots each.  Gains are linear power ratios, arrivals are bits per fast
slot, powers are watts, times are seconds, positions are metres (ECEF).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leo_env.core import channel as _channel

__all__ = ["Scenario"]


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
        from leo_env.scenario.describe import summarise

        return summarise(self)
