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

import math
from typing import Any, cast

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
    "precedence_evidence",
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
        onehot = cast(torch.Tensor, self.onehot).expand(b, -1, -1)
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
    and each takes the free eligible satellite with the highest elevation at its centre.
    Unknown: the order and the minimum elevation.  The model holds

    * a precedence ``w_ij = sigmoid(u_ji - u_ij)`` for every pair of clusters: the belief that
      cluster ``j`` is served before ``i`` (``w_ij + w_ji = 1``), learned by gradient descent;
    * the eligibility threshold: bounds ``[L, U]`` of the primary's ``eps`` read off the
      training labels (:meth:`prepare`); training uses ``U``, prediction the value in
      ``[L, U]`` that decodes the training split best (:meth:`finalize`);
    * a fixed sharpness ``beta`` [1/deg] (large: the loss then only feels the epochs the
      current precedence gets wrong, not near-ties) and a learned taken-penalty ``gamma`` [deg].

    Training is teacher-forced (a pseudo-likelihood): the satellites the other clusters really
    got are known from the labels, so cluster ``i``'s logits are
    ``l_im = beta (e_im + gamma sum_{j != i, label_j = m} log(1 - w_ij))`` over its eligible
    satellites (ineligible ones 1000 deg lower, so they count only if none is eligible).  Only
    epochs where cluster ``i`` passed over a better satellite that cluster ``j`` got (proof
    that ``j`` comes first) give ``u`` a sizeable gradient.  The same proofs are also counted
    exactly (:func:`precedence_evidence`, in :meth:`prepare`).  Prediction is the rule itself:
    clusters in a topological order of the proofs (so every proven precedence and all it implies
    by transitivity hold), the learned ``w`` choosing among clusters with no remaining proven
    predecessor (``argmin_i max_j w_ij``); each takes its highest-elevation free eligible
    satellite (shared or fallback as in the rule); the logits put that choice first and order
    the rest by ``l``.
    """

    theta: torch.Tensor
    theta_train: torch.Tensor
    theta_bounds: torch.Tensor
    evidence: torch.Tensor

    def __init__(
        self,
        n_clusters: int,
        n_max: int,
        mask: bool = True,
        beta: float = 100.0,
        theta_deg: float = 0.0,
        robust_quantile: float = 0.0,
    ) -> None:
        super().__init__(n_clusters, n_max, mask)
        self.u = nn.Parameter(torch.zeros(n_clusters, n_clusters))
        self.log_gamma = nn.Parameter(torch.tensor(math.log(10.0)))
        self.beta = float(beta)
        self.register_buffer("theta", torch.tensor(float(theta_deg)))
        self.register_buffer("theta_train", torch.tensor(float(theta_deg)))
        self.register_buffer("theta_bounds", torch.tensor([float(theta_deg), float(theta_deg)]))
        # evidence[i, j]: training epochs that prove cluster i is served before cluster j
        self.register_buffer("evidence", torch.zeros(n_clusters, n_clusters))
        if not 0.0 <= robust_quantile < 0.5:
            raise ValueError(f"robust_quantile must be in [0, 0.5), got {robust_quantile}")
        self.robust_quantile = float(robust_quantile)

    @torch.no_grad()
    def prepare(self, train: Any) -> None:
        """Bounds of the primary's ``eps`` from the training labels (``AssignmentTensors``).

        Every serving satellite is eligible, so the smallest minimum elevation of a serving
        satellite, ``U``, is an upper bound of ``eps``; a satellite that no cluster got although
        it is higher at some cluster's centre than that cluster's own satellite was passed over,
        so it is ineligible there: the largest such minimum elevation, ``L``, is a lower bound.
        Training masks with ``U`` (no precedence is inferred from a satellite that might be
        ineligible); :meth:`finalize` picks the decoding threshold in ``[L, U]``.  With noisy
        labels one wrong label can move ``U`` anywhere: ``robust_quantile = q > 0`` takes the
        proofs only from satellites above the ``q`` quantile of the serving satellites' minimum
        elevations, and a precedence counts only when its net proofs exceed ``q`` times their
        total (the decoding threshold is still chosen on the training labels in ``[L, U]``).
        """
        lab = train.label
        e_lab = torch.gather(train.elev, 2, lab[..., None])  # (T, N, 1)
        taken = F.one_hot(lab, self.n_max).amax(1).bool()  # (T, M)
        passed = (train.elev > e_lab) & ~taken[:, None, :] & train.avail[:, None, :]
        low = train.elev_min[passed].double()
        served = torch.gather(train.elev_min, 2, lab[..., None]).double().flatten()
        upper = float(served.min())
        lower = float(low.max()) if low.numel() else upper - 15.0
        self.theta_bounds.copy_(torch.tensor([min(lower, upper - 0.25), upper]))
        q = self.robust_quantile  # proofs only from satellites surely eligible despite noise
        sure = float(torch.quantile(served, q)) if q > 0 else upper
        self.theta_train.fill_(upper)
        self.theta.fill_(upper)
        self.evidence.copy_(precedence_evidence(train.elev, train.elev_min, train.label, sure))

    @torch.no_grad()
    def finalize(self, train: Any, step_deg: float = 0.25) -> None:
        """Decoding threshold: the value in ``[L, U]`` whose decoded training top-1 is best."""
        lo, hi = (float(x) for x in self.theta_bounds)
        grid = torch.arange(lo + 1e-3, hi + 1e-6, step_deg).tolist() + [hi]
        batch = train.batch(torch.arange(len(train)))
        order = self.order().cpu().numpy()
        elev = batch["elev"].numpy().astype("float64")
        avail = batch["avail"].numpy()
        label = train.label.numpy()
        best = (-1.0, hi)
        for th in grid:
            res = sequential_assign(elev, batch["elev_min"].numpy() >= th, avail, order)
            acc = float((res.label == label).mean())
            if acc > best[0]:
                best = (acc, th)
        self.theta.fill_(best[1])

    def precedence(self) -> torch.Tensor:
        """``w_ij``: belief that cluster j is served before cluster i, diagonal 0, (N, N)."""
        w = torch.sigmoid(self.u.T - self.u)
        return w * (1.0 - torch.eye(self.n_clusters, dtype=w.dtype, device=w.device))

    def order(self) -> torch.Tensor:
        """Clusters from the first served to the last, shape (N,).

        A topological order of the proofs in :attr:`evidence` (net counts: ``i`` before ``j``
        when more epochs prove it than the reverse, which only label noise can cause), so every
        proven precedence and everything it implies by transitivity is respected.  Among the
        clusters with no remaining proven predecessor, the learned precedence ``w`` picks (the
        weakest belief in a remaining predecessor, ties by the total); it alone decides pairs the
        labels never prove.  Before :meth:`prepare` the evidence is empty and ``w`` alone orders.
        """
        w = self.precedence().detach()
        ev = self.evidence
        # net[i, j]: i proven before j (more proofs than against, by a margin under label noise)
        net = (ev - ev.T) > torch.clamp(self.robust_quantile * (ev + ev.T), min=0.0)
        left = list(range(self.n_clusters))
        out = []
        while left:
            sub = w[left][:, left]
            score = sub.amax(1) + 1e-3 * sub.sum(1)
            blocked = net[left][:, left].any(0)  # a remaining proven predecessor
            if bool(blocked.all()):  # a cycle of proofs (noisy labels): fewest proofs against
                blocked = torch.zeros_like(blocked)
                score = score + self.evidence[left][:, left].sum(0)
            score = score.masked_fill(blocked, float("inf"))
            out.append(left.pop(int(torch.argmin(score))))
        return torch.tensor(out)

    def base_scores(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Score in degrees: ``e`` if eligible, ``e - 1000`` if not, ``-1e6`` if unavailable."""
        elig = batch["elev_min"] >= (self.theta_train if self.training else self.theta)
        base = batch["elev"] - 1000.0 * (~elig).to(batch["elev"].dtype)
        return base.masked_fill(~batch["avail"][:, None, :], -1.0e6)

    def logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:  # noqa: D102
        base = self.base_scores(batch)
        if self.training and "label" in batch:
            x = self.u.T - self.u
            eye = torch.eye(self.n_clusters, dtype=torch.bool, device=x.device)
            log_1mw = F.logsigmoid(-x).masked_fill(eye, 0.0)  # log(1 - w_ij)
            got = F.one_hot(batch["label"], self.n_max).to(base.dtype)  # (B, N_j, M)
            taken = torch.einsum("ij,bjm->bim", log_1mw, got)
            return self.beta * (base + torch.exp(self.log_gamma) * taken)
        return self._decode(batch, base)

    @torch.no_grad()
    def _decode(self, batch: dict[str, torch.Tensor], base: torch.Tensor) -> torch.Tensor:
        elev = batch["elev"].detach().cpu().numpy().astype("float64")
        eligible = batch["elev_min"].detach().cpu().numpy() >= float(self.theta)
        avail = batch["avail"].detach().cpu().numpy()
        res = sequential_assign(elev, eligible, avail, self.order().cpu().numpy())
        choice = torch.as_tensor(res.label, device=base.device)
        return base.scatter(-1, choice[..., None], 1.0e6)

    def structure_scores(self) -> torch.Tensor | None:
        """Position of each cluster in the learned order (higher = served later)."""
        pos = torch.empty(self.n_clusters)
        pos[self.order()] = torch.arange(self.n_clusters, dtype=pos.dtype)
        return pos


