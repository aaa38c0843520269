"""Full-horizon P2 as a mixed-integer linear programme solved by HiGHS (``highspy``).

Model (maximise; ``(c, l, k)`` runs over visible candidate pairs only)::

    x[c,l,k] in {0, 1}                      cell c on candidate satellite l in slot k
    sum_l x[c,l,k] = 1                       one satellite per cell and slot
    hin[c,l,k] >= x[c,l,k] - x[c,l,k-1]      switch *into* l at k (per cell, satellite, slot)
    sum_{l,k} hin[c,l,k] (+ sum_l req[c,l] x[c,l,K-1]) <= budget[c]

``hin`` is continuous in [0, 1]; it is integral at any vertex with integral ``x``.  Defining it
per (cell, satellite, slot) instead of per (cell, slot) makes the LP relaxation much tighter
(``x`` moving fractionally between two satellites costs the moved mass, not zero).  In slot 0 a
switch away from ``initial`` costs ``hin[c,l,0] >= x[c,l,0]`` for ``l != initial[c]``.

Objective, separable proxy
    ``log(eps + xi)`` is a known constant ``u[c,l,k]`` per pair once ``x`` fixes the
    satellite, so the objective ``sum u x - lambda_h sum hin`` is *exact* (no cuts needed).
    ``separable_form="cuts"`` builds APEX's formulation with ``xi`` and tangent cuts instead.

Objective, coupled proxy
    ``q[c,l,k] in [0, min(1, 1/w)]`` is the satisfaction a cell gets from its share
    (``q = y R / D``, ``w = D / R``): ``q <= min(1, 1/w) x``, pool rows
    ``sum_c w q <= 1`` per (satellite, slot), ``xi[c,k] <= sum_l q``, and the epigraph
    variable ``t[c,k] <= log(eps + xi)`` through tangent cuts.

Tangent cuts
    ``log`` is replaced by the envelope of ``n_cuts`` tangents (48 by default, maximum
    over-estimate 0.0048 per cell-slot with ``eps = 1e-4``); see :mod:`oracles.p2.logpwl` for
    the placement, the error bound and the two encodings (bounded segments, the default, or
    one cut row per tangent).  The reported ``objective`` is always recomputed with the exact
    log (exact water-filling for the MILP's association); HiGHS's dual bound on the envelope
    model is still a valid upper bound on the exact optimum because the envelope
    over-estimates ``log``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from oracles.p2 import proxy as _proxy
from oracles.p2.dp import terminal_arrays
from oracles.p2.logpwl import LOG_FORMS, LogBlock, cut_error_bound, log_block
from oracles.p2.problem import Problem
from oracles.p2.result import P2Result, infeasible_result, make_result

__all__ = ["solve_milp"]


@dataclass
class _Model:
    """Column index maps of a built model."""

    n_col: int
    pidx: np.ndarray  # (C, L, K) x column or -1
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray]
    hcol: np.ndarray  # per pair, hin column or -1
    qcol: np.ndarray  # per pair, q column or -1
    log_ck: tuple[np.ndarray, np.ndarray] | None  # cell-slots modelled by the log block
    log_start: int
    log: LogBlock | None


class _Rows:
    """Accumulates sparse rows as triplets."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.n = 0

    def add(self, r: np.ndarray, c: np.ndarray, v: np.ndarray, n_new: int,
            lo: np.ndarray, hi: np.ndarray) -> None:
        self.r.append(np.asarray(r) + self.n)
        self.c.append(np.asarray(c))
        self.v.append(np.asarray(v, dtype=float))
        self.lo.append(np.asarray(lo, dtype=float))
        self.hi.append(np.asarray(hi, dtype=float))
        self.n += n_new

    def to_lp(self, n_col: int, cost: np.ndarray, lo: np.ndarray, hi: np.ndarray,
              n_int: int, offset: float = 0.0) -> Any:
        """HiGHS LP (maximise); the first ``n_int`` columns are integer."""
        import highspy

        A = sp.csr_matrix(  # noqa: N806
            (np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))),
            shape=(self.n, n_col),
        )
        A.sum_duplicates()
        lp = highspy.HighsLp()
        lp.num_col_ = n_col
        lp.num_row_ = self.n
        lp.col_cost_ = cost
        lp.col_lower_ = lo
        lp.col_upper_ = hi
        lp.row_lower_ = np.concatenate(self.lo)
        lp.row_upper_ = np.concatenate(self.hi)
        lp.offset_ = float(offset)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data
        lp.integrality_ = (
            [highspy.HighsVarType.kInteger] * n_int
            + [highspy.HighsVarType.kContinuous] * (n_col - n_int)
        )
        lp.sense_ = highspy.ObjSense.kMaximize
        return lp


