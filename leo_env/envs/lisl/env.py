"""``leo_env/LislRouting-v0``: laser-ISL matching and routing per constellation snapshot (DuJo)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from leo_env.envs.episodes import EpisodeEnv
from leo_env.envs.episodes import resolve_params as _resolve
from leo_env.envs.lisl.core import Episode, make_spaces
from leo_env.envs.lisl.params import LislEnvParams

__all__ = ["LislRoutingEnv", "resolve_params"]


def resolve_params(
    params: LislEnvParams | Mapping[str, Any] | None, kwargs: Mapping[str, Any]
) -> LislEnvParams:
    """Build the parameter object from ``params`` and/or keyword arguments (validated once)."""
    return _resolve(LislEnvParams, params, kwargs)


class LislRoutingEnv(EpisodeEnv):
    """Joint laser inter-satellite link (LISL) matching and traffic routing, one snapshot per step.

    A ground controller decides, for every constellation snapshot, which laser terminals (LCTs)
    of different satellites point at each other, one path per traffic flow over the established
    links and the flow rates; the goal is the largest routed throughput (DuJo, Gu, Park, Choi).
    At each step the agent proposes *link prices* (or link scores); the environment turns them
    into a feasible decision exactly as DuJo's conversion does (greedy max-weight matching of the
    LCT pairs, Dijkstra routing on the established links, optimal rates by a HiGHS LP) and
    rewards the served share of demand.

    An episode draws a random subset of ``n_sats`` satellites of the constellation, gateways and
    users (seeded), then plays ``n_snapshots`` snapshots ``snapshot_interval_s`` apart.

    ## Action space

    ``action_mode="prices"`` (default): ``Box(0, 1, (L_max, 2), float32)``; row ``l`` holds the
    prices ``(lambda_ij, lambda_ji)`` of candidate satellite pair ``l = (i, j)`` (``i < j``,
    ``obs["edge_index"][l]``); rows with ``edge_mask = 0`` are ignored.  By DuJo's Lemma 1 the
    box ``[0, 1]`` contains optimal prices.  ``action_mode="scores"``: ``Box(0, 1, (L_max,))``,
    one score per candidate pair; LCT pairs are matched greedily by ``score * r_nm``, flows are
    routed by OSPF (cost ``1 / capacity``) and rated by the LP.

    ## Observation space

    ``Dict`` of padded arrays (``I = n_sats``, ``L_max = max_links``):

    | key | shape | dtype | content |
    |---|---|---|---|
    | ``nodes`` | (I, 6) | float32 | ``log1p(Q_i [Gbit/s])``, ``log1p(D_i [Gbit/s])``, gateway flag, unit position (TEME x, y, z) |
    | ``edges`` | (L_max, 5) | float32 | ``log1p(sum of r_nm [Gbit/s])`` over the pair's LCT pairs, distance / ``max_distance``, LCT pairs / 16, best alignment / 2, age of the held link (``min(age, tau+1)/(tau+1)``) |
    | ``edge_index`` | (L_max, 2) | int64 | satellites ``(i, j)``, ``i < j`` (0 when padded) |
    | ``edge_mask`` | (L_max,) | int8 (MultiBinary) | 1 for real candidate pairs |

    All features lie in ``[-1, 50]``.

    ## Reward

    The served share of demand ``sum_f q_f / sum_i D_i`` of the snapshot, computed by
    :func:`oracles.lisl.objective.served_share` (the oracles use the same function).

    ## Episode end

    ``terminated`` after ``n_snapshots`` steps (the observation returned then is that of the
    last snapshot); never ``truncated``.

    ## Info

    Same keys at reset (zeros) and at every step: ``snapshot``, ``t_s``, ``throughput_gbps``,
    ``served_share``, ``demand_gbps``, ``n_lisls`` (established), ``n_usable_lisls`` (after the
    acquisition delay), ``n_flows``, ``connected_flows``, ``mean_hops``, ``n_links``
    (candidate pairs).

    ## Arguments

    The fields of :class:`~leo_env.envs.lisl.params.LislEnvParams` as keyword arguments (or
    ``params=``): ``constellation``, ``n_sats``, ``lcts_per_sat``, ``for_half_angle_deg``,
    ``max_distance_km``, ``active_user_share``, ``n_gateways``, ``n_nearest``, ``n_snapshots``,
    ``snapshot_interval_s``, ``acquisition_snapshots`` (``tau``: a new link carries traffic only
    after ``tau`` earlier snapshots held; this couples the snapshots), ``action_mode``,
    ``max_links``.

    ## Version history

    * v0: first version.

    ## Example

    >>> import numpy as np
    >>> env = LislRoutingEnv(n_sats=60, n_snapshots=2)
    >>> obs, info = env.reset(seed=0)
    >>> obs["nodes"].shape
    (60, 6)
    >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample() * 0)
    >>> 0.0 <= reward <= 1.0, terminated
    (True, False)
    """

    metadata = {"render_modes": []}

    def __init__(
        self, params: LislEnvParams | Mapping[str, Any] | None = None, **kwargs: Any
    ) -> None:
        self.env_params = resolve_params(params, kwargs)
        self.observation_space, self.action_space = make_spaces(self.env_params)
        self._ep = Episode(self.env_params)
        self._started = False

    # public read-only views for policies
    @property
    def problem(self):  # noqa: ANN201 - LislProblem
        """The current snapshot as an :class:`oracles.lisl.problem.LislProblem`."""
        return self._ep.problem

    @property
    def instance(self):  # noqa: ANN201 - LislInstance
        """The current snapshot as a :class:`leo_env.scenario.lisl.LislInstance`."""
        return self._ep.instance

    @property
    def scenario_seed(self) -> int:
        """Seed of the current episode's satellite subset, gateways and users."""
        return self._ep.seed

    def action_from_prices(self, lam: np.ndarray) -> np.ndarray:
        """``prices`` action for arc prices ``lambda`` of the current snapshot (shape (2L,))."""
        return self._ep.action_from_prices(lam)

