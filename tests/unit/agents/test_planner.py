"""Planner (agents.planner): demand posterior, price-warm-started planning, the policy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from agents.planner import (
    DemandModel,
    PlannerPolicy,
    PriceModel,
    _price_net,
    fit_demand_model,
    plan_from_prices,
)
from oracles.p2.result import score_path
from oracles.p2.synthetic import random_problem


def _synthetic_demand(rng: np.random.Generator, C: int, K: int, packet: float):  # noqa: N803
    profile = 1.0 + 0.3 * np.sin(2 * np.pi * np.arange(K) / 24)
    profile = profile / profile.mean()
    level = rng.choice([1e6, 5e6], size=C)
    d = rng.poisson(level[:, None] * profile[None, :] / packet) * packet
    return profile, d.astype(float)


@pytest.mark.parametrize("k", [0, 7, 20], ids=["k0", "k7", "k20"])
def test_posterior_beats_raw_noisy_forecasts(k: int) -> None:
    """With the true profile and packet variance, the posterior has a smaller RMS error."""
    rng = np.random.default_rng(0)
    C, K, packet, e = 400, 30, 12000.0, 0.2  # noqa: N806
    profile, d = _synthetic_demand(rng, C, K, packet)
    model = DemandModel("synthetic", tuple(profile), kappa=packet, tau2=0.0, seeds=0)
    fc = d[:, k:] * np.maximum(0.0, 1.0 + e * rng.standard_normal((C, K - k)))
    post = model.posterior(d[:, :k], fc, k, e, per_slot=True)
    raw_err = np.sqrt(np.mean(((fc - d[:, k:]) / d[:, k:]) ** 2))
    post_err = np.sqrt(np.mean(((post - d[:, k:]) / d[:, k:]) ** 2))
    assert post_err < 0.6 * raw_err
    # the exact forecasts are returned untouched when they carry no error
    np.testing.assert_array_equal(model.posterior(d[:, :k], d[:, k:], k, 0.0, per_slot=True), d[:, k:])


def test_posterior_flat_forecasts_follow_the_profile() -> None:
    """Causal (flat) forecasts only inform the level: the result is ``level * profile``."""
    rng = np.random.default_rng(1)
    profile, d = _synthetic_demand(rng, 50, 30, 12000.0)
    model = DemandModel("synthetic", tuple(profile), kappa=12000.0, tau2=0.0, seeds=0)
    post = model.posterior(d[:, :10], np.repeat(d[:, 9:10], 20, axis=1), 10, 0.1, per_slot=False)
    ratio = post / profile[None, 10:]
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[:, :1], ratio.shape), rtol=1e-12)
    # the level is the weighted mean of the 10 past slots: within 10 % of the true level
    true_level = np.where(d.mean(axis=1) > 2.5e6, 5e6, 1e6)
    assert np.all(np.abs(ratio[:, 0] / true_level - 1.0) < 0.1)


def test_fit_recovers_packet_variance() -> None:
    """On `medium` (Poisson packets of 12 kbit), the fitted kappa is the packet size within 20 %."""
    model = fit_demand_model("medium", seeds=16)
    assert model.K == 30
    assert abs(model.kappa - 12000.0) / 12000.0 < 0.2
    assert abs(np.mean(model.profile) - 1.0) < 1e-12


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [("profile", {"profile": (1.0, -1.0)}), ("kappa", {"kappa": -1.0}), ("tau2", {"tau2": float("nan")})],
    ids=["profile", "kappa", "tau2"],
)
def test_demand_model_rejects_bad_fields(field: str, kwargs: dict) -> None:
    base = {"preset": "x", "profile": (1.0, 1.0), "kappa": 1.0, "tau2": 0.0, "seeds": 1}
    with pytest.raises(ValueError, match=field):
        DemandModel(**{**base, **kwargs})


def test_posterior_rejects_bad_arguments() -> None:
    model = DemandModel("x", (1.0,) * 5, kappa=1.0, tau2=0.0, seeds=1)
    with pytest.raises(ValueError, match="rel_error"):
        model.posterior(np.ones((2, 1)), np.ones((2, 4)), 1, -0.1, True)
    with pytest.raises(ValueError, match="history"):
        model.posterior(np.ones((2, 2)), np.ones((2, 4)), 1, 0.1, True)
    with pytest.raises(ValueError, match="exceed"):
        model.posterior(np.ones((2, 2)), np.ones((2, 4)), 2, 0.1, True)


def _brute_force(problem) -> float:  # noqa: ANN001
    best = -np.inf
    C, L, K = problem.C, problem.L, problem.K  # noqa: N806
    for flat in itertools.product(range(L), repeat=C * K):
        path = np.array(flat).reshape(C, K)
        vis = problem.vis[np.arange(C)[:, None], path, np.arange(K)[None, :]]
        ho = (np.diff(path, axis=1) != 0).sum(axis=1)
        if vis.all() and np.all(ho <= problem.budget):
            best = max(best, score_path(problem, path)[0])
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_plan_from_prices_feasible_and_bounded(seed: int) -> None:
    """The plan is feasible, never better than brute force, and the dual value bounds both."""
    rng = np.random.default_rng(seed)
    prob = random_problem(rng, S=2, C=3, K=3, H=1, load=3.0, proxy="coupled")
    pi0 = rng.uniform(0.0, 2.0, (prob.S, prob.K))
    path, info = plan_from_prices(prob, pi0, iters=15)
    C, K = path.shape  # noqa: N806
    assert prob.vis[np.arange(C)[:, None], path, np.arange(K)[None, :]].all()
    assert np.all((np.diff(path, axis=1) != 0).sum(axis=1) <= prob.budget)
    opt = _brute_force(prob)
    assert info["objective"] == pytest.approx(score_path(prob, path)[0])
    assert info["objective"] <= opt + 1e-9
    assert info["bound"] >= opt - 1e-9


def _zero_price_model() -> PriceModel:
    import torch as th

    th.manual_seed(0)
    net = _price_net()
    return PriceModel({"mu": np.zeros(14), "sd": np.ones(14),
                       "net": {k: v.detach().numpy() for k, v in net.state_dict().items()}})


@pytest.mark.parametrize("mode", ["prices", "search"])
def test_planner_plays_toy_within_budgets_deterministically(mode: str) -> None:
    from leo_env.envs.downlink import DownlinkEnv
    from leo_env.envs.downlink.policies import run_episode

    env = DownlinkEnv("toy", allocator="equal", predictor="noisy-truth", prediction_error=0.2)
    dm = DemandModel("toy", (1.0,) * 10, kappa=12000.0, tau2=0.01, seeds=0)
    rets = []
    for _ in range(2):
        pol = PlannerPolicy(mode=mode, demand_model=dm, price_model=_zero_price_model())
        res = run_episode(pol, env, seed=3, options={"scenario_seed": 5})
        assert res.info["budget_violations"] == 0
        assert res.info["emergencies_total"] == 0
        rets.append(res.ret)
    assert rets[0] == rets[1]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"mode": "x"}, "mode"), ({"iters": -1}, "iters"), ({"passes": 0}, "passes")],
    ids=["mode", "iters", "passes"],
)
def test_planner_rejects_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PlannerPolicy(**kwargs)
