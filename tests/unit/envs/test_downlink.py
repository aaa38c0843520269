import dataclasses
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env, data_equivalence

import leo_env
import leo_env.envs  # noqa: F401  (registers the ids)
from leo_env.core import forecast as fc
from leo_env.core.utility import jain_index, log_utility
from leo_env.envs.downlink import DownlinkEnv, core
from leo_env.envs.downlink.tables import EVAL_SEED_RANGE, TRAIN_SEED_RANGE, forecast_tables
from leo_env.envs.registration import ENV_IDS

from .conftest import DEFAULT_ALLOCATOR, custom_scenario, needs_p1, random_masked_actions


def play(env, seed, steps=None, action_seed=0, options=None):
    """Random masked play; returns the trajectory (obs, rewards, infos)."""
    rng = np.random.default_rng(action_seed)
    obs, info = env.reset(seed=seed, options=options)
    traj = [(obs, 0.0, info)]
    K = env.unwrapped.params.K
    for _ in range(K if steps is None else steps):
        mask = env.unwrapped.action_mask_matrix()
        obs, r, term, trunc, info = env.step(random_masked_actions(mask, rng))
        traj.append((obs, r, info))
        if term:
            break
    return traj


def test_ids_registered():
    for env_id in ENV_IDS:
        assert env_id in gym.registry
        assert gym.spec(env_id).vector_entry_point is not None


@pytest.mark.parametrize(
    "env_id,kwargs",
    [
        ("leo_env/Downlink-toy-v0", {}),
        ("leo_env/Downlink-toy-v0", {"mask_mode": "basic", "render_mode": "ansi"}),
        (
            "leo_env/Downlink-v0",
            {"preset": "medium", "predictor": "ewma", "render_mode": "rgb_array"},
        ),
    ],
    ids=["toy", "toy-basic-ansi", "medium-ewma-rgb"],
)
def test_gymnasium_check_env(env_id, kwargs):
    env = gym.make(env_id, allocator="equal", **kwargs)
    check_env(env.unwrapped, skip_render_check=False)


