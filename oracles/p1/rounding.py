"""Integer PRB rounding of a continuous P1 allocation (largest remainder, pools kept).

Per (satellite, fast slot) the PRBs of the associated cells are floored and the
``round(sum_c n) - sum_c floor(n)`` leftover PRBs go to the cells with the largest fractional
parts, so the integer total equals the continuous total rounded to the nearest integer (never
more than ``floor(N_PRB)``); a pool used in full stays used in full.  Powers are kept, except
that a cell rounded to zero PRBs cannot use its power, which is handed to the cells of the same
(satellite, slot) in proportion to their power (the power pool is unchanged).  The utility
loss is measured by re-scoring the rounded allocation.
"""

from __future__ import annotations

import numpy as np

__all__ = ["round_prbs"]


def round_prbs(
    n: np.ndarray, p: np.ndarray, x: np.ndarray, N_PRB: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Round PRBs to integers per (satellite, fast slot) by largest remainder.

    Parameters
    ----------
    n, p : ndarray, shape (B, S, C, M)
        Continuous PRBs [PRB] and powers [W].
    x : ndarray of bool, shape (B, S, C)
        Association.
    N_PRB : ndarray, shape (B, S)
        PRB pools [PRB].

    Returns
    -------
    n_int, p_new : ndarray, shape (B, S, C, M)
        Integer PRBs (as floats) and the adjusted powers [W].
    """
    mask = x[..., None]
    nn = np.where(mask, np.maximum(n, 0.0), 0.0)
    # guard against 0.9999999999 becoming 0 + a remainder of 1
    fl = np.floor(nn + 1e-9)
    frac = np.where(mask, nn - fl, -np.inf)
    total = nn.sum(axis=2)  # (B, S, M)
    target = np.minimum(np.floor(total + 0.5), np.floor(N_PRB + 1e-9)[..., None])
    left = np.maximum(target - fl.sum(axis=2), 0.0).astype(np.int64)  # (B, S, M)
    order = np.argsort(-frac, axis=2, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n.shape[2])[None, None, :, None], axis=2)
    bump = (rank < left[:, :, None, :]) & np.isfinite(frac) & (frac > 0)
    n_int = fl + bump
    pp = np.where(mask, np.maximum(p, 0.0), 0.0)
    keep = np.where(n_int > 0, pp, 0.0)
    tot = pp.sum(axis=2, keepdims=True)
    kept = keep.sum(axis=2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        fac = np.where(kept > 0, tot / np.where(kept > 0, kept, 1.0), 0.0)
    p_new = keep * fac
    return n_int, p_new
