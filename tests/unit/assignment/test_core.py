"""Core rules of the assignment family: HE/MCT against plain loops, clusters, chunked minima."""

from __future__ import annotations

import numpy as np
import pytest

from leo_env.core.assignment import (
    cluster_min_elevation_deg,
    he_assign,
    he_assign_without_priorities,
    mct_assign,
    remaining_contact_epochs,
    sequential_assign,
)
from leo_env.core.clusters import hex_cluster_layout, hex_distance
from leo_env.core.geometry import elevation_deg


def brute_force(score, eligible, available, order):
    """The rule of the module docstring, one epoch and one cluster at a time, in plain Python."""
    n_t, n_c, n_m = score.shape
    label = np.zeros((n_t, n_c), int)
    shared = np.zeros((n_t, n_c), bool)
    empty = np.zeros((n_t, n_c), bool)
    for t in range(n_t):
        avail = [m for m in range(n_m) if available[t, m]]
        taken: set[int] = set()
        for n in order if order is not None else range(n_c):
            elig = [m for m in avail if eligible[t, n, m]]
            free = [m for m in elig if m not in taken] if order is not None else elig
            pool = free or elig or avail
            best = max(pool, key=lambda m: (score[t, n, m], -m))
            label[t, n] = best
            shared[t, n] = not free and bool(elig)
            empty[t, n] = not elig
            taken.add(best)
    return label, shared, empty


CASES = [  # (epochs, clusters, satellites, integer scores -> ties, eligibility probability)
    (50, 3, 4, True, 0.5),
    (50, 5, 6, False, 0.6),
    (40, 6, 3, True, 0.7),  # more clusters than satellites: shared
    (40, 4, 8, False, 0.2),  # often empty
    (30, 1, 5, False, 0.5),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"T{c[0]}N{c[1]}M{c[2]}")
@pytest.mark.parametrize("with_order", [True, False], ids=["priorities", "no-priorities"])
def test_sequential_assign_equals_brute_force(case, with_order) -> None:
    n_t, n_c, n_m, ties, p = case
    rng = np.random.default_rng(n_t * 100 + n_c * 10 + n_m)
    score = (
        rng.integers(0, 4, (n_t, n_c, n_m)).astype(float) if ties else rng.random((n_t, n_c, n_m))
    )
    eligible = rng.random((n_t, n_c, n_m)) < p
    n_avail = rng.integers(1, n_m + 1, n_t)
    available = np.arange(n_m)[None, :] < n_avail[:, None]
    order = rng.permutation(n_c) if with_order else None
    got = sequential_assign(score, eligible, available, order)
    want = brute_force(score, eligible, available, order)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    # the serving satellite is always available
    assert np.all(got.label < n_avail[:, None])
    if with_order:  # no two clusters share a satellite unless flagged
        for t in range(n_t):
            own = got.label[t][~got.shared[t] & ~got.empty_fallback[t]]
            assert len(set(own.tolist())) == len(own)


def test_he_rule_uses_eps_and_centre_elevation() -> None:
    # two clusters, three satellites: cluster 1 has priority and takes satellite 2 (highest
    # centre elevation of its eligible set), cluster 0 then takes its best free one.
    e_cen = np.array([[[50.0, 40.0, 60.0], [35.0, 45.0, 70.0]]])
    e_min = np.array([[[31.0, 30.0, 31.0], [29.0, 31.0, 30.0]]])
    avail = np.ones((1, 3), bool)
    r = he_assign(e_cen, e_min, avail, np.array([1, 0]), 30.0)
    assert r.label.tolist() == [[0, 2]]
    r0 = he_assign_without_priorities(e_cen, e_min, avail, 30.0)
    assert r0.label.tolist() == [[2, 2]]
    r = he_assign(e_cen, e_min, avail, np.array([0, 1]), 30.0)
    assert r.label.tolist() == [[2, 1]]