def add_log_block(
    rows: _Rows, n: int, m: int, eps: float, n_cuts: int, form: str,
    link_row: np.ndarray, link_col: np.ndarray, link_coef: np.ndarray,
) -> tuple[LogBlock, int]:
    """Append a log block for ``m`` cell-slots and their link rows.

    Link row ``i``: ``xi_i - sum(link_coef * column) <= 0`` over the entries with
    ``link_row == i``.  Returns the block and the new column count.
    """
    blk = log_block(m, eps, n_cuts, form)
    rows.add(
        np.concatenate([blk.xi_row, link_row]),
        np.concatenate([n + blk.xi_cols, link_col]),
        np.concatenate([blk.xi_coef, -link_coef]),
        m, np.full(m, -np.inf), np.zeros(m),
    )
    if blk.cut_rows is not None:
        r, c, v, lo, hi = blk.cut_rows
        rows.add(r, n + c, v, lo.size, lo, hi)
    return blk, n + blk.n_col


def _build(
    problem: Problem,
    n_cuts: int,
    separable_form: str,
    log_form: str,
    cost_t: np.ndarray,
    req_t: np.ndarray,
) -> tuple[Any, _Model]:
    C, L, K = problem.C, problem.L, problem.K  # noqa: N806
    vis = problem.vis
    pc, pl, pk = np.nonzero(vis)
    P = pc.size  # noqa: N806
    pidx = np.full((C, L, K), -1, np.int64)
    pidx[pc, pl, pk] = np.arange(P)
    init_l = problem.init_l
    has_h = (pk >= 1) | ((pk == 0) & (init_l[pc] != -1) & (pl != init_l[pc]))
    n = P
    hcol = np.full(P, -1, np.int64)
    hcol[has_h] = n + np.arange(int(has_h.sum()))
    n += int(has_h.sum())
    D = problem.D  # noqa: N806
    qcol = np.full(P, -1, np.int64)
    if problem.proxy == "coupled":
        wp = problem.w[pc, pl, pk]
        has_q = (wp > 0) & np.isfinite(wp)
        qcol[has_q] = n + np.arange(int(has_q.sum()))
        n += int(has_q.sum())
    n_base = n

    lam = problem.lambda_h
    last = pk == K - 1
    rows = _Rows()
    # one satellite per (c, k)
    rows.add(pc * K + pk, np.arange(P), np.ones(P), C * K, np.ones(C * K), np.ones(C * K))
    # hin - x + x_prev >= 0
    hp = np.nonzero(has_h)[0]
    nh = hp.size
    r = np.arange(nh)
    prev = np.where(pk[hp] >= 1, pidx[pc[hp], pl[hp], np.maximum(pk[hp] - 1, 0)], -1)
    hasprev = prev >= 0
    rows.add(
        np.concatenate([r, r, r[hasprev]]),
        np.concatenate([hcol[hp], hp, prev[hasprev]]),
        np.concatenate([np.ones(nh), -np.ones(nh), np.ones(int(hasprev.sum()))]),
        nh, np.zeros(nh), np.full(nh, np.inf),
    )
    # budget, and the terminal reserve j + req <= budget (rolling windows)
    budget = problem.budget.astype(float)
    rows.add(pc[hp], hcol[hp], np.ones(nh), C, np.full(C, -np.inf), budget)
    reqp = req_t[pc[last], pl[last]].astype(float)
    nz = reqp != 0
    if nz.any():
        rows.add(
            np.concatenate([pc[hp], pc[last][nz]]),
            np.concatenate([hcol[hp], np.arange(P)[last][nz]]),
            np.concatenate([np.ones(nh), reqp[nz]]),
            C, np.full(C, -np.inf), budget,
        )
    blk = None
    log_ck = None
    if problem.proxy == "coupled":
        qp = np.nonzero(qcol >= 0)[0]
        nq = qp.size
        wq = problem.w[pc[qp], pl[qp], pk[qp]]
        cap = np.minimum(1.0, 1.0 / wq)
        r = np.arange(nq)
        rows.add(np.concatenate([r, r]), np.concatenate([qcol[qp], qp]),
                 np.concatenate([np.ones(nq), -cap]), nq, np.full(nq, -np.inf), np.zeros(nq))
        sat = problem.cand[pc[qp], pl[qp]]
        key = sat * K + pk[qp]
        _, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
        keep = counts[inv] >= 2
        ukeep, rid = np.unique(inv[keep], return_inverse=True)
        rows.add(rid, qcol[qp][keep], wq[keep], ukeep.size,
                 np.full(ukeep.size, -np.inf), np.ones(ukeep.size))
        link_src, link_cols, link_coef = qp, qcol[qp], np.ones(nq)
    elif separable_form == "cuts":
        link_src = np.arange(P)
        link_cols = link_src
        rhop = problem.rho[pc, pl, pk]
        Dp = D[pc, pk]  # noqa: N806
        with np.errstate(divide="ignore", invalid="ignore"):
            link_coef = np.where(Dp > 0, np.minimum(1.0, rhop / np.where(Dp > 0, Dp, 1.0)), 0.0)
    if problem.proxy == "coupled" or separable_form == "cuts":
        pos_c, pos_k = np.nonzero(D > 0)
        m = pos_c.size
        ridx = np.full((C, K), -1, np.int64)
        ridx[pos_c, pos_k] = np.arange(m)
        lr = ridx[pc[link_src], pk[link_src]]
        ok = lr >= 0
        blk, n = add_log_block(rows, n, m, problem.eps, n_cuts, log_form,
                               lr[ok], link_cols[ok], link_coef[ok])
        log_ck = (pos_c, pos_k)

    lo = np.zeros(n)
    hi = np.ones(n)
    cost = np.zeros(n)
    cost[hcol[has_h]] = -lam
    cost[np.arange(P)[last]] -= cost_t[pc[last], pl[last]]
    offset = 0.0
    if problem.proxy == "coupled":
        qp = np.nonzero(qcol >= 0)[0]
        hi[qcol[qp]] = np.minimum(1.0, 1.0 / problem.w[pc[qp], pl[qp], pk[qp]])
    if blk is None:
        cost[:P] += problem.sep_value[pc, pl, pk]
    else:
        lo[n_base:] = blk.lo
        hi[n_base:] = blk.hi
        cost[n_base:] = blk.cost
        offset = blk.offset
    lp = rows.to_lp(n, cost, lo, hi, P, offset)
    model = _Model(n, pidx, (pc, pl, pk), hcol, qcol, log_ck, n_base, blk)
    return lp, model


