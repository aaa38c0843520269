"""Column generation and the price-and-branch primal of the coupled P2 (oracles.p2.colgen)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from leo_env.core.handover import count_handovers
from oracles.p2 import proxy as _proxy
from oracles.p2 import solve
from oracles.p2.colgen import ColumnPool, column_generation, integer_master
from oracles.p2.colgen_exact import envelope_master
from oracles.p2.lagrangian import dual_value
from oracles.p2.result import score_path
from oracles.p2.synthetic import random_problem
from tests.unit.oracles.test_p2_solvers import all_paths, brute_force, tiny

SEEDS = [0, 1, 2]


def _start_pool(prob):
    """Pool holding a feasible association (insertion) with its water-filling shares."""
    res = solve(prob, method="lagrangian", max_iter=0, price_rounds=0, local_search_passes=0,
                dual="subgradient")
    path = prob.l_from_assoc(res.assoc)
    _, y, _ = _proxy.coupled_allocation(path, prob.cand, prob.w, prob.eps, prob.S)
    pool = ColumnPool(prob)
    pool.add(path, np.where(np.isnan(y), 0.0, y))
    return pool, path


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_colgen_reaches_min_dual_and_bounds_the_optimum(seed):
    prob = tiny(seed, S=2, C=3, K=4, H=1, load=4.0, proxy="coupled")
    opt = brute_force(prob)
    pool, _ = _start_pool(prob)
    cg = column_generation(prob, pool, max_rounds=200)
    assert cg["converged"]
    # LP value of the converged master = min_pi L(pi): no price vector does better
    assert cg["bound"] == pytest.approx(cg["lp_value"], abs=2e-6 * max(1.0, abs(cg["lp_value"])))
    assert cg["bound"] >= opt - 1e-9
    rng = np.random.default_rng(seed)
    for _ in range(5):
        pi = rng.uniform(0.0, 3.0, (prob.S, prob.K))
        assert dual_value(prob, pi)[0] >= cg["bound"] - 1e-6
    val, _, _ = dual_value(prob, cg["pi"])
    assert val == pytest.approx(cg["bound"], abs=1e-9)


def _model_value(prob, paths, overflow_cost=1.0):
    """Objective of the integer master's model for an association (one path per cell)."""
    K = prob.K  # noqa: N806
    kk = np.arange(K)
    P = np.stack(paths)  # noqa: N806
    need = prob.w[np.arange(prob.C)[:, None], P, kk[None, :]]
    need = np.where(np.isfinite(need), np.minimum(need, 1.0), 0.0)
    pid = prob.cand[np.arange(prob.C)[:, None], P] * K + kk[None, :]
    load = np.zeros(prob.S * K)
    np.add.at(load, pid.ravel(), need.ravel())
    return load, need, pid


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_integer_master_over_all_paths_matches_enumeration(seed):
    prob = tiny(seed, S=3, C=3, K=4, H=1, load=6.0, proxy="coupled")
    every = [all_paths(prob, c) for c in range(prob.C)]
    pool = ColumnPool(prob)
    for c in range(prob.C):
        for p in every[c]:
            full = np.zeros((prob.C, prob.K), np.int64)
            full[c] = p
            pool.add(full, np.zeros((prob.C, prob.K)), np.array([c]))
    # w_max per pool over every path through it (what the master prices overflow with)
    wmax = np.zeros(prob.S * prob.K)
    for c in range(prob.C):
        for p in every[c]:
            load, need, pid = _model_value(prob, [p] * prob.C)
            np.maximum.at(wmax, pid[c], need[c])
    start = np.stack([every[c][0] for c in range(prob.C)])
    path, info = integer_master(prob, pool, start, time_limit=30, mip_rel_gap=0.0)
    best = -np.inf
    for combo in itertools.product(*every):
        load, _, _ = _model_value(prob, combo)
        over = np.maximum(0.0, load - 1.0)
        h = count_handovers(prob.assoc_from_l(np.stack(combo)), prob.initial).sum()
        val = -prob.lambda_h * h - float((over[over > 0] / wmax[over > 0]).sum())
        best = max(best, val)
    assert info["status"] == "Optimal"
    assert info["objective"] == pytest.approx(best, abs=1e-6)
    # the association is feasible and its exact score is never below brute force's optimum minus
    # what the linear overflow price can misjudge; here simply: feasible and no worse than start
    assert np.all(prob.vis[np.arange(prob.C)[:, None], path, np.arange(prob.K)])
    assert np.all(count_handovers(prob.assoc_from_l(path), prob.initial).sum(axis=1) <= prob.budget)
    assert score_path(prob, path)[0] <= brute_force(prob) + 1e-9


