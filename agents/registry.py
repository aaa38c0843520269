"""Algorithms by name: build a model for an experiment, load one back from a run folder.

| ``agent.algo`` | APEX name | class | policy |
|---|---|---|---|
| ``ppo`` | B3 | :class:`stable_baselines3.PPO` | :class:`~agents.networks.CandidatePolicy` (no masks) |
| ``maskable_ppo`` | B4 | :class:`sb3_contrib.MaskablePPO` | :class:`~agents.networks.CandidateMaskablePolicy` |
| ``bc_maskable_ppo`` | B5 | :class:`~agents.bc.BCMaskablePPO` | :class:`~agents.networks.CandidateMaskablePolicy` |
| ``wolpertinger`` | W | :class:`~agents.wolpertinger.Wolpertinger` (TD3) | :class:`~agents.networks.WolpertingerPolicy` |

``agent.policy: mlp`` swaps the candidate-set network for SB3's MLP over the flat observation
(PPO variants only).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv

from agents.bc import BCMaskablePPO
from agents.config import ExperimentConfig
from agents.envs import ObsLayout
from agents.networks import CandidateMaskablePolicy, CandidatePolicy
from agents.wolpertinger import Wolpertinger

__all__ = ["ALGO_CLASSES", "APEX_NAMES", "build_model", "algo_class", "uses_masks", "load_model"]

ALGO_CLASSES: dict[str, type[BaseAlgorithm]] = {
    "ppo": PPO,
    "maskable_ppo": MaskablePPO,
    "bc_maskable_ppo": BCMaskablePPO,
    "wolpertinger": Wolpertinger,
}
APEX_NAMES = {"ppo": "B3", "maskable_ppo": "B4", "bc_maskable_ppo": "B5", "wolpertinger": "W"}
"""Short names used in tables (APEX's B3-B5; ``W`` for Wolpertinger)."""


def algo_class(algo: str) -> type[BaseAlgorithm]:
    """SB3 class of an algorithm name."""
    if algo not in ALGO_CLASSES:
        raise ValueError(f"unknown algorithm {algo!r}; known: {sorted(ALGO_CLASSES)}")
    return ALGO_CLASSES[algo]


def uses_masks(algo: str) -> bool:
    """Whether the algorithm acts through the action masks."""
    return algo in ("maskable_ppo", "bc_maskable_ppo", "wolpertinger")


def build_model(
    cfg: ExperimentConfig,
    env: VecEnv,
    layout: ObsLayout,
    tensorboard_log: str | os.PathLike[str] | None = None,
) -> BaseAlgorithm:
    """A fresh model of ``cfg.agent.algo`` on ``env`` (seeded with ``cfg.seed``).

    Parameters
    ----------
    cfg : ExperimentConfig
        Experiment configuration.
    env : VecEnv
        Training environment (flat observations).
    layout : ObsLayout
        Observation layout of ``env``.
    tensorboard_log : path, optional
        TensorBoard folder.
    """
    a = cfg.agent
    tb = None if tensorboard_log is None else str(tensorboard_log)
    common: dict[str, Any] = {
        "seed": int(cfg.seed), "device": cfg.train.device, "verbose": cfg.train.verbose, "tensorboard_log": tb,
    }
    if a.algo == "wolpertinger":
        w = a.wolpertinger
        return Wolpertinger(
            "WolpertingerPolicy", env, k=w.k, action_noise_std=w.action_noise,
            learning_rate=w.learning_rate, buffer_size=w.buffer_size, learning_starts=w.learning_starts,
            batch_size=w.batch_size, tau=w.tau, gamma=w.gamma, train_freq=(w.train_freq, "step"),
            gradient_steps=w.gradient_steps, policy_delay=w.policy_delay,
            target_policy_noise=w.target_policy_noise, target_noise_clip=w.target_noise_clip,
            optimize_memory_usage=False,
            policy_kwargs={"obs_dims": layout.dims, "hidden": a.hidden, "embedding": w.embedding},
            **common,
        )
    p = a.ppo
    masked = a.algo != "ppo"
    if a.policy == "candidate":
        policy: Any = CandidateMaskablePolicy if masked else CandidatePolicy
        pk: dict[str, Any] = {"obs_dims": layout.dims, "hidden": a.hidden}
    else:
        policy = "MlpPolicy"
        pk = {"net_arch": [a.hidden, a.hidden]}
    cls = algo_class(a.algo)
    if not issubclass(cls, (PPO, MaskablePPO)):
        raise ValueError(f"agent.algo={a.algo!r} is not a PPO variant (ppo, maskable_ppo, bc_maskable_ppo)")
    return cls(
        policy, env, learning_rate=p.learning_rate, n_steps=p.n_steps, batch_size=p.batch_size,
        n_epochs=p.n_epochs, gamma=p.gamma, gae_lambda=p.gae_lambda, clip_range=p.clip_range,
        ent_coef=p.ent_coef, vf_coef=p.vf_coef, max_grad_norm=p.max_grad_norm, target_kl=p.target_kl,
        normalize_advantage=p.normalize_advantage, policy_kwargs=pk, **common,
    )


def load_model(
    path: str | os.PathLike[str],
    cfg: ExperimentConfig,
    device: str = "cpu",
    trust: bool = False,
    env: VecEnv | None = None,
    layout: ObsLayout | None = None,
) -> BaseAlgorithm:
    """Load a saved model safely: rebuilt from ``cfg``, tensors only, digest checked.

    Nothing pickled inside the zip is ever executed (:mod:`agents.trust`): the model is built
    fresh from the run's configuration (its spaces, schedules and policy class) on ``env`` (a
    one-environment instance of the config's environment by default) and only the parameter
    tensors are read (``set_parameters``, ``torch.load(weights_only=True)``).

    Raises
    ------
    agents.trust.UntrustedModelError
        The file's SHA-256 is not the one its run folder recorded (unless ``trust``).
    """
    from agents.runs import run_dir_of
    from agents.trust import verify_digest
    from agents.vec_env import make_vec_env

    p = Path(path)
    verify_digest(p, run_dir_of(p), trust=trust)
    if env is None or layout is None:
        base, env = make_vec_env(cfg, num_envs=1)
        layout = base.layout
    model = build_model(cfg, env, layout)
    model.set_parameters(str(p), exact_match=True, device=device)
    return model
