"""A gymnasium ``Graph`` view of ``LislRouting-v0``'s padded observation.

>>> from leo_env.envs.lisl.env import LislRoutingEnv
>>> env = LislGraphObservation(LislRoutingEnv(n_sats=60, n_snapshots=1))
>>> g, info = env.reset(seed=0)
>>> g.nodes.shape, g.edges.shape[1], g.edge_links.shape[1]
((60, 6), 5, 2)
>>> g in env.observation_space
True
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from leo_env.envs.lisl.core import FEATURE_HIGH, N_EDGE_FEATURES, N_NODE_FEATURES

__all__ = ["LislGraphObservation"]


class LislGraphObservation(gym.ObservationWrapper):
    """Observation as a :class:`gymnasium.spaces.GraphInstance` (no padding, no mask).

    ``nodes`` (I, 6) and the edge features (5 per edge) are the padded observation's ``nodes``
    and ``edges`` rows; ``edge_links`` the satellites of every real candidate pair.

    Parameters
    ----------
    env : gymnasium.Env
        A ``LislRouting-v0`` environment (or a wrapper of one).
    directed : bool
        True (default): two edges per candidate pair ``l = (i, j)``, edge ``2 l`` = ``(i, j)``
        and ``2 l + 1`` = ``(j, i)``, the oracles' arc order, so a per-edge output is a price
        vector ``lambda`` of the ``prices`` action (row ``l`` of the action holds edges
        ``2 l`` and ``2 l + 1``); False: one edge ``(i, j)`` per pair.
    """

    def __init__(self, env: gym.Env[Any, Any], directed: bool = True) -> None:
        super().__init__(env)
        self.directed = bool(directed)
        self.observation_space = spaces.Graph(
            node_space=spaces.Box(-1.0, FEATURE_HIGH, (N_NODE_FEATURES,), np.float32),
            edge_space=spaces.Box(-1.0, FEATURE_HIGH, (N_EDGE_FEATURES,), np.float32),
        )

    def observation(self, observation: dict[str, np.ndarray]) -> spaces.GraphInstance:
        """The graph of one padded observation."""
        mask = np.asarray(observation["edge_mask"]).astype(bool)
        links = np.asarray(observation["edge_index"])[mask].astype(np.int64)
        edges = np.asarray(observation["edges"])[mask].astype(np.float32)
        if self.directed:
            links = np.stack([links, links[:, ::-1]], axis=1).reshape(-1, 2)
            edges = np.repeat(edges, 2, axis=0)
        nodes = np.asarray(observation["nodes"], dtype=np.float32)
        return spaces.GraphInstance(nodes=nodes, edges=edges, edge_links=links)