def test_sb3_check_env():
    from stable_baselines3.common.env_checker import check_env as sb3_check

    env = gym.make("leo_env/Downlink-toy-v0", allocator="equal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # image / shape heuristics about the structured Dict
        sb3_check(env.unwrapped, warn=True)


def test_config_and_overrides_kwargs():
    env = gym.make("leo_env/Downlink-v0", config="toy", overrides=["budget.H=3"], allocator="equal")
    env.reset(seed=0)
    assert env.unwrapped.scenario.H.tolist() == [3] * 5
    with pytest.raises(ValueError, match="at most one"):
        DownlinkEnv("toy", config="medium")


@pytest.mark.parametrize("preset", ["toy", "medium"])
def test_same_seed_same_episode(preset):
    a = DownlinkEnv(preset, allocator="equal")
    b = DownlinkEnv(preset, allocator="equal")
    ta, tb = play(a, seed=7), play(b, seed=7)
    assert len(ta) == len(tb) == a.params.K + 1
    for (oa, ra, ia), (ob, rb, ib) in zip(ta, tb, strict=True):
        assert data_equivalence(oa, ob) and ra == rb and data_equivalence(ia, ib)
    tc = play(a, seed=8)
    assert not data_equivalence(ta[1][0], tc[1][0])


def test_info_has_no_wall_clock_and_expected_keys():
    env = DownlinkEnv("toy", allocator="equal")
    info = play(env, seed=0, steps=1)[-1][2]
    for key in (
        "xi",
        "handovers",
        "handovers_total",
        "budget_violations",
        "repairs",
        "emergencies",
        "jain",
        "served_bits",
    ):
        assert key in info
    assert not any("time" in key for key in info)
    assert info["xi"].shape == (5,) and isinstance(info["jain"], float)


@pytest.mark.parametrize(
    "predictor, lookahead", [("naive", 0), ("ewma", 0), ("noisy-truth", 0), ("naive", 4), ("ewma", 4)]
)
def test_future_arrivals_do_not_leak(predictor, lookahead):
    sc = leo_env.make_scenario("medium", seed=3)
    rng = np.random.default_rng(0)
    for k in (0, 1, 5, 17):
        a2 = sc.a.copy()
        first = k + 1 if predictor == "noisy-truth" else k  # noisy-truth forecasts slot k itself
        a2[:, first:, :] = rng.poisson(3e5, a2[:, first:, :].shape)
        sc2 = dataclasses.replace(sc, a=a2)
        kw = dict(allocator="equal", predictor=predictor, prediction_error=0.1, lookahead=lookahead)
        e1, e2 = DownlinkEnv(scenario=sc, **kw), DownlinkEnv(scenario=sc2, **kw)
        t1, t2 = play(e1, seed=1, steps=k), play(e2, seed=1, steps=k)
        for (o1, r1, _), (o2, r2, _) in zip(t1, t2, strict=True):
            assert data_equivalence(o1, o2) and r1 == r2


def test_lookahead_entries_describe_the_next_slots():
    """Forecasts and geometry of slots k+1..k+A, checked against what the episode reveals."""
    A = 5  # noqa: N806
    env = DownlinkEnv("medium", allocator="equal", predictor="noisy-truth", prediction_error=0.0, lookahead=A)
    assert "forecast_ahead" not in DownlinkEnv("medium", allocator="equal").observation_space.spaces
    obs, _ = env.reset(seed=2)
    sc, K, scale = env.scenario, env.params.K, env.params.demand_scale  # noqa: N806
    rng = np.random.default_rng(0)
    seen, demand = [], []
    for k in range(K):
        assert env.observation_space.contains(obs)
        seen.append({key: obs[key].copy() for key in ("forecast_ahead", "candidates_ahead", "best_ahead")})
        cand, valid = env.candidates, obs["candidates"][..., 5] > 0.5
        for t in range(A):
            j = k + 1 + t
            vis = np.zeros(cand.shape, dtype=bool)
            if j < K:
                vis[valid] = sc.v[cand[valid], np.nonzero(valid)[0], j] > 0
            # a candidate's future gain is real exactly while it is still visible
            np.testing.assert_array_equal(seen[-1]["candidates_ahead"][..., t] > -9.999, vis)
            any_vis = sc.v[:, :, j].any(0) if j < K else np.zeros(env.params.C, dtype=bool)
            np.testing.assert_array_equal(seen[-1]["best_ahead"][:, t] > -9.999, any_vis)
        assert np.all(seen[-1]["best_ahead"][:, :, None] >= seen[-1]["candidates_ahead"].transpose(0, 2, 1) - 1e-6)
        mask = env.action_masks().reshape(env.params.C, -1)
        obs, _, _, _, info = env.step(random_masked_actions(mask, rng))
        demand.append(info["demand_bits"])
    demand = np.stack(demand, axis=1)  # (C, K) realised
    for k in range(K):
        for t in range(A):
            want = demand[:, k + 1 + t] / scale if k + 1 + t < K else np.zeros(env.params.C)
            # noisy-truth with zero error forecasts every future slot exactly
            np.testing.assert_allclose(seen[k]["forecast_ahead"][:, t], np.minimum(want, 100.0), rtol=1e-5, atol=1e-7)
    naive = DownlinkEnv("medium", allocator="equal", predictor="naive", prediction_error=0.0, lookahead=A)
    obs, _ = naive.reset(seed=2)
    for _ in range(3):
        obs, *_ = naive.step(naive.action_masks().reshape(naive.params.C, -1).argmax(1))
    # a flat predictor extrapolates the current forecast
    np.testing.assert_allclose(obs["forecast_ahead"], np.repeat(obs["forecast"][:, None], A, 1), rtol=1e-6)
    with pytest.raises(ValueError, match="lookahead"):
        DownlinkEnv("toy", lookahead=-1)


def test_masked_entries_are_visible_and_affordable():
    env = DownlinkEnv("stress", allocator="equal", n_candidates=4)
    rng = np.random.default_rng(1)
    env.reset(seed=2)
    sc = env.scenario
    from oracles.baselines import future_min_handovers

    need = future_min_handovers(sc.v)
    for _ in range(sc.K):
        k, cand, mask = env.k, env.candidates, env.action_mask_matrix()
        assert mask.any(axis=1).all()
        c_idx, j_idx = np.nonzero(mask)
        s = cand[c_idx, j_idx]
        assert (s >= 0).all() and sc.v[s, c_idx, k].all()
        cur, budget = env.association, env.budget_left
        switch = (cur[c_idx] >= 0) & (s != cur[c_idx])
        assert np.all(need[s, c_idx, k] + switch <= budget[c_idx])
        # invisible satellites are never candidates
        valid = cand >= 0
        assert sc.v[cand[valid], np.nonzero(valid)[0], k].all()
        env.step(random_masked_actions(mask, rng))
    assert env._last["budget_violations"] == 0 and env._last["emergencies_total"] == 0


def test_zero_budget_forces_staying():
    sc0 = leo_env.make_scenario("toy", seed=0)
    sc = custom_scenario(np.ones_like(sc0.v), H=0)
    env = DownlinkEnv(scenario=sc, allocator="equal")
    env.reset(seed=0)
    env.step(np.zeros(sc.C, dtype=int))
    for _ in range(sc.K - 1):
        mask = env.action_mask_matrix()
        assert mask.sum(axis=1).tolist() == [1] * sc.C
        assert (env.candidates[mask] == env.association).all()
        _, _, _, _, info = env.step(np.full(sc.C, 1))  # try to switch everywhere
        assert info["handovers"].sum() == 0
    assert info["repairs_total"] > 0 and info["budget_violations"] == 0


def _emergency_scenario():
    sc0 = leo_env.make_scenario("toy", seed=0)
    v = np.ones_like(sc0.v)
    v[0, :, 2] = False  # satellite 0 disappears in slot 2; satellite 1 is always there
    return custom_scenario(v, H=1)


def test_emergency_flagged_with_basic_mask():
    sc = _emergency_scenario()
    env = DownlinkEnv(scenario=sc, allocator="equal", mask_mode="basic")
    env.reset(seed=0)
    a1, _ = env.actions_for(np.ones(sc.C, dtype=int))
    _, _, _, _, info = env.step(a1)  # slot 0 on satellite 1 (free)
    a0, ok = env.actions_for(np.zeros(sc.C, dtype=int))
    assert ok.all()  # the basic mask allows the switch that strands the cell
    _, _, _, _, info = env.step(a0)  # slot 1: switch to satellite 0, budget 1 -> 0
    assert info["handovers"].tolist() == [1] * sc.C and info["budget_left"].tolist() == [0] * sc.C
    _, _, _, _, info = env.step(a0)  # slot 2: satellite 0 is gone -> forced handover
    assert info["emergency"].all() and info["emergencies"] == sc.C
    assert info["handovers"].tolist() == [1] * sc.C and info["budget_violations"] == 0
    assert (info["assoc"] == 1).all()


def test_full_mask_prevents_the_emergency():
    sc = _emergency_scenario()
    env = DownlinkEnv(scenario=sc, allocator="equal", mask_mode="full")
    env.reset(seed=0)
    a1, _ = env.actions_for(np.ones(sc.C, dtype=int))
    env.step(a1)
    a0, ok = env.actions_for(np.zeros(sc.C, dtype=int))
    assert not ok.any()  # switching to satellite 0 would leave no budget for slot 2
    _, _, _, _, info = env.step(a0)
    assert info["repairs"] == sc.C and (info["assoc"] == 1).all()
    for _ in range(sc.K - 2):
        _, _, _, _, info = env.step(a0)
    assert info["emergencies_total"] == 0 and info["budget_violations"] == 0


def test_basic_mask_can_strand_a_cell_and_the_forced_switch_is_an_emergency():
    sc0 = leo_env.make_scenario("toy", seed=0)
    v = np.zeros_like(sc0.v)
    v[0, :, :5] = True  # satellite 0 sets after slot 4
    v[1, :, :] = True  # satellite 1 is always there: the scenario is feasible with H = 1
    sc = custom_scenario(v, H=1)
    env = DownlinkEnv(scenario=sc, allocator="equal", mask_mode="basic")
    env.reset(seed=0)
    plan = [1, 0, 0, 0, 0, 1, 1, 1, 1, 1]  # spend the budget on 1 -> 0, then 0 sets
    for k in range(sc.K):
        action, ok = env.unwrapped.actions_for(np.full(sc.C, plan[k]))
        assert ok.all()
        _, _, term, _, info = env.step(action)
    assert info["emergencies_total"] == sc.C and info["handovers_total"].tolist() == [2] * sc.C
    assert info["budget_violations"] == 0  # an emergency consumes no budget and is no violation


def test_invalid_actions_are_repaired_not_raised():
    env = DownlinkEnv("medium", allocator="equal")
    env.reset(seed=0)
    C, n = env.params.C, env.params.n
    _, _, _, _, info = env.step(np.full(C, n + 3))
    assert info["repairs"] == C
    _, _, _, _, info = env.step(np.full(C, -1))
    assert info["repairs"] == C and info["handovers"].sum() == 0  # repaired to staying
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(C + 1, dtype=int))


