"""Oracle and baselines of ``PrimaryAssignment-v0`` as :class:`leo_env.policies.Policy` objects.

| name | class | rule |
|---|---|---|
| ``true-rule`` | :class:`TrueRulePolicy` | HE with the hidden priorities (an oracle: reward 1 on every epoch) |
| ``he-no-priorities`` | :class:`HENoPriorityPolicy` | each cluster takes its own highest-elevation eligible satellite |
"""

from __future__ import annotations

from typing import Any, cast

import gymnasium as gym
import numpy as np

from leo_env.core.assignment import he_assign
from leo_env.policies import Policy

__all__ = ["TrueRulePolicy", "HENoPriorityPolicy"]


def _rule(
    obs: dict[str, np.ndarray], env: gym.Env[Any, Any], order: np.ndarray | None
) -> np.ndarray:
    u = cast(Any, env.unwrapped)
    avail = np.asarray(obs["avail"], dtype=bool)[None, :]
    res = he_assign(obs["elev"][None], obs["elev_min"][None], avail, order, u.min_elevation_deg)
    return res.label[0].astype(np.int64)


class TrueRulePolicy(Policy):
    """The primary's own rule with its hidden priorities (reads ``env.unwrapped.priority``)."""

    name = "true-rule"

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """The true assignment, recomputed from the observation."""
        return _rule(obs, env, np.argsort(cast(Any, env.unwrapped).priority, kind="stable"))


class HENoPriorityPolicy(Policy):
    """Highest elevation without priorities (each cluster ignores the others)."""

    name = "he-no-priorities"

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """Each cluster's own best eligible satellite."""
        return _rule(obs, env, None)
