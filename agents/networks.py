"""Candidate-set networks and the SB3 policies built on them.

The observation describes every (cell, candidate) pair with the same features, so the
networks score pairs with one shared MLP instead of reading a flat vector:

* :class:`CandidateEncoder`: per-pair input = the candidate's 7 features, its mask bit, the
  cell's budget / served ratio / forecast / demand history and ``k / K`` (with look-ahead
  also the candidate's future gains and the cell's future forecasts and best gains); a shared MLP gives
  a pair embedding ``h[c, j]``; a cell embedding ``e[c]`` is the masked mean over the cell's
  real candidates and a global context ``g`` the mean over cells.
* actor: ``score[c, j] = MLP([h[c, j], e[c], g])``, one logit per candidate (the
  ``MultiDiscrete`` distribution's logits, cell-major);
* critic: ``V = mean_c MLP([e[c], g])`` (rewards are scaled to per-cell averages).

The networks are equivariant to permutations of the cells and of the candidates, have the
same number of weights for any scenario size, and can be trained on one preset and run on
another with the same ``n`` and ``L``.

SB3 integration: the policies subclass SB3 / sb3-contrib's actor-critic policies and replace
only the ``mlp_extractor`` (and make ``action_net`` the identity, since the extractor already
returns one logit per candidate).
"""

from __future__ import annotations

from typing import Any

import torch as th
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from stable_baselines3.common.policies import ActorCriticPolicy, BaseModel, BasePolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.td3.policies import TD3Policy
from torch import nn

from agents.envs import ObsLayout

__all__ = [
    "CandidateEncoder",
    "CandidateActorCritic",
    "CandidateMaskablePolicy",
    "CandidatePolicy",
    "CandidateActor",
    "CandidateCritic",
    "WolpertingerPolicy",
    "embedding_weights",
]


def _mlp(i: int, h: int, o: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o))


