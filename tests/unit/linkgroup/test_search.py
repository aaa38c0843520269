"""Causal searches over sampled channel futures: GRD rollout and SAA-MPC (oracles + policies)."""

import numpy as np
import pytest

from leo_env.core.linkgroups import link_view
from leo_env.envs.linkgroup.env import LinkGroupSchedEnv
from leo_env.envs.linkgroup.policies import RolloutPolicy, SaaPolicy
from leo_env.scenario import linkgroup as lg
from oracles.linkgroup.greedy import greedy_group
from oracles.linkgroup.opt import solve_opt
from oracles.linkgroup.rollout import greedy_batch, rollout_group, sample_future_gains
from oracles.linkgroup.saa import solve_saa_first_slot

from .conftest import make_instance


@pytest.mark.parametrize("preset,seed", [("tiny", 0), ("small", 1), ("small", 2)], ids=["tiny-0", "small-1", "small-2"])
def test_greedy_batch_equals_greedy_group(preset, seed):
    _, inst, _ = make_instance(preset, seed)
    v = link_view(inst)
    rng = np.random.default_rng(seed)
    for t in (0, inst.T // 2, inst.T - 1):
        d = rng.uniform(0.0, 1.0, (6, inst.K)) * inst.demand_bits
        d[0] = 0.0
        a = greedy_batch(inst, np.broadcast_to(v.bits[..., t], (6, *v.bits.shape[:3])),
                         np.broadcast_to(v.ok[..., t], (6, *v.ok.shape[:3])), d)
        for b in range(6):
            assert np.array_equal(a[b], greedy_group(inst, t, d[b])), (t, b)


def test_future_model_is_the_env_model():
    """Large-scale gain x level mean reproduces every slot's gain, so sampled futures follow the env's law."""
    env = LinkGroupSchedEnv(preset="small", mode="links", layout_seed=1)
    env.reset(seed=4)
    u = env.unwrapped
    large = lg.large_scale_gains(u.cfg, u.layout, u.task)
    tab = lg.fsmc_tables(u.cfg)
    mean = np.stack([tab["mean_ka"], tab["mean_c"]])
    chain = np.r_[0, np.ones(u.cfg.J - 1, dtype=np.int64)]
    for t in range(u.cfg.T):
        assert np.allclose(large * mean[chain[:, None], u.levels[:, :, t]], u.instance.gain[:, :, t])
    trans = np.stack([tab["P_ka"], tab["P_c"]])
    fut = sample_future_gains(large, u.levels[:, :, 0], chain, trans, mean, 3, 200, np.random.default_rng(0))
    assert fut.shape == (200, u.cfg.J, u.cfg.K, 3)
    # one step ahead: the empirical level law of one link matches its transition-matrix row
    k = int(np.flatnonzero(large[0] > 0)[0])
    lv0 = u.levels[0, k, 0]
    lv1 = np.argmin(np.abs(fut[:, 0, k, 0, None] / large[0, k] - mean[0][None, :]), axis=1)
    emp = np.bincount(lv1, minlength=mean.shape[1]) / 200
    assert np.abs(emp - trans[0][lv0]).max() < 0.15


def test_saa_with_one_true_future_is_opt():
    """S = 1 with the realised future at t = 0 is OPT on the window (same cut model, zero gap)."""
    _, inst, _ = make_instance("small", 3)
    opt = solve_opt(inst, n_cuts=17, mip_rel_gap=0.0)
    g, info = solve_saa_first_slot(inst, 0, np.zeros(inst.K), inst.gain[None, :, :, 1:], n_cuts=17,
                                   mip_rel_gap=0.0)
    assert info["status"] == "optimal"
    assert info["objective"] == pytest.approx(opt.info["milp_objective"], rel=1e-6, abs=1e-6)
    assert g.shape == (inst.J,)


def test_rollout_keeps_grd_with_one_candidate_and_checks_shapes():
    _, inst, _ = make_instance("small", 5)
    d = np.zeros(inst.K)
    fut = np.repeat(inst.gain[None, :, :, 1:], 2, axis=0)
    g, info = rollout_group(inst, 0, d, fut, n_candidates=1)
    assert np.array_equal(g, greedy_group(inst, 0, d)) and info["chose_grd"] == 1.0
    with pytest.raises(ValueError, match="future_gain"):
        rollout_group(inst, 0, d, fut[..., :1])
    with pytest.raises(ValueError, match="n_candidates"):
        rollout_group(inst, 0, d, fut, n_candidates=0)


@pytest.mark.parametrize("make", [lambda: RolloutPolicy(n_samples=4, n_candidates=6, seed=1),
                                  lambda: SaaPolicy(n_samples=2, time_limit=5.0, seed=1)], ids=["rollout", "saa"])
def test_search_policies_are_valid_and_deterministic(make):
    finals = []
    for _ in range(2):
        env = LinkGroupSchedEnv(preset="small", mode="links", layout_seed=0)
        pol = make()
        obs, _ = env.reset(seed=7)
        pol.reset(env)
        while True:
            obs, r, term, _, info = env.step(pol.act(obs, env))
            assert info["step_repairs"] == 0 and np.isfinite(r)
            if term:
                break
        finals.append(info["objective"])
    assert finals[0] == finals[1]


def test_fig8_summary_gaps_per_cycle_on_the_same_cycles():
    """Fig. 8 gap = per-cycle (mean F - mean F_OPT) / mean F_OPT, averaged; partial runs use OPT's same cycles."""
    from agents.linkgroup.config import load_config
    from agents.linkgroup.evaluation import _fig8_summary

    cfg = load_config(None, ["name=me", "evaluate.fig8_updates=3", "evaluate.fig8_windows=2",
                             "evaluate.fig8_every=1"])
    upd = [0, 0, 1, 1, 2, 2]
    runs = [{"label": "opt", "seed": 0, "F": [2, 2, 4, 4, 1, 3], "update": upd, "time_per_slot_s": 0.1},
            {"label": "me", "seed": 0, "F": [3, 3, 4, 6, 2, 2], "update": upd, "time_per_slot_s": 0.1},
            {"label": "rollout", "seed": 0, "F": [2, 4], "update": [0, 0], "time_per_slot_s": 0.1}]
    out = _fig8_summary(cfg, ["me", "rollout", "opt"], runs)
    me = out["policies"]["me"]
    assert me["cycle_gaps_pct"] == pytest.approx([50.0, 25.0, 0.0])
    assert me["gap_to_opt_pct"] == pytest.approx(25.0)
    assert me["pooled_gap_pct"] == pytest.approx(100 * (20 / 16 - 1))
    ro = out["policies"]["rollout"]
    assert ro["n_cycles"] == 1 and ro["gap_to_opt_pct"] == pytest.approx(50.0)
    assert ro["vs_me"]["mean_diff"] == pytest.approx(0.0)
    assert out["policies"]["opt"]["gap_to_opt_pct"] == 0.0


def test_transient_excess_on_constructed_series():
    from oracles.linkgroup.objective import transient_excess

    x = np.r_[np.full(100, 10.0), np.full(20, 15.0), np.full(80, 10.0)]
    assert transient_excess(x, 100, 200) == pytest.approx(5.0)
    assert transient_excess(np.full(200, 3.0), 100, 200) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="cycle_end"):
        transient_excess(x, 180, 200)


