"""A planning policy for the downlink family: learned demand posterior + learned pool prices.

Three learned or planning parts:

:class:`DemandModel` (learned on training scenarios)
    A per-slot demand profile ``p[j]`` shared by all cells (the slot-of-day shape) and a
    variance model ``Var(d | m) = kappa m + tau2 m^2`` of the realised demand ``d`` of a cell
    whose expected demand is ``m = level * p[j]`` (``kappa`` [bit]: a Poisson packet term;
    ``tau2``: the profile's relative misfit), fitted by moments on the realised demand of
    training-split scenarios (:func:`fit_demand_model`).  At decision time it turns what is
    known -- the realised demand of the past slots and the predictor's forecasts -- into a
    posterior-mean forecast of every coming slot: the cell's level is a weighted least-squares
    fit over past demand and forecasts, and each slot's forecast is shrunk towards
    ``level * p[j]`` with Gaussian precision weights (the forecast's relative error ``e`` is the
    environment's declared ``prediction_error``).  With the causal predictors (flat forecasts)
    only the level is informative, so the forecast is ``level * p[j]``.

:class:`PriceModel` (learned on training problems)
    A small MLP from per-(satellite, slot) load features (:func:`price_features`) to the pool
    prices that the Lagrangian solver of :mod:`oracles.p2` converges to (the value of one unit of
    a satellite's capacity in a slot, i.e. the marginal value of the post-decision resource
    state), fitted on training problems built on the demand model's posterior forecasts
    (:func:`fit_price_model`).

:class:`PlannerPolicy`
    Builds the coupled-proxy P2 over the rest of the episode on the posterior forecasts (the
    current association and the budgets left as initial state), plans it and follows the plan.
    The default (``mode="prices"``) warm-starts the dual with the learned prices
    (:func:`plan_from_prices`: a few projected-subgradient steps with
    :func:`oracles.p2.lagrangian.dual_value`, price-charged greedy insertion and best-response
    local search) and refines the plan with a short run of the Lagrangian solver; the other modes
    (full Lagrangian once, Lagrangian every slot, local search every slot) are the references
    of the benchmark.  Budgets are constraints of every per-cell DP, so plans are always
    budget-feasible; the environment's masks stay the final word (a refused planned satellite
    triggers a re-plan, and ``_follow`` falls back to B0 where a satellite is still refused,
    counted in ``stats["fallbacks"]``).

Command line (fit and save both models under ``runs/planner/``)::

    python -m agents.planner fit --preset medium --seeds 64 --price-seeds 40 --epochs 300
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents.config import ROOT
from leo_env.io import atomic_write_json
from leo_env.policies import Policy

__all__ = [
    "DemandModel",
    "fit_demand_model",
    "demand_matrix",
    "PriceModel",
    "price_features",
    "fit_price_model",
    "plan_from_prices",
    "PlannerPolicy",
    "fit_models",
    "default_model_path",
    "default_price_path",
    "make_planner",
    "make_planner_fast",
    "make_planner_seed1",
    "make_planner_seed2",
    "make_planner_lagrangian",
    "make_planner_raw",
    "make_planner_lagrangian_raw",
    "make_planner_mpc",
]


@dataclass(frozen=True)
class DemandModel:
    """Learned demand profile and variance model of one preset.

    Attributes
    ----------
    preset : str
        Preset the model was fitted on.
    profile : tuple of float
        ``p[j]``, expected demand of slot ``j`` relative to the cell's level (mean 1 over the
        episode), one entry per slow slot.
    kappa : float
        Poisson-like variance coefficient [bit]: ``Var(d) = kappa m + tau2 m^2``.
    tau2 : float
        Relative variance of the profile misfit (dimensionless).
    seeds : int
        Training scenarios used.
    """

    preset: str
    profile: tuple[float, ...]
    kappa: float
    tau2: float
    seeds: int

    def __post_init__(self) -> None:
        p = np.asarray(self.profile, dtype=float)
        if p.ndim != 1 or p.size < 1 or not np.all(np.isfinite(p)) or np.any(p <= 0):
            raise ValueError("profile must be a non-empty sequence of finite values > 0")
        if not (np.isfinite(self.kappa) and self.kappa >= 0):
            raise ValueError(f"kappa must be finite and >= 0, got {self.kappa}")
        if not (np.isfinite(self.tau2) and self.tau2 >= 0):
            raise ValueError(f"tau2 must be finite and >= 0, got {self.tau2}")

    @property
    def K(self) -> int:  # noqa: N802
        """Slots covered by the profile."""
        return len(self.profile)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model as JSON (atomically)."""
        return atomic_write_json(path, asdict(self))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DemandModel:
        """Read a model written by :meth:`save`."""
        d = json.loads(Path(path).read_text())
        return cls(preset=str(d["preset"]), profile=tuple(float(x) for x in d["profile"]),
                   kappa=float(d["kappa"]), tau2=float(d["tau2"]), seeds=int(d["seeds"]))

    def _var(self, m: np.ndarray) -> np.ndarray:
        return self.kappa * m + self.tau2 * m * m

    def posterior(
        self,
        history: np.ndarray,
        forecast: np.ndarray,
        k: int,
        rel_error: float,
        per_slot: bool,
    ) -> np.ndarray:
        """Posterior-mean demand of slots ``k .. k+h-1`` of every cell [bit per slot].

        Parameters
        ----------
        history : ndarray, shape (C, k)
            Realised demand of the past slots [bit].
        forecast : ndarray, shape (C, h)
            The predictor's forecasts of slots ``k .. k+h-1`` [bit].
        k : int
            Current slot (``k + h <= K``).
        rel_error : float
            Relative standard deviation of the forecasts' multiplicative error, >= 0.
        per_slot : bool
            True when each slot's forecast carries information about that slot (the
            ``noisy-truth`` predictor); False for flat extrapolating predictors (EWMA, naive,
            LSTM), whose forecasts only inform the level.

        Returns
        -------
        ndarray, shape (C, h)
            Forecasts to plan on, >= 0.
        """
        hist = np.asarray(history, dtype=float)
        fc = np.asarray(forecast, dtype=float)
        C, h = fc.shape  # noqa: N806
        if hist.shape != (C, k):
            raise ValueError(f"history must have shape ({C}, {k}), got {hist.shape}")
        if k + h > self.K:
            raise ValueError(f"slots {k}..{k + h - 1} exceed the model's profile of {self.K} slots")
        if not (np.isfinite(rel_error) and rel_error >= 0):
            raise ValueError(f"rel_error must be finite and >= 0, got {rel_error}")
        if per_slot and rel_error == 0:
            return fc.copy()
        p = np.asarray(self.profile, dtype=float)
        p_hist, p_fut = p[:k], p[k : k + h]
        e2 = rel_error * rel_error
        # samples of the level: x / p with variance Var(x) / p^2
        xs = np.concatenate([hist, fc], axis=1) / np.concatenate([p_hist, p_fut])[None, :]
        pp = np.concatenate([p_hist, p_fut])[None, :]
        is_fc = np.zeros(k + h, dtype=bool)
        is_fc[k:] = True
        if not per_slot and k > 0:
            # flat forecasts are a function of the history: only the history informs the level
            use = ~is_fc
        else:
            use = np.ones(k + h, dtype=bool)
        x_u, p_u, f_u = xs[:, use], pp[:, use], is_fc[use]
        level = np.maximum(x_u.mean(axis=1), 1e-9)
        for _ in range(2):
            m = level[:, None] * p_u
            var = self._var(m) + np.where(f_u[None, :], e2 * m * m, 0.0)
            wgt = p_u * p_u / np.maximum(var, 1e-300)
            level = np.maximum((wgt * x_u).sum(axis=1) / wgt.sum(axis=1), 0.0)
        var_level = 1.0 / np.maximum(wgt.sum(axis=1), 1e-300)  # (C,)
        prior = level[:, None] * p_fut[None, :]
        if not per_slot:
            return prior
        v_prior = self._var(prior) + var_level[:, None] * p_fut[None, :] ** 2
        v_fc = e2 * np.maximum(prior, 1e-9) ** 2
        post = (fc / v_fc + prior / np.maximum(v_prior, 1e-300)) / (1.0 / v_fc + 1.0 / np.maximum(v_prior, 1e-300))
        return np.maximum(post, 0.0)


