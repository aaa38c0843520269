"""The objective of link-group scheduling: the ONE definition (the environment's reward uses it).

Reconstructed form (family spec, eq. (19)/(20a)), for delivered bits ``d_k`` of every receiver::

    z_k = min(d_k, D_k)                      (no credit beyond the demand)
    y_k = 1[d_k >= D_min_k]                  (served)
    n   = sum_{k active} (1 - y_k)           (unserved receivers)
    F   = S(n) + sum_{k active} w_k ((D_k - z_k) / s_k)^2

with the served term ``S(n) = n^2`` (``served="squared"``, default) or ``S(n) = n``
(``served="linear"``), and the data-gap scale ``s_k = D_k`` (``data="normalised"``, default:
every gap is a fraction of the demand) or ``s_k = unit_bits`` (``data="raw"``: the gap in
``unit_bits``, 1 Mbit by default).  Lower is better; ``F`` is minimised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from leo_env.core.linkgroups import LinkGroupInstance

__all__ = [
    "SERVED_FORMS",
    "DATA_FORMS",
    "SERVED_RTOL",
    "ObjectiveSpec",
    "DEFAULT_SPEC",
    "data_scale",
    "served_mask",
    "objective_terms",
    "objective",
    "gap_to_reference",
    "RecoveryResult",
    "recovery_time",
    "transient_excess",
]

SERVED_FORMS = ("squared", "linear")
"""Allowed values of :attr:`ObjectiveSpec.served`."""
DATA_FORMS = ("normalised", "raw")
"""Allowed values of :attr:`ObjectiveSpec.data`."""
SERVED_RTOL = 1e-9
"""Relative tolerance of the served test ``d_k >= D_min_k (1 - SERVED_RTOL)``."""


@dataclass(frozen=True)
class ObjectiveSpec:
    """Which form of the reconstructed objective.

    Attributes
    ----------
    served : str
        ``"squared"`` (default, ``n^2``) or ``"linear"`` (``n``).
    data : str
        ``"normalised"`` (default, gap / D_k) or ``"raw"`` (gap in ``unit_bits``).
    unit_bits : float
        Unit of the raw data gap [bit], > 0 (1e6: Mbit).
    """

    served: str = "squared"
    data: str = "normalised"
    unit_bits: float = 1e6

    def __post_init__(self) -> None:
        if self.served not in SERVED_FORMS:
            raise ValueError(f"served must be one of {SERVED_FORMS}, got {self.served!r}")
        if self.data not in DATA_FORMS:
            raise ValueError(f"data must be one of {DATA_FORMS}, got {self.data!r}")
        if not (np.isfinite(self.unit_bits) and self.unit_bits > 0):
            raise ValueError(f"unit_bits must be finite and > 0 [bit], got {self.unit_bits}")


DEFAULT_SPEC = ObjectiveSpec()


def data_scale(inst: LinkGroupInstance, spec: ObjectiveSpec = DEFAULT_SPEC) -> np.ndarray:
    """Scale ``s_k`` of every receiver's data gap [bit] (1 for inactive receivers)."""
    if spec.data == "normalised":
        return np.where(inst.active, np.maximum(inst.demand_bits, 1e-300), 1.0)
    return np.full(inst.K, spec.unit_bits)


def served_mask(inst: LinkGroupInstance, delivered_bits: np.ndarray) -> np.ndarray:
    """``y_k``: active receivers that got at least their minimum, shape (..., K) bool."""
    d = np.asarray(delivered_bits, dtype=float)
    return inst.active & (d >= inst.min_bits * (1.0 - SERVED_RTOL))


