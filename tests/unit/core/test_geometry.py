import numpy as np
import pytest

from leo_env.core import geometry
from leo_env.core.frames import geodetic_to_ecef, local_up

R = geometry.R_EARTH_M


def _spherical_point(lat, lon, r):
    lat, lon = np.radians(lat), np.radians(lon)
    return r * np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)


def test_satellite_at_zenith_has_elevation_90_and_range_equal_altitude():
    cell = geodetic_to_ecef(np.array([47.0]), np.array([11.0]), 0.0)
    up = local_up(np.array([47.0]), np.array([11.0]))
    sat = cell + 550e3 * up  # straight up along the local vertical
    el = geometry.elevation_deg(sat, cell, up)  # sat (S=1, 3) -> (S, C)
    assert el.shape == (1, 1)
    assert el[0, 0] == pytest.approx(90.0, abs=1e-5)  # arcsin is ill-conditioned at 90 deg
    assert geometry.slant_range_m(sat, cell)[0, 0] == pytest.approx(550e3, rel=1e-9)


@pytest.mark.parametrize("gamma_deg", [0.5, 3.0, 8.0, 12.0, 20.0])
def test_elevation_matches_independent_central_angle_formula(gamma_deg):
    # spherical Earth, geocentric vertical: compare the ECEF formula with tan(el) = (cos g - R/r)/sin g
    h = 550e3
    cell = _spherical_point(np.array([30.0]), np.array([0.0]), R)
    sat = _spherical_point(np.array([30.0 + gamma_deg]), np.array([0.0]), R + h)
    el = geometry.elevation_deg(sat, cell)[0, 0]
    ref = geometry.elevation_from_central_angle_deg(np.radians(gamma_deg), h)
    assert el == pytest.approx(float(ref), abs=1e-9)


def test_coverage_angle_is_where_elevation_equals_threshold():
    h, el_min = 550e3, 20.0
    gamma = geometry.coverage_central_angle_rad(h, el_min)
    assert float(geometry.elevation_from_central_angle_deg(gamma, h)) == pytest.approx(
        el_min, abs=1e-9
    )


def test_zenith_cone_is_elevation_threshold():
    rng = np.random.default_rng(0)
    cell = _spherical_point(rng.uniform(-60, 60, 4), rng.uniform(-180, 180, 4), R)
    sat = _spherical_point(rng.uniform(-60, 60, 50), rng.uniform(-180, 180, 50), R + 600e3)
    el = geometry.elevation_deg(sat, cell)
    np.testing.assert_array_equal(geometry.zenith_cone_visible(sat, cell, 40.0), el >= 50.0)
    with pytest.raises(ValueError, match="half_angle_deg"):
        geometry.zenith_cone_visible(sat, cell, 0.0)


def test_sat_distance_symmetric_and_matches_norm():
    rng = np.random.default_rng(1)
    sat = rng.normal(size=(2, 6, 3)) * 7e6
    d = geometry.sat_distance_m(sat)
    ref = np.linalg.norm(sat[:, :, None] - sat[:, None], axis=-1)
    np.testing.assert_allclose(d, ref, rtol=1e-9, atol=1e-3)
    np.testing.assert_array_equal(d, np.swapaxes(d, -1, -2))


def test_isl_line_of_sight_blocked_through_earth():
    a = np.array([7e6, 0, 0.0])
    b = np.array([-7e6, 0, 0.0])  # antipodal: the link crosses the Earth
    c = np.array([6.9e6, 0.5e6, 0.0])  # close neighbour
    los = geometry.isl_line_of_sight(np.stack([a, b, c]))
    assert not los[0, 1] and los[0, 2] and los[1, 0] == los[0, 1]


def test_slot_link_geometry_equals_plain_loop():
    rng = np.random.default_rng(2)
    K, M, S, C = 3, 4, 5, 6
    cell_ll = np.stack([rng.uniform(40, 50, C), rng.uniform(0, 10, C)], 1)
    cell = geodetic_to_ecef(cell_ll[:, 0], cell_ll[:, 1], 0.0)
    up = local_up(cell_ll[:, 0], cell_ll[:, 1])
    sat = _spherical_point(
        rng.uniform(35, 55, (K * M + 1, S)), rng.uniform(-5, 15, (K * M + 1, S)), R + 550e3
    )
    el, inv = geometry.slot_link_geometry(sat, cell, up, K, M)
    for k in range(K):
        block = sat[k * M : k * M + M + 1]
        e = np.stack([geometry.elevation_deg(block[t], cell, up) for t in range(M + 1)])
        d = np.stack([geometry.slant_range_m(block[t], cell) for t in range(M + 1)])
        np.testing.assert_allclose(el[:, :, k], e.min(0), atol=1e-9)
        np.testing.assert_allclose(inv[:, :, k], (1 / d**2).mean(0), rtol=1e-9)
    with pytest.raises(ValueError, match="K\\*M\\+1"):
        geometry.slot_link_geometry(sat[:-1], cell, up, K, M)


@pytest.mark.parametrize("M", [1, 3])
def test_any_slot_visible_matches_slot_geometry(M):
    rng = np.random.default_rng(5)
    K, S, C = 6, 40, 7
    cell_ll = np.stack([rng.uniform(40, 50, C), rng.uniform(0, 10, C)], 1)
    cell = geodetic_to_ecef(cell_ll[:, 0], cell_ll[:, 1], 0.0)
    up = local_up(cell_ll[:, 0], cell_ll[:, 1])
    # slowly drifting satellites so that some stay visible for whole slots and some do not
    start_lat, start_lon = rng.uniform(20, 70, S), rng.uniform(-20, 30, S)
    t = np.arange(K * M + 1)[:, None]
    sat = _spherical_point(start_lat + 0.8 * t / M, start_lon + 0.5 * t / M, R + 550e3)
    el, _ = geometry.slot_link_geometry(sat, cell, up, K, M)
    expect = (el >= 25.0).any(axis=(1, 2))
    got = geometry.any_slot_visible(sat, cell, up, M, 25.0)
    assert expect.any() and not expect.all()
    np.testing.assert_array_equal(got, expect)
