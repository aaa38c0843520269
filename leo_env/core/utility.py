"""Utility and fairness metrics shared by the environment, the oracles and the evaluation.

The environment's reward and every oracle's objective are computed here, so they cannot drift
apart.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["log_utility", "jain_index", "row_metrics", "satisfaction"]


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


@njit(cache=True)
def row_metrics(x, w, eps, utility, jain):  # pragma: no cover - compiled
    """Per row of ``x`` (R, C): ``sum_c w log(eps + x)`` and Jain's index, ``nan`` entries skipped.

    The one implementation of both metrics: :func:`log_utility` and :func:`jain_index` call it
    for any array and axis, and the environment's step calls it directly (one call for both),
    so the reward, the oracles' objective and the result tables agree to the last bit.

    Parameters
    ----------
    x, w : ndarray, shape (R, C)
        Satisfactions (``nan``: left out) and weights, C-contiguous float64.
    eps : float
        Offset of the logarithm (> 0).
    utility, jain : ndarray, shape (R,)
        Outputs, written in place.
    """
    R, C = x.shape  # noqa: N806
    for i in range(R):
        u = 0.0
        s1 = 0.0
        s2 = 0.0
        cnt = 0
        for c in range(C):
            v = x[i, c]
            if not np.isnan(v):
                u += w[i, c] * np.log(eps + v)
                s1 += v
                s2 += v * v
                cnt += 1
        utility[i] = u
        jain[i] = s1 * s1 / max(cnt, 1) / s2 if s2 > 0.0 else 1.0


def _rows(x: np.ndarray, axis: int | None) -> tuple[np.ndarray, tuple[int, ...]]:
    """``x`` as (R, C) rows reducing over ``axis`` (None: everything), and the result shape."""
    if axis is None:
        return np.ascontiguousarray(x.reshape(1, -1)), ()
    moved = np.moveaxis(x, axis, -1)
    return np.ascontiguousarray(moved.reshape(-1, moved.shape[-1])), moved.shape[:-1]


def _metrics(xi: np.ndarray, eps: float, w: np.ndarray | None, axis: int | None) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    x = np.asarray(xi, dtype=float)
    rows, shape = _rows(x, axis)
    wr = np.ones_like(rows) if w is None else _rows(np.broadcast_to(np.asarray(w, dtype=float), x.shape), axis)[0]
    u = np.empty(rows.shape[0])
    j = np.empty(rows.shape[0])
    row_metrics(rows, wr, float(eps), u, j)
    return u, j, shape


def _shaped(v: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | float:
    return float(v[0]) if shape == () else v.reshape(shape)


def log_utility(
    xi: np.ndarray, eps: float = 1e-4, w: np.ndarray | None = None, axis: int | None = None
) -> np.ndarray | float:
    """Proportional-fair utility ``sum w log(eps + xi)``, skipping cells with ``xi = nan``.

    ``nan`` marks zero-demand cells, which are left out of the utility (docs/model.md, section 3).

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
    u, _, shape = _metrics(xi, eps, w, axis)
    return _shaped(u, shape)


def jain_index(x: np.ndarray, axis: int = -1) -> np.ndarray | float:
    """Jain's fairness index ``(sum x)^2 / (n sum x^2)`` over ``axis``, ignoring ``nan``.

    Returns 1 for an all-zero vector (every entry equal).
    """
    _, j, shape = _metrics(x, 1.0, None, axis)
    return _shaped(j, shape)