def objective_terms(
    inst: LinkGroupInstance, delivered_bits: np.ndarray, spec: ObjectiveSpec = DEFAULT_SPEC
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Served term, data term and number of unserved receivers for delivered bits ``(..., K)``.

    Returns
    -------
    served_term, data_term : ndarray, shape (...)
    n_unserved : ndarray of int, shape (...)
    """
    d = np.asarray(delivered_bits, dtype=float)
    if d.shape[-1] != inst.K:
        raise ValueError(f"delivered_bits must have last axis K={inst.K}, got {d.shape}")
    if np.any(~np.isfinite(d)) or np.any(d < 0):
        raise ValueError("delivered_bits must be finite and >= 0")
    n = (inst.active & ~served_mask(inst, d)).sum(axis=-1)
    s_term = n.astype(float) ** 2 if spec.served == "squared" else n.astype(float)
    z = np.minimum(d, inst.demand_bits)
    gap = (inst.demand_bits - z) / data_scale(inst, spec)
    d_term = np.where(inst.active, inst.weight * gap * gap, 0.0).sum(axis=-1)
    return s_term, d_term, n


def objective(
    inst: LinkGroupInstance, delivered_bits: np.ndarray, spec: ObjectiveSpec = DEFAULT_SPEC
) -> np.ndarray | float:
    """``F`` for delivered bits ``(..., K)`` (a float for a single vector)."""
    s, dt, _ = objective_terms(inst, delivered_bits, spec)
    out = s + dt
    return float(out) if np.ndim(out) == 0 else out


def gap_to_reference(f_method: np.ndarray | float, f_ref: np.ndarray | float, eps: float = 1e-9):
    """Relative gap ``(F - F_ref) / max(F_ref, eps)`` (Fig. 8's "gap to optimum", a fraction)."""
    fm = np.asarray(f_method, dtype=float)
    fr = np.asarray(f_ref, dtype=float)
    out = (fm - fr) / np.maximum(fr, eps)
    return float(out) if out.ndim == 0 else out


class RecoveryResult(NamedTuple):
    """Recovery after one change point.

    Attributes
    ----------
    slots : int
        Slots from the change until recovery (``cycle_end - change`` when censored).
    recovered : bool
        False when the series never came back within the cycle (``slots`` is then censored).
    level : float
        The "normal level": mean of the last ``tail`` values of the cycle.
    """

    slots: int
    recovered: bool
    level: float


def recovery_time(
    series: np.ndarray,
    change: int,
    cycle_end: int,
    window: int = 20,
    tail: int = 50,
    tol: float = 0.05,
) -> RecoveryResult:
    """Recovery time after a change (family spec's operational definition).

    The first slot ``s >= change + window - 1`` at which the moving average of ``series`` over
    ``[s - window + 1, s]`` (post-change values only) is within ``tol`` (relative) of the
    cycle's level, the mean of ``series[cycle_end - tail : cycle_end]``; the result is
    ``s + 1 - change`` slots.

    Parameters
    ----------
    series : ndarray, shape (n,)
        Per-slot performance (e.g. the objective ``F``), finite.
    change : int
        Index of the first slot after the change.
    cycle_end : int
        End (exclusive) of the cycle, ``change + max(window, tail) <= cycle_end <= n``.
    window, tail : int
        Moving-average window and tail length [slots], >= 1.
    tol : float
        Relative tolerance, > 0.
    """
    x = np.asarray(series, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError("series must be a finite 1-D array")
    if window < 1 or tail < 1:
        raise ValueError(f"window and tail must be >= 1, got {window}, {tail}")
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be > 0, got {tol}")
    if not (0 <= change and change + max(window, tail) <= cycle_end <= x.size):
        raise ValueError(
            f"need 0 <= change and change + max(window, tail) <= cycle_end <= len(series); got "
            f"change={change}, cycle_end={cycle_end}, len={x.size}"
        )
    level = float(x[cycle_end - tail : cycle_end].mean())
    seg = x[change:cycle_end]
    ma = np.convolve(seg, np.ones(window) / window, mode="valid")  # ma[i]: seg[i : i + window]
    ok = np.abs(ma - level) <= tol * max(abs(level), 1e-12)
    if ok.any():
        i = int(np.argmax(ok))
        return RecoveryResult(i + window, True, level)
    return RecoveryResult(cycle_end - change, False, level)


def transient_excess(
    series: np.ndarray,
    change: int,
    cycle_end: int,
    window: int = 20,
    tail: int = 50,
) -> float:
    """Excess of the objective right after a change over the cycle's normal level (objective units).

    ``mean(series[change : change + window]) - mean(series[cycle_end - tail : cycle_end])``:
    how much worse (positive) the first ``window`` slots after the change are than the end of
    the cycle.  Unlike :func:`recovery_time` it has no threshold, so window-to-window noise
    averages out over streams instead of deciding the result; a policy that adapts after a
    change shows a positive excess, one that does not adapt an excess near 0.  (Absolute, not
    relative: the level can be ~0 when every receiver is served.)

    Parameters
    ----------
    series : ndarray, shape (n,)
        Per-slot objective, finite.
    change, cycle_end : int
        First slot after the change and the cycle's end (exclusive),
        ``change + max(window, tail) <= cycle_end <= n``.
    window, tail : int
        Slots after the change and at the cycle's end, >= 1.
    """
    x = np.asarray(series, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError("series must be a finite 1-D array")
    if window < 1 or tail < 1:
        raise ValueError(f"window and tail must be >= 1, got {window}, {tail}")
    if not (0 <= change and change + max(window, tail) <= cycle_end <= x.size):
        raise ValueError(
            f"need 0 <= change and change + max(window, tail) <= cycle_end <= len(series); got "
            f"change={change}, cycle_end={cycle_end}, len={x.size}"
        )
    return float(x[change : change + window].mean() - x[cycle_end - tail : cycle_end].mean())
