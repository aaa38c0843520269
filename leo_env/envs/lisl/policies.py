"""lisl oracles and baselines as :class:`leo_env.policies.Policy` objects (prices mode)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from leo_env.policies import Policy
from oracles.lisl.dujo import DujoParams, subgradient

__all__ = ["DujoPolicy", "ZeroPricePolicy"]


def _check_prices_mode(env: gym.Env[Any, Any]) -> None:
    if env.unwrapped.env_params.action_mode != "prices":  # type: ignore[attr-defined]
        raise ValueError("this policy needs action_mode='prices'")


class DujoPolicy(Policy):
    """DuJo's prices: Alg. 1's subgradient on the current snapshot, last (or best) iterate.

    Parameters
    ----------
    iterations : int
        Subgradient iterations ``K``.
    iterate : {"last", "best"}
        Which prices to play (the paper: last).
    """

    name = "dujo"

    def __init__(self, iterations: int = 500, iterate: str = "last") -> None:
        super().__init__()
        if iterate not in ("last", "best"):
            raise ValueError(f"iterate must be 'last' or 'best', got {iterate!r}")
        self.params = DujoParams(iterations=iterations)
        self.iterate = iterate

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """Prices of the current snapshot."""
        _check_prices_mode(env)
        u = env.unwrapped
        tr = subgradient(u.problem, self.params)  # type: ignore[attr-defined]
        lam = tr.lam_last if self.iterate == "last" else tr.lam_best
        return u.action_from_prices(lam)  # type: ignore[attr-defined]


class ZeroPricePolicy(Policy):
    """All prices zero: max-rate matching (rate tie-break) and min-hop routing, LP rates."""

    name = "zero-prices"

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """Zeros of the action's shape."""
        _check_prices_mode(env)
        shape = env.action_space.shape
        assert shape is not None, "prices mode has a Box action space"
        return np.zeros(shape, dtype=np.float32)