def test_reward_equals_utility_from_info():
    env = DownlinkEnv("medium", allocator=DEFAULT_ALLOCATOR)
    for _obs, r, info in play(env, seed=4, steps=8)[1:]:
        sc = env.scenario
        expect = log_utility(info["xi"], sc.eps) - sc.lambda_h * info["handovers"].sum()
        assert r == pytest.approx(expect, rel=0, abs=1e-12)
        assert r == pytest.approx(info["utility"] - info["handover_cost"], abs=1e-12)
        # one kernel call gives both (the step's shortcut): the public functions' numbers
        assert info["utility"] == log_utility(info["xi"], sc.eps)
        assert info["jain"] == jain_index(info["xi"])


def test_seed_splits_are_disjoint_and_fixed_modes():
    tr = DownlinkEnv("toy", allocator="equal", seed_split="train")
    ev = DownlinkEnv("toy", allocator="equal", seed_split="eval")
    tr_seeds = {tr.reset(seed=s)[1]["scenario_seed"] for s in range(5)}
    ev_seeds = {ev.reset(seed=s)[1]["scenario_seed"] for s in range(5)}
    assert all(TRAIN_SEED_RANGE[0] <= s < TRAIN_SEED_RANGE[1] for s in tr_seeds)
    assert all(EVAL_SEED_RANGE[0] <= s < EVAL_SEED_RANGE[1] for s in ev_seeds)
    assert len(tr_seeds) == 5
    fixed = DownlinkEnv("toy", allocator="equal", scenario_seed=11)
    assert {fixed.reset(seed=s)[1]["scenario_seed"] for s in range(3)} == {11}
    pool = DownlinkEnv("toy", allocator="equal", n_scenarios=2)
    assert {pool.reset(seed=s)[1]["scenario_seed"] for s in range(20)} <= {0, 1}
    _, info = tr.reset(seed=0, options={"scenario_seed": 5})
    assert info["scenario_seed"] == 5 and tr.scenario.seed == 5


