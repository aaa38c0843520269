import dataclasses
import subprocess
import sys
from datetime import UTC

import numpy as np
import pytest

import leo_env
from leo_env.scenario import ConfigError, InfeasibleScenarioError, load_config

APEX_SIZES = {  # name: (S, C, K, M, H)
    "toy": (2, 5, 10, 10, 2),
    "medium": (4, 12, 30, 10, 6),
    "stress": (8, 30, 50, 10, 12),
}


@pytest.mark.parametrize("name", list(APEX_SIZES), ids=list(APEX_SIZES))
def test_apex_presets_have_apex_sizes_and_are_feasible(name):
    S, C, K, M, H = APEX_SIZES[name]
    sc = leo_env.make_scenario(name, seed=3)
    assert (sc.S, sc.C, sc.K, sc.M) == (S, C, K, M)
    assert sc.v.dtype == bool and sc.g.shape == (S, C, K) and sc.a.shape == (C, K, M)
    np.testing.assert_array_equal(sc.H, np.full(C, H))
    assert sc.v.any(axis=0).all(), "every cell must see a satellite in every slot"
    assert np.all((sc.min_handovers >= 0) & (sc.min_handovers <= sc.H))
    np.testing.assert_array_equal(sc.v, sc.elevation_deg >= 20.0)
    assert sc.T_f == 0.01 and sc.N_PRB.shape == (S,) and sc.P_max.shape == (S,)
    assert np.all(sc.g > 0) and np.all(sc.a >= 0)
    assert sc.sat_ecef.shape == (K * M + 1, S, 3)


def _arrays(sc):
    return {
        f.name: getattr(sc, f.name)
        for f in dataclasses.fields(sc)
        if isinstance(getattr(sc, f.name), np.ndarray)
    }


@pytest.mark.parametrize("name", ["toy", "stress"])
def test_same_seed_same_scenario_bit_for_bit(name):
    a, b = leo_env.make_scenario(name, seed=7), leo_env.make_scenario(name, seed=7)
    arrs_a, arrs_b = _arrays(a), _arrays(b)
    assert arrs_a.keys() == arrs_b.keys()
    for key in arrs_a:
        assert arrs_a[key].tobytes() == arrs_b[key].tobytes(), key
    c = leo_env.make_scenario(name, seed=8)
    assert a.a.tobytes() != c.a.tobytes()


def test_fast_gain_fading_is_deterministic_and_unit_mean():
    sc = leo_env.make_scenario("medium", seed=1, overrides=["channel.fading=rician"])
    g1, g2 = sc.fast_gain(4), sc.fast_gain(4)
    np.testing.assert_array_equal(g1, g2)
    assert g1.shape == (sc.S, sc.C, sc.M)
    ratio = g1 / sc.g[:, :, 4, None]
    assert 0.8 < ratio.mean() < 1.2 and ratio.std() > 0
    flat = leo_env.make_scenario("medium", seed=1).fast_gain(4)
    np.testing.assert_array_equal(flat, np.repeat(sc.g[:, :, 4, None], sc.M, axis=2))


def test_dotted_overrides():
    sc = leo_env.make_scenario("toy", seed=0, overrides=["demand.mismatch_ratio=1.0", "budget.H=3"])
    assert np.all(sc.H == 3)
    assert sc.config["demand"]["mismatch_ratio"] == 1.0
    # all cells high-demand: rate = 50 Mbps times APEX's periodic profile, exactly
    profile = 1 + 0.3 * np.sin(2 * np.pi * np.arange(sc.K) / 24)
    np.testing.assert_allclose(
        sc.demand_rate / sc.T_f, 50e6 * np.broadcast_to(profile, (sc.C, sc.K))
    )


@pytest.mark.parametrize(
    ("name", "overrides", "match"),
    [
        ("nope", None, "unknown preset 'nope'.*toy"),
        ("toy", ["synthetic.S=-1"], r"synthetic.S must be in \[1, 1e\+06\], got -1"),
        ("toy", ["time.K=0"], r"time.K must be in \[1, 1e\+06\], got 0"),
        ("toy", ["demand.mismatch_ratio=2"], "demand.mismatch_ratio must be in \\[0, 1\\]"),
        ("toy", ["channel.fading=foo"], "channel.fading"),
        ("toy", ["no_such_key=1"], "no_such_key"),
        ("toy", ["synthetic.S=abc"], "synthetic.S|S"),
        ("toy", ["budget.H"], "key=value"),
        ("europe-starlink", ["region.lat_min=50", "region.lat_max=50"], "region.lat_min/lat_max"),
    ],
    ids=[
        "unknown-preset",
        "negative-size",
        "zero-slots",
        "ratio-range",
        "fading-enum",
        "unknown-key",
        "wrong-type",
        "bad-override",
        "empty-region",
    ],
)
def test_bad_config_names_the_field(name, overrides, match):
    with pytest.raises(ValueError, match=match):
        load_config(name, overrides)


