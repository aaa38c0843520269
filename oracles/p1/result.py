"""Result containers of the P1 solvers and the scoring shared by all of them.

Every solver returns PRBs and powers; the served bits, the satisfactions and the utility are
then *recomputed* here from that allocation (serving each cell's backlog greedily in time,
which is the best causal schedule for given rates) with :mod:`leo_env.core.utility`, so the
reference, the fast solver and the environment score an allocation identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from leo_env.core.utility import log_utility, satisfaction
from oracles.p1._kernels import evaluate_kernel
from oracles.p1._validate import P1Data

__all__ = ["P1Result", "P1BatchResult", "evaluate_allocation", "scores"]


@dataclass(frozen=True, eq=False)
class P1Result:
    """Allocation of one slow slot and its diagnostics.

    Attributes
    ----------
    n : ndarray, shape (S, C, M)
        PRBs per satellite, cell and fast slot [PRB] (integers when ``integer_prb``).
    p : ndarray, shape (S, C, M)
        Transmit power [W].
    z : ndarray, shape (C, M)
        Served bits per fast slot [bit], the greedy causal service of the allocation's rates.
    xi : ndarray, shape (C,)
        Satisfaction ``sum_m z / D`` in [0, 1]; ``nan`` for zero-demand cells.
    utility : float
        ``sum_c w_c log(eps + xi_c)`` over cells with demand, recomputed from ``n, p``.
    status : str
        ``"optimal"`` (certified to the requested gap), ``"optimal_inaccurate"`` (feasible,
        certified gap above the request) or a solver failure status.
    zero_demand : ndarray of bool, shape (C,)
        Cells with ``D_c = 0``: left out of the utility.
    no_satellite : ndarray of bool, shape (C,)
        Cells with demand but no serving satellite (or zero gain): ``xi = 0``.
    bound : float
        Upper bound on the optimal utility (value of the Lagrangian dual at the solver's pool
        prices); ``nan`` when not available.
    gap : float
        Certified relative gap ``(bound - utility) / |utility|``.
    iterations : int
        Root-finding evaluations plus barrier Newton steps (fast), or interior-point iterations.
    solve_time_s : float
        Wall time of the call [s].
    max_violation : float
        Largest relative violation of any constraint by the returned allocation (pools relative
        to the pool, causality and service relative to the demand).
    method : str
        ``"fast"`` or ``"cvx"``.
    utility_continuous : float
        Utility before integer PRB rounding (equals ``utility`` without rounding).
    rounding_loss : float
        ``utility_continuous - utility`` (0 without rounding).
    lam, mu : ndarray, shape (S, M)
        Pool prices (dual variables) in utility per PRB and per watt; ``nan`` if unknown.
    info : dict
        Solver-specific diagnostics (e.g. ``path`` per satellite for the fast solver,
        ``cvx_solve_time_s`` for the reference).
    """

    n: np.ndarray
    p: np.ndarray
    z: np.ndarray
    xi: np.ndarray
    utility: float
    status: str
    zero_demand: np.ndarray
    no_satellite: np.ndarray
    bound: float
    gap: float
    iterations: int
    solve_time_s: float
    max_violation: float
    method: str
    utility_continuous: float
    rounding_loss: float
    lam: np.ndarray
    mu: np.ndarray
    info: dict = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class P1BatchResult:
    """Batched :class:`P1Result`: every field gains a leading batch axis of length B.

    ``utility, bound, gap, max_violation, utility_continuous, rounding_loss, iterations`` are
    arrays of shape (B,), ``status`` a list of B strings, ``solve_time_s`` the wall time of the
    whole batched call [s].  ``result[b]`` gives item ``b`` as a :class:`P1Result` (with the
    batch's total ``solve_time_s``).
    """

    n: np.ndarray
    p: np.ndarray
    z: np.ndarray
    xi: np.ndarray
    utility: np.ndarray
    status: list[str]
    zero_demand: np.ndarray
    no_satellite: np.ndarray
    bound: np.ndarray
    gap: np.ndarray
    iterations: np.ndarray
    solve_time_s: float
    max_violation: np.ndarray
    method: str
    utility_continuous: np.ndarray
    rounding_loss: np.ndarray
    lam: np.ndarray
    mu: np.ndarray
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.n.shape[0])

    def __getitem__(self, b: int) -> P1Result:
        """Item ``b`` as a single-instance result."""
        info = {
            key: (val[b] if isinstance(val, np.ndarray) and val.ndim >= 1 else val)
            for key, val in self.info.items()
        }
        return P1Result(
            n=self.n[b],
            p=self.p[b],
            z=self.z[b],
            xi=self.xi[b],
            utility=float(self.utility[b]),
            status=self.status[b],
            zero_demand=self.zero_demand[b],
            no_satellite=self.no_satellite[b],
            bound=float(self.bound[b]),
            gap=float(self.gap[b]),
            iterations=int(self.iterations[b]),
            solve_time_s=self.solve_time_s,
            max_violation=float(self.max_violation[b]),
            method=self.method,
            utility_continuous=float(self.utility_continuous[b]),
            rounding_loss=float(self.rounding_loss[b]),
            lam=self.lam[b],
            mu=self.mu[b],
            info=info,
        )


def evaluate_allocation(
    data: P1Data, n: np.ndarray, p: np.ndarray, *, project: bool = True
) -> dict[str, np.ndarray | float]:
    """Score an allocation: served bits, satisfaction, utility and constraint violation.

    Parameters
    ----------
    data : P1Data
        The validated batch.
    n, p : ndarray, shape (B, S, C, M)
        PRBs [PRB] and powers [W]; modified in place: entries of unassociated pairs and
        negative entries are zeroed and, with ``project``, each (satellite, fast slot) whose
        pool is exceeded is scaled back onto it.
    project : bool
        Scale allocations back onto violated pools (otherwise only report the violation).

    Returns
    -------
    dict
        ``z`` (B, C, M) [bit], ``xi`` (B, C), ``utility`` (B,), ``max_violation`` (B,) of the
        returned allocation, ``raw_violation`` (B,) before projection, ``zero_demand`` and
        ``no_satellite`` (B, C) masks.
    """
    scale = 1.0 / (data.W_PRB * data.N0)
    z, served, D, no_sat, vb, va = evaluate_kernel(
        data.x, n, p, data.g, scale, data.a, data.N_PRB, data.P_max, data.bits_per_nat, project
    )
    return scores(data, z, served, D, no_sat, vb, va)


def scores(
    data: P1Data,
    z: np.ndarray,
    served: np.ndarray,
    D: np.ndarray,  # noqa: N803
    no_sat: np.ndarray,
    viol_before: np.ndarray,
    viol_after: np.ndarray,
) -> dict[str, np.ndarray | float]:
    """Satisfaction and utility of served bits (the outputs of ``evaluate_kernel``).

    Returns the dictionary of :func:`evaluate_allocation`.
    """
    xi = satisfaction(served, D)
    utility = np.atleast_1d(log_utility(xi, eps=data.eps, w=data.w, axis=1))
    return {
        "z": z,
        "xi": xi,
        "utility": np.asarray(utility, dtype=float),
        "max_violation": np.maximum(viol_after, 0.0),
        "raw_violation": np.maximum(viol_before, 0.0),
        "zero_demand": D <= 0,
        "no_satellite": no_sat,
    }
