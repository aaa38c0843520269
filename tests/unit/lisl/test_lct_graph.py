import itertools
import math

import numpy as np
import pytest

from leo_env.core.gateways import (
    EARTH_RADIUS_M,
    isl_traffic,
    latlon_to_unit,
    population_within,
    read_sites_csv,
    within_range,
)
from leo_env.core.graph import ArcGraph, exact_matching, greedy_matching, shortest_paths
from leo_env.core.lct import connectable_pairs, mounting_directions
from leo_env.core.optical import effective_rate_bps
from tests.unit.lisl.toy import all_matchings


def _random_sats(rng, n):
    pos = rng.normal(size=(n, 3))
    pos *= 6.9e6 / np.linalg.norm(pos, axis=1, keepdims=True)
    vel = np.cross(pos, rng.normal(size=(n, 3)))
    vel *= 7.6e3 / np.linalg.norm(vel, axis=1, keepdims=True)
    return pos, vel


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_mounting_directions(k):
    pos, vel = _random_sats(np.random.default_rng(k), 7)
    sat, u = mounting_directions(pos, vel, k)
    assert np.array_equal(sat, np.repeat(np.arange(7), k))
    assert np.allclose(np.linalg.norm(u, axis=1), 1.0)
    v_hat = vel / np.linalg.norm(vel, axis=1, keepdims=True)
    assert np.allclose(u[0::k], v_hat)
    if k >= 2:
        assert np.allclose(u[1::k], -v_hat)
    if k >= 3:  # orbit normal, perpendicular to r and v
        assert np.allclose(np.einsum("ik,ik->i", u[2::k], pos), 0.0, atol=1e-3)
        assert np.allclose(np.einsum("ik,ik->i", u[2::k], vel), 0.0, atol=1e-6)


def test_mounting_directions_rejects_bad_counts():
    pos, vel = _random_sats(np.random.default_rng(0), 3)
    with pytest.raises(ValueError, match="lcts_per_sat"):
        mounting_directions(pos, vel, 5)


@pytest.mark.parametrize("seed", range(4))
def test_connectable_pairs_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    pos, vel = _random_sats(rng, 40)
    counts = rng.integers(1, 5, 40)
    sat, u = mounting_directions(pos, vel, counts)
    theta, zmax = math.radians(60), 5e6
    g = connectable_pairs(
        pos, sat, u, max_distance_m=zmax, half_angle_rad=theta, rate_fn=effective_rate_bps
    )
    expect = set()
    for n, m in itertools.combinations(range(sat.size), 2):
        i, j = sat[n], sat[m]
        if i == j:
            continue
        d = pos[j] - pos[i]
        z = np.linalg.norm(d)
        if z <= zmax and d @ u[n] / z > math.cos(theta) and -d @ u[m] / z > math.cos(theta):
            expect.add((n, m))
    got = {tuple(p) for p in g.pair_lct.tolist()}
    assert got == expect and len(expect) > 0
    i, j = g.link_sat[g.pair_link].T
    assert np.array_equal(i, sat[g.pair_lct[:, 0]]) and np.array_equal(j, sat[g.pair_lct[:, 1]])
    z = np.linalg.norm(pos[j] - pos[i], axis=1)
    assert np.allclose(g.pair_rate_bps, effective_rate_bps(z))
    assert np.all(g.pair_align > 2 * math.cos(theta)) and np.all(g.pair_align <= 2 + 1e-12)
    assert np.allclose(
        g.link_capacity_bps(np.ones(g.n_pairs, bool)), np.bincount(g.pair_link, g.pair_rate_bps)
    )


def _brute_max_matching(n, u, v, w):
    best = 0.0
    for mask in all_matchings(n, u, v):
        best = max(best, float(w[mask].sum()))
    return best


@pytest.mark.parametrize("seed", range(8))
def test_exact_matching_equals_brute_force_and_greedy_half(seed):
    rng = np.random.default_rng(seed)
    n = 9
    edges = [(a, b) for a in range(n) for b in range(a + 1, n) if rng.random() < 0.35]
    u = np.array([e[0] for e in edges])
    v = np.array([e[1] for e in edges])
    w = rng.exponential(size=len(edges))
    if seed % 2:
        w[rng.random(len(edges)) < 0.3] = 0.0  # ties and zero weights
    best = _brute_max_matching(n, u, v, w)
    ex = exact_matching(n, u, v, w)
    assert ex.weight == pytest.approx(best, rel=1e-12, abs=1e-12)
    assert best <= ex.upper_bound <= best * (1 + 1e-9) + 1e-12
    gr = greedy_matching(n, u, v, w)
    assert np.bincount(np.concatenate([u[gr], v[gr]]), minlength=n).max(initial=0) <= 1
    assert w[gr].sum() >= 0.5 * best - 1e-12
    # maximal: every unmatched edge touches a matched node
    used = set(u[gr]) | set(v[gr])
    assert all(u[e] in used or v[e] in used for e in range(len(edges)) if not gr[e])


