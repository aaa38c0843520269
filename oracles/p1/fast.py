"""Fast exact P1 solver (L2): closed forms where they apply, a structured interior point elsewhere.

Cells are served by exactly one satellite, so a slow slot splits into independent per-satellite
problems.  Each is solved in normalised units by :mod:`oracles.p1._kernels` and certified by the
value of its Lagrangian dual at the solver's pool prices.  See ``docs/p1.md``.
"""

from __future__ import annotations

import math
import os
import queue
import threading
import time
from typing import Any

import numba
import numpy as np

from oracles.p1 import _kernels as k
from oracles.p1._validate import P1Data
from oracles.p1.result import P1BatchResult, scores

__all__ = [
    "solve_fast",
    "allocate",
    "spare_cores",
    "FAST_DEFAULTS",
    "THREADS",
    "THREADS_MIN_PAIRS",
]

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


#: default of :func:`allocate`'s ``threads``: ``"auto"`` runs a batch on the caller's thread
#: plus helper threads when it has at least :data:`THREADS_MIN_PAIRS` (item, satellite) pairs
#: and other processes leave a core idle (:func:`spare_cores`); True / False force it.
#: The helpers run the serial kernel's own compiled entry points (``thread_setup``,
#: ``thread_worker``), so they add ~2 s to a cold numba cache, not a separate compile
THREADS: bool | str = "auto"
THREADS_MIN_PAIRS = 32
#: ``"auto"`` adds one helper thread per this many spare cores' worth of idle time ...
THREADS_SPARE = 0.6
#: ... and at most this many helpers (None: ``min(cpu_count, numba.get_num_threads()) - 1``)
THREADS_MAX_HELPERS: int | None = None
# a second Python thread that finds the helpers busy runs the batch alone
_HELPER_LOCK = threading.Lock()
_HELPERS: list[_Helper] = []
# last /proc/stat sample: time [s], busy and total jiffies of all CPUs, own CPU time [s];
# and the answer of spare_cores() over the interval before it
_CPU = {"t": 0.0, "busy": 0.0, "total": 0.0, "own": 0.0, "spare": 0.0}
_CPU_INTERVAL_S = 0.5


class _Helper:
    """A daemon thread that runs :func:`oracles.p1._kernels.thread_worker` calls it is given."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        threading.Thread(target=self._loop, name="p1-helper", daemon=True).start()

    def _loop(self) -> None:
        while True:
            args = self.jobs.get()
            k.thread_worker(*args)
            del args  # do not keep the last batch's arrays alive while idle


def _proc_stat() -> tuple[float, float] | None:
    """Busy and total jiffies of all CPUs (``/proc/stat``), or None where unavailable."""
    try:
        with open("/proc/stat", "rb") as fh:
            vals = [float(v) for v in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    total = sum(vals)
    return total - vals[3] - vals[4], total  # idle and iowait are not busy


def spare_cores(now: float | None = None) -> float:
    """Cores that other processes left idle, beyond one for this process [cores].

    Measured over the last interval of at least 0.5 s from ``/proc/stat`` (all CPUs' busy
    time minus this process's own CPU time, so that its helper threads do not count); without
    ``/proc/stat`` from the 1-minute load average.  Read at most every 0.5 s; 0 until a first
    interval has passed.
    """
    now = time.monotonic() if now is None else now
    if now - _CPU["t"] < _CPU_INTERVAL_S:
        return _CPU["spare"]
    ncpu = os.cpu_count() or 1
    own = time.process_time()
    st = _proc_stat()
    if st is None:
        try:
            spare = ncpu - max(os.getloadavg()[0], 1.0)
        except OSError:  # pragma: no cover - no load average on this platform
            spare = 0.0
    elif _CPU["t"] > 0.0 and st[1] > _CPU["total"]:
        busy_cores = ncpu * (st[0] - _CPU["busy"]) / (st[1] - _CPU["total"])
        others = busy_cores - (own - _CPU["own"]) / (now - _CPU["t"])
        spare = ncpu - 1.0 - max(others, 0.0)
    else:
        spare = 0.0
    if st is not None:
        _CPU["busy"], _CPU["total"] = st
    _CPU.update(t=now, own=own, spare=spare)
    return spare


def _helpers_wanted(pairs: int, threads: bool | str | None) -> int:
    """Helper threads for a batch of ``pairs`` (item, satellite) pairs (0: run it alone)."""
    if threads is None:
        threads = THREADS
    if not threads or (threads == "auto" and pairs < THREADS_MIN_PAIRS):
        return 0  # before os.cpu_count() (~3 us): the scalar env's path
    # numba's thread count caps the team too (leo_env.parallel sets it to 1 in its workers)
    cap = min(os.cpu_count() or 1, numba.get_num_threads()) - 1
    most = cap if THREADS_MAX_HELPERS is None else THREADS_MAX_HELPERS
    if threads != "auto":
        return max(most, 1)
    return min(most, int(spare_cores() / THREADS_SPARE))


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
        Run the batch on this thread plus helper threads
        (:func:`oracles.p1._kernels.thread_worker`: the (item, satellite) pairs, interior
        points and items go to whichever thread is free; same numbers, bit for bit).  Default
        :data:`THREADS` (``"auto"``: only with at least :data:`THREADS_MIN_PAIRS` pairs
        ``B * S``, one helper per :data:`THREADS_SPARE` of a core that other processes
        leave idle, :func:`spare_cores`; at most ``min(cpu_count, numba.get_num_threads()) - 1``
        helpers); True: that many helpers (at least one).
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
        # writable C arrays always: a read-only array is another numba type (the whole
        # solver would compile once more on a cold cache for the environment's read-only tables)
        np.require(N_PRB, dtype=float, requirements=("C", "W")),
        np.require(P_max, dtype=float, requirements=("C", "W")),
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
    helpers = _helpers_wanted(a.shape[0] * g.shape[1], threads)
    if helpers == 0 or not _HELPER_LOCK.acquire(False):
        return k.allocate_kernel(*args)
    try:
        return _allocate_threads(args, helpers)
    finally:
        _HELPER_LOCK.release()


#: team size (threads that took part) of the last threaded :func:`allocate` call
LAST_TEAM = [0]


def _allocate_threads(args: tuple[Any, ...], helpers: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`oracles.p1._kernels.allocate_kernel` on this thread plus ``helpers`` helpers.

    The helpers take part as soon as they start; one that starts late (a busy machine) is not
    waited for (see :func:`oracles.p1._kernels._stages`).
    """
    while len(_HELPERS) < helpers:
        _HELPERS.append(_Helper())
    assoc, a, g, N, P, scale, K, eps, nested, tol, mu_factor, max_iter, target_gap, check = args
    st = k.thread_setup(assoc, a, g, N, P, scale, K, eps, check)
    work = (st[0], a, g, N, P, scale, K, eps, st[1], nested, tol, mu_factor, max_iter,
            target_gap, *st[2:])  # fmt: skip
    for tid in range(1, helpers + 1):
        _HELPERS[tid - 1].jobs.put((*work, tid))
    LAST_TEAM[0] = k.thread_worker(*work, 0)
    served, demand = st[16], st[17]
    return k.satisfaction_kernel(served, demand), served
