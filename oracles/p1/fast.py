"""Fast exact P1 solver (L2): closed form where it applies, a structured interior point elsewhere.

Cells are served by exactly one satellite, so a slow slot splits into independent per-satellite
problems.  Each is solved in normalised units by :mod:`oracles.p1._kernels` and certified by the
value of its Lagrangian dual at the solver's pool prices.  See ``docs/p1.md``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from oracles.p1 import _kernels as k
from oracles.p1._validate import P1Data
from oracles.p1.result import P1BatchResult, evaluate_allocation

__all__ = ["solve_fast", "FAST_DEFAULTS"]

#: default options of the fast solver (override through ``**solver_options``)
FAST_DEFAULTS: dict[str, Any] = {
    "tol": 1e-9,  # interior point: stop at surrogate gap <= tol * max(1, |U|) per satellite
    "target_gap": 1e-6,  # certified relative gap up to which the status is "optimal"
    "mu_factor": 10.0,  # interior point: t = mu_factor * m / surrogate gap
    "max_iter": 200,  # interior-point iterations per satellite
    "force_ipm": False,  # skip the closed form (testing)
}


def solve_fast(data: P1Data, **options: Any) -> P1BatchResult:
    """Solve a validated batch with the fast exact solver.

    Parameters
    ----------
    data : P1Data
        Validated batch (see :func:`oracles.p1._validate.canonicalize`).
    **options
        Overrides of :data:`FAST_DEFAULTS`.

    Returns
    -------
    P1BatchResult
    """
    if options:
        unknown = set(options) - set(FAST_DEFAULTS)
        if unknown:
            raise ValueError(
                f"solver_options: unknown option(s) for method='fast': {sorted(unknown)}"
            )
        opt = {**FAST_DEFAULTS, **options}
    else:
        opt = FAST_DEFAULTS
    t0 = time.perf_counter()
    B = data.x.shape[0]
    if not 0.0 < float(opt["tol"]) < 1.0:
        raise ValueError(f"solver_options: tol must be in (0, 1), got {opt['tol']}")
    args = (
        data.x,
        data.a,
        data.g,
        data.N_PRB,
        data.P_max,
        1.0 / (data.W_PRB * data.N0),
        data.bits_per_nat,
        data.eps,
        data.w,
    )
    n, p, lam, mu, status, iters, ubs, nsh, psh, fixed = k.solve_batch_kernel(
        *args, bool(opt["force_ipm"])
    )
    if (status == k.ST_PENDING).any():
        pend = np.argwhere(status == k.ST_PENDING)
        k.solve_pending_kernel(
            *args,
            float(opt["tol"]),
            float(opt["mu_factor"]),
            int(opt["max_iter"]),
            pend.astype(np.int64),
            nsh,
            psh,
            n,
            p,
            lam,
            mu,
            status,
            iters,
            ubs,
        )
    bound = ubs.sum(axis=1) + fixed
    ev = evaluate_allocation(data, n, p, project=True)
    U = ev["utility"]
    gap = np.maximum(bound - U, 0.0) / np.maximum(np.abs(U), 1e-300)
    bad = gap > opt["target_gap"]
    stat = ["optimal_inaccurate" if bb else "optimal" for bb in bad.tolist()]
    elapsed = time.perf_counter() - t0
    return P1BatchResult(
        n=n,
        p=p,
        z=ev["z"],
        xi=ev["xi"],
        utility=U,
        status=stat,
        zero_demand=ev["zero_demand"],
        no_satellite=ev["no_satellite"],
        bound=bound,
        gap=gap,
        iterations=iters.sum(axis=1),
        solve_time_s=elapsed,
        max_violation=ev["max_violation"],
        method="fast",
        utility_continuous=U.copy(),
        rounding_loss=np.zeros(B),
        lam=lam,
        mu=mu,
        info={"path": status, "raw_violation": ev["raw_violation"]},
    )
