import itertools

import numpy as np
import pytest

from leo_env.scenario.multiorbit import build_instance, preset, synthetic_instance
from oracles.multiorbit import baselines as B
from oracles.multiorbit.exhaustive import exact_tiny, exhaustive_subsets
from oracles.multiorbit.jubpa import jubpa
from oracles.multiorbit.markov import initial_subset
from oracles.multiorbit.matching import GameState, ba_game, ua_game
from oracles.multiorbit.objective import evaluate
from oracles.multiorbit.power import allocate_exact
from oracles.multiorbit.solution import Solution, equal_split

from .test_power import _slsqp_pa

METHODS = {
    "dv-moss": lambda i: B.dv_moss(i, seed=1),
    "eps-markov": lambda i: B.eps_markov(i, seed=1, n_iter=15),
    "k-nearest": lambda i: B.k_nearest(i, 3),
    "2-nearest": B.two_nearest,
    "k-random": lambda i: B.k_random(i, 3, seed=2),
    "fixed-fixed": lambda i: B.fixed_ua_fixed_ba(i, seed=1),
    "fixed-matching": lambda i: B.fixed_ua_matching_ba(i, seed=1, max_iter=30),
}
SLOW_METHODS = {"exhaustive": exhaustive_subsets}


@pytest.fixture(scope="module")
def small():
    return build_instance(preset("small", cone_deg=60.0), seed=3)


@pytest.mark.parametrize(
    "name",
    [*METHODS, *(pytest.param(m, marks=pytest.mark.slow) for m in SLOW_METHODS)],
)
def test_every_method_feasible_and_deterministic(small, name):
    fn = {**METHODS, **SLOW_METHODS}[name]
    sol = fn(small)
    sol.check_feasible(small)
    assert len(sol.selected) <= small.n_max
    again = fn(small)
    assert again.selected == sol.selected
    np.testing.assert_array_equal(again.assoc, sol.assoc)
    np.testing.assert_array_equal(again.power_w, sol.power_w)


def test_feasibility_check_catches_violations(small):
    sol = B.k_nearest(small, 2)
    u = int(np.flatnonzero(sol.assoc >= 0)[0])
    fields = dict(selected=sol.selected, owner=sol.owner, subc=sol.subc, method="x")

    def broken(**kw):
        args = {**fields, "assoc": sol.assoc, "power_w": sol.power_w, **kw}
        return Solution.build(
            small,
            args.pop("selected"),
            args.pop("owner"),
            args.pop("assoc"),
            args.pop("subc"),
            args.pop("power_w"),
            method="x",
        )

    p = sol.power_w.copy()
    p[sol.assoc == sol.assoc[u]] *= 2.0
    assert any("budget" in v for v in broken(power_w=p).violations(small))
    p = sol.power_w.copy()
    p[u] = 0.0
    assert any("minimum rate" in v for v in broken(power_w=p).violations(small))
    hidden = np.flatnonzero(~small.visible[:, u])
    if hidden.size:
        a = sol.assoc.copy()
        a[u] = hidden[0]
        assert broken(assoc=a).violations(small)
    too_many = Solution.build(
        small, tuple(range(small.n_sats)), sol.owner, sol.assoc, sol.subc, sol.power_w
    )
    if small.n_sats > small.n_max:
        assert any("n_max" in v for v in too_many.violations(small))


def test_equal_split():
    np.testing.assert_array_equal(equal_split([4, 1, 7], 8), [1, 1, 4, 4, 4, 7, 7, 7])
    with pytest.raises(ValueError, match="selected"):
        equal_split([0, 1, 2], 2)


