import warnings

import gymnasium as gym
import numpy as np
import pytest

import leo_env.envs.linkgroup as lgp
from leo_env.envs.linkgroup.env import LinkGroupSchedEnv
from leo_env.envs.linkgroup.params import LinkGroupParams
from leo_env.envs.linkgroup.policies import AdmmPolicy, GreedyPolicy, OptPolicy
from leo_env.envs.linkgroup.stream import LinkGroupTaskStream
from leo_env.envs.linkgroup.vector import LinkGroupSchedVectorEnv
from leo_env.policies import RandomPolicy, play
from oracles.linkgroup import solve_opt

ENV_ID = "leo_env/LinkGroupSched-v0"
for _spec in lgp.ENV_SPECS:
    if _spec["id"] not in gym.registry:
        gym.register(**_spec)

MODES = ["links", "groups"]


@pytest.mark.parametrize("mode", MODES)
def test_checkers(mode):
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check

    env = gym.make(ENV_ID, preset="tiny", mode=mode)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env.unwrapped, skip_render_check=True)
        sb3_check(LinkGroupSchedEnv(preset="tiny", mode=mode), warn=False)


def _rollout(env, seed, n_steps, act_seed=0):
    rng = np.random.default_rng(act_seed)
    obs, info = env.reset(seed=seed)
    out = [(obs, None, None, info)]
    for _ in range(n_steps):
        m = env.unwrapped.action_masks()
        if isinstance(env.action_space, gym.spaces.Discrete):
            a = int(rng.choice(np.flatnonzero(m)))
        else:
            a = rng.integers(0, env.action_space.nvec)
        obs, r, te, tr, info = env.step(a)
        out.append((obs, r, te, info))
        if te or tr:
            obs, info = env.reset()
            out.append((obs, None, None, info))
    return out


def _eq(a, b):
    for (o1, r1, t1, i1), (o2, r2, t2, i2) in zip(a, b, strict=True):
        np.testing.assert_array_equal(o1, o2)
        assert r1 == r2 and t1 == t2
        assert i1.keys() == i2.keys()
        for k in i1:
            np.testing.assert_array_equal(i1[k], i2[k])


