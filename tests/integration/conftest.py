"""Fixtures of the integration tests: tiny trainings on ``toy`` (equal-split allocator)."""

from __future__ import annotations

import pytest
import torch as th

from tests.unit.agents.conftest import TINY, tiny_config  # noqa: F401


@pytest.fixture(autouse=True)
def _one_thread():
    th.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A B5 run folder (labels, BC, a few PPO updates, validation, checkpoints).

    Its agent observes 2 slots of look-ahead, which the evaluation's own config does not set
    (the evaluation must give each agent the observation it was trained on).
    """
    from agents.downlink.pipeline import train

    tmp = tmp_path_factory.mktemp("trained")
    cfg = tiny_config(tmp, "agent.preset=bc_maskable_ppo", "agent.hidden=16", "agent.bc.epochs=5", "env.lookahead=2",
                      "train.total_timesteps=256", "train.eval_freq=128", "train.eval_episodes=2",
                      "train.checkpoint_freq=128", "train.final_eval_episodes=2")
    return train(cfg, progress=False), cfg
