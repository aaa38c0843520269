"""PettingZoo ``ParallelEnv`` view of the downlink environment: one agent per cell."""

from __future__ import annotations

import functools
from typing import Any, cast

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from leo_env.envs.downlink.env import DownlinkEnv

__all__ = ["DownlinkParallelEnv", "parallel_env"]

_CELL_KEYS = ("budget", "served", "forecast")


class DownlinkParallelEnv(ParallelEnv[str, dict[str, np.ndarray], int]):
    """Every cell is an agent (``"cell_0"``, ``"cell_1"``, ...) choosing its serving satellite.

    Agents act simultaneously; their joint action is one step of the wrapped
    :class:`~leo_env.envs.downlink.DownlinkEnv` (same candidates, masks, repair, budgets and
    allocator), so all agents live for exactly ``K`` steps and terminate together.

    Spaces per agent:

    - action: ``Discrete(n)``, an index into the cell's candidate list;
    - observation: ``Dict(observation=Box(n * 7 + 3 + L + 1), action_mask=Box(0, 1, (n,), int8))``:
      the cell's candidate features (row-major), its budget, served ratio and forecast, its
      demand history and ``k / K``, and the cell's row of the action mask.

    ``state()`` returns the flattened global observation (every cell, every entry) for
    centralised critics.  Rewards: with ``reward="cell"`` (default) agent ``c`` gets its own
    term ``log(eps + xi_c) - lambda_h h_c`` (0 for a cell without demand), so the agents'
    rewards sum to the environment's reward; with ``reward="team"`` every agent gets the sum.
    A missing action counts as invalid and is repaired (the cell keeps its satellite).

    Parameters
    ----------
    env : DownlinkEnv, optional
        The environment to view; default: ``DownlinkEnv(**kwargs)``.
    reward : {"cell", "team"}
        Reward split.
    **kwargs
        Arguments of :class:`~leo_env.envs.downlink.DownlinkEnv` when ``env`` is not given.
    """

    metadata = {
        "name": "leo_downlink_v0",
        "render_modes": ["rgb_array", "ansi"],
        "is_parallelizable": True,
    }

    def __init__(self, env: DownlinkEnv | None = None, reward: str = "cell", **kwargs: Any) -> None:
        if reward not in ("cell", "team"):
            raise ValueError(f"reward must be 'cell' or 'team', got {reward!r}")
        self.env = env if env is not None else DownlinkEnv(**kwargs)
        self.reward_mode = reward
        p = self.env.params
        self._C, self._n, self._L = p.C, p.n, p.history
        self.possible_agents = [f"cell_{c}" for c in range(self._C)]
        self.agents: list[str] = []
        self.render_mode = self.env.render_mode
        self._obs_dim = self._n * 7 + len(_CELL_KEYS) + self._L + 1
        full = cast(spaces.Dict, self.env.observation_space)
        self.state_space = spaces.flatten_space(full)
        cand = cast(spaces.Box, full["candidates"])
        forecast = cast(spaces.Box, full["forecast"])
        history = cast(spaces.Box, full["demand_history"])
        lo = np.concatenate([cand.low[0].ravel(), np.zeros(len(_CELL_KEYS) + self._L + 1)]).astype(
            np.float32
        )
        hi = np.concatenate(
            [
                cand.high[0].ravel(),
                [1.0, 1.0, forecast.high[0]],
                history.high[0],
                [1.0],
            ]
        ).astype(np.float32)
        self._agent_obs_space = spaces.Dict(
            {
                "observation": spaces.Box(lo, hi, dtype=np.float32),
                "action_mask": spaces.Box(0, 1, (self._n,), dtype=np.int8),
            }
        )
        self._last_obs: dict[str, np.ndarray] | None = None

    @functools.cache  # noqa: B019 - one space object per agent, as PettingZoo asks
    def observation_space(self, agent: str) -> spaces.Dict:
        """Observation space of ``agent`` (the same object every call)."""
        return self._agent_obs_space

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> spaces.Discrete:
        """Action space of ``agent`` (the same object every call)."""
        return spaces.Discrete(self._n)

    def _split(self, obs: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
        C, n = self._C, self._n  # noqa: N806
        flat = np.concatenate(
            [
                obs["candidates"].reshape(C, -1),
                np.stack([obs[key] for key in _CELL_KEYS], axis=1),
                obs["demand_history"],
                np.broadcast_to(obs["time"], (C, 1)),
            ],
            axis=1,
        ).astype(np.float32)
        mask = obs["action_mask"].reshape(C, n).astype(np.int8)
        return {
            a: {"observation": flat[c], "action_mask": mask[c]} for c, a in enumerate(self.agents)
        }

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, Any]]]:
        """Reset the wrapped environment; every cell becomes a live agent."""
        obs, info = self.env.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        self._last_obs = obs
        return self._split(obs), {a: dict(info) for a in self.agents}

    def step(
        self, actions: dict[str, int]
    ) -> tuple[
        dict[str, Any],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Joint step: one slot of the wrapped environment."""
        if not self.agents:
            raise RuntimeError("no live agents; call reset()")
        act = np.full(self._C, -1, dtype=np.int64)  # -1: invalid -> repaired (keep current)
        for c, a in enumerate(self.possible_agents):
            if a in actions and actions[a] is not None:
                act[c] = int(actions[a])
        obs, reward, terminated, truncated, info = self.env.step(act)
        self._last_obs = obs
        xi = np.asarray(info["xi"], dtype=float)
        eps, lam = self.env.scenario.eps, self.env.scenario.lambda_h
        local = np.where(np.isnan(xi), 0.0, np.log(eps + np.nan_to_num(xi))) - lam * np.asarray(
            info["handovers"]
        )
        agents = list(self.agents)
        rewards = {
            a: float(reward if self.reward_mode == "team" else local[c])
            for c, a in enumerate(agents)
        }
        terms = dict.fromkeys(agents, bool(terminated))
        truncs = dict.fromkeys(agents, bool(truncated))
        infos = {
            a: {
                "xi": float(xi[c]),
                "handovers": int(info["handovers"][c]),
                "budget_left": int(info["budget_left"][c]),
                "emergency": bool(info["emergency"][c]),
                "repaired": bool(info["repaired"][c]),
            }
            for c, a in enumerate(agents)
        }
        observations = self._split(obs)
        if terminated or truncated:
            self.agents = []
        return observations, rewards, terms, truncs, infos

    def state(self) -> np.ndarray:
        """Flattened global observation (every cell), for centralised critics."""
        if self._last_obs is None:
            raise RuntimeError("call reset() first")
        flat = spaces.flatten(self.env.observation_space, self._last_obs)
        return np.asarray(flat, dtype=np.float32)

    def render(self) -> np.ndarray | str | None:
        """Render the wrapped environment."""
        return self.env.render()

    def close(self) -> None:
        """Close the wrapped environment."""
        self.env.close()


def parallel_env(reward: str = "cell", **kwargs: Any) -> DownlinkParallelEnv:
    """Build the PettingZoo view: ``leo_env.parallel_env(preset="medium", allocator="p1")``."""
    return DownlinkParallelEnv(reward=reward, **kwargs)
