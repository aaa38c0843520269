"""Sample-average-approximation MPC: one MILP over sampled channel futures, one shared first slot.

At slot ``t`` of a window, with bits ``d0`` already delivered, the rest of the window (slots
``t..T-1``) is planned against ``S`` channel futures sampled from the current FSMC state: every
scenario ``s`` is the window's remaining slots with slot ``t``'s real (observed) channel and
sampled channels afterwards.  The MILP holds one copy of OPT's compact model
(:mod:`oracles.linkgroup.compact`, exact served cuts, tangent data cuts) per scenario, the link
variables of slot ``t`` tied across the copies (non-anticipativity), and minimises the mean of
the scenarios' objectives::

    min (1/S) sum_s [ S(n_s) + sum_k w_k g_{s,k} ]
    s.t. every scenario: OPT's constraints with z_{s,k} <= d0_k + sum_x bits x_s   (delivered so far)
         x_{s, slot t} = x_{1, slot t}                                              (shared first slot)

Only the first slot's group is played; the problem is re-solved at the next slot (receding
horizon).  With ``S = 1`` and the true future it is hindsight OPT restricted to the remaining
slots.  The MILP objective is an under-estimate of the scenarios' mean ``F`` by at most the
tangent-cut error (reported); the played group is always feasible in slot ``t`` (its links come
from slot ``t``'s real link view).

Arrays in, arrays out; only ``leo_env.core`` is imported.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from leo_env.core.linkgroups import LinkGroupInstance
from oracles.linkgroup.compact import build_compact
from oracles.linkgroup.objective import DEFAULT_SPEC, ObjectiveSpec, data_scale

__all__ = ["solve_saa_first_slot"]


def solve_saa_first_slot(
    inst: LinkGroupInstance,
    t: int,
    delivered: np.ndarray,
    future_gain: np.ndarray,
    spec: ObjectiveSpec = DEFAULT_SPEC,
    *,
    n_cuts: int = 17,
    time_limit: float = 10.0,
    mip_rel_gap: float = 1e-3,
    threads: int | None = 1,
    unit_bits: float = 1e6,
    branch: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The shared first-slot group of the SAA MILP (module docstring).

    Parameters
    ----------
    inst : LinkGroupInstance
        The window; only the gains of slot ``t`` (observed) are read.
    t : int
        Current slot in ``[0, T)``.
    delivered : ndarray, shape (K,)
        Bits delivered so far [bit].
    future_gain : ndarray, shape (S, J, K, T - t - 1)
        Sampled gains of the later slots (``oracles.linkgroup.rollout.sample_future_gains``).
    n_cuts : int
        Tangent points per receiver and scenario for the data term, >= 2.
    time_limit : float
        HiGHS time limit per decision [s], > 0 (the incumbent's first slot is played).
    mip_rel_gap : float
        HiGHS relative MIP gap, >= 0.
    branch : ndarray of int, shape (S,) or (S, L), optional
        A scenario tree: paths with the same id in column ``l - 1`` must share the sampled
        channel of slots ``t + 1 .. t + l`` (the caller samples them so; ids nested) and then
        also share their slot-``t + l`` link variables (non-anticipativity at ``L + 1`` slots).
        Default: only slot ``t`` is shared (two-stage).

    Returns
    -------
    group : ndarray of int, shape (J,)
    info : dict
        ``status`` (``optimal`` / ``time_limit``), ``objective`` (MILP value: mean scenario
        objective up to the cut error), ``dual_bound`` (HiGHS's lower bound on the MILP value,
        hence on the mean over the paths of the best causal-at-the-tied-slots schedule's exact
        ``F``), ``solve_time_s``, ``n_scenarios``, ``n_col``, ``n_row``.
    """
    import highspy

    J, K, T = inst.J, inst.K, inst.T  # noqa: N806
    if not 0 <= t < T:
        raise ValueError(f"t must be in [0, {T}), got {t}")
    S = int(future_gain.shape[0])  # noqa: N806
    if S < 1 or future_gain.shape != (S, J, K, T - t - 1):
        raise ValueError(f"future_gain must have shape (S >= 1, {J}, {K}, {T - t - 1}), got {future_gain.shape}")
    if not (isinstance(n_cuts, int) and n_cuts >= 2):
        raise ValueError(f"n_cuts must be an integer >= 2, got {n_cuts}")
    if not (np.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be > 0 [s], got {time_limit}")
    t0 = time.perf_counter()
    d0 = np.asarray(delivered, dtype=float)
    now = inst.gain[:, :, t : t + 1]
    models = []
    for s in range(S):
        g = np.concatenate([now, future_gain[s]], axis=2)
        models.append(build_compact(dataclasses.replace(inst, gain=g), unit_bits=unit_bits))
    act = models[0].act
    na = act.size
    D = inst.demand_bits[act] / unit_bits  # noqa: N806
    Dmin = inst.min_bits[act] / unit_bits  # noqa: N806
    d0a = np.minimum(d0[act] / unit_bits, D)
    sc = data_scale(inst, spec)[act] / unit_bits
    w = inst.weight[act]
    y_pre = np.where(Dmin > 0, np.minimum(1.0, d0a / np.where(Dmin > 0, Dmin, 1.0)), 1.0)
    E = D / sc  # noqa: N806
    frac = np.linspace(0.0, 1.0, n_cuts)[1:]
    lo_all: list[np.ndarray] = []
    hi_all: list[np.ndarray] = []
    cost_all, clo_all, chi_all, integ_all, offsets = [], [], [], [], []
    col0 = 0
    n_row = 0
    rows_coo: list[sp.coo_matrix] = []
    for m in models:
        n_x, n_u = m.n_x, m.n_u
        cy = n_x + n_u
        cz, cg, cf = cy + na, cy + 2 * na, cy + 3 * na
        n_col = cf + 1
        offsets.append(col0)
        blocks: list[sp.csr_matrix] = []
        lo: list[np.ndarray] = []
        hi: list[np.ndarray] = []

        def add(mat: sp.spmatrix, lv: Any, hv: Any, _b=blocks, _lo=lo, _hi=hi) -> None:
            _b.append(sp.csr_matrix(mat))
            r = mat.shape[0]
            _lo.append(np.broadcast_to(np.asarray(lv, dtype=float), (r,)))
            _hi.append(np.broadcast_to(np.asarray(hv, dtype=float), (r,)))

        def row(x=None, u=None, y=None, z=None, g=None, f=None, n=0, _nx=n_x, _nu=n_u) -> sp.csr_matrix:
            parts = []
            for mat, width in ((x, _nx), (u, _nu), (y, na), (z, na), (g, na), (f, 1)):
                parts.append(sp.csr_matrix((n, width)) if mat is None else sp.csr_matrix(mat))
            return sp.hstack(parts, format="csr")

        eye = sp.identity(na, format="csr")
        add(row(u=m.A_pat, n=m.A_pat.shape[0]), 1.0, 1.0)
        add(row(x=m.A_link_x, u=m.A_link_u, n=m.A_link_x.shape[0]), 0.0, 0.0)
        uni = m.A_uni[np.flatnonzero(m.A_uni.getnnz(axis=1))]
        add(row(x=uni, n=uni.shape[0]), -np.inf, 1.0)
        add(row(x=-m.M, z=eye, n=na), -np.inf, d0a)  # z <= d0 + delivered
        add(row(x=-m.M_cap, z=eye, n=na), -np.inf, d0a)
        add(row(y=sp.diags(Dmin), z=-eye, n=na), -np.inf, 0.0)  # Dmin y <= z
        add(row(x=-m.S_cut, y=eye, n=na), -np.inf, y_pre)
        ei = E[None, :] * frac[:, None]
        rr = np.arange(ei.size)
        kk = np.tile(np.arange(na), frac.size)
        g_m = sp.csr_matrix((np.ones(ei.size), (rr, kk)), shape=(ei.size, na))
        z_m = sp.csr_matrix(((2 * ei / sc[None, :]).ravel(), (rr, kk)), shape=(ei.size, na))
        add(row(z=z_m, g=g_m, n=ei.size), (2 * ei * D[None, :] / sc[None, :] - ei**2).ravel(), np.inf)
        if spec.served == "squared" and na > 0:
            mm = np.arange(na, dtype=float)
            y_m = sp.csr_matrix(np.repeat((2 * mm + 1)[:, None], na, axis=1))
            add(row(y=y_m, f=np.ones((na, 1)), n=na), (2 * mm + 1) * (na - mm) + mm**2, np.inf)
        A = sp.vstack(blocks, format="coo")  # noqa: N806
        rows_coo.append(sp.coo_matrix((A.data, (A.row + n_row, A.col + col0))))
        n_row += A.shape[0]
        lo_all.append(np.concatenate(lo))
        hi_all.append(np.concatenate(hi))
        cost = np.zeros(n_col)
        cost[cg:cf] = w / S
        if spec.served == "squared":
            cost[cf] = 1.0 / S
        else:
            cost[cy:cz] = -1.0 / S
        cost_all.append(cost)
        c_lo = np.zeros(n_col)
        c_hi = np.ones(n_col)
        c_lo[cz:cg] = 0.0
        c_hi[cz:cg] = D
        c_hi[cg:cf] = np.inf
        c_hi[cf] = np.inf
        clo_all.append(c_lo)
        chi_all.append(c_hi)
        integ_all.append(np.r_[np.ones(cz, dtype=bool), np.zeros(n_col - cz, dtype=bool)])
        col0 += n_col
    # non-anticipativity: the slot-t link variables of every scenario equal those of scenario 0
    # (and, with a tree, the slot-t+1 variables of every scenario equal those of its branch's first)
    first0 = np.flatnonzero(models[0].xt == 0)
    na_rows, na_cols, na_vals = [], [], []
    r = n_row
    ties: list[tuple[int, int, int]] = [(s, 0, 0) for s in range(1, S)]
    if branch is not None:
        br = np.asarray(branch)
        br = br[:, None] if br.ndim == 1 else br
        if br.ndim != 2 or br.shape[0] != S:
            raise ValueError(f"branch must have shape ({S},) or ({S}, L), got {np.shape(branch)}")
        for lev in range(1, min(br.shape[1], T - t - 1) + 1):
            for s in range(S):
                s0 = int(np.flatnonzero(br[:, lev - 1] == br[s, lev - 1])[0])
                if s0 != s:
                    ties.append((s, s0, lev))
    for s, s0, slot in ties:
        m, m0 = models[s], models[s0]
        sel0 = np.flatnonzero(m0.xt == slot)
        key0 = {(int(m0.xj[i]), int(m0.xk[i]), int(m0.xp[i])): i for i in sel0}
        for i in np.flatnonzero(m.xt == slot):
            i0 = key0.get((int(m.xj[i]), int(m.xk[i]), int(m.xp[i])))
            if i0 is None:  # a link valid on this path only: it must be off
                na_rows += [r]
                na_cols += [offsets[s] + int(i)]
                na_vals += [1.0]
            else:
                na_rows += [r, r]
                na_cols += [offsets[s] + int(i), offsets[s0] + int(i0)]
                na_vals += [1.0, -1.0]
            r += 1
    if r > n_row:
        rows_coo.append(sp.coo_matrix((na_vals, (na_rows, na_cols))))
        lo_all.append(np.zeros(r - n_row))
        hi_all.append(np.zeros(r - n_row))
    A = sp.csr_matrix(  # noqa: N806
        (np.concatenate([c.data for c in rows_coo]),
         (np.concatenate([c.row for c in rows_coo]), np.concatenate([c.col for c in rows_coo]))),
        shape=(r, col0))
    lp = highspy.HighsLp()
    lp.num_col_ = col0
    lp.num_row_ = r
    lp.col_cost_ = np.concatenate(cost_all)
    lp.col_lower_ = np.concatenate(clo_all)
    lp.col_upper_ = np.concatenate(chi_all)
    lp.row_lower_ = np.concatenate(lo_all)
    lp.row_upper_ = np.concatenate(hi_all)
    if spec.served != "squared":
        lp.offset_ = float(na)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    integ = np.concatenate(integ_all)
    lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous for b in integ]
    lp.sense_ = highspy.ObjSense.kMinimize
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    h.passModel(lp)
    h.run()
    info = h.getInfo()
    group = -np.ones(J, dtype=np.int64)
    status = "time_limit"
    if info.primal_solution_status == 2:
        col = np.asarray(h.getSolution().col_value)
        x0 = col[offsets[0] + first0]
        on = first0[x0 > 0.5]
        group[models[0].xj[on]] = models[0].xk[on]
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            status = "optimal"
        obj = float(info.objective_function_value)
    else:
        status = "no_incumbent"
        obj = float("nan")
    dual = float(info.mip_dual_bound)
    return group, {"status": status, "objective": obj, "dual_bound": dual, "solve_time_s": time.perf_counter() - t0,
                   "n_scenarios": S, "n_col": int(col0), "n_row": int(r)}
