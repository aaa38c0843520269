"""Seeded random P1 instances for tests and benchmarks (load regimes, causality, fading).

The channel is described by the *equal-share SNR* ``snr = g P_max / (N_PRB W_PRB N0)``: the
SNR of one PRB that gets an equal share ``P_max / N_PRB`` of the satellite's power.  Gains are
drawn as ``snr`` in dB, uniform over a regime-dependent range, independently per (satellite,
cell), and converted back to linear gains ``g``.  Each cell is associated to its strongest
satellite.  Arrivals are bits per fast slot, uniform in ``[a_lo, a_hi_c]`` with a per-cell
upper end ``a_hi_c`` in ``[a_lo, a_hi]``; the demand-channel mismatch gives the cells with the
strongest channels the lowest ``a_hi_c`` (APEX's mismatch: strong cells ask for little).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["P1Instance", "random_instance", "REGIMES", "PHYSICAL"]

#: physical constants of the generated instances
PHYSICAL: dict[str, float] = {
    "W_PRB": 180e3,  # [Hz]
    "N0": 10 ** (-174 / 10) * 1e-3,  # -174 dBm/Hz [W/Hz]
    "T_f": 1e-3,  # [s]
}

#: equal-share SNR range [dB] per load regime (with the default pools and arrivals)
REGIMES: dict[str, tuple[float, float]] = {
    "overloaded": (-30.0, -10.0),
    "transition": (-22.0, -2.0),
    "underloaded": (10.0, 30.0),
}


@dataclass(frozen=True, eq=False)
class P1Instance:
    """One P1 instance: the keyword arguments of :func:`oracles.p1.solve`.

    Attributes
    ----------
    x, a, g : ndarray
        Association (S, C), arrivals (C, M) [bit], gains (S, C) or (S, C, M) (linear).
    params : dict
        ``N_PRB, P_max, W_PRB, N0, T_f`` (and ``w`` when weighted).
    """

    x: np.ndarray
    a: np.ndarray
    g: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    def kwargs(self) -> dict[str, Any]:
        """Arguments for ``solve(**inst.kwargs())``."""
        return {"x": self.x, "a": self.a, "g": self.g, **self.params}


def random_instance(
    rng: np.random.Generator,
    S: int = 4,
    C: int = 10,
    M: int = 20,
    *,
    regime: str = "overloaded",
    N_PRB: float = 100.0,
    P_max: float = 100.0,
    a_lo: float = 1e3,
    a_hi: float = 2e4,
    mismatch: float = 1.0,
    arrivals: str = "uniform",
    fading: bool = False,
    weights: bool = False,
) -> P1Instance:
    """Draw one instance.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (the only one).
    S, C, M : int
        Satellites, cells, fast slots.
    regime : {"overloaded", "transition", "underloaded"}
        Equal-share SNR range, see :data:`REGIMES`.
    N_PRB, P_max : float
        Pools per satellite and fast slot [PRB], [W].
    a_lo, a_hi : float
        Range of arrivals [bit per fast slot].
    mismatch : float
        Share of cells whose demand level is rank-reversed to their channel strength.
    arrivals : {"uniform", "backloaded"}
        ``"backloaded"`` multiplies arrivals by ``(m + 1)^3`` and zeroes the first third of the
        fast slots, so causality binds.
    fading : bool
        Multiply gains per fast slot by Rayleigh power fading ``Exp(1)``.
    weights : bool
        Draw utility weights uniform in [0.5, 2].
    """
    lo, hi = REGIMES[regime]
    snr_db = rng.uniform(lo, hi, size=(S, C))
    snr = 10.0 ** (snr_db / 10.0)
    x = np.zeros((S, C))
    best = np.argmax(snr, axis=0)
    x[best, np.arange(C)] = 1.0
    strength = snr.max(axis=0)
    level = rng.uniform(0.0, 1.0, size=C)
    k = int(round(mismatch * C))
    if k > 0:
        mis = rng.choice(C, size=k, replace=False)
        order = mis[np.argsort(-strength[mis])]  # strongest first
        level[order] = np.sort(level[mis])  # ... gets the lowest level
    hi_c = a_lo + level * (a_hi - a_lo)
    a = rng.uniform(0.0, 1.0, size=(C, M)) * (hi_c - a_lo)[:, None] + a_lo
    if arrivals == "backloaded":
        a = a * (np.arange(1, M + 1) ** 3)[None, :] / M**2
        a[:, : M // 3] = 0.0
    elif arrivals != "uniform":
        raise ValueError(f"arrivals: unknown profile {arrivals!r}")
    W, N0 = PHYSICAL["W_PRB"], PHYSICAL["N0"]
    g = snr * N_PRB * W * N0 / P_max
    if fading:
        g = g[:, :, None] * rng.exponential(1.0, size=(S, C, M))
    params: dict[str, Any] = {"N_PRB": N_PRB, "P_max": P_max, **PHYSICAL}
    if weights:
        params["w"] = rng.uniform(0.5, 2.0, size=C)
    return P1Instance(x=x, a=a, g=g, params=params)
