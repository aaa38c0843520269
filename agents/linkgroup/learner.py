"""Actor-critic learners of the link-group family: EMCL, its no-Wolpertinger ablation, AC-DDPG, AC-MAML.

One class, :class:`Learner`, holds the networks of :mod:`agents.linkgroup.networks`, a replay
memory and the acting rule; the algorithms differ in which parts exist and what is trained
(:data:`ALGOS`):

| algo | critic | action mapping | learning |
|---|---|---|---|
| ``emcl`` | meta critic ``Q(s, a, z)``, ``z`` = LSTM of the last ``L`` transitions | Wolpertinger, ``k = 10`` | meta-training over tasks (shared critic, one actor per task), online: critic frozen, actor trained |
| ``emcl-nowolp`` | same | nearest valid group (``k = 1``) | same (the ablation of Fig. 7) |
| ``ac-ddpg`` | ``Q(s, a)`` | nearest valid group (``k = 1``, the paper's "simple approach") | online only, re-initialised at every task change |
| ``ac-maml`` | ``Q(s, a)`` | nearest valid group (``k = 1``) | MAML over tasks of the initial weights (second order, ``torch.func``), online: back to the meta-learned init at a change, then both trained |

Acting (all algos): the actor's Gaussian proto-action ``a_hat = mu + sigma eps`` (``eps = 0``
when not exploring) is mapped to the ``k`` nearest *valid* groups of the current slot in the
binary link-activation embedding (exact, :class:`agents.linkgroup.wolpertinger.NearestGroups`);
the group with the largest ``Q`` is played.

Updates: critic by the TD error ``(r + gamma max_{a' in A_k(s')} Q'(s', a', z') - Q(s, a, z))^2``
(``A_k(s')`` = the candidate set computed when acting in ``s'``, stored with the transition;
``Q'`` a Polyak-averaged target network); actor by the reparametrised policy gradient
``-E[Q(s, mu + sigma eps, z)]`` (an unbiased estimate of the gradient of the paper's (34)-(35),
with lower variance than the score-function form).  Rewards are divided by ``reward_scale``.
"""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.linkgroup.networks import Actor, ContextEncoder, Critic, CriticMirror
from agents.linkgroup.wolpertinger import NearestGroups

__all__ = ["ALGOS", "SCREEN_MARGIN", "LearnerSettings", "Memory", "Learner", "embed"]

ALGOS = ("emcl", "emcl-nowolp", "ac-ddpg", "ac-maml")
"""Algorithm names (module docstring)."""

SCREEN_MARGIN = 1e-4
"""Relative lead of the numpy critic mirror's best candidate above which :meth:`Learner.choose`
takes it without asking torch (on `k50` the two differ by <= 2e-6 at |Q| <= 9, i.e. ~2e-7 relative)."""


