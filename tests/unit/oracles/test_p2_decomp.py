"""Lagrangian-decomposition bound of the coupled P2 (oracles.p2.decomp)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import brentq

from oracles.p2 import solve
from oracles.p2.colgen import column_generation
from oracles.p2.decomp import decomposition_bound, hull_cut_bound, pool_knapsack
from tests.unit.oracles.test_p2_colgen import _start_pool
from tests.unit.oracles.test_p2_solvers import brute_force, tiny

EPS = 1e-4


def _subset_reference(w: np.ndarray, g: np.ndarray, price: float) -> float:
    """max sum log(eps + y/w) - price y + g over y, sum y <= 1 (KKT multiplier by Brent)."""
    if w.size == 0:
        return 0.0
    cap = np.minimum(w, 1.0)

    def shares(nu: float) -> np.ndarray:
        p = price + nu
        return cap.copy() if p <= 0 else np.clip(1.0 / p - EPS * w, 0.0, cap)

    y = shares(0.0)
    if y.sum() > 1.0:
        nu = brentq(lambda n: shares(n).sum() - 1.0, 0.0, 1e3 / (EPS * w.min()), xtol=1e-14, rtol=1e-15)
        y = shares(nu)
    return float(np.sum(np.log(EPS + y / w) - price * y + g))


CASES = [(seed, n) for seed in range(8) for n in (1, 4, 7)]


@pytest.mark.parametrize(("seed", "n"), CASES, ids=[f"seed{s}-n{n}" for s, n in CASES])
def test_pool_knapsack_matches_enumeration(seed, n):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.05, 0.9, n) * rng.choice([0.3, 1.0, 2.0])
    g = rng.normal(0.0, 2.0, n)
    price = float(rng.choice([0.0, rng.uniform(0.1, 8.0)]))
    best = max(_subset_reference(w[m], g[m], price)
               for m in (np.asarray(s, bool) for s in itertools.product([0, 1], repeat=n)))
    ub, val, sel, y = pool_knapsack(w, g, price, EPS)
    assert ub == pytest.approx(val, abs=1e-9)
    assert val == pytest.approx(best, abs=1e-8)
    assert y.sum() <= 1.0 + 1e-12
    assert np.all(y[~sel] == 0.0)


@pytest.mark.parametrize("bad", [dict(w=[0.0]), dict(w=[np.inf]), dict(gain=[np.nan]), dict(price=-1.0)],
                         ids=["w0", "winf", "gain-nan", "price-neg"])
def test_pool_knapsack_rejects_bad_input(bad):
    args = {"w": [0.5], "gain": [0.0], "price": 1.0} | bad
    with pytest.raises(ValueError, match=next(iter(bad))):
        pool_knapsack(np.asarray(args["w"], float), np.asarray(args["gain"], float), args["price"], EPS)


SEEDS = [0, 1, 2, 3]


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_decomposition_bound_between_optimum_and_dantzig_wolfe(seed):
    prob = tiny(seed, S=2, C=3, K=4, H=1, load=4.0, proxy="coupled")
    opt = brute_force(prob)
    pool, path = _start_pool(prob)
    cg = column_generation(prob, pool, max_rounds=200)
    ld = decomposition_bound(prob, pool, path, max_rounds=300)
    assert ld["converged"]
    # both stop at a reduced-cost tolerance of 1e-6
    assert opt - 1e-9 <= ld["bound"] <= cg["bound"] + 2e-6 * max(1.0, abs(cg["bound"]))


def test_decomposition_bound_is_stronger_somewhere_and_deterministic():
    gains = []
    for seed in range(6):
        prob = tiny(seed, S=2, C=3, K=4, H=1, load=4.0, proxy="coupled")
        pool, path = _start_pool(prob)
        cg = column_generation(prob, pool, max_rounds=200)
        pool2, path2 = _start_pool(prob)
        column_generation(prob, pool2, max_rounds=200)
        a = decomposition_bound(prob, pool, path, max_rounds=300)
        b = decomposition_bound(prob, pool2, path2, max_rounds=300)
        assert a["bound"] == b["bound"]
        hc = hull_cut_bound(prob, pool2, max_rounds=300)
        gains.append((cg["bound"] - a["bound"], cg["bound"] - hc["bound"]))
    # the per-pool integral subsets close part of the Dantzig-Wolfe integrality gap
    assert max(g[0] for g in gains) > 1e-3
    assert max(g[1] for g in gains) > 1e-3


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_hull_cut_bound_between_optimum_and_dantzig_wolfe(seed):
    prob = tiny(seed, S=2, C=3, K=4, H=1, load=4.0, proxy="coupled")
    opt = brute_force(prob)
    pool, _ = _start_pool(prob)
    cg = column_generation(prob, pool, max_rounds=200)
    hc = hull_cut_bound(prob, pool, max_rounds=300)
    assert hc["converged"]
    assert opt - 1e-9 <= hc["bound"] <= cg["bound"] + 2e-6 * max(1.0, abs(cg["bound"]))
    pool2, _ = _start_pool(prob)
    column_generation(prob, pool2, max_rounds=200)
    assert hull_cut_bound(prob, pool2, max_rounds=300)["bound"] == hc["bound"]  # deterministic


@pytest.mark.parametrize("relaxation", ["pool_cuts", "decomposition"])
def test_lagrangian_relaxation_option(relaxation):
    prob = tiny(2, S=2, C=3, K=4, H=1, load=4.0, proxy="coupled")
    opt = brute_force(prob)
    base = solve(prob, method="lagrangian", dual="colgen", gap_tol=0.0)
    res = solve(prob, method="lagrangian", dual="colgen", gap_tol=0.0, relaxation=relaxation)
    assert opt - 1e-9 <= res.bound <= base.bound + 1e-12
    assert res.objective <= opt + 1e-9
    assert res.info["relaxation"] == relaxation
    with pytest.raises(ValueError, match="relaxation"):
        solve(prob, method="lagrangian", relaxation="bogus")
    with pytest.raises(ValueError, match="needs column generation"):
        solve(prob, method="lagrangian", dual="subgradient", relaxation=relaxation)
