"""The multiorbit objective -- the ONE definition of rates, sum rate and penalty.

For a decision (association ``assoc[u]`` = candidate satellite or -1, subcarrier ``subc[u]`` =
global subcarrier or -1, power ``power_w[u]``):

* per-UE rate ``R_u = B log2(1 + SINR_u)`` with the intra-subcarrier SINR of
  :func:`leo_env.core.cochannel.cochannel_sinr` (0 for unserved UEs);
* sum rate ``sum_u R_u`` [bit/s];
* unmet UEs: unserved, or served below ``R_min,u`` (relative tolerance :data:`RATE_RTOL`);
* objective ``Phi = sum rate / 1e6 - penalty_mbps * n_unmet`` [Mbit/s].

Every oracle, baseline and environment scores with :func:`evaluate`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from leo_env.core.cochannel import CochannelInstance, cochannel_sinr, rates_bps

__all__ = ["RATE_RTOL", "Evaluation", "ue_rates_bps", "unmet_mask", "evaluate"]

#: Relative tolerance on the minimum rate (solvers put UEs exactly at R_min).
RATE_RTOL = 1e-6


class Evaluation(NamedTuple):
    """Scores of one decision."""

    rates_bps: np.ndarray
    """Per-UE rate, shape (U,) [bit/s]."""
    sum_rate_bps: float
    """Sum rate [bit/s]."""
    n_unmet: int
    """UEs unserved or below their minimum rate."""
    objective_mbps: float
    """``sum_rate / 1e6 - penalty_mbps * n_unmet`` [Mbit/s]."""


def ue_rates_bps(
    inst: CochannelInstance, assoc: np.ndarray, subc: np.ndarray, power_w: np.ndarray
) -> np.ndarray:
    """Per-UE rate [bit/s], shape (U,); 0 for unserved UEs (``assoc < 0``)."""
    assoc = np.asarray(assoc, dtype=np.intp)
    subc = np.asarray(subc, dtype=np.intp)
    power = np.asarray(power_w, dtype=float)
    served = np.flatnonzero(assoc >= 0)
    out = np.zeros(inst.n_ues)
    if served.size:
        g = inst.gain[assoc[served], served, subc[served]]
        sinr = cochannel_sinr(g, power[served], subc[served], inst.noise_w, inst.n_sub)
        out[served] = rates_bps(sinr, inst.bandwidth_hz)
    return out


def unmet_mask(inst: CochannelInstance, assoc: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """UEs that are unserved or below ``R_min (1 - RATE_RTOL)``, shape (U,)."""
    return (np.asarray(assoc) < 0) | (rates < inst.r_min_bps * (1.0 - RATE_RTOL))


def evaluate(
    inst: CochannelInstance, assoc: np.ndarray, subc: np.ndarray, power_w: np.ndarray
) -> Evaluation:
    """Rates, sum rate, unmet count and objective of a decision (see the module docstring)."""
    rates = ue_rates_bps(inst, assoc, subc, power_w)
    n_unmet = int(np.count_nonzero(unmet_mask(inst, assoc, rates)))
    total = float(rates.sum())
    return Evaluation(rates, total, n_unmet, total / 1e6 - inst.penalty_mbps * n_unmet)
