"""The one solution type of the multiorbit family, with its feasibility check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leo_env.core.cochannel import CochannelInstance
from oracles.multiorbit.objective import RATE_RTOL, evaluate

__all__ = ["Solution", "equal_split"]


def equal_split(selected: np.ndarray | tuple[int, ...] | list[int], n_sub: int) -> np.ndarray:
    """Contiguous equal split of the F subcarriers among the selected satellites.

    Satellite ``selected[k]`` (sorted) owns ``[k F // n, (k + 1) F // n)``; needs
    ``1 <= len(selected) <= F``.  Returns the owner of every subcarrier, shape (F,).
    """
    sel = np.sort(np.asarray(selected, dtype=np.intp))
    n = sel.size
    if not 1 <= n <= n_sub:
        raise ValueError(f"selected must hold 1..F={n_sub} satellites, got {n}")
    bounds = (np.arange(n + 1) * n_sub) // n
    owner = np.empty(n_sub, dtype=np.intp)
    for k in range(n):
        owner[bounds[k] : bounds[k + 1]] = sel[k]
    return owner


@dataclass(frozen=True, eq=False)
class Solution:
    """A decision for one slot, with its scores (computed by :func:`objective.evaluate`).

    Attributes
    ----------
    selected : tuple of int
        Candidate satellites in service ``A(t)`` (indices into the instance's candidates), sorted.
    owner : ndarray of int, shape (F,)
        Satellite owning each subcarrier (-1: none); subcarrier sets are disjoint by design.
    assoc : ndarray of int, shape (U,)
        Serving satellite of each UE (-1: unserved).
    subc : ndarray of int, shape (U,)
        Subcarrier of each UE (-1: unserved).
    power_w : ndarray, shape (U,)
        Transmit power for each UE [W] (0 for unserved).
    rates_bps : ndarray, shape (U,)
        Per-UE rate [bit/s].
    sum_rate_bps : float
        Sum rate [bit/s].
    n_unmet : int
        UEs unserved or below their minimum rate.
    objective_mbps : float
        ``sum_rate / 1e6 - penalty * n_unmet`` [Mbit/s].
    method : str
        Name of the method that produced it.
    info : dict
        Method statistics (rounds, iterations, solve time, ...).
    """

    selected: tuple[int, ...]
    owner: np.ndarray
    assoc: np.ndarray
    subc: np.ndarray
    power_w: np.ndarray
    rates_bps: np.ndarray
    sum_rate_bps: float
    n_unmet: int
    objective_mbps: float
    method: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        inst: CochannelInstance,
        selected: tuple[int, ...] | list[int] | np.ndarray,
        owner: np.ndarray,
        assoc: np.ndarray,
        subc: np.ndarray,
        power_w: np.ndarray,
        method: str = "",
        **info: Any,
    ) -> Solution:
        """Score a decision with :func:`evaluate` and wrap it."""
        assoc = np.asarray(assoc, dtype=np.intp).copy()
        subc = np.where(assoc >= 0, np.asarray(subc, dtype=np.intp), -1)
        power = np.where(assoc >= 0, np.asarray(power_w, dtype=float), 0.0)
        ev = evaluate(inst, assoc, subc, power)
        arrays = {
            "owner": np.asarray(owner, dtype=np.intp).copy(),
            "assoc": assoc,
            "subc": subc,
            "power_w": power,
            "rates_bps": ev.rates_bps,
        }
        for a in arrays.values():
            a.setflags(write=False)
        return cls(
            selected=tuple(sorted(int(s) for s in selected)),
            sum_rate_bps=ev.sum_rate_bps,
            n_unmet=ev.n_unmet,
            objective_mbps=ev.objective_mbps,
            method=method,
            info=dict(info),
            **arrays,
        )

    @property
    def sum_rate_mbps(self) -> float:
        """Sum rate [Mbit/s]."""
        return self.sum_rate_bps / 1e6

    def violations(self, inst: CochannelInstance, rtol: float = 1e-6) -> list[str]:
        """Every broken constraint of OP-0, as readable strings (empty list: feasible)."""
        out: list[str] = []
        u_n, f_n, s_n = inst.n_ues, inst.n_sub, inst.n_sats
        if self.assoc.shape != (u_n,) or self.subc.shape != (u_n,) or self.power_w.shape != (u_n,):
            return [f"assoc/subc/power_w must have shape ({u_n},)"]
        if self.owner.shape != (f_n,):
            return [f"owner must have shape ({f_n},)"]
        sel = np.asarray(self.selected, dtype=np.intp)
        if sel.size > inst.n_max:
            out.append(f"{sel.size} satellites selected > n_max={inst.n_max}")
        if sel.size and (sel.min() < 0 or sel.max() >= s_n or np.unique(sel).size != sel.size):
            out.append(f"selected must be distinct candidates in [0, {s_n}), got {self.selected}")
            return out
        bad_owner = (self.owner >= 0) & ~np.isin(self.owner, sel)
        if bad_owner.any():
            out.append(f"subcarriers {np.flatnonzero(bad_owner).tolist()} owned by unselected sats")
        served = np.flatnonzero(self.assoc >= 0)
        if np.any(self.assoc < -1) or np.any(self.assoc >= s_n):
            out.append("assoc out of range")
            return out
        if served.size:
            s, f = self.assoc[served], self.subc[served]
            if np.any(f < 0) or np.any(f >= f_n):
                out.append("served UEs need a subcarrier in [0, F)")
                return out
            if not np.all(np.isin(s, sel)):
                out.append("a UE is served by a satellite not in service")
            not_vis = ~inst.visible[s, served]
            if not_vis.any():
                out.append(f"UEs {served[not_vis].tolist()} served outside their cone")
            wrong = self.owner[f] != s
            if wrong.any():
                out.append(
                    f"UEs {served[wrong].tolist()} on subcarriers their satellite does not own"
                )
        if np.any(~np.isfinite(self.power_w)) or np.any(self.power_w < 0):
            out.append("powers must be finite and >= 0")
        load = np.bincount(self.assoc[served], weights=self.power_w[served], minlength=s_n)
        over = load > inst.p_max_w * (1.0 + rtol)
        if over.any():
            out.append(f"power budget exceeded on satellites {np.flatnonzero(over).tolist()}")
        ev = evaluate(inst, self.assoc, self.subc, self.power_w)
        low = ev.rates_bps[served] < inst.r_min_bps[served] * (1.0 - max(rtol, RATE_RTOL))
        if low.any():
            out.append(f"served UEs {served[low].tolist()} below their minimum rate")
        if not np.allclose(ev.rates_bps, self.rates_bps, rtol=1e-9, atol=1e-6):
            out.append("stored rates differ from the objective's rates")
        if abs(ev.objective_mbps - self.objective_mbps) > 1e-6 * max(1.0, abs(ev.objective_mbps)):
            out.append("stored objective differs from the objective's value")
        return out

    def check_feasible(self, inst: CochannelInstance, rtol: float = 1e-6) -> None:
        """Raise ``ValueError`` listing every violation of OP-0.

        Checks cone visibility, one satellite per UE, owned and disjoint subcarriers, power budgets, at most N_max satellites, minimum
        rates of served UEs, consistent scores).
        """
        v = self.violations(inst, rtol)
        if v:
            raise ValueError(f"{self.method or 'solution'} infeasible: " + "; ".join(v))
