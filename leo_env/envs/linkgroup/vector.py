"""Batched ``leo_env/LinkGroupSched-v0`` (a :class:`gymnasium.vector.VectorEnv`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from leo_env.envs.linkgroup.env import LinkGroupSchedEnv
from leo_env.envs.linkgroup.params import LinkGroupParams

__all__ = ["LinkGroupSchedVectorEnv"]


class LinkGroupSchedVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`~leo_env.envs.linkgroup.env.LinkGroupSchedEnv`.

    Same parameters, spaces (batched), rewards and info keys as the scalar env; ``reset(seed=s)``
    seeds copy ``i`` with ``s + i``, so copy ``i`` matches a scalar env reset with ``s + i``
    step for step.  Autoreset mode NEXT_STEP (gymnasium 1.x): the step after a termination
    resets that copy and returns its first observation with reward 0.  The copies share the cell
    layout and the task; every copy holds its own window and generator (the per-slot work is a
    loop over copies: the step of one copy is a handful of numpy calls on (J, K) arrays).

    Parameters
    ----------
    num_envs : int
        Number of copies, >= 1.
    params, **kwargs
        As for the scalar env.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, params: LinkGroupParams | None = None, **kwargs: Any) -> None:
        if not (isinstance(num_envs, int) and num_envs >= 1):
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        self.params = LinkGroupParams.build(params, **kwargs)
        self.num_envs = num_envs
        self.envs = [LinkGroupSchedEnv(self.params) for _ in range(num_envs)]
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._autoreset = np.zeros(num_envs, dtype=bool)

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        """Reset every copy (copy ``i`` with seed ``seed + i``)."""
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, int | np.integer):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"seed list must have {self.num_envs} entries")
        obs, infos = [], {}
        for i, env in enumerate(self.envs):
            o, info = env.reset(seed=seeds[i], options=options)
            obs.append(o)
            infos = self._add_info(infos, info, i)
        self._autoreset[:] = False
        return np.stack(obs), infos

    def step(self, actions: Any):
        """Step every copy (NEXT_STEP autoreset)."""
        acts = np.asarray(actions)
        obs, rew = [], np.zeros(self.num_envs)
        term = np.zeros(self.num_envs, dtype=bool)
        trunc = np.zeros(self.num_envs, dtype=bool)
        infos: dict[str, Any] = {}
        for i, env in enumerate(self.envs):
            if self._autoreset[i]:
                o, info = env.reset()
            else:
                o, r, te, tr, info = env.step(acts[i])
                rew[i], term[i], trunc[i] = r, te, tr
            obs.append(o)
            infos = self._add_info(infos, info, i)
        self._autoreset = term | trunc
        return np.stack(obs), rew, term, trunc, infos

    def action_masks(self) -> np.ndarray:
        """Stacked :meth:`LinkGroupSchedEnv.action_masks` of every copy."""
        return np.stack([e.action_masks() for e in self.envs])

    def set_task(self, task: Any) -> None:
        """Switch every copy to ``task`` from its next reset on."""
        for e in self.envs:
            e.set_task(task)