def test_greedy_order_and_tiebreak():
    u, v = np.array([0, 1, 2]), np.array([1, 2, 3])
    w = np.array([1.0, 1.5, 1.0])
    assert greedy_matching(4, u, v, w).tolist() == [False, True, False]
    w = np.array([1.0, 1.0, 1.0])
    assert greedy_matching(4, u, v, w, tiebreak=np.array([0.0, 1.0, 0.0])).tolist() == [
        False,
        True,
        False,
    ]
    assert greedy_matching(4, u, v, np.zeros(3), take_nonpositive=False).sum() == 0


@pytest.mark.parametrize("seed", range(3))
def test_shortest_paths_against_networkx(seed):
    import networkx as nx

    rng = np.random.default_rng(seed)
    n = 30
    pairs = {(a, b) for a, b in rng.integers(0, n, (120, 2)) if a != b}
    tail = np.array([p[0] for p in pairs])
    head = np.array([p[1] for p in pairs])
    cost = rng.random(tail.size)
    cost[rng.random(tail.size) < 0.2] = 0.0  # explicit zero costs stay arcs
    ag = ArcGraph(n, tail, head)
    active = rng.random(tail.size) < 0.8
    src = rng.integers(0, n, 25)
    dst = rng.integers(0, n, 25)
    pb = shortest_paths(ag, cost, src, dst, active=active)
    gx = nx.DiGraph()
    gx.add_nodes_from(range(n))
    for a in np.flatnonzero(active):
        gx.add_edge(int(tail[a]), int(head[a]), w=float(cost[a]))
    for f in range(src.size):
        try:
            ref = nx.shortest_path_length(gx, int(src[f]), int(dst[f]), weight="w")
        except nx.NetworkXNoPath:
            assert not pb.reachable[f] and np.isinf(pb.dist[f])
            continue
        assert pb.reachable[f] and pb.dist[f] == pytest.approx(ref, abs=1e-12)
        a = pb.arcs[pb.ptr[f] : pb.ptr[f + 1]]
        assert np.all(active[a])
        assert cost[a].sum() == pytest.approx(ref, abs=1e-12)
        if a.size:
            assert tail[a[0]] == src[f] and head[a[-1]] == dst[f]
            assert np.array_equal(tail[a[1:]], head[a[:-1]])


def test_arcgraph_rejects_parallel_arcs():
    with pytest.raises(ValueError, match="one arc per ordered node pair"):
        ArcGraph(3, np.array([0, 0]), np.array([1, 1]))


def test_population_within_matches_haversine():
    rng = np.random.default_rng(1)
    sites = np.column_stack([rng.uniform(-60, 60, 500), rng.uniform(-180, 180, 500)])
    weight = rng.integers(1, 100, 500).astype(float)
    pts = np.column_stack([rng.uniform(-60, 60, 50), rng.uniform(-180, 180, 50)])
    radius = 1500e3
    got = population_within(
        latlon_to_unit(pts[:, 0], pts[:, 1]),
        latlon_to_unit(sites[:, 0], sites[:, 1]),
        weight,
        radius,
    )
    lat1, lon1 = np.radians(pts[:, :1]), np.radians(pts[:, 1:])
    lat2, lon2 = np.radians(sites[:, 0]), np.radians(sites[:, 1])
    hav = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    dist = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(hav))
    assert np.allclose(got, (weight * (dist <= radius)).sum(axis=1))
    assert got.sum() > 0
    near = within_range(
        latlon_to_unit(pts[:, 0], pts[:, 1]), latlon_to_unit(sites[:, 0], sites[:, 1]), radius
    )
    assert np.array_equal(near, (dist <= radius).any(axis=1))


def test_isl_traffic_rates_and_nearest_flows():
    rng = np.random.default_rng(2)
    pos, _ = _random_sats(rng, 30)
    users = rng.integers(0, 400, 30)
    gw = rng.random(30) < 0.5
    t = isl_traffic(pos, users, gw, gateway_capacity_bps=20e9, user_demand_bps=0.1e9, n_nearest=3)
    load = users * 0.1e9
    assert np.allclose(t.serve_bps, np.where(gw, np.maximum(20e9 - load, 0), 0))
    assert np.allclose(t.demand_bps, np.where(gw, np.maximum(load - 20e9, 0), load))
    servers = np.flatnonzero(t.serve_bps > 0)
    for s_prime in np.flatnonzero(t.demand_bps > 0):
        got = set(t.flows[t.flows[:, 1] == s_prime, 0])
        d = np.linalg.norm(pos[servers] - pos[s_prime], axis=1)
        assert got == set(servers[np.argsort(d)[:3]])


def test_read_sites_csv(tmp_path):
    p = tmp_path / "gw.csv"
    p.write_text("lat,lon\n10,20\n-5,100.5\n")
    assert read_sites_csv(p).tolist() == [[10, 20, 1], [-5, 100.5, 1]]
    p.write_text("lat,lon\n95,0\n")
    with pytest.raises(ValueError, match="lat must be"):
        read_sites_csv(p)
