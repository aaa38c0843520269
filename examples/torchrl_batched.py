"""TorchRL: a downlink env as a TorchRL env, batched on the native vector env, with action masks.

    python examples/torchrl_batched.py --steps 4096

``GymWrapper(gym.make_vec(id, num_envs=N, autoreset_mode="Disabled"))`` gives a TorchRL env
with batch size ``(N,)``: TorchRL resets finished sub-environments itself through the vector
env's ``reset(options={"reset_mask": ...})`` (the ``Disabled`` auto-reset mode it prefers).
The policy is a ``ProbabilisticActor`` whose ``MaskedCategorical`` reads the observation's
``action_mask`` (flat ``C * n``, reshaped per cell), so a masked candidate is never sampled;
one PPO update (``GAE`` + ``ClipPPOLoss``) per collected batch trains it.

A single downlink env also works by id, ``torchrl.envs.GymEnv("leo_env/Downlink-toy-v0")``;
the batched vector env is wrapped here because TorchRL resets its finished rows itself.
"""

from __future__ import annotations

import argparse
import math

import gymnasium as gym
import torch
from tensordict.nn import TensorDictModule
from torch import nn
from torchrl.envs import GymWrapper
from torchrl.modules import MaskedCategorical, ProbabilisticActor, ValueOperator
from torchrl.objectives import ClipPPOLoss
from torchrl.objectives.value import GAE

import leo_env.envs  # noqa: F401  (registers the ids)

OBS_KEYS = ("candidates", "budget", "served", "demand_history", "forecast", "time", "action_mask")


class _Flat(nn.Module):
    """Concatenate the observation entries (any leading batch dims) and run an MLP."""

    def __init__(self, sizes: list[int], out: int) -> None:
        super().__init__()
        self.sizes = sizes
        self.net = nn.Sequential(nn.Linear(sum(sizes), 64), nn.Tanh(), nn.Linear(64, out))

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        lead = xs[-1].shape[:-1]  # action_mask / time are 1-D per env
        flat = [x.reshape(*lead, s) for x, s in zip(xs, self.sizes, strict=True)]
        return self.net(torch.cat(flat, dim=-1))


class _Logits(nn.Module):
    """Per-cell logits (C, n) and the per-cell boolean mask."""

    def __init__(self, body: _Flat, cells: int, cands: int) -> None:
        super().__init__()
        self.body, self.C, self.n = body, cells, cands

    def forward(self, *xs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.body(*xs)
        lead = logits.shape[:-1]
        mask = xs[-1].reshape(*lead, self.C, self.n) > 0.5
        return logits.reshape(*lead, self.C, self.n), mask


def make_env(num_envs: int = 4, env_id: str = "leo_env/Downlink-toy-v0", **kwargs: object) -> GymWrapper:
    """The native vector env as a batched TorchRL env (``Disabled`` auto-reset)."""
    venv = gym.make_vec(env_id, num_envs=num_envs, autoreset_mode="Disabled", **kwargs)
    return GymWrapper(venv, categorical_action_encoding=True)


def make_actor_critic(env: GymWrapper) -> tuple[ProbabilisticActor, ValueOperator]:
    """A masked categorical actor (one categorical per cell) and a state-value critic."""
    spec = env.observation_spec
    sizes = [int(math.prod(spec[k].shape[len(env.batch_size):])) for k in OBS_KEYS]
    cells, cands = env.action_spec.shape[-1], int(env.action_spec.space.high.max()) + 1
    logits = TensorDictModule(
        _Logits(_Flat(sizes, cells * cands), cells, cands), in_keys=list(OBS_KEYS),
        out_keys=["logits", "mask"],
    )
    actor = ProbabilisticActor(
        logits, in_keys=["logits", "mask"], distribution_class=MaskedCategorical,
        return_log_prob=True, spec=env.action_spec,
    )
    critic = ValueOperator(_Flat(sizes, 1), in_keys=list(OBS_KEYS))
    return actor, critic


def main(total_steps: int = 4096, num_envs: int = 4, rollout: int = 32, seed: int = 0) -> dict[str, float]:
    """Collect ``total_steps`` env steps in batches of ``num_envs * rollout``, one PPO update each.

    Returns the mean reward per step of the first and last batch, the number of sampled
    actions that were masked out (always 0) and the number of updates.
    """
    torch.manual_seed(seed)
    env = make_env(num_envs, allocator="equal")
    env.set_seed(seed)
    actor, critic = make_actor_critic(env)
    adv = GAE(gamma=0.99, lmbda=0.95, value_network=critic)
    loss = ClipPPOLoss(actor, critic, entropy_coeff=0.01)
    opt = torch.optim.Adam(loss.parameters(), lr=3e-3)
    td = env.reset()
    first = last = float("nan")
    invalid, updates = 0, 0
    for _ in range(max(1, total_steps // (num_envs * rollout))):
        with torch.no_grad():
            batch = env.rollout(rollout, actor, auto_reset=False, tensordict=td, break_when_any_done=False)
            td = env.step_mdp(batch[..., -1])
            mask = batch["action_mask"].reshape(*batch["action"].shape, -1) > 0.5
            chosen = mask.gather(-1, batch["action"].unsqueeze(-1)).squeeze(-1)
            invalid += int((~chosen).sum())
            adv(batch)
        out = loss(batch)
        total = out["loss_objective"] + out["loss_critic"] + out["loss_entropy"]
        opt.zero_grad()
        total.backward()
        opt.step()
        updates += 1
        mean_r = float(batch["next", "reward"].mean())
        first = mean_r if math.isnan(first) else first
        last = mean_r
    env.close()
    print(f"TorchRL PPO, {num_envs} batched envs: reward/step {first:.3f} (first batch) -> "
          f"{last:.3f} (last), {updates} updates, {invalid} masked actions sampled")
    return {"first": first, "last": last, "invalid": float(invalid), "updates": float(updates)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4096)
    main(ap.parse_args().steps)
