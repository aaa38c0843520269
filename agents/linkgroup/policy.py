"""A trained link-group learner (EMCL, its ablation, AC-MAML, AC-DDPG, the named variants) as a suite policy.

:class:`LearnerPolicy` is the family's one policy interface (``leo_env.policies.Policy``:
``reset(env)``, ``act(obs, env) -> action``) around a run folder or experiment YAML: it plays
the learner's greedy Wolpertinger choice (no exploration, no learning: the weights stay as
trained) and keeps the learner's task context (the last ``L`` transitions ``(s, a, r)``, which
EMCL's meta critic reads) across the windows it plays, exactly as
:func:`agents.linkgroup.training.play_window` does.  It reads ``env.unwrapped`` public
attributes only (``instance``, ``delivered``, ``t``, ``spec_obj``).

>>> from agents.linkgroup.policy import LearnerPolicy            # doctest: +SKIP
>>> pol = LearnerPolicy("runs/linkgroup/emcl_k50")               # doctest: +SKIP
>>> from leo_env.policies import play                           # doctest: +SKIP
>>> play(pol, env, seed=0).infos[-1]["objective"]               # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents.linkgroup.config import LinkGroupRunConfig, load_config
from leo_env.core.linkgroups import slot_links
from leo_env.policies import Policy
from oracles.linkgroup.objective import objective

__all__ = ["LearnerPolicy"]


class LearnerPolicy(Policy):
    """Greedy, frozen link-group learner (module docstring).

    Parameters
    ----------
    run : str, Path or LinkGroupRunConfig
        A run folder (with ``config.yaml``), an experiment YAML, or a loaded config.
    trust : bool
        Load a checkpoint whose checksum changed (``agents.trust``).
    """

    def __init__(self, run: str | Path | LinkGroupRunConfig, trust: bool = False) -> None:
        from agents.linkgroup.training import load_learner

        super().__init__()
        if isinstance(run, LinkGroupRunConfig):
            cfg = run
        else:
            path = Path(run)
            cfg = load_config(path / "config.yaml" if path.is_dir() else path)
        self.cfg = cfg
        self.name = cfg.name
        self.learner = load_learner(cfg, trust)
        self.learner.online = True
        self._last: tuple[Any, Any, np.ndarray, np.ndarray, np.ndarray, int] | None = None

    def _close_window(self) -> None:
        """Record the previous window's terminal transition (the bits of its last group recomputed)."""
        if self._last is None:
            return
        inst, spec, obs, assign, before, t = self._last
        bits = slot_links(inst, assign, t)[1]
        after = before.copy()
        on = assign >= 0
        np.add.at(after, assign[on], bits[on])
        r = float(objective(inst, before, spec)) - float(objective(inst, after, spec))
        self.learner.observe(obs, assign, r, obs, True)
        self._last = None

    def reset(self, env: gym.Env[Any, Any]) -> None:
        """Start of a window (the task context carries on from the previous windows)."""
        super().reset(env)
        self.stats = {"decisions": 0}

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> Any:
        """The learner's greedy group for the current slot, encoded for ``env``."""
        u: Any = env.unwrapped
        obs = np.asarray(obs)
        if self._last is not None:
            inst, spec, pobs, passign, before, t = self._last
            if inst is u.instance and u.t == t + 1:  # same window: the previous step's reward
                r = float(objective(inst, before, spec)) - float(objective(inst, u.delivered, spec))
                self.learner.observe(pobs, passign, r, obs, False)
                self._last = None
            else:  # a new window: the previous one ended with that step
                self._close_window()
        assign = np.asarray(self.learner.act(obs, u, False))
        self._last = (u.instance, u.spec_obj, obs, assign, np.asarray(u.delivered, float).copy(), int(u.t))
        self.stats["decisions"] += 1
        return u.encode(assign)
