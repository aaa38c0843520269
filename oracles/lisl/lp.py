"""HiGHS linear programmes of the lisl family (through ``highspy``).

* :class:`TransportLP` -- the rate subproblem (28) of the Lagrangian: ``max sum_f q_f w_f``
  subject to the per-source limits ``Q_s`` and per-target limits ``D_s'``, built once per
  instance; only the objective (and the bounds that switch off flows with ``w_f <= 0``) change
  between solves, so HiGHS warm-starts from the previous basis.
* :func:`rate_lp` -- the rate problem (35) for fixed links and paths: ``max sum_f q_f`` subject
  to ``Q``, ``D`` and the capacity of every arc.
* :func:`solve_highs` -- a small wrapper that builds a column-wise model, solves it and checks
  the status.

Solutions are optimal up to HiGHS's default feasibility/optimality tolerances (1e-7).
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from oracles.lisl.problem import LislProblem

__all__ = ["LpResult", "solve_highs", "TransportLP", "rate_lp"]


@dataclass(frozen=True)
class LpResult:
    """Solution of a HiGHS model: optimal flag, primal values, objective and MIP bound."""

    optimal: bool
    x: np.ndarray
    objective: float
    mip_dual_bound: float
    status: str


def _model(
    cost: np.ndarray,
    a_csc: sp.csc_array,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    maximize: bool,
) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    lp.num_col_ = int(cost.shape[0])
    lp.num_row_ = int(row_lower.shape[0])
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.asarray(col_lower, dtype=float)
    lp.col_upper_ = np.asarray(col_upper, dtype=float)
    lp.row_lower_ = np.asarray(row_lower, dtype=float)
    lp.row_upper_ = np.asarray(row_upper, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.asarray(a_csc.indptr, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(a_csc.indices, dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray(a_csc.data, dtype=float)
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    return lp


def _new_highs(time_limit_s: float | None = None, threads: int = 1) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    return h


def solve_highs(
    cost: np.ndarray,
    a: sp.sparray | sp.spmatrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    *,
    maximize: bool = True,
    integer: np.ndarray | None = None,
    time_limit_s: float | None = None,
    mip_rel_gap: float = 1e-9,
) -> LpResult:
    """Solve ``max/min cost.x`` s.t. ``row_lower <= A x <= row_upper``, column bounds.

    Parameters
    ----------
    integer : ndarray of bool, optional
        Columns that must be integer (a MIP).
    time_limit_s : float, optional
        HiGHS time limit [s]; the status then says whether optimality was proven.
    mip_rel_gap : float
        Relative MIP gap at which HiGHS stops.
    """
    a_csc = sp.csc_array(a)
    a_csc.sort_indices()
    h = _new_highs(time_limit_s)
    h.passModel(
        _model(np.asarray(cost, float), a_csc, row_lower, row_upper, col_lower, col_upper, maximize)
    )
    if integer is not None and np.any(integer):
        idx = np.flatnonzero(integer).astype(np.int32)
        h.changeColsIntegrality(idx.size, idx, np.full(idx.size, highspy.HighsVarType.kInteger))
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    n = int(np.asarray(cost).shape[0])
    sol = h.getSolution()
    x = np.array(sol.col_value, dtype=float) if sol.value_valid else np.zeros(n)
    optimal = status == highspy.HighsModelStatus.kOptimal
    bound = (
        float(info.mip_dual_bound) if integer is not None else float(info.objective_function_value)
    )
    return LpResult(
        optimal, x, float(info.objective_function_value), bound, h.modelStatusToString(status)
    )


class TransportLP:
    """The rate subproblem (28), ``max sum_f w_f q_f`` s.t. ``Q_s``, ``D_s'``, ``q >= 0``.

    Built once per :class:`LislProblem`; :meth:`solve` changes the objective only.
    """

    def __init__(self, problem: LislProblem) -> None:
        nf = problem.n_flows
        self.n_flows = nf
        src_u, src_row = np.unique(problem.flow_src, return_inverse=True)
        dst_u, dst_row = np.unique(problem.flow_dst, return_inverse=True)
        rows = np.concatenate([src_row, src_u.size + dst_row])
        cols = np.concatenate([np.arange(nf), np.arange(nf)])
        a = sp.csc_array((np.ones(2 * nf), (rows, cols)), shape=(src_u.size + dst_u.size, nf))
        a.sort_indices()
        upper = np.concatenate([problem.serve_gbps[src_u], problem.demand_gbps[dst_u]])
        self._cap = problem.flow_cap_gbps.copy()
        self._h = _new_highs()
        if nf:
            self._h.passModel(
                _model(np.zeros(nf), a, np.zeros(upper.size), upper, np.zeros(nf), self._cap, True)
            )
        self._idx = np.arange(nf, dtype=np.int32)

    def solve(self, weight: np.ndarray) -> tuple[np.ndarray, float]:
        """Optimal ``q`` and value for per-flow weights ``w`` (flows with ``w <= 0`` get 0)."""
        w = np.asarray(weight, dtype=float)
        if self.n_flows == 0:
            return np.zeros(0), 0.0
        on = w > 0.0
        if not on.any():
            return np.zeros(self.n_flows), 0.0
        h = self._h
        h.changeColsCost(self.n_flows, self._idx, np.where(on, w, 0.0))
        h.changeColsBounds(
            self.n_flows, self._idx, np.zeros(self.n_flows), np.where(on, self._cap, 0.0)
        )
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"HiGHS transport LP: {h.modelStatusToString(status)}")
        q = np.maximum(np.array(h.getSolution().col_value, dtype=float), 0.0)
        q[~on] = 0.0
        return q, float(np.dot(w, q))


def rate_lp(
    problem: LislProblem,
    arc_capacity_gbps: np.ndarray,
    path_ptr: np.ndarray,
    path_arcs: np.ndarray,
) -> np.ndarray:
    """Rates (35): ``max sum_f q_f`` over the routed flows with fixed paths and capacities.

    Parameters
    ----------
    problem : LislProblem
    arc_capacity_gbps : ndarray, shape (2L,)
        Capacity of every arc for the established links [Gbit/s].
    path_ptr, path_arcs : ndarray
        One path per flow (CSR; an empty path = not routed, rate 0).

    Returns
    -------
    ndarray, shape (F,)
        Optimal rates [Gbit/s] (0 for unrouted flows).
    """
    nf = problem.n_flows
    hops = np.diff(path_ptr)
    routed = np.flatnonzero(hops > 0)
    q = np.zeros(nf)
    if routed.size == 0:
        return q
    used_arcs, arc_row = np.unique(path_arcs, return_inverse=True)
    src_u, src_row = np.unique(problem.flow_src[routed], return_inverse=True)
    dst_u, dst_row = np.unique(problem.flow_dst[routed], return_inverse=True)
    col_of_flow = np.full(nf, -1, dtype=np.int64)
    col_of_flow[routed] = np.arange(routed.size)
    owner = np.repeat(np.arange(nf), hops)
    rows = np.concatenate([src_row, src_u.size + dst_row, src_u.size + dst_u.size + arc_row])
    cols = np.concatenate([np.arange(routed.size), np.arange(routed.size), col_of_flow[owner]])
    m = src_u.size + dst_u.size + used_arcs.size
    a = sp.csc_array((np.ones(rows.size), (rows, cols)), shape=(m, routed.size))
    upper = np.concatenate(
        [problem.serve_gbps[src_u], problem.demand_gbps[dst_u], arc_capacity_gbps[used_arcs]]
    )
    res = solve_highs(
        np.ones(routed.size),
        a,
        np.zeros(m),
        upper,
        np.zeros(routed.size),
        problem.flow_cap_gbps[routed],
    )
    if not res.optimal:
        raise RuntimeError(f"HiGHS rate LP (35): {res.status}")
    q[routed] = np.maximum(res.x, 0.0)
    return q
