import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from leo_env.envs.multiorbit import ENV_SPECS
from leo_env.envs.multiorbit.env import MultiOrbitAssocEnv, MultiOrbitSelectEnv
from leo_env.envs.multiorbit.params import AssocEnvParams, SelectEnvParams
from leo_env.envs.multiorbit.policies import (
    BestGainAssocPolicy,
    DvMossAssocPolicy,
    DvMossSelectPolicy,
    EpsMarkovSelectPolicy,
    KNearestSelectPolicy,
    KRandomSelectPolicy,
)
from leo_env.envs.multiorbit.vector import MultiOrbitAssocVectorEnv, MultiOrbitSelectVectorEnv
from oracles.multiorbit import baselines as B
from oracles.multiorbit.jubpa import allocate_for_association

SMALL = dict(n_ues=6, n_sub=4, n_max=3, n_slots=3, max_candidates=14, cone_deg=55.0)
ENVS = {
    "select": (MultiOrbitSelectEnv, MultiOrbitSelectVectorEnv),
    "assoc": (MultiOrbitAssocEnv, MultiOrbitAssocVectorEnv),
}


@pytest.fixture(scope="module", autouse=True)
def _register():
    for spec in ENV_SPECS:
        if spec["id"] not in gym.envs.registration.registry:
            gym.register(**spec)


@pytest.mark.parametrize("kind", list(ENVS))
def test_checkers(kind):
    env = ENVS[kind][0](**SMALL)
    check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(ENVS[kind][0](**SMALL), warn=False)


def _rollout(env, seed, actions_seed=0):
    rng = np.random.default_rng(actions_seed)
    obs, info = env.reset(seed=seed)
    out = [(obs, 0.0, False, info)]
    done = False
    while not done:
        a = _random_action(env, rng)
        obs, r, term, trunc, info = env.step(a)
        out.append((obs, r, term, info))
        done = term or trunc
    return out


def _random_action(env, rng):
    sp = env.action_space
    if isinstance(sp, gym.spaces.Box):
        return rng.uniform(-1, 1, sp.shape).astype(np.float32)
    return rng.integers(0, sp.nvec)


@pytest.mark.parametrize("kind", list(ENVS))
def test_determinism_and_spaces(kind):
    a = _rollout(ENVS[kind][0](**SMALL), seed=3)
    b = _rollout(ENVS[kind][0](**SMALL), seed=3)
    assert len(a) == SMALL["n_slots"] + 1
    env = ENVS[kind][0](**SMALL)
    for (oa, ra, ta, ia), (ob, rb, tb, ib) in zip(a, b, strict=True):
        for k in oa:
            np.testing.assert_array_equal(oa[k], ob[k])
        assert env.observation_space.contains(oa)
        assert ra == rb and ta == tb and ia == ib
        assert np.isfinite(ra)
        assert set(ia) == set(a[0][3])


@pytest.mark.parametrize("kind", list(ENVS))
def test_vector_equals_scalar(kind):
    scalar_cls, vector_cls = ENVS[kind]
    n = 2
    venv = vector_cls(n, **SMALL)
    envs = [scalar_cls(**SMALL) for _ in range(n)]
    vobs, vinfo = venv.reset(seed=10)
    sobs = [e.reset(seed=10 + i)[0] for i, e in enumerate(envs)]
    rng = np.random.default_rng(0)
    for i in range(n):
        for k in sobs[i]:
            np.testing.assert_array_equal(vobs[k][i], sobs[i][k])
    auto = np.zeros(n, dtype=bool)
    for _ in range(SMALL["n_slots"] + 2):
        acts = np.stack([_random_action(envs[0], rng) for _ in range(n)])
        vobs, vr, vt, vtr, vinfo = venv.step(acts)
        for i, e in enumerate(envs):
            if auto[i]:
                o, inf = e.reset()
                r, t = 0.0, False
                assert not vinfo["_slot"][i]
            else:
                o, r, t, _, inf = e.step(acts[i])
                assert vinfo["_slot"][i]
                for key in inf:
                    assert vinfo[key][i] == inf[key]
            for k in o:
                np.testing.assert_array_equal(vobs[k][i], o[k])
            assert vr[i] == r and vt[i] == t
        auto = vt.copy()
    if kind == "assoc":
        assert venv.action_masks().shape == (n, SMALL["n_ues"] * (SMALL["max_candidates"] + 1))


def test_select_reward_equals_dv_moss_objective():
    env = MultiOrbitSelectEnv(**SMALL)
    pol = DvMossSelectPolicy(seed=4)
    env.reset(seed=1)
    pol.reset(env)
    for _ in range(1):
        inst = env.unwrapped.instance
        act = pol.act(None, env)
        oracle = B.dv_moss(inst, seed=pol._calls + pol.seed * 1_000_003)
        _, r, _, _, info = env.step(act)
        assert r == pytest.approx(oracle.objective_mbps, rel=1e-12)
        assert info["objective_mbps"] == pytest.approx(pol.stats["last_objective_mbps"], rel=1e-12)
        env.unwrapped.last_solution.check_feasible(inst)


