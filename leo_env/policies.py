"""The one policy interface of the suite: oracles, baselines and trained agents alike.

A :class:`Policy` is reset at the start of every episode (right after ``env.reset``) and then
asked for one action per step.  It may read the environment's public attributes through
``env.unwrapped`` (an oracle may read the realised scenario: that is what makes it an oracle).
Every family exposes its oracles and baselines as ``Policy`` subclasses in
``leo_env.envs.<family>.policies``; trained agents are wrapped by ``agents.policies``.

>>> import gymnasium as gym
>>> import leo_env.envs
>>> from leo_env.policies import RandomPolicy, play
>>> env = gym.make("leo_env/Downlink-toy-v0", allocator="equal")
>>> ep = play(RandomPolicy(seed=0), env, seed=0)
>>> len(ep.rewards), ep.infos[-1]["budget_violations"]
(10, 0)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

__all__ = ["Policy", "RandomPolicy", "Episode", "play"]


class Policy(ABC):
    """A decision rule for any environment of the suite.

    Attributes
    ----------
    name : str
        Short name used in tables (``"B0-greedy"``, ...).
    stats : dict
        Per-episode counters (e.g. decisions the policy could not express), reset by
        :meth:`reset`.
    """

    name: str = "policy"

    def __init__(self) -> None:
        self.stats: dict[str, Any] = {}

    def reset(self, env: gym.Env[Any, Any]) -> None:
        """Start of an episode (``env`` has just been reset)."""
        self.stats = {}

    @abstractmethod
    def act(self, obs: Any, env: gym.Env[Any, Any]) -> Any:
        """The action for the step about to be played (an element of ``env.action_space``)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class RandomPolicy(Policy):
    """Uniform over the valid actions (the env's ``action_masks()`` when it has one)."""

    name = "random"

    def __init__(self, seed: int | None = None) -> None:
        super().__init__()
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> Any:
        """A uniformly random valid action."""
        u = env.unwrapped
        space = env.action_space
        masks = getattr(u, "action_masks", None)
        if masks is None:
            space.seed(int(self.rng.integers(2**31)))
            return space.sample()
        m = np.asarray(masks(), dtype=bool)
        if isinstance(space, gym.spaces.Discrete):
            return int(self.rng.choice(np.flatnonzero(m)))
        if isinstance(space, gym.spaces.MultiDiscrete):
            nvec = np.asarray(space.nvec).reshape(-1)
            rows = np.split(m, np.cumsum(nvec)[:-1])
            return np.array([self.rng.choice(np.flatnonzero(r)) for r in rows], dtype=np.int64)
        raise TypeError(f"RandomPolicy cannot mask a {type(space).__name__} action space")


@dataclass
class Episode:
    """One episode played by :func:`play` (family-agnostic).

    Attributes
    ----------
    rewards : ndarray, shape (T,)
        Reward per step.
    infos : list of dict
        The ``info`` of every step (the family's metrics read them).
    reset_info : dict
        The ``info`` returned by ``reset``.
    policy_stats : dict
        The policy's counters after the episode.
    """

    rewards: np.ndarray
    infos: list[dict[str, Any]]
    reset_info: dict[str, Any]
    policy_stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ret(self) -> float:
        """Episode return (sum of rewards)."""
        return float(np.sum(self.rewards))


def play(
    policy: Policy,
    env: gym.Env[Any, Any],
    seed: int | None = None,
    options: dict[str, Any] | None = None,
) -> Episode:
    """Reset ``env``, play one whole episode with ``policy``, return the trajectory."""
    obs, info0 = env.reset(seed=seed, options=options)
    policy.reset(env)
    rewards: list[float] = []
    infos: list[dict[str, Any]] = []
    done = False
    while not done:
        obs, r, term, trunc, info = env.step(policy.act(obs, env))
        rewards.append(float(r))
        infos.append(info)
        done = bool(term or trunc)
    return Episode(np.asarray(rewards), infos, dict(info0), dict(policy.stats))