def test_mct_prefers_long_contact_and_remaining_run() -> None:
    track = np.array([[1, 0], [1, 1], [0, 1], [1, 1]], bool)
    np.testing.assert_array_equal(remaining_contact_epochs(track), [[2, 0], [1, 3], [0, 2], [1, 1]])
    rng = np.random.default_rng(0)
    tr = rng.random((30, 4, 5)) < 0.7
    run = remaining_contact_epochs(tr)
    for t in range(30):
        for idx in np.ndindex(4, 5):
            k = 0
            while t + k < 30 and tr[(t + k, *idx)]:
                k += 1
            assert run[(t, *idx)] == k
    e_cen = np.array([[[80.0, 40.0]]])
    e_min = np.array([[[40.0, 35.0]]])
    r = mct_assign(np.array([[[30.0, 120.0]]]), e_cen, e_min, np.ones((1, 2), bool), [0], 30.0)
    assert r.label.tolist() == [[1]]  # HE would take satellite 0


@pytest.mark.parametrize("rings", [0, 1, 2, 6])
def test_clusters_tile_the_plane(rings: int) -> None:
    lay = hex_cluster_layout(31.27, -97.74, 10, rings, 20.0, np.random.default_rng(0))
    per = 1 + 3 * rings * (rings + 1)
    assert lay.n_cells == 10 * per
    assert np.array_equal(np.bincount(lay.cluster_of_cell), np.full(10, per))
    # cell centres are distinct and neighbours are spacing_km apart (flat-Earth check)
    y = (lay.cell_lat_deg - 31.27) * 111.195
    x = (lay.cell_lon_deg + 97.74) * 111.195 * np.cos(np.radians(lay.cell_lat_deg))
    d = np.hypot(x[:, None] - x[None], y[:, None] - y[None]) + 1e9 * np.eye(lay.n_cells)
    assert d.min() == pytest.approx(20.0, rel=2e-3)
    # cluster 0 sits on the reference point; priorities are a seeded permutation
    assert (lay.centre_lat_deg[0], lay.centre_lon_deg[0]) == (31.27, -97.74)
    assert sorted(lay.priority.tolist()) == list(range(10))
    again = hex_cluster_layout(31.27, -97.74, 10, rings, 20.0, np.random.default_rng(0))
    assert np.array_equal(again.priority, lay.priority)
    assert np.array_equal(lay.priority[lay.order], np.arange(10))
    pts, up, cl = lay.sample_points(include_vertices=True)
    assert pts.shape == (7 * lay.n_cells, 3) and np.array_equal(
        np.bincount(cl), 7 * np.bincount(lay.cluster_of_cell)
    )


def test_hex_distance() -> None:
    assert hex_distance(np.array([0, 1, 1, 2, -2]), np.array([0, 0, -1, -1, 3])).tolist() == [
        0,
        1,
        1,
        2,
        3,
    ]


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("n_clusters", {"n_clusters": 0}),
        ("rings", {"rings": -1}),
        ("spacing_km", {"spacing_km": float("nan")}),
        ("ref_lat_deg", {"ref_lat_deg": 95.0}),
    ],
)
def test_layout_errors_name_the_field(field, kw) -> None:
    args = {"ref_lat_deg": 0.0, "ref_lon_deg": 0.0, "n_clusters": 3, "rings": 1, "spacing_km": 10.0}
    args.update(kw)
    with pytest.raises(ValueError, match=field):
        hex_cluster_layout(**args, rng=np.random.default_rng(0))


def test_chunked_cluster_minimum_matches_full_array() -> None:
    lay = hex_cluster_layout(10.0, 20.0, 4, 1, 50.0, np.random.default_rng(1))
    pts, up, cl = lay.sample_points()
    rng = np.random.default_rng(2)
    sat = rng.normal(size=(7, 30, 3))
    sat = 7.0e6 * sat / np.linalg.norm(sat, axis=-1, keepdims=True)
    got = cluster_min_elevation_deg(sat, pts, up, cl, 4, chunk=3)
    full = elevation_deg(sat, pts, up)
    want = np.stack([full[..., cl == n].min(axis=-1) for n in range(4)], axis=-1)
    np.testing.assert_allclose(got, want)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="available"):
        sequential_assign(
            np.zeros((2, 1, 3)), np.ones((2, 1, 3), bool), np.zeros((2, 3), bool), [0]
        )
    with pytest.raises(ValueError, match="order must be a permutation"):
        sequential_assign(
            np.zeros((2, 2, 3)), np.ones((2, 2, 3), bool), np.ones((2, 3), bool), [0, 0]
        )
