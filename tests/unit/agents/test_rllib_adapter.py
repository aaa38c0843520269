"""The RLlib adapter's env side (plain gymnasium, default suite) and its PPO smoke tests (marker rllib)."""

from __future__ import annotations

import math
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import leo_env.envs  # noqa: F401
from agents.rllib import FlattenMask, FlattenMaskVector, make_rllib_env

TOY = "leo_env/Downlink-toy-v0"
EQUAL = {"allocator": "equal"}


def test_importing_the_adapter_loads_no_ray():
    code = "import sys, agents.rllib; assert 'ray' not in sys.modules, 'ray imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_vector_wrapper_rows_match_scalar_wrapper_in_lockstep():
    B = 3
    venv = make_rllib_env({"env_id": TOY, "env_kwargs": EQUAL, "num_envs": B})
    assert isinstance(venv, FlattenMaskVector)
    scalars = [make_rllib_env({"env_id": TOY, "env_kwargs": EQUAL}) for _ in range(B)]
    assert isinstance(scalars[0], FlattenMask)
    assert venv.single_observation_space == scalars[0].observation_space
    obs, _ = venv.reset(seed=5)
    sobs = [env.reset(seed=5 + i)[0] for i, env in enumerate(scalars)]
    rng = np.random.default_rng(0)
    for _ in range(4):
        assert venv.observation_space.contains(obs)
        for i, env in enumerate(scalars):
            assert env.observation_space.contains(sobs[i])
            np.testing.assert_array_equal(obs["observations"][i], sobs[i]["observations"])
            np.testing.assert_array_equal(obs["action_mask"][i], sobs[i]["action_mask"])
        # the mask is the env's own, laid out (cell, candidate) like RLlib's multi-categorical logits
        mask = obs["action_mask"].reshape(B, 5, 2).astype(bool)
        np.testing.assert_array_equal(mask, venv.unwrapped.action_mask_matrix())
        act = np.argmax(rng.random(mask.shape) * mask, axis=-1)
        obs, r, *_ = venv.step(act)
        steps = [env.step(act[i]) for i, env in enumerate(scalars)]
        sobs = [s[0] for s in steps]
        np.testing.assert_allclose(r, [s[1] for s in steps])


@pytest.mark.parametrize(
    ("env_id", "masked"),
    [("leo_env/PrimaryAssignment-v0", True), ("leo_env/MultiOrbitAssoc-v0", True)],
    ids=["assignment", "multiorbit-assoc"],
)
def test_other_families_flatten_with_masks(env_id, masked):
    for cfg in ({"env_id": env_id}, {"env_id": env_id, "num_envs": 2}):
        env = make_rllib_env(cfg)
        obs, _ = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        assert isinstance(env.observation_space, gym.spaces.Dict) == masked
        space = env.action_space if "num_envs" not in cfg else env.single_action_space
        assert env.observation_space["action_mask"].shape[-1] == int(space.nvec.sum())


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="env_id"):
        make_rllib_env({})
    with pytest.raises(ValueError, match="mask=True"):
        FlattenMask(gym.make("leo_env/LislRouting-v0"), mask=True)


# ---------------------------------------------------------------------------- RLlib (marker rllib)
@pytest.fixture(scope="module")
def rllib(ray_cluster):
    mod = pytest.importorskip("ray.rllib")
    import torch

    torch.set_num_threads(1)  # tiny networks; more threads only contend on the shared cores
    return mod


@pytest.mark.rllib
def test_ppo_on_downlink_native_vector_env(rllib):
    from agents.rllib import env_returns, ppo_config, sampled_steps
    from leo_env.envs.downlink.vector import DownlinkVectorEnv

    config = ppo_config(TOY, env_kwargs=EQUAL, num_envs=2, train_batch_size=64, minibatch_size=32,
                        num_epochs=1, seed=0)
    assert config.gym_env_vectorize_mode == gym.VectorizeMode.VECTOR_ENTRY_POINT
    algo = config.build_algo()
    try:
        assert isinstance(algo.env_runner.env.unwrapped, DownlinkVectorEnv)
        steps = []
        for _ in range(2):
            result = algo.train()
            steps.append(sampled_steps(result))
        assert 0 < steps[0] < steps[1]
        assert math.isfinite(env_returns(result))
        # the masking module: masked logits at the float minimum, samples always allowed
        import torch
        from ray.rllib.core.columns import Columns

        module = algo.get_module()
        obs, _ = algo.env_runner.env.reset(seed=3)
        batch = {Columns.OBS: {k: torch.as_tensor(v) for k, v in obs.items()}}
        logits = module.forward_exploration(batch)[Columns.ACTION_DIST_INPUTS]
        mask = torch.as_tensor(obs["action_mask"]) > 0.5
        assert torch.all(logits[~mask] == torch.finfo(logits.dtype).min)
        dist = module.get_exploration_action_dist_cls().from_logits(logits)
        for _ in range(50):
            act = dist.sample().numpy()  # (num_envs, C)
            chosen = np.take_along_axis(mask.numpy().reshape(2, 5, 2), act[..., None], -1)
            assert chosen.all()
    finally:
        algo.stop()


@pytest.mark.rllib
@pytest.mark.parametrize("env_id", ["leo_env/PrimaryAssignment-v0", "leo_env/MultiOrbitSelect-v0"],
                         ids=["assignment-masked", "multiorbit-select-continuous"])
def test_ppo_config_for_other_families(rllib, env_id):
    from agents.rllib import ppo_config, sampled_steps

    algo = ppo_config(env_id, num_envs=2, train_batch_size=32, minibatch_size=32, num_epochs=1).build_algo()
    try:
        assert sampled_steps(algo.train()) > 0
    finally:
        algo.stop()


@pytest.mark.rllib
def test_multi_agent_config_over_pettingzoo_view(rllib):
    from agents.rllib import env_returns, multi_agent_ppo_config, sampled_steps

    for shared in (True, False):
        config = multi_agent_ppo_config(env_kwargs={"preset": "toy", "allocator": "equal"},
                                        shared_policy=shared, train_batch_size=50,
                                        minibatch_size=50, num_epochs=1)
        algo = config.build_algo()
        try:
            result = algo.train()
            assert sampled_steps(result) > 0 and math.isfinite(env_returns(result))
            modules = set(algo.learner_group.get_weights())
            assert modules == ({"shared"} if shared else {f"cell_{c}" for c in range(5)})
        finally:
            algo.stop()


@pytest.mark.rllib
def test_vectorize_mode_is_validated(rllib):
    from agents.rllib import ppo_config

    with pytest.raises(ValueError, match="vectorize"):
        ppo_config(TOY, env_kwargs=EQUAL, vectorize="threads")
    with pytest.raises(ValueError, match="1-D action space"):
        ppo_config("leo_env/LislRouting-v0")
