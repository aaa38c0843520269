"""One solution type for every link-group scheduling method, with its feasibility check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leo_env.core.linkgroups import LinkGroupInstance, schedule_delivered, slot_links
from oracles.linkgroup.objective import DEFAULT_SPEC, ObjectiveSpec, objective, served_mask

__all__ = ["LinkGroupSolution", "make_solution", "InfeasibleSolutionError"]


class InfeasibleSolutionError(ValueError):
    """A schedule violates unicast, compatibility, activity or an SINR threshold."""


@dataclass(frozen=True, eq=False)
class LinkGroupSolution:
    """A schedule for one deadline window and its score.

    Attributes
    ----------
    links : ndarray of int, shape (T, J)
        Receiver served by transmitter ``j`` in slot ``t`` (-1: idle): the link group of every
        slot.
    objective : float
        ``F`` of the delivered bits (:func:`oracles.linkgroup.objective.objective`).
    delivered_bits : ndarray, shape (K,)
        Bits delivered to every receiver [bit].
    method : str
        Name of the method.
    solve_time_s : float
        Wall-clock time of the method [s].
    bound : float or None
        A certified lower bound on the optimal ``F`` when the method provides one.
    info : dict
        Method-specific details (status, gaps, iterations, cut error, ...).
    """

    links: np.ndarray
    objective: float
    delivered_bits: np.ndarray
    method: str
    solve_time_s: float = 0.0
    bound: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_served(self) -> int:
        """Receivers that got at least their minimum."""
        return int(self.info.get("n_served", -1))

    def check_feasible(self, inst: LinkGroupInstance, spec: ObjectiveSpec = DEFAULT_SPEC,
                       rtol: float = 1e-9) -> None:
        """Raise :class:`InfeasibleSolutionError` unless the schedule is valid.

        Valid: unicast, compatible, active receivers, SINR thresholds met in every slot, and the
        stored delivered bits and objective equal a recomputation for ``inst``.
        """
        lk = np.asarray(self.links)
        if lk.shape != (inst.T, inst.J):
            raise InfeasibleSolutionError(f"links has shape {lk.shape}, expected ({inst.T}, {inst.J})")
        if np.any((lk < -1) | (lk >= inst.K)):
            raise InfeasibleSolutionError(f"links must be in [-1, {inst.K})")
        for t in range(inst.T):
            sinr, _, ok = slot_links(inst, lk[t], t)
            if not ok.all():
                bad = np.flatnonzero(~ok)
                raise InfeasibleSolutionError(
                    f"slot {t}: transmitters {bad.tolist()} -> receivers {lk[t, bad].tolist()} "
                    "violate unicast, compatibility, activity or the SINR threshold "
                    f"(SINR {np.round(sinr[bad], 4).tolist()})"
                )
        d, _ = schedule_delivered(inst, lk)
        if not np.allclose(d, self.delivered_bits, rtol=rtol, atol=1e-6):
            raise InfeasibleSolutionError("delivered_bits does not match the schedule")
        f = objective(inst, d, spec)
        if abs(f - self.objective) > rtol * max(1.0, abs(f)):
            raise InfeasibleSolutionError(f"objective {self.objective} != recomputed {f}")


def make_solution(
    inst: LinkGroupInstance,
    links: np.ndarray,
    method: str,
    spec: ObjectiveSpec = DEFAULT_SPEC,
    solve_time_s: float = 0.0,
    bound: float | None = None,
    info: dict[str, Any] | None = None,
) -> LinkGroupSolution:
    """Score a schedule with the one objective and wrap it."""
    lk = np.asarray(links, dtype=np.int64).copy()
    d, _ = schedule_delivered(inst, lk)
    inf = dict(info or {})
    inf["n_served"] = int(served_mask(inst, d).sum())
    lk.setflags(write=False)
    return LinkGroupSolution(lk, float(objective(inst, d, spec)), d, method, solve_time_s, bound, inf)
