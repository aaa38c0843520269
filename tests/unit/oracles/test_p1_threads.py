"""Fast P1 solver: the batch on helper threads (session 22; bit-identical), the in-kernel finiteness
check of the environment's entry point, and the interior point's split residual.
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest

from oracles.p1 import _kernels as k
from oracles.p1 import solve_batch
from oracles.p1.fast import allocate
from oracles.p1.instances import PHYSICAL

PHY = dict(PHYSICAL)


def _env_batch(seed: int, B: int = 20, S: int = 4, C: int = 12, M: int = 10):
    """A batch like the environment's: random associations, Poisson-like arrivals, mixed load."""
    rng = np.random.default_rng(seed)
    assoc = rng.integers(-1, S, size=(B, C))
    a = rng.poisson(8.0, size=(B, C, M)).astype(float) * rng.uniform(200, 4000, size=(B, C, 1))
    a[rng.random((B, C)) < 0.1] = 0.0  # some cells without demand
    a[:, :, :3] *= rng.random((B, C, 1)) < 0.5  # back-loaded cells: causality binds
    snr_db = rng.uniform(-25, 10, size=(B, S, C))
    N = np.full((B, S), 100.0)
    P = np.full((B, S), 100.0)
    g = 10 ** (snr_db / 10) * PHY["W_PRB"] * PHY["N0"] * N[..., None] / P[..., None]
    return assoc, a, g, N, P


@pytest.mark.parametrize("seed", [0, 1], ids=["seed0", "seed1"])
def test_threads_bit_identical_and_match_solve_batch(seed):
    """``threads=True`` gives the serial kernel's numbers bit for bit, and solve_batch's."""
    assoc, a, g, N, P = _env_batch(seed)
    xs, ss = allocate(assoc, a, g, N_PRB=N, P_max=P, **PHY, threads=False)
    xp, sp = allocate(assoc, a, g, N_PRB=N, P_max=P, **PHY, threads=True)
    np.testing.assert_array_equal(xs, xp)
    np.testing.assert_array_equal(ss, sp)
    B, S = N.shape
    x = np.zeros((B, S, assoc.shape[1]))
    b_, c_ = np.nonzero(assoc >= 0)
    x[b_, assoc[b_, c_], c_] = 1.0
    ref = solve_batch(x, a, g, N_PRB=N, P_max=P, **PHY)
    np.testing.assert_array_equal(xs, ref.xi)
    assert (ref.gap <= 1e-6).all()
    # the batch exercises the closed form, the everybody-served path and the interior point
    path = ref.info["path"]
    assert (path == k.ST_CLOSED).any() and ((path == k.ST_IPM) | (path == k.ST_SPLIT)).any()


def _worker_args(seed: int, B: int = 12):
    assoc, a, g, N, P = _env_batch(seed, B=B)
    scale = 1.0 / (PHY["W_PRB"] * PHY["N0"])
    K = PHY["T_f"] * PHY["W_PRB"] / math.log(2.0)
    g = np.ascontiguousarray(g[..., None])
    serial = k.allocate_kernel(
        assoc, a, g, N, P, scale, K, 1e-4, True, 1e-7, 10.0, 200, 1e-6, False
    )
    st = k.thread_setup(assoc, a, g, N, P, scale, K, 1e-4, False)
    work = (st[0], a, g, N, P, scale, K, 1e-4, st[1], True, 1e-7, 10.0, 200, 1e-6, *st[2:])
    return serial, st, work


@pytest.mark.parametrize("seed", [3, 4], ids=["seed3", "seed4"])
def test_team_of_two_shares_the_work_bit_identically(seed):
    """A helper that joins first (deterministic team of two): the same numbers as the serial
    kernel, whichever thread ran which pair, job and item."""
    serial, st, work = _worker_args(seed)
    ctr = st[-1]
    helper = threading.Thread(target=k.thread_worker, args=(*work, 1))
    helper.start()
    while ctr[0] < 1:  # the helper has joined (it may already be waiting for thread 0)
        time.sleep(1e-4)
    team = k.thread_worker(*work, 0)
    helper.join()
    assert team == 2
    np.testing.assert_array_equal(st[16], serial[1])  # served bits
    np.testing.assert_array_equal(k.satisfaction_kernel(st[16], st[17]), serial[0])


def test_late_helper_is_not_waited_for():
    """A helper that starts after thread 0 closed the team returns at once, changing nothing."""
    serial, st, work = _worker_args(5)
    assert k.thread_worker(*work, 0) == 1
    before = st[16].copy()
    assert k.thread_worker(*work, 1) == 0
    np.testing.assert_array_equal(st[16], before)
    np.testing.assert_array_equal(before, serial[1])


@pytest.mark.parametrize("threads", [False, True], ids=["serial", "threads"])
@pytest.mark.parametrize("field", ["a", "g", "N", "W_PRB"])
def test_check_finite_raises(threads, field):
    assoc, a, g, N, P = _env_batch(2, B=16)
    kw = dict(PHY)
    if field == "a":
        a[3, 2, 1] = np.nan
    elif field == "g":
        g[0, 1, 4] = np.inf
    elif field == "N":
        N[5, 0] = np.nan
    else:
        kw["W_PRB"] = np.inf
    with pytest.raises(ValueError, match="non-finite input"):
        allocate(assoc, a, g, N_PRB=N, P_max=P, **kw, threads=threads, check_finite=True)


