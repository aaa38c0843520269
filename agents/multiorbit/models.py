"""Set networks of the multiorbit agents (torch).

* :class:`CandidateEncoder` -- a Transformer encoder over the slot's candidate satellites
  (tokens of :func:`agents.multiorbit.features.candidate_tokens`, padded candidates masked), so
  every candidate's embedding sees the others (which subset is worth serving depends on them).
* :class:`SelectorNet` -- one logit per candidate: serve it or not (behaviour cloning of
  DV-MOSS's subset; the selection env serves the positive scores, at most ``k_max``).
* :class:`AssocNet` -- per UE, logits over "unserved" and every candidate (masked to its cone):
  the pair MLP sees the candidate's embedding and the (UE, candidate) features.
* :class:`AssocCritic` -- the value of a joint association in a slot (the Wolpertinger critic):
  candidate tokens extended by the association's load on each candidate, encoded, pooled; with
  ``n_load = 2`` the same network values a serving *subset* (flags per candidate, see
  :func:`agents.multiorbit.features.subset_load`).
"""

from __future__ import annotations

import torch as th
from torch import nn

from agents.multiorbit.features import N_PAIR, N_TOKEN

__all__ = ["CandidateEncoder", "SelectorNet", "AssocNet", "AssocCritic"]

NEG = -1e9
"""Logit of a masked choice."""


class CandidateEncoder(nn.Module):
    """Tokens (B, S, n_in) -> embeddings (B, S, d) with self-attention over real candidates."""

    def __init__(self, n_in: int = N_TOKEN, d: int = 64, layers: int = 2, heads: int = 4) -> None:
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(n_in, d), nn.ReLU(), nn.Linear(d, d))
        layer = nn.TransformerEncoderLayer(d, heads, 2 * d, dropout=0.0, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, tokens: th.Tensor, mask: th.Tensor) -> th.Tensor:
        """Embeddings; ``mask`` (B, S) is 1 on real candidates."""
        pad = mask <= 0
        pad = pad & ~pad.all(dim=1, keepdim=True)  # a slot with no candidate: attend anyway
        return self.enc(self.inp(tokens), src_key_padding_mask=pad)


class SelectorNet(nn.Module):
    """Serve-or-not logit per candidate, (B, S); padded candidates get :data:`NEG`."""

    def __init__(self, d: int = 64, layers: int = 2, heads: int = 4) -> None:
        super().__init__()
        self.enc = CandidateEncoder(N_TOKEN, d, layers, heads)
        self.head = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 1))

    def forward(self, tokens: th.Tensor, mask: th.Tensor) -> th.Tensor:
        """Logits (B, S)."""
        z = self.head(self.enc(tokens, mask)).squeeze(-1)
        return th.where(mask > 0, z, th.full_like(z, NEG))


class AssocNet(nn.Module):
    """Per-UE logits over ``[unserved, candidate 0, ..., candidate S-1]``, (B, U, S+1)."""

    def __init__(self, d: int = 64, layers: int = 2, heads: int = 4) -> None:
        super().__init__()
        self.enc = CandidateEncoder(N_TOKEN, d, layers, heads)
        self.pair = nn.Sequential(nn.Linear(d + N_PAIR, d), nn.ReLU(), nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 1))
        self.none = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, tokens: th.Tensor, mask: th.Tensor, pairs: th.Tensor) -> th.Tensor:
        """Logits; ``pairs`` (B, U, S, N_PAIR) from :func:`~agents.multiorbit.features.pair_features`."""
        return self.logits_and_embedding(tokens, mask, pairs)[0]

    def logits_and_embedding(self, tokens: th.Tensor, mask: th.Tensor, pairs: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """Logits (B, U, S+1) and the mean candidate embedding (B, d)."""
        e = self.enc(tokens, mask)  # (B, S, d)
        b, u, s, _ = pairs.shape
        x = th.cat([e[:, None].expand(b, u, s, e.shape[-1]), pairs], dim=-1)
        z = self.pair(x).squeeze(-1)  # (B, U, S)
        vis = pairs[..., 3] > 0
        z = th.where(vis, z, th.full_like(z, NEG))
        ue = th.stack([pairs[..., 0].max(dim=2).values, vis.float().sum(2) / s, vis.any(2).float()], -1)
        m = mask[..., None]
        pooled = (e * m).sum(1) / m.sum(1).clamp(min=1.0)
        return th.cat([self.none(ue), z], dim=-1), pooled


class AssocCritic(nn.Module):
    """Objective [Mbit/s / 100] of a joint association, (B,).

    Inputs: candidate tokens, the mask, and per candidate the association's statistics
    (share of UEs on it, mean and min SNR/30 of those UEs, served flag), plus per slot the
    share of unserved UEs and the number of serving satellites / S.
    """

    N_LOAD = 4

    def __init__(self, d: int = 64, layers: int = 2, heads: int = 4, n_load: int = N_LOAD) -> None:
        super().__init__()
        self.enc = CandidateEncoder(N_TOKEN + n_load, d, layers, heads)
        self.out = nn.Sequential(nn.Linear(2 * d + 2, d), nn.ReLU(), nn.Linear(d, 1))

    def forward(self, tokens: th.Tensor, mask: th.Tensor, load: th.Tensor, glob: th.Tensor) -> th.Tensor:
        """Predicted objective / 100."""
        e = self.enc(th.cat([tokens, load], dim=-1), mask)
        m = mask[..., None]
        mean = (e * m).sum(1) / m.sum(1).clamp(min=1.0)
        mx = th.where(m > 0, e, th.full_like(e, NEG)).max(1).values
        return self.out(th.cat([mean, mx, glob], dim=-1)).squeeze(-1)
