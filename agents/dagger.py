"""DAgger rounds for B5: label the states the cloned policy visits, not only the oracle's.

Behaviour cloning on B1 trajectories only ever sees states the oracle reaches.  Once the
cloned policy deviates (a different satellite, a budget spent earlier), it is in states no
label covers, and errors compound over the episode.  DAgger (Ross, Gordon and Bagnell, 2011)
fixes this by playing the *learner* and asking the expert what it would do in every visited
state:

1. save the current policy; play it on ``bc.dagger_seeds`` new training scenarios;
2. in every visited state, the expert is :class:`leo_env.envs.downlink.policies.MPCPolicy` with
   ``arrivals="realised"``: P2 (the label oracle's method and proxy) over the rest of the
   episode on the realised arrivals, from the current association and budgets left -- the
   hindsight oracle re-planned from where the learner is (with ``labels.expert: mpc`` the
   expert is B2 itself, on the forecasts);
3. add the rows (the learner's observation and mask, the expert's choice) to the data and
   train ``bc.dagger_epochs`` more passes from the current weights.

Rounds run in worker processes like the label generation (:func:`agents.labels.run_shards`)
and write their shards atomically into ``<run dir>/dagger/round_<r>/``; a shard on disk is
complete, so an interrupted round resumes by skipping it (the policy of a round is saved next
to its shards and re-used).
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from agents.config import BCConfig, EnvConfig, LabelConfig
from agents.labels import LabelSet, load_labels, run_shards, shard_path, shard_seeds_of, write_shard

__all__ = ["concat", "dagger_seeds", "run_round"]


def dagger_seeds(lab: LabelConfig, bc: BCConfig, round_index: int) -> list[int]:
    """Scenario seeds of a round: after the label seeds, disjoint across rounds."""
    start = lab.first_seed + lab.n_seeds + round_index * bc.dagger_seeds
    return list(range(start, start + bc.dagger_seeds))


def _dagger_shard(
    env_cfg: dict[str, Any], lab: dict[str, Any], model_path: str, algo: str, directory: str, shard: int,
    seeds: list[int],
) -> None:
    """Worker task: play the saved learner on ``seeds``, label with the expert, write a shard."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch as th

    from agents.envs import make_env
    from agents.labels import label_episode, make_expert
    from agents.policies import AgentPolicy
    from agents.registry import load_model
    from agents.runs import run_config

    th.set_num_threads(1)
    cfg = EnvConfig(**env_cfg)
    env = make_env(cfg)
    model = load_model(model_path, run_config(model_path), device="cpu")
    model.policy.set_training_mode(False)
    learner = AgentPolicy(model, algo)
    expert = make_expert(lab, replan=True)
    episodes = [(s, label_episode(env, s, expert, cfg.satellite_ids, behaviour=learner)) for s in seeds]
    write_shard(shard_path(Path(directory), shard), episodes)


def run_round(
    model: Any,
    algo: str,
    env_cfg: EnvConfig,
    lab: LabelConfig,
    bc: BCConfig,
    round_index: int,
    run_dir: str | os.PathLike[str],
    progress: bool = True,
) -> LabelSet:
    """Play ``model`` on the round's seeds, label every visited state, return the new rows.

    Parameters
    ----------
    model : BaseAlgorithm
        The current learner (saved to ``<run dir>/dagger/round_<r>/policy.zip`` unless a
        previous, interrupted attempt left it there).
    algo : str
        Its algorithm name (for reloading in the workers).
    env_cfg, lab, bc : configs
        Environment, label oracle (method, proxy, options, workers, shard size) and BC settings.
    round_index : int
        Round number ``r`` (0-based).
    run_dir : path
        The run folder.
    progress : bool
        Progress bar.
    """
    directory = Path(run_dir) / "dagger" / f"round_{round_index}"
    directory.mkdir(parents=True, exist_ok=True)
    policy_file = directory / "policy.zip"
    if not policy_file.exists():
        from agents.callbacks import save_model

        save_model(model, policy_file)  # atomic, digest recorded for the workers' safe load
    seeds = dagger_seeds(lab, bc, round_index)
    size = max(1, int(lab.shard_size))
    chunks = [seeds[i : i + size] for i in range(0, len(seeds), size)]
    env_d, lab_d = asdict(env_cfg), asdict(lab)
    tasks = [
        (env_d, lab_d, str(policy_file), algo, str(directory), i, chunk)
        for i, chunk in enumerate(chunks)
        if shard_seeds_of(directory, i) != chunk
    ]
    if tasks:
        run_shards(_dagger_shard, tasks, lab.workers, f"DAgger round {round_index}", progress,
                   backend=lab.backend, address=lab.address)
    return load_labels(directory)


def concat(sets: list[LabelSet]) -> LabelSet:
    """Rows of several label sets, in order."""
    fields = ("obs", "mask", "label", "reward", "seed", "slot")
    return LabelSet(
        **{f: np.concatenate([getattr(s, f) for s in sets]) for f in fields},
        fallbacks=sum(s.fallbacks for s in sets),
    )
