"""Shared fixtures of the agent tests: a tiny configuration and a small oracle label set."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th

from agents.config import ExperimentConfig, load_experiment

TINY = [
    "env.preset=toy",
    "env.allocator=equal",
    "train.n_envs=2",
    "train.total_timesteps=256",
    "train.eval_freq=0",
    "train.eval_episodes=1",
    "train.final_eval_episodes=0",
    "train.checkpoint_freq=0",
    "train.progress_bar=false",
    "agent.ppo.n_steps=32",
    "agent.ppo.batch_size=32",
    "agent.ppo.n_epochs=2",
    "agent.hidden=16",
    "agent.labels.workers=1",
    "agent.labels.n_seeds=4",
    "agent.labels.shard_size=2",
]
"""Overrides that make a configuration train in seconds (toy preset, equal-split allocator)."""


def tiny_config(tmp_path, *extra: str) -> ExperimentConfig:
    """A tiny experiment writing its runs and labels under ``tmp_path``."""
    return load_experiment(
        None, [*TINY, f"train.runs_dir={tmp_path / 'runs'}", f"agent.labels.cache_dir={tmp_path / 'labels'}", *extra]
    )


@pytest.fixture(autouse=True)
def _one_thread():
    th.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def toy_labels(tmp_path_factory):
    """Oracle labels of 4 toy scenarios (hindsight P2 replayed; in-process worker)."""
    from agents.labels import labels_for

    tmp = tmp_path_factory.mktemp("labels")
    cfg = tiny_config(tmp)
    return labels_for(cfg.env, cfg.agent.labels, progress=False)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
