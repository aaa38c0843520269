"""Step logic shared by the scalar and the vector lisl environment (one episode at a time)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

from leo_env.envs.lisl.params import LislEnvParams
from leo_env.scenario.lisl import LislInstance, build_lisl_instance
from oracles.lisl.baselines import ospf_cost
from oracles.lisl.objective import served_share, throughput_gbps
from oracles.lisl.problem import LislProblem
from oracles.lisl.routing import match, route_and_rate

__all__ = [
    "N_NODE_FEATURES",
    "N_EDGE_FEATURES",
    "INFO_KEYS",
    "make_spaces",
    "graph_observation",
    "Episode",
]

N_NODE_FEATURES = 6
N_EDGE_FEATURES = 5
FEATURE_HIGH = 50.0
INFO_KEYS = (
    "snapshot",
    "t_s",
    "throughput_gbps",
    "served_share",
    "demand_gbps",
    "n_lisls",
    "n_usable_lisls",
    "n_flows",
    "connected_flows",
    "mean_hops",
    "n_links",
)


def make_spaces(p: LislEnvParams) -> tuple[spaces.Dict, spaces.Box]:
    """Observation and action spaces of one environment."""
    n, lmax = p.n_sats, p.links_capacity()
    obs = spaces.Dict(
        {
            "nodes": spaces.Box(-1.0, FEATURE_HIGH, (n, N_NODE_FEATURES), np.float32),
            "edges": spaces.Box(-1.0, FEATURE_HIGH, (lmax, N_EDGE_FEATURES), np.float32),
            "edge_index": spaces.Box(0, n - 1, (lmax, 2), np.int64),
            "edge_mask": spaces.MultiBinary(lmax),
        }
    )
    shape = (lmax, 2) if p.action_mode == "prices" else (lmax,)
    return obs, spaces.Box(0.0, 1.0, shape, np.float32)


def _zero_info(snapshot: int, t_s: float) -> dict[str, Any]:
    info: dict[str, Any] = dict.fromkeys(INFO_KEYS, 0.0)
    for k in ("n_lisls", "n_usable_lisls", "n_flows", "connected_flows", "n_links"):
        info[k] = 0
    info["snapshot"] = int(snapshot)
    info["t_s"] = float(t_s)
    return info


def graph_observation(
    instance: LislInstance,
    problem: LislProblem,
    max_links: int,
    *,
    max_distance_km: float = 3000.0,
    pair_age: np.ndarray | None = None,
    acquisition_snapshots: int = 0,
) -> dict[str, np.ndarray]:
    """The padded graph observation of one snapshot (the ``observation_space`` of the env).

    Parameters
    ----------
    instance, problem : LislInstance, LislProblem
        The snapshot.
    max_links : int
        Padding ``L_max`` (>= the snapshot's candidate satellite pairs).
    max_distance_km : float
        Normalisation of the pair distances [km].
    pair_age : ndarray of int, shape (E,), optional
        Snapshots each connectable LCT pair has been held (zeros when omitted).
    acquisition_snapshots : int
        ``tau`` of the age feature.
    """
    g, lmax = instance.graph, int(max_links)
    nl = g.n_links
    if nl > lmax:
        raise ValueError(f"the snapshot has {nl} candidate pairs > max_links = {lmax}")
    pos_unit = instance.pos_m / np.linalg.norm(instance.pos_m, axis=1, keepdims=True)
    nodes = np.column_stack(
        [
            np.log1p(problem.serve_gbps),
            np.log1p(problem.demand_gbps),
            instance.traffic.has_gateway.astype(float),
            pos_unit,
        ]
    )
    rate_sum = np.bincount(g.pair_link, weights=problem.rate_gbps, minlength=nl)
    count = np.bincount(g.pair_link, minlength=nl)
    align = np.full(nl, -2.0)
    np.maximum.at(align, g.pair_link, g.pair_align)
    tau = int(acquisition_snapshots)
    ages = np.zeros(g.n_pairs, dtype=np.int64) if pair_age is None else np.asarray(pair_age)
    age = np.zeros(nl)
    np.maximum.at(age, g.pair_link, np.minimum(ages, tau + 1) / (tau + 1))
    edges = np.zeros((lmax, N_EDGE_FEATURES))
    edges[:nl] = np.column_stack(
        [
            np.log1p(rate_sum),
            g.link_distance_m / (max_distance_km * 1e3),
            count / 16.0,
            align / 2.0,
            age,
        ]
    )
    index = np.zeros((lmax, 2), dtype=np.int64)
    index[:nl] = g.link_sat
    mask = np.zeros(lmax, dtype=np.int8)
    mask[:nl] = 1
    return {
        "nodes": np.clip(nodes, -1.0, FEATURE_HIGH).astype(np.float32),
        "edges": np.clip(edges, -1.0, FEATURE_HIGH).astype(np.float32),
        "edge_index": index,
        "edge_mask": mask,
    }


class Episode:
    """One episode: snapshots ``k = 0..K-1`` of a seeded satellite subset, link ages for tau."""

    def __init__(self, params: LislEnvParams) -> None:
        self.p = params
        self.lmax = params.links_capacity()
        self.seed = 0
        self.k = 0
        self.instance: LislInstance | None = None
        self.problem: LislProblem | None = None
        self._age: dict[tuple[int, int], int] = {}

    # --------------------------------------------------------------- snapshots
    def start(self, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """New episode: draw the scenario seed from ``rng`` and load snapshot 0."""
        self.seed = int(rng.integers(0, 2**31 - 1))
        self.k = 0
        self._age = {}
        self._load()
        return self.observation(), _zero_info(0, self.t_s)

    @property
    def t_s(self) -> float:
        """Time of the current snapshot [s]."""
        return self.k * self.p.snapshot_interval_s

    @property
    def done(self) -> bool:
        """Whether the episode has played all its snapshots."""
        return self.k >= self.p.n_snapshots

    def _load(self) -> None:
        inst = build_lisl_instance(self.p.scenario_config(self.seed, self.t_s))
        if inst.graph.n_links > self.lmax:
            raise RuntimeError(
                f"snapshot has {inst.graph.n_links} candidate satellite pairs > max_links = "
                f"{self.lmax}; raise LislEnvParams.max_links"
            )
        self.instance = inst
        self.problem = LislProblem(inst.graph, inst.traffic)

    def _pair_age(self) -> np.ndarray:
        g = self.instance.graph  # type: ignore[union-attr]
        return np.array(
            [self._age.get((int(a), int(b)), 0) for a, b in g.pair_lct], dtype=np.int64
        ).reshape(g.n_pairs)

    def observation(self) -> dict[str, np.ndarray]:
        """Padded graph observation of the current snapshot."""
        inst, pb = self.instance, self.problem
        assert inst is not None and pb is not None
        return graph_observation(
            inst,
            pb,
            self.lmax,
            max_distance_km=self.p.max_distance_km,
            pair_age=self._pair_age(),
            acquisition_snapshots=self.p.acquisition_snapshots,
        )

    # --------------------------------------------------------------- actions
    def prices_from_action(self, action: np.ndarray) -> np.ndarray:
        """Arc prices ``lambda`` (shape (2L,)) of a ``prices`` action (shape (L_max, 2))."""
        a = np.asarray(action, dtype=float)
        nl = self.problem.graph.n_links  # type: ignore[union-attr]
        return np.clip(a[:nl], 0.0, 1.0).reshape(2 * nl)

    def action_from_prices(self, lam: np.ndarray) -> np.ndarray:
        """The ``prices`` action of arc prices ``lambda`` (inverse of :meth:`prices_from_action`)."""
        out = np.zeros((self.lmax, 2), dtype=np.float32)
        lam = np.clip(np.asarray(lam, dtype=float), 0.0, 1.0)
        out[: lam.size // 2] = lam.reshape(-1, 2)
        return out

    def decide(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Matching, usable links and arc costs for an action."""
        pb = self.problem
        assert pb is not None
        rate = pb.rate_gbps
        a = np.asarray(action, dtype=float)
        if not np.all(np.isfinite(a)):
            raise ValueError("action must be finite")
        if self.p.action_mode == "prices":
            lam = self.prices_from_action(a)
            c = match(pb, pb.pair_price(lam) * rate, take_nonpositive=True, tiebreak=rate)
            cost = lam + 1e-9
        else:
            score = np.clip(a[: pb.graph.n_links], 0.0, 1.0)
            c = match(pb, score[pb.graph.pair_link] * rate, take_nonpositive=True, tiebreak=rate)
            cost = None
        tau = self.p.acquisition_snapshots
        usable = c & (self._pair_age() >= tau) if tau > 0 else c.copy()
        if cost is None:
            cost = ospf_cost(pb, usable)
        return c, usable, cost

    def step(self, action: np.ndarray) -> tuple[float, dict[str, Any]]:
        """Play the current snapshot; advance to the next (loaded unless the episode ends)."""
        pb = self.problem
        assert pb is not None
        c, usable, cost = self.decide(action)
        paths, q = route_and_rate(pb, usable, cost)
        reward = served_share(pb, q)
        hops = np.diff(paths.ptr)
        info = _zero_info(self.k, self.t_s)
        info.update(
            throughput_gbps=throughput_gbps(q),
            served_share=reward,
            demand_gbps=float(pb.demand_gbps.sum()),
            n_lisls=int(c.sum()),
            n_usable_lisls=int(usable.sum()),
            n_flows=pb.n_flows,
            connected_flows=int(paths.reachable.sum()),
            mean_hops=float(hops[q > 0].mean()) if np.any(q > 0) else 0.0,
            n_links=pb.graph.n_links,
        )
        g = pb.graph
        self._age = {
            (int(a), int(b)): self._age.get((int(a), int(b)), 0) + 1 for a, b in g.pair_lct[c]
        }
        self.k += 1
        if not self.done:
            self._load()
        if not math.isfinite(reward):
            raise RuntimeError("non-finite reward")
        return float(reward), info
