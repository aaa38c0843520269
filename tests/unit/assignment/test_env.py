"""PrimaryAssignment-v0: checkers, determinism, vector == scalar, reward == objective."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from leo_env.envs.assignment import ENV_SPECS
from leo_env.envs.assignment.env import PrimaryAssignmentEnv
from leo_env.envs.assignment.params import PrimaryAssignmentParams
from leo_env.envs.assignment.policies import HENoPriorityPolicy, TrueRulePolicy
from leo_env.envs.assignment.vector import PrimaryAssignmentVectorEnv
from oracles.assignment.objective import AssignmentDecision, share_correct, topk_correct

for _spec in ENV_SPECS:
    if _spec["id"] not in gym.registry:
        gym.register(**_spec)


@pytest.fixture(scope="module")
def params(tmp_path_factory) -> PrimaryAssignmentParams:
    root = str(tmp_path_factory.mktemp("envdata"))
    return PrimaryAssignmentParams(
        dataset="gsl-ci", data_root=root, duration_s=40 * 60.0, part="all"
    )


def test_checkers(params) -> None:
    env = PrimaryAssignmentEnv(params)
    check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(PrimaryAssignmentEnv(params), warn=True)


def test_gym_make_and_determinism(params) -> None:
    env = gym.make(
        "leo_env/PrimaryAssignment-v0",
        **{k: getattr(params, k) for k in ("dataset", "data_root", "duration_s", "part")},
    )
    a = [env.reset(seed=3)[1]["epoch_index"] for _ in range(1)] + [
        env.reset()[1]["epoch_index"] for _ in range(5)
    ]
    b = [env.reset(seed=3)[1]["epoch_index"] for _ in range(1)] + [
        env.reset()[1]["epoch_index"] for _ in range(5)
    ]
    assert a == b and len(set(a)) > 1


def test_oracle_reward_equals_objective_and_rule_baseline(params) -> None:
    env = PrimaryAssignmentEnv(params)
    oracle, base = TrueRulePolicy(), HENoPriorityPolicy()
    rewards = []
    for seed in range(12):
        obs, info = env.reset(seed=seed)
        act = oracle.act(obs, env)
        AssignmentDecision(act).check_feasible(info["n_avail"], env.n_clusters)
        assert env.action_masks().reshape(env.n_clusters, -1)[np.arange(env.n_clusters), act].all()
        _, r, term, trunc, info2 = env.step(act)
        assert r == share_correct(act, info2["true_assignment"]) == 1.0 and term and not trunc
        assert info2.keys() == info.keys()
        obs, _ = env.reset(seed=seed)
        _, r, _, _, _ = env.step(base.act(obs, env))
        rewards.append(r)
    assert 0.0 < np.mean(rewards) < 1.0  # priorities matter on some epochs


def test_vector_matches_scalar_step_for_step(params) -> None:
    n = 3
    ref = gym.vector.SyncVectorEnv(
        [lambda: PrimaryAssignmentEnv(params) for _ in range(n)],
        autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP,
    )
    vec = PrimaryAssignmentVectorEnv(n, params)
    o1, i1 = ref.reset(seed=7)
    o2, i2 = vec.reset(seed=7)
    rng = np.random.default_rng(0)
    for step in range(6):
        for k in o1:
            np.testing.assert_array_equal(o1[k], o2[k], err_msg=f"obs {k} step {step}")
        for k in ("epoch_index", "true_assignment", "correct"):
            np.testing.assert_array_equal(i1[k], i2[k], err_msg=f"info {k} step {step}")
        act = np.where(
            rng.random((n, 1)) < 0.5, i1["true_assignment"], rng.integers(0, 3, (n, vec.n_clusters))
        )
        o1, r1, t1, u1, i1 = ref.step(act)
        o2, r2, t2, u2, i2 = vec.step(act)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(t1, t2)
        np.testing.assert_array_equal(u1, u2)
    assert vec.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP


def test_topk_objective_and_errors(params) -> None:
    s = np.array([[3.0, 1.0, 3.0], [0.0, 2.0, 1.0]])
    assert topk_correct(s, np.array([2, 2]), 1).tolist() == [False, False]
    assert topk_correct(s, np.array([2, 2]), 2).tolist() == [True, True]
    with pytest.raises(ValueError, match="part"):
        PrimaryAssignmentParams(part="x")
    with pytest.raises(ValueError, match="duration_s"):
        PrimaryAssignmentParams(duration_s=-1.0)
    env = PrimaryAssignmentEnv(params)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="n_avail"):
        AssignmentDecision(np.full(env.n_clusters, 39)).check_feasible(30, env.n_clusters)