def test_forecast_tables_match_core_predictors():
    rng = np.random.default_rng(0)
    demand = rng.random((4, 9)) * 1e6
    prior = np.full(4, 5e5)
    for name, fn in (("naive", fc.naive_forecast), ("ewma", lambda h: fc.ewma_forecast(h, 0.3))):
        base, factor = forecast_tables(demand, prior, name, 0.0, rng)
        assert np.all(factor == 1.0)
        np.testing.assert_allclose(base[:, 0], prior)
        for k in range(1, 9):
            np.testing.assert_allclose(base[:, k], fn(demand[:, :k]), rtol=1e-12)
    base, factor = forecast_tables(demand, prior, "noisy-truth", 0.2, np.random.default_rng(1))
    np.testing.assert_array_equal(base, demand)
    assert 0.1 < np.std(factor) < 0.3 and np.all(factor >= 0)


def test_compiled_kernels_match_numpy_reference():
    env = DownlinkEnv("stress", allocator="equal", n_candidates=3, mask_mode="full")
    rng = np.random.default_rng(5)
    env.reset(seed=1)
    for _step in range(20):
        bt, st = env._bt, env._st
        obs_k = core.decide_observe(bt, st)
        saved = (st.cand.copy(), st.mask.copy(), st.is_cur.copy(), st.valid.copy())
        core.decide_reference(bt, st)
        for a, b in zip(saved, (st.cand, st.mask, st.is_cur, st.valid), strict=True):
            np.testing.assert_array_equal(a, b)
        obs_r = core.observe_reference(bt, st)
        for key in obs_k:
            np.testing.assert_allclose(obs_k[key], obs_r[key], rtol=1e-6, atol=1e-6, err_msg=key)
        act = rng.integers(-1, 4, size=(1, env.params.C))
        budget0 = st.budget.copy()
        sat, h, em, rep = core.apply_reference(st, np.zeros(1, dtype=int), act)
        st.budget[:] = budget0
        k = int(st.k[0])
        _, info, _ = core.transition(bt, st, np.zeros(1, dtype=int), act, env._allocate)
        np.testing.assert_array_equal(info["assoc"], sat)
        np.testing.assert_array_equal(info["handovers"].astype(bool), h)
        np.testing.assert_array_equal(info["repaired"], rep)
        np.testing.assert_array_equal(info["emergency"], em)
        # the kernel's copies of the state, and the demand table read for demand_bits
        np.testing.assert_array_equal(info["budget_left"], st.budget)
        np.testing.assert_array_equal(info["handovers_total"], st.ho_total)
        np.testing.assert_array_equal(info["repairs_total"], st.repairs_total)
        np.testing.assert_array_equal(info["emergencies_total"], st.emergencies_total)
        np.testing.assert_array_equal(info["demand_bits"], bt.arrivals[0, k].sum(-1)[None])
        if st.k[0] >= env.params.K:
            break


