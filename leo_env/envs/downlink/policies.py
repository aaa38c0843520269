"""Downlink baselines and oracles behind the suite's :class:`leo_env.policies.Policy` interface.

A :class:`Policy` is reset at the start of every episode with the environment (after
``env.reset``) and then asked for one action per slot:

>>> import gymnasium as gym
>>> import leo_env.envs
>>> from leo_env.envs.downlink.policies import GreedyPolicy, run_episode
>>> env = gym.make("leo_env/Downlink-toy-v0", allocator="equal")
>>> result = run_episode(GreedyPolicy(), env, seed=0)
>>> result.assoc.shape, result.info["budget_violations"]
((5, 10), 0)

Policies may read the environment (``env.unwrapped``): the candidate lists, masks, budgets
and the current scenario.  B0 uses only what the agent could know; B1 uses the realised future
(it is an oracle, an upper reference); B2 uses the predictor's forecasts.

| name | class | rule |
|---|---|---|
| ``B0`` | :class:`GreedyPolicy` | strongest affordable visible satellite, stay on ties (APEX's greedy, budget-safe) |
| ``B1`` | :class:`HindsightPolicy` | P2 solved on the realised scenario (best of a few runs by exact score), then followed |
| ``B2`` | :class:`MPCPolicy` | P2 re-solved every slot on predicted demand from the current association and budgets; first slot applied |
| ``random`` | :class:`RandomPolicy` | uniform over the masked choices |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import gymnasium as gym
import numpy as np

from leo_env.policies import Policy

if TYPE_CHECKING:
    from leo_env.envs.downlink.env import DownlinkEnv


def _downlink(env: gym.Env[Any, Any]) -> DownlinkEnv:
    """The downlink environment under ``env``'s wrappers."""
    return cast("DownlinkEnv", env.unwrapped)

__all__ = [
    "Policy",  # re-exported from leo_env.policies (the suite's one interface)
    "GreedyPolicy",
    "RandomPolicy",
    "HindsightPolicy",
    "MPCPolicy",
    "EpisodeResult",
    "run_episode",
    "make_policy",
    "POLICIES",
]


def _greedy_choice(u: Any) -> np.ndarray:
    """Strongest budget-safe candidate per cell; the current satellite wins ties."""
    sc = u.scenario
    k = min(u.k, sc.K - 1)
    cand = u.candidates
    C = cand.shape[0]  # noqa: N806
    allowed = u.safe_mask()
    gain = np.where(cand >= 0, sc.g[np.maximum(cand, 0), np.arange(C)[:, None], k], -np.inf)
    score = np.where(allowed, gain, -np.inf)
    best = score.argmax(axis=1)
    is_cur = (cand == u.association[:, None]) & allowed
    has_cur = is_cur.any(axis=1)
    cur_idx = is_cur.argmax(axis=1)
    rows = np.arange(C)
    stay = has_cur & (score[rows, cur_idx] >= score[rows, best])
    return np.where(stay, cur_idx, best).astype(np.int64)


class GreedyPolicy(Policy):
    """B0: every cell takes its strongest visible satellite within the handover budget.

    A switch is taken only when it is strictly stronger than the current satellite and keeps
    every handover the rest of the episode forces affordable (the DP rule of the ``full``
    mask, applied whatever the environment's mask mode).  Run from slot 0 this reproduces
    :func:`oracles.baselines.greedy_association`.
    """

    name = "B0-greedy"

    def act(self, obs: dict[str, np.ndarray], env: gym.Env[Any, Any]) -> np.ndarray:
        """Greedy choice of every cell."""
        return _greedy_choice(_downlink(env))


class RandomPolicy(Policy):
    """Uniformly random allowed candidate per cell (a sanity baseline and the benchmark's load).

    Parameters
    ----------
    seed : int, optional
        Seed of the policy's own generator.
    """

    name = "random"

    def __init__(self, seed: int | None = None) -> None:
        super().__init__()
        self.rng = np.random.default_rng(seed)

    def act(self, obs: dict[str, np.ndarray], env: gym.Env[Any, Any]) -> np.ndarray:
        """Random allowed index per cell (vectorised: Gumbel-free uniform keys on the mask)."""
        mask = _downlink(env).action_mask_matrix()
        keys = np.where(mask, self.rng.random(mask.shape), -1.0)
        return keys.argmax(axis=1).astype(np.int64)


def _follow(policy: Policy, u: Any, sats: np.ndarray) -> np.ndarray:
    """Candidate indices selecting ``sats``; cells where that is impossible fall back to B0."""
    action, ok = u.actions_for(sats)
    if not ok.all():
        policy.stats["fallbacks"] = policy.stats.get("fallbacks", 0) + int((~ok).sum())
        action = np.where(ok, action, _greedy_choice(u))
    return action