def demand_matrix(preset: str, seed: int, overrides: list[str] | None = None) -> np.ndarray:
    """Realised demand per cell and slow slot of a scenario, shape (C, K) [bit]."""
    from leo_env.scenario.build import make_scenario

    sc = make_scenario(preset, seed=int(seed), overrides=list(overrides or []))
    return np.asarray(sc.a, dtype=float).sum(axis=2)


def fit_demand_model(
    preset: str, seeds: int = 64, first_seed: int = 0, overrides: list[str] | None = None
) -> DemandModel:
    """Fit :class:`DemandModel` on the realised demand of training scenarios ``first_seed ..``.

    The profile is the mean over cells and scenarios of each slot's demand relative to the
    cell's episode mean; ``kappa`` and ``tau2`` are the non-negative least-squares fit of the
    squared residuals ``(d - level p)^2`` on ``(m, m^2)``.

    Parameters
    ----------
    preset : str
        Scenario preset.
    seeds : int
        Number of training scenarios, >= 1 (training split: seeds below ``2**30``).
    first_seed : int
        First training seed, >= 0.
    overrides : list of str, optional
        Scenario overrides.
    """
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    if first_seed < 0 or first_seed + seeds > 2**30:
        raise ValueError(f"training seeds must lie in [0, 2**30), got {first_seed}..{first_seed + seeds - 1}")
    mats = [demand_matrix(preset, s, overrides) for s in range(first_seed, first_seed + seeds)]
    d = np.concatenate(mats, axis=0)
    d = d[d.sum(axis=1) > 0]
    if d.size == 0:
        raise ValueError(f"preset {preset!r} has no demand on the training seeds")
    rel = d / d.mean(axis=1, keepdims=True)
    profile = rel.mean(axis=0)
    profile = profile / profile.mean()
    level = (d / profile[None, :]).mean(axis=1)
    m = level[:, None] * profile[None, :]
    r2 = ((d - m) ** 2).ravel()
    from scipy.optimize import nnls

    A = np.stack([m.ravel(), (m * m).ravel()], axis=1)  # noqa: N806
    norm = np.linalg.norm(A, axis=0)
    coef, _ = nnls(A / norm[None, :], r2)
    kappa, tau2 = float(coef[0] / norm[0]), float(coef[1] / norm[1])
    return DemandModel(preset=str(preset), profile=tuple(float(x) for x in profile), kappa=kappa,
                       tau2=tau2, seeds=int(seeds))


