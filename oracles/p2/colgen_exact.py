"""The integer master over generated columns with the MILP's exact model (small problems, tests).

:func:`envelope_master` solves the restricted master of :mod:`oracles.p2.colgen` with the
shares and the tangent envelope of :mod:`oracles.p2.milp`; over *all* paths it equals the MILP's
optimum.  It lives apart from :mod:`oracles.p2.colgen` because the MILP module warm-starts from
the Lagrangian solver, which uses column generation (no import cycle).
"""

from __future__ import annotations

import time

import numpy as np

from oracles.p2.colgen import ColumnPool, _handovers, _new_highs
from oracles.p2.problem import Problem

__all__ = ["envelope_master"]


def envelope_master(
    problem: Problem,
    pool: ColumnPool,
    start_path: np.ndarray | None = None,
    *,
    n_cuts: int = 48,
    time_limit: float = 60.0,
    mip_rel_gap: float = 1e-4,
    threads: int | None = 1,
) -> tuple[np.ndarray, dict]:
    """Integer restricted master with the coupled proxy's service modelled as in the MILP.

    Columns are the distinct paths of ``pool`` (binary ``z``); ``x[c, l, k] = sum z`` over the
    paths of ``c`` on ``l`` in ``k`` replaces the MILP's association binaries, and the shares
    ``q``, the pool rows and the tangent envelope of ``log(eps + xi)`` are those of
    :mod:`oracles.p2.milp`.  Over *all* budget-feasible paths its optimum is the MILP's; it
    grows with the number of cell-slots times ``n_cuts``, so it is meant for small problems
    and for checking :func:`integer_master`'s linear overflow model.

    Returns
    -------
    path_l : ndarray of int, shape (C, K)
        Best association found (``start_path`` when HiGHS found none).
    info : dict
        HiGHS status, ``objective`` and ``bound`` (envelope model), ``paths``.
    """
    from oracles.p2.milp import _Rows, add_log_block

    t0 = time.perf_counter()
    p = problem
    C, K = p.C, p.K  # noqa: N806
    kk = np.arange(K)
    cells: list[int] = []
    paths: list[np.ndarray] = []
    seen: set[bytes] = set()
    extra = [] if start_path is None else [(c, np.asarray(start_path[c], np.int64)) for c in range(C)]
    for c, pc in extra + list(zip(pool.cell, pool.path, strict=True)):
        key = int(c).to_bytes(4, "little") + pc.tobytes()
        if key not in seen:
            seen.add(key)
            cells.append(int(c))
            paths.append(pc)
    n = len(paths)
    P = np.asarray(paths)  # noqa: N806
    cl = np.asarray(cells)
    # (c, l, k) pairs used by some path and their q columns
    trip = np.stack([np.repeat(cl, K), P.ravel(), np.tile(kk, n)], axis=1)
    upairs, inv = np.unique(trip, axis=0, return_inverse=True)
    inv = inv.ravel()
    pc_, pl_, pk_ = upairs[:, 0], upairs[:, 1], upairs[:, 2]
    wq = p.w[pc_, pl_, pk_]
    has_q = (wq > 0) & np.isfinite(wq)
    qcol = np.full(upairs.shape[0], -1, np.int64)
    qcol[has_q] = n + np.arange(int(has_q.sum()))
    ncol = n + int(has_q.sum())
    rows = _Rows()
    rows.add(cl, np.arange(n), np.ones(n), C, np.ones(C), np.ones(C))
    # q - cap * sum z <= 0
    qp = np.nonzero(has_q)[0]
    rid = np.full(upairs.shape[0], -1, np.int64)
    rid[qp] = np.arange(qp.size)
    cap = np.minimum(1.0, 1.0 / wq[qp])
    zj = np.repeat(np.arange(n), K)
    on = rid[inv] >= 0
    rows.add(np.concatenate([np.arange(qp.size), rid[inv][on]]),
             np.concatenate([qcol[qp], zj[on]]),
             np.concatenate([np.ones(qp.size), -cap[rid[inv][on]]]),
             qp.size, np.full(qp.size, -np.inf), np.zeros(qp.size))
    # pools with at least two pairs
    sat = p.cand[pc_[qp], pl_[qp]]
    key = sat * K + pk_[qp]
    _, pinv, counts = np.unique(key, return_inverse=True, return_counts=True)
    keep = counts[pinv] >= 2
    ukeep, prid = np.unique(pinv[keep], return_inverse=True)
    rows.add(prid, qcol[qp][keep], wq[qp][keep], ukeep.size, np.full(ukeep.size, -np.inf), np.ones(ukeep.size))
    # log envelope per cell-slot with demand: xi <= sum_l q
    D = p.D  # noqa: N806
    pos_c, pos_k = np.nonzero(D > 0)
    m = pos_c.size
    ridx = np.full((C, K), -1, np.int64)
    ridx[pos_c, pos_k] = np.arange(m)
    lr = ridx[pc_[qp], pk_[qp]]
    ok = lr >= 0
    n_base = ncol
    blk, ncol = add_log_block(rows, ncol, m, p.eps, n_cuts, "segments", lr[ok], qcol[qp][ok], np.ones(int(ok.sum())))
    lo = np.zeros(ncol)
    hi = np.ones(ncol)
    cost = np.zeros(ncol)
    cost[:n] = -p.lambda_h * _handovers(P, p.init_l[cl]).astype(float)
    hi[qcol[qp]] = cap
    lo[n_base:] = blk.lo
    hi[n_base:] = blk.hi
    cost[n_base:] = blk.cost
    lp = rows.to_lp(ncol, cost, lo, hi, n, blk.offset)
    h = _new_highs(threads)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.passModel(lp)
    h.run()
    info = h.getInfo()
    x = np.asarray(h.getSolution().col_value)
    path = (np.asarray(start_path, np.int64).copy() if start_path is not None
            else np.full((C, K), -1, np.int64))
    if x.size == ncol and info.primal_solution_status == 2:
        best = np.full(C, -1.0)
        for j in range(n):
            if x[j] > best[cells[j]]:
                best[cells[j]] = x[j]
                path[cells[j]] = paths[j]
    return path, {"status": h.modelStatusToString(h.getModelStatus()),
                  "objective": info.objective_function_value, "bound": info.mip_dual_bound,
                  "paths": n, "time_s": time.perf_counter() - t0}
