"""Branch-and-price on the coupled P2 (oracles.p2.bnp) and the Lagrangian ``primal="dive"``."""

from __future__ import annotations

import numpy as np
import pytest

from oracles.p2 import solve
from oracles.p2.bnp import branch_and_price, column_dive
from oracles.p2.colgen import column_generation
from oracles.p2.result import score_path
from tests.unit.oracles.test_p2_colgen import _start_pool
from tests.unit.oracles.test_p2_solvers import brute_force, tiny

SEEDS = [0, 1, 2, 3]


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_best_bound_proves_the_enumerated_optimum(seed):
    prob = tiny(seed, S=2, C=3, K=4, H=1, load=4.0, proxy="coupled")
    opt = brute_force(prob)
    pool, path = _start_pool(prob)
    dw = column_generation(prob, pool, max_rounds=200)["bound"]
    start = score_path(prob, path)[0]
    res = branch_and_price(prob, path, start, time_limit=60.0, seed_pool=pool)
    assert res["proved"]
    assert res["value"] == pytest.approx(opt, abs=1e-6)
    assert score_path(prob, res["path"])[0] == pytest.approx(res["value"], abs=1e-12)
    # the global bound is valid and never weaker than the Dantzig-Wolfe bound
    assert opt - 1e-9 <= res["bound"] <= dw + 1e-6 * max(1.0, abs(dw))  # CG tolerance


@pytest.mark.parametrize("strategy", ["best", "dive"])
def test_bound_valid_when_stopped_early_and_deterministic(strategy):
    prob = tiny(5, S=3, C=4, K=4, H=1, load=4.0, proxy="coupled")
    opt = brute_force(prob)
    pool, path = _start_pool(prob)
    start = score_path(prob, path)[0]
    runs = [branch_and_price(prob, path, start, node_limit=3, time_limit=60.0, seed_pool=pool,
                             strategy=strategy) for _ in range(2)]
    a, b = runs
    assert a["nodes"] <= 3
    assert a["bound"] >= opt - 1e-9
    assert a["value"] <= opt + 1e-9
    assert a["bound"] == b["bound"] and a["value"] == b["value"]
    assert np.array_equal(a["path"], b["path"])
    if not a["proved"]:
        assert a["open"] > 0 and a["bound"] > a["value"]


def test_lagrangian_dive_option_feasible_bounded_deterministic():
    prob = tiny(6, S=3, C=4, K=5, H=1, load=5.0, proxy="coupled")
    opt = brute_force(prob)
    base = solve(prob, "lagrangian", gap_tol=0.0, cg_min_gap=0.0)
    res = [solve(prob, "lagrangian", gap_tol=0.0, cg_min_gap=0.0, primal="dive", dive_nodes=50) for _ in range(2)]
    assert base.gap > 1e-6  # the dive has something to do here
    for r in res:
        assert r.info["dive_nodes"] > 0 and r.info["column_dive_steps"] > 0
        assert r.objective >= base.objective - 1e-12  # never worse than the default primal
        assert r.objective <= opt + 1e-9 <= r.bound + 2e-9
        assert r.bound <= base.bound + 1e-9
        assert np.all(r.handovers <= prob.budget)
        assert score_path(prob, prob.l_from_assoc(r.assoc))[0] == pytest.approx(r.objective, abs=1e-12)
    assert np.array_equal(res[0].assoc, res[1].assoc) and res[0].bound == res[1].bound


@pytest.mark.parametrize("seed", [1, 6, 9])
def test_column_dive_feasible_associations_and_stops(seed):
    prob = tiny(seed, S=3, C=5, K=6, H=1, load=5.0, proxy="coupled")
    pool, _ = _start_pool(prob)
    column_generation(prob, pool, max_rounds=200)
    n_cols = len(pool)
    seen: list[float] = []

    def on_path(path):
        assert path.shape == (prob.C, prob.K)
        assert np.all(prob.vis[np.arange(prob.C)[:, None], path, np.arange(prob.K)[None, :]])
        assoc = prob.assoc_from_l(path)
        h = (assoc[:, 1:] != assoc[:, :-1]).sum(axis=1)
        assert np.all(h <= prob.budget)
        seen.append(score_path(prob, path)[0])
        return max(seen)

    out = column_dive(prob, pool, time_limit=60.0, on_path=on_path)
    assert out["status"] in ("integral", "infeasible") and out["steps"] >= 1 and seen
    assert len(pool) == n_cols  # the caller's pool is not modified
    with pytest.raises(ValueError, match="fix_share"):
        column_dive(prob, pool, fix_share=0.0)


def test_dive_option_checked():
    prob = tiny(0, proxy="coupled")
    with pytest.raises(ValueError, match="dive_nodes"):
        solve(prob, "lagrangian", primal="dive", dive_nodes=-1)
    with pytest.raises(ValueError, match="dive_share"):
        solve(prob, "lagrangian", primal="dive", dive_share=0.0)
    with pytest.raises(ValueError, match="column generation"):
        solve(prob, "lagrangian", primal="dive", dual="subgradient")
    pool, path = _start_pool(prob)
    with pytest.raises(ValueError, match="strategy"):
        branch_and_price(prob, path, 0.0, strategy="bfs")
