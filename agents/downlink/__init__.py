"""The downlink family (APEX) in the pipeline: its config, training and evaluation.

The agent components it uses (:mod:`agents.bc`, :mod:`agents.labels`, :mod:`agents.dagger`,
:mod:`agents.search`, :mod:`agents.networks`, :mod:`agents.envs`, :mod:`agents.vec_env`,
:mod:`agents.wolpertinger`, :mod:`agents.predictors`) live at the top of ``agents/`` for now.
"""

from __future__ import annotations

from typing import Any

from agents.families import Family
from leo_env.envs.downlink import ENV_SPECS

__all__ = ["FAMILY"]


def _train(cfg: Any, **kwargs: Any) -> Any:
    from agents.downlink.pipeline import train

    return train(cfg, **kwargs)


def _evaluate(cfg: Any, policies: list[str], **kwargs: Any) -> Any:
    from agents.downlink.pipeline import evaluate

    return evaluate(cfg, policies, **kwargs)


def _load(path: Any, overrides: Any) -> Any:
    from agents.config import load_experiment

    return load_experiment(path, list(overrides))


FAMILY = Family(
    name="downlink",
    load_config=_load,
    train=_train,
    evaluate=_evaluate,
    policies=("b0", "b1", "b2", "random"),
    env_ids=tuple(s["id"] for s in ENV_SPECS),
    description="APEX: cell -> satellite association under hard handover budgets, exact P1 inside",
)