@pytest.mark.parametrize("mode", MODES)
def test_determinism_and_spaces(mode):
    e1 = LinkGroupSchedEnv(preset="small", mode=mode)
    e2 = LinkGroupSchedEnv(preset="small", mode=mode)
    a, b = _rollout(e1, 3, 25), _rollout(e2, 3, 25)
    _eq(a, b)
    keys = a[0][3].keys()
    for obs, r, _, info in a:
        assert e1.observation_space.contains(obs)
        assert info.keys() == keys
        assert r is None or (np.isfinite(r) and r >= -1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_return_equals_objective_improvement(mode):
    env = LinkGroupSchedEnv(preset="small", mode=mode)
    for seed in range(3):
        ep = play(RandomPolicy(seed=seed), env, seed=seed)
        f0 = env.f0
        assert len(ep.rewards) == env.cfg.T
        assert ep.ret == pytest.approx(f0 - ep.infos[-1]["objective"], abs=1e-9)
        assert ep.reset_info["objective"] == f0


@pytest.mark.parametrize("mode", MODES)
def test_reward_equals_oracle_objective(mode):
    env = LinkGroupSchedEnv(preset="small", mode=mode)
    for seed in (0, 1):
        pol = OptPolicy()
        ep = play(pol, env, seed=seed)
        ref = solve_opt(env.instance, env.spec_obj)
        assert ep.infos[-1]["objective"] == pytest.approx(pol.solution.objective, abs=1e-9)
        assert pol.solution.objective == pytest.approx(ref.objective, abs=1e-9)
        assert ep.ret == pytest.approx(env.f0 - pol.solution.objective, abs=1e-9)
        assert ep.infos[-1]["repairs"] == 0
        np.testing.assert_array_equal(env.links, pol.solution.links)
    for pol in (GreedyPolicy(), AdmmPolicy(max_iter=30)):
        ep = play(pol, env, seed=0)
        ref = solve_opt(env.instance, env.spec_obj)
        assert ep.infos[-1]["repairs"] == 0
        assert ep.infos[-1]["objective"] >= ref.objective - ref.info["cut_error_bound"] - 1e-9


def test_group_masks_are_exact():
    env = LinkGroupSchedEnv(preset="small", mode="groups")
    env.reset(seed=4)
    emb = env.group_embeddings()
    assert emb.shape == (len(env.groups), env.cfg.J * env.cfg.K) and emb[0].sum() == 0
    for _ in range(env.cfg.T):
        m = env.action_masks()
        assert m[0]  # idle is always valid
        for g in np.flatnonzero(m)[:200]:
            _, n = env.repair(env.groups[g])
            assert n == 0
        bad = np.flatnonzero(~m)[:100]
        assert all(env.repair(env.groups[g])[1] > 0 for g in bad)
        env.step(0)


def test_links_mode_repairs_are_counted():
    env = LinkGroupSchedEnv(preset="small", mode="links")
    env.reset(seed=0)
    K = env.cfg.K
    mt = int(np.flatnonzero(env.instance.compat[1] & ~env.instance.compat[0] & env.instance.active)[0])
    # LEO -> MT is incompatible (1 repair); BS and TST1 both pick the MT (1 repair)
    _, _, _, _, info = env.step(np.array([mt, mt, mt, K]))
    assert info["step_repairs"] >= 2 and info["repairs"] == info["step_repairs"]
    with pytest.raises(ValueError, match="action"):
        env.step(np.array([K + 1, 0, 0, 0]))


@pytest.mark.parametrize("mode", MODES)
def test_vector_equals_scalar(mode):
    n, seed, steps = 3, 11, 23
    venv = LinkGroupSchedVectorEnv(n, preset="small", mode=mode)
    scal = [LinkGroupSchedEnv(preset="small", mode=mode) for _ in range(n)]
    vo, vi = venv.reset(seed=seed)
    so = [e.reset(seed=seed + i) for i, e in enumerate(scal)]
    for i in range(n):
        np.testing.assert_array_equal(vo[i], so[i][0])
        assert vi["objective"][i] == so[i][1]["objective"]
    rng = np.random.default_rng(0)
    pending = np.zeros(n, dtype=bool)
    for _ in range(steps):
        masks = venv.action_masks()
        if mode == "groups":
            acts = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
        else:
            acts = rng.integers(0, venv.single_action_space.nvec, size=(n, venv.single_action_space.shape[0]))
        vo, vr, vt, _, vi = venv.step(acts)
        for i, e in enumerate(scal):
            if pending[i]:
                o, info = e.reset()
                r, te = 0.0, False
            else:
                o, r, te, _, info = e.step(acts[i])
            np.testing.assert_array_equal(vo[i], o)
            assert vr[i] == r and vt[i] == te
            for k in ("objective", "n_served", "repairs", "task_id", "slot"):
                assert vi[k][i] == info[k]
            np.testing.assert_array_equal(vi["delivered_bits"][i], info["delivered_bits"])
        pending = vt.copy()
    assert LinkGroupSchedVectorEnv.metadata["autoreset_mode"].name == "NEXT_STEP"


def test_gym_make_vec_and_params():
    venv = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode="vector_entry_point", preset="tiny")
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (2, venv.single_observation_space.shape[0])
    with pytest.raises(ValueError, match="mode"):
        LinkGroupParams.build(mode="beams")
    with pytest.raises(ValueError, match="n_mt"):
        LinkGroupParams.build(n_mt=-2)
    with pytest.raises(TypeError, match="unexpected keyword argument .nonsense."):
        LinkGroupParams.build(nonsense=1)
    with pytest.raises(ValueError, match="max_bytes"):
        LinkGroupSchedEnv(preset="k100", mode="groups")


def test_task_stream_switches_at_scheduled_slots():
    env = LinkGroupTaskStream(LinkGroupSchedEnv(preset="small"), n_changes=3, update_interval=30,
                              stream_seed=1)
    seen = []
    obs, info = env.reset(seed=0)
    pol = GreedyPolicy()
    while env.global_slot < 120:
        seen.append((info["global_slot"], info["task_id"], info["task_changed"], info["event"]))
        done = False
        pol.reset(env)
        while not done:
            obs, r, te, tr, info = env.step(pol.act(obs, env))
            assert info["task_id"] == env.stream.task_at(info["global_slot"]).task_id
            done = te
        obs, info = env.reset()
    starts = {s: (tid, ch, ev) for s, tid, ch, ev in seen}
    assert [s for s, (_, ch, _) in starts.items() if ch] == [30, 60, 90]
    assert [starts[s][0] for s in (0, 30, 60, 90)] == [0, 1, 2, 3]
    assert [starts[s][2] for s in (30, 60, 90)] == ["departure", "arrival", "burst"]
    assert len(env.sample_tasks(3, np.random.default_rng(0))) == 3


def test_stream_benchmark_harness_runs():
    from benchmarks.linkgroup import stream

    res = stream("tiny", ("grd",), changes=1, interval=60)["results"]["grd"]
    assert len(res["series"]) == 120 and len(res["recovery"]) == 1
    assert res["recovery"][0]["change_slot"] == 60 and res["recovery"][0]["event"] == "departure"
    assert 20 <= res["recovery"][0]["recovery_slots"] <= 60