N_PRICE_FEATURES = 14


def price_features(problem: Any) -> np.ndarray:
    """Per-pool features of a coupled-proxy problem, shape (S, K, 14).

    For every satellite and slot, sums over the cells that see it of: the share each needs
    (``w = D / R``, clipped at 5), the same split over the cell's visible satellites, the share
    of cells with a single visible satellite, the share of cells for which it is the cheapest
    satellite, the counts of visible and cheapest cells, and ``min(1, w)`` split over the
    visible satellites; then the same seven averaged over slots ``k-2 .. k+2``.
    """
    vis = problem.vis & (problem.cand[:, :, None] >= 0)
    w = np.where(vis, np.minimum(np.nan_to_num(problem.w, nan=0.0, posinf=5.0), 5.0), 0.0)
    nv = np.maximum(vis.sum(axis=1, keepdims=True), 1)
    wb = np.where(vis, w, np.inf)
    best = (wb == wb.min(axis=1, keepdims=True)) & vis
    cols = [w, w / nv, w * (nv == 1), w * best, vis * 1.0, best * 1.0, np.minimum(w, 1.0) / nv]
    S, K = problem.S, problem.K  # noqa: N806
    F = np.zeros((S, K, len(cols)))  # noqa: N806
    for j, col in enumerate(cols):
        F[:, :, j] = problem.scatter(col).sum(axis=1)
    pad = np.pad(F, ((0, 0), (2, 2), (0, 0)), mode="edge")
    smooth = np.mean([pad[:, i : i + K] for i in range(5)], axis=0)
    return np.concatenate([F, smooth], axis=2)


