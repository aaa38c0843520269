"""Oracles and baselines of the link-group family as :class:`leo_env.policies.Policy` objects.

| name | class | rule |
|---|---|---|
| ``opt`` | :class:`OptPolicy` | hindsight OPT (exact MILP) on the episode's realised window, then followed |
| ``admm`` | :class:`AdmmPolicy` | ADMM-HEU on the realised window, then followed |
| ``grd`` | :class:`GreedyPolicy` | greedy group of the current slot given the bits delivered so far (causal) |

They read ``env.unwrapped.instance`` (the realised window: OPT and ADMM-HEU are offline
oracles), ``delivered``, ``t`` and ``spec_obj``, and answer in the env's action mode.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from leo_env.policies import Policy
from oracles.linkgroup.admm import solve_admm
from oracles.linkgroup.greedy import greedy_group
from oracles.linkgroup.opt import solve_opt
from oracles.linkgroup.solution import LinkGroupSolution

__all__ = ["OptPolicy", "AdmmPolicy", "GreedyPolicy"]


class _PlanPolicy(Policy):
    """Solve the realised window at reset, then play its schedule."""

    solution: LinkGroupSolution | None = None

    def _solve(self, u: Any) -> LinkGroupSolution:
        raise NotImplementedError

    def reset(self, env: gym.Env[Any, Any]) -> None:
        """Solve the window just drawn by ``env.reset``."""
        super().reset(env)
        u = env.unwrapped
        self.solution = self._solve(u)
        self.stats = {"solve_time_s": self.solution.solve_time_s, "objective": self.solution.objective}

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> Any:
        """The planned group of the current slot."""
        u = env.unwrapped
        return u.encode(self.solution.links[u.t])


class OptPolicy(_PlanPolicy):
    """Hindsight OPT (exact MILP on HiGHS) on the realised window.

    Parameters
    ----------
    time_limit : float
        HiGHS time limit per window [s].
    """

    name = "opt"

    def __init__(self, time_limit: float = 60.0) -> None:
        super().__init__()
        self.time_limit = time_limit

    def _solve(self, u: Any) -> LinkGroupSolution:
        return solve_opt(u.instance, u.spec_obj, time_limit=self.time_limit)


class AdmmPolicy(_PlanPolicy):
    """ADMM-HEU on the realised window."""

    name = "admm"

    def __init__(self, **admm_kwargs: Any) -> None:
        super().__init__()
        self.admm_kwargs = admm_kwargs

    def _solve(self, u: Any) -> LinkGroupSolution:
        return solve_admm(u.instance, u.spec_obj, **self.admm_kwargs)


class GreedyPolicy(Policy):
    """GRD: the greedy group of the current slot (only the current slot's channel is used)."""

    name = "grd"

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> Any:
        """Greedy group given the bits delivered so far."""
        u = env.unwrapped
        a = greedy_group(u.instance, u.t, u.delivered, u.spec_obj)
        return u.encode(np.asarray(a))