@dataclass
class LearnerSettings:
    """Hyper-parameters of a :class:`Learner` (paper Table I where given, else [C]).

    Attributes
    ----------
    k : int or None
        Wolpertinger search size (None: 10 for ``emcl``, 1 for the others), >= 1.
    gamma : float
        Discount in [0, 1] (paper: 0.9).
    lr : float
        Adam learning rate of actor and critic (paper: 0.001), > 0.
    batch_size : int
        Minibatch (paper: 128), >= 1.
    memory : int
        Replay memory size (paper: 10,000), >= batch_size.
    context_len : int
        LSTM window ``L`` [transitions] (emcl only), >= 1.
    lstm_hidden : int
        Task-embedding size, >= 1.
    conv : list of int
        Pointwise-convolution filters of actor and critic encoders.
    hidden : int
        Critic MLP width.
    tau : float
        Polyak rate of the target critic, in (0, 1].
    reward_scale : float
        Rewards are divided by it (> 0).
    sigma_min, sigma_max : float
        Range of the actor's standard deviation (0 < min <= max).
    warmup : int
        Stored transitions before the first update (meta-training), >= 1.
    online_warmup : int
        Same in the online phase (fresh memory after a change), >= 1.
    bc_weight : float
        Weight of a behaviour-cloning term (binary cross-entropy of ``mu`` against the teacher's
        group embedding, on a minibatch of the BC warm-start samples) kept in every actor update
        after a BC warm start (0: none), >= 0.
    bc_online : bool
        Keep the ``bc_weight`` term in the online phase's actor updates too (default: only
        during meta-training).
    bc_loss : str
        BC loss of ``mu`` against the teacher's group embedding: ``bce`` (binary cross-entropy
        per link) or ``categorical`` (per transmitter, a softmax over its receivers' logits
        ``logit(mu)`` and an idle logit 0, cross-entropy with the teacher's receiver or idle:
        when it is confident, the teacher's link gets ``mu > 0.5`` and the others ``mu < 0.5``,
        i.e. the nearest valid group to ``mu`` is the teacher's).
    """

    k: int | None = None
    gamma: float = 0.9
    lr: float = 1e-3
    batch_size: int = 128
    memory: int = 10_000
    context_len: int = 10
    lstm_hidden: int = 64
    conv: list[int] = field(default_factory=lambda: [32, 64])
    hidden: int = 128
    tau: float = 0.01
    reward_scale: float = 1.0
    sigma_min: float = 0.02
    sigma_max: float = 0.5
    warmup: int = 128
    online_warmup: int = 32
    bc_weight: float = 0.0
    bc_online: bool = False
    bc_loss: str = "bce"

    def check(self) -> None:
        """Validate (errors name the field and the allowed range)."""
        if self.k is not None and self.k < 1:
            raise ValueError(f"agent.k = {self.k} is out of range: allowed >= 1 (or null)")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"agent.gamma = {self.gamma} is out of range: allowed [0, 1]")
        for name in ("lr", "reward_scale"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"agent.{name} = {v} is out of range: allowed > 0")
        if not 0.0 < self.tau <= 1.0:
            raise ValueError(f"agent.tau = {self.tau} is out of range: allowed (0, 1]")
        if self.batch_size < 1 or self.memory < self.batch_size:
            raise ValueError("agent.batch_size must be >= 1 and agent.memory >= agent.batch_size")
        if self.context_len < 1 or self.lstm_hidden < 1 or self.hidden < 1 or self.warmup < 1 or self.online_warmup < 1:
            raise ValueError("agent.context_len, lstm_hidden, hidden and warmup must be >= 1")
        if not self.conv or min(self.conv) < 1:
            raise ValueError("agent.conv must be a non-empty list of positive widths")
        if self.bc_loss not in ("bce", "categorical"):
            raise ValueError(f"agent.bc_loss = {self.bc_loss!r} is not allowed: 'bce' or 'categorical'")
        if not (np.isfinite(self.bc_weight) and self.bc_weight >= 0):
            raise ValueError(f"agent.bc_weight = {self.bc_weight} is out of range: allowed >= 0")
        if not 0.0 < self.sigma_min <= self.sigma_max:
            raise ValueError("agent.sigma_min/sigma_max: need 0 < sigma_min <= sigma_max")


def bc_loss(mu: torch.Tensor, y: torch.Tensor, kind: str = "bce") -> torch.Tensor:
    """BC loss of proto-action means ``mu`` (B, J, K) in (0, 1) against group embeddings ``y``.

    ``bce``: mean binary cross-entropy per link.  ``categorical``: per transmitter, softmax
    cross-entropy over the logits ``logit(mu[:, j, :])`` and an idle logit 0, the target being
    the teacher's receiver (or idle when the row of ``y`` is empty); mean over transmitters.
    """
    m = mu.clamp(1e-6, 1 - 1e-6)
    if kind == "bce":
        return torch.nn.functional.binary_cross_entropy(m, y)
    if kind != "categorical":
        raise ValueError(f"kind must be 'bce' or 'categorical', got {kind!r}")
    logits = torch.logit(m)
    logits = torch.cat([logits, torch.zeros_like(logits[..., :1])], dim=-1)  # (B, J, K + 1)
    K = y.shape[-1]  # noqa: N806
    target = torch.where(y.sum(-1) > 0, y.argmax(-1), torch.full_like(y[..., 0], K, dtype=torch.long))
    return torch.nn.functional.cross_entropy(logits.reshape(-1, K + 1), target.reshape(-1).long())


def embed(assign: np.ndarray, K: int) -> np.ndarray:  # noqa: N803
    """Binary link-activation embedding (..., J, K) of assignment vectors (..., J) (-1 = idle)."""
    a = np.asarray(assign, dtype=np.int64)
    out = np.zeros((*a.shape, K), dtype=np.float32)
    on = a >= 0
    idx = np.nonzero(on)
    out[(*idx, a[on])] = 1.0
    return out


