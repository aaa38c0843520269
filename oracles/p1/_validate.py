"""Input checking and canonical (batched, normalised) form of a P1 instance.

Every public entry point of :mod:`oracles.p1` goes through :func:`canonicalize`, which raises
``ValueError`` naming the offending argument and returns a :class:`P1Data` with a leading batch
axis, so the solvers only ever see one layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["P1Data", "canonicalize"]


@dataclass(frozen=True, eq=False)
class P1Data:
    """A validated batch of P1 instances (internal).

    Attributes
    ----------
    x : ndarray of bool, shape (B, S, C)
        Association.
    a : ndarray of float, shape (B, C, M)
        Arrivals [bit per fast slot].
    g : ndarray of float, shape (B, S, C, Mg)
        Linear channel gain; ``Mg = M`` with per-fast-slot gains (fading), else ``Mg = 1``.
    fading : bool
        True when the caller gave per-fast-slot gains.
    N_PRB, P_max : ndarray of float, shape (B, S)
        PRB pool [PRB] and power pool [W] per satellite and fast slot.
    W_PRB, N0, T_f, eps : float
        PRB bandwidth [Hz], noise PSD [W/Hz], fast-slot length [s], utility offset.
    w : ndarray of float, shape (B, C)
        Utility weights.
    """

    x: np.ndarray
    a: np.ndarray
    g: np.ndarray
    fading: bool
    N_PRB: np.ndarray
    P_max: np.ndarray
    W_PRB: float
    N0: float
    T_f: float
    eps: float
    w: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(B, S, C, M)``."""
        B, S, C = self.x.shape
        return B, S, C, self.a.shape[2]

    @property
    def demand(self) -> np.ndarray:
        """Demand ``D[b, c] = sum_m a[b, c, m]`` [bit], shape (B, C)."""
        return self.a.sum(axis=2)

    @property
    def alpha(self) -> np.ndarray:
        """``alpha = g / (W_PRB N0)`` [1/W], shape (B, S, C, M) (a broadcast view)."""
        B, S, C, M = self.shape
        return np.broadcast_to(self.g / (self.W_PRB * self.N0), (B, S, C, M))

    @property
    def bits_per_nat(self) -> float:
        """``T_f W_PRB / ln 2``: bits one PRB carries per fast slot per nat of spectral efficiency."""
        return self.T_f * self.W_PRB / math.log(2.0)


def _as_float_array(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a numeric array, got {type(value).__name__}") from exc
    return arr


def _check_nonneg_finite(name: str, arr: np.ndarray, what: str) -> None:
    """Raise unless every entry is finite and >= 0 (two reductions on the happy path)."""
    if arr.size == 0:
        return
    lo = arr.min()
    hi = arr.max()
    if lo >= 0.0 and hi < math.inf:
        return
    if np.isnan(arr).any():
        raise ValueError(f"{name}: contains NaN")
    if np.isinf(arr).any():
        raise ValueError(f"{name}: contains inf")
    raise ValueError(f"{name}: {what} must be >= 0")


def _scalar(name: str, value: Any) -> float:
    if isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool):
        v = float(value)
    else:
        arr = _as_float_array(name, value)
        if arr.ndim != 0:
            raise ValueError(f"{name}: expected a scalar, got shape {arr.shape}")
        v = float(arr)
    if not math.isfinite(v):
        raise ValueError(f"{name}: must be finite, got {v}")
    if v <= 0:
        raise ValueError(f"{name}: must be > 0, got {v}")
    return v


def _pool(name: str, value: Any, B: int, S: int, batched: bool) -> np.ndarray:
    if isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool):
        v = _scalar(name, value)
        return np.full((B, S), v)
    arr = _as_float_array(name, value)
    if arr.ndim == 0 or arr.shape == (S,) or (batched and arr.shape == (B, S)):
        pass
    else:
        allowed = "a scalar, (S,)" + (" or (B, S)" if batched else "")
        raise ValueError(f"{name}: expected {allowed} with S={S}, got shape {arr.shape}")
    if not (np.isfinite(arr).all() and (arr > 0).all()):
        raise ValueError(f"{name}: must be finite and > 0")
    return np.array(np.broadcast_to(arr, (B, S)), dtype=float, order="C")  # writable: one numba type


