"""Co-subcarrier downlink for the multiorbit (DV-MOSS) family.

UE drops, per-subcarrier SINR with intra-subcarrier interference, and the minimum-rate power
system.

Model (all arrays flat over the served UEs, so every function is vectorised over subcarriers):
UE ``u`` is served on the global subcarrier ``f_u`` by one satellite (the subcarrier sets of
different satellites are disjoint, so ``f_u`` identifies the satellite too), with power
``p_u`` [W] and channel power gain ``g_u`` (linear, antenna gains included).  All UEs on one
subcarrier share it by superposition without interference cancellation, so

    SINR_u = p_u g_u / (N0 B + g_u (P_{f_u} - p_u)),    P_f = sum of p over the UEs on f,

and ``rate_u = B log2(1 + SINR_u)`` [bit/s].

Minimum rate ``R_min,u`` means ``SINR_u >= Gamma_u = 2^(R_min,u / B) - 1``.  Putting every UE of
subcarrier ``f`` exactly at ``Gamma_u`` is the linear system

    p_u - Gamma_u sum_{v != u} p_v = Gamma_u N0 B / g_u,       u on f,

whose solution has the closed form (with ``a_u = Gamma_u / (1 + Gamma_u)``, ``n_u = N0 B / g_u``)

    P_f = sum_u a_u n_u / (1 - sum_u a_u),    p_u = a_u (n_u + P_f).

It is positive -- the set of UEs is *solvable* on ``f`` -- iff ``sum_u a_u < 1``; and any power
vector meeting all minimum rates on ``f`` spends at least this ``P_f``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from leo_env.core.ground import KM_PER_DEG_LAT

__all__ = [
    "CochannelInstance",
    "ue_drop_disc",
    "gamma_min",
    "cochannel_sinr",
    "rates_bps",
    "min_rate_powers",
    "min_rate_system",
]


def ue_drop_disc(
    rng: np.random.Generator,
    centre_lat_deg: float,
    centre_lon_deg: float,
    radius_km: float,
    n_ues: int,
) -> np.ndarray:
    """UEs uniform in a disc of radius ``radius_km`` around a centre (local flat-Earth map).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    centre_lat_deg, centre_lon_deg : float
        Centre of the disc, latitude in [-89, 89] [deg].
    radius_km : float
        Disc radius, finite, >= 0 [km].
    n_ues : int
        Number of UEs, >= 1.

    Returns
    -------
    ndarray, shape (n_ues, 2)
        Latitude and longitude of every UE [deg].
    """
    if not -89.0 <= centre_lat_deg <= 89.0:
        raise ValueError(f"centre_lat_deg must be in [-89, 89], got {centre_lat_deg}")
    if not math.isfinite(centre_lon_deg):
        raise ValueError(f"centre_lon_deg must be finite, got {centre_lon_deg}")
    if not math.isfinite(radius_km) or radius_km < 0:
        raise ValueError(f"radius_km must be finite and >= 0, got {radius_km}")
    if int(n_ues) < 1:
        raise ValueError(f"n_ues must be >= 1, got {n_ues}")
    r = radius_km * np.sqrt(rng.random(int(n_ues)))
    phi = rng.random(int(n_ues)) * 2.0 * np.pi
    lat = centre_lat_deg + r * np.cos(phi) / KM_PER_DEG_LAT
    lon = centre_lon_deg + r * np.sin(phi) / (
        KM_PER_DEG_LAT * math.cos(math.radians(centre_lat_deg))
    )
    return np.stack([lat, lon], axis=1)


def gamma_min(r_min_bps: ArrayLike, bandwidth_hz: float) -> np.ndarray:
    """SINR threshold ``2^(R_min / B) - 1`` of a minimum rate on one subcarrier."""
    return np.expm1(np.asarray(r_min_bps, dtype=float) / bandwidth_hz * math.log(2.0))


def cochannel_sinr(
    gain: ArrayLike, power_w: ArrayLike, subcarrier: ArrayLike, noise_w: float, n_sub: int
) -> np.ndarray:
    """SINR of every served UE under intra-subcarrier interference.

    Parameters
    ----------
    gain : array_like, shape (N,)
        Channel power gain of each UE on its own subcarrier (linear).
    power_w : array_like, shape (N,)
        Transmit power for each UE, >= 0 [W].
    subcarrier : array_like of int, shape (N,)
        Global subcarrier of each UE, in [0, n_sub).
    noise_w : float
        Noise power per subcarrier ``N0 B`` [W].
    n_sub : int
        Number of subcarriers.

    Returns
    -------
    ndarray, shape (N,)
        ``p_u g_u / (N0 B + g_u (P_f - p_u))``.
    """
    g = np.asarray(gain, dtype=float)
    p = np.asarray(power_w, dtype=float)
    f = np.asarray(subcarrier, dtype=np.intp)
    total = np.bincount(f, weights=p, minlength=n_sub)
    interf = np.maximum(total[f] - p, 0.0)
    return p * g / (noise_w + g * interf)


def rates_bps(sinr: ArrayLike, bandwidth_hz: float) -> np.ndarray:
    """Shannon rate ``B log2(1 + SINR)`` [bit/s]."""
    return bandwidth_hz * np.log2(1.0 + np.asarray(sinr, dtype=float))


def min_rate_powers(
    gain: ArrayLike,
    gamma: ArrayLike,
    subcarrier: ArrayLike,
    noise_w: float,
    n_sub: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Powers that put every UE exactly at its SINR threshold, per subcarrier (closed form).

    Parameters
    ----------
    gain : array_like, shape (N,)
        Channel power gains (linear).
    gamma : array_like, shape (N,)
        SINR thresholds ``Gamma_u`` (>= 0).
    subcarrier : array_like of int, shape (N,)
        Global subcarrier of each UE.
    noise_w : float
        Noise power per subcarrier [W].
    n_sub : int
        Number of subcarriers.

    Returns
    -------
    power_w : ndarray, shape (N,)
        ``a_u (n_u + P_f)``; ``inf`` for UEs of unsolvable subcarriers [W].
    total_w : ndarray, shape (n_sub,)
        ``P_f`` per subcarrier (0 for empty ones, ``inf`` if unsolvable) [W].
    solvable : ndarray of bool, shape (n_sub,)
        Positivity test ``sum_u a_u < 1`` per subcarrier (True for empty ones).
    """
    g = np.asarray(gain, dtype=float)
    gam = np.asarray(gamma, dtype=float)
    f = np.asarray(subcarrier, dtype=np.intp)
    a = gam / (1.0 + gam)
    n = noise_w / g
    a_sum = np.bincount(f, weights=a, minlength=n_sub)
    an_sum = np.bincount(f, weights=a * n, minlength=n_sub)
    solvable = a_sum < 1.0 - 1e-12
    with np.errstate(divide="ignore"):
        total = np.where(solvable, an_sum / np.where(solvable, 1.0 - a_sum, 1.0), np.inf)
    power = a * (n + total[f])
    return power, total, solvable


