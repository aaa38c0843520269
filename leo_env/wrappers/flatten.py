"""Flat observations for Stable-Baselines3's ``MlpPolicy``, keeping the action masks."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

__all__ = ["FlattenDownlink"]


class FlattenDownlink(
    gym.ObservationWrapper[np.ndarray, np.ndarray, dict[str, np.ndarray]], gym.utils.RecordConstructorArgs
):
    """Flatten the ``Dict`` observation into one float32 vector; ``action_masks()`` passes through.

    The vector concatenates the entries in the order of the ``Dict`` space
    (:func:`gymnasium.spaces.flatten`).  ``action_masks()`` is defined on the wrapper itself, so
    sb3-contrib's ``MaskablePPO`` finds it through any further wrappers.

    Parameters
    ----------
    env : gymnasium.Env
        A :class:`~leo_env.envs.downlink.DownlinkEnv` (possibly wrapped).
    drop_mask : bool
        Leave the ``action_mask`` entry out of the vector (the policy then only sees it through
        ``action_masks()``).

    Examples
    --------
    >>> import gymnasium as gym
    >>> import leo_env.envs
    >>> env = FlattenDownlink(gym.make("leo_env/Downlink-toy-v0", allocator="equal"))
    >>> obs, _ = env.reset(seed=0)
    >>> obs.shape, env.action_masks().shape
    ((116,), (10,))
    """

    def __init__(self, env: gym.Env[Any, Any], drop_mask: bool = False) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, drop_mask=drop_mask)
        gym.ObservationWrapper.__init__(self, env)
        space = env.observation_space
        if not isinstance(space, spaces.Dict):
            raise TypeError(f"FlattenDownlink needs a Dict observation space, got {space}")
        self._keys = [key for key in space.spaces if not (drop_mask and key == "action_mask")]
        self._sub = spaces.Dict({key: space[key] for key in self._keys})
        flat = spaces.flatten_space(self._sub)
        assert isinstance(flat, spaces.Box)
        self.observation_space = spaces.Box(flat.low, flat.high, dtype=np.float32)

    def observation(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        """Concatenate the entries into one float32 vector."""
        return np.concatenate(
            [np.asarray(observation[key], dtype=np.float32).ravel() for key in self._keys]
        )

    def action_masks(self) -> np.ndarray:
        """Flat boolean action mask of the wrapped environment, shape (C * n,)."""
        return self.env.get_wrapper_attr("action_masks")()