_LAGRANGIAN_RESTARTS: tuple[dict[str, Any], ...] = (
    {},
    {"init": "separable"},
    {"price_init": "waterfill"},
)


class HindsightPolicy(Policy):
    """B1: P2 solved on the realised episode (hindsight oracle), then followed slot by slot.

    At reset the policy solves P2 (:func:`oracles.p2.solve`) on
    ``Problem.from_scenario(env.scenario)`` -- the realised arrivals of every slot, known in
    advance -- once per entry of ``restarts`` (solver options), scores every plan, and B0's
    plan too when ``include_greedy``, *exactly* with :func:`oracles.p2.evaluate` (P1 in every
    slot on the realised arrivals, i.e. the environment's return), and follows the best one.
    P2 optimises a capacity proxy, so different solver runs rank differently under the true
    objective; picking by the exact score with full hindsight is what an oracle may do, and it
    makes B1 at least as good as B0 on every episode.  ``stats`` records the chosen plan and
    the scores.

    A planned satellite missing from a cell's candidate list (``n_candidates`` smaller than the
    number of visible satellites) is replaced by B0's choice and counted in
    ``stats["fallbacks"]``.

    Parameters
    ----------
    method : str
        P2 solver (``"lagrangian"``, ``"milp"``, ``"dp"``, ``"rolling"``).
    proxy : {"separable", "coupled"}
        Capacity proxy P2 optimises.
    restarts : sequence of dict, optional
        Solver options of each run; default: three initialisations of the Lagrangian solver
        (insertion, separable-DP and water-filling-price starts), one run for other methods.
    include_greedy : bool
        Also consider B0's plan.
    **options
        Passed to every :func:`oracles.p2.solve` call (e.g. ``time_limit``).
    """

    name = "B1-hindsight"

    def __init__(
        self,
        method: str = "lagrangian",
        proxy: str = "coupled",
        restarts: Sequence[dict[str, Any]] | None = None,
        include_greedy: bool = True,
        **options: Any,
    ) -> None:
        super().__init__()
        self.method, self.proxy, self.options = method, proxy, options
        if restarts is None:
            restarts = _LAGRANGIAN_RESTARTS if method == "lagrangian" else ({},)
        self.restarts = tuple(dict(r) for r in restarts)
        self.include_greedy = include_greedy
        self.plan: np.ndarray | None = None
        self.result: Any = None

    def reset(self, env: gym.Env[Any, Any]) -> None:
        """Solve P2 on the episode's realised scenario and keep the best plan."""
        super().reset(env)
        from oracles import p2
        from oracles.baselines import greedy_association

        sc = _downlink(env).scenario
        problem = p2.Problem.from_scenario(sc, proxy=self.proxy)
        plans: list[tuple[str, np.ndarray, Any]] = []
        solve_time = 0.0
        for i, extra in enumerate(self.restarts):
            res = p2.solve(problem, method=self.method, **{**self.options, **extra})
            solve_time += float(res.solve_time_s)
            if res.feasible:
                plans.append((f"{self.method}[{i}]", np.asarray(res.assoc), res))
        if self.include_greedy:
            plans.append(("greedy", greedy_association(sc.v, sc.g, sc.H), None))
        if not plans:
            raise RuntimeError(
                f"B1: every P2 run ({self.method}) failed on scenario seed {sc.seed}"
            )
        scores = [float(p2.evaluate(sc, plan).utility) for _, plan, _ in plans]
        best = int(np.argmax(scores))
        label, self.plan, self.result = plans[best]
        self.stats.update(
            plan=label,
            scores=dict(zip([p[0] for p in plans], scores, strict=True)),
            solve_time_s=solve_time,
        )

    def act(self, obs: dict[str, np.ndarray], env: gym.Env[Any, Any]) -> np.ndarray:
        """The plan's satellites for the current slot."""
        if self.plan is None:
            raise RuntimeError("call reset(env) first")
        u = _downlink(env)
        return _follow(self, u, self.plan[:, u.k])


