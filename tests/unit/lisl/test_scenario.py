import dataclasses

import numpy as np
import pytest

from leo_env.scenario.lisl import LISL_PRESETS, LislConfig, build_lisl_instance, lisl_constellation


@pytest.fixture(scope="module")
def ci():
    return build_lisl_instance(LISL_PRESETS["ci"])


def test_ci_instance_shapes(ci):
    s = ci.summary()
    assert s["n_sats"] == 150 and s["n_lcts"] == 300
    assert s["n_pairs"] > 0 and s["n_flows"] > 0
    g = ci.graph
    assert np.all(g.link_distance_m <= 3000e3) and np.all(g.link_sat[:, 0] < g.link_sat[:, 1])
    # velocities are inertial (TEME) and perpendicular to r for near-circular orbits
    cosang = np.einsum("ik,ik->i", ci.pos_m, ci.vel_m_s) / (
        np.linalg.norm(ci.pos_m, axis=1) * np.linalg.norm(ci.vel_m_s, axis=1)
    )
    assert np.abs(cosang).max() < 0.01
    assert np.all(np.linalg.norm(ci.vel_m_s, axis=1) > 7.0e3)


def test_instance_is_deterministic_and_seeded(ci):
    again = build_lisl_instance(LISL_PRESETS["ci"])
    for f in ("sat_index", "pos_m", "population", "gateways_latlon"):
        assert np.array_equal(getattr(ci, f), getattr(again, f))
    for f in ("pair_lct", "pair_rate_bps", "link_sat"):
        assert np.array_equal(getattr(ci.graph, f), getattr(again.graph, f))
    for f in ("users", "serve_bps", "demand_bps", "flows"):
        assert np.array_equal(getattr(ci.traffic, f), getattr(again.traffic, f))
    other = build_lisl_instance(LISL_PRESETS["ci"], seed=1)
    assert not np.array_equal(ci.sat_index, other.sat_index)


def test_four_lcts_give_more_pairs(ci):
    four = build_lisl_instance(LISL_PRESETS["ci"], lcts_per_sat=4)
    assert four.graph.n_lcts == 600 and four.graph.n_pairs > ci.graph.n_pairs


@pytest.mark.parametrize("name", ["starlink-gen1", "starlink-53", "walker-50", "oneweb"])
def test_constellation_presets(name):
    assert lisl_constellation(name).n_sats in (4408, 1584, 1000, 588)


@pytest.mark.parametrize(
    "field, value",
    [
        ("n_sats", 1),
        ("lcts_per_sat", 5),
        ("for_half_angle_deg", 0.0),
        ("active_user_share", 2.0),
        ("max_distance_km", float("nan")),
        ("constellation", "nope"),
        ("n_nearest", 0),
    ],
)
def test_config_validation_names_field(field, value):
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(LislConfig(), **{field: value})


def test_cluster_subset_is_a_nearest_neighbour_ball():
    from leo_env.core.orbit import propagate_teme, walker_satrecs
    from leo_env.scenario.lisl import LISL_EPOCH

    inst = build_lisl_instance(LISL_PRESETS["tiny"], n_sats=10, seed=3)
    r_all = propagate_teme(
        walker_satrecs(lisl_constellation("starlink-gen1"), LISL_EPOCH), LISL_EPOCH, [0.0]
    )[0]
    chosen = np.zeros(r_all.shape[0], dtype=bool)
    chosen[inst.sat_index] = True
    assert np.allclose(r_all[inst.sat_index], inst.pos_m)
    ok = False
    for c in inst.sat_index:
        d = np.linalg.norm(r_all - r_all[c], axis=1)
        ok |= d[chosen].max() <= d[~chosen].min()
    assert ok


def test_tle_file_source(tmp_path):
    from leo_env.core.orbit import walker_satrecs
    from leo_env.core.tle import export_tles
    from leo_env.scenario.lisl import LISL_EPOCH

    const = lisl_constellation("oneweb")
    path = tmp_path / "oneweb.tle"
    path.write_text(export_tles(walker_satrecs(const, LISL_EPOCH), const.names))
    from_tle = build_lisl_instance(LISL_PRESETS["ci"], tle_path=str(path), n_sats=100)
    preset = build_lisl_instance(LISL_PRESETS["ci"], constellation="oneweb", n_sats=100)
    assert np.array_equal(from_tle.sat_index, preset.sat_index)
    assert np.allclose(from_tle.pos_m, preset.pos_m, atol=50.0)
    assert np.array_equal(from_tle.graph.pair_lct, preset.graph.pair_lct)


def test_lct_mix_draws_counts_and_keeps_other_streams(ci):
    mixed = build_lisl_instance(LISL_PRESETS["ci"], lct_mix=(0.25, 0.25, 0.0, 0.5))
    counts = np.bincount(mixed.graph.lct_sat, minlength=150)
    assert set(np.unique(counts)) <= {1, 2, 4} and len(set(counts)) == 3
    assert np.array_equal(mixed.sat_index, ci.sat_index)
    assert np.array_equal(mixed.traffic.users, ci.traffic.users)
    with pytest.raises(ValueError, match="lct_mix"):
        LislConfig(lct_mix=(0.5, 0.6, 0.0, 0.0))