def _warm_vector(problem: Problem, model: _Model, path_l: np.ndarray) -> np.ndarray:
    """Full column vector for an association (candidate indices), consistent with every row."""
    pc, pl, pk = model.pairs
    col = np.zeros(model.n_col)
    xv = (path_l[pc, pk] == pl).astype(float)
    col[: pc.size] = xv
    hp = np.nonzero(model.hcol >= 0)[0]
    prev = np.where(pk[hp] >= 1, model.pidx[pc[hp], pl[hp], np.maximum(pk[hp] - 1, 0)], -1)
    xprev = np.where(prev >= 0, xv[np.maximum(prev, 0)], 0.0)
    col[model.hcol[hp]] = np.maximum(0.0, xv[hp] - xprev)
    if model.log is not None and model.log_ck is not None:
        if problem.proxy == "coupled":
            xi, _, _ = _proxy.coupled_allocation(path_l, problem.cand, problem.w, problem.eps, problem.S)
            qp = np.nonzero(model.qcol >= 0)[0]
            on = xv[qp] > 0.5
            col[model.qcol[qp[on]]] = np.nan_to_num(xi[pc[qp[on]], pk[qp[on]]])
        else:
            rho = np.take_along_axis(problem.rho, path_l[:, None, :], axis=1)[:, 0, :]
            D = problem.D  # noqa: N806
            with np.errstate(divide="ignore", invalid="ignore"):
                xi = np.where(D > 0, np.minimum(1.0, rho / np.where(D > 0, D, 1.0)), np.nan)
        pos_c, pos_k = model.log_ck
        col[model.log_start:] = model.log.warm(xi[pos_c, pos_k])
    return col


