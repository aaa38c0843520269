"""Seeded random P2 instances from plain arrays (tests and quick experiments).

Satellites fly straight, parallel ground tracks (a ring, so that they come back) over a square
patch of cells at 550 km; a pass over a cell lasts about ``pass_slots`` slow slots and on average
about ``mean_visible`` satellites cover a cell.  Gains use free-space loss at 2 GHz with APEX's antenna gains and losses plus
log-normal shadowing; arrivals are APEX's two-class Poisson packet process.  The generator
redraws until every cell sees a satellite in every slot and its minimum number of handovers
fits the budget, so every returned instance is feasible.
"""

from __future__ import annotations

import numpy as np

from oracles.p2.problem import Problem

__all__ = ["random_problem", "APEX_RADIO"]

APEX_RADIO = {
    "N_PRB": 166.0,  # 30 MHz / 180 kHz
    "P_max": 100.0,  # [W]
    "W_PRB": 180e3,  # [Hz]
    "N0": 10 ** ((-174.0 - 30.0) / 10.0),  # [W/Hz]
    "T_f": 0.01,  # [s]
}
_C_LIGHT = 299_792_458.0


def random_problem(
    rng: np.random.Generator,
    S: int = 8,  # noqa: N803
    C: int = 30,  # noqa: N803
    K: int = 50,  # noqa: N803
    M: int = 10,  # noqa: N803
    H: int = 12,  # noqa: N803
    *,
    load: float = 1.0,
    mean_visible: float = 2.5,
    pass_slots: float = 12.0,
    patch_km: float = 400.0,
    lambda_h: float = 0.1,
    eps: float = 1e-4,
    proxy: str = "separable",
    max_tries: int = 200,
) -> Problem:
    """Draw a feasible random P2 instance.

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness.
    S, C, K, M, H : int
        Satellites, cells, slow slots, fast slots per slow slot, handover budget per cell.
    load : float
        Multiplier on APEX's demand rates (50 / 10 Mbps classes, half the cells each).
    mean_visible : float
        Mean number of satellites covering a cell.
    pass_slots : float
        Slow slots a satellite needs to cross a cell's coverage disc.
    patch_km : float
        Edge of the square patch holding the cells [km].
    lambda_h, eps : float
        Handover price and utility offset.
    proxy : {"separable", "coupled"}
        Proxy of the returned problem.
    max_tries : int
        Redraws before giving up.

    Returns
    -------
    Problem
        A feasible instance.

    Raises
    ------
    RuntimeError
        If no feasible draw was found in ``max_tries``.
    """
    radio = APEX_RADIO
    h_km, r_cov_km = 550.0, 1100.0
    speed = 2 * r_cov_km / pass_slots  # [km per slow slot]
    spacing = 2 * r_cov_km / mean_visible  # along-track spacing [km]
    for _ in range(max_tries):
        cells = rng.uniform(0.0, patch_km, size=(C, 2))
        cross = rng.uniform(-0.5 * patch_km - 100.0, 0.5 * patch_km + 100.0, size=S) + 0.5 * patch_km
        ring = S * spacing  # satellites move on a ring of this length and come back
        start = spacing * np.arange(S) + rng.uniform(-0.25, 0.25, S) * spacing
        along = (start[:, None] + speed * np.arange(K)[None, :] + rng.uniform(0, ring)) % ring
        along = along - 0.5 * ring + 0.5 * patch_km  # (S, K), patch near the ring's middle
        dx = along[:, None, :] - cells[None, :, 0, None]
        dy = cross[:, None, None] - cells[None, :, 1, None]
        ground = np.hypot(dx, dy)  # (S, C, K) [km]
        v = ground <= r_cov_km
        if not v.any(axis=0).all():
            continue
        d_m = np.hypot(ground, h_km) * 1e3
        fspl = (4 * np.pi * d_m * 2e9 / _C_LIGHT) ** 2
        shadow_db = rng.normal(0.0, 2.0, size=(S, C, K))
        g = 10 ** ((30.0 - 0.5 - 3.0 - shadow_db) / 10.0) / fspl
        high = rng.random(C) < 0.5
        rate = np.where(high, 50e6, 10e6) * load  # [bit/s]
        periodic = 1.0 + 0.3 * np.sin(2 * np.pi * np.arange(K) / 24.0)
        mean_packets = rate[:, None, None] * periodic[None, :, None] * radio["T_f"] / 12000.0
        a = 12000.0 * rng.poisson(np.broadcast_to(mean_packets, (C, K, M)))
        prob = Problem.from_arrays(
            v, g, a, H, N_PRB=radio["N_PRB"], P_max=radio["P_max"], W_PRB=radio["W_PRB"],
            N0=radio["N0"], T_f=radio["T_f"], eps=eps, lambda_h=lambda_h, proxy=proxy,
        )
        if prob.feasibility()[0]:
            return prob
    raise RuntimeError(f"no feasible instance in {max_tries} draws (S={S}, C={C}, K={K}, H={H})")
