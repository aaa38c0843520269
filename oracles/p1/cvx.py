"""CVXPY reference for P1 (L1): exact conic model, built once per shape and reused (DPP).

Cells are served by one satellite, so the model has one (PRB, power, served-bits) triple per
(cell, fast slot) -- not per (satellite, cell, fast slot) -- and the association enters as a
parameter matrix of the pool constraints ``X @ n <= 1``, ``X @ p <= 1``.  Units are normalised
for conditioning: PRBs and power as shares of the serving satellite's pools, served bits as
fractions of the cell's demand, SNRs as ``ah = alpha P_max / N_PRB`` (the SNR of a PRB given
an equal power share).

The rate of a (cell, slot) in nats per PRB share, ``n log(1 + ah p / n)``, is written as::

    log(theta) n - rel_entr(n, n / theta + c_p p + c_q q),    q = ah p

``form="auto"`` (default) follows docs/model.md section 3: for ``ah < 1`` the textbook form
``-rel_entr(n, n + q)`` in the *received-SNR* variable ``q`` (``theta = 1, c_p = 0,
c_q = 1``); for ``ah >= 1`` the shifted form ``log(ah) n - rel_entr(n, n / ah + p)``
(``theta = ah, c_p = 1, c_q = 0``).  Either way the cone arguments are of the size of ``n``.
``form="textbook"`` (``theta = 1, c_p = ah``) and ``form="shifted"`` are kept for comparison
and as fallbacks.  All per-pair coefficients are elementwise parameters (cheap for DPP).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import cvxpy as cp
import numpy as np

from oracles.p1 import _kernels as k
from oracles.p1._validate import P1Data
from oracles.p1.result import P1BatchResult, evaluate_allocation

__all__ = ["solve_cvx", "P1SolverError", "TIGHT_CLARABEL", "build_problem"]

#: tight Clarabel settings used by the benchmark and the tests
TIGHT_CLARABEL: dict[str, Any] = {
    "tol_gap_abs": 1e-10,
    "tol_gap_rel": 1e-10,
    "tol_feas": 1e-10,
    "tol_ktratio": 1e-8,
    "max_iter": 200,
}

_OK = ("optimal", "optimal_inaccurate")
_FORMS = ("auto", "shifted", "textbook")


class P1SolverError(RuntimeError):
    """The conic solver failed (infeasible, unbounded or no solution) on a P1 instance."""


@dataclass
class _Model:
    problem: cp.Problem
    params: dict[str, cp.Parameter]
    n: cp.Variable
    p: cp.Variable
    pool_n: cp.Constraint
    pool_p: cp.Constraint


_CACHE: dict[tuple[int, int, int], _Model] = {}


def build_problem(S: int, C: int, M: int) -> _Model:
    """The DPP-compliant parametrised model for shape (S, C, M), cached."""
    key = (S, C, M)
    if key in _CACHE:
        return _CACHE[key]
    n = cp.Variable((C, M), nonneg=True, name="n")
    p = cp.Variable((C, M), nonneg=True, name="p")
    q = cp.Variable((C, M), nonneg=True, name="q")
    z = cp.Variable((C, M), nonneg=True, name="z")
    r = cp.Variable((C, M), name="r")
    u = cp.Variable(C, name="u")
    par = {
        "X": cp.Parameter((S, C), nonneg=True, name="X"),
        "H": cp.Parameter((C, M), nonneg=True, name="H"),
        "ah": cp.Parameter((C, M), nonneg=True, name="ah"),
        "logth": cp.Parameter((C, M), name="logth"),
        "ith": cp.Parameter((C, M), nonneg=True, name="ith"),
        "cp": cp.Parameter((C, M), nonneg=True, name="cp"),
        "cq": cp.Parameter((C, M), nonneg=True, name="cq"),
        "G": cp.Parameter((C, M), nonneg=True, name="G"),
        "Acum": cp.Parameter((C, M), nonneg=True, name="Acum"),
        "w": cp.Parameter(C, nonneg=True, name="w"),
        "eps": cp.Parameter(nonneg=True, name="eps"),
    }
    pool_n = par["X"] @ n <= 1
    pool_p = par["X"] @ p <= 1
    inner = cp.multiply(par["ith"], n) + cp.multiply(par["cp"], p) + cp.multiply(par["cq"], q)
    cons = [
        pool_n,
        pool_p,
        n <= par["H"],
        p <= par["H"],
        q == cp.multiply(par["ah"], p),
        r <= cp.multiply(par["logth"], n) - cp.rel_entr(n, inner),
        z <= cp.multiply(par["G"], r),
        cp.cumsum(z, axis=1) <= par["Acum"],
        u - par["eps"] <= cp.sum(z, axis=1),
        u >= par["eps"],
    ]
    prob = cp.Problem(cp.Maximize(par["w"] @ cp.log(u)), cons)
    if not prob.is_dcp(dpp=True):  # pragma: no cover - construction invariant
        raise RuntimeError("P1 reference model is not DPP")
    model = _Model(prob, par, n, p, pool_n, pool_p)
    _CACHE[key] = model
    return model


def _set_params(model: _Model, data: P1Data, b: int, form: str) -> tuple[np.ndarray, np.ndarray]:
    """Write batch item ``b`` into the parameters.

    Returns the serving satellite per cell and the mask of cells that can be served.
    """
    B, S, C, M = data.shape
    x = data.x[b]
    D = data.a[b].sum(axis=1)
    has_sat = x.any(axis=0)
    s_of = np.where(has_sat, x.argmax(axis=0), 0)
    Nc = data.N_PRB[b][s_of]
    Pc = data.P_max[b][s_of]
    g = np.broadcast_to(data.g[b, s_of, np.arange(C), :], (C, M))
    ah = g / (data.W_PRB * data.N0) * (Pc / Nc)[:, None]
    active = has_sat & (D > 0) & (ah > 0).any(axis=1)
    ah = np.where(active[:, None], ah, 0.0)
    pos = ah > 0
    zero = np.zeros_like(ah)
    if form == "auto":
        low = pos & (ah < 1.0)
        th = np.where(pos & ~low, ah, 1.0)
        cpv = np.where(pos & ~low, 1.0, 0.0)
        cqv = np.where(low, 1.0, 0.0)
    elif form == "textbook":
        th, cpv, cqv = np.ones_like(ah), ah, zero
    elif form == "shifted":
        th, cpv, cqv = np.where(pos, ah, 1.0), np.where(pos, 1.0, 0.0), zero
    else:
        raise ValueError(f"form: expected 'auto', 'textbook' or 'shifted', got {form!r}")
    Dsafe = np.where(D > 0, D, 1.0)
    P_ = model.params
    P_["X"].value = (x & active[None, :]).astype(float)
    P_["H"].value = np.repeat(active[:, None].astype(float), M, axis=1)
    P_["ah"].value = ah
    P_["logth"].value = np.log(th)
    P_["ith"].value = 1.0 / th
    P_["cp"].value = cpv
    P_["cq"].value = cqv
    P_["G"].value = np.repeat(
        np.where(active, data.bits_per_nat * Nc / Dsafe, 0.0)[:, None], M, axis=1
    )
    P_["Acum"].value = np.where(
        (D > 0)[:, None], np.cumsum(data.a[b], axis=1) / Dsafe[:, None], 0.0
    )
    P_["w"].value = np.where(D > 0, data.w[b], 0.0)
    P_["eps"].value = data.eps
    return s_of, active


def solve_cvx(
    data: P1Data,
    *,
    solver: str = "CLARABEL",
    form: str = "auto",
    tight: bool = False,
    raise_on_inaccurate: bool = False,
    fallback: bool = True,
    **solver_options: Any,
) -> P1BatchResult:
    """Solve a validated batch with the CVXPY reference, one cached problem per item.

    Parameters
    ----------
    data : P1Data
        Validated batch.
    solver : str
        Any installed CVXPY solver for exponential cones (``"CLARABEL"``, ``"SCS"``,
        ``"MOSEK"``, ``"ECOS"``).
    form : {"auto", "textbook", "shifted"}
        Rate formulation per (cell, slot), see the module docstring.
    tight : bool
        Use :data:`TIGHT_CLARABEL` tolerances (Clarabel only; merged under ``solver_options``).
    raise_on_inaccurate : bool
        Raise :class:`P1SolverError` on ``"optimal_inaccurate"`` too (it is otherwise reported in
        ``status`` and warned about).
    fallback : bool
        When the solver fails with ``form``, retry the other formulations (same cached
        model, other parameter values); ``info["form"]`` records the one that solved each
        item and ``info["cvx_solve_time_s"]`` includes the failed attempts.
    **solver_options
        Passed to ``problem.solve``.

    Returns
    -------
    P1BatchResult
        ``info["cvx_solve_time_s"]`` holds the time of each ``problem.solve`` call [s] (CVXPY
        overhead included); ``bound`` is the Lagrangian dual value at the solver's pool duals.

    Raises
    ------
    P1SolverError
        If the solver reports anything but an optimal status.
    """
    t0 = time.perf_counter()
    B, S, C, M = data.shape
    model = build_problem(S, C, M)
    opts = dict(solver_options)
    if tight and solver.upper() == "CLARABEL":
        opts = {**TIGHT_CLARABEL, **opts}
    n = np.zeros((B, S, C, M))
    p = np.zeros((B, S, C, M))
    lam = np.zeros((B, S, M))
    mu = np.zeros((B, S, M))
    status: list[str] = []
    iters = np.zeros(B, dtype=np.int64)
    times = np.zeros(B)
    forms = [form] + ([f for f in _FORMS if f != form] if fallback else [])
    used: list[str] = []
    for b in range(B):
        st = "solver_error"
        err = ""
        for fm in forms:
            s_of, active = _set_params(model, data, b, fm)
            ts = time.perf_counter()
            try:
                model.problem.solve(solver=solver, **opts)
                st = model.problem.status
            except cp.SolverError as exc:
                st, err = "solver_error", str(exc)
            times[b] += time.perf_counter() - ts
            if st in _OK and model.n.value is not None:
                break
        if st not in _OK or model.n.value is None:
            raise P1SolverError(
                f"batch item {b}: {solver} returned {st!r} with forms {forms} {err}".rstrip()
            )
        used.append(fm)
        if st == "optimal_inaccurate":
            if raise_on_inaccurate:
                raise P1SolverError(f"batch item {b}: {solver} returned 'optimal_inaccurate'")
            warnings.warn(
                f"P1 reference: batch item {b}: {solver} returned 'optimal_inaccurate'",
                RuntimeWarning,
                stacklevel=2,
            )
        status.append(st)
        stats = model.problem.solver_stats
        iters[b] = int(stats.num_iters) if stats is not None and stats.num_iters else 0
        x = data.x[b]
        nv = np.maximum(model.n.value, 0.0)
        pv = np.maximum(model.p.value, 0.0)
        cols = np.arange(C)
        has = x.any(axis=0) & active
        n[b, s_of[has], cols[has], :] = nv[has] * data.N_PRB[b][s_of[has], None]
        p[b, s_of[has], cols[has], :] = pv[has] * data.P_max[b][s_of[has], None]
        dn = model.pool_n.dual_value
        dp = model.pool_p.dual_value
        if dn is not None and dp is not None:
            lam[b] = np.maximum(np.asarray(dn), 0.0) / data.N_PRB[b][:, None]
            mu[b] = np.maximum(np.asarray(dp), 0.0) / data.P_max[b][:, None]
        else:  # pragma: no cover - solvers without duals
            lam[b] = np.nan
            mu[b] = np.nan
    ev = evaluate_allocation(data, n, p, project=True)
    U = ev["utility"]
    if np.isfinite(lam).all():
        bound = k.bound_kernel(
            data.x,
            data.a,
            data.g,
            data.N_PRB,
            data.P_max,
            1.0 / (data.W_PRB * data.N0),
            data.bits_per_nat,
            data.eps,
            data.w,
            lam,
            mu,
        )
        gap = np.maximum(bound - U, 0.0) / np.maximum(np.abs(U), 1e-300)
    else:  # pragma: no cover
        bound = np.full(B, np.nan)
        gap = np.full(B, np.nan)
    return P1BatchResult(
        n=n,
        p=p,
        z=ev["z"],
        xi=ev["xi"],
        utility=U,
        status=status,
        zero_demand=ev["zero_demand"],
        no_satellite=ev["no_satellite"],
        bound=bound,
        gap=gap,
        iterations=iters,
        solve_time_s=time.perf_counter() - t0,
        max_violation=ev["max_violation"],
        method="cvx",
        utility_continuous=U.copy(),
        rounding_loss=np.zeros(B),
        lam=lam,
        mu=mu,
        info={
            "cvx_solve_time_s": times,
            "raw_violation": ev["raw_violation"],
            "solver": solver,
            "form": np.array(used),
        },
    )
