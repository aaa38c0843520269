"""Toy lisl problems with random geometry and brute-force references for the tests."""

from __future__ import annotations

import itertools
import math

import numpy as np

from leo_env.core.gateways import isl_traffic
from leo_env.core.lct import connectable_pairs, mounting_directions
from leo_env.core.optical import effective_rate_bps
from oracles.lisl.lp import rate_lp
from oracles.lisl.problem import LislProblem


def toy_problem(seed: int, n_sats: int = 5, lcts: int = 2, n_nearest: int = 2) -> LislProblem:
    """Satellites in a ~2000 km patch at 550 km, random along-track directions, FOR 80 deg."""
    rng = np.random.default_rng(seed)
    radius = 6.9281e6
    lat = np.radians(rng.uniform(-8, 8, n_sats))
    lon = np.radians(rng.uniform(-8, 8, n_sats))
    pos = radius * np.stack(
        [np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1
    )
    up = pos / radius
    vel = rng.normal(size=(n_sats, 3))
    vel -= np.einsum("ik,ik->i", vel, up)[:, None] * up
    vel *= 7.6e3 / np.linalg.norm(vel, axis=1, keepdims=True)
    lct_sat, lct_dir = mounting_directions(pos, vel, lcts)
    graph = connectable_pairs(
        pos,
        lct_sat,
        lct_dir,
        max_distance_m=3e6,
        half_angle_rad=math.radians(80),
        rate_fn=effective_rate_bps,
    )
    users = rng.integers(0, 8, n_sats)
    gw = rng.random(n_sats) < 0.5
    gw[0] = True
    users[0] = 1
    gw[-1] = False
    users[-1] = max(users[-1], 3)
    traffic = isl_traffic(
        pos, users, gw, gateway_capacity_bps=6e9, user_demand_bps=1e9, n_nearest=n_nearest
    )
    return LislProblem(graph, traffic)


def all_matchings(n_nodes: int, u: np.ndarray, v: np.ndarray, maximal_only: bool = False):
    """Every matching (as a bool mask over edges) of a small graph, by recursion."""
    ne = u.shape[0]
    out = []

    def rec(k: int, used: set, chosen: list) -> None:
        if k == ne:
            mask = np.zeros(ne, dtype=bool)
            mask[chosen] = True
            if maximal_only and any(
                not mask[e] and u[e] not in used and v[e] not in used for e in range(ne)
            ):
                return
            out.append(mask)
            return
        rec(k + 1, used, chosen)
        if u[k] not in used and v[k] not in used:
            rec(k + 1, used | {int(u[k]), int(v[k])}, [*chosen, k])

    rec(0, set(), [])
    return out


def simple_paths(problem: LislProblem, active: np.ndarray, s: int, t: int) -> list[list[int]]:
    """All simple arc paths from s to t over the active arcs."""
    tail, head = problem.graph.arc_tail, problem.graph.arc_head
    out_arcs: dict[int, list[int]] = {}
    for a in np.flatnonzero(active):
        out_arcs.setdefault(int(tail[a]), []).append(int(a))
    paths: list[list[int]] = []

    def dfs(node: int, seen: set, arcs: list) -> None:
        if node == t:
            paths.append(list(arcs))
            return
        for a in out_arcs.get(node, []):
            h = int(head[a])
            if h not in seen:
                dfs(h, seen | {h}, [*arcs, a])

    dfs(s, {s}, [])
    return paths


def brute_force_optimum(problem: LislProblem) -> float:
    """max over maximal matchings and one simple path per connected flow of the LP (35)."""
    g = problem.graph
    best = 0.0
    for c in all_matchings(g.n_lcts, g.pair_lct[:, 0], g.pair_lct[:, 1], maximal_only=True):
        cap = problem.arc_capacity_gbps(c)
        options = []
        for f in range(problem.n_flows):
            ps = simple_paths(problem, cap > 0, int(problem.flow_src[f]), int(problem.flow_dst[f]))
            options.append(ps if ps else [[]])
        for combo in itertools.product(*options):
            ptr = np.concatenate([[0], np.cumsum([len(p) for p in combo])]).astype(np.int64)
            arcs = np.array([a for p in combo for a in p], dtype=np.int64)
            best = max(best, float(rate_lp(problem, cap, ptr, arcs).sum()))
    return best
