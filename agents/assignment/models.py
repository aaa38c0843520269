"""Models that predict the primary's cluster-to-satellite assignment of an epoch.

Every model maps a batch (``dict`` of :meth:`agents.assignment.data.AssignmentTensors.batch`) to
logits of shape (B, N, M): for every cluster a score per ranked satellite.  With ``mask=True``
the logits of satellites outside the ranked list are set to a large negative number.

| name | class | input | structure |
|---|---|---|---|
| ``perceptron`` | :class:`Perceptron` | flattened lat/lon of satellites and centres + elevations | one linear layer to N x M logits |
| ``mlp3`` | :class:`MLP3` | same | three hidden layers of 2048, SELU, dropout 0.3 |
| ``gsl`` | :class:`GSL` | per cluster ``[cos e_n; sin e_n; onehot(n)]`` | G learned adjacencies ``sigmoid(A^g)``, shared MLP head |
| ``complete_gnn`` | :class:`GSL` (``complete=True``) | same | every adjacency weight fixed to 1 |
| ``priority`` | :class:`PriorityAssign` | elevations at centres, cluster minimum elevations | learned priority per cluster, differentiable serial dictatorship (ours) |

:meth:`structure_scores` of a model returns, where the model has one, a score per cluster
whose order should follow the hidden priority ranks (higher score = served later), used for the
Kendall tau against the hidden priorities.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

__all__ = [
    "AssignmentModel",
    "Perceptron",
    "MLP3",
    "GSL",
    "PriorityAssign",
    "build_model",
    "NEG",
]

NEG = -1.0e4
"""Logit given to masked (unavailable) satellites."""


class AssignmentModel(nn.Module):
    """Base class: ``forward(batch) -> logits (B, N, M)``, optional masking."""

    def __init__(self, n_clusters: int, n_max: int, mask: bool) -> None:
        super().__init__()
        self.n_clusters = int(n_clusters)
        self.n_max = int(n_max)
        self.mask = bool(mask)

    def logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Unmasked logits (B, N, M)."""
        raise NotImplementedError

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits (B, N, M), masked where ``self.mask``."""
        out = self.logits(batch)
        if self.mask:
            out = out.masked_fill(~batch["avail"][:, None, :], NEG)
        return out

    def structure_scores(self) -> torch.Tensor | None:
        """Per-cluster score that should rise with the priority rank, or None."""
        return None


def _flat_features(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Satellite lat/lon (M x 2), cluster centres (N x 2), elevations / 90 (N x M), flattened."""
    b = batch["elev"].shape[0]
    return torch.cat(
        [
            batch["sat_latlon"].reshape(b, -1),
            batch["centre_latlon"].reshape(b, -1),
            (batch["elev"] / 90.0).reshape(b, -1),
        ],
        dim=1,
    )


class Perceptron(AssignmentModel):
    """One linear layer from the flattened input to N x M logits (no hidden layer)."""

    def __init__(self, n_clusters: int, n_max: int, mask: bool = False) -> None:
        super().__init__(n_clusters, n_max, mask)
        d_in = 2 * n_max + 2 * n_clusters + n_clusters * n_max
        self.linear = nn.Linear(d_in, n_clusters * n_max)

    def logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:  # noqa: D102
        return self.linear(_flat_features(batch)).view(-1, self.n_clusters, self.n_max)


class MLP3(AssignmentModel):
    """Three hidden layers (``hidden`` neurons, SELU, dropout) on the flattened input."""

    def __init__(
        self,
        n_clusters: int,
        n_max: int,
        mask: bool = False,
        hidden: int = 2048,
        dropout: float = 0.3,
    ) -> None:
        super().__init__(n_clusters, n_max, mask)
        d_in = 2 * n_max + 2 * n_clusters + n_clusters * n_max
        layers: list[nn.Module] = []
        for d in (d_in, hidden, hidden):
            layers += [nn.Linear(d, hidden), nn.SELU(), nn.Dropout(dropout)]
        layers.append(nn.Linear(hidden, n_clusters * n_max))
        self.net = nn.Sequential(*layers)

    def logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:  # noqa: D102
        return self.net(_flat_features(batch)).view(-1, self.n_clusters, self.n_max)


