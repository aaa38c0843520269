"""MaskablePPO (sb3-contrib) on ``MultiOrbitAssoc-v0``, optionally initialised from behaviour cloning.

``ppo.init = "bc"``: the policy's features extractor *is* the BC association network
(:class:`~agents.multiorbit.models.AssocNet`), its flattened per-UE logits are the action
logits (the action head is a fixed slice, so the initial policy is exactly the BC policy), and
the value function has its own copy of the network (``share_features_extractor=False``) with
an MLP on the logits and the pooled candidate embedding.  ``ppo.init = "scratch"``: SB3's
``MultiInputPolicy``.  Masks come from the env's ``action_masks()``.

Weights are saved and loaded as tensors only (:func:`ppo_state`, :func:`load_ppo_state`); the
model is always rebuilt from the config, never unpickled.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from agents.multiorbit.config import MultiOrbitRunConfig
from agents.multiorbit.features import candidate_tokens, canonical, pair_features
from agents.multiorbit.models import AssocNet

__all__ = ["AssocFeatures", "build_maskable_ppo", "ppo_state", "load_ppo_state", "make_assoc_env"]

LOGIT_FLOOR = -30.0
"""Masked logits are floored here in the features (MaskablePPO masks them again)."""


class AssocFeatures(BaseFeaturesExtractor):
    """Flattened BC logits (U * (S+1)) followed by the pooled candidate embedding (d)."""

    def __init__(self, observation_space: gym.spaces.Dict, d_model: int = 64, layers: int = 2, heads: int = 4) -> None:
        shape = observation_space["gain"].shape
        assert shape is not None
        u, s = shape
        super().__init__(observation_space, features_dim=u * (s + 1) + d_model)
        self.net = AssocNet(d_model, layers, heads)
        self.n_logits = u * (s + 1)

    def forward(self, obs: dict[str, th.Tensor]) -> th.Tensor:
        """Features of a batch of association-env observations."""
        c = canonical({k: v.detach().cpu().numpy() for k, v in obs.items()})
        z, pooled = self.net.logits_and_embedding(
            th.as_tensor(candidate_tokens(c)), th.as_tensor(c["mask"]), th.as_tensor(pair_features(c)))
        return th.cat([z.clamp(min=LOGIT_FLOOR).reshape(z.shape[0], -1), pooled], dim=1)


class _Slice(nn.Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def forward(self, x: th.Tensor) -> th.Tensor:
        return x[..., : self.n]


def make_assoc_env(cfg: MultiOrbitRunConfig, n_slots: int) -> gym.Env:
    """The association env of the config."""
    from leo_env.envs.multiorbit.env import MultiOrbitAssocEnv

    return MultiOrbitAssocEnv(**cfg.env_kwargs("assoc", n_slots))


def build_maskable_ppo(cfg: MultiOrbitRunConfig, bc: AssocNet | None) -> Any:
    """A MaskablePPO model for the config (BC-initialised when ``bc`` is given)."""
    from sb3_contrib import MaskablePPO

    p, t = cfg.ppo, cfg.train
    env = make_assoc_env(cfg, p.n_slots)
    common: dict[str, Any] = dict(n_steps=p.n_steps, batch_size=p.batch_size, n_epochs=p.n_epochs, learning_rate=p.learning_rate,
                  ent_coef=p.ent_coef, clip_range=p.clip_range, gamma=p.gamma, gae_lambda=1.0 if p.gamma == 0 else 0.95,
                  seed=t.seed, device="cpu", verbose=0)
    if bc is None:
        return MaskablePPO("MultiInputPolicy", env, **common)
    kwargs = dict(features_extractor_class=AssocFeatures,
                  features_extractor_kwargs=dict(d_model=t.d_model, layers=t.layers, heads=t.heads),
                  net_arch=dict(pi=[], vf=[64, 64]), ortho_init=False, share_features_extractor=False)
    model = MaskablePPO("MultiInputPolicy", env, policy_kwargs=kwargs, **common)
    pol: Any = model.policy
    pol.pi_features_extractor.net.load_state_dict(bc.state_dict())
    pol.vf_features_extractor.net.load_state_dict(bc.state_dict())
    pol.action_net = _Slice(pol.pi_features_extractor.n_logits)
    pol.optimizer = pol.optimizer_class(pol.parameters(), lr=p.learning_rate, **pol.optimizer_kwargs)
    return model


def ppo_state(model: Any) -> dict[str, Any]:
    """Tensors and counters of a MaskablePPO model (policy, optimiser, timesteps)."""
    return {"policy": model.policy.state_dict(), "opt": model.policy.optimizer.state_dict(),
            "num_timesteps": int(model.num_timesteps)}


def load_ppo_state(model: Any, state: dict[str, Any]) -> None:
    """Load :func:`ppo_state` into a model built by :func:`build_maskable_ppo` with the same config."""
    model.policy.load_state_dict(state["policy"])
    if "opt" in state:
        model.policy.optimizer.load_state_dict(state["opt"])
    model.num_timesteps = int(state.get("num_timesteps", 0))


def predict_masked(model: Any, obs: dict[str, np.ndarray], masks: np.ndarray) -> np.ndarray:
    """Deterministic action of a MaskablePPO model."""
    act, _ = model.predict(obs, action_masks=masks, deterministic=True)
    return np.asarray(act)
