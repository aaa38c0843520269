"""Native batched versions of the multiorbit environments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from leo_env.envs.episodes import EpisodeVectorEnv
from leo_env.envs.multiorbit.core import (
    INFO_KEYS,
    AssocEpisode,
    SelectEpisode,
    assoc_spaces,
    select_spaces,
)
from leo_env.envs.multiorbit.env import resolve_params
from leo_env.envs.multiorbit.params import AssocEnvParams, SelectEnvParams

__all__ = ["MultiOrbitSelectVectorEnv", "MultiOrbitAssocVectorEnv"]


class MultiOrbitSelectVectorEnv(EpisodeVectorEnv):
    """Batched :class:`~leo_env.envs.multiorbit.env.MultiOrbitSelectEnv` (see the base class).

    Examples
    --------
    >>> envs = MultiOrbitSelectVectorEnv(2, n_ues=8, n_sub=4, n_max=3, n_slots=2, max_candidates=16)
    >>> obs, info = envs.reset(seed=0)
    >>> obs["gain"].shape
    (2, 16, 8)
    """

    def __init__(
        self,
        num_envs: int = 1,
        params: SelectEnvParams | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.info_keys = INFO_KEYS
        self.env_params = resolve_params(SelectEnvParams, params, kwargs)
        self.single_observation_space, self.single_action_space = select_spaces(self.env_params)
        self._setup(num_envs, [SelectEpisode(self.env_params) for _ in range(int(num_envs))])


class MultiOrbitAssocVectorEnv(EpisodeVectorEnv):
    """Batched :class:`~leo_env.envs.multiorbit.env.MultiOrbitAssocEnv` (see the base class).

    Examples
    --------
    >>> envs = MultiOrbitAssocVectorEnv(2, n_ues=8, n_sub=4, n_max=3, n_slots=2, max_candidates=16)
    >>> obs, info = envs.reset(seed=0)
    >>> envs.action_masks().shape
    (2, 136)
    """

    def __init__(
        self,
        num_envs: int = 1,
        params: AssocEnvParams | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.info_keys = INFO_KEYS
        self.env_params = resolve_params(AssocEnvParams, params, kwargs)
        self.single_observation_space, self.single_action_space = assoc_spaces(self.env_params)
        self._setup(num_envs, [AssocEpisode(self.env_params) for _ in range(int(num_envs))])

    @property
    def instances(self) -> list[Any]:
        """Current :class:`~leo_env.core.cochannel.CochannelInstance` of every sub-environment."""
        return [ep.instance for ep in self._eps]

    def action_masks(self) -> np.ndarray:
        """Valid choices of every sub-environment, shape (num_envs, U * (S_max + 1))."""
        return np.stack([ep.action_masks() for ep in self._eps])
