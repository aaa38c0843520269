"""Wolpertinger: TD3 over a continuous proto-action, mapped to the k nearest *valid* joint actions.

A joint action picks one candidate per cell: up to ``n ** C`` choices (8^30 on ``stress``),
too many for a Q-function over discrete actions.  Wolpertinger (Dulac-Arnold et al., 2015)
lets a deterministic actor propose a continuous *proto-action* -- one point per cell in the
candidates' embedding space -- maps it to the ``k`` nearest joint actions allowed by the
action mask (exactly, with :func:`leo_env.wrappers.wolpertinger.k_nearest_actions`, without
enumerating them) and lets the critic choose the best of those ``k``.

Only three hooks of SB3's :class:`~stable_baselines3.td3.TD3` change:

* ``_sample_action``: warm-up draws uniformly random *valid* actions; afterwards the actor's
  proto-action plus Gaussian noise is mapped and the critic picks; the replay buffer stores the
  embedding of the joint action actually played;
* ``predict``: the same without noise (evaluation);
* ``train``: the TD3 target uses the same mapping -- the target actor's smoothed proto-action
  of the next state is mapped to its ``k`` nearest valid joint actions and the target critics
  (minimum of the twins) value the best of them.

The environment is driven with candidate indices (n_envs, C); the advertised action space is
the proto-action ``Box`` ([-1, 1], ``C * d``) that TD3 and its replay buffer need.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3 import TD3
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.utils import polyak_update
from torch.nn import functional as F  # noqa: N812

from agents.envs import ObsLayout
from agents.networks import WolpertingerPolicy
from leo_env.wrappers.wolpertinger import WolpertingerMapper

__all__ = ["Wolpertinger", "proto_action_space", "embedding_matrix"]


def embedding_matrix(n: int, embedding: str) -> np.ndarray:
    """Candidate embedding in the actor's [-1, 1] units, shape (n, d).

    ``onehot``: ``2 I - 1`` (a joint action's vector is ``2 onehot - 1`` per cell);
    ``scalar``: evenly spaced points of [-1, 1].
    """
    if embedding == "onehot":
        return 2.0 * np.eye(n) - 1.0
    if embedding == "scalar":
        return np.linspace(-1.0, 1.0, n)[:, None] if n > 1 else np.zeros((1, 1))
    raise ValueError(f"embedding must be 'onehot' or 'scalar', got {embedding!r}")


def proto_action_space(C: int, n: int, embedding: str) -> spaces.Box:  # noqa: N803
    """The ``Box`` of proto-actions: ``C * d`` numbers in [-1, 1]."""
    d = n if embedding == "onehot" else 1
    return spaces.Box(-1.0, 1.0, (C * d,), dtype=np.float32)


class Wolpertinger(TD3):
    """TD3 with Wolpertinger action selection for the downlink environment.

    Parameters
    ----------
    policy : str or type
        ``"WolpertingerPolicy"`` (the candidate-set actor and critics).
    env : VecEnv
        Training environment: :class:`agents.envs.DownlinkVecEnv` built with
        ``action_space=proto_action_space(...)`` (it takes candidate indices in ``step``).
    k : int
        Nearest valid joint actions considered per decision.
    action_noise_std : float
        Std of the Gaussian noise added to the proto-action while collecting (in [-1, 1]
        units); SB3's ``action_noise`` argument is not used.
    **kwargs
        TD3's arguments (``learning_rate``, ``buffer_size``, ``learning_starts``,
        ``batch_size``, ``tau``, ``gamma``, ``train_freq``, ``gradient_steps``,
        ``policy_delay``, ``target_policy_noise``, ``target_noise_clip``, ``policy_kwargs``
        with ``obs_dims``, ``hidden`` and ``embedding``, ``seed``, ``device``, ...).

    Examples
    --------
    See ``tests/unit/agents/test_wolpertinger.py``: the chosen action is always valid and is
    the critics' best among the ``k`` candidates.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"WolpertingerPolicy": WolpertingerPolicy}
    policy: WolpertingerPolicy

    def __init__(self, policy: Any, env: Any, k: int = 8, action_noise_std: float = 0.3, **kwargs: Any) -> None:
        self.k = int(k)
        self.action_noise_std = float(action_noise_std)
        super().__init__(policy, env, **kwargs)

    def _setup_model(self) -> None:
        super()._setup_model()
        pk = self.policy_kwargs
        self.layout = ObsLayout.from_dims(**pk["obs_dims"])
        self.embedding = pk.get("embedding", "onehot")
        emb = embedding_matrix(self.layout.n, self.embedding)
        self.mapper = WolpertingerMapper(self.layout.n, emb)
        self._emb = emb
        if not hasattr(self, "_wolp_rng"):  # kept from a saved model on load
            self._wolp_rng = np.random.default_rng(self.seed)

    # ------------------------------------------------------------------ mapping
    def _masks(self, obs: np.ndarray) -> np.ndarray:
        m = self.layout.mask(obs)
        return m | ~m.any(-1, keepdims=True)  # never leave a cell without a choice

    def embed(self, actions: np.ndarray) -> np.ndarray:
        """Buffer vectors (B, C * d) of joint actions (B, C) of candidate indices."""
        return self._emb[np.asarray(actions, dtype=np.int64)].reshape(len(actions), -1).astype(np.float32)

    def neighbours(self, protos: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """The ``k`` nearest allowed joint actions of each proto-action, shape (B, k, C).

        Rows with fewer than ``k`` allowed joint actions repeat their nearest one.
        """
        B = protos.shape[0]  # noqa: N806
        out = np.empty((B, self.k, self.layout.C), dtype=np.int64)
        for b in range(B):
            acts, _ = self.mapper(protos[b], masks[b], k=self.k)
            out[b, : len(acts)] = acts
            out[b, len(acts) :] = acts[0]
        return out

    def _q_candidates(self, critic: Any, obs_t: th.Tensor, cands: np.ndarray) -> th.Tensor:
        """Values (B, k) of candidate joint actions (B, k, C): minimum over the twin critics."""
        B, k, C = cands.shape  # noqa: N806
        acts = th.as_tensor(self.embed(cands.reshape(B * k, C)), device=self.device).reshape(B, k, -1)
        return th.stack(critic.q_many(obs_t, acts), dim=0).min(dim=0).values

    def select(
        self, obs: np.ndarray, noise_std: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Act on flat observations (B, D): proto-action -> k nearest valid -> critic's best.

        Returns
        -------
        actions : ndarray of int, shape (B, C)
            Chosen joint actions (candidate indices).
        candidates : ndarray of int, shape (B, k, C)
            The ``k`` nearest allowed joint actions.
        q : ndarray, shape (B, k)
            Their values (minimum over the twin critics).
        """
        obs = np.asarray(obs, dtype=np.float32).reshape(-1, self.layout.dim)
        with th.no_grad():
            obs_t = th.as_tensor(obs, device=self.device)
            proto = self.actor(obs_t).cpu().numpy()
            if noise_std > 0:
                proto = np.clip(proto + self._wolp_rng.normal(0.0, noise_std, proto.shape), -1.0, 1.0)
            cands = self.neighbours(proto, self._masks(obs))
            q = self._q_candidates(self.critic, obs_t, cands).cpu().numpy()
        best = q.argmax(axis=1)
        return cands[np.arange(len(cands)), best], cands, q

    # ------------------------------------------------------------------ TD3 hooks
    def _sample_action(
        self, learning_starts: int, action_noise: Any = None, n_envs: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """Warm-up: uniform valid actions; then noisy proto-action -> k-NN -> critic's best."""
        assert self._last_obs is not None
        obs = np.asarray(self._last_obs, dtype=np.float32)
        if self.num_timesteps < learning_starts:
            masks = self._masks(obs)
            keys = np.where(masks, self._wolp_rng.random(masks.shape), -1.0)
            actions = keys.argmax(-1)
        else:
            actions, _, _ = self.select(obs, noise_std=self.action_noise_std)
        return actions, self.embed(actions)

    def predict(  # type: ignore[override]
        self,
        observation: np.ndarray,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Candidate indices (C,) or (B, C) for flat observation(s), without noise."""
        obs = np.asarray(observation, dtype=np.float32)
        single = obs.ndim == 1
        actions, _, _ = self.select(obs)
        return (actions[0] if single else actions), state

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        """TD3 updates whose target maps the target proto-action to its k nearest valid actions."""
        self.policy.set_training_mode(True)
        self._update_learning_rate([self.actor.optimizer, self.critic.optimizer])
        actor_losses, critic_losses = [], []
        for _ in range(gradient_steps):
            self._n_updates += 1
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            discounts = data.discounts if data.discounts is not None else self.gamma
            with th.no_grad():
                proto = self.actor_target(data.next_observations)
                noise = th.randn(proto.shape, device=proto.device) * self.target_policy_noise
                proto = (proto + noise.clamp(-self.target_noise_clip, self.target_noise_clip)).clamp(-1, 1)
                next_obs = data.next_observations.cpu().numpy()
                cands = self.neighbours(proto.cpu().numpy(), self._masks(next_obs))
                next_q = self._q_candidates(self.critic_target, data.next_observations, cands)
                next_q = next_q.max(dim=1, keepdim=True).values
                target_q = data.rewards + (1 - data.dones) * discounts * next_q
            current = self.critic(data.observations, data.actions)
            critic_loss = sum(F.mse_loss(q, target_q) for q in current)
            assert isinstance(critic_loss, th.Tensor)
            critic_losses.append(critic_loss.item())
            self.critic.optimizer.zero_grad()
            critic_loss.backward()
            self.critic.optimizer.step()
            if self._n_updates % self.policy_delay == 0:
                actor_loss = -self.critic.q1_forward(data.observations, self.actor(data.observations)).mean()
                actor_losses.append(actor_loss.item())
                self.actor.optimizer.zero_grad()
                actor_loss.backward()
                self.actor.optimizer.step()
                polyak_update(self.critic.parameters(), self.critic_target.parameters(), self.tau)
                polyak_update(self.actor.parameters(), self.actor_target.parameters(), self.tau)
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        if actor_losses:
            self.logger.record("train/actor_loss", float(np.mean(actor_losses)))
        self.logger.record("train/critic_loss", float(np.mean(critic_losses)))

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "mapper", "layout"]
