"""PPO with a GNN actor and critic on ``LislRouting-v0`` (the paper's DRL baseline), plain torch.

Why not Stable-Baselines3: the action is one price per directed candidate pair, and the number of
real pairs changes from snapshot to snapshot (padded to ``L_max``); SB3's policies map a flat
feature vector to a fixed-size action through dense layers, so the per-arc structure (the same
weights for every arc, any graph size) would be lost.  This module keeps it: the actor is an
:class:`agents.lisl.gnn.ArcGNN` whose output per arc is the mean ``mu_a`` of a Gaussian on the
price *logit*; the action is ``z ~ N(mu, sigma^2)`` (one learned ``log sigma``), the price
``sigmoid(z)`` (inside Lemma 1's box), padded rows get 0.  The critic is a second, smaller
ArcGNN whose per-arc outputs are averaged into ``V(s)``.

Input: the padded graph observation of the env (:func:`obs_to_graph`), exactly what the paper's
DRL agent sees (node features ``Q_i``, ``D_i``, gateway flag, position; edge features: candidate
capacity, distance, LCT pairs, alignment, link age), each undirected candidate pair becoming two
arcs.

Algorithm: clipped-surrogate PPO (Schulman et al. 2017) with GAE; ``gamma = 0`` by default since
with ``tau = 0`` a snapshot's prices do not change later snapshots.  Rewards are the env's
served shares times ``reward_scale``.  Checkpoints (weights, optimiser, step counter, the env's
RNG is re-seeded per rollout from ``[seed, update]``) are written atomically after every update,
so an interrupted run resumes.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.lisl.config import LislExperiment
from agents.lisl.gnn import ArcGNN, batch_graphs
from agents.lisl.predictor import load_checkpoint, load_run_weights, save_checkpoint, write_json
from agents.provenance import provenance
from agents.trust import record_digest
from leo_env.envs.lisl.core import N_EDGE_FEATURES, N_NODE_FEATURES
from leo_env.envs.lisl.env import LislRoutingEnv
from leo_env.policies import Policy

__all__ = ["obs_to_graph", "ActorCritic", "PpoPolicy", "make_env", "train_ppo", "load_actor"]

Graph = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def obs_to_graph(obs: dict[str, np.ndarray]) -> Graph:
    """Directed graph ``(node_x, arc_x, tail, head)`` of a padded observation.

    Real pair ``l = (i, j)`` (``edge_mask[l] = 1``) gives arcs ``2 l = (i, j)`` and
    ``2 l + 1 = (j, i)`` with the pair's features, the oracles' arc order.
    """
    mask = np.asarray(obs["edge_mask"]).astype(bool)
    nl = int(mask.sum())
    if not np.all(mask[:nl]):
        raise ValueError("edge_mask must mark the first pairs as real (the env's padding)")
    ij = np.asarray(obs["edge_index"][:nl], dtype=np.int64)
    tail = np.stack([ij[:, 0], ij[:, 1]], axis=1).reshape(-1)
    head = np.stack([ij[:, 1], ij[:, 0]], axis=1).reshape(-1)
    arc_x = np.repeat(np.asarray(obs["edges"][:nl], dtype=np.float32), 2, axis=0)
    return (
        torch.from_numpy(np.asarray(obs["nodes"], dtype=np.float32)),
        torch.from_numpy(arc_x),
        torch.from_numpy(tail),
        torch.from_numpy(head),
    )


class ActorCritic(nn.Module):
    """GNN actor (per-arc Gaussian mean on the price logit, global log std) and GNN critic."""

    def __init__(self, hidden: int = 64, layers: int = 4, init_log_std: float = -1.0) -> None:
        super().__init__()
        self.actor = ArcGNN(N_NODE_FEATURES, N_EDGE_FEATURES, hidden, layers, 1)
        self.critic = ArcGNN(N_NODE_FEATURES, N_EDGE_FEATURES, max(hidden // 2, 8), 2, 1)
        self.log_std = nn.Parameter(torch.tensor(float(init_log_std)))

    def dist_value(self, graphs: list[Graph]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-arc means, per-graph values and each arc's graph id for a batch of graphs."""
        nx, ax, t, h, gid = batch_graphs(graphs)
        mu = self.actor(nx, ax, t, h)[:, 0]
        v_arc = self.critic(nx, ax, t, h)[:, 0]
        k = len(graphs)
        s = torch.zeros(k).index_add(0, gid, v_arc)
        n = torch.zeros(k).index_add(0, gid, torch.ones_like(v_arc))
        return mu, s / n.clamp(min=1.0), gid


