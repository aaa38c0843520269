"""Learning-side pieces of the ``linkgroup`` family (EMCL).

So far: :mod:`.wolpertinger`, the exact mapping of a continuous proto-action to the k nearest
*valid* link groups (the action side of EMCL's Wolpertinger step), and :mod:`.ppo`, MaskablePPO
on ``groups`` mode (import it explicitly: it loads torch).  The paper's agents (EMCL, AC-MAML,
AC-DDPG) are not built yet.
"""

from agents.linkgroup.wolpertinger import NearestGroups, link_costs, nearest_valid_groups

__all__ = ["NearestGroups", "link_costs", "nearest_valid_groups"]
