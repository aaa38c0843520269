"""Trained multiorbit agents as :class:`leo_env.policies.Policy` objects, and policy lookup.

:func:`make_policy` turns an ``evaluate.policies`` entry into a policy: a built-in name of
:data:`agents.multiorbit.config.BUILTIN_POLICIES` (DV-MOSS and the baselines of
:mod:`leo_env.envs.multiorbit.policies`) or a run folder written by
:func:`agents.multiorbit.training.train` (the agent is rebuilt from its ``config.yaml`` and only
tensors are loaded, after the digest check of :mod:`agents.trust`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th

from agents.multiorbit.config import BUILTIN_POLICIES, load_config
from agents.multiorbit.features import association_load, candidate_tokens, canonical, pair_features
from agents.multiorbit.models import AssocCritic, AssocNet, SelectorNet
from leo_env.policies import Policy

__all__ = ["SelectorPolicy", "WolpertingerSelectPolicy", "AssocBCPolicy", "WolpertingerAssocPolicy", "MaskablePPOAssocPolicy", "make_policy"]


class SelectorPolicy(Policy):
    """BC selector on ``MultiOrbitSelect-v0``: serve the candidates above a probability threshold.

    Scores ``tanh(logit - logit(threshold))``: the env serves the positive ones, at most
    ``k_max`` (the threshold is calibrated on validation label seeds at training time).
    """

    def __init__(self, net: SelectorNet, name: str = "bc-select", threshold: float = 0.5) -> None:
        super().__init__()
        self.net = net.eval()
        self.name = name
        self.shift = float(np.log(threshold / (1.0 - threshold)))

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """Score per candidate (the env serves the positive ones, at most ``k_max``)."""
        c = canonical(obs)
        with th.inference_mode():
            z = self.net(th.as_tensor(candidate_tokens(c)), th.as_tensor(c["mask"]))[0].numpy()
        return np.where(c["mask"][0] > 0, np.tanh(z - self.shift), -1.0).astype(np.float32)


class WolpertingerSelectPolicy(SelectorPolicy):
    """Wolpertinger subset selection: BC scores as the proto-action, a learned subset critic picks.

    Per candidate the choices "serve" (+1) and "not" (-1); the proto-action is ``2 sigma(z) - 1``;
    the ``k`` subsets nearest to it (squared distance, exact by
    :func:`leo_env.wrappers.wolpertinger.k_nearest_actions`) with ``1 <= |A| <= k_max`` are
    valued by the critic in one batch and the best is served.
    """

    def __init__(self, net: SelectorNet, critic: AssocCritic, k_max: int, k: int = 16, name: str = "wolpertinger-select",
                 threshold: float = 0.5) -> None:
        super().__init__(net, name, threshold)
        self.critic = critic.eval()
        self.k_max = int(k_max)
        self.k = int(k)

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """Scores serving the critic's best of the nearest subsets."""
        from agents.multiorbit.features import subset_load
        from leo_env.wrappers.wolpertinger import k_nearest_actions

        c = canonical(obs)
        tok = candidate_tokens(c)
        m = c["mask"][0] > 0
        with th.inference_mode():
            z = self.net(th.as_tensor(tok), th.as_tensor(c["mask"]))[0].numpy()
        z = z - self.shift
        proto = np.where(m, np.tanh(z / 2.0), -1.0)  # = 2 sigmoid(z) - 1
        costs = np.stack([(proto + 1.0) ** 2, (proto - 1.0) ** 2], axis=1)  # choice 0: out, 1: in
        allowed = np.ones_like(costs, dtype=bool)
        allowed[~m, 1] = False
        acts, _ = k_nearest_actions(costs, allowed, 2 * self.k)
        size = acts.sum(axis=1)
        acts = acts[(size >= 1) & (size <= self.k_max)][: self.k]
        if acts.shape[0] == 0:
            return np.where(m, np.tanh(z), -1.0).astype(np.float32)
        n = acts.shape[0]
        cc = {"visible": np.repeat(c["visible"], n, axis=0), "mask": np.repeat(c["mask"], n, axis=0)}
        load, glob = subset_load(cc, acts, self.k_max)
        with th.inference_mode():
            q = self.critic(th.as_tensor(np.repeat(tok, n, axis=0)), th.as_tensor(cc["mask"]), th.as_tensor(load),
                            th.as_tensor(glob)).numpy()
        best = acts[int(q.argmax())]
        return np.where(best > 0, 1.0, -1.0).astype(np.float32)


class AssocBCPolicy(Policy):
    """BC association: each UE's most likely choice (masked to its cone)."""

    def __init__(self, net: AssocNet, name: str = "bc-assoc") -> None:
        super().__init__()
        self.net = net.eval()
        self.name = name

    def logits(self, obs: Any) -> np.ndarray:
        """(U, S+1) logits of one observation."""
        c = canonical(obs)
        with th.inference_mode():
            return self.net(th.as_tensor(candidate_tokens(c)), th.as_tensor(c["mask"]), th.as_tensor(pair_features(c)))[0].numpy()

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """MultiDiscrete action (0: unserved, i + 1: candidate i)."""
        return self.logits(obs).argmax(axis=1).astype(np.int64)