class Memory:
    """Replay memory (ring buffer) of transitions with their context and next candidate sets.

    Stored per transition: observation, action embedding (J K), scaled reward, done, next
    observation, the ``L`` transition features before it (context), the next state's candidate
    groups (k, J) (padding rows marked invalid) and a task tag.
    """

    def __init__(self, capacity: int, obs_dim: int, J: int, K: int, k: int,  # noqa: N803
                 context_len: int, tr_dim: int) -> None:
        self.capacity, self.n, self.pos = capacity, 0, 0
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.act = np.zeros((capacity, J * K), np.float32)
        self.rew = np.zeros(capacity, np.float32)
        self.done = np.zeros(capacity, np.float32)
        self.ctx = np.zeros((capacity, context_len, tr_dim), np.float32)
        self.cands = -np.ones((capacity, k, J), np.int16)
        self.cand_ok = np.zeros((capacity, k), bool)
        self.task = np.zeros(capacity, np.int64)

    def add(self, obs, act, rew, done, next_obs, ctx, cands, task: int) -> None:
        """Append one transition (overwrites the oldest when full)."""
        i = self.pos
        self.obs[i], self.act[i], self.rew[i], self.done[i] = obs, act, rew, done
        self.next_obs[i], self.ctx[i], self.task[i] = next_obs, ctx, task
        c = np.asarray(cands, dtype=np.int16)
        self.cands[i] = -1
        self.cand_ok[i] = False
        self.cands[i, : len(c)] = c
        self.cand_ok[i, : len(c)] = True
        self.pos = (i + 1) % self.capacity
        self.n = min(self.n + 1, self.capacity)

    def clear(self) -> None:
        """Forget everything."""
        self.n, self.pos = 0, 0

    def sample(self, rng: np.random.Generator, size: int, task: int | None = None) -> np.ndarray | None:
        """Indices of a minibatch (of one task's transitions if ``task`` is given)."""
        pool = np.arange(self.n) if task is None else np.flatnonzero(self.task[: self.n] == task)
        if pool.size == 0:
            return None
        return pool[rng.integers(0, pool.size, size)]

    def arrays(self) -> dict[str, np.ndarray]:
        """The stored arrays (for checkpoints)."""
        keys = ("obs", "next_obs", "act", "rew", "done", "ctx", "cands", "cand_ok", "task")
        out = {k: getattr(self, k)[: self.n] for k in keys}
        out["pos"] = np.array([self.pos])
        return out

    def load(self, arrs: dict[str, np.ndarray]) -> None:
        """Restore from :meth:`arrays`."""
        n = int(arrs["obs"].shape[0])
        for k in ("obs", "next_obs", "act", "rew", "done", "ctx", "cands", "cand_ok", "task"):
            getattr(self, k)[:n] = arrs[k]
        self.n, self.pos = n, int(arrs["pos"][0])