def test_region_smaller_than_a_cell_is_rejected():
    with pytest.raises(ValueError, match="region is empty"):
        leo_env.make_scenario(
            "europe-starlink",
            overrides=[
                "region.cells=grid",
                "region.cell_size_deg=2",
                "region.lat_max=41",
                "region.lat_min=40",
            ],
        )


def test_infeasible_budget_names_the_cell_and_numbers():
    with pytest.raises(
        InfeasibleScenarioError,
        match=r"cell \d+ needs at least \d+ handovers but its budget budget.H is 0",
    ):
        leo_env.make_scenario("medium", seed=0, overrides=["budget.H=0", "max_resamples=2"])


def test_uncovered_cell_is_rejected_with_slot():
    with pytest.raises(
        InfeasibleScenarioError, match=r"cell \d+ has no visible satellite in slot \d+"
    ):
        leo_env.make_scenario(
            "toy", seed=0, overrides=["synthetic.mean_visible=0.6", "max_resamples=1"]
        )


def test_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        leo_env.make_scenario("toy", seed=-1)


def test_config_error_is_value_error():
    assert issubclass(ConfigError, ValueError)


def test_describe_cli_prints_summary_and_plots(tmp_path):
    png, js = tmp_path / "toy.png", tmp_path / "toy.json"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "leo_env.scenario",
            "describe",
            "toy",
            "--seed",
            "2",
            "--plot",
            str(png),
            "--json",
            str(js),
            "--set",
            "demand.scale=2",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "visible_per_cell_slot" in out and "min_needed_max" in out and "load" in out
    assert png.stat().st_size > 10_000 and js.exists()


def _small_orbit_overrides(tle_path=None):
    ov = [
        "region.lat_min=45", "region.lat_max=48", "region.lon_min=5", "region.lon_max=9",
        "region.hex_spacing_km=100", "time.K=8",
    ]
    if tle_path is not None:
        ov += ["constellation.source=tle", f"constellation.tle_file={tle_path}"]
    return ov


def test_tle_file_scenario_matches_walker_scenario(tmp_path):
    from datetime import datetime

    from leo_env.core import orbit, tle

    epoch = datetime(2026, 1, 1, 12, tzinfo=UTC)
    const = orbit.Constellation((orbit.walker_shell("starlink-1"),))
    path = tmp_path / "starlink.tle"
    path.write_text(tle.export_tles(orbit.walker_satrecs(const, epoch), list(const.names)))
    walker = leo_env.make_scenario("europe-starlink", seed=0, overrides=_small_orbit_overrides())
    from_tle = leo_env.make_scenario("europe-starlink", seed=0, overrides=_small_orbit_overrides(path))
    assert walker.sat_names == from_tle.sat_names
    np.testing.assert_allclose(from_tle.sat_ecef, walker.sat_ecef, atol=1.0)
    np.testing.assert_array_equal(from_tle.v, walker.v)


def test_bad_tle_file_names_the_line(tmp_path):
    path = tmp_path / "bad.tle"
    path.write_text(
        "SAT-1\n"
        "1 00001U 26001A   26001.50000000  .00000000  00000-0  00000-0 0  9990\n"
        "2 00001  53.0000   0.0000 0000001   0.0000   0.0000 15.05000000    00\n"
    )
    with pytest.raises(ValueError, match="line [23]"):
        leo_env.make_scenario("europe-starlink", overrides=_small_orbit_overrides(path))
    with pytest.raises(ConfigError, match="constellation.tle_file: TLE file not found.*missing.tle"):
        leo_env.make_scenario("europe-starlink", overrides=_small_orbit_overrides(tmp_path / "missing.tle"))


def test_kepler_propagator_is_close_to_sgp4():
    sgp = leo_env.make_scenario("europe-starlink", overrides=_small_orbit_overrides())
    kep = leo_env.make_scenario("europe-starlink", overrides=[*_small_orbit_overrides(), "constellation.propagator=kepler"])
    common = sorted(set(sgp.sat_names) & set(kep.sat_names))
    assert len(common) >= 0.8 * len(sgp.sat_names)
    i = [sgp.sat_names.index(n) for n in common]
    j = [kep.sat_names.index(n) for n in common]
    # J2 and sgp4's periodic terms: tens of km over a few minutes, never hundreds
    assert np.linalg.norm(sgp.sat_ecef[:, i] - kep.sat_ecef[:, j], axis=-1).max() < 60e3


@pytest.mark.parametrize("name", ["europe-starlink", "europe-multishell"])
def test_orbit_presets_are_feasible(name):
    sc = leo_env.make_scenario(name, seed=0)
    assert sc.kind == "orbit" and sc.C >= 100 and sc.S >= 100
    assert sc.sat_ecef.shape == (sc.K * sc.M + 1, sc.S, 3) and sc.cell_ecef.shape == (sc.C, 3)
    assert sc.v.any(axis=0).all() and np.all(sc.min_handovers <= sc.H)
    assert sc.v.any(axis=(1, 2)).all(), "kept satellites serve some cell for a whole slot"
    np.testing.assert_array_equal(sc.v, sc.elevation_deg >= 20.0)
