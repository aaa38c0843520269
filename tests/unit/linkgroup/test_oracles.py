import numpy as np
import pytest

from leo_env.core.linkgroups import schedule_delivered
from oracles.linkgroup import (
    InfeasibleSolutionError,
    ObjectiveSpec,
    make_solution,
    objective,
    qp_bound,
    solve_admm,
    solve_greedy,
    solve_hindsight,
    solve_opt,
)
from oracles.linkgroup.objective import objective_terms
from oracles.linkgroup.opt import cut_error_bound

from .conftest import brute_force_min, make_instance

SPECS = {
    "default": ObjectiveSpec(),
    "linear-served": ObjectiveSpec(served="linear"),
    "raw-data": ObjectiveSpec(data="raw"),
}


def _direct_objective(inst, d, spec):
    n = 0
    data = 0.0
    for k in range(inst.K):
        if not inst.active[k]:
            continue
        if d[k] < inst.min_bits[k] * (1 - 1e-9):
            n += 1
        z = min(d[k], inst.demand_bits[k])
        s = inst.demand_bits[k] if spec.data == "normalised" else spec.unit_bits
        data += inst.weight[k] * ((inst.demand_bits[k] - z) / s) ** 2
    return (n * n if spec.served == "squared" else n) + data


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_objective_equals_a_direct_loop(spec):
    _, inst, _ = make_instance("small", 1)
    rng = np.random.default_rng(0)
    for _ in range(20):
        d = rng.uniform(0, 1.5, inst.K) * inst.demand_bits * (rng.random(inst.K) < 0.7)
        assert objective(inst, d, spec) == pytest.approx(_direct_objective(inst, d, spec), rel=1e-12)
    batch = rng.uniform(0, 1, (5, inst.K)) * inst.demand_bits
    np.testing.assert_allclose(
        objective(inst, batch, spec), [_direct_objective(inst, b, spec) for b in batch], rtol=1e-12
    )
    s, dt, n = objective_terms(inst, np.zeros(inst.K), spec)
    assert n == inst.active.sum()


CASES = [("tiny", s, "default") for s in (0, 1, 2, 3)] + [
    ("tiny", 1, "linear-served"),
    ("tiny", 2, "raw-data"),
]


@pytest.mark.parametrize("preset,seed,spec_name", CASES, ids=[f"{p}-{s}-{n}" for p, s, n in CASES])
def test_opt_equals_brute_force_and_bounds_every_method(preset, seed, spec_name):
    spec = SPECS[spec_name]
    _, inst, _ = make_instance(preset, seed, T=2)
    best, n_sched = brute_force_min(inst, lambda d: objective(inst, d, spec))
    assert n_sched > 100  # a real search
    opt = solve_opt(inst, spec)
    opt.check_feasible(inst, spec)
    err = opt.info["cut_error_bound"]
    assert opt.info["status"] == "optimal"
    assert best - 1e-9 <= opt.objective <= best + err + 1e-6 * max(1, best)
    assert opt.bound <= best + 1e-6 * max(1, best)
    assert qp_bound(inst, spec)["bound"] <= best + 1e-9
    for sol in (solve_greedy(inst, spec), solve_admm(inst, spec), solve_hindsight(inst, spec)):
        sol.check_feasible(inst, spec)
        assert sol.objective >= best - 1e-9


def test_methods_on_a_ten_slot_instance():
    _, inst, _ = make_instance("small", 4)
    opt = solve_opt(inst)
    qp = qp_bound(inst)
    assert qp["bound"] <= opt.objective + 1e-9
    assert opt.bound <= opt.objective + 1e-9
    # the valid cuts tighten the relaxation and leave the integer optimum unchanged
    weak = qp_bound(inst, strengthen=False)
    assert weak["bound"] <= qp["bound"] + 1e-6
    assert solve_opt(inst, strengthen=False).objective == pytest.approx(opt.objective, abs=1e-9)
    for sol in (solve_greedy(inst), solve_admm(inst, max_iter=50)):
        sol.check_feasible(inst)
        assert opt.objective <= sol.objective + opt.info["cut_error_bound"] + 1e-9


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_methods_on_k20(seed):
    _, inst, _ = make_instance("k20", seed)
    opt = solve_opt(inst, time_limit=120)
    assert opt.info["status"] == "optimal"
    assert qp_bound(inst)["bound"] <= opt.objective + 1e-9
    for sol in (solve_greedy(inst), solve_admm(inst)):
        sol.check_feasible(inst)
        assert opt.objective <= sol.objective + opt.info["cut_error_bound"] + 1e-9


