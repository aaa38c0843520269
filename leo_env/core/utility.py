"""Utility and fairness metrics shared by the environment, the oracles and the evaluation.

The environment's reward and every oracle's objective are computed here, so they cannot drift
apart.
"""

from __future__ import annotations

import numpy as np

__all__ = ["log_utility", "jain_index", "satisfaction"]


def satisfaction(served_bits: np.ndarray, demand_bits: np.ndarray) -> np.ndarray:
    """Demand satisfaction ``xi = min(1, served / demand)``; ``nan`` where demand is zero.

    Parameters
    ----------
    served_bits, demand_bits : ndarray
        Served and offered traffic [bit], broadcast together.
    """
    served = np.asarray(served_bits, dtype=float)
    demand = np.asarray(demand_bits, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = np.where(
            demand > 0, np.minimum(1.0, served / np.where(demand > 0, demand, 1.0)), np.nan
        )
    return xi


def log_utility(
    xi: np.ndarray, eps: float = 1e-4, w: np.ndarray | None = None, axis: int | None = None
) -> np.ndarray | float:
    """Proportional-fair utility ``sum w log(eps + xi)``, skipping cells with ``xi = nan``.

    ``nan`` marks zero-demand cells, which are left out of the utility (SPEC section 4).

    Parameters
    ----------
    xi : ndarray
        Satisfaction in [0, 1] (or ``nan`` for zero-demand cells).
    eps : float
        Offset inside the log, > 0.
    w : ndarray, optional
        Weights broadcastable to ``xi``; default 1.
    axis : int, optional
        Axis to sum over; default all.
    """
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    xi = np.asarray(xi, dtype=float)
    terms = np.log(eps + np.where(np.isnan(xi), 0.0, xi))
    if w is not None:
        terms = terms * np.asarray(w, dtype=float)
    terms = np.where(np.isnan(xi), 0.0, terms)
    return np.sum(terms, axis=axis)


def jain_index(x: np.ndarray, axis: int = -1) -> np.ndarray | float:
    """Jain's fairness index ``(sum x)^2 / (n sum x^2)`` over ``axis``, ignoring ``nan``.

    Returns 1 for an all-zero vector (every entry equal).
    """
    x = np.asarray(x, dtype=float)
    valid = ~np.isnan(x)
    n = valid.sum(axis=axis)
    xs = np.where(valid, x, 0.0)
    s1 = xs.sum(axis=axis)
    s2 = (xs * xs).sum(axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        j = np.where(s2 > 0, s1 * s1 / np.maximum(n, 1) / np.where(s2 > 0, s2, 1.0), 1.0)
    return j
