"""DV-MOSS and the baselines as :class:`leo_env.policies.Policy` objects.

Selection env (``MultiOrbitSelect-v0``): :class:`DvMossSelectPolicy`,
:class:`EpsMarkovSelectPolicy`, :class:`KNearestSelectPolicy` (``k = 2`` is the paper's
2-nearest) and :class:`KRandomSelectPolicy`; each solves the current slot's instance
(``env.unwrapped.instance``) and plays the chosen subset.  Association env
(``MultiOrbitAssoc-v0``): :class:`DvMossAssocPolicy` (DV-MOSS's association),
:class:`JubpaAssocPolicy` (JUBPA's matching games on the Markov chain's start subset, no subset
search) and :class:`BestGainAssocPolicy` (each UE to the candidate with its largest mean gain).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from leo_env.policies import Policy
from oracles.multiorbit import baselines as B

__all__ = [
    "DvMossSelectPolicy",
    "EpsMarkovSelectPolicy",
    "KNearestSelectPolicy",
    "KRandomSelectPolicy",
    "DvMossAssocPolicy",
    "JubpaAssocPolicy",
    "BestGainAssocPolicy",
]


class _SeededPolicy(Policy):
    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.seed = int(seed)
        self._calls = 0

    def reset(self, env: gym.Env[Any, Any]) -> None:
        """Start of an episode: the per-slot seeds restart."""
        super().reset(env)
        self._calls = 0

    def _next_seed(self) -> int:
        self._calls += 1
        return self.seed * 1_000_003 + self._calls


class DvMossSelectPolicy(_SeededPolicy):
    """DV-MOSS (Markov approximation + JUBPA) on the current slot; plays its subset."""

    name = "dv-moss"

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """Scores serving DV-MOSS's subset."""
        u = env.unwrapped
        sol = B.dv_moss(u.instance, seed=self._next_seed())  # type: ignore[attr-defined]
        self.stats["last_objective_mbps"] = sol.objective_mbps
        return u.action_for_subset(sol.selected)  # type: ignore[attr-defined]


class EpsMarkovSelectPolicy(_SeededPolicy):
    """epsilon-Markov (fixed exploration probability) on the current slot."""

    name = "eps-markov"

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """Scores serving epsilon-Markov's subset."""
        u = env.unwrapped
        sol = B.eps_markov(u.instance, seed=self._next_seed())  # type: ignore[attr-defined]
        return u.action_for_subset(sol.selected)  # type: ignore[attr-defined]


class KNearestSelectPolicy(Policy):
    """The ``k`` candidates nearest to the UE-cluster centre (``k = 2``: 2-nearest)."""

    def __init__(self, k: int = 2) -> None:
        super().__init__()
        self.k = int(k)
        self.name = f"{self.k}-nearest"

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """Scores serving the ``k`` nearest candidates."""
        u = env.unwrapped
        inst = u.instance  # type: ignore[attr-defined]
        k = B.k_cap(inst, self.k)
        return u.action_for_subset(np.argsort(inst.centre_range_m, kind="stable")[:k].tolist())  # type: ignore[attr-defined]


class KRandomSelectPolicy(_SeededPolicy):
    """``k`` random candidates per slot."""

    def __init__(self, k: int = 2, seed: int = 0) -> None:
        super().__init__(seed)
        self.k = int(k)
        self.name = f"{self.k}-random"

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """Scores serving ``k`` random candidates."""
        u = env.unwrapped
        inst = u.instance  # type: ignore[attr-defined]
        rng = np.random.default_rng(self._next_seed())
        pick = rng.choice(inst.n_sats, size=B.k_cap(inst, self.k), replace=False)
        return u.action_for_subset(sorted(int(s) for s in pick))  # type: ignore[attr-defined]


class DvMossAssocPolicy(_SeededPolicy):
    """DV-MOSS's association on the current slot (the env re-allocates subcarriers/power)."""

    name = "dv-moss-assoc"

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """Each UE on DV-MOSS's satellite for it (unserved where DV-MOSS leaves it)."""
        u = env.unwrapped
        sol = B.dv_moss(u.instance, seed=self._next_seed())  # type: ignore[attr-defined]
        return u.action_for_assoc(sol.assoc)  # type: ignore[attr-defined]


class JubpaAssocPolicy(Policy):
    """JUBPA (UA and BA matching games + PA) on the ``min(N_max, F)`` candidates seen by most UEs."""

    name = "jubpa-assoc"

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """Each UE on JUBPA's satellite for it (unserved where JUBPA leaves it)."""
        from oracles.multiorbit.jubpa import jubpa
        from oracles.multiorbit.markov import initial_subset

        u = env.unwrapped
        inst = u.instance  # type: ignore[attr-defined]
        sol = jubpa(inst, initial_subset(inst))
        return u.action_for_assoc(sol.assoc)  # type: ignore[attr-defined]


class BestGainAssocPolicy(Policy):
    """Each UE to the candidate in its cone with the largest mean gain."""

    name = "best-gain"

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """Largest-mean-gain satellite per UE."""
        u = env.unwrapped
        inst = u.instance  # type: ignore[attr-defined]
        g = np.where(inst.visible, inst.gain.mean(axis=2), -1.0)
        best = g.argmax(axis=0)
        return u.action_for_assoc(np.where(g.max(axis=0) > 0, best, -1))  # type: ignore[attr-defined]
