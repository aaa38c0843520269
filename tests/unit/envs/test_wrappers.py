import itertools
import warnings

import gymnasium as gym
import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

import leo_env
import leo_env.envs  # noqa: F401  (registers the ids)
from leo_env.wrappers import FlattenDownlink, WolpertingerMapper, k_nearest_actions, per_cell_costs


def brute_force(costs, mask, k):
    C, n = costs.shape
    choices = [np.flatnonzero(mask[c]) for c in range(C)]
    joint = np.array(list(itertools.product(*choices)))
    totals = costs[np.arange(C)[None, :], joint].sum(axis=1)
    return np.sort(totals)[:k]


@pytest.mark.parametrize(
    "C,n,k,seed,ties",
    [
        (1, 3, 5, 0, False),
        (3, 3, 10, 1, False),
        (4, 4, 40, 2, False),
        (5, 3, 243, 3, False),
        (6, 2, 64, 4, False),
        (4, 5, 30, 5, True),
        (3, 4, 100, 6, True),
    ],
    ids=lambda x: str(x),
)
def test_k_nearest_equals_brute_force(C, n, k, seed, ties):
    rng = np.random.default_rng(seed)
    costs = rng.integers(0, 3, size=(C, n)).astype(float) if ties else rng.random((C, n))
    mask = rng.random((C, n)) < 0.7
    mask[np.arange(C), rng.integers(0, n, size=C)] = True
    actions, totals = k_nearest_actions(costs, mask, k)
    expect = brute_force(costs, mask, k)
    assert len(actions) == len(expect)
    np.testing.assert_allclose(totals, expect, atol=1e-12)
    assert len({tuple(a) for a in actions}) == len(actions)  # distinct
    assert mask[np.arange(C)[None, :], actions].all()  # masked choices excluded
    assert np.all(np.diff(totals) >= -1e-12)


def test_k_nearest_rejects_empty_rows_and_large_joint_space_is_fast():
    with pytest.raises(ValueError, match="without a choice"):
        k_nearest_actions(np.zeros((2, 2)), np.array([[True, False], [False, False]]), 1)
    rng = np.random.default_rng(0)
    costs = rng.random((300, 8))  # 8**300 joint actions
    actions, totals = k_nearest_actions(costs, None, 50)
    assert actions.shape == (50, 300)
    assert totals[0] == pytest.approx(costs.min(axis=1).sum())


def test_mapper_uses_squared_distance():
    mapper = WolpertingerMapper(4, "scalar")
    proto = np.array([[0.2], [-0.9], [1.0]])
    costs = per_cell_costs(proto, mapper.embedding)
    actions, totals = mapper(proto, k=5)
    assert actions[0].tolist() == costs.argmin(axis=1).tolist()
    np.testing.assert_allclose(totals, brute_force(costs, np.ones_like(costs, bool), 5))


def test_flatten_wrapper_keeps_masks_for_maskable_ppo():
    from stable_baselines3.common.env_checker import check_env

    env = FlattenDownlink(gym.make("leo_env/Downlink-toy-v0", allocator="equal"))
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and env.observation_space.contains(obs)
    assert env.action_masks().shape == (10,) and env.action_masks().dtype == bool
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env)
    from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported

    wrapped = gym.wrappers.RecordEpisodeStatistics(env)
    assert is_masking_supported(wrapped)
    assert get_action_masks(wrapped).shape == (10,)


def test_maskable_ppo_smoke():
    from sb3_contrib import MaskablePPO

    env = FlattenDownlink(gym.make("leo_env/Downlink-toy-v0", allocator="equal"))
    model = MaskablePPO(
        "MlpPolicy", env, n_steps=32, batch_size=16, n_epochs=1, seed=0, device="cpu"
    )
    model.learn(64)
    obs, _ = env.reset(seed=1)
    action, _ = model.predict(obs, action_masks=env.action_masks(), deterministic=True)
    assert env.action_masks().reshape(5, 2)[np.arange(5), action].all()


def test_parallel_api():
    env = leo_env.parallel_env(preset="toy", allocator="equal")
    parallel_api_test(env, num_cycles=50)


def test_parallel_rewards_sum_to_env_reward():
    par = leo_env.parallel_env(preset="medium", allocator="equal")
    ref = gym.make("leo_env/Downlink-medium-v0", allocator="equal")
    obs, _ = par.reset(seed=3)
    ref.reset(seed=3)
    for _ in range(5):
        acts = {a: int(np.flatnonzero(o["action_mask"])[0]) for a, o in obs.items()}
        obs, rew, term, trunc, info = par.step(acts)
        _, r, _, _, _ = ref.step(np.array([acts[a] for a in par.possible_agents]))
        assert sum(rew.values()) == pytest.approx(r, abs=1e-9)
    assert par.state().shape == par.state_space.shape