def _wall_clock_guard(h: Any, time_limit: float) -> None:
    """Interrupt simplex / IPM / MIP from a callback once ``time_limit`` (+5 %) has passed.

    HiGHS checks its own ``time_limit`` only between some phases; a root LP of a few hundred
    thousand columns can run far past it.
    """
    deadline = time.perf_counter() + 1.05 * float(time_limit) + 1.0

    def _guard(event: Any) -> None:
        if time.perf_counter() > deadline:
            event.interrupt()

    h.cbSimplexInterrupt += _guard
    h.cbIpmInterrupt += _guard
    h.cbMipInterrupt += _guard


def solve_milp(
    problem: Problem,
    *,
    time_limit: float = 300.0,
    mip_rel_gap: float = 1e-4,
    threads: int | None = None,
    mip_lp_solver: str | None = None,
    n_cuts: int = 48,
    log_form: str = "segments",
    separable_form: str = "exact",
    warm_start: str | np.ndarray | None = None,
    terminal_cost: np.ndarray | None = None,
    terminal_req: np.ndarray | None = None,
    verbose: bool = False,
    highs_options: dict[str, Any] | None = None,
) -> P2Result:
    """Solve P2 on the problem's proxy as a MILP with HiGHS.

    Parameters
    ----------
    problem : Problem
        The instance (separable or coupled proxy).
    time_limit : float
        HiGHS time limit [s].
    mip_rel_gap : float
        Relative MIP gap at which HiGHS stops.
    threads : int, optional
        HiGHS ``threads`` option.
    mip_lp_solver : str, optional
        HiGHS ``mip_lp_solver`` (``"choose"``, ``"simplex"``, ``"ipm"``, ...); ``"ipx"`` is
        accepted as an alias of ``"ipm"``.
    n_cuts : int
        Tangents per cell-slot for ``log`` (coupled, or separable with ``"cuts"``).
    log_form : {"segments", "rows"}
        Encoding of the tangent envelope (:mod:`oracles.p2.logpwl`): bounded segment
        variables (one row per cell-slot, default) or one cut row per tangent.
    separable_form : {"exact", "cuts"}
        Separable objective as exact per-pair coefficients (default) or APEX's ``xi`` +
        tangent-cut form.
    warm_start : {"dp"} or ndarray, optional
        Initial incumbent passed with ``setSolution``: from the exact DP (separable) or an
        association (C, K) of satellite indices.  ``"lagrangian"`` (the Lagrangian method's
        association, coupled) is accepted by :func:`oracles.p2.solve`, which resolves it.
    terminal_cost, terminal_req : ndarray, shape (S, C), optional
        Rolling-window terminal cost / handover reserve (see :mod:`oracles.p2.rolling`).
    verbose : bool
        Print HiGHS's log.
    highs_options : dict, optional
        Further HiGHS options, set verbatim.

    Returns
    -------
    P2Result
        ``bound`` is HiGHS's dual bound (valid for the exact problem), ``info`` holds
        ``mip_gap`` (HiGHS's gap on its own model), ``highs_status``, ``nodes``, sizes and the
        cut error bound.
    """
    import highspy

    if log_form not in LOG_FORMS:
        raise ValueError(f"log_form must be one of {LOG_FORMS}, got {log_form!r}")
    if separable_form not in ("exact", "cuts"):
        raise ValueError(f"separable_form must be 'exact' or 'cuts', got {separable_form!r}")
    if time_limit <= 0:
        raise ValueError(f"time_limit must be > 0 [s], got {time_limit}")
    if mip_rel_gap < 0:
        raise ValueError(f"mip_rel_gap must be >= 0, got {mip_rel_gap}")
    t0 = time.perf_counter()
    ok, msg = problem.feasibility()
    if not ok:
        return infeasible_result(problem, msg, "milp", time.perf_counter() - t0)
    cost_t, req_t = terminal_arrays(problem, terminal_cost, terminal_req)
    warm_path = None
    warm_time = 0.0
    if warm_start is not None:
        tw = time.perf_counter()
        warm_path = _warm_path(problem, warm_start, terminal_cost, terminal_req)
        warm_time = time.perf_counter() - tw
    lp, model = _build(problem, n_cuts, separable_form, log_form, cost_t, req_t)
    t_build = time.perf_counter() - t0
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(verbose))
    h.setOptionValue("time_limit", float(max(1e-3, time_limit)))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    if mip_lp_solver is not None:
        h.setOptionValue("mip_lp_solver", "ipm" if mip_lp_solver == "ipx" else str(mip_lp_solver))
    for key, val in (highs_options or {}).items():
        h.setOptionValue(key, val)
    h.passModel(lp)
    _wall_clock_guard(h, time_limit)
    if warm_path is not None:
        sol = highspy.HighsSolution()
        sol.col_value = _warm_vector(problem, model, warm_path)
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    info = h.getInfo()
    mstat = h.getModelStatus()
    status_txt = h.modelStatusToString(mstat)
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    elapsed = time.perf_counter() - t0
    extra: dict[str, Any] = {
        "highs_status": status_txt,
        "mip_gap": float(info.mip_gap),
        "nodes": int(info.mip_node_count),
        "n_binary": int(model.pairs[0].size),
        "n_col": int(model.n_col),
        "n_row": int(lp.num_row_),
        "build_time_s": t_build,
        "warm_start_time_s": warm_time,
        "n_cuts": int(n_cuts) if model.log is not None else 0,
        "log_form": log_form if model.log is not None else "exact",
        "cut_error_bound": cut_error_bound(problem.eps, n_cuts) if model.log is not None else 0.0,
    }
    if mstat == highspy.HighsModelStatus.kInfeasible:
        return infeasible_result(problem, f"HiGHS: {status_txt}", "milp", elapsed)
    if not has_sol:
        return infeasible_result(
            problem, f"HiGHS stopped without a feasible solution ({status_txt})", "milp", elapsed,
            status="no_solution",
        )
    col = np.asarray(h.getSolution().col_value)
    pc, pl, pk = model.pairs
    xval = col[: pc.size]
    # the largest x per (c, k) (x is integral up to HiGHS's tolerance)
    path = np.full((problem.C, problem.K), -1, np.int64)
    key = pc * problem.K + pk
    order = np.lexsort((xval, key))
    ends = np.r_[np.nonzero(np.diff(key[order]))[0], order.size - 1]
    top = order[ends]
    path[pc[top], pk[top]] = pl[top]
    bound = float(info.mip_dual_bound)
    optimal = mstat == highspy.HighsModelStatus.kOptimal
    return make_result(
        problem, path, status="optimal" if optimal else "feasible", method="milp",
        solve_time_s=elapsed, message=f"HiGHS: {status_txt}, MIP gap {info.mip_gap:.3g}",
        bound=bound if np.isfinite(bound) else None, info=extra,
    )


