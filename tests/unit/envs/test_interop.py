"""Interoperability: wrappers record their arguments, reset/step infos share keys, invalid actions."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import leo_env.envs  # noqa: F401  (registers the ids)
from leo_env.envs.downlink.vector import DownlinkVectorEnv
from leo_env.wrappers import FlattenDownlink


def test_flatten_wrapper_records_its_arguments_and_passes_the_checker():
    env = FlattenDownlink(gym.make("leo_env/Downlink-toy-v0", allocator="equal"), drop_mask=True)
    assert env.spec is not None and env.spec.additional_wrappers[-1].kwargs == {"drop_mask": True}
    check_env(env, skip_render_check=True)


def test_reset_and_step_infos_carry_the_same_keys_shapes_and_dtypes():
    env = gym.make("leo_env/Downlink-toy-v0", allocator="equal")
    _, i0 = env.reset(seed=0)
    _, _, _, _, i1 = env.step(env.unwrapped.action_mask_matrix().argmax(axis=1))
    assert set(i0) == set(i1)
    for key in i1:
        a, b = np.asarray(i0[key]), np.asarray(i1[key])
        assert a.shape == b.shape and a.dtype.kind == b.dtype.kind, key
    vec = DownlinkVectorEnv(2, "toy", allocator="equal")
    _, v0 = vec.reset(seed=0)
    _, _, _, _, v1 = vec.step(vec.action_mask_matrix().argmax(axis=2))
    assert set(v0) == set(v1) and set(i1) <= set(v1)


def test_autoreset_reports_the_new_episodes_scenario_seed():
    vec = DownlinkVectorEnv(2, "toy", allocator="equal")
    _, info = vec.reset(seed=3)
    seeds = info["scenario_seed"].copy()
    for _ in range(vec.params.K):  # play both episodes to the end
        _, _, term, _, info = vec.step(vec.action_mask_matrix().argmax(axis=2))
    assert term.all()
    _, _, _, _, info = vec.step(vec.action_mask_matrix().argmax(axis=2))  # NEXT_STEP autoreset
    assert info["_scenario_seed"].all() and not info["_xi"].any()
    new = info["scenario_seed"]
    assert (new != seeds).all()
    assert new.tolist() == [sc.seed for sc in vec.scenarios]


def test_per_cell_mask_layout_matches_the_flat_one():
    vec = DownlinkVectorEnv(3, "medium", allocator="equal")
    vec.reset(seed=1)
    m = vec.action_mask_matrix()
    assert m.shape == (3, vec.params.C, vec.params.n)
    np.testing.assert_array_equal(m.reshape(3, -1), vec.action_masks())


@pytest.mark.parametrize("mode", ["repair", "penalize", "raise"])
def test_invalid_action_modes(mode):
    env = gym.make("leo_env/Downlink-toy-v0", allocator="equal", invalid_action=mode, invalid_penalty=2.0)
    ref = gym.make("leo_env/Downlink-toy-v0", allocator="equal")
    env.reset(seed=0)
    ref.reset(seed=0)
    bad = np.full(5, 7)  # out of range for every cell
    if mode == "raise":
        with pytest.raises(ValueError, match=r"invalid action for cell\(s\) \[0, 1, 2, 3, 4\]"):
            env.step(bad)
        return
    _, r, _, _, info = env.step(bad)
    _, r_ref, _, _, info_ref = ref.step(bad)
    assert info["repairs"] == info_ref["repairs"] == 5
    assert r == pytest.approx(r_ref - (2.0 * 5 if mode == "penalize" else 0.0))


def _run(mode, steps=24):
    vec = DownlinkVectorEnv(2, "toy", allocator="equal", autoreset_mode=mode)
    assert vec.metadata["autoreset_mode"].value == mode
    obs, _ = vec.reset(seed=4)
    out = [(obs, None, None, None)]
    for _ in range(steps):
        # a deterministic function of the state: both modes act alike in the same state
        obs, r, term, _, info = vec.step(vec.action_mask_matrix().argmax(axis=2))
        out.append((obs, r, term, info))
    return out


def test_same_step_autoreset_equals_next_step_without_the_reset_step():
    nxt = _run("NextStep")
    same = _run("SameStep", steps=22)
    # NEXT_STEP spends one extra step per episode end on the reset; both envs end episodes at
    # slot K = 10; compare SAME_STEP's final_obs / new obs with NEXT_STEP's terminal / reset obs
    (obs_n10, r_n10, term_n10, _), (obs_n11, r_n11, _, _) = nxt[10], nxt[11]
    obs_s10, r_s10, term_s10, info_s10 = same[10]
    assert term_n10.all() and term_s10.all()
    np.testing.assert_array_equal(r_s10, r_n10)
    for i in range(2):
        for key in obs_n10:
            np.testing.assert_array_equal(info_s10["final_obs"][i][key], obs_n10[key][i])
            np.testing.assert_array_equal(obs_s10[key][i], obs_n11[key][i])
    assert info_s10["_final_info"].all() and (r_n11 == 0).all()
    np.testing.assert_array_equal(same[11][1], nxt[12][1])  # the next episodes go on in lockstep


def test_disabled_autoreset_needs_an_explicit_reset():
    vec = DownlinkVectorEnv(2, "toy", allocator="equal", autoreset_mode="Disabled")
    vec.reset(seed=0)
    for _ in range(vec.params.K):
        vec.step(vec.action_mask_matrix().argmax(axis=2))
    with pytest.raises(RuntimeError, match=r"finished their episode: reset them"):
        vec.step(vec.action_mask_matrix().argmax(axis=2))
    vec.reset(options={"reset_mask": np.array([True, True])})
    vec.step(vec.action_mask_matrix().argmax(axis=2))
    with pytest.raises(ValueError, match="autoreset_mode must be one of"):
        DownlinkVectorEnv(1, "toy", allocator="equal", autoreset_mode="sometimes")


FAMILY_IDS = [
    ("leo_env/Downlink-toy-v0", {"allocator": "equal"}),
    ("leo_env/PrimaryAssignment-v0", {}),
    ("leo_env/LislRouting-v0", {"n_sats": 60, "n_snapshots": 2}),
    ("leo_env/MultiOrbitSelect-v0", {}),
    ("leo_env/MultiOrbitAssoc-v0", {}),
    ("leo_env/LinkGroupSched-v0", {}),
]


@pytest.mark.parametrize(("env_id", "kwargs"), FAMILY_IDS, ids=[i.split("/")[1] for i, _ in FAMILY_IDS])
def test_every_family_refuses_unknown_arguments_in_pythons_wording(env_id, kwargs):
    # TorchRL's GymEnv passes frameskip=1 and retries without it only on this wording
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'frameskip'"):
        gym.make(env_id, frameskip=1, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize(("env_id", "kwargs"), FAMILY_IDS, ids=[i.split("/")[1] for i, _ in FAMILY_IDS])
def test_torchrl_gymenv_builds_every_family_by_id(env_id, kwargs):
    torchrl_envs = pytest.importorskip("torchrl.envs")
    env = torchrl_envs.GymEnv(env_id, **kwargs)
    td = env.rand_step(env.reset())
    assert ("next", "reward") in td.keys(include_nested=True)
