"""Run folders: ``runs/<env>__<algo>__<seed>__<time>/``.

| path | what |
|---|---|
| ``config.yaml`` | the resolved :class:`~agents.config.ExperimentConfig` |
| ``tb/`` | TensorBoard logs (SB3's ``rollout/``, ``train/``, ``eval/`` scalars; ``bc/`` pretraining) |
| ``episodes.csv`` | every finished training episode: env steps, return, length, violations, emergencies |
| ``evaluations.json`` | validation history (env steps, mean return, ...) of the masked eval callback |
| ``checkpoints/ckpt_<steps>.zip`` + ``.json`` | model and environment generator states (atomic) |
| ``best_model.zip`` | best validation return so far |
| ``final_model.zip`` | model at the end of training |
| ``bc.json`` | behaviour-cloning statistics (B5) |
| ``final_eval.json`` | final evaluation summary on held-out seeds |
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from agents.config import ROOT, ExperimentConfig, load_experiment

__all__ = ["make_run_dir", "latest_checkpoint", "model_file", "run_config", "run_dir_of", "CKPT_RE"]

CKPT_RE = re.compile(r"^ckpt_(\d+)\.zip$")


def make_run_dir(cfg: ExperimentConfig, when: float | None = None) -> Path:
    """Create and return a fresh run folder for ``cfg`` (suffixes avoid collisions)."""
    root = Path(cfg.train.runs_dir)
    if not root.is_absolute():
        root = Path.cwd() / root
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    base = f"{Path(cfg.env.preset).stem}__{cfg.agent.algo}__{cfg.seed}__{stamp}"
    root.mkdir(parents=True, exist_ok=True)
    for i in range(10_000):
        path = root / (base if i == 0 else f"{base}-{i}")
        try:
            path.mkdir()  # atomic: of two runs started in the same second, one gets "-1"
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"could not create a fresh run folder for {base} in {root}")


def latest_checkpoint(run_dir: str | os.PathLike[str]) -> Path | None:
    """Newest *complete* checkpoint in ``run_dir/checkpoints`` (None: none).

    A checkpoint is complete once its zip exists: :class:`agents.callbacks.CheckpointCallback`
    writes the state files (``.npz``, ``.json``) first and the zip last.
    """
    d = Path(run_dir) / "checkpoints"
    best: tuple[int, Path] | None = None
    if d.is_dir():
        for f in d.iterdir():
            m = CKPT_RE.match(f.name)
            if m and f.with_suffix(".json").exists() and (best is None or int(m.group(1)) > best[0]):
                best = (int(m.group(1)), f)
    return None if best is None else best[1]


def run_dir_of(path: str | os.PathLike[str]) -> Path | None:
    """The run folder holding ``path`` (a run folder, a model zip or a checkpoint)."""
    p = Path(path).resolve()
    for cand in (p, *p.parents[:3]):
        if cand.is_dir() and (cand / "config.yaml").exists():
            return cand
    return None


def model_file(path: str | os.PathLike[str], which: str = "best") -> Path:
    """Model zip of a run folder or checkpoint path.

    Parameters
    ----------
    path : path
        A ``.zip`` file, or a run folder.
    which : {"best", "final", "latest"}
        For a run folder: ``best_model.zip`` (falling back to final, then latest checkpoint),
        ``final_model.zip`` or the latest checkpoint.
    """
    p = Path(path)
    if not p.exists() and not p.is_absolute() and (ROOT / p).exists():
        p = ROOT / p
    if p.is_file():
        return p
    if not p.is_dir():
        raise FileNotFoundError(f"no model or run folder at {path}")
    order = {"best": ["best_model.zip", "final_model.zip"], "final": ["final_model.zip"], "latest": []}[which]
    for name in order:
        if (p / name).exists():
            return p / name
    ck = latest_checkpoint(p)
    if ck is None:
        raise FileNotFoundError(f"run folder {p} has no model yet")
    return ck


def run_config(path: str | os.PathLike[str]) -> ExperimentConfig:
    """Configuration of the run that holds ``path``."""
    rd = run_dir_of(path)
    if rd is None:
        raise FileNotFoundError(f"{path} is not inside a run folder (no config.yaml)")
    return load_experiment(rd / "config.yaml")
