"""Laser inter-satellite link (LISL) rate model: Gaussian beam, IM/DD bound, pointing jitter.

The transmitter emits a Gaussian beam of power ``P0`` whose waist ``W0`` follows from the full
divergence angle: ``W0 = lambda / (pi * divergence / 2)``.  Its Rayleigh range is
``z_R = pi W0^2 / lambda`` (about 197 m for 1.55 um and 100 urad; the DuJo paper prints
1.97e3 m, which is wrong by a factor 10 and is never used here) and its radius at distance ``z``
is ``W(z) = W0 sqrt(1 + (z / z_R)^2)``.  The intensity at radial miss ``y`` [m] is

    Phi(y, z) = Phi0 (W0 / W(z))^2 exp(-2 y^2 / W(z)^2),      Phi0 = 2 P0 / (pi W0^2)

and an intensity-modulation / direct-detection (on-off keying) link with aperture area ``A``,
responsivity ``Psi``, thermal noise current ``sigma_N`` and bandwidth ``B`` carries at least

    C(y, z) = (B / 2) log2(1 + (A Phi(y, z) Psi)^2 / (2 pi e sigma_N^2))     [bit/s].

The pointing jitter ``nu`` is Rayleigh distributed with scale ``sigma_J``; the link is designed
for the jitter threshold ``nu_hat`` exceeded with probability ``eps``,
``nu_hat = sigma_J sqrt(-2 ln eps)``, and the outage-relaxed effective rate is

    r(z) = (1 - eps) C(z nu_hat, z).

All functions are array-in / array-out and pure numpy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "OpticalParams",
    "beam_waist_m",
    "rayleigh_range_m",
    "beam_radius_m",
    "intensity_w_m2",
    "imdd_capacity_bps",
    "jitter_threshold_rad",
    "effective_rate_bps",
]


def _positive(value: float, field: str) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0.0:
        raise ValueError(f"{field} must be a finite number > 0, got {value!r}")
    return v


@dataclass(frozen=True)
class OpticalParams:
    """Constants of the optical link (defaults: DuJo, section V-A).

    Attributes
    ----------
    aperture_m2 : float
        Receiver aperture area ``A``, > 0 [m^2].
    responsivity_a_w : float
        Photodetector responsivity ``Psi``, > 0 [A/W].
    noise_a : float
        RMS thermal noise current ``sigma_N``, > 0 [A].
    power_w : float
        Transmit optical power ``P0``, > 0 [W].
    bandwidth_hz : float
        Receiver electrical bandwidth ``B``, > 0 [Hz].
    wavelength_m : float
        Optical wavelength ``lambda``, > 0 [m].
    divergence_rad : float
        Full divergence angle of the beam, > 0 [rad]; the half angle is ``lambda / (pi W0)``.
    jitter_sigma_rad : float
        Rayleigh scale ``sigma_J`` of the pointing jitter, > 0 [rad].
    outage : float
        Outage probability ``eps`` of the jitter threshold, in (0, 1).
    """

    aperture_m2: float = 0.01
    responsivity_a_w: float = 0.5
    noise_a: float = 3e-7
    power_w: float = 20.0
    bandwidth_hz: float = 1e9
    wavelength_m: float = 1.55e-6
    divergence_rad: float = 100e-6
    jitter_sigma_rad: float = 10e-6
    outage: float = 1e-3

    def __post_init__(self) -> None:
        for field in (
            "aperture_m2",
            "responsivity_a_w",
            "noise_a",
            "power_w",
            "bandwidth_hz",
            "wavelength_m",
            "divergence_rad",
            "jitter_sigma_rad",
        ):
            object.__setattr__(self, field, _positive(getattr(self, field), field))
        eps = float(self.outage)
        if not math.isfinite(eps) or not 0.0 < eps < 1.0:
            raise ValueError(f"outage must be in (0, 1), got {self.outage!r}")
        object.__setattr__(self, "outage", eps)


def beam_waist_m(params: OpticalParams) -> float:
    """Beam waist ``W0 = lambda / (pi * divergence / 2)`` [m] (9.87 mm by default)."""
    return params.wavelength_m / (math.pi * 0.5 * params.divergence_rad)


def rayleigh_range_m(params: OpticalParams) -> float:
    """Rayleigh range ``z_R = pi W0^2 / lambda`` [m] (197 m by default)."""
    w0 = beam_waist_m(params)
    return math.pi * w0 * w0 / params.wavelength_m


def _distance(distance_m: ArrayLike) -> np.ndarray:
    z = np.asarray(distance_m, dtype=float)
    if not np.all(np.isfinite(z)) or np.any(z < 0.0):
        raise ValueError("distance_m must hold finite numbers >= 0")
    return z


def beam_radius_m(distance_m: ArrayLike, params: OpticalParams) -> np.ndarray:
    """Beam radius ``W(z) = W0 sqrt(1 + (z / z_R)^2)`` at distance ``z`` [m]."""
    z = _distance(distance_m)
    return beam_waist_m(params) * np.sqrt(1.0 + (z / rayleigh_range_m(params)) ** 2)


def intensity_w_m2(miss_m: ArrayLike, distance_m: ArrayLike, params: OpticalParams) -> np.ndarray:
    """Received intensity ``Phi(y, z)`` at radial miss ``y`` and distance ``z`` [W/m^2]."""
    y = np.asarray(miss_m, dtype=float)
    w0 = beam_waist_m(params)
    w = beam_radius_m(distance_m, params)
    phi0 = 2.0 * params.power_w / (math.pi * w0 * w0)
    return phi0 * (w0 / w) ** 2 * np.exp(-2.0 * y * y / (w * w))


def imdd_capacity_bps(
    miss_m: ArrayLike, distance_m: ArrayLike, params: OpticalParams
) -> np.ndarray:
    """IM/DD capacity lower bound ``C(y, z) = B/2 log2(1 + (A Phi Psi)^2 / (2 pi e sigma_N^2))``."""
    current = params.aperture_m2 * intensity_w_m2(miss_m, distance_m, params)
    current = current * params.responsivity_a_w
    snr = current * current / (2.0 * math.pi * math.e * params.noise_a**2)
    return 0.5 * params.bandwidth_hz * np.log2(1.0 + snr)


def jitter_threshold_rad(params: OpticalParams) -> float:
    """Jitter threshold ``nu_hat = sigma_J sqrt(-2 ln eps)`` with ``Pr(nu > nu_hat) = eps`` [rad]."""
    return params.jitter_sigma_rad * math.sqrt(-2.0 * math.log(params.outage))


def effective_rate_bps(distance_m: ArrayLike, params: OpticalParams | None = None) -> np.ndarray:
    """Outage-relaxed effective LISL rate ``r(z) = (1 - eps) C(z nu_hat, z)`` [bit/s].

    Parameters
    ----------
    distance_m : array_like
        Link distance ``z`` >= 0 [m].
    params : OpticalParams, optional
        Link constants; DuJo's defaults when omitted.

    Returns
    -------
    ndarray
        Rate [bit/s], same shape as ``distance_m``.

    Examples
    --------
    >>> float(np.round(effective_rate_bps(1e6) / 1e9, 2))
    2.78
    """
    p = OpticalParams() if params is None else params
    z = _distance(distance_m)
    return (1.0 - p.outage) * imdd_capacity_bps(z * jitter_threshold_rad(p), z, p)