class GSL(AssignmentModel):
    """Graph structure learning classifier (and the complete GNN with ``complete=True``).

    ``x_n = ReLU(W0 [cos e_n; sin e_n; onehot_n] + b0)`` (width ``2 (2 M + N)``, absent
    satellites give zeros); for every graph ``g``: ``z_i^g = sum_j sigmoid(A^g_ij) W^g x_j``
    (``j = i`` included, no non-linearity); ``z_i`` concatenates the G graphs; logits
    ``MLP(dropout(z_i))`` with a head 1024-512-256 (LeakyReLU 0.1, dropout) shared by the nodes.
    ``A^g`` starts at ``N(0, variance 1e-4)``.
    """

    def __init__(
        self,
        n_clusters: int,
        n_max: int,
        mask: bool = False,
        graphs: int = 4,
        features: int = 64,
        dropout: float = 0.1,
        head: tuple[int, ...] = (1024, 512, 256),
        complete: bool = False,
    ) -> None:
        super().__init__(n_clusters, n_max, mask)
        n, m = n_clusters, n_max
        d0 = 2 * (2 * m + n)
        self.encode = nn.Linear(2 * m + n, d0)
        self.proj = nn.ModuleList(nn.Linear(d0, features, bias=False) for _ in range(graphs))
        self.complete = bool(complete)
        if self.complete:
            self.register_buffer("adj_raw", torch.zeros(graphs, n, n))
        else:
            self.adj_raw = nn.Parameter(torch.randn(graphs, n, n) * 1e-2)
        self.drop = nn.Dropout(dropout)
        layers: list[nn.Module] = []
        d = graphs * features
        for h in head:
            layers += [nn.Linear(d, h), nn.LeakyReLU(0.1), nn.Dropout(dropout)]
            d = h
        layers.append(nn.Linear(d, m))
        self.head = nn.Sequential(*layers)
        self.register_buffer("onehot", torch.eye(n))

    def adjacency(self) -> torch.Tensor:
        """Edge weights ``sigmoid(A^g)`` (ones for the complete GNN), shape (G, N, N)."""
        if self.complete:
            return torch.ones_like(self.adj_raw)
        return torch.sigmoid(self.adj_raw)

    def logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:  # noqa: D102
        e = torch.deg2rad(batch["elev"])
        present = batch["avail"][:, None, :].to(e.dtype)
        b = e.shape[0]
        onehot = self.onehot.expand(b, -1, -1)
        x = F.relu(self.encode(torch.cat([torch.cos(e) * present, torch.sin(e) * present, onehot], -1)))
        adj = self.adjacency()
        z = torch.cat([torch.einsum("ij,bjf->bif", adj[g], w(x)) for g, w in enumerate(self.proj)], -1)
        return self.head(self.drop(z))

    def structure_scores(self) -> torch.Tensor | None:
        """``sum_{j != i} mean_g sigmoid(A^g_ij)``: how strongly the other clusters outrank i."""
        if self.complete:
            return None
        s = self.adjacency().mean(0)
        return s.sum(1) - s.diagonal()


class PriorityAssign(AssignmentModel):
    """Learned priorities with a differentiable serial dictatorship (our model).

    What is known about the primary: clusters are served one after the other in a fixed order,
    each takes the best free eligible satellite.  The model learns the order (a score ``p_n``
    per cluster), how elevation ranks satellites (``beta``), the eligibility threshold
    (``theta``, soft with width ``s``) and how strongly a taken satellite is avoided:

    ``w_ij = sigmoid((p_i - p_j) / tau)`` is the belief that cluster ``j`` is served before
    ``i`` (higher ``p`` = later).  Starting from ``P_i = softmax(l_i)`` with
    ``l_i = beta * e_i + alpha * log sigmoid((emin_i - theta) / s)``, ``rounds`` mean-field
    rounds update ``P_i = softmax(l_i + gamma * sum_j log(1 - w_ij P_j))``: the log-probability
    that no earlier cluster took the satellite.  With hard weights and ``rounds >= N`` this is
    the serial dictatorship exactly (round k settles the k-th cluster); if every eligible
    satellite is taken the penalties are equal and the best eligible one wins, as in the rule.
    """

    def __init__(
        self,
        n_clusters: int,
        n_max: int,
        mask: bool = True,
        rounds: int | None = None,
        theta_init_deg: float = 25.0,
    ) -> None:
        super().__init__(n_clusters, n_max, mask)
        self.rounds = int(rounds) if rounds is not None else int(n_clusters)
        self.p = nn.Parameter(torch.randn(n_clusters) * 1e-2)
        self.log_beta = nn.Parameter(torch.tensor(0.0))
        self.theta = nn.Parameter(torch.tensor(float(theta_init_deg)))
        self.log_s = nn.Parameter(torch.tensor(0.0))
        self.log_alpha = nn.Parameter(torch.tensor(1.0))
        self.log_gamma = nn.Parameter(torch.tensor(1.0))
        self.log_tau = nn.Parameter(torch.tensor(-1.0))

    def logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:  # noqa: D102
        avail = batch["avail"][:, None, :]
        base = torch.exp(self.log_beta) * batch["elev"] + torch.exp(self.log_alpha) * F.logsigmoid(
            (batch["elev_min"] - self.theta) / torch.exp(self.log_s)
        )
        base = base.masked_fill(~avail, NEG)
        w = torch.sigmoid((self.p[:, None] - self.p[None, :]) / torch.exp(self.log_tau))
        w = w * (1.0 - torch.eye(self.n_clusters, dtype=w.dtype, device=w.device))
        gamma = torch.exp(self.log_gamma)
        out = base
        for _ in range(self.rounds):
            prob = torch.softmax(out, dim=-1)  # (B, N, M)
            # log P(no earlier cluster took m) = sum_j log(1 - w_ij P_jm)
            free = torch.log1p(-(w[None, :, :, None] * prob[:, None, :, :]).clamp(max=1 - 1e-6)).sum(2)
            out = base + gamma * free
        return out

    def structure_scores(self) -> torch.Tensor | None:
        """The learned priorities ``p`` (higher = served later)."""
        return self.p.detach().clone()


def build_model(name: str, n_clusters: int, n_max: int, mask: bool, **kwargs: Any) -> AssignmentModel:
    """Model by name (see the module table)."""
    if name == "perceptron":
        return Perceptron(n_clusters, n_max, mask, **kwargs)
    if name == "mlp3":
        return MLP3(n_clusters, n_max, mask, **kwargs)
    if name == "gsl":
        return GSL(n_clusters, n_max, mask, **kwargs)
    if name == "complete_gnn":
        return GSL(n_clusters, n_max, mask, complete=True, **kwargs)
    if name == "priority":
        return PriorityAssign(n_clusters, n_max, mask, **kwargs)
    raise ValueError(f"unknown model {name!r}")
