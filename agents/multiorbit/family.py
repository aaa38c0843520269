"""The multiorbit family (DV-MOSS) in the shared pipeline: ``train.py`` / ``evaluate.py`` route here.

``python train.py --config configs/experiments/multiorbit_bc_select.yaml`` generates (or reads)
the DV-MOSS demonstrations and trains the agent (rerun with ``--resume runs/multiorbit/<name>``
to continue); ``python evaluate.py --config configs/experiments/multiorbit_eval_select.yaml``
plays every listed policy on the same held-out seeds and writes results.json / results.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.families import Family

__all__ = ["FAMILY"]


def _load(path: Any, overrides: Any) -> Any:
    from agents.multiorbit.config import load_config

    return load_config(path, [o for o in overrides if o.split("=", 1)[0].strip() != "family"])


def _train(cfg: Any, resume: Any = None, progress: bool | None = None, trust: bool = False) -> Path:
    from agents.multiorbit.training import train

    return train(cfg, resume=resume, progress=progress is not False, trust=trust)


def _evaluate(cfg: Any, policies: list[str], progress: bool = True, trust: bool = False) -> dict[str, Any]:
    from agents.multiorbit.evaluation import evaluate

    return evaluate(cfg, list(policies), progress=progress, trust=trust)


FAMILY = Family(
    name="multiorbit",
    load_config=_load,
    train=_train,
    evaluate=_evaluate,
    policies=("dv-moss", "eps-markov", "k-nearest", "2-nearest", "k-random", "dv-moss-assoc", "jubpa-assoc", "best-gain"),
    env_ids=("leo_env/MultiOrbitSelect-v0", "leo_env/MultiOrbitAssoc-v0"),
    description="DV-MOSS: learned satellite-subset selector and UE association (BC, Wolpertinger, MaskablePPO)",
)
