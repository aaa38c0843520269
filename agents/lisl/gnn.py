"""Directed edge-conditioned message passing in plain torch (scatter-add; no torch-geometric).

:class:`ArcGNN` maps a snapshot graph (node features, arc features, arc tails and heads) to one
value per *arc*.  Every layer

1. sends a message along every arc and along its reverse,
   ``m_a = phi([h_tail(a), h_head(a), e_a])``, averaged into the head (incoming) and the tail
   (outgoing) separately, so the direction of traffic is kept;
2. updates nodes ``h_i <- LN(h_i + upd([h_i, mean_in_i, mean_out_i]))``;
3. updates arcs ``e_a <- LN(e_a + eupd([e_a, e_rev(a), h_tail(a), h_head(a)]))``, where ``rev(a)``
   is the opposite arc (arcs come in pairs ``2 l``, ``2 l + 1``).

Mean aggregation keeps the activations independent of the graph size, which is what lets a
model trained on I = 200-500 run on I = 1000.  :func:`batch_graphs` concatenates several graphs
into one disjoint graph (offsets on the node indices) for mini-batches.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["ArcGNN", "batch_graphs", "mlp"]


def mlp(sizes: Sequence[int], act: type[nn.Module] = nn.SiLU) -> nn.Sequential:
    """Fully connected layers with ``act`` between them (none after the last)."""
    layers: list[nn.Module] = []
    for k in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[k], sizes[k + 1]))
        if k < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def _mean_scatter(values: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
    out = values.new_zeros((n, values.shape[1]))
    out.index_add_(0, index, values)
    cnt = values.new_zeros(n)
    cnt.index_add_(0, index, values.new_ones(index.shape[0]))
    return out / cnt.clamp(min=1.0).unsqueeze(1)


class ArcGNN(nn.Module):
    """Message-passing network with one output per arc.

    Parameters
    ----------
    node_in, arc_in : int
        Input feature sizes.
    hidden : int
        Width of node and arc states.
    layers : int
        Message-passing rounds (the receptive field in hops).
    out : int
        Outputs per arc.
    """

    def __init__(self, node_in: int, arc_in: int, hidden: int = 64, layers: int = 4, out: int = 1):
        super().__init__()
        if min(node_in, arc_in, hidden, layers, out) < 1:
            raise ValueError("node_in, arc_in, hidden, layers and out must be >= 1")
        self.hidden = hidden
        self.node_enc = mlp([node_in, hidden, hidden])
        self.arc_enc = mlp([arc_in, hidden, hidden])
        self.msg = nn.ModuleList(mlp([3 * hidden, hidden, hidden]) for _ in range(layers))
        self.upd = nn.ModuleList(mlp([3 * hidden, hidden, hidden]) for _ in range(layers))
        self.eupd = nn.ModuleList(mlp([4 * hidden, hidden, hidden]) for _ in range(layers))
        self.nnorm = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
        self.enorm = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
        self.head = mlp([3 * hidden, hidden, out])

    def embed(
        self, node_x: torch.Tensor, arc_x: torch.Tensor, tail: torch.Tensor, head: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Final node and arc states, shapes (I, hidden) and (A, hidden)."""
        n = node_x.shape[0]
        hd = int(self.hidden)
        h = self.node_enc(node_x)
        e = self.arc_enc(arc_x)
        for msg, upd, eupd, nn_, en in zip(
            self.msg, self.upd, self.eupd, self.nnorm, self.enorm, strict=True
        ):
            # msg(cat[h_tail, h_head, e]) with its first layer split by input block: the node
            # blocks are applied once per node and gathered (I << A), the same function
            m = _split_first(msg, [h, h, e], [tail, head, None], hd)
            m_in = _mean_scatter(m, head, n)
            m_out = _mean_scatter(m, tail, n)
            h = nn_(h + upd(torch.cat([h, m_in, m_out], dim=1)))
            e_rev_perm = _reverse_index(e.shape[0], e.device)
            e = en(e + _split_first(eupd, [e, e, h, h], [None, e_rev_perm, tail, head], hd))
        return h, e

    def forward(
        self, node_x: torch.Tensor, arc_x: torch.Tensor, tail: torch.Tensor, head: torch.Tensor
    ) -> torch.Tensor:
        """Raw per-arc outputs, shape (A, out)."""
        h, e = self.embed(node_x, arc_x, tail, head)
        hd = e.shape[1]
        return _split_first(self.head, [e, h, h], [None, tail, head], hd)


def _reverse_index(n_arcs: int, device: torch.device) -> torch.Tensor:
    """Index of the opposite arc of every arc (``2 l`` <-> ``2 l + 1``)."""
    return torch.arange(n_arcs, device=device) ^ 1


def _split_first(
    net: nn.Module,
    blocks: Sequence[torch.Tensor],
    index: Sequence[torch.Tensor | None],
    width: int,
) -> torch.Tensor:
    """``net(cat([b[idx] for b, idx in ...], 1))`` without building the concatenation.

    The first linear layer is applied block by block (``x @ W_k^T``) *before* the gather, which
    is the same function (linear layers commute with row selection) at a fraction of the cost
    when a block has fewer rows (nodes) than the output (arcs).
    """
    assert isinstance(net, nn.Sequential)
    first = net[0]
    assert isinstance(first, nn.Linear)
    out = None
    for k, (b, idx) in enumerate(zip(blocks, index, strict=True)):
        y = b @ first.weight[:, k * width : (k + 1) * width].T
        if idx is not None:
            y = y[idx]
        out = y if out is None else out + y
    assert out is not None
    out = out + first.bias
    for layer in list(net)[1:]:
        out = layer(out)
    return out


def batch_graphs(
    graphs: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One disjoint graph of several ``(node_x, arc_x, tail, head)``; also each arc's graph id."""
    nodes, arcs, tails, heads, gid = [], [], [], [], []
    off = 0
    for k, (nx, ax, t, h) in enumerate(graphs):
        nodes.append(nx)
        arcs.append(ax)
        tails.append(t + off)
        heads.append(h + off)
        gid.append(torch.full((t.shape[0],), k, dtype=torch.long))
        off += nx.shape[0]
    return (
        torch.cat(nodes),
        torch.cat(arcs),
        torch.cat(tails),
        torch.cat(heads),
        torch.cat(gid),
    )