def min_rate_system(
    gain: ArrayLike, gamma: ArrayLike, noise_w: float
) -> tuple[np.ndarray, np.ndarray]:
    """The linear system ``M p = b`` of the UEs of ONE subcarrier at their thresholds.

    Row ``u``: ``p_u - Gamma_u sum_{v != u} p_v = Gamma_u N0 B / g_u``.  Used to check
    :func:`min_rate_powers` (and as the paper's "augmented" system: adding a UE adds a row and a
    column).

    Returns
    -------
    M : ndarray, shape (m, m)
    b : ndarray, shape (m,)
    """
    g = np.asarray(gain, dtype=float)
    gam = np.asarray(gamma, dtype=float)
    m = g.size
    mat = -gam[:, None] * np.ones((m, m))
    mat[np.arange(m), np.arange(m)] = 1.0
    return mat, gam * noise_w / g


@dataclass(frozen=True, eq=False)
class CochannelInstance:
    """One slot of the multiorbit problem: candidate satellites, UEs, subcarriers, gains.

    Attributes
    ----------
    gain : ndarray, shape (S, U, F)
        Channel power gain ``|h_{s,u,f}|^2`` of candidate satellite ``s`` to UE ``u`` on
        subcarrier ``f`` (linear, antenna gains, path loss, shadowing and fading included).
    visible : ndarray of bool, shape (S, U)
        Cone visibility ``s in S_u(t)``.  Every candidate is visible to at least one UE.
    bandwidth_hz : float
        Subcarrier bandwidth B, > 0 [Hz].
    noise_w : float
        Noise power per subcarrier ``N0 B``, > 0 [W].
    p_max_w : float
        Power budget per satellite, > 0 [W].
    r_min_bps : ndarray, shape (U,)
        Minimum rate of every UE, >= 0 [bit/s].
    n_max : int
        Most satellites in service, >= 1.
    penalty_mbps : float
        Objective penalty per UE below its minimum rate (unserved included), >= 0 [Mbit/s].
    sat_id : ndarray of int, shape (S,)
        Index of each candidate in the constellation.
    plane : ndarray of int, shape (S,)
        Orbital plane of each candidate.
    centre_range_m : ndarray, shape (S,)
        Distance of each candidate from the UE-cluster centre [m] (k-nearest baselines).
    elevation_deg : ndarray, shape (S, U)
        Elevation of each candidate seen from each UE [deg].
    cone_deg : float
        Zenith-cone half-angle used for ``visible`` [deg].
    """

    gain: np.ndarray
    visible: np.ndarray
    bandwidth_hz: float
    noise_w: float
    p_max_w: float
    r_min_bps: np.ndarray
    n_max: int
    penalty_mbps: float
    sat_id: np.ndarray
    plane: np.ndarray
    centre_range_m: np.ndarray
    elevation_deg: np.ndarray
    cone_deg: float

    def __post_init__(self) -> None:
        gain = np.array(self.gain, dtype=float, order="C")  # own copy: frozen below
        if gain.ndim != 3 or min(gain.shape) < 1:
            raise ValueError(f"gain must have shape (S, U, F) with S, U, F >= 1, got {gain.shape}")
        s, u, _ = gain.shape
        if not np.all(np.isfinite(gain)) or np.any(gain <= 0):
            raise ValueError("gain must be finite and > 0")
        vis = np.array(self.visible, dtype=bool)
        if vis.shape != (s, u):
            raise ValueError(f"visible must have shape {(s, u)}, got {vis.shape}")
        if not np.all(vis.any(axis=1)):
            raise ValueError("visible: every candidate satellite must be visible to some UE")
        for field in ("bandwidth_hz", "noise_w", "p_max_w"):
            v = getattr(self, field)
            if not math.isfinite(v) or v <= 0:
                raise ValueError(f"{field} must be finite and > 0, got {v!r}")
        if not math.isfinite(self.penalty_mbps) or self.penalty_mbps < 0:
            raise ValueError(f"penalty_mbps must be finite and >= 0, got {self.penalty_mbps!r}")
        r_min = np.broadcast_to(np.asarray(self.r_min_bps, dtype=float), (u,)).copy()
        if not np.all(np.isfinite(r_min)) or np.any(r_min < 0):
            raise ValueError("r_min_bps must be finite and >= 0")
        if int(self.n_max) < 1:
            raise ValueError(f"n_max must be >= 1, got {self.n_max}")
        if not 0 < self.cone_deg <= 90:
            raise ValueError(f"cone_deg must be in (0, 90], got {self.cone_deg}")
        sat_id = np.array(self.sat_id, dtype=np.int64)
        plane = np.array(self.plane, dtype=np.int64)
        rng_m = np.array(self.centre_range_m, dtype=float)
        elev = np.array(self.elevation_deg, dtype=float)
        for name, arr, shape in (
            ("sat_id", sat_id, (s,)),
            ("plane", plane, (s,)),
            ("centre_range_m", rng_m, (s,)),
            ("elevation_deg", elev, (s, u)),
        ):
            if arr.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        for name, arr in (
            ("gain", gain),
            ("visible", vis),
            ("r_min_bps", r_min),
            ("sat_id", sat_id),
            ("plane", plane),
            ("centre_range_m", rng_m),
            ("elevation_deg", elev),
        ):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "n_max", int(self.n_max))
        object.__setattr__(self, "bandwidth_hz", float(self.bandwidth_hz))
        object.__setattr__(self, "noise_w", float(self.noise_w))
        object.__setattr__(self, "p_max_w", float(self.p_max_w))
        object.__setattr__(self, "penalty_mbps", float(self.penalty_mbps))
        object.__setattr__(self, "cone_deg", float(self.cone_deg))

    @property
    def n_sats(self) -> int:
        """Number of candidate satellites ``|S(t)|``."""
        return self.gain.shape[0]

    @property
    def n_ues(self) -> int:
        """Number of UEs U."""
        return self.gain.shape[1]

    @property
    def n_sub(self) -> int:
        """Number of subcarriers F."""
        return self.gain.shape[2]

    @property
    def gamma_min(self) -> np.ndarray:
        """SINR threshold of every UE, shape (U,)."""
        return gamma_min(self.r_min_bps, self.bandwidth_hz)

    @property
    def coverable(self) -> np.ndarray:
        """UEs with at least one candidate in their cone, shape (U,)."""
        return np.asarray(self.visible.any(axis=0))
