import gymnasium as gym
import numpy as np
import pytest

import leo_env.envs  # noqa: F401  (registers the ids)
from agents.config import EnvConfig
from agents.envs import ObsLayout, env_kwargs, flatten_obs, make_env
from agents.vec_env import DownlinkVecEnv
from leo_env.wrappers import FlattenDownlink


@pytest.mark.parametrize("lookahead", [0, 3])
def test_layout_matches_flatten_wrapper_and_round_trips(lookahead):
    env = make_env(EnvConfig(preset="toy", allocator="equal", lookahead=lookahead))
    obs, _ = env.reset(seed=3)
    layout = ObsLayout.from_space(env.observation_space)
    assert layout.A == lookahead
    flat = layout.flatten(obs)
    ref = FlattenDownlink(gym.make("leo_env/Downlink-toy-v0", allocator="equal", lookahead=lookahead))
    ref_obs, _ = ref.reset(seed=3)
    np.testing.assert_array_equal(flat, ref_obs)
    np.testing.assert_array_equal(flat, flatten_obs(obs))
    back = layout.unflatten(flat)
    for k in obs:
        np.testing.assert_array_equal(back[k], obs[k])
    assert layout == ObsLayout.from_dims(**layout.dims)
    np.testing.assert_array_equal(layout.mask(flat), env.unwrapped.action_mask_matrix())


def test_vec_env_matches_scalar_env_and_resets_at_once():
    cfg = EnvConfig(preset="toy", allocator="equal")
    venv = DownlinkVecEnv(2, env_kwargs(cfg))
    venv.seed(5)
    obs = venv.reset()
    scalar = make_env(cfg)
    sobs, _ = scalar.reset(seed=6)  # sub-environment 1 is seeded 5 + 1
    layout = venv.layout
    np.testing.assert_array_equal(obs[1], layout.flatten(sobs))
    K = scalar.unwrapped.params.K
    for k in range(K):
        masks = np.stack(venv.env_method("action_masks"))
        assert masks.shape == (2, layout.C * layout.n)
        act = masks.reshape(2, layout.C, layout.n).argmax(-1)
        obs, rew, done, infos = venv.step(act)
        sobs, srew, term, _, _ = scalar.step(act[1])
        assert rew[1] == np.float32(srew)
        if k < K - 1:
            np.testing.assert_array_equal(obs[1], layout.flatten(sobs))
            assert not done.any()
    assert done.all()
    np.testing.assert_array_equal(infos[1]["terminal_observation"], layout.flatten(sobs))
    assert infos[0]["episode_metrics"]["budget_violations"] == 0
    # the returned observation is already the next episode's first one
    assert layout.unflatten(obs[0])["time"][0] == 0.0
