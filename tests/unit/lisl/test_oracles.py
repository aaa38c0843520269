import dataclasses

import numpy as np
import pytest

from leo_env.scenario.lisl import LISL_PRESETS, build_lisl_instance
from oracles.lisl import (
    BASELINES,
    DujoParams,
    InfeasibleSolution,
    LislProblem,
    dual_bound,
    dujo,
    lp_relaxation_bound,
    make_solution,
    solve_milp,
    subgradient,
)
from tests.unit.lisl.toy import brute_force_optimum, toy_problem

FAST = DujoParams(iterations=40)


@pytest.fixture(scope="module")
def ci_problem():
    inst = build_lisl_instance(LISL_PRESETS["ci"])
    return LislProblem(inst.graph, inst.traffic)


def _all_methods(problem, params=FAST):
    out = {name: fn(problem, np.random.default_rng(0)) for name, fn in BASELINES.items()}
    out["dujo"] = dujo(problem, params)
    out["dujo-both"] = dujo(problem, dataclasses.replace(params, iterate="both"))
    return out


def test_every_method_feasible_and_below_dual_bound_ci(ci_problem):
    sols = _all_methods(ci_problem)
    bound = sols["dujo"].upper_bound_gbps
    assert np.isfinite(bound)
    for name, s in sols.items():
        s.check_feasible(ci_problem)
        assert s.throughput_gbps > 0, name
        assert s.throughput_gbps <= bound + 1e-6, name
    # the certificate is no looser than the trivial bound at lambda = 0
    assert bound <= sols["dujo"].info["bound_zero"] + 1e-9
    assert sols["dujo-both"].throughput_gbps >= sols["dujo"].throughput_gbps - 1e-9


@pytest.mark.parametrize(
    "seed",
    [0, 1, pytest.param(2, marks=pytest.mark.slow), 3, 4, 5],  # seed 2: ~5 s of B&B
)
def test_tiny_milp_equals_enumeration_and_bounds_hold(seed):
    pb = toy_problem(seed)
    opt = brute_force_optimum(pb)
    milp = solve_milp(pb)
    milp.check_feasible(pb)
    assert milp.info["optimal"]
    assert milp.throughput_gbps == pytest.approx(opt, rel=1e-6, abs=1e-6)
    assert milp.info["milp_objective"] == pytest.approx(opt, rel=1e-6, abs=1e-6)
    assert lp_relaxation_bound(pb) >= opt - 1e-6
    for name, s in _all_methods(pb).items():
        s.check_feasible(pb)
        assert s.throughput_gbps <= opt + 1e-6, name
    for lam in (np.zeros(pb.n_arcs), np.random.default_rng(seed).random(pb.n_arcs)):
        assert dual_bound(pb, lam).value >= opt - 1e-6


def test_exact_matching_subgradient_values_are_bounds():
    pb = toy_problem(2)
    opt = brute_force_optimum(pb)
    tr = subgradient(pb, DujoParams(iterations=30, exact_matching=True))
    assert np.all(tr.h >= opt - 1e-6)


def test_lp_relaxation_bound_ci(ci_problem):
    lp = lp_relaxation_bound(ci_problem)
    best = max(s.throughput_gbps for s in _all_methods(ci_problem).values())
    assert lp >= best - 1e-6


def test_methods_are_deterministic(ci_problem):
    a = dujo(ci_problem, FAST)
    b = dujo(ci_problem, FAST)
    assert np.array_equal(a.matched, b.matched) and np.array_equal(a.rate_gbps, b.rate_gbps)
    assert np.array_equal(a.info["dual_trace"], b.info["dual_trace"])
    r1 = BASELINES["rand"](ci_problem, np.random.default_rng(5))
    r2 = BASELINES["rand"](ci_problem, np.random.default_rng(5))
    assert np.array_equal(r1.matched, r2.matched) and np.array_equal(r1.rate_gbps, r2.rate_gbps)


def test_prices_stay_in_unit_box(ci_problem):
    tr = subgradient(ci_problem, FAST)
    assert tr.lam_last.min() >= 0 and tr.lam_last.max() <= 1
    assert tr.lam_last.max() > 0  # demand exceeds supply: some prices must rise


def test_check_feasible_catches_violations(ci_problem):
    s = BASELINES["mrate"](ci_problem, None)
    g = ci_problem.graph

    def tamper(**kw):
        arrays = dict(
            matched=s.matched, path_ptr=s.path_ptr, path_arcs=s.path_arcs, rate_gbps=s.rate_gbps
        )
        arrays.update(kw)
        return make_solution(ci_problem, "tampered", **arrays)

    # two links on one LCT
    n = g.pair_lct[s.matched][0, 0]
    other = np.flatnonzero((g.pair_lct == n).any(axis=1) & ~s.matched)
    if other.size:
        m = s.matched.copy()
        m[other[0]] = True
        with pytest.raises(InfeasibleSolution, match="LCT"):
            tamper(matched=m).check_feasible(ci_problem)
    # rates above capacity or supply
    with pytest.raises(InfeasibleSolution):
        tamper(rate_gbps=s.rate_gbps * 2 + 0.1 * (np.diff(s.path_ptr) > 0)).check_feasible(
            ci_problem
        )
    # a flow on a link that was not established
    routed = np.flatnonzero(np.diff(s.path_ptr) > 0)
    f = routed[0]
    a = s.path_arcs[s.path_ptr[f]]
    m = s.matched.copy()
    m[g.pair_link == a // 2] = False
    with pytest.raises(InfeasibleSolution):
        tamper(matched=m).check_feasible(ci_problem)
    # rate without a path
    unrouted = np.flatnonzero(np.diff(s.path_ptr) == 0)
    if unrouted.size:
        q = s.rate_gbps.copy()
        q[unrouted[0]] = 0.01
        with pytest.raises(InfeasibleSolution, match="no path"):
            tamper(rate_gbps=q).check_feasible(ci_problem)


def test_milp_rejects_large_instances(ci_problem):
    with pytest.raises(ValueError, match="max_sats"):
        solve_milp(ci_problem)
