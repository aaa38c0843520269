"""The arrays of one lisl snapshot as the oracles see them (built once, solved many times).

Units inside the oracles: rates in Gbit/s (prices are then per Gbit/s and Lemma 1's box
``[0, 1]`` holds), distances in metres.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from leo_env.core.gateways import IslTraffic
from leo_env.core.graph import ArcGraph
from leo_env.core.lct import LctGraph

__all__ = ["LislProblem"]


@dataclass(frozen=True, eq=False)
class LislProblem:
    """One snapshot: connectable LCT pairs, satellite arcs and flows.

    Attributes
    ----------
    graph : LctGraph
        LCTs, connectable pairs ``E`` (rates), satellite pairs ``L``.
    traffic : IslTraffic
        Serving/demand rates and the flow set ``F``.

    Notes
    -----
    Arc ``2 l`` is ``(i, j)`` and ``2 l + 1`` is ``(j, i)`` for link ``l = (i, j)``; an
    established LISL of rate ``r`` adds ``r`` to the capacity of both arcs.
    """

    graph: LctGraph
    traffic: IslTraffic

    def __post_init__(self) -> None:
        n = self.graph.n_sats
        t = self.traffic
        if t.serve_bps.shape != (n,) or t.demand_bps.shape != (n,):
            raise ValueError(f"traffic must describe {n} satellites (the graph's n_sats)")
        if t.flows.size and (t.flows.min() < 0 or t.flows.max() >= n):
            raise ValueError(f"traffic.flows must hold satellite indices in [0, {n})")

    @property
    def n_sats(self) -> int:
        """Satellites I."""
        return self.graph.n_sats

    @property
    def n_arcs(self) -> int:
        """Directed satellite pairs, 2 |L|."""
        return 2 * self.graph.n_links

    @property
    def n_flows(self) -> int:
        """Flows |F|."""
        return int(self.traffic.flows.shape[0])

    @cached_property
    def arcs(self) -> ArcGraph:
        """The directed satellite graph ``G_SAT`` (structure only)."""
        return ArcGraph(self.n_sats, self.graph.arc_tail, self.graph.arc_head)

    @cached_property
    def flow_src(self) -> np.ndarray:
        """Source ``s`` of every flow, shape (F,)."""
        return np.ascontiguousarray(self.traffic.flows[:, 0])

    @cached_property
    def flow_dst(self) -> np.ndarray:
        """Target ``s'`` of every flow, shape (F,)."""
        return np.ascontiguousarray(self.traffic.flows[:, 1])

    @cached_property
    def serve_gbps(self) -> np.ndarray:
        """``Q_i`` [Gbit/s], shape (I,)."""
        return self.traffic.serve_bps / 1e9

    @cached_property
    def demand_gbps(self) -> np.ndarray:
        """``D_i`` [Gbit/s], shape (I,)."""
        return self.traffic.demand_bps / 1e9

    @cached_property
    def rate_gbps(self) -> np.ndarray:
        """``r_nm`` of every connectable LCT pair [Gbit/s], shape (E,)."""
        return self.graph.pair_rate_bps / 1e9

    @cached_property
    def flow_cap_gbps(self) -> np.ndarray:
        """``min(Q_s, D_s')`` of every flow [Gbit/s], shape (F,)."""
        return np.minimum(self.serve_gbps[self.flow_src], self.demand_gbps[self.flow_dst])

    def pair_price(self, lam: np.ndarray) -> np.ndarray:
        """``lambda_ij + lambda_ji`` of the satellite pair of every LCT pair, shape (E,)."""
        lam = np.asarray(lam, dtype=float)
        if lam.shape != (self.n_arcs,):
            raise ValueError(f"lam must have shape ({self.n_arcs},), got {lam.shape}")
        link = self.graph.pair_link
        return lam[2 * link] + lam[2 * link + 1]

    def arc_capacity_gbps(self, matched: np.ndarray) -> np.ndarray:
        """Capacity of every arc for a 0/1 matching of LCT pairs [Gbit/s], shape (2L,)."""
        cap = self.graph.link_capacity_bps(matched) / 1e9
        return np.repeat(cap, 2)
