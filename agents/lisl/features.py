"""Graph features of one lisl snapshot for the learned price models (numpy, no torch).

A snapshot becomes a directed graph: nodes = satellites, arcs = the ``2 L`` directed candidate
satellite pairs in the oracles' order (arc ``2 l`` is ``(i, j)``, ``2 l + 1`` is ``(j, i)`` for link
``l = (i, j)``), so a model's per-arc output *is* DuJo's price vector ``lambda``.

Node features (:data:`NODE_FEATURES`) and arc features (:data:`ARC_FEATURES`) are cheap to compute:
the only non-local one is a *routing load*: the summed flow caps ``min(Q_s, D_s')`` of the flows
whose shortest path on the whole candidate graph (OSPF-like costs ``1 / (sum of the pair's LCT
rates)``) crosses the arc (one batched Dijkstra, ~0.04 s at I = 1000 on this machine).  They tell a few rounds of message passing where the traffic wants to go;
everything else about congestion the network has to infer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leo_env.core.graph import shortest_paths
from oracles.lisl.problem import LislProblem

__all__ = ["NODE_FEATURES", "ARC_FEATURES", "GraphFeatures", "graph_features"]

NODE_FEATURES = (
    "log1p_serve_gbps",
    "log1p_demand_gbps",
    "gateway",
    "pos_x",
    "pos_y",
    "pos_z",
    "lcts_over_4",
    "log1p_flow_cap_out",
    "log1p_flow_cap_in",
    "log1p_degree",
)
"""Names of the node feature columns."""

ARC_FEATURES = (
    "log1p_rate_sum_gbps",
    "distance_over_zmax",
    "lct_pairs_over_16",
    "best_alignment_over_2",
    "log1p_route_load_gbps",
    "log1p_route_load_reverse_gbps",
    "log1p_route_flows",
)
"""Names of the arc feature columns (the ``_reverse`` ones belong to the opposite arc)."""


@dataclass(frozen=True)
class GraphFeatures:
    """Features of one snapshot (float32) and its directed structure.

    Attributes
    ----------
    node_x : ndarray, shape (I, len(NODE_FEATURES))
    arc_x : ndarray, shape (2L, len(ARC_FEATURES))
    tail, head : ndarray of int64, shape (2L,)
        Satellites of every arc.
    """

    node_x: np.ndarray
    arc_x: np.ndarray
    tail: np.ndarray
    head: np.ndarray

    @property
    def n_arcs(self) -> int:
        """Number of arcs ``2 L``."""
        return int(self.tail.shape[0])


def _route_load(problem: LislProblem, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flow-cap load and number of flows of every arc for one shortest path per flow."""
    na = problem.n_arcs
    if problem.n_flows == 0 or na == 0:
        return np.zeros(na), np.zeros(na)
    paths = shortest_paths(problem.arcs, cost, problem.flow_src, problem.flow_dst)
    owner = np.repeat(np.arange(problem.n_flows), paths.hops())
    load = np.bincount(paths.arcs, weights=problem.flow_cap_gbps[owner], minlength=na)
    count = np.bincount(paths.arcs, minlength=na).astype(float)
    return load, count


def _swap(a: np.ndarray) -> np.ndarray:
    """Value of the opposite arc (``2 l`` <-> ``2 l + 1``)."""
    return a.reshape(-1, 2)[:, ::-1].reshape(-1)


def graph_features(
    problem: LislProblem, pos_m: np.ndarray, max_distance_m: float = 3.0e6
) -> GraphFeatures:
    """Node and arc features of a snapshot.

    Parameters
    ----------
    problem : LislProblem
        The snapshot (graph and traffic).
    pos_m : ndarray, shape (I, 3)
        Satellite positions [m] (only their directions are used).
    max_distance_m : float
        Maximum LISL distance used to normalise arc lengths, > 0 [m].

    Returns
    -------
    GraphFeatures
    """
    if not max_distance_m > 0:
        raise ValueError(f"max_distance_m must be > 0, got {max_distance_m}")
    g = problem.graph
    n, nl = problem.n_sats, g.n_links
    pos = np.asarray(pos_m, dtype=float)
    if pos.shape != (n, 3):
        raise ValueError(f"pos_m must have shape ({n}, 3), got {pos.shape}")
    unit = pos / np.linalg.norm(pos, axis=1, keepdims=True)
    cap = problem.flow_cap_gbps
    cap_out = np.bincount(problem.flow_src, weights=cap, minlength=n)
    cap_in = np.bincount(problem.flow_dst, weights=cap, minlength=n)
    lcts = np.bincount(g.lct_sat, minlength=n)
    tail, head = g.arc_tail.astype(np.int64), g.arc_head.astype(np.int64)
    degree = np.bincount(tail, minlength=n)
    node_x = np.column_stack(
        [
            np.log1p(problem.serve_gbps),
            np.log1p(problem.demand_gbps),
            problem.traffic.has_gateway.astype(float),
            unit,
            lcts / 4.0,
            np.log1p(cap_out),
            np.log1p(cap_in),
            np.log1p(degree),
        ]
    )
    rate_sum = np.bincount(g.pair_link, weights=problem.rate_gbps, minlength=nl)
    count = np.bincount(g.pair_link, minlength=nl)
    align = np.full(nl, -2.0)
    np.maximum.at(align, g.pair_link, g.pair_align)
    link_x = np.column_stack(
        [np.log1p(rate_sum), g.link_distance_m / max_distance_m, count / 16.0, align / 2.0]
    )
    load, n_routed = _route_load(problem, np.repeat(1.0 / np.maximum(rate_sum, 1e-6), 2))
    arc_x = np.column_stack(
        [
            np.repeat(link_x, 2, axis=0),
            np.log1p(load),
            np.log1p(_swap(load)),
            np.log1p(n_routed),
        ]
    )
    return GraphFeatures(node_x.astype(np.float32), arc_x.astype(np.float32), tail, head)