class PriceModel:
    """Learned pool prices: a small MLP from :func:`price_features` to the Lagrangian prices.

    Trained by :func:`fit_price_model` on the best dual prices ``pi[s, k]`` that
    :func:`oracles.p2.solve` (``method="lagrangian"``, default settings) finds on training
    problems; used to warm-start the planner's subgradient iterations.
    """

    def __init__(self, state: dict[str, Any]) -> None:
        import torch as th

        self.mu = np.asarray(state["mu"], dtype=np.float32)
        self.sd = np.asarray(state["sd"], dtype=np.float32)
        self.net = _price_net()
        self.net.load_state_dict({k: th.as_tensor(np.asarray(v)) for k, v in state["net"].items()})
        self.net.eval()
        self.W = [p.detach().numpy().astype(float) for p in self.net.parameters()]
        self.info = dict(state.get("info", {}))

    def predict(self, problem: Any) -> np.ndarray:
        """Prices (S, K) >= 0 (numpy forward pass; no torch call on the decision path)."""
        f = price_features(problem).reshape(-1, N_PRICE_FEATURES)
        x = (f - self.mu) / self.sd
        w1, b1, w2, b2, w3, b3 = self.W
        hdn = np.tanh(x @ w1.T + b1)
        hdn = np.tanh(hdn @ w2.T + b2)
        z = (hdn @ w3.T + b3)[:, 0]
        out = np.logaddexp(0.0, z)  # softplus
        return out.reshape(problem.S, problem.K)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write weights and normalisation as JSON (atomically)."""
        state = {"mu": self.mu.tolist(), "sd": self.sd.tolist(),
                 "net": {k: v.detach().numpy().tolist() for k, v in self.net.state_dict().items()},
                 "info": self.info}
        return atomic_write_json(path, state)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PriceModel:
        """Read a model written by :meth:`save`."""
        return cls(json.loads(Path(path).read_text()))


def _price_net() -> Any:
    from torch import nn

    return nn.Sequential(nn.Linear(N_PRICE_FEATURES, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                         nn.Linear(32, 1), nn.Softplus())


def _forecast_problem(sc: Any, d_pred: np.ndarray, k: int = 0, initial: np.ndarray | None = None,
                      budget_left: np.ndarray | None = None) -> Any:
    from oracles import p2

    a_pred = np.repeat(np.asarray(d_pred, dtype=float)[:, :, None] / sc.M, sc.M, axis=2)
    return p2.Problem.from_arrays(
        sc.v[:, :, k:], sc.g[:, :, k:], a_pred, sc.H,
        N_PRB=sc.N_PRB, P_max=sc.P_max, W_PRB=sc.W_PRB, N0=sc.N0, T_f=sc.T_f,
        eps=sc.eps, lambda_h=sc.lambda_h, proxy="coupled", initial=initial, budget_left=budget_left,
    )


def fit_price_model(
    preset: str, demand: DemandModel, seeds: int = 40, errors: tuple[float, ...] = (0.05, 0.1, 0.2),
    epochs: int = 300, seed: int = 0, first_seed: int = 0,
) -> PriceModel:
    """Fit :class:`PriceModel` on Lagrangian prices of training problems.

    For every training scenario ``first_seed .. first_seed+seeds-1`` and forecast error ``e`` in ``errors``, the
    episode's problem is built on the demand model's posterior forecasts (noisy-oracle
    forecasts with error ``e``, and flat causal forecasts from the scenario's slot-0 expected
    demand), solved with the Lagrangian method (default settings, ``record=True``) and its best
    prices become the regression targets (mean-squared error, Adam, full determinism from
    ``seed``).
    """
    import time

    import torch as th

    from leo_env.scenario.build import make_scenario
    from oracles import p2

    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    if first_seed < 0 or first_seed + seeds > 2**30:
        raise ValueError(f"training seeds must lie in [0, 2**30), got {first_seed}..{first_seed + seeds - 1}")
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    t0 = time.perf_counter()
    for s in range(first_seed, first_seed + seeds):
        sc = make_scenario(preset, seed=s)
        d = np.asarray(sc.a, dtype=float).sum(axis=2)
        cases = [(e, True) for e in errors] + [(max(errors), False)]
        for e, per_slot in cases:
            fac = np.maximum(0.0, 1.0 + e * rng.standard_normal(d.shape))
            fc = d * fac if per_slot else (np.asarray(sc.demand_rate, dtype=float)[:, :1] * sc.M) * fac
            post = demand.posterior(d[:, :0], fc, 0, e, per_slot)
            prob = _forecast_problem(sc, post)
            res = p2.solve(prob, method="lagrangian", record=True)
            xs.append(price_features(prob).reshape(-1, N_PRICE_FEATURES))
            ys.append(np.asarray(res.info["pi"], dtype=float).reshape(-1))
    t_data = time.perf_counter() - t0
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    th.manual_seed(seed)
    net = _price_net()
    opt = th.optim.Adam(net.parameters(), lr=3e-3)
    xt = th.as_tensor((x - mu) / sd, dtype=th.float32)
    yt = th.as_tensor(y, dtype=th.float32)
    gen = th.Generator().manual_seed(seed)
    for _ in range(int(epochs)):
        perm = th.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 256):
            b = perm[i : i + 256]
            loss = ((net(xt[b])[:, 0] - yt[b]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    with th.no_grad():
        rmse = float(th.sqrt(((net(xt)[:, 0] - yt) ** 2).mean()))
    info = {"preset": preset, "seeds": int(seeds), "first_seed": int(first_seed), "seed": int(seed), "errors": list(errors), "samples": int(len(y)),
            "train_rmse": rmse, "target_std": float(y.std()), "data_s": t_data,
            "train_s": time.perf_counter() - t0 - t_data}
    state = {"mu": mu, "sd": sd, "net": {k: v.detach().numpy() for k, v in net.state_dict().items()},
             "info": info}
    return PriceModel(state)


def _path_value(problem: Any, path_l: np.ndarray) -> float:
    from oracles.p2.result import score_path

    return float(score_path(problem, path_l)[0])


def plan_from_prices(
    problem: Any, pi0: np.ndarray, iters: int = 40, rounds: int = 3, passes: int = 20,
    theta0: float = 1.0, patience: int = 10, seed: int = 0, warm: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Coupled-proxy plan from warm-start prices: subgradient steps, then price-guided search.

    ``iters`` projected-subgradient steps on the dual (Polyak steps against the best primal,
    :func:`oracles.p2.lagrangian.dual_value`) start from ``pi0``; every budget-feasible DP
    association is a primal candidate, as are price-charged greedy insertion and the warm start.
    The best primal is then improved by best-response local search and ``rounds`` price-guided
    perturbation rounds (:func:`oracles.p2.lagrangian.local_search` with the best prices charged,
    then without), as in the Lagrangian solver's primal recovery.

    Returns
    -------
    path_l : ndarray of int, shape (C, K)
        Candidate index per cell and slot (budget- and visibility-feasible).
    info : dict
        ``bound`` (best dual value), ``objective``, ``iterations``.
    """
    from oracles.p2.lagrangian import dual_value, local_search

    S, K = problem.S, problem.K  # noqa: N806
    order = np.argsort(-problem.D.sum(axis=1), kind="stable")
    pi = np.maximum(np.asarray(pi0, dtype=float), 0.0)
    usable = np.zeros((S, K), bool)
    cc, ll, kk = np.nonzero(problem.vis & (problem.w > 0) & np.isfinite(problem.w))
    usable[problem.cand[cc, ll], kk] = True
    pi = np.where(usable, pi, 0.0)
    unplaced = np.full((problem.C, K), -1, np.int64)
    starts = []
    ins, _, _ = local_search(problem, unplaced, max_passes=1, order=order, price=pi)
    starts.append(ins)
    if warm is not None:
        starts.append(warm)
    best_path: np.ndarray = starts[0]
    best_primal = -np.inf
    for st in starts:
        pth, _, _ = local_search(problem, st, max_passes=passes)
        v = _path_value(problem, pth)
        if v > best_primal:
            best_path, best_primal = pth, v
    best_bound, best_pi, theta, since = np.inf, pi.copy(), float(theta0), 0
    it = 0
    for it in range(1, int(iters) + 1):  # noqa: B007
        val, path, usage = dual_value(problem, pi)
        if val < best_bound - 1e-12:
            best_bound, best_pi, since = val, pi.copy(), 0
        else:
            since += 1
            if since >= patience:
                theta, since = theta * 0.5, 0
        if np.all(path >= 0):
            pv = _path_value(problem, path)
            if pv > best_primal:
                best_path, best_primal = path, pv
        g = np.where(usable, 1.0 - usage, 0.0)
        g = np.where((pi <= 0) & (g > 0), 0.0, g)
        nrm = float((g * g).sum())
        if nrm <= 1e-18:
            break
        step = theta * max(val - best_primal, 1e-9 * max(1.0, abs(val))) / nrm
        pi = np.maximum(0.0, pi - step * g)
    if iters > 0:
        ins, _, _ = local_search(problem, unplaced, max_passes=1, order=order, price=best_pi)
        ins, _, _ = local_search(problem, ins, max_passes=passes)
        v = _path_value(problem, ins)
        if v > best_primal:
            best_path, best_primal = ins, v
    best_path, _, _ = local_search(problem, best_path, max_passes=passes)
    best_primal = _path_value(problem, best_path)
    rng = np.random.default_rng(seed)
    for r in range(int(rounds)):
        noise = 1.0 if r == 0 else np.exp(rng.normal(0.0, 0.5, best_pi.shape))
        cand, _, _ = local_search(problem, best_path, max_passes=passes, price=noise * best_pi, charge_placed=True)
        cand, _, _ = local_search(problem, cand, max_passes=passes)
        v = _path_value(problem, cand)
        if v > best_primal + 1e-9:
            best_path, best_primal = cand, v
    return best_path, {"bound": best_bound, "objective": best_primal, "iterations": it, "pi": best_pi}