def canonicalize(
    x: Any,
    a: Any,
    g: Any,
    *,
    N_PRB: Any,
    P_max: Any,
    W_PRB: Any,
    N0: Any,
    T_f: Any,
    eps: Any = 1e-4,
    w: Any = None,
    batched: bool = False,
) -> P1Data:
    """Validate a P1 instance (or batch) and return it in canonical batched form.

    Parameters
    ----------
    x, a, g, N_PRB, P_max, W_PRB, N0, T_f, eps, w
        As in :func:`oracles.p1.solve` (or :func:`oracles.p1.solve_batch` with ``batched``).
    batched : bool
        Whether the arrays carry a leading batch axis.

    Returns
    -------
    P1Data

    Raises
    ------
    ValueError
        Naming the argument, for wrong shapes, NaN/inf, negative values, a non-0/1 ``x``, a cell
        associated to two satellites, or a non-positive ``eps``, ``W_PRB``, ``N0``, ``T_f``,
        ``N_PRB``, ``P_max`` or weight.
    """
    lead = 1 if batched else 0
    xa = _as_float_array("x", x)
    if xa.ndim != 2 + lead:
        want = "(B, S, C)" if batched else "(S, C)"
        raise ValueError(f"x: expected shape {want}, got {xa.shape}")
    xb = xa == 1.0
    if not (xb | (xa == 0.0)).all():  # also catches NaN and inf
        raise ValueError("x: entries must be 0 or 1")
    if not batched:
        xb = xb[None]
    B, S, C = xb.shape
    if S == 0 or C == 0:
        raise ValueError(f"x: needs at least one satellite and one cell, got shape {xa.shape}")
    multi = xb.sum(axis=1) > 1
    if multi.any():
        bi, ci = np.argwhere(multi)[0]
        where = f"batch item {bi}, " if batched else ""
        raise ValueError(f"x: {where}cell {ci} is associated to more than one satellite")

    aa = _as_float_array("a", a)
    if (
        aa.ndim != 2 + lead
        or aa.shape[lead] != C
        or aa.shape[-1] < 1
        or (batched and aa.shape[0] != B)
    ):
        want = "(B, C, M)" if batched else "(C, M)"
        raise ValueError(f"a: expected shape {want} with C={C}, M>=1, got {aa.shape}")
    _check_nonneg_finite("a", aa, "arrivals")
    ab = np.ascontiguousarray(aa if batched else aa[None])
    M = ab.shape[2]

    ga = _as_float_array("g", g)
    if ga.ndim == 2 + lead:
        fading = False
        if ga.shape[lead:] != (S, C) or (batched and ga.shape[0] != B):
            want = "(B, S, C)" if batched else "(S, C)"
            raise ValueError(f"g: expected shape {want} or with a trailing M axis, got {ga.shape}")
    elif ga.ndim == 3 + lead:
        fading = True
        if ga.shape[lead:] != (S, C, M) or (batched and ga.shape[0] != B):
            want = "(B, S, C, M)" if batched else "(S, C, M)"
            raise ValueError(f"g: expected shape {want} with M={M}, got {ga.shape}")
    else:
        raise ValueError(f"g: expected (S, C) or (S, C, M) gains, got shape {ga.shape}")
    _check_nonneg_finite("g", ga, "gains")
    gb = ga if batched else ga[None]
    g4 = np.ascontiguousarray(gb if fading else gb[..., None])

    Nb = _pool("N_PRB", N_PRB, B, S, batched)
    Pb = _pool("P_max", P_max, B, S, batched)
    W = _scalar("W_PRB", W_PRB)
    n0 = _scalar("N0", N0)
    tf = _scalar("T_f", T_f)
    e = _scalar("eps", eps)

    if w is None:
        wb = np.ones((B, C))
    else:
        wa = _as_float_array("w", w)
        if wa.shape == (C,):
            wb = np.broadcast_to(wa, (B, C))
        elif batched and wa.shape == (B, C):
            wb = wa
        else:
            want = "(C,) or (B, C)" if batched else "(C,)"
            raise ValueError(f"w: expected shape {want} with C={C}, got {wa.shape}")
        if not (np.isfinite(wa).all() and (wa > 0).all()):
            raise ValueError("w: weights must be finite and > 0")
        # a writable C-contiguous copy: a read-only broadcast view would be another numba type
        # (one more compile of the whole solver on a cold cache)
        wb = np.array(wb, dtype=float, order="C")
    return P1Data(
        x=xb,
        a=ab,
        g=g4,
        fading=fading,
        N_PRB=Nb,
        P_max=Pb,
        W_PRB=W,
        N0=n0,
        T_f=tf,
        eps=e,
        w=wb,
    )
