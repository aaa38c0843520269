"""The lisl family (DuJo) in the shared pipeline: ``train.py`` / ``evaluate.py`` route here.

``python train.py --config configs/experiments/lisl_gnn.yaml`` trains the GNN price predictor
(``agent: gnn``), ``configs/experiments/lisl_ppo_gnn.yaml`` PPO with GNN actor/critic
(``agent: ppo``); ``--resume <run folder>`` continues an interrupted run.
``python evaluate.py --config configs/experiments/lisl_eval.yaml --policies
dujo,mrate,sate,+grid,rand,runs/lisl/lisl_gnn,runs/lisl/lisl_ppo_gnn`` compares them on paired
held-out snapshots (results.json and results.md in ``evaluate.out``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.families import Family

__all__ = ["FAMILY"]


def _load(path: Any, overrides: Any) -> Any:
    from agents.lisl.config import load_config

    return load_config(path, list(overrides or ()))


def _train(cfg: Any, resume: Any = None, progress: bool | None = None, trust: bool = False) -> Path:
    if cfg.agent == "gnn":
        from agents.lisl.training import train_gnn

        return train_gnn(cfg, resume=resume, progress=progress, trust=trust)
    if cfg.agent == "ppo":
        from agents.lisl.ppo import train_ppo

        return train_ppo(cfg, resume=resume, progress=progress, trust=trust)
    raise ValueError("agent: none has nothing to train (use evaluate.py with this config)")


def _evaluate(
    cfg: Any, policies: list[str], progress: bool = True, trust: bool = False
) -> dict[str, Any]:
    from agents.lisl.evaluation import evaluate

    return evaluate(cfg, list(policies), progress=progress, trust=trust)


FAMILY = Family(
    name="lisl",
    load_config=_load,
    train=_train,
    evaluate=_evaluate,
    policies=("dujo", "dujo-best", "mrate", "sate", "+grid", "rand"),
    env_ids=("leo_env/LislRouting-v0",),
    description=(
        "DuJo: laser-ISL matching and routing; GNN price predictor (DeepLaDu-style) and PPO-GNN "
        "against DuJo and the baselines"
    ),
)