def test_solvers_are_deterministic():
    _, inst, _ = make_instance("small", 2)
    for solve in (solve_opt, solve_greedy, lambda i: solve_admm(i, max_iter=30)):
        a, b = solve(inst), solve(inst)
        np.testing.assert_array_equal(a.links, b.links)
        assert a.objective == b.objective


def test_check_feasible_rejects_bad_schedules(tiny):
    _, inst, _ = tiny
    mt = int(np.flatnonzero(inst.compat[1] & ~inst.compat[0] & inst.active)[0])
    links = -np.ones((inst.T, inst.J), dtype=np.int64)
    links[0, 1] = mt
    good = make_solution(inst, links, "x")
    good.check_feasible(inst)
    bad = links.copy()
    bad[0, 0] = mt  # LEO cannot serve an MT
    with pytest.raises(InfeasibleSolutionError, match="slot 0"):
        make_solution(inst, bad, "x").check_feasible(inst)
    bad = links.copy()
    bad[0, 2] = mt  # the same MT twice in one slot
    with pytest.raises(InfeasibleSolutionError):
        make_solution(inst, bad, "x").check_feasible(inst)
    d, _ = schedule_delivered(inst, links)
    from dataclasses import replace

    with pytest.raises(InfeasibleSolutionError, match="objective"):
        replace(good, objective=good.objective + 1).check_feasible(inst)
    assert np.allclose(good.delivered_bits, d)


def test_opt_cut_error_bound_shrinks_with_cuts():
    _, inst, _ = make_instance("tiny", 0)
    assert cut_error_bound(inst, 129) < cut_error_bound(inst, 33) / 10
    with pytest.raises(ValueError, match="n_cuts"):
        solve_opt(inst, n_cuts=1)


def test_brute_force_cases_are_not_trivial():
    vals = []
    for seed in (0, 1, 2, 3):
        _, inst, _ = make_instance("tiny", seed, T=2)
        vals.append(brute_force_min(inst, lambda d, inst=inst: objective(inst, d))[0])
    assert sum(v > 0.5 for v in vals) >= 2, vals


def test_recovery_time_on_constructed_series():
    from oracles.linkgroup.objective import gap_to_reference, recovery_time

    # level 10 before, jump to 30 at slot 200, linear return to 10 by slot 260, flat after
    x = np.full(400, 10.0)
    x[200:260] = np.linspace(30.0, 10.0, 60)
    r = recovery_time(x, 200, 400)
    # direct reference: first s with mean(x[s-19 .. s]) within 5 % of 10, post-change only
    ref = next(s for s in range(219, 400) if abs(x[s - 19 : s + 1].mean() - 10.0) <= 0.5)
    assert r.recovered and r.slots == ref + 1 - 200 and r.level == 10.0
    # never within 0.1 % of the tail mean (window averages jump past it): censored
    y = np.r_[np.full(200, 10.0), np.full(80, 30.0), np.full(17, 10.0), np.full(33, 21.3)]
    r2 = recovery_time(y, 200, 330, tol=1e-3)
    assert not r2.recovered and r2.slots == 130
    # immediate recovery = one window
    assert recovery_time(np.full(300, 5.0), 100, 300).slots == 20
    with pytest.raises(ValueError, match="cycle_end"):
        recovery_time(x, 390, 400)
    assert gap_to_reference(13.0, 10.0) == pytest.approx(0.3)
