"""Trust findings on the environment side: budget-infeasible scenarios, non-finite numbers."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest

import leo_env
import leo_env.envs  # noqa: F401  (registers the ids)
from leo_env.envs.downlink.env import DownlinkEnv
from leo_env.envs.downlink.params import DownlinkParams

from .conftest import custom_scenario


def _infeasible():
    sc = leo_env.make_scenario("toy", seed=0)
    v = np.zeros_like(sc.v)
    v[0, :, ::2] = True  # every cell alternates between the two satellites: K - 1 forced switches
    v[1, :, 1::2] = True
    return custom_scenario(v, H=1)


def test_a_budget_infeasible_scenario_is_refused_at_construction():
    sc = _infeasible()
    assert (sc.min_handovers > sc.H).all()
    with pytest.raises(ValueError, match=r"budget-infeasible: cell 0 needs at least 9 handovers but its budget H is 1"):
        DownlinkEnv(scenario=sc, allocator="equal")


def test_a_budget_infeasible_scenario_is_refused_by_reset():
    env = DownlinkEnv("toy", allocator="equal")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="budget-infeasible"):
        env.reset(seed=0, options={"scenario": _infeasible()})


def test_the_env_never_returns_a_non_finite_reward():
    sc = leo_env.make_scenario("toy", seed=0)
    bad = dataclasses.replace(sc, eps=float("nan"))  # a number no validated config can hold
    env = DownlinkEnv(scenario=bad, allocator="equal")
    env.reset(seed=0)
    mask = env.action_masks().reshape(sc.C, -1)
    with pytest.raises(FloatingPointError, match="non-finite reward in slot 0"):
        env.step(mask.argmax(axis=1))


def test_a_non_finite_arrival_is_caught_in_its_slot_by_the_exact_allocator():
    env = DownlinkEnv("toy")
    env.reset(seed=0)
    assert env._bt.trusted[0]  # finite tables: the step skips the allocator's own check
    sc = leo_env.make_scenario("toy", seed=0)
    a = np.array(sc.a, dtype=float)
    a[1, 2, 0] = np.nan  # cell 1, slot 2
    env = DownlinkEnv(scenario=dataclasses.replace(sc, a=a))
    env.reset(seed=0)
    assert not env._bt.trusted[0]
    for _slot in range(2):
        env.step(env.action_masks().reshape(sc.C, -1).argmax(axis=1))
    with pytest.raises(ValueError, match="non-finite input"):
        env.step(env.action_masks().reshape(sc.C, -1).argmax(axis=1))


def _frozen(x):
    if isinstance(x, dict):
        return {key: _frozen(val) for key, val in x.items()}
    return x.copy() if isinstance(x, np.ndarray) else x


def _assert_same(x, y):
    if isinstance(x, dict):
        assert x.keys() == y.keys()
        for key in x:
            _assert_same(x[key], y[key])
    else:
        np.testing.assert_array_equal(x, y)


def test_returned_observations_and_infos_never_change_afterwards():
    from leo_env.envs.downlink.vector import DownlinkVectorEnv

    env = DownlinkEnv("toy", allocator="equal")
    venv = DownlinkVectorEnv(3, "toy", allocator="equal")
    held = [(env.reset(seed=0), None), (venv.reset(seed=0), None)]
    held = [(out, _frozen(out)) for out, _ in held]
    for _step in range(12):  # past an episode end (K = 10): resets and auto-resets included
        out = env.step(env.action_masks().reshape(5, -1).argmax(axis=1))
        held.append((out, _frozen(out)))
        if out[2]:
            out = env.reset()
            held.append((out, _frozen(out)))
        vout = venv.step(venv.action_mask_matrix().argmax(axis=-1))
        held.append((vout, _frozen(vout)))
    for out, copy in held:
        for x, y in zip(out, copy, strict=True):
            _assert_same(x, y)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("prediction_error", float("nan"), r"prediction_error = nan is out of range: allowed \[0, 10\]"),
        ("prediction_error", float("inf"), "prediction_error"),
        ("history", 0, r"history = 0 is out of range"),
        ("lookahead", 65, "lookahead"),
        ("ewma_alpha", 0.0, "ewma_alpha"),
        ("mask_mode", "fullish", "mask_mode = 'fullish' is not allowed: choose one of full, basic"),
        ("predictor", "oracle", "predictor"),
        ("cache_mb", float("nan"), "cache_mb"),
    ],
    ids=lambda v: str(v),
)
def test_env_parameters_are_validated_once_naming_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        DownlinkParams.build(**{field: value})
    with pytest.raises(ValueError, match=match):
        gym.make("leo_env/Downlink-toy-v0", allocator="equal", **{field: value})


def test_unknown_env_argument_names_the_closest_field():
    with pytest.raises(TypeError, match=r"'prediction_eror' \(did you mean 'prediction_error'\?\)"):
        gym.make("leo_env/Downlink-toy-v0", prediction_eror=0.1)
    # Python's wording, which wrappers read to drop optional arguments (TorchRL's GymEnv passes
    # frameskip=1 and retries without it on "unexpected keyword argument 'frameskip'")
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'frameskip'"):
        gym.make("leo_env/Downlink-toy-v0", frameskip=1)