def default_model_path(preset: str) -> Path:
    """``runs/planner/<preset>_demand.json`` under the repository root."""
    return ROOT / "runs" / "planner" / f"{Path(preset).stem}_demand.json"


def _follow(policy: Policy, env: gym.Env[Any, Any], sats: np.ndarray) -> np.ndarray:
    """Candidate indices selecting ``sats``; cells where the masks refuse fall back to B0."""
    from leo_env.envs.downlink.policies import GreedyPolicy

    u: Any = env.unwrapped
    action, ok = u.actions_for(sats)
    if not ok.all():
        policy.stats["fallbacks"] = policy.stats.get("fallbacks", 0) + int((~ok).sum())
        action = np.where(ok, action, GreedyPolicy().act({}, env))
    return action


class PlannerPolicy(Policy):
    """Plan the rest of the episode on the learned posterior forecasts (see module doc).

    Parameters
    ----------
    mode : {"prices", "lagrangian", "mpc", "search"}
        How plans are made.  ``"prices"``: at the first slot, :func:`plan_from_prices` warm-started
        with the learned :class:`PriceModel` (``iters`` subgradient steps), then the plan is
        followed (re-planned the same way only when the environment refuses a planned
        satellite).  ``"lagrangian"``: the same with the full Lagrangian solver
        (:func:`oracles.p2.solve`, ``solver_options``) for the first plan.  ``"mpc"``: the
        Lagrangian solver every slot (B2 on the posterior forecasts; slow, a reference).
        ``"search"``: greedy insertion + best-response local search, re-planned every slot
        warm-started from the previous plan.
    denoise : bool
        Plan on the demand model's posterior forecasts (True) or on the raw forecasts (False).
    demand_model, price_model : model, path or None
        The learned models; None: the preset's files under ``runs/planner/`` (fitted and saved
        on first use, see :func:`fit_models`).
    price_seed : int
        With ``price_model=None``: the training seed of the preset's price model
        (:func:`default_price_path`), >= 0.
    iters : int
        Subgradient steps of ``mode="prices"`` from the learned prices.
    refine_iters : int
        ``mode="prices"``: then the Lagrangian solver (:func:`oracles.p2.solve`) refines that
        plan (its initial primal, prices starting at the plan's water-filling multipliers) with
        this many subgradient iterations (0: no refinement); the better plan is kept.
    solver_options : dict, optional
        Options of the Lagrangian solver (``mode="lagrangian"`` / ``"mpc"``).
    passes : int
        Local-search passes per slot of ``mode="search"``.
    """

    name = "planner"
    MODES = ("prices", "lagrangian", "mpc", "search")

    def __init__(
        self,
        mode: str = "prices",
        denoise: bool = True,
        demand_model: DemandModel | str | os.PathLike[str] | None = None,
        price_model: PriceModel | str | os.PathLike[str] | None = None,
        iters: int = 20,
        refine_iters: int = 80,
        solver_options: dict[str, Any] | None = None,
        passes: int = 2,
        price_seed: int = 0,
    ) -> None:
        super().__init__()
        if price_seed < 0:
            raise ValueError(f"price_seed must be >= 0, got {price_seed}")
        self.price_seed = int(price_seed)
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        if iters < 0:
            raise ValueError(f"iters must be >= 0, got {iters}")
        if refine_iters < 0:
            raise ValueError(f"refine_iters must be >= 0, got {refine_iters}")
        self.refine_iters = int(refine_iters)
        if passes < 1:
            raise ValueError(f"passes must be >= 1, got {passes}")
        self.mode, self.denoise, self.iters, self.passes = mode, bool(denoise), int(iters), int(passes)
        self.solver_options = dict(solver_options or {})
        self._dm_arg, self._pm_arg = demand_model, price_model
        self.demand_model: DemandModel | None = demand_model if isinstance(demand_model, DemandModel) else None
        self.price_model: PriceModel | None = price_model if isinstance(price_model, PriceModel) else None
        self.plan: np.ndarray | None = None  # satellites (C, K - plan_k0) from slot plan_k0
        self.plan_k0 = 0

    # ------------------------------------------------------------------ models
    def _models(self, u: Any) -> None:
        preset = str(u.env_params.preset or u.scenario.name)
        if self.denoise and self.demand_model is None:
            dm = self._dm_arg
            path = default_model_path(preset) if dm is None or isinstance(dm, DemandModel) else Path(dm)
            if not path.exists():
                fit_models(preset)
            self.demand_model = DemandModel.load(path)
        if self.mode == "prices" and self.price_model is None:
            pm = self._pm_arg
            if pm is None or isinstance(pm, PriceModel):
                path = default_price_path(preset, self.price_seed)
            else:
                path = Path(pm)
            if not path.exists():
                fit_models(preset, seed=self.price_seed)
            self.price_model = PriceModel.load(path)

    def reset(self, env: gym.Env[Any, Any]) -> None:
        """Forget the previous episode's plan (and load the models on first use)."""
        super().reset(env)
        self.plan = None
        self.plan_k0 = 0
        self._models(env.unwrapped)

    def forecasts(self, u: Any) -> np.ndarray:
        """Demand to plan on for slots ``k .. K-1``, shape (C, K-k) [bit]."""
        sc = u.scenario
        k = u.k
        fc = u.forecast(sc.K - k)
        if not self.denoise:
            return fc
        assert self.demand_model is not None
        hist = np.asarray(sc.a[:, :k, :], dtype=float).sum(axis=2)  # realised demand of past slots
        return self.demand_model.posterior(hist, fc, k, float(u.env_params.prediction_error),
                                           per_slot=not bool(u.params.flat_forecast))

    # ------------------------------------------------------------------ acting
    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """The plan's satellites for the current slot (planning first when needed)."""
        u: Any = env.unwrapped
        k = u.k
        if self.plan is not None and self.mode in ("prices", "lagrangian"):
            action, ok = u.actions_for(self.plan[:, k - self.plan_k0])
            if ok.all():
                return action
            self.stats["replans"] = self.stats.get("replans", 0) + 1
        self._replan(u)
        assert self.plan is not None
        return _follow(self, env, self.plan[:, 0])

    def _replan(self, u: Any) -> None:
        from oracles import p2
        from oracles.p2.lagrangian import local_search

        sc = u.scenario
        k = u.k
        problem = _forecast_problem(sc, self.forecasts(u), k, u.association, u.budget_left)
        warm = None
        if self.plan is not None:
            warm = _drop_infeasible(problem, problem.l_from_assoc(self.plan[:, k - self.plan_k0 :]))
        if self.mode in ("lagrangian", "mpc"):
            res = p2.solve(problem, method="lagrangian", **self.solver_options)
            if res.feasible:
                self.plan, self.plan_k0 = np.asarray(res.assoc), k
                return
            self.stats["infeasible_plans"] = self.stats.get("infeasible_plans", 0) + 1
        if self.mode == "prices":
            assert self.price_model is not None
            ok_warm = None if warm is None or np.any(warm < 0) else warm
            path, info = plan_from_prices(problem, self.price_model.predict(problem), iters=self.iters, warm=ok_warm)
            self.stats["dual_iterations"] = self.stats.get("dual_iterations", 0) + int(info["iterations"])
            if self.refine_iters > 0:
                # subgradient only: the refinement wants a primal; column generation (the
                # solver's default above a 1 % gap) would only tighten the bound, at ~20 s on stress
                res = p2.solve(problem, method="lagrangian", init=problem.assoc_from_l(path),
                               price_init="waterfill", max_iter=self.refine_iters, dual="subgradient")
                if res.feasible and res.objective > info["objective"]:
                    path = problem.l_from_assoc(np.asarray(res.assoc))
                self.stats["dual_iterations"] += int(res.info.get("iterations", 0))
        else:
            path0 = np.full((sc.C, sc.K - k), -1, np.int64) if warm is None else warm
            path, _, _ = local_search(problem, path0, max_passes=self.passes if warm is not None else 20)
        self.plan, self.plan_k0 = problem.assoc_from_l(path), k


