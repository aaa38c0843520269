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
| ``priority`` | :class:`PriorityAssign` | elevations at centres, cluster minimum elevations | learned pairwise precedence + eligibility threshold, teacher-forced training, serial-dictatorship decoding (ours) |

:meth:`structure_scores` of a model returns, where the model has one, a score per cluster
whose order should follow the hidden priority ranks (higher score = served later), used for the
Kendall tau against the hidden priorities.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from leo_env.core.assignment import sequential_assign

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
        x = F.relu(
            self.encode(torch.cat([torch.cos(e) * present, torch.sin(e) * present, onehot], -1))
        )
        adj = self.adjacency()
        z = torch.cat(
            [torch.einsum("ij,bjf->bif", adj[g], w(x)) for g, w in enumerate(self.proj)], -1
        )
        return self.head(self.drop(z))

    def structure_scores(self) -> torch.Tensor | None:
        """``sum_{j != i} mean_g sigmoid(A^g_ij)``: how strongly the other clusters outrank i."""
        if self.complete:
            return None
        s = self.adjacency().mean(0)
        return s.sum(1) - s.diagonal()


class PriorityAssign(AssignmentModel):
    """Learned cluster precedence with the serial-dictatorship structure of the rule (ours).

    What is known about the primary: clusters are served one after the other in a fixed order
    and each takes the free eligible satellite it likes best.  The model learns

    * a precedence ``w_ij = sigmoid(u_ji - u_ij)`` for every pair of clusters: the belief that
      cluster ``j`` is served before ``i`` (``w_ij + w_ji = 1``);
    * the satellite preference ``beta * e_im`` (elevation at the cluster centre) and a soft
      eligibility ``alpha * log sigmoid((emin_im - theta) / s)`` with a learned threshold;
    * how strongly a taken satellite is avoided, ``gamma``.

    Training is teacher-forced (a pseudo-likelihood): the satellites the other clusters really
    got are known from the labels, so cluster ``i``'s logits are
    ``l_im = beta e_im + alpha log sigmoid((emin_im - theta) / s)
    + gamma sum_{j != i, label_j = m} log(1 - w_ij)`` -- no unrolled loop, and the gradient of
    ``u`` comes exactly from the conflicts that reveal the order.  Prediction is the rule
    itself: clusters sorted by ``sum_j w_ij`` (expected number of clusters served first), each
    takes its highest-elevation free satellite with ``emin >= theta`` (shared or fallback as in
    the rule); the logits put that choice first and order the rest by ``l``.
    """

    def __init__(
        self,
        n_clusters: int,
        n_max: int,
        mask: bool = True,
        theta_init_deg: float = 25.0,
    ) -> None:
        super().__init__(n_clusters, n_max, mask)
        self.u = nn.Parameter(torch.zeros(n_clusters, n_clusters))
        self.log_beta = nn.Parameter(torch.tensor(0.0))
        self.theta = nn.Parameter(torch.tensor(float(theta_init_deg)))
        self.log_s = nn.Parameter(torch.tensor(0.0))
        self.log_alpha = nn.Parameter(torch.tensor(1.0))
        self.log_gamma = nn.Parameter(torch.tensor(1.0))

    def precedence(self) -> torch.Tensor:
        """``w_ij``: belief that cluster j is served before cluster i, diagonal 0, (N, N)."""
        w = torch.sigmoid(self.u.T - self.u)
        return w * (1.0 - torch.eye(self.n_clusters, dtype=w.dtype, device=w.device))

    def order(self) -> torch.Tensor:
        """Clusters from the first served to the last (by ``sum_j w_ij``), shape (N,)."""
        return torch.argsort(self.precedence().sum(1), stable=True)

    def base_logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Preference and soft eligibility ``beta e + alpha log sigmoid((emin - theta)/s)``."""
        elig = F.logsigmoid((batch["elev_min"] - self.theta) / torch.exp(self.log_s))
        base = torch.exp(self.log_beta) * batch["elev"] + torch.exp(self.log_alpha) * elig
        return base.masked_fill(~batch["avail"][:, None, :], NEG)

    def logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:  # noqa: D102
        base = self.base_logits(batch)
        if self.training and "label" in batch:
            x = self.u.T - self.u
            eye = torch.eye(self.n_clusters, dtype=torch.bool, device=x.device)
            log_1mw = F.logsigmoid(-x).masked_fill(eye, 0.0)  # log(1 - w_ij)
            got = F.one_hot(batch["label"], self.n_max).to(base.dtype)  # (B, N_j, M)
            return base + torch.exp(self.log_gamma) * torch.einsum("ij,bjm->bim", log_1mw, got)
        return self._decode(batch, base)

    @torch.no_grad()
    def _decode(self, batch: dict[str, torch.Tensor], base: torch.Tensor) -> torch.Tensor:
        elev = batch["elev"].detach().cpu().numpy().astype("float64")
        eligible = batch["elev_min"].detach().cpu().numpy() >= float(self.theta)
        avail = batch["avail"].detach().cpu().numpy()
        res = sequential_assign(elev, eligible, avail, self.order().cpu().numpy())
        choice = torch.as_tensor(res.label, device=base.device)
        return base.scatter(-1, choice[..., None], -NEG)

    def structure_scores(self) -> torch.Tensor | None:
        """``sum_j w_ij``: expected number of clusters served before i (higher = later)."""
        return self.precedence().detach().sum(1)


def build_model(
    name: str, n_clusters: int, n_max: int, mask: bool, **kwargs: Any
) -> AssignmentModel:
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
