"""Tangent-envelope models of ``log(eps + xi)`` for the MILPs.

``n_cuts`` tangents of ``log(u)``, ``u = eps + xi``, touch at points geometric in ``u`` from
``eps`` to ``1 + eps``: ``u_j = eps r^j`` with ``r = ((1 + eps) / eps)^(1 / (n_cuts - 1))``.  The
minimum of these tangents (their *envelope*) over-estimates ``log`` by at most
``z - 1 - ln z``, ``z = r ln r / (r - 1)`` (:func:`cut_error_bound`), attained where two
neighbouring tangents cross, and is exact at the tangent points (including ``xi = 0`` and
``xi = 1``).  Two encodings of the same envelope are offered:

``"rows"``
    an epigraph variable ``t <= log(u_j) + (xi - xi_j) / u_j`` per tangent: ``n_cuts`` rows per
    cell-slot (the textbook "tangent cuts").
``"segments"`` (default)
    the envelope is concave and piecewise linear with slopes ``1 / u_j`` between consecutive
    crossing points, so ``xi = sum_j d_j`` with bounded segment variables
    ``0 <= d_j <= len_j`` and value ``log(eps) + sum_j d_j / u_j``.  A maximiser fills the
    segments in order because the slopes decrease, so no binaries are needed; the model has
    one row per cell-slot instead of ``n_cuts`` and HiGHS's simplex handles the bounds
    implicitly.  The optimum is identical to ``"rows"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["tangent_points", "cut_error_bound", "LogBlock", "log_block", "LOG_FORMS"]

LOG_FORMS = ("segments", "rows")


def tangent_points(eps: float, n_cuts: int) -> np.ndarray:
    """Satisfaction values ``xi_j`` of the tangent points (geometric in ``eps + xi``)."""
    if n_cuts < 2:
        raise ValueError(f"n_cuts must be >= 2, got {n_cuts}")
    u = eps * ((1.0 + eps) / eps) ** (np.arange(n_cuts) / (n_cuts - 1))
    return np.clip(u - eps, 0.0, 1.0)


def cut_error_bound(eps: float, n_cuts: int) -> float:
    """Largest over-estimate of ``log(eps + xi)`` by the tangent envelope on ``[0, 1]``."""
    r = ((1.0 + eps) / eps) ** (1.0 / (n_cuts - 1))
    z = r * np.log(r) / (r - 1.0)
    return float(z - 1.0 - np.log(z))


@dataclass
class LogBlock:
    """Columns and rows that model ``m`` values ``t_i ~ log(eps + xi_i)``.

    The caller adds the link row ``xi_expr(i) - (available satisfaction) <= 0`` for each ``i``
    using :attr:`xi_cols` / :attr:`xi_coef` (row ``i`` holds the entries of cell-slot ``i``).
    """

    form: str
    n_col: int
    lo: np.ndarray
    hi: np.ndarray
    cost: np.ndarray
    offset: float
    xi_row: np.ndarray  # per entry: which cell-slot (0..m-1)
    xi_cols: np.ndarray  # per entry: column (relative to the block start)
    xi_coef: np.ndarray
    cut_rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None
    points: np.ndarray
    m: int
    eps: float

    def warm(self, xi: np.ndarray) -> np.ndarray:
        """Column values (block-relative) for satisfactions ``xi`` (m,)."""
        xi = np.clip(np.nan_to_num(np.asarray(xi, dtype=float)), 0.0, 1.0)
        if self.form == "segments":
            n_seg = self.points.size
            lens = self.hi[:n_seg]
            starts = np.concatenate([[0.0], np.cumsum(lens)[:-1]])
            d = np.clip(xi[:, None] - starts[None, :], 0.0, lens[None, :])
            return d.ravel()
        u = self.points + self.eps
        t = (np.log(u)[None, :] + (xi[:, None] - self.points[None, :]) / u[None, :]).min(axis=1)
        return np.stack([xi, t], axis=1).ravel()


def log_block(m: int, eps: float, n_cuts: int, form: str = "segments") -> LogBlock:
    """Build the block for ``m`` cell-slots (columns are numbered from 0 within the block).

    Parameters
    ----------
    m : int
        Number of modelled values.
    eps : float
        Utility offset.
    n_cuts : int
        Tangents per value.
    form : {"segments", "rows"}
        Encoding (see module docstring).
    """
    if form not in LOG_FORMS:
        raise ValueError(f"log_form must be one of {LOG_FORMS}, got {form!r}")
    pts = tangent_points(eps, n_cuts)
    u = eps + pts
    if form == "segments":
        # crossing points of consecutive tangents, in xi
        cross_u = (np.log(u[1:]) - np.log(u[:-1])) / (1.0 / u[:-1] - 1.0 / u[1:])
        bps = np.concatenate([[0.0], np.clip(cross_u - eps, 0.0, 1.0), [1.0]])
        lens = np.diff(bps)
        n_seg = lens.size
        cols = np.arange(m * n_seg)
        blk = LogBlock(
            form=form, n_col=m * n_seg, lo=np.zeros(m * n_seg), hi=np.tile(lens, m),
            cost=np.tile(1.0 / u, m), offset=m * float(np.log(eps)),
            xi_row=np.repeat(np.arange(m), n_seg), xi_cols=cols, xi_coef=np.ones(m * n_seg),
            cut_rows=None, points=pts, m=m, eps=float(eps),
        )
    else:
        # columns per value: xi (2i), t (2i + 1)
        lo = np.tile([0.0, -np.inf], m)
        hi = np.tile([1.0, np.log(1.0 + eps)], m)
        cost = np.tile([0.0, 1.0], m)
        rr = np.arange(m * n_cuts)
        t_cols = np.repeat(2 * np.arange(m) + 1, n_cuts)
        x_cols = np.repeat(2 * np.arange(m), n_cuts)
        cut_rows = (
            np.concatenate([rr, rr]), np.concatenate([t_cols, x_cols]),
            np.concatenate([np.ones(m * n_cuts), np.tile(-1.0 / u, m)]),
            np.full(m * n_cuts, -np.inf), np.tile(np.log(u) - pts / u, m),
        )
        blk = LogBlock(
            form=form, n_col=2 * m, lo=lo, hi=hi, cost=cost, offset=0.0,
            xi_row=np.arange(m), xi_cols=2 * np.arange(m), xi_coef=np.ones(m),
            cut_rows=cut_rows, points=pts, m=m, eps=float(eps),
        )
    return blk
