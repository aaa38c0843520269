"""Window bound on the coupled P2 (oracles.p2.window_bound): validity, strength, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from oracles.p2 import solve
from oracles.p2.colgen import column_generation
from oracles.p2.lagrangian import dual_value
from oracles.p2.window_bound import best_window_bound, unbudgeted_dual_value, window_bound
from tests.unit.oracles.test_p2_colgen import _start_pool
from tests.unit.oracles.test_p2_solvers import brute_force, tiny

# (seed, S, k0, k1): instances whose budgets do not bind at the master's prices
# (L(pi) = L(pi) without budgets) and whose Dantzig-Wolfe bound is above the optimum
CASES = [(2, 2, 0, 0), (10, 2, 1, 2), (4, 2, 1, 2), (8, 3, 1, 2)]


def _master_prices(prob):
    pool, _ = _start_pool(prob)
    return column_generation(prob, pool, max_rounds=200)["pi"]


@pytest.mark.parametrize(("seed", "S", "k0", "k1"), CASES, ids=[f"seed{s}-S{n}-w{a}-{b}" for s, n, a, b in CASES])
def test_window_bound_between_optimum_and_dantzig_wolfe(seed, S, k0, k1):  # noqa: N803
    prob = tiny(seed, S=S, C=3, K=4, H=1, load=5.0, proxy="coupled")
    opt = brute_force(prob)
    pi = _master_prices(prob)
    lag = dual_value(prob, pi)[0]
    assert unbudgeted_dual_value(prob, pi) == pytest.approx(lag, abs=1e-9)
    assert lag - opt > 1e-2  # a Dantzig-Wolfe gap to close
    res = window_bound(prob, pi, k0, k1, time_limit=30.0)
    assert res["status"] == "Optimal"
    assert opt - 1e-7 <= res["bound"] <= lag + res["envelope_error"] + 1e-7
    assert res["bound"] < lag - 5e-3  # the window's integral pools close part of the gap


@pytest.mark.parametrize("seed", [1, 3, 5, 9])
def test_window_bound_valid_at_any_prices(seed):
    prob = tiny(seed, S=3, C=3, K=4, H=1, load=6.0, proxy="coupled")
    opt = brute_force(prob)
    rng = np.random.default_rng(seed)
    for k0, k1 in [(0, 1), (1, 3), (2, 2), (3, 3)]:
        pi = rng.uniform(0.0, 5.0, size=(prob.S, prob.K)) * (rng.random((prob.S, prob.K)) < 0.6)
        res = window_bound(prob, pi, k0, k1, time_limit=30.0)
        assert res["bound"] >= opt - 1e-7
        assert res["bound"] <= unbudgeted_dual_value(prob, pi) + res["envelope_error"] + 1e-7
        assert unbudgeted_dual_value(prob, pi) >= dual_value(prob, pi)[0] - 1e-9  # budgets dropped


@pytest.mark.parametrize("seed", [0, 4])
def test_whole_horizon_window_is_the_envelope_milp(seed):
    # budgets that cannot bind (H = K): the window over all slots is the MILP with the envelope
    prob = tiny(seed, S=2, C=3, K=4, H=4, load=5.0, proxy="coupled")
    opt = brute_force(prob)
    full = window_bound(prob, np.zeros((prob.S, prob.K)), 0, prob.K - 1, time_limit=30.0)
    assert full["status"] == "Optimal" and full["priced"] == 0.0
    assert opt - 1e-7 <= full["bound"] <= opt + full["envelope_error"] + 1e-7


def test_best_window_bound_picks_priced_windows_and_is_deterministic():
    prob = tiny(10, S=2, C=3, K=4, H=1, load=5.0, proxy="coupled")
    pi = _master_prices(prob)
    runs = [best_window_bound(prob, pi, slots=2, count=2, time_limit=30.0) for _ in range(2)]
    a, b = runs
    assert a["bound"] == b["bound"] and a["windows"] == [dict(w, time_s=v["time_s"]) for w, v in
                                                         zip(b["windows"], a["windows"], strict=True)]
    mass = [pi[:, w["k0"]:w["k1"] + 1].sum() for w in a["windows"]]
    assert mass == sorted(mass, reverse=True) and mass[0] == max(pi[:, k:k + 2].sum() for k in range(prob.K - 1))
    assert a["bound"] == min(w["bound"] for w in a["windows"])
    single = window_bound(prob, pi, a["windows"][0]["k0"], a["windows"][0]["k1"], time_limit=30.0)
    assert single["bound"] == a["windows"][0]["bound"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"k0": 2, "k1": 1}, "k0, k1"), ({"k0": 0, "k1": 9}, "k0, k1"), ({"time_limit": 0.0}, "time_limit"),
     ({"n_cuts": 1}, "n_cuts"), ({"pi": -1.0}, "pi"), ({"start": np.zeros((1, 1), np.int64)}, "start")],
    ids=["reversed", "past-end", "time", "cuts", "negative-pi", "start-shape"],
)
def test_window_bound_rejects_bad_arguments(kwargs, match):
    prob = tiny(0, S=2, C=3, K=4, H=1, proxy="coupled")
    args = {"pi": np.zeros((prob.S, prob.K)), "k0": 0, "k1": 1}
    if "pi" in kwargs:
        args["pi"] = np.full((prob.S, prob.K), kwargs.pop("pi"))
    for key in ("k0", "k1"):
        if key in kwargs:
            args[key] = kwargs.pop(key)
    with pytest.raises(ValueError, match=match):
        window_bound(prob, args["pi"], args["k0"], args["k1"], **kwargs)
    with pytest.raises(ValueError, match="proxy"):
        window_bound(tiny(0, S=2, C=3, K=4, H=1), args["pi"], 0, 1)
    with pytest.raises(ValueError, match="slots"):
        best_window_bound(prob, np.zeros((prob.S, prob.K)), slots=0)


def test_lagrangian_window_option_valid_and_never_weaker():
    prob = tiny(10, S=2, C=3, K=4, H=1, load=5.0, proxy="coupled")
    opt = brute_force(prob)
    base = solve(prob, "lagrangian", gap_tol=0.0, cg_min_gap=0.0)
    runs = [solve(prob, "lagrangian", gap_tol=0.0, cg_min_gap=0.0, relaxation="window", window_slots=2,
                  window_count=2) for _ in range(2)]
    r = runs[0]
    assert r.info["relaxation"] == "window" and 1 <= len(r.info["dec_windows"]) <= 2
    assert opt - 1e-7 <= r.bound <= base.bound + 1e-12
    assert r.bound < base.bound - 5e-3  # the window tightens this instance's certificate
    assert r.objective <= opt + 1e-9
    assert runs[1].bound == r.bound and np.array_equal(runs[1].assoc, r.assoc)
