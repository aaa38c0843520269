"""Downlink channel: free-space path loss, fixed losses, log-normal shadowing, small-scale fading.

All functions are array in, array out.  Gains are linear power ratios; ``*_db`` arguments are
decibels.  Defaults follow docs/model.md section 2 (APEX's link budget).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SPEED_OF_LIGHT",
    "db_to_linear",
    "linear_to_db",
    "dbm_per_hz_to_w_per_hz",
    "fspl_linear",
    "large_scale_gain",
    "shadowing_db",
    "small_scale_power_gain",
]

SPEED_OF_LIGHT = 299_792_458.0
"""[m/s]"""


def db_to_linear(x_db: np.ndarray | float) -> np.ndarray:
    """``10 ** (x / 10)``."""
    return np.power(10.0, np.asarray(x_db, dtype=float) / 10.0)


def linear_to_db(x: np.ndarray | float) -> np.ndarray:
    """``10 log10(x)``; ``-inf`` for 0."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(x, dtype=float))


def dbm_per_hz_to_w_per_hz(n0_dbm_per_hz: float) -> float:
    """Noise density [dBm/Hz] -> [W/Hz] (-174 dBm/Hz -> 3.98e-21 W/Hz)."""
    return float(db_to_linear(n0_dbm_per_hz - 30.0))


def fspl_linear(distance_m: np.ndarray, freq_hz: float) -> np.ndarray:
    """Free-space path loss ``(4 pi d f / c)^2`` (linear, >= 1 for d >= lambda / 4 pi)."""
    d = np.asarray(distance_m, dtype=float)
    if np.any(d <= 0):
        raise ValueError("distance_m must be > 0")
    return (4.0 * np.pi * d * freq_hz / SPEED_OF_LIGHT) ** 2


def large_scale_gain(
    distance_m: np.ndarray,
    *,
    freq_hz: float = 2e9,
    g_tx_dbi: float = 30.0,
    g_rx_dbi: float = 0.0,
    atm_loss_db: float = 0.5,
    pointing_loss_db: float = 3.0,
    shadowing_db: np.ndarray | float = 0.0,
) -> np.ndarray:
    """``G_tx G_rx / (FSPL(d) L_atm L_point L_shadow)``, linear.

    Parameters
    ----------
    distance_m : ndarray
        Slant range [m].
    shadowing_db : ndarray or float
        Shadowing loss [dB] broadcast with ``distance_m`` (positive = extra loss).
    """
    fixed_db = g_tx_dbi + g_rx_dbi - atm_loss_db - pointing_loss_db
    return db_to_linear(fixed_db - np.asarray(shadowing_db, dtype=float)) / fspl_linear(
        distance_m, freq_hz
    )


def shadowing_db(
    rng: np.random.Generator, shape: tuple[int, ...], sigma_db: float, corr: float = 0.0
) -> np.ndarray:
    """Log-normal shadowing [dB], zero mean, std ``sigma_db``, AR(1) along the last axis.

    ``x[..., 0] ~ N(0, sigma^2)`` and ``x[..., k] = corr x[..., k-1] + sqrt(1 - corr^2) N(0,
    sigma^2)``, so every entry has the same marginal distribution.
    """
    if sigma_db < 0:
        raise ValueError(f"sigma_db must be >= 0, got {sigma_db}")
    if not 0 <= corr < 1:
        raise ValueError(f"corr must be in [0, 1), got {corr}")
    w = rng.standard_normal(shape) * sigma_db
    if corr == 0 or shape[-1] <= 1:
        return w
    out = np.empty(shape)
    out[..., 0] = w[..., 0]
    innov = np.sqrt(1.0 - corr * corr)
    for k in range(1, shape[-1]):
        out[..., k] = corr * out[..., k - 1] + innov * w[..., k]
    return out


def small_scale_power_gain(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    model: str = "rician",
    rician_k_db: float = 10.0,
) -> np.ndarray:
    """Unit-mean small-scale power gains ``|h|^2``.

    ``rayleigh``: ``|h|^2 ~ Exp(1)``.  ``rician``: line of sight with K-factor ``K`` (linear),
    ``h = sqrt(K/(K+1)) + sqrt(1/(K+1)) CN(0, 1)``.  ``none``: ones.
    """
    if model == "none":
        return np.ones(shape)
    re = rng.standard_normal(shape)
    im = rng.standard_normal(shape)
    if model == "rayleigh":
        return 0.5 * (re * re + im * im)
    if model == "rician":
        k = float(db_to_linear(rician_k_db))
        los = np.sqrt(k / (k + 1.0))
        s = np.sqrt(0.5 / (k + 1.0))
        return (los + s * re) ** 2 + (s * im) ** 2
    raise ValueError(f"model must be 'none', 'rician' or 'rayleigh', got {model!r}")