@pytest.mark.parametrize("seed", range(6))
def test_matching_rounds_never_lower_the_value(seed):
    rng = np.random.default_rng(seed)
    inst = synthetic_instance(rng, 4, 14, 8, r_min_bps=0.15e6)
    st = GameState(inst, [0, 1, 2, 3])
    st.init_greedy()
    st.refresh_all()
    res = allocate_exact(inst, st.assoc, st.subc)
    st.set_budgets(res.sub_power_w)
    for game in (ua_game, ba_game, ua_game, ba_game):
        hist = game(st)
        assert all(b >= a - 1e-9 for a, b in zip(hist, hist[1:], strict=False)), hist
        # the recorded value equals an independent recomputation from scratch
        fresh = GameState(inst, [0, 1, 2, 3])
        fresh.budget[:] = st.budget
        for u in np.flatnonzero(st.assoc >= 0):
            fresh.assoc[u], fresh.subc[u] = st.assoc[u], st.subc[u]
            fresh.members[st.subc[u]].append(int(u))
        fresh.refresh_all()
        assert fresh.value() == pytest.approx(hist[-1], rel=1e-12, abs=1e-9)
    # JUBPA: the objective after every improving round increases; result = best seen
    sol = jubpa(inst, [0, 1, 2, 3])
    vals = sol.info["round_values"]
    assert sol.objective_mbps == pytest.approx(max(vals))
    assert all(b > a for a, b in zip(vals[:-1], vals[1:-1], strict=False))
    sol.check_feasible(inst)


def test_game_rule_equals_exact_pa_at_its_budgets():
    # The rule's per-subcarrier value equals the exact objective of its own powers.
    rng = np.random.default_rng(7)
    inst = synthetic_instance(rng, 2, 8, 4, r_min_bps=0.15e6)
    st = GameState(inst, [0, 1])
    st.init_greedy()
    st.refresh_all()
    res = allocate_exact(inst, st.assoc, st.subc)
    st.set_budgets(res.sub_power_w)
    ev = evaluate(inst, st.assoc, st.subc, st.power)
    assert ev.sum_rate_bps == pytest.approx(st.value_f.sum(), rel=1e-9)
    assert evaluate(inst, st.assoc, st.subc, res.power_w).sum_rate_bps == pytest.approx(
        st.value_f.sum(), rel=1e-9
    )


def _brute_force(inst):
    """Independent enumeration: itertools over (sat, sub)|none per UE, SLSQP power allocation."""
    opts = [
        [(-1, -1)]
        + [(s, f) for s in range(inst.n_sats) if inst.visible[s, u] for f in range(inst.n_sub)]
        for u in range(inst.n_ues)
    ]
    best = -np.inf
    for combo in itertools.product(*opts):
        assoc = np.array([c[0] for c in combo])
        subc = np.array([c[1] for c in combo])
        owners = {}
        ok = True
        for s, f in combo:
            if s >= 0 and owners.setdefault(f, s) != s:
                ok = False
        if not ok or len(set(assoc[assoc >= 0])) > inst.n_max:
            continue
        val = -inst.penalty_mbps * np.count_nonzero(assoc < 0)
        if (assoc >= 0).any():
            val += _slsqp_pa(inst, assoc, subc, starts=3)
        best = max(best, val)
    return best


def test_exact_tiny_equals_brute_force_and_bounds_every_method():
    inst = build_instance(preset("tiny", n_ues=3, n_sub=2, max_candidates=2, cone_deg=60.0), 1)
    ex = exact_tiny(inst)
    ex.check_feasible(inst)
    ref = _brute_force(inst)
    assert ex.objective_mbps >= ref - 1e-6 * abs(ref)
    assert ex.objective_mbps == pytest.approx(ref, rel=1e-4)
    for name, fn in METHODS.items():
        sol = fn(inst)
        sol.check_feasible(inst)
        assert sol.objective_mbps <= ex.objective_mbps + 1e-9, name


@pytest.mark.parametrize("seed", [0, *(pytest.param(s, marks=pytest.mark.slow) for s in (1, 2))])
def test_exact_tiny_bounds_methods_on_tiny_preset(seed):
    inst = build_instance(preset("tiny", n_ues=3), seed)
    ex = exact_tiny(inst)
    ex.check_feasible(inst)
    eq = exact_tiny(inst, split="equal")
    eq.check_feasible(inst)
    exh = exhaustive_subsets(inst)
    dv = B.dv_moss(inst, seed=0)
    assert dv.objective_mbps <= exh.objective_mbps + 1e-9
    assert exh.objective_mbps <= eq.objective_mbps + 1e-9 <= ex.objective_mbps + 2e-9


def test_k_nearest_picks_nearest_and_initial_subset(small):
    sol = B.k_nearest(small, 2)
    assert set(sol.selected) == set(np.argsort(small.centre_range_m)[:2].tolist())
    a0 = initial_subset(small)
    assert len(a0) == min(small.n_max, small.n_sub, small.n_sats)
    assert B.k_cap(small, 100) == min(small.n_max, small.n_sub, small.n_sats)
