"""Native batched version of :class:`~leo_env.envs.lisl.env.LislRoutingEnv`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leo_env.envs.episodes import EpisodeVectorEnv
from leo_env.envs.lisl.core import INFO_KEYS, Episode, make_spaces
from leo_env.envs.lisl.env import resolve_params
from leo_env.envs.lisl.params import LislEnvParams

__all__ = ["LislRoutingVectorEnv"]


class LislRoutingVectorEnv(EpisodeVectorEnv):
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

    info_keys = INFO_KEYS

    def __init__(
        self,
        num_envs: int = 1,
        params: LislEnvParams | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.env_params = resolve_params(params, kwargs)
        self.single_observation_space, self.single_action_space = make_spaces(self.env_params)
        self._setup(num_envs, [Episode(self.env_params) for _ in range(int(num_envs))])

    @property
    def problems(self) -> list[Any]:
        """Current :class:`oracles.lisl.problem.LislProblem` of every sub-environment."""
        return [ep.problem for ep in self._eps]
