"""Price-block paths of the fast P1 solver (binding causality, no interior point).

The free-prefix / uniform-suffix path (``info["path"] == 5``,
:func:`oracles.p1._kernels.prefix_suffix`) and the staircase path (``info["path"] == 6``,
:func:`oracles.p1._kernels.staircase_search`) must give the same optimum as the interior point
(``nested=False``) and as the CVXPY reference, be feasible, and be certified by the dual bound
at their own per-slot prices.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oracles.p1 import _kernels as k
from oracles.p1 import solve
from oracles.p1.instances import PHYSICAL

PHY = dict(PHYSICAL)
N_PRB, P_MAX = 100.0, 100.0
ST_SPLIT = 5
ST_STAIR = 6
#: demand factor per cell count that puts the satellite near its capacity
LOAD = {2: 0.25, 4: 0.33, 6: 0.5, 8: 1.0}


def env_like(seed: int, nc: int, M: int = 10, lam_poisson: float = 10.0, g_scale: float = 1.0):
    """One satellite near its capacity with Poisson arrivals per fast slot (env traffic).

    Normalised SNR ``ah`` log-uniform in [20, 300], per-PRB demand factor ``G`` in
    [0.06, 0.7] times ``g_scale`` (``G = T_f W N / (ln 2 D)``), arrivals a Poisson profile.
    """
    rng = np.random.default_rng(seed)
    ah = np.exp(rng.uniform(math.log(20.0), math.log(300.0), nc))
    G = rng.uniform(0.06, 0.7, nc) * g_scale
    cnt = rng.poisson(lam_poisson, (nc, M)).astype(float) + 1e-3
    ainc = cnt / cnt.sum(axis=1, keepdims=True)
    W, N0, T_f = PHY["W_PRB"], PHY["N0"], PHY["T_f"]
    g = (ah * N_PRB / P_MAX * W * N0)[None, :]
    D = T_f * W * N_PRB / (math.log(2.0) * G)
    a = D[:, None] * ainc
    x = np.ones((1, nc), dtype=int)
    return {"x": x, "a": a, "g": g, "N_PRB": N_PRB, "P_max": P_MAX, **PHY}


def _split_seeds(nc: int, want: int, priced: bool | None = None) -> list[int]:
    """Seeds (searched in order) whose instance takes the prefix/suffix path.

    ``priced``: only those whose prefix is priced (True) or free (False).
    """
    out = []
    for seed in range(400):
        r = solve(**env_like(seed, nc, g_scale=LOAD[nc]))
        if int(r.info["path"][0]) == ST_SPLIT and (priced is None or (r.mu[0, 0] > 0) == priced):
            out.append(seed)
            if len(out) == want:
                break
    return out


def _path_seeds(nc: int, want: int, path: int, priced: bool | None = None) -> list[int]:
    """Seeds (searched in order) whose instance's satellite takes ``path``.

    ``priced``: only those whose first slot is priced (True: no free prefix) or free (False).
    """
    out = []
    for seed in range(400):
        r = solve(**env_like(seed, nc, g_scale=LOAD[nc]))
        if int(r.info["path"][0]) == path and (priced is None or (r.mu[0, 0] > 0) == priced):
            out.append(seed)
            if len(out) == want:
                break
    return out


def _check_certified(res, tol=1e-9):
    assert res.status == "optimal"
    assert res.max_violation <= tol
    assert res.bound >= res.utility - 1e-12 * abs(res.utility)
    assert res.gap <= 1e-7


@pytest.mark.parametrize("nc", [2, 4, 6, 8], ids=lambda n: f"nc{n}")
def test_split_path_matches_interior_point(nc):
    seeds = _split_seeds(nc, 3)
    assert seeds, "no instance took the prefix/suffix path"
    for seed in seeds:
        kw = env_like(seed, nc, g_scale=LOAD[nc])
        new = solve(**kw)
        old = solve(**kw, nested=False)
        assert int(new.info["path"][0]) == ST_SPLIT
        assert int(old.info["path"][0]) in (2, 3)
        _check_certified(new)
        # both are certified optimal: utilities agree within the interior point's tolerance,
        # and the split path is never worse than it by more than round-off
        assert new.utility >= old.utility - 1e-10 * abs(old.utility)
        assert abs(new.utility - old.utility) <= 1e-6 * abs(old.utility) + 1e-12


@pytest.mark.parametrize("priced", [False, True], ids=["free-prefix", "priced-prefix"])
def test_split_path_matches_cvxpy_reference(priced):
    # a priced prefix (two priced blocks, no free prefix) is found by the staircase search
    seeds = _path_seeds(4, 1, ST_STAIR, priced=True) if priced else _split_seeds(4, 1, False)
    assert seeds
    kw = env_like(seeds[0], 4, g_scale=LOAD[4])
    new = solve(**kw)
    ref = solve(**kw, method="cvx", tight=True)
    _check_certified(new)
    # the reference is certified only to its own tolerance; the fast answer is not worse
    assert new.utility >= ref.utility - 1e-7 * abs(ref.utility)
    assert new.bound >= ref.utility - 1e-9 * abs(ref.utility)
    np.testing.assert_allclose(new.xi, ref.xi, rtol=0, atol=2e-3)


@pytest.mark.parametrize("nc", [2, 4, 6], ids=lambda n: f"nc{n}")
def test_priced_prefix_matches_interior_point(nc):
    # two priced blocks without a free prefix: the staircase search's structure
    seeds = _path_seeds(nc, 2, ST_STAIR, priced=True)
    assert seeds, "no instance took a priced prefix"
    for seed in seeds:
        kw = env_like(seed, nc, g_scale=LOAD[nc])
        new = solve(**kw)
        old = solve(**kw, nested=False)
        _check_certified(new)
        mu = new.mu[0]
        assert mu[0] > 0 and mu[-1] > 0 and mu[0] != mu[-1]  # two priced blocks
        assert new.utility >= old.utility - 1e-10 * abs(old.utility)
        assert abs(new.utility - old.utility) <= 1e-6 * abs(old.utility) + 1e-12


def test_bound_is_the_dual_at_the_returned_prices():
    seeds = _split_seeds(6, 2)
    assert seeds
    for seed in seeds:
        kw = env_like(seed, 6, g_scale=LOAD[6])
        res = solve(**kw)
        x = np.asarray(kw["x"], bool)[None]
        a = kw["a"][None]
        g = np.asarray(kw["g"], float)[None, :, :, None]
        scale = 1.0 / (PHY["W_PRB"] * PHY["N0"])
        K = PHY["T_f"] * PHY["W_PRB"] / math.log(2.0)
        w = np.ones((1, a.shape[1]))
        bound = k.bound_kernel(
            x, a, g, np.full((1, 1), N_PRB), np.full((1, 1), P_MAX), scale, K, 1e-4, w,
            res.lam[None], res.mu[None],
        )  # fmt: skip
        assert bound[0] == pytest.approx(res.bound, rel=1e-12, abs=1e-12)
        # per-slot prices: one price pair on a prefix (zero when it is free), another on the
        # suffix
        for pr in (res.lam[0], res.mu[0]):
            t = int(np.argmax(pr != pr[0])) or len(pr)
            assert np.all(pr[:t] == pr[0]) and np.all(pr[t:] == pr[-1])


def test_everybody_served_by_the_forward_schedule():
    # light load with late-heavy arrivals: the most even schedules do not fit, serving the
    # backlog as it comes does; utility is then the largest possible
    found = 0
    for seed in range(200):
        kw = env_like(seed, 8, g_scale=1.0)
        res = solve(**kw)
        if int(res.info["path"][0]) == ST_SPLIT and np.all(res.mu == 0):
            found += 1
            _check_certified(res)
            assert np.allclose(res.xi, 1.0, rtol=0, atol=1e-12)
            assert res.utility == pytest.approx(8 * math.log1p(1e-4), rel=1e-12)
        if found == 2:
            break
    assert found > 0


def _even_peaks(ainc):
    """Largest slot of each cell's most even causal schedule of its whole demand (fractions).

    The last slope of the greatest convex minorant of the cumulative arrivals:
    ``max_k (1 - A_k) / (M - k)`` with ``A_k`` what arrived before slot ``k``.
    """
    M = ainc.shape[1]
    before = np.concatenate([np.zeros((ainc.shape[0], 1)), np.cumsum(ainc, axis=1)[:, :-1]], axis=1)
    return np.max((1.0 - before) / (M - np.arange(M)), axis=1)


@pytest.mark.parametrize("seed", [0, 1, 2], ids=lambda s: f"seed{s}")
def test_everybody_served_at_the_capacity_edge(seed):
    # cells of very different SNR, load scanned to the edge of serving everybody with the most
    # even schedules: just inside it the equal-efficiency shortcut does not fit and the
    # least-power search of the last (hardest) slot must prove it; the answer serves every cell
    # in full within both pools, i.e. the largest possible utility, certified
    def inst(g_scale):
        kw = env_like(seed, 6, g_scale=g_scale)
        kw["g"] = kw["g"] * np.array([0.01, 0.03, 0.1, 1.0, 1.0, 1.0])
        return kw

    def everybody(kw):
        res = solve(**kw)
        path1 = int(res.info["path"][0]) == 1
        return res, path1 and np.all(res.mu == 0) and np.all(res.lam == 0)

    lo, hi = math.log(0.3), math.log(30.0)
    assert not everybody(inst(math.exp(lo)))[1] and everybody(inst(math.exp(hi)))[1]
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if everybody(inst(math.exp(mid)))[1]:
            hi = mid
        else:
            lo = mid
    kw = inst(math.exp(hi))
    res, ok = everybody(kw)
    assert ok
    D = kw["a"].sum(axis=1)
    G = PHY["T_f"] * PHY["W_PRB"] * N_PRB / (math.log(2.0) * D)
    ah = kw["g"][0] / (PHY["W_PRB"] * PHY["N0"]) * P_MAX / N_PRB
    q = _even_peaks(kw["a"] / D[:, None]) / G
    assert math.expm1(q.sum()) / q.sum() * np.sum(q / ah) > 1.0  # the shortcut does not fit
    assert np.allclose(res.xi, 1.0, rtol=0, atol=1e-12)
    assert res.utility == pytest.approx(6 * math.log1p(1e-4), rel=1e-11)
    assert res.bound - res.utility <= 1e-12 * 6 and res.max_violation <= 1e-12
    assert res.p.sum(axis=1).max() >= (1 - 1e-6) * P_MAX  # at the edge: the power pool is full


@pytest.mark.parametrize(
    "case", ["one-cell", "zero-demand-cell", "slack-pools", "overloaded"], ids=str
)
def test_edge_cases_agree_with_interior_point(case):
    kw = env_like(3, 5)
    if case == "one-cell":
        kw = env_like(11, 1, g_scale=0.3)
    elif case == "zero-demand-cell":
        kw["a"][2] = 0.0
    elif case == "slack-pools":
        kw["a"] = kw["a"] * 1e-3
    elif case == "overloaded":
        kw["a"] = kw["a"] * 20.0
    new = solve(**kw)
    old = solve(**kw, nested=False)
    for r in (new, old):
        assert r.status == "optimal" and r.max_violation <= 1e-9
    assert new.utility == pytest.approx(old.utility, rel=1e-6, abs=1e-9)
    if case == "zero-demand-cell":
        assert np.isnan(new.xi[2]) and new.zero_demand[2]
    if case == "slack-pools":
        assert np.allclose(new.xi, 1.0, atol=1e-12)


def test_option_false_keeps_the_previous_path():
    for seeds in (_split_seeds(6, 1), _path_seeds(6, 1, ST_STAIR)):
        assert seeds
        res = solve(**env_like(seeds[0], 6, g_scale=LOAD[6]), nested=False)
        paths = np.asarray(res.info["path"]).tolist()
        assert ST_SPLIT not in paths and ST_STAIR not in paths


@pytest.mark.parametrize("nc", [4, 6, 8], ids=lambda n: f"nc{n}")
def test_staircase_path_matches_interior_point(nc):
    seeds = _path_seeds(nc, 3, ST_STAIR)
    assert seeds, "no instance took the staircase path"
    for seed in seeds:
        kw = env_like(seed, nc, g_scale=LOAD[nc])
        new = solve(**kw)
        old = solve(**kw, nested=False)
        assert int(old.info["path"][0]) in (2, 3)
        _check_certified(new)
        # exact: the dual bound at its own prices is attained to round-off (one satellite)
        assert new.gap <= 1e-11
        assert new.utility >= old.utility - 1e-12 * abs(old.utility)
        assert abs(new.utility - old.utility) <= 1e-6 * abs(old.utility) + 1e-12


def test_staircase_path_matches_cvxpy_reference():
    seeds = _path_seeds(4, 1, ST_STAIR)
    assert seeds
    kw = env_like(seeds[0], 4, g_scale=LOAD[4])
    new = solve(**kw)
    ref = solve(**kw, method="cvx", tight=True)
    _check_certified(new)
    assert new.utility >= ref.utility - 1e-7 * abs(ref.utility)
    assert new.bound >= ref.utility - 1e-9 * abs(ref.utility)
    np.testing.assert_allclose(new.xi, ref.xi, rtol=0, atol=2e-3)


def test_staircase_bound_is_the_dual_at_its_two_price_blocks():
    seeds = _path_seeds(6, 2, ST_STAIR)
    assert seeds
    scale = 1.0 / (PHY["W_PRB"] * PHY["N0"])
    K = PHY["T_f"] * PHY["W_PRB"] / math.log(2.0)
    for seed in seeds:
        kw = env_like(seed, 6, g_scale=LOAD[6])
        res = solve(**kw)
        a = kw["a"][None]
        g = np.asarray(kw["g"], float)[None, :, :, None]
        bound = k.bound_kernel(
            np.asarray(kw["x"], bool)[None], a, g, np.full((1, 1), N_PRB),
            np.full((1, 1), P_MAX), scale, K, 1e-4, np.ones((1, a.shape[1])),
            res.lam[None], res.mu[None],
        )  # fmt: skip
        assert bound[0] == pytest.approx(res.bound, rel=1e-12, abs=1e-12)
        # a free prefix (prices 0) or none, then two priced blocks of consecutive slots
        for pr in (res.lam[0], res.mu[0]):
            priced = pr[pr > 0]
            levels = [v for j, v in enumerate(priced) if j == 0 or v != priced[j - 1]]
            assert len(levels) == 2 and len(set(priced.tolist())) == 2
            assert np.all(pr[: len(pr) - len(priced)] == 0.0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    nc=st.integers(1, 8),
    g_scale=st.floats(0.3, 2.0),
    lam_poisson=st.floats(1.0, 30.0),
)
def test_property_nested_equals_interior_point(seed, nc, g_scale, lam_poisson):
    kw = env_like(seed, nc, lam_poisson=lam_poisson, g_scale=g_scale)
    new = solve(**kw)
    old = solve(**kw, nested=False)
    assert new.status == "optimal" and new.max_violation <= 1e-9
    assert new.gap <= 1e-6
    assert new.utility >= old.utility - 1e-6 * abs(old.utility) - 1e-12
    assert new.utility <= old.bound + 1e-12 * abs(old.bound) + 1e-14


@pytest.mark.parametrize("seed", range(6))
def test_max_fraction_slot_fills_both_pools(seed):
    rng = np.random.default_rng(seed)
    nc = int(rng.integers(1, 8))
    ah = np.exp(rng.uniform(-3.0, 6.0, nc))
    q = rng.uniform(0.0, 3.0, nc)
    q[rng.random(nc) < 0.2] = 0.0
    nn = np.empty(nc)
    pp = np.empty(nc)
    th = k.max_fraction_slot(ah, q, nn, pp)
    if q.sum() == 0:
        assert th == 0.0
        return
    assert nn.sum() <= 1.0 and pp.sum() <= 1.0
    assert max(nn.sum(), pp.sum()) == pytest.approx(1.0, abs=1e-12)
    assert nn.sum() == pytest.approx(pp.sum(), rel=1e-9)  # both pools full
    with np.errstate(divide="ignore", invalid="ignore"):
        served = np.where(nn > 0, nn * np.log1p(ah * pp / np.where(nn > 0, nn, 1.0)), 0.0)
    np.testing.assert_allclose(served, th * q, rtol=1e-9, atol=1e-15)
    # and no larger fraction fits: the least power for (1 + 1e-6) theta q exceeds the pool
    n2 = np.empty(nc)
    p2 = np.empty(nc)
    assert k.min_power_slot(ah, (1.0 + 1e-6) * th * q, n2, p2) > 1.0


def test_env_allocators_agree():
    from leo_env.envs.downlink.allocators import p1_fast, p1_fast_interior_point

    kws = [env_like(s, 6, g_scale=LOAD[6]) for s in range(12)]
    assoc = np.zeros((len(kws), 6), dtype=np.int64)
    a = np.stack([kw["a"] for kw in kws])
    g = np.stack([kw["g"] for kw in kws])
    pools = {"N_PRB": np.full((len(kws), 1), N_PRB), "P_max": np.full((len(kws), 1), P_MAX)}
    phys = {"W_PRB": PHY["W_PRB"], "N0": PHY["N0"], "T_f": PHY["T_f"]}
    new = p1_fast(assoc, a, g, **pools, **phys)
    old = p1_fast_interior_point(assoc, a, g, **pools, **phys)
    np.testing.assert_allclose(new.xi, old.xi, rtol=0, atol=1e-4)
    u_new = np.log(1e-4 + new.xi).sum(axis=1)
    u_old = np.log(1e-4 + old.xi).sum(axis=1)
    assert np.all(u_new >= u_old - 1e-6 * np.abs(u_old))
