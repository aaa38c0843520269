"""Behaviour cloning on oracle labels (B5), before and during masked PPO.

* :func:`pretrain` fits a ``MaskablePPO`` policy to the labels: the loss is the masked
  cross-entropy of the oracle's candidate in every cell (the joint log-probability of the
  label under the policy's ``MultiDiscrete`` distribution, divided by ``C``), optionally plus
  the value head's squared error against the oracle trajectories' discounted returns (so that
  PPO starts with a critic that matches the cloned policy instead of a random one).
* :class:`BCMaskablePPO` is sb3-contrib's ``MaskablePPO`` with a decaying BC term: after every
  PPO update it takes ``loss_batches`` extra gradient steps on ``coef * cross-entropy`` over
  label minibatches, with ``coef`` falling linearly from ``loss_coef`` to 0 over
  ``loss_decay_steps`` environment steps.  PPO's own update is untouched.

Both use only the policy's public API (``get_distribution``, ``predict_values``, its optimizer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch as th
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy

from agents.labels import LabelSet

__all__ = ["BCData", "bc_loss", "pretrain", "accuracy", "BCMaskablePPO"]


@dataclass
class BCData:
    """Label set as tensors.

    Attributes
    ----------
    obs : Tensor, shape (N, D)
    mask : Tensor of bool, shape (N, C * n)
    label : Tensor of int64, shape (N, C)
    returns : Tensor, shape (N,)
        Discounted reward-to-go (scaled rewards) for the value pretraining.
    """

    obs: th.Tensor
    mask: th.Tensor
    label: th.Tensor
    returns: th.Tensor

    @classmethod
    def from_labels(cls, ls: LabelSet, gamma: float, reward_scale: float, device: str = "cpu") -> BCData:
        """Tensors of a :class:`~agents.labels.LabelSet`."""
        return cls(
            obs=th.as_tensor(ls.obs, device=device),
            mask=th.as_tensor(ls.mask, device=device),
            label=th.as_tensor(ls.label, device=device),
            returns=th.as_tensor(ls.returns(gamma, reward_scale), device=device),
        )

    def __len__(self) -> int:
        return int(self.obs.shape[0])


def bc_loss(policy: MaskableActorCriticPolicy, obs: th.Tensor, mask: th.Tensor, label: th.Tensor) -> th.Tensor:
    """Mean per-cell masked cross-entropy of the labels."""
    dist = policy.get_distribution(obs, action_masks=mask.cpu().numpy())
    return -dist.log_prob(label).mean() / label.shape[1]


def accuracy(policy: MaskableActorCriticPolicy, data: BCData, batch: int = 4096) -> float:
    """Share of cell decisions where the masked argmax equals the label."""
    hits = 0
    with th.no_grad():
        for i in range(0, len(data), batch):
            sl = slice(i, i + batch)
            dist = policy.get_distribution(data.obs[sl], action_masks=data.mask[sl].cpu().numpy())
            pred = dist.get_actions(deterministic=True)
            hits += int((pred == data.label[sl]).sum())
    return hits / max(1, data.label.numel())


def pretrain(
    policy: MaskableActorCriticPolicy,
    data: BCData,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    value: bool = True,
    rng: np.random.Generator,
    logger: Any = None,
) -> dict[str, float]:
    """Fit ``policy`` to the labels (and its value head to the returns) with Adam.

    Parameters
    ----------
    policy : MaskableActorCriticPolicy
        The policy to train in place.
    data : BCData
        Labels.
    epochs, batch_size : int
        Passes and minibatch size.
    learning_rate : float
        Adam step size (a separate optimizer: PPO's keeps its own state).
    value : bool
        Also regress the value head on ``data.returns``.
    rng : numpy.random.Generator
        Minibatch order.
    logger : stable_baselines3.common.logger.Logger, optional
        Records ``bc/loss``, ``bc/value_loss`` and ``bc/accuracy`` per epoch.

    Returns
    -------
    dict
        Final ``loss``, ``value_loss`` and training ``accuracy``.
    """
    expected = int(np.prod(policy.observation_space.shape or ()))
    if data.obs.shape[1] != expected:
        raise ValueError(f"labels hold observations of length {data.obs.shape[1]}, the policy expects {expected}")
    policy.set_training_mode(True)
    opt = th.optim.Adam(policy.parameters(), lr=learning_rate)
    n = len(data)
    loss_v = vloss_v = 0.0
    for epoch in range(int(epochs)):
        order = rng.permutation(n)
        tot, vtot, nb = 0.0, 0.0, 0
        for i in range(0, n, batch_size):
            idx = th.as_tensor(order[i : i + batch_size])
            obs, mask, label = data.obs[idx], data.mask[idx], data.label[idx]
            loss = bc_loss(policy, obs, mask, label)
            vloss = th.zeros(())
            if value:
                vloss = th.nn.functional.mse_loss(policy.predict_values(obs).flatten(), data.returns[idx])
            opt.zero_grad()
            (loss + 0.5 * vloss).backward()
            th.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
            opt.step()
            tot, vtot, nb = tot + loss.item(), vtot + vloss.item(), nb + 1
        loss_v, vloss_v = tot / max(nb, 1), vtot / max(nb, 1)
        if logger is not None:
            logger.record("bc/loss", loss_v)
            logger.record("bc/value_loss", vloss_v)
            logger.record("bc/epoch", epoch)
            logger.dump(step=epoch)
    policy.set_training_mode(False)
    acc = accuracy(policy, data)
    return {"loss": loss_v, "value_loss": vloss_v, "accuracy": acc}


class BCMaskablePPO(MaskablePPO):
    """``MaskablePPO`` that keeps a decaying behaviour-cloning term after each PPO update.

    Set :attr:`bc_data` (a :class:`BCData`) and :attr:`bc_schedule` ``(coef, decay_steps,
    batches, batch_size)`` before ``learn``; neither is saved with the model (the labels are
    reloaded from their cache on resume).
    """

    bc_data: BCData | None = None
    bc_schedule: tuple[float, int, int, int] = (0.0, 1, 0, 256)

    def bc_coef(self) -> float:
        """Current weight of the BC term (linear decay in environment steps)."""
        coef, decay, _, _ = self.bc_schedule
        if decay <= 0:
            return 0.0
        return float(coef) * max(0.0, 1.0 - self.num_timesteps / float(decay))

    def train(self) -> None:
        """PPO update, then the BC steps while the weight is positive."""
        super().train()
        coef = self.bc_coef()
        data = self.bc_data
        _, _, batches, batch_size = self.bc_schedule
        if data is None or coef <= 0 or batches <= 0:
            return
        self.policy.set_training_mode(True)
        gen = th.Generator().manual_seed(int(self.num_timesteps) + int(self.seed or 0))
        losses = []
        for _ in range(int(batches)):
            idx = th.randint(len(data), (min(batch_size, len(data)),), generator=gen)
            loss = coef * bc_loss(self.policy, data.obs[idx], data.mask[idx], data.label[idx])
            self.policy.optimizer.zero_grad()
            loss.backward()
            th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
            losses.append(loss.item() / coef)
        self.logger.record("train/bc_loss", float(np.mean(losses)))
        self.logger.record("train/bc_coef", coef)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "bc_data"]