def _drop_infeasible(problem: Any, path_l: np.ndarray) -> np.ndarray:
    """Rows of a warm start that break visibility or the budget become -1 (to be re-inserted)."""
    path_l = np.array(path_l, dtype=np.int64)
    C, K = path_l.shape  # noqa: N806
    bad: np.ndarray = np.asarray((path_l < 0).any(axis=1), dtype=bool)
    rows = np.nonzero(~bad)[0]
    if rows.size:
        vis = problem.vis[rows[:, None], path_l[rows], np.arange(K)[None, :]]
        bad[rows] |= ~vis.all(axis=1)
    init = problem.init_l
    first = (init != -1) & (path_l[:, 0] != init)
    ho = (np.diff(path_l, axis=1) != 0).sum(axis=1) + first
    bad |= ho > problem.budget
    path_l[bad] = -1
    return path_l


def _named(policy: PlannerPolicy, name: str) -> PlannerPolicy:
    policy.name = name
    return policy


def make_planner() -> PlannerPolicy:
    """``planner``: learned posterior + learned prices (20 steps) + 80 Lagrangian iterations, followed."""
    return _named(PlannerPolicy(mode="prices"), "planner")


def make_planner_seed1() -> PlannerPolicy:
    """``planner-s1``: ``planner`` with the price model of training seed 1 (``*_prices_seed1.json``)."""
    return _named(PlannerPolicy(mode="prices", price_seed=1), "planner-s1")


