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