def _logp(mu: torch.Tensor, log_std: torch.Tensor, z: torch.Tensor, gid: torch.Tensor, k: int):
    lp = -0.5 * ((z - mu) / log_std.exp()) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
    return torch.zeros(k).index_add(0, gid, lp)


def _action(obs: dict[str, np.ndarray], z: np.ndarray) -> np.ndarray:
    lmax = np.asarray(obs["edge_mask"]).shape[0]
    out = np.zeros((lmax, 2), dtype=np.float32)
    prices = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
    out[: prices.size // 2] = prices.reshape(-1, 2)
    return out


class PpoPolicy(Policy):
    """The trained actor, deterministic (mean logits), as a ``prices`` policy."""

    name = "ppo-gnn"

    def __init__(self, model: ActorCritic) -> None:
        super().__init__()
        self.model = model

    def prices(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Arc prices of an observation, shape (2L,)."""
        with torch.no_grad():
            g = obs_to_graph(obs)
            mu = self.model.actor(*g)[:, 0]
        return torch.sigmoid(mu).double().numpy()

    def act(self, obs: Any, env: Any) -> np.ndarray:
        """Mean prices as the env's action."""
        with torch.no_grad():
            mu = self.model.actor(*obs_to_graph(obs))[:, 0].numpy()
        return _action(obs, mu)


def make_env(cfg: LislExperiment) -> LislRoutingEnv:
    """The training env of a ``ppo`` experiment."""
    e = cfg.env
    return LislRoutingEnv(
        n_sats=e.n_sats,
        n_snapshots=e.n_snapshots,
        active_user_share=e.active_user_share,
        lcts_per_sat=e.lcts_per_sat,
        acquisition_snapshots=e.acquisition_snapshots,
        constellation=e.constellation,
        action_mode="prices",
    )


@dataclass
class _Rollout:
    graphs: list[Graph]
    z: list[np.ndarray]
    logp: np.ndarray
    value: np.ndarray
    reward: np.ndarray
    done: np.ndarray
    last_value: float


def _collect(
    model: ActorCritic, env: LislRoutingEnv, obs: Any, n: int, seed_seq: list[int]
) -> tuple[_Rollout, Any, list[float]]:
    graphs, zs, logps, values, rewards, dones, ep_returns = [], [], [], [], [], [], []
    gen = torch.Generator().manual_seed(int(np.random.default_rng(seed_seq).integers(2**62)))
    ep_ret = 0.0
    for _ in range(n):
        g = obs_to_graph(obs)
        with torch.no_grad():
            mu, v, gid = model.dist_value([g])
            z = mu + model.log_std.exp() * torch.randn(mu.shape, generator=gen)
            lp = _logp(mu, model.log_std, z, gid, 1)
        obs2, r, term, trunc, _ = env.step(_action(obs, z.numpy()))
        graphs.append(g)
        zs.append(z.numpy())
        logps.append(float(lp[0]))
        values.append(float(v[0]))
        rewards.append(float(r))
        ep_ret += float(r)
        done = bool(term or trunc)
        dones.append(done)
        if done:
            ep_returns.append(ep_ret)
            ep_ret = 0.0
            obs2, _ = env.reset()
        obs = obs2
    with torch.no_grad():
        _, v_last, _ = model.dist_value([obs_to_graph(obs)])
    ro = _Rollout(
        graphs,
        zs,
        np.array(logps),
        np.array(values),
        np.array(rewards),
        np.array(dones),
        float(v_last[0]),
    )
    return ro, obs, ep_returns


def _gae(ro: _Rollout, gamma: float, lam: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
    n = ro.reward.size
    adv = np.zeros(n)
    last = 0.0
    for k in reversed(range(n)):
        nonterminal = 0.0 if ro.done[k] else 1.0
        next_v = ro.last_value if k == n - 1 else ro.value[k + 1]
        delta = scale * ro.reward[k] + gamma * next_v * nonterminal - ro.value[k]
        last = delta + gamma * lam * nonterminal * last
        adv[k] = last
    return adv, adv + ro.value


def _update(
    model: ActorCritic, opt: torch.optim.Optimizer, ro: _Rollout, cfg: LislExperiment, rng
) -> dict[str, float]:
    p = cfg.ppo
    adv, ret = _gae(ro, p.gamma, p.gae_lambda, p.reward_scale)
    adv_n = (adv - adv.mean()) / (adv.std() + 1e-8)
    n = len(ro.graphs)
    mb = max(1, min(16, n))
    stats: dict[str, list[float]] = {"policy_loss": [], "value_loss": [], "clip_frac": []}
    for _ in range(p.epochs):
        order = rng.permutation(n)
        for s in range(0, n, mb):
            idx = order[s : s + mb]
            graphs = [ro.graphs[i] for i in idx]
            mu, v, gid = model.dist_value(graphs)
            z = torch.from_numpy(np.concatenate([ro.z[i] for i in idx]))
            lp = _logp(mu, model.log_std, z, gid, len(idx))
            ratio = torch.exp(lp - torch.from_numpy(ro.logp[idx]).float())
            a = torch.from_numpy(adv_n[idx]).float()
            pl = -torch.min(ratio * a, ratio.clamp(1 - p.clip, 1 + p.clip) * a).mean()
            vl = ((v - torch.from_numpy(ret[idx]).float()) ** 2).mean()
            n_arcs = float(mu.shape[0]) / len(idx)
            ent = (model.log_std + 0.5 * math.log(2 * math.pi * math.e)) * n_arcs
            loss = pl + p.value_coef * vl - p.entropy_coef * ent
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            stats["policy_loss"].append(pl.item())
            stats["value_loss"].append(vl.item())
            stats["clip_frac"].append(float(((ratio - 1).abs() > p.clip).float().mean()))
    return {k: float(np.mean(v)) for k, v in stats.items()}


def _save(run: Path, name: str, state: dict[str, Any]) -> None:
    save_checkpoint(run / name, state)
    record_digest(run, run / name)


def load_actor(run: str | Path, trust: bool = False) -> ActorCritic:
    """The final weights of a ``ppo`` run folder (digest checked unless ``trust``)."""
    cfg, weights = load_run_weights(run, trust)
    model = ActorCritic(int(cfg.gnn.hidden), int(cfg.gnn.layers), float(cfg.ppo.init_log_std))
    model.load_state_dict(weights)
    model.eval()
    return model


def train_ppo(
    cfg: LislExperiment,
    resume: str | Path | None = None,
    progress: bool | None = None,
    trust: bool = False,
) -> Path:
    """Train PPO; returns the run folder (``config.yaml``, ``last.pt``, ``model.pt``, history)."""
    show = progress is not False
    p = cfg.ppo
    run = Path(resume) if resume is not None else cfg.run_path
    run.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(int(p.threads))
    torch.manual_seed(int(cfg.seed))
    model = ActorCritic(cfg.gnn.hidden, cfg.gnn.layers, p.init_log_std)
    opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    update, steps, elapsed, history = 0, 0, 0.0, []
    last = run / "last.pt"
    if resume is not None and last.exists():
        ck = load_checkpoint(last, run, trust)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        update, steps, elapsed = int(ck["update"]), int(ck["steps"]), float(ck["elapsed_s"])
        history = json.loads(ck["history_json"])
    else:
        write_json(run / "provenance.json", provenance())
    from agents.lisl.training import write_config

    write_config(cfg, run)
    env = make_env(cfg)
    t_start = time.perf_counter() - elapsed
    while steps < p.total_steps:
        if p.max_seconds is not None and time.perf_counter() - t_start > p.max_seconds:
            if show:
                print(f"time budget of {p.max_seconds} s reached after {steps} steps")
            break
        update += 1
        # every rollout starts a fresh episode seeded by (seed, update): resumable and exact
        obs, _ = env.reset(seed=int(np.random.default_rng([cfg.seed, update]).integers(2**31)))
        n = min(p.rollout_steps, p.total_steps - steps)
        ro, obs, ep_returns = _collect(model, env, obs, n, [cfg.seed, update, 1])
        stats = _update(model, opt, ro, cfg, np.random.default_rng([cfg.seed, update, 2]))
        steps += n
        entry = {
            "update": update,
            "steps": steps,
            "mean_reward": float(ro.reward.mean()),
            "log_std": float(model.log_std.detach()),
            **stats,
        }
        history.append(entry)
        _save(
            run,
            "last.pt",
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "update": update,
                "steps": steps,
                "elapsed_s": time.perf_counter() - t_start,
                "history_json": json.dumps(history),
            },
        )
        write_json(run / "history.json", history)
        if show:
            print(
                " ".join(
                    f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in entry.items()
                ),
                flush=True,
            )
    _save(run, "model.pt", {"model": model.state_dict(), "steps": steps})
    return run
