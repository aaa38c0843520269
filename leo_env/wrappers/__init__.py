"""Wrappers and views of the downlink environment: flat observations, Wolpertinger k-NN, PettingZoo.

``DownlinkParallelEnv`` / ``parallel_env`` live in :mod:`leo_env.wrappers.parallel` (it imports
PettingZoo) and are also reachable as ``leo_env.parallel_env``.
"""

from leo_env.wrappers.flatten import FlattenDownlink
from leo_env.wrappers.wolpertinger import (
    WolpertingerMapper,
    candidate_embedding,
    k_nearest_actions,
    per_cell_costs,
)

__all__ = [
    "FlattenDownlink",
    "WolpertingerMapper",
    "candidate_embedding",
    "k_nearest_actions",
    "per_cell_costs",
]
