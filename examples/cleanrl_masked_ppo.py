"""CleanRL-style single-file masked PPO over the native vector env (Gymnasium 1.x auto-reset).

    python examples/cleanrl_masked_ppo.py --steps 50000

Everything is in this file, in the style of CleanRL's ``ppo.py``: rollout buffer, GAE, clipped
surrogate, value loss, entropy bonus.  Two things differ from a Discrete-action PPO:

- **masks**: the action is one candidate per cell (``MultiDiscrete``); the policy's logits are
  reshaped to (cells, candidates) and masked with ``action_masks()`` before sampling, so an
  invalid candidate has probability 0 (``main`` counts the sampled invalid actions: always 0);
- **auto-reset**: Gymnasium 1.x vector envs default to ``NEXT_STEP`` auto-reset: the step
  *after* an episode's last step resets that sub-environment, ignores its action and returns
  reward 0.  That step is not a transition: it is recorded with ``valid = False``, gets no
  advantage, is left out of every minibatch, and GAE does not bootstrap across it.  The
  episode's last real step bootstraps from the value of the observation the env returned
  (the final observation) only when it was truncated, not terminated.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

import leo_env.envs  # noqa: F401  (registers the ids)


@dataclass
class Args:
    """Hyper-parameters (CleanRL's names)."""

    env_id: str = "leo_env/Downlink-toy-v0"
    total_steps: int = 50_000
    num_envs: int = 8
    num_steps: int = 64
    learning_rate: float = 2.5e-3
    gamma: float = 0.99
    gae_lambda: float = 0.95
    num_minibatches: int = 4
    update_epochs: int = 4
    clip_coef: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    seed: int = 0


def make_envs(args: Args, **env_kwargs: object) -> gym.vector.VectorEnv:
    """The id's native vector env with the observation flattened (``NEXT_STEP`` auto-reset)."""
    envs = gym.make_vec(args.env_id, num_envs=args.num_envs, vectorization_mode="vector_entry_point",
                        **env_kwargs)
    return gym.wrappers.vector.FlattenObservation(envs)


def layer(i: int, o: int, std: float = np.sqrt(2)) -> nn.Linear:
    """Orthogonal init as in CleanRL."""
    lin = nn.Linear(i, o)
    nn.init.orthogonal_(lin.weight, std)
    nn.init.constant_(lin.bias, 0.0)
    return lin


class Agent(nn.Module):
    """Separate actor and critic MLPs; one categorical per cell over its candidates."""

    def __init__(self, obs_dim: int, cells: int, cands: int) -> None:
        super().__init__()
        self.cells, self.cands = cells, cands
        self.critic = nn.Sequential(layer(obs_dim, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, 1, 1.0))
        self.actor = nn.Sequential(layer(obs_dim, 64), nn.Tanh(), layer(64, 64), nn.Tanh(),
                                   layer(64, cells * cands, 0.01))

    def value(self, x: torch.Tensor) -> torch.Tensor:
        """State value, shape (B,)."""
        return self.critic(x).squeeze(-1)

    def dist(self, x: torch.Tensor, mask: torch.Tensor) -> Categorical:
        """Masked per-cell categorical: batch shape (B, cells); masked logits get -1e8 (probability 0)."""
        logits = self.actor(x).view(-1, self.cells, self.cands)
        return Categorical(logits=logits.masked_fill(~mask, -1e8))

    def act(
        self, x: torch.Tensor, mask: torch.Tensor, action: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sample (or score) an action: action, log-prob, entropy (summed over cells) and value."""
        d = self.dist(x, mask)
        if action is None:
            action = d.sample()
        return action, d.log_prob(action).sum(-1), d.entropy().sum(-1), self.value(x)


def _masks(envs: gym.vector.VectorEnv, cells: int, cands: int) -> torch.Tensor:
    return torch.as_tensor(np.asarray(envs.unwrapped.action_masks(), dtype=bool)).view(-1, cells, cands)


def gae(
    rewards: torch.Tensor, values: torch.Tensor, terminated: torch.Tensor, done: torch.Tensor,
    valid: torch.Tensor, next_value: torch.Tensor, gamma: float, lam: float,
) -> torch.Tensor:
    """GAE over a (T, B) rollout whose ``valid = False`` rows are NEXT_STEP reset steps.

    ``values[t + 1]`` (or ``next_value`` at the end) is the value of the observation returned by
    step ``t``: the final observation when ``done[t]``, bootstrapped only if not terminated.
    Advantages of invalid steps are 0 and the recursion restarts after every done.
    """
    T = rewards.shape[0]  # noqa: N806
    adv = torch.zeros_like(rewards)
    last = torch.zeros_like(next_value)
    for t in reversed(range(T)):
        nv = next_value if t == T - 1 else values[t + 1]
        delta = rewards[t] + gamma * nv * (1.0 - terminated[t]) - values[t]
        last = torch.where(valid[t], delta + gamma * lam * (1.0 - done[t]) * last, torch.zeros_like(last))
        adv[t] = last
    return adv


def main(total_steps: int = 50_000, seed: int = 0, eval_episodes: int = 16, **overrides: object) -> dict[str, float]:
    """Train masked PPO for ``total_steps`` env steps; returns training and evaluation statistics.

    The result holds the number of sampled invalid actions (``invalid_actions``, always 0),
    the env's own repair count on real steps (``repairs``), reset steps left out
    (``reset_steps``), real transitions trained on (``transitions``), and the greedy policy's
    and a uniformly random masked policy's mean return on the same ``eval_episodes`` seeds.
    """
    args = Args(total_steps=total_steps, seed=seed, **overrides)  # type: ignore[arg-type]
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    envs = make_envs(args, allocator="equal")
    act_space = envs.unwrapped.single_action_space
    cells, cands = int(act_space.nvec.size), int(act_space.nvec.max())
    if not np.all(act_space.nvec == cands):
        raise ValueError(f"{args.env_id}: needs the same number of candidates per cell, got {act_space.nvec}")
    obs_dim = int(envs.single_observation_space.shape[0])
    agent = Agent(obs_dim, cells, cands)
    opt = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    T, B = args.num_steps, args.num_envs  # noqa: N806
    obs = torch.zeros(T, B, obs_dim)
    masks = torch.zeros(T, B, cells, cands, dtype=torch.bool)
    actions = torch.zeros(T, B, cells, dtype=torch.long)
    logps, rewards, values = torch.zeros(T, B), torch.zeros(T, B), torch.zeros(T, B)
    terminated, done = torch.zeros(T, B), torch.zeros(T, B)
    valid = torch.zeros(T, B, dtype=torch.bool)

    o, _ = envs.reset(seed=args.seed)
    next_obs, next_mask = torch.as_tensor(o, dtype=torch.float32), _masks(envs, cells, cands)
    next_is_reset = torch.zeros(B, dtype=torch.bool)  # NEXT_STEP: the coming step resets these rows
    stats = {"invalid_actions": 0.0, "repairs": 0.0, "reset_steps": 0.0, "transitions": 0.0,
             "updates": 0.0, "approx_kl": 0.0}
    ep_ret, episodes = np.zeros(B), []
    t0 = time.perf_counter()
    n_updates = max(1, args.total_steps // (T * B))
    for _update in range(n_updates):
        for t in range(T):
            obs[t], masks[t], valid[t] = next_obs, next_mask, ~next_is_reset
            with torch.no_grad():
                a, lp, _, v = agent.act(next_obs, next_mask)
            chosen = next_mask.gather(-1, a.unsqueeze(-1)).squeeze(-1)
            stats["invalid_actions"] += float((~chosen & valid[t].unsqueeze(-1)).sum())
            actions[t], logps[t], values[t] = a, lp, v
            o, r, term, trunc, info = envs.step(a.numpy())
            stats["repairs"] += float(np.sum(np.where(valid[t].numpy(), info["repairs"], 0)))
            rewards[t] = torch.as_tensor(r, dtype=torch.float32)
            terminated[t] = torch.as_tensor(term, dtype=torch.float32)
            done[t] = torch.as_tensor(term | trunc, dtype=torch.float32)
            ep_ret += np.where(valid[t].numpy(), r, 0.0)
            for i in np.flatnonzero(term | trunc):
                episodes.append(ep_ret[i])
                ep_ret[i] = 0.0
            next_is_reset = torch.as_tensor(term | trunc)
            next_obs, next_mask = torch.as_tensor(o, dtype=torch.float32), _masks(envs, cells, cands)
        with torch.no_grad():
            adv = gae(rewards, values, terminated, done, valid, agent.value(next_obs), args.gamma, args.gae_lambda)
        ret = adv + values
        keep = valid.flatten().nonzero().squeeze(-1)  # real transitions only
        stats["reset_steps"] += float((~valid).sum())
        stats["transitions"] += float(keep.numel())
        b_obs, b_mask = obs.flatten(0, 1)[keep], masks.flatten(0, 1)[keep]
        b_act, b_logp = actions.flatten(0, 1)[keep], logps.flatten(0, 1)[keep]
        b_adv, b_ret = adv.flatten()[keep], ret.flatten()[keep]
        mb = max(1, keep.numel() // args.num_minibatches)
        for _epoch in range(args.update_epochs):
            perm = torch.randperm(keep.numel())
            for start in range(0, keep.numel(), mb):
                idx = perm[start:start + mb]
                _, newlogp, ent, newv = agent.act(b_obs[idx], b_mask[idx], b_act[idx])
                ratio = (newlogp - b_logp[idx]).exp()
                a_mb = b_adv[idx]
                a_mb = (a_mb - a_mb.mean()) / (a_mb.std(unbiased=False) + 1e-8)
                pg = torch.max(-a_mb * ratio, -a_mb * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)).mean()
                v_loss = 0.5 * ((newv - b_ret[idx]) ** 2).mean()
                loss = pg - args.ent_coef * ent.mean() + args.vf_coef * v_loss
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                opt.step()
                with torch.no_grad():
                    stats["approx_kl"] = float(((ratio - 1) - (newlogp - b_logp[idx])).mean())
        stats["updates"] += 1
    stats["train_s"] = time.perf_counter() - t0
    stats["train_return_last"] = float(np.mean(episodes[-B:])) if episodes else float("nan")
    envs.close()
    stats["greedy_return"] = evaluate(args, agent, eval_episodes, greedy=True)
    stats["random_return"] = evaluate(args, None, eval_episodes, rng=rng)
    print(f"masked PPO on {args.env_id}: {int(stats['transitions'])} transitions "
          f"({int(stats['reset_steps'])} reset steps left out), {int(stats['updates'])} updates in "
          f"{stats['train_s']:.1f} s; greedy return {stats['greedy_return']:.3f} vs random "
          f"{stats['random_return']:.3f}; invalid actions sampled: {int(stats['invalid_actions'])}")
    return stats


def evaluate(args: Args, agent: Agent | None, episodes: int, greedy: bool = True,
             rng: np.random.Generator | None = None, seed: int = 10_000) -> float:
    """Mean return of ``episodes`` episodes (one per sub-env, seeds ``seed + i``); ``agent=None``: random masked."""
    ev = Args(**{**args.__dict__, "num_envs": episodes})
    envs = make_envs(ev, allocator="equal")
    act_space = envs.unwrapped.single_action_space
    cells, cands = int(act_space.nvec.size), int(act_space.nvec.max())
    o, _ = envs.reset(seed=seed)
    total, alive = np.zeros(episodes), np.ones(episodes, dtype=bool)
    while alive.any():
        mask = _masks(envs, cells, cands)
        if agent is None:
            gen = rng if rng is not None else np.random.default_rng(0)
            a = torch.as_tensor(np.argmax(gen.random(mask.shape) * mask.numpy(), axis=-1))
        else:
            with torch.no_grad():
                d = agent.dist(torch.as_tensor(o, dtype=torch.float32), mask)
                a = d.probs.argmax(-1) if greedy else d.sample()
        o, r, term, trunc, _ = envs.step(a.numpy())
        total += np.where(alive, r, 0.0)
        alive &= ~(term | trunc)
    envs.close()
    return float(total.mean())


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=50_000)
    ap.add_argument("--env", default="leo_env/Downlink-toy-v0")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    main(a.steps, a.seed, env_id=a.env)
