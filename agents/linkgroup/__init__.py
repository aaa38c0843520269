"""Learning side of the ``linkgroup`` family (EMCL).

* :mod:`.wolpertinger` — exact k nearest *valid* link groups of a proto-action (EMCL's
  Wolpertinger step; imported here, numpy only);
* :mod:`.networks`, :mod:`.learner` — per-receiver CNN actor/critic, LSTM task embedding, the
  learners EMCL, EMCL without Wolpertinger, AC-DDPG and AC-MAML (torch; import explicitly);
* :mod:`.training` — meta-training, BC warm start from hindsight OPT, online adaptation on task
  streams, resumable checkpoints; :mod:`.evaluation` — paired windows (Fig. 8) and streams
  (Figs. 4/7) evaluation; :mod:`.config` and :mod:`.family` — the ``train.py`` /
  ``evaluate.py`` entry (``FAMILY``);
* :mod:`.ppo` — MaskablePPO on ``groups`` mode (modern baseline).
"""

from agents.linkgroup.wolpertinger import NearestGroups, link_costs, nearest_valid_groups

__all__ = ["NearestGroups", "link_costs", "nearest_valid_groups"]
