import gymnasium as gym
import numpy as np
import pytest

import leo_env  # noqa: F401 - registers the ids
from leo_env.envs.downlink.policies import (
    GreedyPolicy,
    HindsightPolicy,
    MPCPolicy,
    RandomPolicy,
    make_policy,
    run_episode,
)
from oracles.baselines import greedy_association

from .conftest import DEFAULT_ALLOCATOR, needs_p2


@pytest.mark.parametrize("preset,seed", [("toy", 0), ("medium", 1), ("stress", 2)])
def test_b0_reproduces_greedy_association(preset, seed):
    env = gym.make(f"leo_env/Downlink-{preset}-v0", allocator="equal")
    res = run_episode(GreedyPolicy(), env, seed=seed)
    sc = env.unwrapped.scenario
    np.testing.assert_array_equal(res.assoc, greedy_association(sc.v, sc.g, sc.H))
    assert res.info["budget_violations"] == 0 and res.info["repairs_total"] == 0


def test_b0_is_budget_safe_under_basic_masks():
    env = gym.make("leo_env/Downlink-stress-v0", allocator="equal", mask_mode="basic")
    res = run_episode(GreedyPolicy(), env, seed=0)
    assert res.info["emergencies_total"] == 0 and res.info["budget_violations"] == 0


def test_random_policy_and_registry():
    env = gym.make("leo_env/Downlink-toy-v0", allocator="equal")
    res = run_episode(RandomPolicy(seed=0), env, seed=0)
    assert res.assoc.shape == (5, 10) and res.info["repairs_total"] == 0
    assert np.isclose(res.ret, res.rewards.sum())
    assert isinstance(make_policy("B0"), GreedyPolicy)
    with pytest.raises(ValueError, match="unknown policy"):
        make_policy("B9")


@needs_p2
def test_env_return_equals_p2_evaluate():
    from oracles import p2

    env = gym.make("leo_env/Downlink-medium-v0", allocator=DEFAULT_ALLOCATOR)
    for seed in (0, 1):
        res = run_episode(RandomPolicy(seed=seed), env, seed=seed)
        ev = p2.evaluate(env.unwrapped.scenario, res.assoc)
        np.testing.assert_allclose(ev.reward, res.rewards, rtol=1e-9, atol=1e-9)
        assert ev.utility == pytest.approx(res.ret, rel=1e-9, abs=1e-9)
        np.testing.assert_allclose(ev.xi, res.xi, rtol=1e-9, atol=1e-12)
        assert ev.budget_violations == 0 and ev.emergencies == 0


def _b1_b0_b2_means(seeds):
    env = gym.make("leo_env/Downlink-medium-v0", allocator=DEFAULT_ALLOCATOR)
    ret = {name: [] for name in ("B0", "B1", "B2")}
    for seed in seeds:
        b0 = run_episode(GreedyPolicy(), env, seed=seed)
        b1 = run_episode(HindsightPolicy(), env, seed=seed)
        b2 = run_episode(MPCPolicy(), env, seed=seed)
        for name, res in (("B0", b0), ("B1", b1), ("B2", b2)):
            assert res.info["budget_violations"] == 0 and res.info["emergencies_total"] == 0
            ret[name].append(res.ret)
        assert b1.info["repairs_total"] == 0 and b1.ret >= b0.ret  # B1 considers B0's plan
    return {k: float(np.mean(v)) for k, v in ret.items()}


@needs_p2
def test_b1_beats_b0_and_b2_on_average():
    mean = _b1_b0_b2_means(seeds=(0, 1))
    assert mean["B1"] >= mean["B0"] and mean["B1"] >= mean["B2"], mean


@needs_p2
@pytest.mark.slow
def test_b1_beats_b0_and_b2_on_average_more_seeds():
    mean = _b1_b0_b2_means(seeds=range(2, 7))
    assert mean["B1"] >= mean["B0"] and mean["B1"] >= mean["B2"], mean