def make_planner_seed2() -> PlannerPolicy:
    """``planner-s2``: ``planner`` with the price model of training seed 2 (``*_prices_seed2.json``)."""
    return _named(PlannerPolicy(mode="prices", price_seed=2), "planner-s2")


def make_planner_fast() -> PlannerPolicy:
    """``planner-fast``: learned posterior + learned prices, 20 subgradient steps, no refinement."""
    return _named(PlannerPolicy(mode="prices", refine_iters=0), "planner-fast")


def make_planner_lagrangian() -> PlannerPolicy:
    """``planner-lag``: learned demand posterior, full Lagrangian plan once, followed."""
    return _named(PlannerPolicy(mode="lagrangian"), "planner-lag")


def make_planner_raw() -> PlannerPolicy:
    """``planner-raw``: ``planner`` on the raw forecasts (ablation of the demand model)."""
    return _named(PlannerPolicy(mode="prices", denoise=False), "planner-raw")


def make_planner_lagrangian_raw() -> PlannerPolicy:
    """``planner-lag-raw``: as ``planner-lag`` on the raw forecasts (what the demand model adds)."""
    return _named(PlannerPolicy(mode="lagrangian", denoise=False), "planner-lag-raw")


def make_planner_mpc() -> PlannerPolicy:
    """``mpc-post``: B2 (Lagrangian every slot) on the learned posterior forecasts (slow reference)."""
    return _named(PlannerPolicy(mode="mpc"), "mpc-post")


