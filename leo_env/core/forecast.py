"""Demand forecasts: naive and EWMA predictors, and forecasts with a controlled relative error.

Histories are arrays with time on the last axis.  ``noisy_forecast`` is what the environment
uses for the prediction-error sweeps (5 %, 10 %, 20 %): the truth times a unit-mean multiplicative
error of the configured standard deviation.
"""

from __future__ import annotations

import numpy as np

__all__ = ["naive_forecast", "ewma_forecast", "noisy_forecast", "relative_error"]


def naive_forecast(history: np.ndarray) -> np.ndarray:
    """Last observed value along the last axis (zeros for an empty history)."""
    h = np.asarray(history, dtype=float)
    if h.shape[-1] == 0:
        return np.zeros(h.shape[:-1])
    return h[..., -1].copy()


def ewma_forecast(history: np.ndarray, alpha: float = 0.3) -> np.ndarray:
    """Exponentially weighted moving average ``f <- alpha x + (1 - alpha) f`` along the last axis."""
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    h = np.asarray(history, dtype=float)
    if h.shape[-1] == 0:
        return np.zeros(h.shape[:-1])
    f = h[..., 0].copy()
    for t in range(1, h.shape[-1]):
        f = alpha * h[..., t] + (1.0 - alpha) * f
    return f


def noisy_forecast(truth: np.ndarray, rel_error: float, rng: np.random.Generator) -> np.ndarray:
    """Forecast ``truth * max(0, 1 + rel_error * N(0, 1))``: relative error of std ``rel_error``."""
    if rel_error < 0:
        raise ValueError(f"rel_error must be >= 0, got {rel_error}")
    t = np.asarray(truth, dtype=float)
    if rel_error == 0:
        return t.copy()
    return t * np.maximum(0.0, 1.0 + rel_error * rng.standard_normal(t.shape))


def relative_error(pred: np.ndarray, truth: np.ndarray) -> float:
    """Root-mean-square relative error over entries with positive truth."""
    p = np.asarray(pred, dtype=float)
    t = np.asarray(truth, dtype=float)
    mask = t > 0
    if not mask.any():
        return 0.0
    return float(np.sqrt(np.mean(((p[mask] - t[mask]) / t[mask]) ** 2)))
