"""Stable-Baselines3 ``VecEnv`` over the native batched downlink environment.

:class:`DownlinkVecEnv` adapts :class:`leo_env.envs.downlink.vector.DownlinkVectorEnv` (one compiled
decision kernel and one batched P1 call per step) to SB3's ``VecEnv`` interface: flat
observations (:class:`agents.envs.ObsLayout`), immediate auto-reset with
``terminal_observation`` in ``info``, ``env_method("action_masks")`` for sb3-contrib's
``MaskablePPO``, and SB3's ``seed()`` convention (sub-environment ``i`` gets ``seed + i``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvStepReturn

from agents.envs import EPISODE_KEYS, ObsLayout
from leo_env.envs.downlink.vector import DownlinkVectorEnv

__all__ = ["DownlinkVecEnv", "VecScaleReward", "make_vec_env"]


class DownlinkVecEnv(VecEnv):
    """SB3 ``VecEnv`` over the native batched downlink environment, with flat observations.

    Parameters
    ----------
    num_envs : int
        Sub-environments.
    kwargs : dict
        Arguments of :class:`~leo_env.envs.downlink.vector.DownlinkVectorEnv` (see
        :func:`agents.envs.env_kwargs`; a learned forecaster is its ``predictor=`` hook).
    action_space : gymnasium.spaces.Space, optional
        Advertised action space (Wolpertinger advertises its proto-action ``Box``); ``step``
        always takes candidate indices of shape (num_envs, C).
    satellite_ids : bool
        Append the candidates' satellite indices to the observations (:class:`ObsLayout`).

    Notes
    -----
    An episode's last step returns the first observation of the next episode (SB3's
    convention) and puts the last one in ``info["terminal_observation"]``, with the
    episode's ``budget_violations``, ``emergencies_total``, ``repairs_total`` and
    ``handovers`` (summed over cells) in ``info["episode_metrics"]``.
    """

    def __init__(
        self,
        num_envs: int,
        kwargs: dict[str, Any],
        action_space: spaces.Space[Any] | None = None,
        satellite_ids: bool = False,
    ) -> None:
        self.venv = DownlinkVectorEnv(num_envs, **kwargs)
        single = cast(spaces.Dict, self.venv.single_observation_space)
        self.layout = ObsLayout.from_space(single, ids=satellite_ids)
        obs_space = self.layout.box(single)
        self._actions: np.ndarray | None = None
        self.C = self.venv.params.C
        super().__init__(num_envs, obs_space, action_space or self.venv.single_action_space)

    def _flat(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        # the candidate lists of the decision point just observed (public accessor)
        return self.layout.flatten(obs, self.venv.candidates if self.layout.ids else None)

    # ------------------------------------------------------------------ VecEnv API
    def reset(self) -> np.ndarray:
        """Reset every sub-environment (with the seeds given to :meth:`seed`, if any)."""
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        obs, info = self.venv.reset(seed=seeds)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{"scenario_seed": int(s)} for s in info["scenario_seed"]]
        return self._flat(obs)

    def step_async(self, actions: np.ndarray) -> None:
        """Store the candidate indices (num_envs, C) for :meth:`step_wait`."""
        self._actions = np.asarray(actions).reshape(self.num_envs, -1)

    def step_wait(self) -> VecEnvStepReturn:
        """Step every sub-environment; finished episodes restart at once."""
        assert self._actions is not None, "step_async first"
        obs, reward, term, trunc, info = self.venv.step(self._actions.astype(np.int64))
        done = term | trunc
        flat = self._flat(obs)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        rows = np.flatnonzero(done)
        if rows.size:
            for i in rows:
                infos[i]["terminal_observation"] = flat[i].copy()
                infos[i]["TimeLimit.truncated"] = bool(trunc[i] and not term[i])
                metrics = {k: int(np.asarray(info[k])[i]) for k in EPISODE_KEYS if k in info}
                if "handovers_total" in info:
                    metrics["handovers"] = int(np.asarray(info["handovers_total"])[i].sum())
                infos[i]["episode_metrics"] = metrics
            mask = np.zeros(self.num_envs, dtype=bool)
            mask[rows] = True
            obs, _ = self.venv.reset(options={"reset_mask": mask})
            flat = self._flat(obs)
        return flat, reward.astype(np.float32), done, infos

    def close(self) -> None:
        """Nothing to release."""

    def action_masks(self) -> np.ndarray:
        """Boolean masks (num_envs, C * n)."""
        return self.venv.action_masks()

    def _indices(self, indices: VecEnvIndices) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return list(indices)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """Attribute of the batched environment, repeated per index (``render_mode``, ...)."""
        if attr_name == "action_masks":
            return [self.action_masks] * len(self._indices(indices))
        value = getattr(self.venv, attr_name)
        return [value] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute of the batched environment."""
        setattr(self.venv, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        """``action_masks`` per sub-environment (what sb3-contrib asks for); others by name."""
        idx = self._indices(indices)
        if method_name == "action_masks":
            masks = self.venv.action_masks()
            return [masks[i] for i in idx]
        out = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [out] * len(idx)

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper[Any, Any, Any, Any]], indices: VecEnvIndices = None) -> list[bool]:
        """No Gymnasium wrappers inside."""
        return [False] * len(self._indices(indices))

    # ------------------------------------------------------------------ state for checkpoints
    def rng_states(self) -> list[dict[str, Any]]:
        """Bit-generator states of the sub-environments (saved with checkpoints)."""
        return self.venv.rng_states()

    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The batched environment's full state (:meth:`DownlinkVectorEnv.get_state`)."""
        return self.venv.get_state()

    def set_state(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Restore :meth:`get_state`; pending seeds are dropped (the state has the generators)."""
        self.venv.set_state(arrays, meta)
        self._reset_seeds()

    def clear_pending_seeds(self) -> None:
        """Forget seeds given to :meth:`seed` but not used yet (a rebuilt model seeds its env)."""
        self._reset_seeds()

    def set_rng_states(self, states: list[dict[str, Any]]) -> None:
        """Restore :meth:`rng_states` (on resume, before the first reset)."""
        self.venv.set_rng_states(states)


class VecScaleReward(VecEnvWrapper):
    """Multiply rewards by a constant (place it above ``VecMonitor`` so logs stay unscaled).

    Parameters
    ----------
    venv : VecEnv
        Environment to wrap.
    scale : float
        Reward factor (the agents use ``1 / C``: a per-cell average, same optimal policy).
    """

    def __init__(self, venv: VecEnv, scale: float) -> None:
        super().__init__(venv)
        self.scale = float(scale)

    def reset(self) -> np.ndarray:
        """Reset the wrapped environment."""
        return self.venv.reset()  # type: ignore[return-value]

    def step_wait(self) -> VecEnvStepReturn:
        """Step and scale the rewards."""
        obs, reward, done, infos = self.venv.step_wait()
        return obs, (reward * self.scale).astype(np.float32), done, infos

    def action_masks(self) -> np.ndarray:
        """Masks of the wrapped environment."""
        return np.stack(self.venv.env_method("action_masks"))


def make_vec_env(cfg: Any, num_envs: int | None = None) -> tuple[DownlinkVecEnv, VecEnv]:
    """Training environment of an experiment: ``(DownlinkVecEnv, wrapped VecEnv)``.

    The wrapped env adds SB3's ``VecMonitor`` and scales rewards by ``1/C``; Wolpertinger
    advertises its proto-action ``Box``.  ``num_envs`` defaults to ``cfg.train.n_envs``.
    """
    from stable_baselines3.common.vec_env import VecMonitor

    from agents.envs import env_kwargs
    from agents.wolpertinger import proto_action_space

    n = int(cfg.train.n_envs if num_envs is None else num_envs)
    base = DownlinkVecEnv(n, env_kwargs(cfg.env), satellite_ids=cfg.env.satellite_ids)
    if cfg.agent.algo == "wolpertinger":
        base.action_space = proto_action_space(base.layout.C, base.layout.n, cfg.agent.wolpertinger.embedding)
    return base, VecScaleReward(VecMonitor(base), 1.0 / base.layout.C)