def test_threads_auto_switch(monkeypatch):
    """``"auto"``: helpers only with many (item, satellite) pairs and cores that other
    processes leave idle (``/proc/stat`` minus this process's own CPU time)."""
    import oracles.p1.fast as fast

    monkeypatch.setattr(fast.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(fast.numba, "get_num_threads", lambda: 2)
    monkeypatch.setattr(fast, "THREADS_MAX_HELPERS", None)
    clock = {"own": 0.0, "now": 0.0}
    monkeypatch.setattr(fast.time, "process_time", lambda: clock["own"])
    monkeypatch.setattr(fast.time, "monotonic", lambda: clock["now"])
    stat = {"busy": 0.0, "total": 0.0}
    monkeypatch.setattr(fast, "_proc_stat", lambda: (stat["busy"], stat["total"]))

    def spare_after(busy_cores: float, own_cores: float, t: float) -> float:
        # one second: 200 jiffies on two CPUs, busy_cores of them busy; own_cores ours
        stat["busy"] += 100.0 * busy_cores
        stat["total"] += 200.0
        clock["own"] += own_cores
        clock["now"] = t
        return fast.spare_cores()

    monkeypatch.setattr(
        fast, "_CPU", {"t": 0.0, "busy": 0.0, "total": 0.0, "own": 0.0, "spare": 0.0}
    )
    assert spare_after(1.0, 1.0, 10.0) == 0.0  # first sample: no interval yet
    assert spare_after(1.0, 1.0, 11.0) == pytest.approx(1.0)  # only this process: one core spare
    assert fast._helpers_wanted(256, "auto") == 1 and fast._helpers_wanted(4, "auto") == 0
    assert spare_after(2.0, 2.0, 12.0) == pytest.approx(1.0)  # its own helper does not count
    assert spare_after(2.0, 1.0, 13.0) == pytest.approx(0.0)  # another process on the other core
    assert fast._helpers_wanted(256, "auto") == 0
    assert spare_after(2.0, 0.0, 13.2) == pytest.approx(0.0)  # within 0.5 s: the last answer
    assert fast._helpers_wanted(1, True) == 1 and fast._helpers_wanted(256, False) == 0
    monkeypatch.setattr(fast.numba, "get_num_threads", lambda: 1)  # a worker pinned to 1
    spare_after(0.0, 0.0, 14.0)
    assert spare_after(0.0, 0.0, 15.0) == pytest.approx(1.0)  # idle, yet numba's cap: none
    assert fast._helpers_wanted(256, "auto") == 0


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["seed0", "seed1", "seed2"])
def test_residual_parts_bit_identical(seed):
    """The interior point's split residual (rates evaluated once per point) gives
    :func:`_residual`'s and :func:`_surrogate_gap`'s numbers to the last bit, at any ``t``."""
    rng = np.random.default_rng(seed)
    nc, M = 5, 7
    ah = rng.uniform(1.0, 50.0, (nc, M))
    G = rng.uniform(0.2, 2.0, nc)
    w = rng.uniform(0.5, 2.0, nc)
    ainc = rng.dirichlet(np.ones(M), nc)
    Acum = np.cumsum(ainc, axis=1)
    Acum[:, -1] = 1.0
    n = rng.uniform(0.5, 1.0, (nc, M)) / (nc + 1)
    p = rng.uniform(0.5, 1.0, (nc, M)) / (nc + 1)
    rate = G[:, None] * n * np.log1p(ah * p / n)
    y = np.empty((nc, M))  # strictly feasible: half the rate, 90 % of the arrivals
    prev = np.zeros(nc)
    for m in range(M):
        prev = y[:, m] = np.minimum(prev + 0.5 * rate[:, m], 0.9 * Acum[:, m])
    lr, ln_, lp, ly = (rng.uniform(0.1, 3.0, (nc, M)) for _ in range(4))
    lN, lP = rng.uniform(0.1, 3.0, M), rng.uniform(0.1, 3.0, M)
    prods = [np.empty((nc, M)) for _ in range(4)] + [np.empty(M), np.empty(M)]
    rd = k._residual_parts(n, p, y, ah, Acum, G, w, 1e-4, lr, ln_, lp, ly, lN, lP, *prods)
    assert np.isfinite(rd)
    for t in (1.0, 37.5, 1e6):
        ref, _ = k._residual(n, p, y, ah, Acum, G, w, 1e-4, t, lr, ln_, lp, ly, lN, lP)
        assert rd + k._rc(t, *prods) == ref
    assert k._gap_of(*prods) == k._surrogate_gap(n, p, y, ah, Acum, G, lr, ln_, lp, ly, lN, lP)
    n[0, 0] = 2.0  # outside the domain (pool exceeded)
    assert (
        k._residual_parts(n, p, y, ah, Acum, G, w, 1e-4, lr, ln_, lp, ly, lN, lP, *prods) == np.inf
    )
