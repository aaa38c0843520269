"""Scalar and native vector envs over per-instance episode objects, shared by the families that solve per step.

The lisl and multiorbit environments do their work per snapshot or slot (a matching, an LP, a
JUBPA solve) inside an *episode object* (``start(rng) -> (obs, info)``, ``step(action) ->
(reward, info)``, ``done``, ``observation()``).  This module holds, once, what wraps such an
object: the scalar env's reset/step (:class:`EpisodeEnv`), the batched loop of the vector env
(:class:`EpisodeVectorEnv`: seeding ``seed + i``, NEXT_STEP auto-reset, batched observations and
Gymnasium's ``_key`` info masks) and the parameter resolution both use
(:func:`resolve_params`).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any, TypeVar, cast

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array

__all__ = ["EpisodeEnv", "EpisodeVectorEnv", "resolve_params"]

P = TypeVar("P")


def resolve_params(cls: type[P], params: P | Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> P:
    """Build the frozen parameter dataclass ``cls`` from ``params`` and/or keyword arguments.

    ``params`` may be an instance of ``cls`` (keyword arguments replace its fields), a mapping
    or None; the result is validated once by ``cls.__post_init__``.  An unknown name raises
    ``TypeError`` in Python's own wording (``unexpected keyword argument 'x'``, with the closest
    valid name): wrappers such as TorchRL's ``GymEnv`` read that wording to retry without an
    optional argument.
    """
    if isinstance(params, cls):
        return cast(P, dataclasses.replace(params, **kwargs)) if kwargs else params  # type: ignore[type-var]
    merged: dict[str, Any] = dict(cast(Mapping[str, Any], params or {}))
    merged.update(kwargs)
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = [k for k in merged if k not in names]
    if unknown:
        hints = [
            f"unexpected keyword argument {k!r}"
            + (f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(k, names, 1)) else "")
            for k in unknown
        ]
        raise TypeError(f"{cls.__name__} got {'; '.join(hints)}; allowed: {sorted(names)}")
    return cls(**merged)


class EpisodeEnv(gym.Env):
    """A scalar env that plays one episode object (see the module docstring).

    A subclass builds its spaces and sets ``self._ep`` (and ``self._started = False``) in
    ``__init__``; reset seeds Gymnasium's ``np_random`` and starts a new episode from it, step
    plays the current instance and ends the episode when the object says it is done (never
    truncated).
    """

    _ep: Any
    _started: bool = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Start an episode drawn from ``seed`` (see the class docstring of the environment)."""
        super().reset(seed=seed)
        self._started = True
        return cast(tuple[dict[str, np.ndarray], dict[str, Any]], self._ep.start(self.np_random))

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """Play the current instance with ``action``."""
        if not self._started or self._ep.done:
            raise RuntimeError("call reset() before step() (and after the episode ends)")
        reward, info = self._ep.step(action)
        return self._ep.observation(), float(reward), bool(self._ep.done), False, info


class EpisodeVectorEnv(VectorEnv):
    """``num_envs`` episode objects stepped as one batch (auto-reset mode NEXT_STEP).

    For families whose step is a per-instance solve (lisl, multiorbit): a subclass sets
    ``single_observation_space``, ``single_action_space`` and ``info_keys``, then calls
    :meth:`_setup` with one episode object per sub-environment.  An episode object has
    ``start(rng) -> (obs, info)``, ``step(action) -> (reward, info)``, ``done`` and
    ``observation()``; the scalar environment wraps the same object, so sub-environment ``i``
    behaves exactly like the scalar env with the same arguments reset with ``seed + i``.  The step after an episode's last slot starts a new episode for that
    sub-environment, ignores its action and returns the first observation with reward 0 and
    ``terminated = truncated = False``.  ``info`` holds every key as an array with a leading
    ``num_envs`` axis and the ``_key`` masks (False where the sub-environment reset).
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}
    info_keys: tuple[str, ...] = ()

    def _setup(self, num_envs: int, episodes: list[Any]) -> None:
        if int(num_envs) < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.num_envs = int(num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.render_mode = None
        self._eps = episodes
        self._rngs = [seeding.np_random()[0] for _ in range(self.num_envs)]
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._started = False

    def _batch(self, obs_list: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        out = cast(dict[str, Any], create_empty_array(self.single_observation_space, self.num_envs))
        return cast(
            dict[str, np.ndarray], concatenate(self.single_observation_space, obs_list, out)
        )

    def _infos(self, infos: list[dict[str, Any]], present: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in self.info_keys:
            out[key] = np.array([inf[key] for inf in infos], dtype=np.float64)
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
        want = (self.num_envs, *(self.single_action_space.shape or ()))
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
