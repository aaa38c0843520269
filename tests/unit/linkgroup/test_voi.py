"""Rollout with local search, look-ahead information oracles and scenario-tree SAA bounds."""

import dataclasses

import numpy as np
import pytest

from leo_env.core.linkgroups import slot_links
from leo_env.envs.linkgroup.env import LinkGroupSchedEnv
from leo_env.envs.linkgroup.policies import LookaheadSaaPolicy
from oracles.linkgroup.greedy import greedy_group
from oracles.linkgroup.objective import objective
from oracles.linkgroup.opt import solve_opt
from oracles.linkgroup.rollout import rollout_group
from oracles.linkgroup.saa import solve_saa_first_slot

from .conftest import make_instance


def _reference_score(inst, t, d0, group, fut):
    """Mean final F of ``group`` in slot t then scalar GRD (greedy_group) on every sampled path."""
    out = []
    for s in range(fut.shape[0]):
        g = np.concatenate([inst.gain[:, :, : t + 1], fut[s]], axis=2)
        sub = dataclasses.replace(inst, gain=g)
        d = np.asarray(d0, dtype=float).copy()
        for tau in range(t, inst.T):
            a = group if tau == t else greedy_group(sub, tau, d)
            _, bits, ok = slot_links(sub, a, tau)
            assert ok.all()
            on = np.flatnonzero(a >= 0)
            np.add.at(d, a[on], bits[on])
        out.append(objective(sub, d))
    return float(np.mean(out))


@pytest.mark.parametrize("seed,t", [(1, 0), (4, 2)], ids=["small-1-t0", "small-4-t2"])
def test_local_search_never_scores_worse_and_score_matches_an_independent_replay(seed, t):
    _, inst, _ = make_instance("small", seed)
    rng = np.random.default_rng(seed)
    d0 = np.zeros(inst.K) if t == 0 else rng.uniform(0, 0.5, inst.K) * inst.demand_bits
    fut = inst.gain[None, :, :, t + 1:] * rng.exponential(1.0, (3, inst.J, inst.K, inst.T - t - 1))
    g0, i0 = rollout_group(inst, t, d0, fut, n_candidates=8)
    g1, i1 = rollout_group(inst, t, d0, fut, n_candidates=8, local_search=3)
    assert i1["score"] <= i0["score"] + 1e-9
    assert i1["n_candidates"] >= i0["n_candidates"]
    # the sample-average score is what an independent (scalar GRD) replay of the paths gives
    assert i1["score"] == pytest.approx(_reference_score(inst, t, d0, g1, fut), rel=1e-9, abs=1e-9)
    assert i0["score"] == pytest.approx(_reference_score(inst, t, d0, g0, fut), rel=1e-9, abs=1e-9)
    with pytest.raises(ValueError, match="local_search"):
        rollout_group(inst, t, d0, fut, local_search=-1)


def test_lookahead_oracle_with_the_whole_future_is_hindsight_opt():
    """Knowing every later slot (lookahead T-1, one path) re-solves OPT every slot: OPT's F."""
    env = LinkGroupSchedEnv(preset="small", mode="links", layout_seed=0)
    obs, _ = env.reset(seed=3)
    u = env.unwrapped
    f_opt = solve_opt(u.instance, u.spec_obj, mip_rel_gap=0.0).objective
    pol = LookaheadSaaPolicy(lookahead=u.cfg.T - 1, n_samples=1, seed=0)
    pol.reset(env)
    while True:
        obs, _, term, _, info = env.step(pol.act(obs, env))
        if term:
            break
    assert info["objective"] == pytest.approx(f_opt, rel=2e-2, abs=2e-2)  # 17 tangent cuts, 1e-3 MIP gap
    with pytest.raises(ValueError, match="lookahead"):
        LookaheadSaaPolicy(lookahead=-1)


def _tree_paths(inst, rng, branches, per):
    """Paths whose slot-1 gains are shared within a branch, later slots drawn per path."""
    fut = inst.gain[None, :, :, 1:] * rng.exponential(1.0, (branches * per, inst.J, inst.K, inst.T - 1))
    for b in range(branches):
        fut[b * per:(b + 1) * per, :, :, 0] = fut[b * per, :, :, 0]
    return fut, np.repeat(np.arange(branches), per)