def _all_path_pool(prob):
    pool = ColumnPool(prob)
    for c in range(prob.C):
        for p in all_paths(prob, c):
            full = np.zeros((prob.C, prob.K), np.int64)
            full[c] = p
            pool.add(full, np.zeros((prob.C, prob.K)), np.array([c]))
    return pool


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_envelope_master_over_all_paths_equals_the_milp(seed):
    prob = tiny(seed, S=3, C=3, K=4, H=1, load=6.0, proxy="coupled")
    pool = _all_path_pool(prob)
    path, info = envelope_master(prob, pool, n_cuts=48, mip_rel_gap=0.0)
    milp = solve(prob, method="milp", n_cuts=48, mip_rel_gap=0.0)
    assert info["status"] == "Optimal" and milp.status == "optimal"
    # same envelope model, path-based vs arc-based: the same optimum
    assert info["objective"] == pytest.approx(milp.bound, abs=1e-6)
    opt = brute_force(prob)
    exact = score_path(prob, path)[0]
    assert exact <= opt + 1e-9
    assert exact >= opt - prob.C * prob.K * milp.info["cut_error_bound"] - 1e-9


def test_lagrangian_both_never_worse_and_price_and_branch_feasible_deterministic():
    prob = random_problem(np.random.default_rng(7), S=6, C=14, K=16, H=2, load=3.0, proxy="coupled")
    sub = solve(prob, method="lagrangian", max_iter=60, dual="subgradient")
    both = solve(prob, method="lagrangian", max_iter=60, dual="both", gap_tol=0.0, cg_min_gap=0.0)
    assert both.info["cg_rounds"] >= 1
    # column generation only adds bounds (and candidate associations)
    assert both.bound <= sub.bound + 1e-9
    assert both.bound >= both.objective - 1e-9
    kw = dict(max_iter=60, dual="both", gap_tol=0.0, primal="price_and_branch", pb_rounds=4,
              pb_cells=8, pb_sub_time=5.0)
    pb = solve(prob, method="lagrangian", **kw)
    assert pb.info["pb_rounds"] >= 1
    assert pb.objective >= both.objective - 1e-9  # the repair only keeps improvements
    assert np.all(pb.handovers <= prob.budget)
    assert np.all(prob.v[pb.assoc, np.arange(prob.C)[:, None], np.arange(prob.K)])
    assert pb.bound >= pb.objective - 1e-9
    again = solve(prob, method="lagrangian", **kw)
    assert np.array_equal(again.assoc, pb.assoc)


@pytest.mark.slow
def test_colgen_bound_is_the_converged_master_and_beats_the_subgradient():
    prob = random_problem(np.random.default_rng(7), S=6, C=14, K=16, H=2, load=3.0, proxy="coupled")
    sub = solve(prob, method="lagrangian", max_iter=60, dual="subgradient")
    cgo = solve(prob, method="lagrangian", dual="colgen", gap_tol=0.0)
    both = solve(prob, method="lagrangian", max_iter=60, dual="both", gap_tol=0.0, cg_time_share=1e4,
                 cg_min_gap=0.0)
    assert cgo.info["cg_converged"] and both.info["cg_converged"]
    assert cgo.bound <= sub.bound + 1e-9
    assert both.bound == pytest.approx(cgo.bound, rel=2e-6)
    assert cgo.bound >= cgo.objective - 1e-9


def test_colgen_options_are_checked():
    prob = tiny(0, S=2, C=3, K=4, H=1, load=4.0, proxy="coupled")
    with pytest.raises(ValueError, match="dual"):
        solve(prob, method="lagrangian", dual="bundle")
    with pytest.raises(ValueError, match="primal"):
        solve(prob, method="lagrangian", primal="rounding")
    with pytest.raises(ValueError, match="price_and_branch"):
        solve(prob, method="lagrangian", dual="subgradient", primal="price_and_branch")