class WolpertingerAssocPolicy(AssocBCPolicy):
    """Wolpertinger action selection with the BC actor and the learned critic.

    The actor's per-UE probabilities are the proto-action; the ``k`` valid joint actions
    nearest to it in the one-hot embedding (``||e_a - p||^2 = const - 2 sum_u p_u[a_u]``) are
    found exactly by :func:`leo_env.wrappers.wolpertinger.k_nearest_actions`, and the critic
    (one-step value: slots are independent) picks the best of them.
    """

    def __init__(self, net: AssocNet, critic: AssocCritic, k: int = 16, name: str = "wolpertinger-assoc") -> None:
        super().__init__(net, name)
        self.critic = critic.eval()
        self.k = int(k)

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """Best of the ``k`` nearest joint actions by the critic."""
        from leo_env.wrappers.wolpertinger import k_nearest_actions

        z = self.logits(obs)
        valid = z > -1e8
        p = np.exp(z - z.max(axis=1, keepdims=True)) * valid
        p /= p.sum(axis=1, keepdims=True)
        acts, _ = k_nearest_actions(-2.0 * p, valid, self.k)  # (k', U) in 0..S
        c = canonical(obs)
        n = acts.shape[0]
        cc = {k: np.repeat(c[k], n, axis=0) for k in ("gain", "visible", "mask")}
        load, glob = association_load(cc, acts - 1)
        tok = np.repeat(candidate_tokens(c), n, axis=0)
        with th.inference_mode():
            q = self.critic(th.as_tensor(tok), th.as_tensor(cc["mask"]), th.as_tensor(load), th.as_tensor(glob)).numpy()
        self.stats["critic_choice_not_argmax"] = self.stats.get("critic_choice_not_argmax", 0) + int(q.argmax() != 0)
        return acts[int(q.argmax())].astype(np.int64)


class MaskablePPOAssocPolicy(Policy):
    """A trained MaskablePPO model, deterministic, with the env's masks."""

    def __init__(self, model: Any, name: str = "maskppo-assoc") -> None:
        super().__init__()
        self.model = model
        self.name = name

    def act(self, obs: Any, env: gym.Env[Any, Any]) -> np.ndarray:
        """Most likely valid action."""
        act, _ = self.model.predict(obs, action_masks=env.unwrapped.action_masks(), deterministic=True)  # type: ignore[attr-defined]
        return np.asarray(act, dtype=np.int64)


def _builtin(name: str, kind: str, seed: int) -> Policy:
    from leo_env.envs.multiorbit import policies as P

    if kind == "select":
        table: dict[str, Any] = {
            "dv-moss": lambda: P.DvMossSelectPolicy(seed),
            "eps-markov": lambda: P.EpsMarkovSelectPolicy(seed),
            "k-nearest": lambda: P.KNearestSelectPolicy(10**6),
            "2-nearest": lambda: P.KNearestSelectPolicy(2),
            "k-random": lambda: P.KRandomSelectPolicy(10**6, seed),
        }
    else:
        table = {
            "dv-moss-assoc": lambda: P.DvMossAssocPolicy(seed),
            "jubpa-assoc": lambda: P.JubpaAssocPolicy(),
            "best-gain": lambda: P.BestGainAssocPolicy(),
        }
    pol = table[name]()
    if name in ("k-nearest", "k-random"):
        pol.name = f"{name} (k = k_max)"
    return pol


def make_policy(spec: str, kind: str, seed: int = 0, trust: bool = False, wolpertinger_k: int = 16) -> Policy:
    """A policy for ``evaluate.policies`` entry ``spec`` on the ``kind`` env (``select``/``assoc``).

    ``spec``: a built-in name, a run folder, or ``<run folder>#actor`` (the behaviour-cloned
    network of a Wolpertinger or MaskablePPO run on its own, i.e. the BC agent).
    """
    from agents.multiorbit.training import build_models, load_weights

    if spec in BUILTIN_POLICIES[kind]:
        return _builtin(spec, kind, seed)
    actor_only = spec.endswith("#actor")
    run = Path(spec.removesuffix("#actor"))
    if not (run / "config.yaml").exists():
        raise ValueError(f"policy {spec!r}: not a built-in of the {kind} env {BUILTIN_POLICIES[kind]} nor a run folder")
    cfg = load_config(run / "config.yaml")
    if cfg.env_kind != kind:
        raise ValueError(f"run {spec} trained agent {cfg.agent!r} (the {cfg.env_kind} env), not for the {kind} env")
    models = build_models(cfg)
    weights = load_weights(run / "model.pt", run, trust)
    for key, m in models.items():
        m.load_state_dict(weights[key])
    tau = float(weights["threshold"]) if "threshold" in weights else 0.5
    name = run.name + ("#actor" if actor_only else "")
    if cfg.agent == "bc-select" or (actor_only and cfg.env_kind == "select"):
        return SelectorPolicy(models["bc"], name, tau)  # type: ignore[arg-type]
    if cfg.agent == "wolpertinger-select":
        from leo_env.envs.multiorbit.params import SelectEnvParams

        k_max = SelectEnvParams(**cfg.env_kwargs("select", 1)).k_max
        return WolpertingerSelectPolicy(models["bc"], models["critic"], k_max, wolpertinger_k, name, tau)  # type: ignore[arg-type]
    if cfg.agent == "bc-assoc" or actor_only:
        return AssocBCPolicy(models["bc"], name)  # type: ignore[arg-type]
    if cfg.agent == "wolpertinger-assoc":
        return WolpertingerAssocPolicy(models["bc"], models["critic"], wolpertinger_k, name)  # type: ignore[arg-type]
    from agents.multiorbit.ppo import build_maskable_ppo, load_ppo_state

    model = build_maskable_ppo(cfg, models["bc"] if cfg.ppo.init == "bc" else None)  # type: ignore[arg-type]
    load_ppo_state(model, load_weights(run / "ppo.pt", run, trust))
    return MaskablePPOAssocPolicy(model, name)