def test_tree_bound_sits_between_two_stage_and_collapses_with_one_path_per_branch():
    _, inst, _ = make_instance("tiny", 2)
    rng = np.random.default_rng(0)
    fut, br = _tree_paths(inst, rng, 2, 2)
    d0 = np.zeros(inst.K)
    kw = {"mip_rel_gap": 0.0, "n_cuts": 9}
    _, two = solve_saa_first_slot(inst, 0, d0, fut, **kw)
    _, tree = solve_saa_first_slot(inst, 0, d0, fut, branch=br, **kw)
    hs = np.mean([solve_opt(dataclasses.replace(inst, gain=np.concatenate([inst.gain[:, :, :1], f], axis=2)),
                            n_cuts=9, mip_rel_gap=0.0).info["milp_objective"] for f in fut])
    assert hs <= two["objective"] + 1e-6 <= tree["objective"] + 2e-6  # more non-anticipativity, higher value
    assert two["dual_bound"] <= two["objective"] + 1e-6
    _, one = solve_saa_first_slot(inst, 0, d0, fut, branch=np.arange(4), **kw)  # every branch one path
    assert one["objective"] == pytest.approx(two["objective"], abs=1e-6)
    with pytest.raises(ValueError, match="branch"):
        solve_saa_first_slot(inst, 0, d0, fut, branch=np.zeros(3, dtype=int))


def test_dagger_config_needs_the_causal_teacher():
    from agents.linkgroup.config import load_config

    with pytest.raises(ValueError, match="dagger_rounds"):
        load_config(None, ["train.dagger_rounds=1"])
    with pytest.raises(ValueError, match="bc_teacher"):
        load_config(None, ["train.bc_teacher=admm"])
    c = load_config("configs/experiments/linkgroup_emcl_rollout_k20.yaml")
    assert c.train.bc_teacher == "rollout" and c.agent.bc_online


@pytest.mark.slow
def test_dagger_warm_start_is_deterministic_and_labels_every_visited_slot(tmp_path):
    from agents.linkgroup.config import load_config
    from agents.linkgroup.training import load_learner, train

    over = ["env.preset=small", "train.bc_windows=2", "train.dagger_rounds=1", "train.dagger_windows=2",
            "train.bc_steps=10", "train.meta_episodes=0", "train.n_tasks=2", "train.tasks_per_episode=2",
            "agent.warmup=8", "train.teacher_samples=2", f"run_dir={tmp_path}"]
    w = []
    for name in ("a", "b"):
        cfg = load_config("configs/experiments/linkgroup_emcl_rollout_k20.yaml", [*over, f"name={name}"])
        train(cfg, progress=False)
        lr = load_learner(cfg)
        assert lr.bc_x is not None and len(lr.bc_x) == 4 * 10  # 4 windows x T = 10 slots of 'small'
        w.append(lr.actor.state_dict())
    for k in w[0]:
        assert np.array_equal(w[0][k].numpy(), w[1][k].numpy())


def test_categorical_bc_loss_targets_the_teachers_receiver_or_idle():
    import torch

    from agents.linkgroup.learner import bc_loss

    y = torch.zeros(1, 2, 3)
    y[0, 0, 1] = 1.0  # transmitter 0 -> receiver 1, transmitter 1 idle
    good = torch.full((1, 2, 3), 1e-4)
    good[0, 0, 1] = 1 - 1e-4
    bad = torch.full((1, 2, 3), 1e-4)
    bad[0, 0, 2] = 1 - 1e-4
    bad[0, 1, 0] = 1 - 1e-4
    assert bc_loss(good, y, "categorical") < 1e-3 < bc_loss(bad, y, "categorical")
    assert bc_loss(good, y, "bce") < bc_loss(bad, y, "bce")
    # uniform logits 0: every class (3 receivers + idle) has probability 1/4
    assert float(bc_loss(torch.full((1, 2, 3), 0.5), y, "categorical")) == pytest.approx(np.log(4.0), rel=1e-5)
    with pytest.raises(ValueError, match="kind"):
        bc_loss(good, y, "l2")