class CandidateEncoder(nn.Module):
    """Flat observations -> pair, cell and global embeddings.

    Parameters
    ----------
    layout : ObsLayout
        Where the entries sit in the flat observation.
    hidden : int
        Embedding width ``H``.

    Notes
    -----
    ``forward(x)`` with ``x`` of shape (B, D) returns ``h`` (B, C, n, H), ``e`` (B, C, H),
    ``g`` (B, H) and the real-candidate indicator (B, C, n).

    With satellite indices in the layout (``layout.ids``) a second round of message passing
    lets every pair see the other cells that list the same satellite: the pair embeddings of a
    satellite are pooled (mean, and count / C), and a second MLP updates each pair from its
    own embedding, its satellite's pool and the global context (a cell-satellite bipartite
    graph layer).  This is what allows load balancing, e.g. at slot 0 where no previous
    association exists.
    """

    def __init__(self, layout: ObsLayout, hidden: int) -> None:
        super().__init__()
        self.layout = layout
        lay = layout
        self.in_dim = lay.F + 1 + 3 + lay.L + 1 + 3 * lay.A
        self.phi = nn.Sequential(
            nn.Linear(self.in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        self.hidden = hidden
        if lay.ids:
            self.phi2 = nn.Sequential(nn.Linear(3 * hidden + 1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())

    def split(self, x: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """Per-pair input (B, C, n, in_dim) and real-candidate indicator (B, C, n)."""
        lay = self.layout
        B, C, n = x.shape[0], lay.C, lay.n  # noqa: N806
        s = lay.slices
        cand = x[:, s["candidates"]].reshape(B, C, n, lay.F)
        mask = x[:, s["action_mask"]].reshape(B, C, n, 1)
        cell = th.cat(
            [
                x[:, s["budget"]].reshape(B, C, 1),
                x[:, s["served"]].reshape(B, C, 1),
                x[:, s["forecast"]].reshape(B, C, 1),
                x[:, s["demand_history"]].reshape(B, C, lay.L),
                x[:, s["time"]].reshape(B, 1, 1).expand(B, C, 1),
            ],
            dim=-1,
        )
        pair = [cand, mask]
        if lay.A:
            A = lay.A  # noqa: N806
            cell = th.cat(
                [cell, x[:, s["forecast_ahead"]].reshape(B, C, A), x[:, s["best_ahead"]].reshape(B, C, A)], dim=-1
            )
            pair.append(x[:, s["candidates_ahead"]].reshape(B, C, n, A))
        inp = th.cat([*pair, cell[:, :, None, :].expand(B, C, n, cell.shape[-1])], dim=-1)
        return inp, cand[..., 5]

    def _satellite_pool(self, x: th.Tensor, h: th.Tensor, valid: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """Mean pair embedding of each pair's satellite and the satellite's pair count / C."""
        lay = self.layout
        B, C, n, H = h.shape  # noqa: N806
        sid = x[:, lay.slices["candidate_ids"]].reshape(B, C * n).round().long()
        ok = (sid >= 0) & (valid.reshape(B, C * n) > 0.5)
        S = int(sid.max().item()) + 1 if bool(ok.any()) else 1  # noqa: N806
        idx = (th.arange(B, device=x.device)[:, None] * (S + 1) + th.where(ok, sid, S)).reshape(-1)
        w = ok.reshape(-1, 1).to(h.dtype)
        flat = h.reshape(B * C * n, H) * w
        tot = th.zeros(B * (S + 1), H, dtype=h.dtype, device=h.device).index_add_(0, idx, flat)
        cnt = th.zeros(B * (S + 1), 1, dtype=h.dtype, device=h.device).index_add_(0, idx, w)
        mean = (tot / cnt.clamp(min=1.0))[idx].reshape(B, C, n, H)
        count = (cnt[idx] / C).reshape(B, C, n, 1)
        return mean * valid[..., None], count * valid[..., None]

    def forward(self, x: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor]:
        """Embeddings ``h, e, g`` and the real-candidate indicator."""
        inp, valid = self.split(x)
        h = self.phi(inp)
        w = valid[..., None]
        if self.layout.ids:
            e = (h * w).sum(2) / w.sum(2).clamp(min=1.0)
            g = e.mean(1)
            B, C, n, H = h.shape  # noqa: N806
            pool, count = self._satellite_pool(x, h, valid)
            h = h + self.phi2(th.cat([h, pool, g[:, None, None].expand(B, C, n, H), count], dim=-1))
        e = (h * w).sum(2) / w.sum(2).clamp(min=1.0)
        g = e.mean(1)
        return h, e, g, valid


class CandidateActorCritic(nn.Module):
    """Replacement of SB3's ``MlpExtractor``: per-candidate logits and a value embedding.

    Parameters
    ----------
    layout : ObsLayout
        Observation layout.
    hidden : int
        Width ``H``.

    Attributes
    ----------
    latent_dim_pi : int
        ``C * n`` (one logit per candidate; the policy's ``action_net`` is the identity).
    latent_dim_vf : int
        ``H`` (the policy's ``value_net`` is SB3's linear head).
    """

    def __init__(self, layout: ObsLayout, hidden: int) -> None:
        super().__init__()
        self.layout = layout
        self.pi_enc = CandidateEncoder(layout, hidden)
        self.vf_enc = CandidateEncoder(layout, hidden)
        self.pi_head = nn.Sequential(nn.Linear(3 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.vf_head = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU())
        self.latent_dim_pi = layout.C * layout.n
        self.latent_dim_vf = hidden

    def forward_actor(self, features: th.Tensor) -> th.Tensor:
        """Logits (B, C * n), cell-major."""
        h, e, g, _ = self.pi_enc(features)
        B, C, n, H = h.shape  # noqa: N806
        z = th.cat([h, e[:, :, None].expand(B, C, n, H), g[:, None, None].expand(B, C, n, H)], dim=-1)
        return self.pi_head(z).reshape(B, C * n)

    def forward_critic(self, features: th.Tensor) -> th.Tensor:
        """Value embedding (B, H): mean over cells of a per-cell MLP."""
        _, e, g, _ = self.vf_enc(features)
        B, C, H = e.shape  # noqa: N806
        return self.vf_head(th.cat([e, g[:, None].expand(B, C, H)], dim=-1)).mean(1)

    def forward(self, features: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """``(latent_pi, latent_vf)``."""
        return self.forward_actor(features), self.forward_critic(features)


class _CandidateMixin:
    """Builds :class:`CandidateActorCritic` in place of SB3's MLP extractor."""

    obs_dims: dict[str, Any]
    hidden: int
    mlp_extractor: Any  # CandidateActorCritic in place of SB3's MlpExtractor
    action_net: nn.Module

    def _build_mlp_extractor(self) -> None:
        self.mlp_extractor = CandidateActorCritic(ObsLayout.from_dims(**self.obs_dims), self.hidden)

    def _build(self, lr_schedule: Any) -> None:
        super()._build(lr_schedule)  # type: ignore[misc]
        self.action_net = nn.Identity()
        last = self.mlp_extractor.pi_head[-1]
        assert isinstance(last, nn.Linear)
        nn.init.orthogonal_(last.weight, gain=0.01)
        nn.init.zeros_(last.bias)
        self.optimizer = self.optimizer_class(  # type: ignore[attr-defined]
            self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs  # type: ignore[attr-defined]
        )

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()  # type: ignore[misc]
        data.update(obs_dims=self.obs_dims, hidden=self.hidden)
        return data


class CandidateMaskablePolicy(_CandidateMixin, MaskableActorCriticPolicy):
    """sb3-contrib ``MaskablePPO`` policy with the candidate-set network (B4, B5).

    Parameters
    ----------
    *args
        As :class:`sb3_contrib.common.maskable.policies.MaskableActorCriticPolicy`.
    obs_dims : dict
        ``{"C", "n", "L"}`` of the environment (:attr:`ObsLayout.dims`).
    hidden : int
        Network width.
    **kwargs
        As the parent class.
    """

    def __init__(self, *args: Any, obs_dims: dict[str, Any], hidden: int = 64, **kwargs: Any) -> None:
        self.obs_dims = dict(obs_dims)
        self.hidden = int(hidden)
        super().__init__(*args, **kwargs)


class CandidatePolicy(_CandidateMixin, ActorCriticPolicy):
    """SB3 ``PPO`` policy with the candidate-set network, no masks (B3).

    Parameters are those of :class:`CandidateMaskablePolicy`.
    """

    def __init__(self, *args: Any, obs_dims: dict[str, Any], hidden: int = 64, **kwargs: Any) -> None:
        self.obs_dims = dict(obs_dims)
        self.hidden = int(hidden)
        super().__init__(*args, **kwargs)


# ---------------------------------------------------------------------------- Wolpertinger
def embedding_weights(action: th.Tensor, layout: ObsLayout, embedding: str) -> th.Tensor:
    """Selection weights (B, C, n) of (proto-)actions in [-1, 1] units.

    ``onehot``: an action is ``2 onehot - 1`` per cell, so the weights are ``(a + 1) / 2``
    (exactly the one-hot of a discrete action; a soft mix for a proto-action).
    ``scalar``: an action is one number per cell; candidate ``j`` sits at
    ``-1 + 2 j / (n - 1)`` and the weights interpolate linearly between neighbours.
    """
    B, C, n = action.shape[0], layout.C, layout.n  # noqa: N806
    if embedding == "onehot":
        return (action.reshape(B, C, n) + 1.0) / 2.0
    pos = th.linspace(-1.0, 1.0, n, device=action.device) if n > 1 else th.zeros(1, device=action.device)
    spacing = 2.0 / max(n - 1, 1)
    a = action.reshape(B, C, 1)
    return (1.0 - (a - pos).abs() / spacing).clamp(min=0.0)


class CandidateActor(BasePolicy):
    """Wolpertinger actor: observation -> proto-action in [-1, 1] (TD3's ``Actor`` interface).

    ``onehot`` embedding: the proto-action of cell ``c`` is ``2 softmax(score[c]) - 1`` over
    the cell's *allowed* candidates (masked entries sit at -1, as "not chosen").  ``scalar``:
    one ``tanh`` output per cell.
    """

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        obs_dims: dict[str, Any],
        hidden: int = 64,
        embedding: str = "onehot",
        **_: Any,
    ) -> None:
        super().__init__(observation_space, action_space, features_extractor=features_extractor, squash_output=True)
        self.layout = ObsLayout.from_dims(**obs_dims)
        self.obs_dims, self.hidden, self.embedding = dict(obs_dims), int(hidden), embedding
        self.features_dim = features_dim
        self.enc = CandidateEncoder(self.layout, hidden)
        # onehot: a score per candidate; scalar: one position per cell
        self.head = _mlp(3 * hidden if embedding == "onehot" else 2 * hidden, hidden, 1)

    def forward(self, obs: th.Tensor) -> th.Tensor:
        """Proto-actions (B, C * d)."""
        x = obs.float()
        h, e, g, _ = self.enc(x)
        B, C, n, H = h.shape  # noqa: N806
        if self.embedding == "onehot":
            z = th.cat([h, e[:, :, None].expand(B, C, n, H), g[:, None, None].expand(B, C, n, H)], dim=-1)
            score = self.head(z)[..., 0]
            allowed = x[:, self.layout.slices["action_mask"]].reshape(B, C, n) > 0.5
            allowed = allowed | ~allowed.any(-1, keepdim=True)
            p = th.softmax(score.masked_fill(~allowed, -1e9), dim=-1)
            return (2.0 * p - 1.0).reshape(B, C * n)
        return th.tanh(self.head(th.cat([e, g[:, None].expand(B, C, H)], dim=-1))).reshape(B, C)

    def _predict(self, observation: Any, deterministic: bool = False) -> th.Tensor:
        return self(observation)


class CandidateCritic(BaseModel):
    """Twin Q-networks ``Q(s, a)`` over selection weights (TD3's ``ContinuousCritic`` interface).

    For cell ``c`` the chosen candidate's embedding is ``sum_j w[c, j] h[c, j]`` (the weights
    of :func:`embedding_weights`); ``Q = mean_c MLP([chosen[c], e[c], g, mean_c chosen])``,
    so cells see each other's choices through the pooled term.
    """

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        obs_dims: dict[str, Any],
        hidden: int = 64,
        embedding: str = "onehot",
        n_critics: int = 2,
        share_features_extractor: bool = False,
        **_: Any,
    ) -> None:
        super().__init__(observation_space, action_space, features_extractor=features_extractor)
        self.layout = ObsLayout.from_dims(**obs_dims)
        self.embedding = embedding
        self.share_features_extractor = share_features_extractor
        self.n_critics = n_critics
        self.encs = nn.ModuleList([CandidateEncoder(self.layout, hidden) for _ in range(n_critics)])
        self.heads = nn.ModuleList([_mlp(4 * hidden, hidden, 1) for _ in range(n_critics)])

    def _q_many(self, i: int, x: th.Tensor, actions: th.Tensor) -> th.Tensor:
        """Critic ``i`` on observations (B, D) and ``k`` actions each (B, k, A) -> (B, k).

        The observation is encoded once; only the cheap head runs per action.
        """
        h, e, g, _ = self.encs[i](x)
        B, C, n, H = h.shape  # noqa: N806
        k = actions.shape[1]
        w = embedding_weights(actions.reshape(B * k, -1), self.layout, self.embedding).reshape(B, k, C, n)
        chosen = th.einsum("bkcn,bcnh->bkch", w, h)
        z = th.cat(
            [
                chosen,
                e[:, None].expand(B, k, C, H),
                g[:, None, None].expand(B, k, C, H),
                chosen.mean(2, keepdim=True).expand(B, k, C, H),
            ],
            dim=-1,
        )
        return self.heads[i](z)[..., 0].mean(2)

    def q_many(self, obs: th.Tensor, actions: th.Tensor) -> tuple[th.Tensor, ...]:
        """Every critic's values of ``k`` actions per observation: tuple of (B, k)."""
        x = obs.float()
        return tuple(self._q_many(i, x, actions) for i in range(self.n_critics))

    def forward(self, obs: th.Tensor, actions: th.Tensor) -> tuple[th.Tensor, ...]:
        """Q-values of every critic, each (B, 1)."""
        return self.q_many(obs, actions[:, None, :])

    def q1_forward(self, obs: th.Tensor, actions: th.Tensor) -> th.Tensor:
        """First critic only (actor update)."""
        return self._q_many(0, obs.float(), actions[:, None, :])


class WolpertingerPolicy(TD3Policy):
    """TD3 policy whose actor and critics are the candidate-set networks.

    Parameters
    ----------
    *args
        As :class:`stable_baselines3.td3.policies.TD3Policy`.
    obs_dims : dict
        ``{"C", "n", "L"}`` of the environment.
    hidden : int
        Network width.
    embedding : {"onehot", "scalar"}
        Candidate embedding of the proto-action.
    **kwargs
        As the parent class.
    """

    def __init__(
        self, *args: Any, obs_dims: dict[str, Any], hidden: int = 64, embedding: str = "onehot", **kwargs: Any
    ) -> None:
        self.obs_dims, self.hidden, self.embedding = dict(obs_dims), int(hidden), embedding
        super().__init__(*args, **kwargs)

    def make_actor(self, features_extractor: Any = None) -> CandidateActor:  # type: ignore[override]
        """Candidate-set actor."""
        kw = self._update_features_extractor(self.actor_kwargs, features_extractor)
        return CandidateActor(**kw, obs_dims=self.obs_dims, hidden=self.hidden, embedding=self.embedding).to(self.device)

    def make_critic(self, features_extractor: Any = None) -> CandidateCritic:  # type: ignore[override]
        """Candidate-set twin critic."""
        kw = self._update_features_extractor(self.critic_kwargs, features_extractor)
        return CandidateCritic(**kw, obs_dims=self.obs_dims, hidden=self.hidden, embedding=self.embedding).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(obs_dims=self.obs_dims, hidden=self.hidden, embedding=self.embedding)
        return data
