import gymnasium as gym
import numpy as np
import pytest

from leo_env.envs.lisl import ENV_SPECS
from leo_env.envs.lisl.env import LislRoutingEnv
from leo_env.envs.lisl.params import LislEnvParams
from leo_env.envs.lisl.policies import DujoPolicy, ZeroPricePolicy
from leo_env.envs.lisl.vector import LislRoutingVectorEnv
from oracles.lisl import convert_prices, mrate

SMALL = dict(n_sats=60, n_snapshots=3)


def _register():
    for spec in ENV_SPECS:
        if spec["id"] not in gym.registry:
            gym.register(**spec)


def test_gymnasium_checker():
    from gymnasium.utils.env_checker import check_env

    _register()
    env = gym.make("leo_env/LislRouting-v0", **SMALL)
    check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.slow  # importing torch/SB3 costs ~6 s on the shared machine
def test_sb3_checker():
    from stable_baselines3.common.env_checker import check_env

    check_env(LislRoutingEnv(**SMALL), warn=False)


def _rollout(env, seed, n_steps, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    out = [env.reset(seed=seed)]
    for _ in range(n_steps):
        a = rng.random(env.action_space.shape).astype(np.float32)
        step = env.step(a)
        out.append(step)
        if step[2]:
            break
    return out


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return np.array_equal(np.asarray(a), np.asarray(b))


def test_determinism_and_spaces():
    env1, env2 = LislRoutingEnv(**SMALL), LislRoutingEnv(**SMALL)
    r1, r2 = _rollout(env1, 7, 3), _rollout(env2, 7, 3)
    assert _same(r1, r2)
    for item in r1:
        obs, info = item[0], item[-1]
        assert env1.observation_space.contains(obs)
        assert set(info) == set(r1[0][1])
    assert r1[-1][2] and len(r1) == 4  # terminated after n_snapshots steps
    r3 = _rollout(env1, 8, 1)
    assert not _same(r1[0][0], r3[0][0])


def test_vector_equals_scalar_step_for_step():
    n, steps = 2, 5  # crosses an autoreset (n_snapshots = 2)
    kw = dict(n_sats=60, n_snapshots=2)
    venv = LislRoutingVectorEnv(n, **kw)
    envs = [LislRoutingEnv(**kw) for _ in range(n)]
    vobs, _ = venv.reset(seed=3)
    sobs = [e.reset(seed=3 + i)[0] for i, e in enumerate(envs)]
    for i in range(n):
        assert _same({k: v[i] for k, v in vobs.items()}, sobs[i])
    rng = np.random.default_rng(0)
    done = [False] * n
    for _ in range(steps):
        act = rng.random(venv.action_space.shape).astype(np.float32)
        vobs, vr, vt, vtr, vinfo = venv.step(act)
        for i, e in enumerate(envs):
            if done[i]:
                o, info = e.reset()
                r, t = 0.0, False
                assert not vinfo["_served_share"][i]
            else:
                o, r, t, _, info = e.step(act[i])
                assert vinfo["_served_share"][i]
                assert all(vinfo[k][i] == info[k] for k in info)
            assert _same({k: v[i] for k, v in vobs.items()}, o)
            assert vr[i] == r and vt[i] == t and not vtr[i]
            done[i] = t
    assert venv.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP


def test_reward_equals_oracle_objective():
    env = LislRoutingEnv(**SMALL)
    env.reset(seed=1)
    pol = DujoPolicy(iterations=20)
    pol.reset(env)
    for _ in range(2):
        pb = env.problem
        act = pol.act(None, env)
        lam = act[: pb.graph.n_links].reshape(-1).astype(float)
        sol = convert_prices(pb, lam)
        _, reward, _, _, info = env.step(act)
        assert reward == pytest.approx(sol.served_share, rel=1e-9, abs=1e-12)
        assert info["throughput_gbps"] == pytest.approx(sol.throughput_gbps, rel=1e-9, abs=1e-12)
        assert info["n_lisls"] == sol.n_links


def test_scores_mode_all_ones_is_mrate():
    env = LislRoutingEnv(action_mode="scores", **SMALL)
    env.reset(seed=2)
    pb = env.problem
    _, reward, _, _, _ = env.step(np.ones(env.action_space.shape, np.float32))
    assert reward == pytest.approx(mrate(pb).served_share, rel=1e-9, abs=1e-12)


def test_acquisition_delay_couples_snapshots():
    env = LislRoutingEnv(acquisition_snapshots=1, **SMALL)
    env.reset(seed=4)
    pol = ZeroPricePolicy()
    _, r0, _, _, info0 = env.step(pol.act(None, env))
    assert info0["n_usable_lisls"] == 0 and r0 == 0.0
    obs, r1, _, _, info1 = env.step(pol.act(None, env))
    assert info1["n_usable_lisls"] > 0 and r1 > 0  # links held from snapshot 0 now carry traffic
    assert obs["edges"][:, 4].max() > 0


@pytest.mark.parametrize(
    "field, value",
    [("n_sats", 1), ("n_snapshots", 0), ("action_mode", "x"), ("snapshot_interval_s", -1.0)],
)
def test_params_validation(field, value):
    with pytest.raises(ValueError, match=field):
        LislEnvParams(**{field: value})


def test_unknown_argument_rejected():
    with pytest.raises(TypeError, match="unexpected keyword argument .foo."):
        LislRoutingEnv(foo=1)


def test_make_vec_uses_native_vector_env():
    _register()
    envs = gym.make_vec(
        "leo_env/LislRouting-v0", num_envs=2, vectorization_mode="vector_entry_point", **SMALL
    )
    assert isinstance(envs.unwrapped, LislRoutingVectorEnv)
    obs, info = envs.reset(seed=0)
    assert envs.observation_space.contains(obs) and info["_served_share"].all()