@pytest.mark.parametrize("make", [lambda: RolloutPolicy(n_samples=4, n_candidates=6, seed=3),
                                  lambda: RolloutPolicy(n_samples=4, n_candidates=6, seed=3, local_search=2),
                                  lambda: SaaPolicy(n_samples=2, time_limit=5.0, seed=3)],
                         ids=["rollout", "rollout-ls", "saa"])
def test_search_policies_never_read_the_future(make):
    """Scrambling the realised window's later slots (gains and levels) does not change a decision."""
    import dataclasses

    env = LinkGroupSchedEnv(preset="small", mode="links", layout_seed=2)
    obs, _ = env.reset(seed=11)
    env.step(_greedy_action(env))
    u = env.unwrapped
    acts = []
    for scramble in (False, True):
        if scramble:
            g = u.instance.gain.copy()
            g[:, :, u.t + 1:] = g[:, :, u.t + 1:][..., ::-1] * 0.5
            u.instance = dataclasses.replace(u.instance, gain=g)
            u.levels = u.levels.copy()
            u.levels[:, :, u.t + 1:] = 0
        pol = make()
        pol.reset(env)
        acts.append(np.asarray(pol.act(obs, env)))
    assert np.array_equal(acts[0], acts[1])


def _greedy_action(env):
    u = env.unwrapped
    return u.encode(greedy_group(u.instance, u.t, u.delivered, u.spec_obj))
