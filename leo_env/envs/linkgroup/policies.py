"""Oracles and baselines of the link-group family as :class:`leo_env.policies.Policy` objects.

| name | class | rule |
|---|---|---|
| ``opt`` | :class:`OptPolicy` | hindsight OPT (exact MILP) on the episode's realised window, then followed |
| ``admm`` | :class:`AdmmPolicy` | ADMM-HEU on the realised window, then followed |
| ``grd`` | :class:`GreedyPolicy` | greedy group of the current slot given the bits delivered so far (causal) |
| ``rollout`` | :class:`RolloutPolicy` | causal search: GRD rolled out over FSMC channel paths sampled from the current slot |
| ``saa`` | :class:`SaaPolicy` | causal search: SAA-MPC, one MILP over sampled channel paths with a shared first slot |
| ``rollout_ls`` | :class:`RolloutPolicy` (``local_search > 0``) | causal search: the rollout plus a local search over first-slot groups on the same sampled paths |
| ``la1``, ``la2`` | :class:`LookaheadSaaPolicy` | **not causal** (information oracle): SAA-MPC that knows the realised channel ``k`` slots ahead |

They read ``env.unwrapped.instance`` (the realised window: OPT and ADMM-HEU are offline
oracles), ``delivered``, ``t`` and ``spec_obj``, and answer in the env's action mode.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from leo_env.policies import Policy
from oracles.linkgroup.admm import solve_admm
from oracles.linkgroup.greedy import greedy_group
from oracles.linkgroup.opt import solve_opt
from oracles.linkgroup.rollout import rollout_group, sample_future_gains
from oracles.linkgroup.saa import solve_saa_first_slot
from oracles.linkgroup.solution import LinkGroupSolution

__all__ = ["OptPolicy", "AdmmPolicy", "GreedyPolicy", "RolloutPolicy", "SaaPolicy", "LookaheadSaaPolicy"]


class _PlanPolicy(Policy):
    """Solve the realised window at reset, then play its schedule."""

    solution: LinkGroupSolution | None = None

    def _solve(self, u: Any) -> LinkGroupSolution:
        raise NotImplementedError

    def reset(self, env: gym.Env[Any, Any]) -> None:
        """Solve the window just drawn by ``env.reset``."""
        super().reset(env)
        u = env.unwrapped
        self.solution = self._solve(u)
        self.stats = {"solve_time_s": self.solution.solve_time_s, "objective": self.solution.objective}

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> Any:
        """The planned group of the current slot."""
        u = env.unwrapped
        return u.encode(self.solution.links[u.t])


class OptPolicy(_PlanPolicy):
    """Hindsight OPT (exact MILP on HiGHS) on the realised window.

    Parameters
    ----------
    time_limit : float
        HiGHS time limit per window [s].
    """

    name = "opt"

    def __init__(self, time_limit: float = 60.0) -> None:
        super().__init__()
        self.time_limit = time_limit

    def _solve(self, u: Any) -> LinkGroupSolution:
        return solve_opt(u.instance, u.spec_obj, time_limit=self.time_limit)


class AdmmPolicy(_PlanPolicy):
    """ADMM-HEU on the realised window."""

    name = "admm"

    def __init__(self, **admm_kwargs: Any) -> None:
        super().__init__()
        self.admm_kwargs = admm_kwargs

    def _solve(self, u: Any) -> LinkGroupSolution:
        return solve_admm(u.instance, u.spec_obj, **self.admm_kwargs)


class GreedyPolicy(Policy):
    """GRD: the greedy group of the current slot (only the current slot's channel is used)."""

    name = "grd"

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> Any:
        """Greedy group given the bits delivered so far."""
        u = env.unwrapped
        a = greedy_group(u.instance, u.t, u.delivered, u.spec_obj)
        return u.encode(np.asarray(a))


class RolloutPolicy(Policy):
    """Causal decision-time search (:mod:`oracles.linkgroup.rollout`).

    Every slot: candidate groups (GRD's and GRD completed from every single link), each scored
    by the mean final objective of GRD played on ``n_samples`` channel paths of the rest of
    the window, sampled from the current FSMC levels with the env's own transition matrices;
    the best candidate is played.  Reads only the current slot of the realised window
    (``instance.gain[:, :, t]``, ``levels[:, :, t]``), the cell's large-scale gains and the
    FSMC tables (the known model), never a future slot.

    Parameters
    ----------
    n_samples : int
        Sampled channel paths per decision, >= 1.
    n_candidates : int
        Candidate groups scored per decision, >= 1.
    seed : int
        Seeds the sampler (``np.random.default_rng(seed)``, once).
    local_search : int
        Rounds of local search around the best candidate (``rollout_group``), >= 0; 0 is the
        plain rollout.
    """

    name = "rollout"

    def __init__(self, n_samples: int = 16, n_candidates: int = 64, seed: int = 0, local_search: int = 0) -> None:
        super().__init__()
        if int(n_samples) < 1 or int(n_candidates) < 1 or int(local_search) < 0:
            raise ValueError(f"n_samples and n_candidates must be >= 1 and local_search >= 0, got {n_samples}, "
                             f"{n_candidates}, {local_search}")
        self.n_samples = int(n_samples)
        self.n_candidates = int(n_candidates)
        self.local_search = int(local_search)
        self.rng = np.random.default_rng(seed)
        self.stats: dict[str, float] = {}

    def reset(self, env: gym.Env[Any, Any]) -> None:
        """Model of the new window: large-scale gains and FSMC tables of the env's cell/task."""
        from leo_env.scenario import linkgroup as lg

        super().reset(env)
        u: Any = env.unwrapped
        self._large = lg.large_scale_gains(u.cfg, u.layout, u.task)
        tab = lg.fsmc_tables(u.cfg)
        self._trans = np.stack([tab["P_ka"], tab["P_c"]])
        self._mean = np.stack([tab["mean_ka"], tab["mean_c"]])
        self._chain = np.r_[0, np.ones(u.cfg.J - 1, dtype=np.int64)]  # LEO row: Ka chain
        self.stats = {"decisions": 0.0, "chose_grd": 0.0}

    def _future(self, u: Any, t: int) -> np.ndarray:
        """Sampled gains of slots ``t+1..T-1`` from the current levels, shape (S, J, K, T-t-1)."""
        return sample_future_gains(self._large, u.levels[:, :, t], self._chain, self._trans, self._mean,
                                   u.cfg.T - t - 1, self.n_samples, self.rng)

    def group(self, env: gym.Env[Any, Any]) -> np.ndarray:
        """The rollout's group of the current slot as an assignment vector (J,), ``-1`` idle."""
        u: Any = env.unwrapped
        t = int(u.t)
        fut = self._future(u, t)
        a, info = rollout_group(u.instance, t, u.delivered, fut, u.spec_obj, self.n_candidates, self.local_search)
        self.stats["decisions"] += 1.0
        self.stats["chose_grd"] += info["chose_grd"]
        return np.asarray(a)

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> Any:
        """The rollout's group of the current slot."""
        u: Any = env.unwrapped
        return u.encode(self.group(env))


class SaaPolicy(RolloutPolicy):
    """Causal SAA-MPC (:mod:`oracles.linkgroup.saa`).

    Every slot, one MILP over ``n_samples`` channel paths of the rest of the window sampled from the current FSMC levels (the env's own
    transition matrices), the first slot's links shared by all paths; its first-slot group is
    played (GRD's group if HiGHS found no schedule in ``time_limit``).  Reads only the current
    slot of the realised window, like :class:`RolloutPolicy`.

    Parameters
    ----------
    n_samples : int
        Sampled channel paths per decision, >= 1.
    time_limit : float
        HiGHS time limit per decision [s], > 0.
    n_cuts : int
        Tangent cuts per receiver and path for the data term, >= 2.
    seed : int
        Seeds the sampler.
    """

    name = "saa"

    def __init__(self, n_samples: int = 4, time_limit: float = 5.0, n_cuts: int = 17, seed: int = 0) -> None:
        super().__init__(n_samples=n_samples, n_candidates=1, seed=seed)
        if not (np.isfinite(time_limit) and time_limit > 0):
            raise ValueError(f"time_limit must be > 0 [s], got {time_limit}")
        self.time_limit = float(time_limit)
        self.n_cuts = int(n_cuts)

    def group(self, env: gym.Env[Any, Any]) -> np.ndarray:
        """The SAA-MPC group of the current slot as an assignment vector (J,), ``-1`` idle."""
        u: Any = env.unwrapped
        t = int(u.t)
        fut = self._future(u, t)
        a, info = solve_saa_first_slot(u.instance, t, u.delivered, fut, u.spec_obj, n_cuts=self.n_cuts,
                                       time_limit=self.time_limit)
        self.stats["decisions"] += 1.0
        if info["status"] == "no_incumbent":
            a = greedy_group(u.instance, t, u.delivered, u.spec_obj)
            self.stats["chose_grd"] += 1.0
        return np.asarray(a)


class LookaheadSaaPolicy(SaaPolicy):
    """**Not causal**: SAA-MPC that knows the realised channel ``lookahead`` slots ahead.

    An information oracle for measuring the value of information, not a scheduler: at slot
    ``t`` the MILP's paths hold the realised gains of slots ``t+1..t+lookahead`` (read from the
    realised window, ``instance.gain``) and, after them, gains sampled from the realised levels
    of slot ``t + lookahead``.  ``lookahead = 0`` is :class:`SaaPolicy`; ``lookahead >= T - 1``
    with any ``n_samples`` is hindsight OPT re-solved every slot.

    Parameters
    ----------
    lookahead : int
        Slots of realised future channel revealed, >= 0.
    n_samples, time_limit, n_cuts, seed
        As :class:`SaaPolicy`.
    """

    name = "saa_lookahead"

    def __init__(self, lookahead: int = 1, n_samples: int = 4, time_limit: float = 5.0, n_cuts: int = 17,
                 seed: int = 0) -> None:
        super().__init__(n_samples=n_samples, time_limit=time_limit, n_cuts=n_cuts, seed=seed)
        if int(lookahead) < 0:
            raise ValueError(f"lookahead must be >= 0 slots, got {lookahead}")
        self.lookahead = int(lookahead)

    def _future(self, u: Any, t: int) -> np.ndarray:
        T = u.cfg.T  # noqa: N806
        k = min(self.lookahead, T - t - 1)
        known = np.broadcast_to(u.instance.gain[None, :, :, t + 1:t + 1 + k], (self.n_samples, u.cfg.J, u.cfg.K, k))
        rest = sample_future_gains(self._large, u.levels[:, :, t + k], self._chain, self._trans, self._mean,
                                   T - t - 1 - k, self.n_samples, self.rng)
        return np.concatenate([known, rest], axis=3)