class Learner:
    """One actor-critic learner (module docstring).

    Parameters
    ----------
    algo : str
        One of :data:`ALGOS`.
    J, K, obs_dim : int
        Transmitters, receivers and observation size of the env.
    settings : LearnerSettings
    seed : int
        Seeds the initial weights, the exploration noise and the minibatches.

    Attributes
    ----------
    knn_backend : str
        Implementation of the exact k-NN (:data:`agents.linkgroup.wolpertinger.BACKENDS`;
        default ``"lazy"``, the compiled walk; ``"walk"`` the widening reference; the same
        groups either way).
    fast_choose : bool
        Screen the ``k`` candidates with the numpy critic mirror first (:meth:`choose`; the
        same decision either way), default True.
    """

    def __init__(self, algo: str, J: int, K: int, obs_dim: int,  # noqa: N803
                 settings: LearnerSettings | None = None, seed: int = 0) -> None:
        if algo not in ALGOS:
            raise ValueError(f"algo must be one of {ALGOS}, got {algo!r}")
        self.algo, self.J, self.K, self.obs_dim = algo, J, K, obs_dim
        self.s = settings or LearnerSettings()
        self.s.check()
        self.k = self.s.k if self.s.k is not None else (10 if algo == "emcl" else 1)
        self.uses_context = algo in ("emcl", "emcl-nowolp")
        self.tr_dim = obs_dim + J * K + 1
        self.L = self.s.context_len if self.uses_context else 1
        torch.manual_seed(seed)
        self.gen = torch.Generator().manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.actor = Actor(J, K, tuple(self.s.conv), self.s.sigma_min, self.s.sigma_max, obs_dim)
        cdim = self.s.lstm_hidden if self.uses_context else 0
        self.critic = Critic(J, K, cdim, tuple(self.s.conv), self.s.hidden, obs_dim)
        self.context = ContextEncoder(self.tr_dim, self.s.lstm_hidden) if self.uses_context else None
        self.target = copy.deepcopy(self.critic)
        self.target_ctx = copy.deepcopy(self.context)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=self.s.lr)
        cparams = list(self.critic.parameters()) + (list(self.context.parameters()) if self.context else [])
        self.critic_opt = torch.optim.Adam(cparams, lr=self.s.lr)
        self.memory = Memory(self.s.memory, obs_dim, J, K, self.k, self.L, self.tr_dim)
        self.recent: deque[np.ndarray] = deque(maxlen=self.L)
        self._pending: tuple[Any, ...] | None = None
        self._nearest: NearestGroups | None = None
        self.updates = 0
        self.play_actor: Actor | None = None
        self.online = False
        self.bc_x: torch.Tensor | None = None
        self.bc_y: torch.Tensor | None = None
        self.fast_choose = True
        self.knn_backend = "lazy"
        self._mirror: tuple[tuple[tuple[int, int], ...], CriticMirror] | None = None
        self.stats = {"screened": 0, "torch": 0}

    # ----- context ---------------------------------------------------------------------------
    def context_array(self) -> np.ndarray:
        """The last ``L`` transition features (zero-padded at the front), (L, tr_dim)."""
        out = np.zeros((self.L, self.tr_dim), np.float32)
        if self.recent:
            r = np.stack(self.recent)
            out[self.L - len(r):] = r
        return out

    def _z(self, ctx: torch.Tensor, net: ContextEncoder | None) -> torch.Tensor | None:
        if net is None:
            return None
        return net(ctx)[:, -1]

    # ----- acting ------------------------------------------------------------------------------
    def proto(self, obs: np.ndarray, explore: bool) -> np.ndarray:
        """Proto-action (J, K) of one observation (sampled when ``explore``)."""
        with torch.inference_mode():
            net = self.play_actor if self.play_actor is not None else self.actor
            mu, sigma = net(torch.as_tensor(obs, dtype=torch.float32)[None])
            if explore:
                mu = mu + sigma * torch.randn(mu.shape, generator=self.gen)
        return mu[0].numpy().astype(float)

    def candidates(self, env: Any, obs: np.ndarray, explore: bool) -> np.ndarray:
        """The ``k`` nearest valid groups (k', J) of the proto-action in the current slot."""
        if self._nearest is None or self._nearest.env is not env or self._nearest.backend != self.knn_backend:
            self._nearest = NearestGroups(env, self.knn_backend)
        groups, _ = self._nearest(self.proto(obs, explore), self.k)
        return groups

    def _critic_mirror(self) -> CriticMirror:
        """Numpy mirror of the critic, rebuilt whenever one of its weights changed.

        The key is each parameter's identity and in-place version counter: an optimiser step,
        ``load_state_dict`` and :meth:`reinit` all change it.
        """
        key = tuple((id(p), p._version) for p in self.critic.parameters())
        if self._mirror is None or self._mirror[0] != key:
            self._mirror = (key, CriticMirror(self.critic))
        return self._mirror[1]

    def choose(self, obs: np.ndarray, cands: np.ndarray) -> np.ndarray:
        """The candidate with the largest ``Q(s, a, z)`` (the torch critic's argmax).

        With :attr:`fast_choose` the ``k`` candidates are first scored by the numpy
        :class:`~agents.linkgroup.networks.CriticMirror` (with the torch context ``z``); its
        argmax is returned when it leads the runner-up by more than :data:`SCREEN_MARGIN`
        (relative), far above the float32 difference between the two, so the decision is the
        torch argmax's; otherwise (near-ties) the torch critic decides.  ``stats["screened"]``
        / ``stats["torch"]`` count the two cases.
        """
        if len(cands) == 1:
            return cands[0]
        emb = embed(cands, self.K)
        with torch.inference_mode():
            z = None
            if self.context is not None:
                z = self._z(torch.as_tensor(self.context_array())[None], self.context)
            if self.fast_choose:
                qn = self._critic_mirror().q(obs, emb, None if z is None else z.numpy())
                best = int(np.argmax(qn))
                second = float(np.max(np.delete(qn, best)))
                if float(qn[best]) - second > SCREEN_MARGIN * max(1.0, abs(float(qn[best]))):
                    self.stats["screened"] += 1
                    return cands[best]
            self.stats["torch"] += 1
            o = torch.as_tensor(obs, dtype=torch.float32)[None].expand(len(cands), -1)
            q = self.critic(o, torch.as_tensor(emb), None if z is None else z.expand(len(cands), -1))
        return cands[int(torch.argmax(q))]

    def act(self, obs: np.ndarray, env: Any, explore: bool = False) -> np.ndarray:
        """Assignment vector (J,) to play; completes the pending transition with the candidates."""
        cands = self.candidates(env, obs, explore)
        if self._pending is not None:
            self.memory.add(*self._pending[:6], cands, self._pending[6])
            self._pending = None
        return self.choose(obs, cands)

    def observe(self, obs, assign, reward: float, next_obs, done: bool, task: int = 0) -> None:
        """Record a transition (stored once the next candidate set is known, or now if done)."""
        emb = embed(assign, self.K).reshape(-1)
        r = float(reward) / self.s.reward_scale
        ctx = self.context_array()
        item = (np.asarray(obs, np.float32), emb, r, float(done), np.asarray(next_obs, np.float32), ctx, task)
        if done:
            self.memory.add(*item[:6], np.zeros((0, self.J), np.int16), task)
        else:
            self._pending = item
        self.recent.append(np.concatenate([item[0], emb, [r]]).astype(np.float32))

    def drop_pending(self) -> None:
        """Discard a transition still waiting for its next candidate set."""
        self._pending = None

    # ----- learning ----------------------------------------------------------------------------
    def _batch(self, idx: np.ndarray) -> dict[str, torch.Tensor]:
        m = self.memory
        return {
            "obs": torch.as_tensor(m.obs[idx]), "next_obs": torch.as_tensor(m.next_obs[idx]),
            "act": torch.as_tensor(m.act[idx]).reshape(-1, self.J, self.K),
            "rew": torch.as_tensor(m.rew[idx]), "done": torch.as_tensor(m.done[idx]),
            "ctx": torch.as_tensor(m.ctx[idx]), "cands": torch.as_tensor(embed(m.cands[idx], self.K)),
            "cand_ok": torch.as_tensor(m.cand_ok[idx]),
        }

    def _seq(self, b: dict[str, torch.Tensor]) -> torch.Tensor:
        tr = torch.cat([b["obs"], b["act"].reshape(len(b["obs"]), -1), b["rew"][:, None]], dim=1)
        return torch.cat([b["ctx"], tr[:, None]], dim=1)  # (B, L + 1, tr_dim)

    def critic_loss(self, b: dict[str, torch.Tensor], critic: nn.Module | None = None,
                    params: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """TD loss of a batch (``params``: functional weights of the critic, for MAML)."""
        z = z2 = None
        if self.context is not None:
            seq = self._seq(b)
            z = self.context(seq[:, :-1])[:, -1]
            with torch.no_grad():
                z2 = self.target_ctx(seq)[:, -1]
        B, k = b["cands"].shape[:2]  # noqa: N806
        with torch.no_grad():
            o2 = b["next_obs"][:, None].expand(B, k, -1).reshape(B * k, -1)
            a2 = b["cands"].reshape(B * k, self.J, self.K)
            z2k = None if z2 is None else z2[:, None].expand(B, k, -1).reshape(B * k, -1)
            if params is not None:
                q2 = torch.func.functional_call(self.critic, {n: p.detach() for n, p in params.items()},
                                                (o2, a2, z2k))
            else:
                q2 = self.target(o2, a2, z2k)
            q2 = q2.reshape(B, k).masked_fill(~b["cand_ok"], -torch.inf).amax(dim=1)
            q2 = torch.where(torch.isfinite(q2), q2, torch.zeros_like(q2))
            y = b["rew"] + self.s.gamma * (1.0 - b["done"]) * q2
        if params is not None:
            q = torch.func.functional_call(self.critic, params, (b["obs"], b["act"], z))
        else:
            q = self.critic(b["obs"], b["act"], z)
        return ((q - y) ** 2).mean()

    def actor_loss(self, b: dict[str, torch.Tensor], actor: nn.Module | None = None,
                   aparams: dict[str, torch.Tensor] | None = None,
                   cparams: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Reparametrised policy-gradient loss ``-E[Q(s, mu + sigma eps, z)]``."""
        net = actor or self.actor
        if aparams is not None:
            mu, sigma = torch.func.functional_call(net, aparams, (b["obs"],))
        else:
            mu, sigma = net(b["obs"])
        proto = mu + sigma * torch.randn(mu.shape, generator=self.gen)
        z = None
        if self.context is not None:
            with torch.no_grad():
                z = self.context(self._seq(b)[:, :-1])[:, -1]
        if cparams is not None:
            q = torch.func.functional_call(self.critic, cparams, (b["obs"], proto, z))
        else:
            q = self.critic(b["obs"], proto, z)
        return -q.mean()

    def update(self, train_critic: bool = True, actor: Actor | None = None,
               actor_opt: torch.optim.Optimizer | None = None, task: int | None = None) -> dict[str, float]:
        """One gradient step (critic on all tasks' transitions; actor on ``task``'s if given)."""
        if self.memory.n < (self.s.online_warmup if self.online else self.s.warmup):
            return {}
        out: dict[str, float] = {}
        if train_critic:
            b = self._batch(self.memory.sample(self.rng, self.s.batch_size))
            loss = self.critic_loss(b)
            self.critic_opt.zero_grad()
            loss.backward()
            self.critic_opt.step()
            self._soft_update()
            out["critic_loss"] = loss.item()
        idx = self.memory.sample(self.rng, self.s.batch_size, task)
        if idx is not None:
            b = self._batch(idx)
            net, opt = (actor, actor_opt) if actor is not None else (self.actor, self.actor_opt)
            for p in self.critic.parameters():
                p.requires_grad_(False)
            loss = self.actor_loss(b, net)
            if self.s.bc_weight > 0 and self.bc_x is not None and (self.s.bc_online or not self.online):
                j = torch.randint(0, len(self.bc_x), (self.s.batch_size,), generator=self.gen)
                mu, _ = net(self.bc_x[j])
                loss = loss + self.s.bc_weight * bc_loss(mu, self.bc_y[j], self.s.bc_loss)
            opt.zero_grad()
            loss.backward()
            opt.step()
            for p in self.critic.parameters():
                p.requires_grad_(True)
            out["actor_loss"] = loss.item()
        self.updates += 1
        return out

    def _soft_update(self) -> None:
        pairs = [(self.target, self.critic)]
        if self.context is not None:
            pairs.append((self.target_ctx, self.context))
        with torch.no_grad():
            for tgt, src in pairs:
                for pt, ps in zip(tgt.parameters(), src.parameters(), strict=True):
                    pt.mul_(1.0 - self.s.tau).add_(ps, alpha=self.s.tau)

    def reinit(self, seed: int) -> None:
        """Fresh random weights, optimisers and memory (AC-DDPG after a task change)."""
        fresh = Learner(self.algo, self.J, self.K, self.obs_dim, self.s, seed)
        keep = ("gen", "rng", "knn_backend", "fast_choose", "stats")  # the implementation choices and counters carry over
        self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k not in keep})

    # ----- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Weights and optimiser states (tensors only: loadable with ``weights_only=True``)."""
        st: dict[str, Any] = {
            "actor": self.actor.state_dict(), "critic": self.critic.state_dict(),
            "target": self.target.state_dict(), "actor_opt": self.actor_opt.state_dict(),
            "critic_opt": self.critic_opt.state_dict(), "gen": self.gen.get_state(),
        }
        if self.context is not None:
            st["context"] = self.context.state_dict()
            st["target_ctx"] = self.target_ctx.state_dict()
        return st

    def load_state_dict(self, st: dict[str, Any]) -> None:
        """Inverse of :meth:`state_dict`."""
        self.actor.load_state_dict(st["actor"])
        self.critic.load_state_dict(st["critic"])
        self.target.load_state_dict(st["target"])
        self.actor_opt.load_state_dict(st["actor_opt"])
        self.critic_opt.load_state_dict(st["critic_opt"])
        self.gen.set_state(st["gen"])
        if self.context is not None:
            self.context.load_state_dict(st["context"])
            self.target_ctx.load_state_dict(st["target_ctx"])