def test_assoc_reward_equals_oracle_and_masks():
    env = MultiOrbitAssocEnv(**SMALL, lambda_switch_mbps=0.0)
    obs, _ = env.reset(seed=2)
    for pol in (BestGainAssocPolicy(), DvMossAssocPolicy(seed=1)):
        inst = env.unwrapped.instance
        pol.reset(env)
        act = pol.act(obs, env)
        mask = env.action_masks().reshape(SMALL["n_ues"], -1)
        assert mask[np.arange(SMALL["n_ues"]), act].all()
        oracle = allocate_for_association(inst, act - 1)
        obs, r, term, _, info = env.step(act)
        assert r == pytest.approx(oracle.objective_mbps, rel=1e-12)
        assert info["invalid"] == 0
        env.unwrapped.last_solution.check_feasible(inst)


def test_switching_penalty_and_invalid_choices():
    env = MultiOrbitSelectEnv(**SMALL, lambda_switch_mbps=5.0)
    obs, _ = env.reset(seed=0)
    _, r0, *_, i0 = env.step(obs["mask"] * 2 - 1)
    assert i0["n_switched"] == 0 and r0 == pytest.approx(i0["objective_mbps"])
    n = int(env.unwrapped.instance.n_sats)
    _, r1, *_, i1 = env.step(-np.ones(SMALL["max_candidates"], np.float32))  # serve 1 sat
    assert i1["n_selected"] == 1
    assert r1 == pytest.approx(i1["objective_mbps"] - 5.0 * i1["n_switched"])
    assert n >= 1
    env = MultiOrbitAssocEnv(**SMALL)
    env.reset(seed=0)
    bad = np.full(SMALL["n_ues"], SMALL["max_candidates"])  # padded candidate for everyone
    _, r, *_, info = env.step(bad)
    if env.unwrapped.instance.n_sats < SMALL["max_candidates"]:
        assert info["invalid"] == SMALL["n_ues"]
        assert info["n_unmet"] == SMALL["n_ues"]


@pytest.mark.parametrize(
    "pol",
    [EpsMarkovSelectPolicy(seed=0), KNearestSelectPolicy(2), KRandomSelectPolicy(3, seed=1)],
    ids=["eps-markov", "2-nearest", "k-random"],
)
def test_select_policies_run(pol):
    env = gym.make("leo_env/MultiOrbitSelect-v0", **SMALL)
    obs, _ = env.reset(seed=0)
    pol.reset(env)
    a = pol.act(obs, env)
    assert env.action_space.contains(a)
    _, r, *_ = env.step(a)
    assert np.isfinite(r)


def test_make_vec_and_params_validation():
    venv = gym.make_vec(
        "leo_env/MultiOrbitAssoc-v0", num_envs=2, vectorization_mode="vector_entry_point", **SMALL
    )
    obs, _ = venv.reset(seed=0)
    assert obs["gain"].shape == (2, SMALL["n_ues"], SMALL["max_candidates"])
    with pytest.raises(ValueError, match="cone_deg"):
        SelectEnvParams(cone_deg=95.0)
    with pytest.raises(ValueError, match="inner"):
        SelectEnvParams(inner="x")
    with pytest.raises(ValueError, match="n_ues"):
        AssocEnvParams(n_ues=0)
    with pytest.raises(TypeError, match="unexpected keyword argument .bogus."):
        MultiOrbitSelectEnv(bogus=1)


def test_select_reward_equals_k_nearest_objective_every_slot():
    env = MultiOrbitSelectEnv(**SMALL)
    pol = KNearestSelectPolicy(2)
    env.reset(seed=5)
    pol.reset(env)
    for _ in range(SMALL["n_slots"]):
        oracle = B.two_nearest(env.unwrapped.instance)
        _, r, term, _, _ = env.step(pol.act(None, env))
        assert r == pytest.approx(oracle.objective_mbps, rel=1e-12)
    assert term


@pytest.mark.slow
def test_maskable_ppo_and_ppo_run_unchanged():
    from sb3_contrib import MaskablePPO
    from stable_baselines3 import PPO

    kw = {**SMALL, "visibility_horizon_s": 0.0}
    env = MultiOrbitAssocEnv(**kw)
    model = MaskablePPO(
        "MultiInputPolicy", env, n_steps=16, batch_size=8, n_epochs=1, seed=0, device="cpu"
    )
    model.learn(32)
    obs, _ = env.reset(seed=0)
    a, _ = model.predict(obs, action_masks=env.action_masks(), deterministic=True)
    assert env.action_masks().reshape(SMALL["n_ues"], -1)[np.arange(SMALL["n_ues"]), a].all()
    sel = MultiOrbitSelectEnv(**kw)
    PPO("MultiInputPolicy", sel, n_steps=16, batch_size=8, n_epochs=1, seed=0, device="cpu").learn(
        32
    )
