"""Native vector version of ``leo_env/PrimaryAssignment-v0`` (autoreset mode NEXT_STEP)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector.utils import batch_space

from leo_env.envs.assignment._data import load_part
from leo_env.envs.assignment.env import epoch_observation, observation_space
from leo_env.envs.assignment.params import PrimaryAssignmentParams
from oracles.assignment.objective import share_correct

__all__ = ["PrimaryAssignmentVectorEnv"]


class PrimaryAssignmentVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` independent one-step episodes, batched on a first axis.

    Matches a ``SyncVectorEnv`` of :class:`~leo_env.envs.assignment.env.PrimaryAssignmentEnv`
    step for step: sub-environment ``i`` is seeded with ``seed + i`` and draws its epochs with
    its own generator; after a terminated step the next ``step`` call resets that
    sub-environment (reward 0, not terminated), as gymnasium's NEXT_STEP autoreset does.
    Observations are dicts of arrays with a leading ``num_envs`` axis; infos are dicts of
    arrays (gymnasium's vector convention, with ``_key`` masks).
    """

    metadata: dict[str, Any] = {
        "render_modes": [],
        "autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self, num_envs: int = 1, params: PrimaryAssignmentParams | None = None, **kwargs: Any
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        if params is not None and kwargs:
            raise ValueError("give either params or keyword arguments, not both")
        self.params = params if params is not None else PrimaryAssignmentParams(**kwargs)
        self.data, self.epochs = load_part(self.params)
        self.num_envs = num_envs
        n, m = int(self.data.config.n_clusters), int(self.data.config.n_max)
        self.n_clusters, self.n_max = n, m
        self.single_observation_space = observation_space(n, m)
        self.single_action_space = spaces.MultiDiscrete(np.full(n, m))
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._rngs = [seeding.np_random(None)[0] for _ in range(num_envs)]
        self.epoch_index = np.full(num_envs, int(self.epochs[0]), dtype=np.int64)
        self._needs_reset = np.zeros(num_envs, dtype=bool)

    def _draw(self, i: int) -> None:
        self.epoch_index[i] = int(self.epochs[self._rngs[i].integers(len(self.epochs))])

    def _obs(self) -> dict[str, np.ndarray]:
        per = [epoch_observation(self.data, int(t)) for t in self.epoch_index]
        return {k: np.stack([o[k] for o in per]) for k in per[0]}

    def _info(self, correct: np.ndarray) -> dict[str, Any]:
        ones = np.ones(self.num_envs, dtype=bool)
        info = {
            "epoch_index": self.epoch_index.copy(),
            "true_assignment": self.data["label"][self.epoch_index].astype(np.int64),
            "n_avail": self.data["n_avail"][self.epoch_index].astype(np.int64),
            "correct": correct,
        }
        return {**info, **{f"_{k}": ones for k in info}}

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Reset every sub-environment (seeds ``seed + i``)."""
        if seed is not None:
            seeds = seed if isinstance(seed, list) else [seed + i for i in range(self.num_envs)]
            self._rngs = [seeding.np_random(s)[0] for s in seeds]
        for i in range(self.num_envs):
            self._draw(i)
        self._needs_reset[:] = False
        return self._obs(), self._info(np.zeros((self.num_envs, self.n_clusters), dtype=bool))

    def action_masks(self) -> np.ndarray:
        """Valid actions per sub-environment, shape (num_envs, N * M)."""
        avail = np.arange(self.n_max)[None, :] < self.data["n_avail"][self.epoch_index][:, None]
        return np.tile(avail, (1, self.n_clusters))

    def step(
        self, actions: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Score every sub-environment's action, or reset those that ended at the last step."""
        a = np.asarray(actions, dtype=np.int64).reshape(self.num_envs, -1)
        if a.shape[1] != self.n_clusters or a.min() < 0 or a.max() >= self.n_max:
            raise ValueError(
                f"actions must have shape ({self.num_envs}, {self.n_clusters}) with entries in "
                f"[0, {self.n_max})"
            )
        rewards = np.zeros(self.num_envs)
        terminated = np.zeros(self.num_envs, dtype=bool)
        correct = np.zeros((self.num_envs, self.n_clusters), dtype=bool)
        was_done = self._needs_reset.copy()
        for i in range(self.num_envs):
            if was_done[i]:
                self._draw(i)
                continue
            label = self.data["label"][self.epoch_index[i]].astype(np.int64)
            rewards[i] = share_correct(a[i], label)
            correct[i] = a[i] == label
            terminated[i] = True
        self._needs_reset = terminated.copy()
        truncated = np.zeros(self.num_envs, dtype=bool)
        return self._obs(), rewards, terminated, truncated, self._info(correct)