@torch.no_grad()
def precedence_evidence(
    elev: torch.Tensor, elev_min: torch.Tensor, label: torch.Tensor, eps_upper_deg: float
) -> torch.Tensor:
    """Count the epochs that prove one cluster is served before another, shape (N, N).

    Under the HE rule cluster ``j`` takes the highest free eligible satellite.  If cluster ``i``
    got a satellite ``s`` that is surely eligible for ``j`` (minimum elevation over ``j``'s cells
    at least ``eps_upper_deg``, an upper bound of the primary's ``eps``) and higher at ``j``'s
    centre than what ``j`` got, then ``s`` was taken when ``j``'s turn came: ``i`` comes first.
    Entry ``[i, j]`` counts such epochs.  Sound for noise-free labels whatever the order;
    pairs that never compete get no proof.

    Parameters
    ----------
    elev, elev_min : Tensor, shape (T, N, M)
        Elevation at the cluster centres / minimum over the cluster's cells [deg].
    label : Tensor of int, shape (T, N)
        Serving satellite (rank index) of every cluster.
    eps_upper_deg : float
        Upper bound of the eligibility threshold [deg].
    """
    n = label.shape[1]
    idx = label[:, None, :].expand(-1, n, -1)  # [t, j, i] -> label[t, i]
    e_at = torch.gather(elev, 2, idx)  # e[t, j, label_i]
    sure = torch.gather(elev_min, 2, idx) >= eps_upper_deg
    own = torch.gather(elev, 2, label[..., None])  # e[t, j, label_j], (T, N, 1)
    proof = sure & (e_at > own)  # [t, j, i]: i took a better satellite that j could have had
    proof &= ~torch.eye(n, dtype=torch.bool, device=proof.device)
    return proof.sum(0).T.to(torch.float32).contiguous()


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
