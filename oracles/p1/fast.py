"""Fast exact P1 solver (L2): closed forms where they apply, a structured interior point elsewhere.

Cells are served by exactly one satellite, so a slow slot splits into independent per-satellite
problems.  Each is solved in normalised units by :mod:`oracles.p1._kernels` and certified by the
value of its Lagrangian dual at the solver's pool prices.  See ``docs/p1.md``.
"""

from __future__ import annotations

import math
import os
import threading
import time
from typing import Any

import numpy as np

from oracles.p1 import _kernels as k
from oracles.p1._validate import P1Data
from oracles.p1.result import P1BatchResult, scores

__all__ = ["solve_fast", "allocate", "FAST_DEFAULTS", "THREADS", "THREADS_MIN_PAIRS"]

#: default options of the fast solver (override through ``**solver_options``)
FAST_DEFAULTS: dict[str, Any] = {
    # interior point: each of the q interior-point satellites of a batch item stops at a
    # surrogate gap <= tol * |U| / q, U the item's utility (see _kernels.solve_kernel)
    "tol": 1e-7,
    "target_gap": 1e-6,  # certified relative gap up to which the status is "optimal"
    "mu_factor": 10.0,  # interior point: t = mu_factor * m / surrogate gap
    "max_iter": 200,  # interior-point iterations per satellite
    "force_ipm": False,  # skip the closed form (testing)
    # binding causality: try a free prefix + uniform-price suffix before the interior point
    # (exact when it attains its dual bound; False: the previous path, interior point only)
    "nested": True,
}


def _check_options(opt: dict[str, Any]) -> None:
    if not 0.0 < float(opt["tol"]) < 1.0:
        raise ValueError(f"solver_options: tol must be in (0, 1), got {opt['tol']}")
    if not float(opt["target_gap"]) > 0.0:
        raise ValueError(f"solver_options: target_gap must be > 0, got {opt['target_gap']}")


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
    _check_options(opt)
    n, p, lam, mu, status, iters, _, bound, _, z, served, D, no_sat, vb, va = k.solve_kernel(
        data.x,
        data.a,
        data.g,
        data.N_PRB,
        data.P_max,
        1.0 / (data.W_PRB * data.N0),
        data.bits_per_nat,
        data.eps,
        data.w,
        bool(opt["force_ipm"]),
        bool(opt["nested"]),
        float(opt["tol"]),
        float(opt["mu_factor"]),
        int(opt["max_iter"]),
        float(opt["target_gap"]),
    )
    ev = scores(data, z, served, D, no_sat, vb, va)
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


#: default of :func:`allocate`'s ``threads``: ``"auto"`` runs the (batch item, satellite)
#: pairs on numba's threads when there are at least :data:`THREADS_MIN_PAIRS` of them and the
#: machine has an idle core (1-minute load average below ``cpu_count - 0.5``); True / False
#: force it.  Default False: the threaded kernel compiles for 60-150 s on a cold cache (a fresh
#: CI machine is idle, so "auto" would pick it in every vector test); opt in with "auto"/True
THREADS: bool | str = False
THREADS_MIN_PAIRS = 32
_LOAD_CHECK = [0.0, False]  # time of the last load check [s], its answer
# numba's default (workqueue) threading layer must not run two parallel kernels at once: a
# second Python thread that finds the threaded kernel busy takes the serial one
_PARALLEL_LOCK = threading.Lock()


def _threads_on(pairs: int, threads: bool | str | None) -> bool:
    if threads is None:
        threads = THREADS
    if threads != "auto":
        return bool(threads)
    if pairs < THREADS_MIN_PAIRS:
        return False
    now = time.monotonic()
    if now - _LOAD_CHECK[0] > 1.0:  # /proc/loadavg at most once a second
        ncpu = os.cpu_count() or 1
        try:
            idle = ncpu > 1 and os.getloadavg()[0] < ncpu - 0.5
        except OSError:  # pragma: no cover - no load average on this platform
            idle = False
        _LOAD_CHECK[0] = now
        _LOAD_CHECK[1] = idle
    return bool(_LOAD_CHECK[1])


def allocate(
    assoc: np.ndarray,
    a: np.ndarray,
    g: np.ndarray,
    *,
    N_PRB: np.ndarray,  # noqa: N803
    P_max: np.ndarray,  # noqa: N803
    W_PRB: float,  # noqa: N803
    N0: float,  # noqa: N803
    T_f: float,  # noqa: N803
    eps: float = 1e-4,
    nested: bool | None = None,
    threads: bool | str | None = None,
    check_finite: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Lean entry point for the environment: satisfaction and served bits only.

    Same solver, options (:data:`FAST_DEFAULTS`) and numbers as :func:`oracles.p1.solve_batch`
    with ``method="fast"`` and unit weights, without input validation and without building
    result objects.  The caller guarantees valid input (finite, non-negative arrays of the
    shapes below, positive pools and constants).

    Parameters
    ----------
    assoc : ndarray of int, shape (B, C)
        Serving satellite of every cell (``-1``: none).
    a : ndarray, shape (B, C, M)
        Arrivals [bit per fast slot].
    g : ndarray, shape (B, S, C) or (B, S, C, M)
        Linear gains (per fast slot with fading).
    N_PRB, P_max : ndarray, shape (B, S)
        Pools per fast slot [PRB], [W].
    W_PRB, N0, T_f, eps : float
        PRB bandwidth [Hz], noise PSD [W/Hz], fast-slot length [s], utility offset.
    nested : bool, optional
        The ``nested`` option of :data:`FAST_DEFAULTS` (default: its value there).
    threads : bool or "auto", optional
        Solve on numba's threads (:func:`oracles.p1._kernels.allocate_parallel`: the
        (item, satellite) pairs in parallel; same numbers, bit for bit).  Default
        :data:`THREADS` (``"auto"``: only with at least :data:`THREADS_MIN_PAIRS` pairs
        ``B * S`` while the machine has an idle core).
    check_finite : bool
        Raise ``ValueError`` on non-finite arrays or constants (checked inside the kernel).

    Returns
    -------
    xi : ndarray, shape (B, C)
        Satisfaction (``nan`` for cells without demand).
    served : ndarray, shape (B, C)
        Served bits over the slot [bit].
    """
    a = np.ascontiguousarray(a, dtype=float)
    g = np.ascontiguousarray(g, dtype=float)
    if g.ndim == 3:
        g = g[..., None]
    opt = FAST_DEFAULTS
    args = (
        np.ascontiguousarray(assoc, dtype=np.int64),
        a,
        g,
        np.ascontiguousarray(N_PRB, dtype=float),
        np.ascontiguousarray(P_max, dtype=float),
        1.0 / (W_PRB * N0),
        T_f * W_PRB / math.log(2.0),
        float(eps),
        bool(opt["nested"] if nested is None else nested),
        float(opt["tol"]),
        float(opt["mu_factor"]),
        int(opt["max_iter"]),
        float(opt["target_gap"]),
        bool(check_finite),
    )
    if not (_threads_on(a.shape[0] * g.shape[1], threads) and _PARALLEL_LOCK.acquire(False)):
        return k.allocate_kernel(*args)
    try:
        return k.allocate_parallel(*args)
    finally:
        _PARALLEL_LOCK.release()