def _warm_path(
    problem: Problem,
    warm_start: str | np.ndarray,
    terminal_cost: np.ndarray | None,
    terminal_req: np.ndarray | None,
) -> np.ndarray:
    """Candidate-index path for the requested warm start."""
    if isinstance(warm_start, str):
        if warm_start == "dp":
            from oracles.p2.dp import solve_dp

            res = solve_dp(problem.replace(proxy="separable"), terminal_cost=terminal_cost,
                           terminal_req=terminal_req)
        else:
            raise ValueError(
                f"warm_start must be 'dp' or an association array, got {warm_start!r} (the "
                "Lagrangian warm start: oracles.p2.solve(problem, 'milp', warm_start='lagrangian'))"
            )
        if not res.feasible:
            raise ValueError(f"warm_start {warm_start!r} failed: {res.message}")
        return problem.l_from_assoc(res.assoc)
    assoc = np.asarray(warm_start)
    if assoc.shape != (problem.C, problem.K):
        raise ValueError(f"warm_start must have shape ({problem.C}, {problem.K}), got {assoc.shape}")
    path = problem.l_from_assoc(assoc)
    if np.any(path < 0) or not np.all(np.take_along_axis(problem.vis, path[:, None, :], 1)):
        raise ValueError("warm_start assigns a cell to a satellite it cannot see")
    return path