def default_price_path(preset: str, seed: int = 0) -> Path:
    """``runs/planner/<preset>_prices.json`` (training seed 0) or ``<preset>_prices_seed<seed>.json``."""
    suffix = f"_seed{seed}" if seed else ""
    return ROOT / "runs" / "planner" / f"{Path(preset).stem}_prices{suffix}.json"


def fit_models(
    preset: str, seeds: int = 64, price_seeds: int = 40, epochs: int = 300, seed: int = 0
) -> tuple[Path, Path]:
    """Fit and save the demand model and the price model of a preset (default paths).

    ``seed > 0`` fits the price model on training scenarios ``1000 * seed ..`` with that seed
    and saves it as ``<preset>_prices_seed<seed>.json`` (the demand model is refitted and saved
    only when missing).
    """
    import torch as th

    th.set_num_threads(1)
    p1 = default_model_path(preset)
    if seed == 0 or not p1.exists():
        dm = fit_demand_model(preset, seeds)
        dm.save(p1)
    dm = DemandModel.load(p1)
    path = default_price_path(preset, seed)
    pm = fit_price_model(preset, dm, seeds=price_seeds, epochs=epochs, seed=seed, first_seed=1000 * seed)
    return p1, pm.save(path)


def main(argv: list[str] | None = None) -> int:
    """``python -m agents.planner fit --preset P [--seeds N --price-seeds N --epochs N]``."""
    ap = argparse.ArgumentParser(description="Fit the planner's demand and price models.")
    ap.add_argument("command", choices=["fit"])
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--seeds", type=int, default=64, help="training scenarios of the demand model")
    ap.add_argument("--price-seeds", type=int, default=40, help="training scenarios of the price model")
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0,
                    help="training seed of the price model (>0: scenarios from 1000*seed, file *_prices_seed<N>.json)")
    args = ap.parse_args(argv)
    p_dm, p_pm = fit_models(args.preset, args.seeds, args.price_seeds, args.epochs, args.seed)
    print(f"saved {p_dm} and {p_pm}: {PriceModel.load(p_pm).info}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
