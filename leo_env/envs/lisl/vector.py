"""Native batched version of :class:`~leo_env.envs.lisl.env.LislRoutingEnv`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array

from leo_env.envs.lisl.core import INFO_KEYS, Episode, make_spaces
from leo_env.envs.lisl.env import resolve_params
from leo_env.envs.lisl.params import LislEnvParams

__all__ = ["LislRoutingVectorEnv"]


class LislRoutingVectorEnv(VectorEnv):
    """``num_envs`` lisl environments stepped as one batch.

    Sub-environment ``i`` behaves exactly like a :class:`LislRoutingEnv` with the same
    arguments reset with ``seed + i``.  The work of a step (matching, Dijkstra, LP) is per
    snapshot, so the batch loops over its episodes.  Auto-reset follows Gymnasium's
    ``NEXT_STEP`` mode: the step after an episode's last snapshot starts a new episode for that
    sub-environment, ignores its action and returns the first observation with reward 0 and
    ``terminated = truncated = False``.  ``info`` holds the scalar keys as arrays with a leading
    ``num_envs`` axis and the ``_key`` masks (False where the sub-environment reset).

    Examples
    --------
    >>> envs = LislRoutingVectorEnv(2, n_sats=60, n_snapshots=2)
    >>> obs, info = envs.reset(seed=0)
    >>> obs["nodes"].shape
    (2, 60, 6)
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        params: LislEnvParams | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if int(num_envs) < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.num_envs = int(num_envs)
        self.env_params = resolve_params(params, kwargs)
        self.single_observation_space, self.single_action_space = make_spaces(self.env_params)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.render_mode = None
        self._eps = [Episode(self.env_params) for _ in range(self.num_envs)]
        self._rngs = [seeding.np_random()[0] for _ in range(self.num_envs)]
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._started = False

    @property
    def problems(self) -> list[Any]:
        """Current :class:`oracles.lisl.problem.LislProblem` of every sub-environment."""
        return [ep.problem for ep in self._eps]

    def _batch(self, obs_list: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        out = create_empty_array(self.single_observation_space, self.num_envs)
        return concatenate(self.single_observation_space, obs_list, out)

    def _infos(self, infos: list[dict[str, Any]], present: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in INFO_KEYS:
            out[key] = np.array([inf[key] for inf in infos])
            out["_" + key] = present.copy()
        return out

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Reset every sub-environment; sub-environment ``i`` is seeded ``seed + i``."""
        n = self.num_envs
        if seed is None:
            seeds: list[int | None] = [None] * n
        elif isinstance(seed, int | np.integer):
            seeds = [int(seed) + i for i in range(n)]
            self._np_random, self._np_random_seed = seeding.np_random(int(seed))
        else:
            seeds = list(seed)
            if len(seeds) != n:
                raise ValueError(f"seed list must have {n} entries, got {len(seeds)}")
        obs, infos = [], []
        for i in range(n):
            if seeds[i] is not None:
                self._rngs[i], _ = seeding.np_random(seeds[i])
            o, inf = self._eps[i].start(self._rngs[i])
            obs.append(o)
            infos.append(inf)
        self._autoreset[:] = False
        self._started = True
        return self._batch(obs), self._infos(infos, np.ones(n, dtype=bool))

    def step(
        self, actions: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every sub-environment (auto-resetting those whose episode ended last step)."""
        if not self._started:
            raise RuntimeError("call reset() before step()")
        act = np.asarray(actions)
        want = (self.num_envs, *self.single_action_space.shape)
        if act.shape != want:
            raise ValueError(f"actions must have shape {want}, got {act.shape}")
        n = self.num_envs
        obs, infos = [], []
        reward = np.zeros(n)
        terminated = np.zeros(n, dtype=bool)
        present = np.ones(n, dtype=bool)
        for i, ep in enumerate(self._eps):
            if self._autoreset[i]:
                o, inf = ep.start(self._rngs[i])
                present[i] = False
            else:
                reward[i], inf = ep.step(act[i])
                terminated[i] = ep.done
                o = ep.observation()
            obs.append(o)
            infos.append(inf)
        self._autoreset = terminated.copy()
        return (
            self._batch(obs),
            reward,
            terminated,
            np.zeros(n, dtype=bool),
            self._infos(infos, present),
        )
