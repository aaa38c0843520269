"""The link-group family (EMCL) in the shared pipeline: ``train.py`` / ``evaluate.py`` route here.

``python train.py --config configs/experiments/linkgroup_emcl.yaml`` meta-trains EMCL (resumable:
``--resume runs/linkgroup/emcl_small`` continues from the last checkpoint);
``python evaluate.py --config configs/experiments/linkgroup_emcl.yaml --policies
configs/experiments/linkgroup_ac_maml.yaml,...,grd,admm,opt`` compares every listed policy on the
same held-out windows (gap to hindsight OPT) and task streams (recovery time after each change).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.families import Family

__all__ = ["FAMILY"]


def _load(path: Any, overrides: Any) -> Any:
    from agents.linkgroup.config import load_config

    return load_config(path, list(overrides))


def _train(cfg: Any, resume: Any = None, progress: bool | None = None, trust: bool = False) -> Path:
    from agents.linkgroup.training import train

    return train(cfg, resume=bool(resume), progress=progress, trust=trust)


def _evaluate(cfg: Any, policies: list[str], progress: bool = True, trust: bool = False) -> dict[str, Any]:
    from agents.linkgroup.evaluation import evaluate

    return evaluate(cfg, policies, progress=progress, trust=trust)


FAMILY = Family(
    name="linkgroup",
    load_config=_load,
    train=_train,
    evaluate=_evaluate,
    policies=("grd", "admm", "opt", "random"),
    env_ids=("leo_env/LinkGroupSched-v0",),
    description="EMCL: meta-critic learning for link-group scheduling in an overloaded LEO-5G cell",
)
