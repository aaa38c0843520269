"""Result container shared by every P2 solver, and the exact proxy score of an association."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leo_env.core.handover import assoc_to_onehot, count_handovers
from oracles.p2 import proxy as _proxy
from oracles.p2.problem import Problem

__all__ = ["P2Result", "score_path", "make_result", "infeasible_result", "relative_gap"]

STATUSES = ("optimal", "feasible", "infeasible", "no_solution")


@dataclass(frozen=True, eq=False)
class P2Result:
    """Association sequence returned by :func:`oracles.p2.solve`.

    Attributes
    ----------
    x : ndarray of int8, shape (S, C, K)
        0/1 association.
    assoc : ndarray of int, shape (C, K)
        Serving satellite per cell and slot (``-1`` only in infeasible results).
    h : ndarray of int, shape (C, K)
        Handovers per cell and slot (a switch from ``initial`` in slot 0 counts).
    handovers : ndarray of int, shape (C,)
        Handovers per cell.
    xi : ndarray of float, shape (C, K)
        Proxy satisfaction (``nan`` for zero-demand cell-slots).
    objective : float
        Proxy objective ``sum log(eps + xi) - lambda_h * sum h`` computed with the exact log.
    status : str
        ``"optimal"`` (proved within the requested tolerance), ``"feasible"`` (budget- and
        visibility-feasible, optimality not proved), ``"infeasible"`` (see ``message``) or
        ``"no_solution"`` (the solver stopped without any feasible point).
    message : str
        Human-readable detail (infeasibility reason, solver status).
    solve_time_s : float
        Wall-clock time of the solve [s].
    method : str
        Solver name.
    proxy : str
        Proxy the objective refers to.
    bound : float or None
        Upper bound on the proxy optimum (Lagrangian dual value, MILP dual bound), if any.
    gap : float or None
        Certified relative gap ``(bound - objective) / max(1, |objective|)``, if a bound exists.
    info : dict
        Solver-specific figures (iterations, MIP gap, node count, cut error bound, ...).
    """

    x: np.ndarray
    assoc: np.ndarray
    h: np.ndarray
    handovers: np.ndarray
    xi: np.ndarray
    objective: float
    status: str
    message: str
    solve_time_s: float
    method: str
    proxy: str
    bound: float | None = None
    gap: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        """True when the association is usable (status optimal or feasible)."""
        return self.status in ("optimal", "feasible")

    def summary(self) -> dict[str, Any]:
        """Scalars as plain data (for JSON)."""
        return {
            "method": self.method, "proxy": self.proxy, "status": self.status,
            "message": self.message, "objective": self.objective,
            "bound": self.bound, "gap": self.gap, "solve_time_s": self.solve_time_s,
            "handovers_total": int(self.handovers.sum()),
            "handovers_max": int(self.handovers.max()) if self.handovers.size else 0,
            **{k: v for k, v in self.info.items() if np.isscalar(v) or v is None},
        }


def relative_gap(bound: float, objective: float) -> float:
    """``(bound - objective) / max(1, |objective|)``, clipped at 0."""
    return max(0.0, (bound - objective) / max(1.0, abs(objective)))


def score_path(problem: Problem, path_l: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Exact proxy objective of an association given as candidate indices.

    Returns
    -------
    objective : float
        ``sum log(eps + xi) - lambda_h * handovers`` (zero-demand cell-slots left out).
    xi : ndarray, shape (C, K)
        Proxy satisfaction.
    h : ndarray, shape (C, K)
        Handovers.
    """
    assoc = problem.assoc_from_l(path_l)
    h = count_handovers(assoc, problem.initial)
    if problem.proxy == "separable":
        D = problem.D  # noqa: N806
        rho = np.take_along_axis(problem.rho, path_l[:, None, :], axis=1)[:, 0, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            xi = np.where(D > 0, np.minimum(1.0, rho / np.where(D > 0, D, 1.0)), np.nan)
    else:
        xi, _, _ = _proxy.coupled_allocation(path_l, problem.cand, problem.w, problem.eps, problem.S)
    util = float(np.sum(np.log(problem.eps + xi[~np.isnan(xi)])))
    return util - problem.lambda_h * float(h.sum()), xi, h


def make_result(
    problem: Problem,
    path_l: np.ndarray,
    *,
    status: str,
    method: str,
    solve_time_s: float,
    message: str = "",
    bound: float | None = None,
    info: dict[str, Any] | None = None,
) -> P2Result:
    """Score ``path_l`` exactly on the problem's proxy and wrap it in a :class:`P2Result`."""
    path_l = np.asarray(path_l, dtype=np.int64)
    obj, xi, h = score_path(problem, path_l)
    assoc = problem.assoc_from_l(path_l)
    gap = None if bound is None else relative_gap(bound, obj)
    return P2Result(
        x=assoc_to_onehot(assoc, problem.S), assoc=assoc, h=h, handovers=h.sum(axis=1),
        xi=xi, objective=obj, status=status, message=message or status,
        solve_time_s=float(solve_time_s), method=method, proxy=problem.proxy, bound=bound,
        gap=gap, info=dict(info or {}),
    )


def infeasible_result(
    problem: Problem, message: str, method: str, solve_time_s: float, status: str = "infeasible"
) -> P2Result:
    """An empty result carrying the infeasibility (or failure) message."""
    S, C, K = problem.S, problem.C, problem.K  # noqa: N806
    return P2Result(
        x=np.zeros((S, C, K), np.int8), assoc=np.full((C, K), -1, np.int64),
        h=np.zeros((C, K), np.int64), handovers=np.zeros(C, np.int64),
        xi=np.full((C, K), np.nan), objective=float("nan"), status=status, message=message,
        solve_time_s=float(solve_time_s), method=method, proxy=problem.proxy,
    )
