"""Tests of the P1 oracle: analytic cases, structure, feasibility, fast vs CVXPY reference."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

from oracles.p1 import solve, solve_batch
from oracles.p1.instances import PHYSICAL, random_instance

PHY = dict(PHYSICAL)
K_BITS = PHY["T_f"] * PHY["W_PRB"] / math.log(2.0)  # bits per PRB per nat


def alpha_of(g):
    return np.asarray(g) / (PHY["W_PRB"] * PHY["N0"])


def g_for_snr(snr, N=100.0, P=100.0):
    """Gain whose equal-share SNR (P/N watts per PRB) is ``snr``."""
    return snr * N * PHY["W_PRB"] * PHY["N0"] / P


def assert_feasible(res, x, a, g, N, P, tol=1e-9):
    x = np.asarray(x, bool)
    S, C = x.shape
    M = a.shape[1]
    N = np.broadcast_to(np.asarray(N, float), (S,))
    P = np.broadcast_to(np.asarray(P, float), (S,))
    n, p, z = res.n, res.p, res.z
    assert n.shape == (S, C, M) and p.shape == (S, C, M) and z.shape == (C, M)
    assert (n >= 0).all() and (p >= 0).all() and (z >= 0).all()
    assert (n[~x] == 0).all() and (p[~x] == 0).all()
    assert (n.sum(axis=1) <= N[:, None] * (1 + tol)).all()
    assert (p.sum(axis=1) <= P[:, None] * (1 + tol)).all()
    gg = np.asarray(g, float)
    al = alpha_of(gg if gg.ndim == 3 else np.repeat(gg[:, :, None], M, axis=2))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(n > 0, K_BITS * n * np.log1p(al * p / np.where(n > 0, n, 1.0)), 0.0)
    rate = r.sum(axis=0)
    D = a.sum(axis=1)
    scale = np.maximum(D, 1.0)[:, None]
    assert (z <= rate + tol * scale).all()
    assert (np.cumsum(z, axis=1) <= np.cumsum(a, axis=1) + tol * scale).all()
    assert res.max_violation <= tol


def opts(method):
    """Solver options: the reference at tight tolerances."""
    return {"method": method, **({"tight": True} if method == "cvx" else {})}


def rel_gap(u_ref, u):
    return max(0.0, u_ref - u) / abs(u_ref)


# --------------------------------------------------------------------------------------------
# analytic and structural cases
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["fast", "cvx"])
@pytest.mark.parametrize("snr", [0.05, 3.0], ids=["low-snr", "high-snr"])
def test_single_cell_closed_form(method, snr):
    """S = C = M = 1: the cell gets the whole pools; xi = min(1, rate / D)."""
    N, P, D = 100.0, 40.0, 5e5
    g = np.array([[g_for_snr(snr, N, P)]])
    a = np.array([[D]])
    res = solve(np.ones((1, 1)), a, g, N_PRB=N, P_max=P, **PHY, **opts(method))
    rate = K_BITS * N * math.log1p(alpha_of(g)[0, 0] * P / N)
    xi = min(1.0, rate / D)
    assert res.xi[0] == pytest.approx(xi, rel=1e-7)
    assert res.utility == pytest.approx(math.log(1e-4 + xi), rel=1e-7, abs=1e-9)
    if xi < 1:
        assert res.n[0, 0, 0] == pytest.approx(N, rel=1e-6)
        assert res.p[0, 0, 0] == pytest.approx(P, rel=1e-6)


def test_single_cell_satisfied():
    g = np.array([[g_for_snr(1000.0)]])
    res = solve(np.ones((1, 1)), np.array([[1e3]]), g, N_PRB=100, P_max=100, **PHY)
    assert res.xi[0] == 1.0
    assert res.utility == pytest.approx(math.log1p(1e-4), abs=1e-14)
    assert res.gap <= 1e-9


@pytest.mark.parametrize("method", ["fast", "cvx"])
def test_symmetric_cells_get_symmetric_allocations(method):
    M = 6
    g = np.full((1, 3), g_for_snr(0.1))
    a = np.full((3, M), 8e3)
    res = solve(np.ones((1, 3)), a, g, N_PRB=100, P_max=100, **PHY, **opts(method))
    tot_n = res.n.sum(axis=2)[0]
    tot_p = res.p.sum(axis=2)[0]
    np.testing.assert_allclose(tot_n, tot_n.mean(), rtol=1e-5)
    np.testing.assert_allclose(tot_p, tot_p.mean(), rtol=1e-5)
    np.testing.assert_allclose(res.xi, res.xi.mean(), rtol=1e-6)


def test_masked_pairs_get_nothing():
    rng = np.random.default_rng(11)
    inst = random_instance(rng, S=3, C=7, M=5)
    res = solve(**inst.kwargs())
    mask = ~inst.x.astype(bool)
    assert (res.n[mask] == 0).all() and (res.p[mask] == 0).all()
    assert_feasible(res, inst.x, inst.a, inst.g, 100.0, 100.0)


@pytest.mark.parametrize("method", ["fast", "cvx"])
def test_zero_demand_and_unserved_cells(method):
    rng = np.random.default_rng(5)
    inst = random_instance(rng, S=2, C=6, M=4)
    x, a = inst.x.copy(), inst.a.copy()
    a[1] = 0.0  # zero demand
    x[:, 4] = 0.0  # no serving satellite
    res = solve(x, a, inst.g, **inst.params, **opts(method))
    assert res.zero_demand.tolist() == [False, True, False, False, False, False]
    assert np.isnan(res.xi[1]) and res.n[:, 1].sum() == 0 and res.z[1].sum() == 0
    assert res.no_satellite[4] and res.xi[4] == 0.0
    assert not res.no_satellite[1]
    # the utility skips the zero-demand cell and counts the unserved one at log(eps)
    keep = ~res.zero_demand
    assert res.utility == pytest.approx(np.sum(np.log(1e-4 + res.xi[keep])), rel=1e-12)


def test_all_cells_zero_demand():
    res = solve(np.eye(2), np.zeros((2, 3)), np.full((2, 2), 1e-15), N_PRB=10, P_max=1, **PHY)
    assert res.utility == 0.0 and np.isnan(res.xi).all() and res.status == "optimal"


# --------------------------------------------------------------------------------------------
# fast vs reference
# --------------------------------------------------------------------------------------------

CASES = [
    # (id, regime, arrivals, fading, weights, S, C, M)
    ("over-uniform", "overloaded", "uniform", False, False, 3, 7, 6),
    ("over-weighted", "overloaded", "uniform", False, True, 3, 7, 6),
    ("over-backloaded", "overloaded", "backloaded", False, False, 2, 5, 9),
    ("over-fading", "overloaded", "uniform", True, False, 2, 6, 6),
    ("transition-uniform", "transition", "uniform", False, False, 3, 7, 6),
    ("transition-backloaded", "transition", "backloaded", False, False, 2, 5, 9),
    ("transition-fading", "transition", "uniform", True, True, 2, 6, 6),
    ("under-uniform", "underloaded", "uniform", False, False, 2, 5, 6),
    ("under-backloaded", "underloaded", "backloaded", False, False, 2, 5, 9),
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_fast_matches_reference(case, seed):
    _, regime, arrivals, fading, weights, S, C, M = case
    rng = np.random.default_rng([seed, zlib.crc32(case[0].encode())])
    inst = random_instance(
        rng, S=S, C=C, M=M, regime=regime, arrivals=arrivals, fading=fading, weights=weights
    )
    fast = solve(**inst.kwargs())
    ref = solve(**inst.kwargs(), method="cvx", tight=True)
    assert ref.status in ("optimal", "optimal_inaccurate")
    assert_feasible(fast, inst.x, inst.a, inst.g, 100.0, 100.0)
    # the fast solver is never worse than the reference beyond its certified tolerance ...
    assert rel_gap(ref.utility, fast.utility) <= 1e-6
    # ... and its own dual bound certifies it
    assert fast.bound >= fast.utility - 1e-12 * abs(fast.utility)
    assert fast.gap <= 1e-6
    assert fast.status == "optimal"
    # no feasible allocation beats the bound
    assert ref.utility <= fast.bound + 1e-7 * abs(fast.bound) + 1e-12


def test_backloaded_causality_binds():
    """Arrivals only in the last slots: service cannot start earlier; fast equals reference."""
    M = 8
    g = np.array([[g_for_snr(0.2), g_for_snr(5.0)]])
    a = np.zeros((2, M))
    a[0, 5:] = [2e3, 4e3, 3e4]
    a[1, 6:] = [1e3, 1e3]
    x = np.ones((1, 2))
    fast = solve(x, a, g, N_PRB=100, P_max=100, **PHY)
    ref = solve(x, a, g, N_PRB=100, P_max=100, **PHY, method="cvx", tight=True)
    assert_feasible(fast, x, a, g, 100, 100)
    assert (fast.z[:, :5] == 0).all()
    assert rel_gap(ref.utility, fast.utility) <= 1e-6 and fast.gap <= 1e-6
    # causality binds: the even spread over the 8 slots would not be causal
    assert np.cumsum(fast.z[0])[5] <= a[0, 5] * (1 + 1e-9)


def test_weights_shift_service():
    rng = np.random.default_rng(3)
    inst = random_instance(rng, S=1, C=3, M=4, regime="overloaded", mismatch=0.0)
    kw = inst.kwargs()
    base = solve(**kw)
    w = np.array([4.0, 1.0, 1.0])
    heavy = solve(**kw, w=w)
    assert heavy.xi[0] > base.xi[0]
    ref = solve(**kw, w=w, method="cvx", tight=True)
    assert rel_gap(ref.utility, heavy.utility) <= 1e-6
    assert heavy.utility == pytest.approx(np.sum(w * np.log(1e-4 + heavy.xi)), rel=1e-12)


def test_fading_uses_good_slots():
    M = 6
    g = np.full((1, 2, M), g_for_snr(0.05))
    g[0, 0, ::2] *= 20.0  # cell 0 is strong in even slots only
    a = np.full((2, M), 1e4)
    res = solve(np.ones((1, 2)), a, g, N_PRB=100, P_max=100, **PHY)
    ref = solve(np.ones((1, 2)), a, g, N_PRB=100, P_max=100, **PHY, method="cvx", tight=True)
    assert rel_gap(ref.utility, res.utility) <= 1e-6 and res.gap <= 1e-6
    share0 = res.n[0, 0] / 100.0
    assert share0[::2].mean() > share0[1::2].mean()


# --------------------------------------------------------------------------------------------
# certificate, batch, rounding
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("regime", ["overloaded", "transition", "underloaded"])
def test_certified_gap(regime):
    rng = np.random.default_rng(21)
    for _ in range(3):
        inst = random_instance(rng, regime=regime, arrivals="backloaded")
        res = solve(**inst.kwargs())
        assert res.bound >= res.utility - 1e-12 * max(1.0, abs(res.utility))
        assert res.bound - res.utility <= 1e-6 * max(abs(res.utility), 1e-3)
        assert res.max_violation <= 1e-9


def test_batch_equals_loop_of_singles():
    rng = np.random.default_rng(8)
    insts = [random_instance(rng, S=3, C=6, M=5, regime=r) for r in ("overloaded", "transition")]
    insts.append(random_instance(rng, S=3, C=6, M=5, arrivals="backloaded"))
    x = np.stack([i.x for i in insts])
    a = np.stack([i.a for i in insts])
    g = np.stack([i.g for i in insts])
    N = np.array([[100.0, 80.0, 120.0]] * 3)
    batch = solve_batch(x, a, g, N_PRB=N, P_max=100.0, **PHY)
    assert batch.n.shape == (3, 3, 6, 5) and len(batch.status) == 3 and len(batch) == 3
    for b, inst in enumerate(insts):
        single = solve(inst.x, inst.a, inst.g, N_PRB=N[b], P_max=100.0, **PHY)
        np.testing.assert_allclose(batch.n[b], single.n, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(batch.p[b], single.p, rtol=1e-9, atol=1e-9)
        assert batch.utility[b] == pytest.approx(single.utility, rel=1e-12)
        item = batch[b]
        assert item.utility == batch.utility[b] and item.status == batch.status[b]


def test_batch_fading_and_cvx():
    rng = np.random.default_rng(9)
    insts = [random_instance(rng, S=2, C=4, M=4, fading=True) for _ in range(2)]
    x = np.stack([i.x for i in insts])
    a = np.stack([i.a for i in insts])
    g = np.stack([i.g for i in insts])
    fast = solve_batch(x, a, g, N_PRB=100.0, P_max=100.0, **PHY)
    ref = solve_batch(x, a, g, N_PRB=100.0, P_max=100.0, **PHY, method="cvx", tight=True)
    assert ref.info["cvx_solve_time_s"].shape == (2,)
    for b in range(2):
        assert rel_gap(ref.utility[b], fast.utility[b]) <= 1e-6


def test_integer_rounding_keeps_pools_and_reports_loss():
    rng = np.random.default_rng(4)
    inst = random_instance(rng, S=3, C=8, M=5)
    cont = solve(**inst.kwargs())
    res = solve(**inst.kwargs(), integer_prb=True)
    assert np.array_equal(res.n, np.round(res.n))
    # the PRB pool stays in use: every (satellite, slot) total equals the rounded continuous one
    np.testing.assert_array_equal(res.n.sum(axis=1), np.round(cont.n.sum(axis=1)))
    assert (res.p.sum(axis=1) <= 100.0 * (1 + 1e-12)).all()
    assert res.utility_continuous == pytest.approx(cont.utility, rel=1e-12)
    assert res.rounding_loss == pytest.approx(res.utility_continuous - res.utility, abs=1e-12)
    assert res.rounding_loss >= -1e-9  # rounding cannot beat the optimum
    assert res.bound >= res.utility
    assert_feasible(res, inst.x, inst.a, inst.g, 100.0, 100.0)


def test_omega_matches_lambert_w():
    from scipy.special import lambertw

    from oracles.p1._kernels import omega_of

    for q in [1e-6, 1e-2, 0.5, 1.0, 3.0, 50.0, 1e4, 1e9]:
        ref = 1.0 + lambertw((q - 1.0) / math.e).real
        assert omega_of(q) == pytest.approx(ref, rel=1e-12)
    # the root is accurate where W0 is ill-conditioned (q -> 0)
    for q in [1e-30, 1e-12]:
        w = omega_of(q)
        assert w * w / 2 + w**3 / 3 == pytest.approx(q, rel=1e-10)


def test_power_per_prb_rule():
    """Each served (cell, slot) runs at s* = (exp(1 + W0((rho a - 1)/e)) - 1)/a of the prices."""
    from scipy.special import lambertw

    rng = np.random.default_rng(2)
    inst = random_instance(rng, S=1, C=4, M=3)
    res = solve(**inst.kwargs())
    P, N = 100.0, 100.0
    rho = res.lam[0, 0] / res.mu[0, 0]  # [W per PRB]
    al = alpha_of(inst.g)[0]
    for c in range(4):
        if res.n[0, c, 0] > 1e-9:
            s_star = (np.exp(1 + lambertw((rho * al[c] - 1) / np.e).real) - 1) / al[c]
            assert res.p[0, c, 0] / res.n[0, c, 0] == pytest.approx(s_star, rel=1e-6)
    assert res.n[0, :, 0].sum() == pytest.approx(N, rel=1e-9)
    assert res.p[0, :, 0].sum() == pytest.approx(P, rel=1e-9)


def test_cvx_forms_agree():
    rng = np.random.default_rng(6)
    inst = random_instance(rng, S=2, C=4, M=4, regime="transition")
    u = [
        solve(**inst.kwargs(), method="cvx", form=f, tight=True).utility
        for f in ("auto", "textbook", "shifted")
    ]
    assert max(u) - min(u) <= 1e-6 * abs(u[0])


@pytest.mark.parametrize("regime", ["overloaded", "underloaded"])
def test_interior_point_agrees_with_closed_form(regime):
    """Forcing the interior point where the closed form applies gives the same optimum."""
    rng = np.random.default_rng(17)
    inst = random_instance(rng, S=2, C=5, M=6, regime=regime)
    closed = solve(**inst.kwargs())
    assert (closed.info["path"] == 1).all()
    forced = solve(**inst.kwargs(), force_ipm=True)
    assert (forced.info["path"] >= 2).all()
    assert forced.utility == pytest.approx(closed.utility, rel=1e-7, abs=1e-9)
    assert forced.gap <= 1e-6 and forced.max_violation <= 1e-9


def test_module_docstring_example():
    import doctest

    import oracles.p1

    assert doctest.testmod(oracles.p1, verbose=False).failed == 0


# --------------------------------------------------------------------------------------------
# noisy arrivals (greedy causal schedule) and the environment's lean entry point
# --------------------------------------------------------------------------------------------


def _noisy_instance(seed, S=1, C=6, M=10):
    rng = np.random.default_rng(seed)
    kw = random_instance(rng, S=S, C=C, M=M, regime="transition").kwargs()
    noise = rng.uniform(-1, 1, size=(C, M))
    kw["a"] = 300 * (1 + 0.3 * noise) * rng.uniform(0.5, 2, size=(C, 1))
    return kw


def test_noisy_arrivals_solved_by_greedy_schedule():
    """Even spreading is not causal; the greedy per-slot schedule attains the uniform bound."""
    from oracles.p1 import _kernels as k
    from oracles.p1._validate import canonicalize

    kw = _noisy_instance(8)
    d = canonicalize(**kw)
    D = d.a[0].sum(axis=1)
    args = (d.x, d.a, d.g, d.N_PRB, d.P_max, 1 / (d.W_PRB * d.N0), d.bits_per_nat, d.w)
    nc, ah, ainc, G, w = k._problem_arrays(*args, 0, 0, D, np.zeros(6, dtype=np.int64))
    xi, nsh, psh = np.empty(nc), np.empty(nc), np.empty(nc)
    _, mu1, _ = k.single_pool(ah[:, 0].copy(), G * 10, w, d.eps, xi, nsh, psh)
    Acum = np.cumsum(ainc, axis=1)
    Acum[:, -1] = 1.0
    nm, pm = np.empty((nc, 10)), np.empty((nc, 10))
    assert mu1 > 0 and not k.schedule_uniform(xi, nsh, psh, Acum, nm, pm)
    assert k.schedule_greedy(xi, nsh, psh, Acum, nm, pm)

    res = solve(**kw)
    assert res.info["path"].tolist() == [1] and res.gap <= 1e-12
    assert_feasible(res, kw["x"], kw["a"], kw["g"], 100.0, 100.0)
    forced = solve(**kw, force_ipm=True)
    assert forced.utility == pytest.approx(res.utility, rel=1e-7)
    ref = solve(**kw, method="cvx", tight=True)
    assert ref.utility <= res.bound + 1e-7 * abs(res.bound)


def test_lean_allocate_matches_solve_batch():
    """``fast.allocate`` (the environment's entry) gives solve_batch's numbers bit for bit."""
    from oracles.p1.fast import allocate

    rng = np.random.default_rng(5)
    B, S, C, M = 4, 3, 7, 10
    assoc = rng.integers(-1, S, size=(B, C))
    a = rng.uniform(0, 600, size=(B, C, M))
    a[0, 2] = 0.0  # zero demand
    for g in (
        rng.uniform(0.1, 3.0, size=(B, S, C)) * g_for_snr(1.0),
        rng.uniform(0.1, 3.0, size=(B, S, C, M)) * g_for_snr(1.0),
    ):
        N = rng.uniform(50, 150, size=(B, S))
        P = rng.uniform(50, 150, size=(B, S))
        x = np.zeros((B, S, C))
        b_, c_ = np.nonzero(assoc >= 0)
        x[b_, assoc[b_, c_], c_] = 1.0
        ref = solve_batch(x, a, g, N_PRB=N, P_max=P, **PHY)
        xi, served = allocate(assoc, a, g, N_PRB=N, P_max=P, **PHY)
        np.testing.assert_array_equal(xi, ref.xi)
        np.testing.assert_allclose(served, ref.z.sum(axis=-1), rtol=1e-14)
        assert (ref.gap <= 1e-6).all()