class MPCPolicy(Policy):
    """B2: model-predictive control -- P2 on predicted demand, re-planned every slot.

    At slot ``k`` the policy builds P2 over slots ``k .. k+h-1`` (``h = window``, default the
    rest of the episode) with the environment's forecasts as arrivals (each slot's forecast
    spread evenly over its fast slots), the current association as ``initial`` and the budgets
    left as ``budget_left``, solves it and applies the first slot.  Visibility and gains are the
    scenario's (known orbits); only demand is predicted.

    Parameters
    ----------
    window : int, optional
        Planning horizon [slots]; None: to the end of the episode (budget-safe by construction).
    method : str
        P2 solver.
    proxy : {"separable", "coupled"}
        Capacity proxy.
    arrivals : {"forecast", "realised"}
        What the plan uses as demand: the environment's forecasts (B2), or the realised
        arrivals of the coming slots -- a hindsight expert that re-plans from whatever state
        the environment is in (the DAgger expert of :mod:`agents.dagger`; not a causal policy).
    **options
        Passed to :func:`oracles.p2.solve`.
    """

    name = "B2-mpc"

    def __init__(
        self,
        window: int | None = None,
        method: str = "lagrangian",
        proxy: str = "coupled",
        arrivals: str = "forecast",
        **options: Any,
    ) -> None:
        super().__init__()
        if window is not None and window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        if arrivals not in ("forecast", "realised"):
            raise ValueError(f"arrivals must be 'forecast' or 'realised', got {arrivals!r}")
        self.window, self.method, self.proxy, self.options = window, method, proxy, options
        self.arrivals = arrivals

    def act(self, obs: dict[str, np.ndarray], env: gym.Env[Any, Any]) -> np.ndarray:
        """Solve the slot's P2 on forecasts and return its first decision."""
        from oracles import p2

        u = _downlink(env)
        sc = u.scenario
        k = u.k
        h = sc.K - k if self.window is None else min(self.window, sc.K - k)
        if self.arrivals == "realised":
            a_pred = sc.a[:, k : k + h, :]
        else:
            pred = u.forecast(h)  # (C, h) bits per slot
            a_pred = np.repeat(pred[:, :, None] / sc.M, sc.M, axis=2)
        problem = p2.Problem.from_arrays(
            sc.v[:, :, k : k + h],
            sc.g[:, :, k : k + h],
            a_pred,
            sc.H,
            N_PRB=sc.N_PRB,
            P_max=sc.P_max,
            W_PRB=sc.W_PRB,
            N0=sc.N0,
            T_f=sc.T_f,
            eps=sc.eps,
            lambda_h=sc.lambda_h,
            proxy=self.proxy,
            initial=u.association,
            budget_left=u.budget_left,
        )
        res = p2.solve(problem, method=self.method, **self.options)
        if not res.feasible:
            self.stats["infeasible_plans"] = self.stats.get("infeasible_plans", 0) + 1
            return _greedy_choice(u)
        self.stats["solve_time_s"] = self.stats.get("solve_time_s", 0.0) + float(res.solve_time_s)
        return _follow(self, u, np.asarray(res.assoc)[:, 0])


POLICIES: dict[str, type[Policy]] = {
    "B0": GreedyPolicy,
    "greedy": GreedyPolicy,
    "B1": HindsightPolicy,
    "hindsight": HindsightPolicy,
    "B2": MPCPolicy,
    "mpc": MPCPolicy,
    "random": RandomPolicy,
}


def make_policy(name: str, **kwargs: Any) -> Policy:
    """Baseline policy by name (``"B0"``, ``"B1"``, ``"B2"``, ``"greedy"``, ``"random"``, ...)."""
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}; known: {sorted(POLICIES)}")
    return POLICIES[name](**kwargs)


@dataclass
class EpisodeResult:
    """Outcome of one episode played by :func:`run_episode`.

    Attributes
    ----------
    ret : float
        Episode return (sum of rewards).
    assoc : ndarray of int, shape (C, K)
        Serving satellite per cell and slot.
    xi : ndarray, shape (C, K)
        Satisfaction per cell and slot (``nan`` without demand).
    rewards : ndarray, shape (K,)
        Reward per slot.
    info : dict
        The last step's info (totals: ``handovers_total``, ``budget_violations``, ...).
    scenario_seed : int
        Seed of the episode's scenario.
    policy_stats : dict
        The policy's counters after the episode.
    """

    ret: float
    assoc: np.ndarray
    xi: np.ndarray
    rewards: np.ndarray
    info: dict[str, Any]
    scenario_seed: int
    policy_stats: dict[str, Any] = field(default_factory=dict)


def run_episode(
    policy: Policy,
    env: gym.Env[Any, Any],
    seed: int | None = None,
    options: dict[str, Any] | None = None,
) -> EpisodeResult:
    """Reset ``env``, play one whole episode with ``policy`` and collect the trajectory."""
    obs, info0 = env.reset(seed=seed, options=options)
    policy.reset(env)
    assoc, xis = [], []
    rewards: list[float] = []
    info: dict[str, Any] = {}
    done = False
    while not done:
        obs, r, term, trunc, info = env.step(policy.act(obs, env))
        assoc.append(info["assoc"])
        xis.append(info["xi"])
        rewards.append(float(r))
        done = term or trunc
    return EpisodeResult(
        ret=float(np.sum(rewards)),
        assoc=np.stack(assoc, axis=1),
        xi=np.stack(xis, axis=1),
        rewards=np.asarray(rewards),
        info=info,
        scenario_seed=int(info0.get("scenario_seed", -1)),
        policy_stats=dict(policy.stats),
    )
