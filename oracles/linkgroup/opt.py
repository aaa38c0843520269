"""OPT: exact MILP of the link-group scheduling problem on HiGHS, and its convex-QP bound.

The objective's two convex terms are replaced by epigraph variables:

* served term ``S(n)``, ``n = N_act - sum_k y_k`` an integer: for the squared form the cuts
  ``f >= (2m + 1)(n - m) + m^2``, ``m = 0..N_act-1``, are tangent-chord lines of ``n^2`` that
  meet it at ``n = m`` and ``n = m + 1``, so ``max_m`` of them equals ``n^2`` at every integer
  ``n``: exact.  The linear form needs no cut.
* data term ``w_k e_k^2``, ``e_k = (D_k - z_k) / s_k`` in ``[0, E_k]``: tangent cuts at
  ``n_cuts`` equally spaced points; the maximum of the tangents under-estimates ``e^2`` by at
  most ``(E_k / (n_cuts - 1))^2 / 4``, so the MILP value is a lower bound and the exact ``F`` of
  its schedule exceeds the optimum by at most ``cut_error_bound = sum_k w_k (E_k / (n_cuts -
  1))^2 / 4`` (plus HiGHS's MIP gap).  Both are reported.

The schedule is re-scored with :func:`oracles.linkgroup.objective.objective`; ``bound`` is
HiGHS's dual bound on the cut model, a certified lower bound on the true optimum.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from leo_env.core.linkgroups import LinkGroupInstance
from oracles.linkgroup.compact import build_compact, decode_links
from oracles.linkgroup.objective import DEFAULT_SPEC, ObjectiveSpec, data_scale
from oracles.linkgroup.solution import LinkGroupSolution, make_solution

__all__ = ["solve_opt", "qp_bound", "cut_error_bound"]


def cut_error_bound(inst: LinkGroupInstance, n_cuts: int, spec: ObjectiveSpec = DEFAULT_SPEC) -> float:
    """Largest under-estimate of the data term by ``n_cuts`` tangent cuts per receiver."""
    act = inst.active
    e_max = inst.demand_bits[act] / data_scale(inst, spec)[act]
    return float((inst.weight[act] * (e_max / (n_cuts - 1)) ** 2 / 4.0).sum())


def solve_opt(
    inst: LinkGroupInstance,
    spec: ObjectiveSpec = DEFAULT_SPEC,
    *,
    n_cuts: int = 65,
    time_limit: float = 60.0,
    mip_rel_gap: float = 1e-6,
    threads: int | None = 1,
    verbose: bool = False,
    unit_bits: float = 1e6,
    strengthen: bool = True,
) -> LinkGroupSolution:
    """Exact MILP (module docstring) solved by HiGHS.

    Parameters
    ----------
    n_cuts : int
        Tangent points per receiver for the data term, >= 2.
    time_limit : float
        HiGHS time limit [s], > 0; on timeout the best schedule is returned with
        ``info["status"] = "time_limit"``.
    mip_rel_gap : float
        HiGHS relative MIP gap, >= 0.
    strengthen : bool
        Add the valid cuts ``z_k <= sum min(bits, D_k) x`` and
        ``y_k <= sum min(1, bits / D_min_k) x`` (same integer optimum, tighter relaxation).

    Returns
    -------
    LinkGroupSolution
        ``method="opt"``; ``bound`` = HiGHS's dual bound; ``info`` has ``status``,
        ``mip_gap``, ``milp_objective``, ``cut_error_bound``, ``nodes``, sizes.
    """
    import highspy

    if not (isinstance(n_cuts, int) and n_cuts >= 2):
        raise ValueError(f"n_cuts must be an integer >= 2, got {n_cuts}")
    if not (np.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be > 0 [s], got {time_limit}")
    if not (np.isfinite(mip_rel_gap) and mip_rel_gap >= 0):
        raise ValueError(f"mip_rel_gap must be >= 0, got {mip_rel_gap}")
    t0 = time.perf_counter()
    m = build_compact(inst, unit_bits=unit_bits)
    n_x, n_u = m.n_x, m.n_u
    act = m.act
    na = act.size
    D = inst.demand_bits[act] / unit_bits  # noqa: N806
    Dmin = inst.min_bits[act] / unit_bits  # noqa: N806
    s = data_scale(inst, spec)[act] / unit_bits
    w = inst.weight[act]
    # columns: x (n_x, bin) | u (n_u, bin) | y (na, bin) | z (na) | g (na) | f (1)
    cy = n_x + n_u
    cz, cg, cf = cy + na, cy + 2 * na, cy + 3 * na
    n_col = cf + 1
    blocks, lo, hi = [], [], []

    def add(mat: sp.spmatrix, l: np.ndarray | float, h: np.ndarray | float) -> None:  # noqa: E741
        blocks.append(sp.csr_matrix(mat))
        r = mat.shape[0]
        lo.append(np.broadcast_to(np.asarray(l, dtype=float), (r,)))
        hi.append(np.broadcast_to(np.asarray(h, dtype=float), (r,)))

    Z = sp.csr_matrix  # noqa: N806

    def row(x=None, u=None, y=None, z=None, g=None, f=None, n=0) -> sp.csr_matrix:
        parts = []
        for mat, width in ((x, n_x), (u, n_u), (y, na), (z, na), (g, na), (f, 1)):
            parts.append(Z((n, width)) if mat is None else sp.csr_matrix(mat))
        return sp.hstack(parts, format="csr")

    add(row(u=m.A_pat, n=m.A_pat.shape[0]), 1.0, 1.0)
    add(row(x=m.A_link_x, u=m.A_link_u, n=m.A_link_x.shape[0]), 0.0, 0.0)
    uni = m.A_uni[np.flatnonzero(m.A_uni.getnnz(axis=1))]
    add(row(x=uni, n=uni.shape[0]), -np.inf, 1.0)
    eye = sp.identity(na, format="csr")
    add(row(x=-m.M, z=eye, n=na), -np.inf, 0.0)  # z <= delivered
    add(row(y=sp.diags(Dmin), z=-eye, n=na), -np.inf, 0.0)  # Dmin y <= z
    if strengthen:  # valid cuts (CompactModel.M_cap, S_cut): tighter relaxation, same optimum
        add(row(x=-m.M_cap, z=eye, n=na), -np.inf, 0.0)
        add(row(x=-m.S_cut, y=eye, n=na), -np.inf, 0.0)
    # data tangents: g + (2 e_i / s) z >= 2 e_i D / s - e_i^2, e_i in (0, E]
    E = D / s  # noqa: N806
    frac = np.linspace(0.0, 1.0, n_cuts)[1:]
    ei = E[None, :] * frac[:, None]  # (n_cuts-1, na)
    rr = np.arange(ei.size)
    kk = np.tile(np.arange(na), frac.size)
    g_m = sp.csr_matrix((np.ones(ei.size), (rr, kk)), shape=(ei.size, na))
    z_m = sp.csr_matrix(((2 * ei / s[None, :]).ravel(), (rr, kk)), shape=(ei.size, na))
    add(row(z=z_m, g=g_m, n=ei.size), (2 * ei * D[None, :] / s[None, :] - ei**2).ravel(), np.inf)
    # served epigraph (squared): f + (2m+1) sum y >= (2m+1)(N - m) + m^2
    if spec.served == "squared" and na > 0:
        mm = np.arange(na, dtype=float)
        y_m = sp.csr_matrix(np.repeat((2 * mm + 1)[:, None], na, axis=1))
        add(row(y=y_m, f=np.ones((na, 1)), n=na), (2 * mm + 1) * (na - mm) + mm**2, np.inf)
    A = sp.vstack(blocks, format="csr")  # noqa: N806
    cost = np.zeros(n_col)
    cost[cg:cf] = w
    offset = 0.0
    if spec.served == "squared":
        cost[cf] = 1.0
    else:
        cost[cy:cz] = -1.0
        offset = float(na)
    col_lo = np.zeros(n_col)
    col_hi = np.ones(n_col)
    col_hi[cz:cg] = D
    col_hi[cg:cf] = np.inf
    col_hi[cf] = np.inf
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = A.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = col_lo
    lp.col_upper_ = col_hi
    lp.row_lower_ = np.concatenate(lo)
    lp.row_upper_ = np.concatenate(hi)
    lp.offset_ = offset
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * cz + [highspy.HighsVarType.kContinuous] * (
        n_col - cz
    )
    lp.sense_ = highspy.ObjSense.kMinimize
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(verbose))
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    h.passModel(lp)
    t_build = time.perf_counter() - t0
    h.run()
    info = h.getInfo()
    mstat = h.getModelStatus()
    status = h.modelStatusToString(mstat)
    if info.primal_solution_status != 2:
        raise RuntimeError(f"HiGHS returned no feasible schedule ({status})")
    col = np.asarray(h.getSolution().col_value)
    links = decode_links(m, col[:n_x], inst.T, inst.J)
    bound = float(info.mip_dual_bound)
    extra: dict[str, Any] = {
        "status": "optimal" if mstat == highspy.HighsModelStatus.kOptimal else "time_limit",
        "highs_status": status,
        "mip_gap": float(info.mip_gap),
        "milp_objective": float(info.objective_function_value),
        "cut_error_bound": cut_error_bound(inst, n_cuts, spec),
        "nodes": int(info.mip_node_count),
        "n_binary": int(cz),
        "n_col": int(n_col),
        "n_row": int(A.shape[0]),
        "build_time_s": t_build,
    }
    return make_solution(inst, links, "opt", spec, time.perf_counter() - t0,
                         bound if np.isfinite(bound) else None, extra)


def qp_bound(
    inst: LinkGroupInstance,
    spec: ObjectiveSpec = DEFAULT_SPEC,
    solver: str = "CLARABEL",
    unit_bits: float = 1e6,
    strengthen: bool = True,
) -> dict[str, Any]:
    """Convex-QP relaxation of the compact model with the exact quadratic objective (CVXPY).

    Every binary is relaxed to ``[0, 1]``; the objective is ``S(N - sum y) + sum w ((D - z) /
    s)^2`` exactly, so the optimal value is a lower bound on OPT.  ``strengthen`` (default)
    adds the valid cuts of :class:`~oracles.linkgroup.compact.CompactModel` (``M_cap``,
    ``S_cut``): every schedule satisfies them, and they tighten the relaxation.

    Returns
    -------
    dict
        ``bound`` (the relaxation's value, lowered by the solver's reported tolerance),
        ``status``, ``solve_time_s``, ``solver``.
    """
    import cvxpy as cp

    t0 = time.perf_counter()
    m = build_compact(inst, unit_bits=unit_bits)
    act = m.act
    na = act.size
    D = inst.demand_bits[act] / unit_bits  # noqa: N806
    Dmin = inst.min_bits[act] / unit_bits  # noqa: N806
    s = data_scale(inst, spec)[act] / unit_bits
    w = inst.weight[act]
    x = cp.Variable(m.n_x, nonneg=True)
    u = cp.Variable(m.n_u, nonneg=True)
    y = cp.Variable(na)
    z = cp.Variable(na)
    cons = [
        x <= 1, u <= 1,
        m.A_pat @ u == 1,
        m.A_link_x @ x + m.A_link_u @ u == 0,
        m.A_uni @ x <= 1,
        z <= m.M @ x,
        cp.multiply(Dmin, y) <= z, z <= D, y >= 0, y <= 1,
    ]
    if strengthen:
        cons += [z <= m.M_cap @ x, y <= m.S_cut @ x]
    n = na - cp.sum(y)
    served = cp.square(n) if spec.served == "squared" else n
    obj = served + cp.sum(cp.multiply(w, cp.square(cp.multiply(D - z, 1.0 / s))))
    prob = cp.Problem(cp.Minimize(obj), cons)
    prob.solve(solver=solver)
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"QP bound: solver status {prob.status}")
    val = float(prob.value)
    # guard against the interior-point solver's optimality tolerance
    bound = val - 1e-6 * max(1.0, abs(val))
    return {"bound": bound, "value": val, "status": prob.status,
            "solve_time_s": time.perf_counter() - t0, "solver": solver}
