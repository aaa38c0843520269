from pathlib import Path

import numpy as np
import pytest
import torch as th

from agents.bc import BCData, accuracy, pretrain
from agents.envs import env_kwargs
from agents.labels import generate_labels, label_dir, load_labels
from agents.registry import build_model
from agents.vec_env import DownlinkVecEnv

from .conftest import tiny_config


def test_labels_are_the_oracle_replayed_in_the_env(toy_labels):
    ls = toy_labels
    assert len(ls) == 4 * 10 and sorted(np.unique(ls.seed)) == [0, 1, 2, 3]
    C = ls.label.shape[1]
    # every label is allowed by the mask the agent sees
    m = ls.mask.reshape(len(ls), C, -1)
    assert m[np.arange(len(ls))[:, None], np.arange(C)[None], ls.label].all()
    # slots run 0..K-1 within each episode, returns accumulate backwards
    for s in range(4):
        assert ls.slot[ls.seed == s].tolist() == list(range(10))
    ret = ls.returns(1.0)
    first = ls.slot == 0
    np.testing.assert_allclose(ret[first], [ls.reward[ls.seed == s].sum() for s in ls.seed[first]], rtol=1e-5)


def test_label_generation_resumes_without_duplicates(tmp_path: Path):
    cfg = tiny_config(tmp_path / "a", "agent.labels.n_seeds=5", "agent.labels.shard_size=2")
    lab = cfg.agent.labels
    d = generate_labels(cfg.env, lab, progress=False, max_shards=1)  # "crash" after one shard
    assert len(list(d.glob("shard_*.npz"))) == 1
    (d / ".shard_00001.npz.tmp123.npz").write_bytes(b"half-written")  # a crash leftover
    generate_labels(cfg.env, lab, progress=False)  # resume
    files = sorted(d.glob("shard_*.npz"))
    assert [f.name for f in files] == ["shard_00000.npz", "shard_00001.npz", "shard_00002.npz"]
    resumed = load_labels(d)
    ref_cfg = tiny_config(tmp_path / "b", "agent.labels.n_seeds=5", "agent.labels.shard_size=2")
    ref = load_labels(generate_labels(ref_cfg.env, ref_cfg.agent.labels, progress=False))
    assert sorted(set(resumed.seed.tolist())) == [0, 1, 2, 3, 4]
    assert len(resumed) == 5 * 10  # no seed twice
    np.testing.assert_array_equal(resumed.obs, ref.obs)
    np.testing.assert_array_equal(resumed.label, ref.label)
    # more seeds later: only the new shard is computed, the old ones are kept as they are
    mtimes = {f.name: f.stat().st_mtime_ns for f in files}
    cfg2 = tiny_config(tmp_path / "a", "agent.labels.n_seeds=7", "agent.labels.shard_size=2")
    assert label_dir(cfg2.env, cfg2.agent.labels) == d
    generate_labels(cfg2.env, cfg2.agent.labels, progress=False)
    for f in files[:2]:
        assert f.stat().st_mtime_ns == mtimes[f.name]
    assert len(load_labels(d, seeds=list(range(7)))) == 70


def test_behaviour_cloning_fits_a_small_label_set(tmp_path, toy_labels):
    cfg = tiny_config(tmp_path, "agent.algo=bc_maskable_ppo", "agent.hidden=32")
    venv = DownlinkVecEnv(1, env_kwargs(cfg.env), satellite_ids=cfg.env.satellite_ids)
    model = build_model(cfg, venv, venv.layout)
    data = BCData.from_labels(toy_labels, gamma=0.99, reward_scale=1 / venv.layout.C)
    before = accuracy(model.policy, data)
    stats = pretrain(model.policy, data, epochs=300, batch_size=64, learning_rate=3e-3, value=True,
                     rng=np.random.default_rng(0))
    assert stats["accuracy"] >= 0.97 > before or stats["accuracy"] == pytest.approx(1.0)
    assert stats["value_loss"] < 0.05
    # the deterministic masked policy reproduces the labels
    with th.no_grad():
        dist = model.policy.get_distribution(data.obs, action_masks=data.mask.numpy())
        pred = dist.get_actions(deterministic=True)
    assert (pred == data.label).float().mean().item() >= 0.97


def test_mpc_expert_labels_are_b2_decisions_on_the_agents_forecasts(tmp_path: Path):
    """``labels.expert=mpc``: every label is what B2 (P2 on the forecasts) picks in that state."""
    from agents.envs import make_env
    from leo_env.envs.downlink.policies import MPCPolicy

    cfg = tiny_config(
        tmp_path, "agent.labels.n_seeds=2", "agent.labels.expert=mpc", "agent.labels.window=3", "env.lookahead=2"
    )
    d = generate_labels(cfg.env, cfg.agent.labels, progress=False)
    hind = tiny_config(tmp_path, "agent.labels.n_seeds=2", "env.lookahead=2")
    assert d != label_dir(hind.env, hind.agent.labels)  # a separate cache
    ls = load_labels(d)
    env = make_env(cfg.env)
    b2 = MPCPolicy(window=3, method=cfg.agent.labels.method, proxy=cfg.agent.labels.proxy)
    for s in (0, 1):
        obs, _ = env.reset(seed=s, options={"scenario_seed": s})
        b2.reset(env)
        rows = np.nonzero(ls.seed == s)[0]
        for r in rows:
            a = b2.act(obs, env)
            np.testing.assert_array_equal(ls.label[r], a)
            obs, *_ = env.step(a)