@pytest.mark.parametrize("mode", ["rgb_array", "ansi"])
def test_render(mode):
    env = DownlinkEnv("toy", allocator="equal", render_mode=mode)
    env.reset(seed=0)
    env.step(np.zeros(5, dtype=int))
    out = env.render()
    if mode == "ansi":
        assert isinstance(out, str) and "slot 1/10" in out
    else:
        assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3


def test_episode_ends_at_K_and_step_after_end_raises():
    env = DownlinkEnv("toy", allocator="equal")
    traj = play(env, seed=0)
    assert len(traj) == 11 and traj[-1][0]["time"][0] == 1.0
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(5, dtype=int))


def test_fading_reward_matches_p2_evaluate():
    from leo_env.envs.downlink.policies import GreedyPolicy, run_episode
    from oracles import p2

    env = DownlinkEnv("toy", overrides=["channel.fading=rician"], allocator=DEFAULT_ALLOCATOR)
    res = run_episode(GreedyPolicy(), env, seed=0)
    ev = p2.evaluate(env.scenario, res.assoc)
    np.testing.assert_allclose(ev.reward, res.rewards, rtol=1e-9, atol=1e-9)


@needs_p1
@pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::RuntimeWarning"
)  # Clarabel 'inaccurate'
def test_cvx_allocator_agrees_with_fast_p1():
    fast, ref = DownlinkEnv("toy", allocator="p1"), DownlinkEnv("toy", allocator="cvx")
    for (_, r1, _i1), (_, r2, _i2) in zip(
        play(fast, seed=0, steps=2), play(ref, seed=0, steps=2), strict=True
    ):
        assert r1 == pytest.approx(r2, rel=1e-4, abs=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize(
    "env_id", ["leo_env/Downlink-europe-starlink-v0", "leo_env/Downlink-europe-multishell-v0"]
)
def test_orbit_presets(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped)
    traj = play(env, seed=0, steps=5)
    assert all(info["budget_violations"] == 0 for _, _, info in traj[1:])


def test_callable_predictor_equals_builtin():
    def naive(demand, prior):
        return np.concatenate([prior[:, None], demand[:, :-1]], axis=1)

    a = DownlinkEnv("medium", allocator="equal", predictor="naive")
    b = DownlinkEnv("medium", allocator="equal", predictor=naive)
    for (oa, ra, _), (ob, rb, _) in zip(
        play(a, seed=3, steps=6), play(b, seed=3, steps=6), strict=True
    ):
        assert data_equivalence(oa, ob) and ra == rb
    with pytest.raises(ValueError, match="predictor"):
        DownlinkEnv("toy", predictor="oracle")
