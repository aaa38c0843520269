"""DAgger rounds: learner states, expert labels, disjoint seeds, resumable shards."""

import numpy as np
import pytest

from agents.config import to_yaml
from agents.dagger import concat, dagger_seeds, run_round
from agents.envs import env_kwargs, make_env
from agents.labels import label_episode
from agents.registry import build_model
from agents.vec_env import DownlinkVecEnv
from leo_env.envs.downlink.policies import GreedyPolicy, MPCPolicy

from .conftest import tiny_config


def test_round_seeds_follow_the_label_seeds_and_never_overlap(tmp_path):
    cfg = tiny_config(tmp_path, "agent.bc.dagger_seeds=3")
    lab, bc = cfg.agent.labels, cfg.agent.bc
    rounds = [dagger_seeds(lab, bc, r) for r in range(3)]
    assert rounds[0][0] == lab.first_seed + lab.n_seeds
    flat = [s for r in rounds for s in r]
    assert len(set(flat)) == len(flat) == 9
    assert not set(flat) & set(range(lab.first_seed, lab.first_seed + lab.n_seeds))


def test_realised_mpc_expert_relabels_the_learner_states(tmp_path):
    """Observations are those of the played (behaviour) trajectory, labels the expert's."""
    cfg = tiny_config(tmp_path)
    env = make_env(cfg.env)
    expert = MPCPolicy(arrivals="realised")
    rows = label_episode(env, 7, expert, cfg.env.satellite_ids, behaviour=GreedyPolicy())
    ref = label_episode(env, 7, GreedyPolicy(), cfg.env.satellite_ids)  # greedy labels itself
    np.testing.assert_array_equal(rows["obs"], ref["obs"])  # same states visited
    np.testing.assert_array_equal(rows["reward"], ref["reward"])
    C = rows["label"].shape[1]
    m = rows["mask"].reshape(len(rows["slot"]), C, -1)
    assert m[np.arange(len(rows["slot"]))[:, None], np.arange(C)[None], rows["label"]].all()
    with pytest.raises(ValueError, match="arrivals"):
        MPCPolicy(arrivals="future")


def test_run_round_writes_shards_once_and_resumes(tmp_path):
    cfg = tiny_config(tmp_path, "agent.algo=bc_maskable_ppo", "agent.bc.dagger_seeds=3")
    venv = DownlinkVecEnv(1, env_kwargs(cfg.env), satellite_ids=cfg.env.satellite_ids)
    model = build_model(cfg, venv, venv.layout)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(to_yaml(cfg))  # a run folder: the workers rebuild the learner from it
    new = run_round(model, "bc_maskable_ppo", cfg.env, cfg.agent.labels, cfg.agent.bc, 0, run, progress=False)
    assert sorted(np.unique(new.seed).tolist()) == dagger_seeds(cfg.agent.labels, cfg.agent.bc, 0)
    assert len(new) == 3 * 10
    shards = sorted((run / "dagger" / "round_0").glob("shard_*.npz"))
    mtimes = [f.stat().st_mtime_ns for f in shards]
    again = run_round(model, "bc_maskable_ppo", cfg.env, cfg.agent.labels, cfg.agent.bc, 0, run, progress=False)
    assert [f.stat().st_mtime_ns for f in shards] == mtimes  # nothing recomputed
    np.testing.assert_array_equal(again.label, new.label)
    both = concat([new, again])
    assert len(both) == 60 and both.fallbacks == 2 * new.fallbacks
