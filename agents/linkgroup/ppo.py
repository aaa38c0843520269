"""MaskablePPO on ``LinkGroupSched-v0`` in ``groups`` mode (the family's modern baseline).

sb3-contrib's ``MaskablePPO`` reads the env's ``action_masks()`` (the link groups valid in the
current slot), so it never plays an invalid group.  :func:`train_maskable_ppo` trains one model
on a fixed cell (``layout_seed``) with windows drawn from the training seed;
:class:`MaskablePPOPolicy` exposes it behind :class:`leo_env.policies.Policy` (deterministic,
masked argmax).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from leo_env.envs.linkgroup.env import LinkGroupSchedEnv
from leo_env.policies import Policy

__all__ = ["train_maskable_ppo", "MaskablePPOPolicy"]


def train_maskable_ppo(
    preset: str = "small",
    total_timesteps: int = 20_000,
    seed: int = 0,
    layout_seed: int = 0,
    gamma: float = 0.9,
    env_kwargs: dict[str, Any] | None = None,
    **ppo_kwargs: Any,
):
    """Train ``MaskablePPO`` (MLP policy) on one cell; returns the model.

    Parameters
    ----------
    preset : str
        Cell preset (``groups`` mode must fit in memory: ``tiny``, ``small``, ``k20``).
    total_timesteps : int
        Environment steps (slots), >= 1.
    seed : int
        Seed of PPO and of the training windows.
    gamma : float
        Discount; 0.9 as in the paper's Table I (``1`` makes the return exactly ``F(0) - F(d_T)``).
    env_kwargs : dict, optional
        Further ``LinkGroupParams`` / config overrides.
    **ppo_kwargs
        Passed to ``MaskablePPO`` (``n_steps``, ``batch_size``, ``learning_rate``, ...).
    """
    from sb3_contrib import MaskablePPO

    if total_timesteps < 1:
        raise ValueError(f"total_timesteps must be >= 1, got {total_timesteps}")
    env = LinkGroupSchedEnv(preset=preset, mode="groups", layout_seed=layout_seed,
                            **(env_kwargs or {}))
    env.reset(seed=seed)
    kw = {"n_steps": 256, "batch_size": 64, "learning_rate": 1e-3, "verbose": 0}
    kw.update(ppo_kwargs)
    model = MaskablePPO("MlpPolicy", env, gamma=gamma, seed=seed, device="cpu", **kw)
    model.learn(total_timesteps=total_timesteps)
    return model


class MaskablePPOPolicy(Policy):
    """A trained ``MaskablePPO`` model as a policy (masked, deterministic)."""

    name = "maskable-ppo"

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> Any:
        """Masked argmax action of the model."""
        a, _ = self.model.predict(obs, action_masks=env.unwrapped.action_masks(), deterministic=True)
        return int(np.asarray(a).reshape(()))
