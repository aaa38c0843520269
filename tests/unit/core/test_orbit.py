"""Orbits and frames: Walker geometry, Kepler vs SGP4, TEME/ECEF, WGS84 geodetic."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec, jday
from sgp4.propagation import gstime

from leo_env.core.frames import (
    ecef_to_geodetic,
    ecef_to_teme,
    geodetic_to_ecef,
    gmst_rad,
    julian_date,
    julian_dates,
    local_up,
    teme_to_ecef,
)
from leo_env.core.orbit import (
    WALKER_PRESETS,
    Constellation,
    SGP4PropagationError,
    WalkerShell,
    constellation_preset,
    kepler_eci,
    propagate_ecef,
    propagate_teme,
    random_subset,
    walker_min_separation_m,
    walker_satrecs,
    walker_shell,
)

# Independent constants (not imported from the code under test).
MU = 3.986004418e14  # [m^3/s^2]
R_E = 6378137.0  # [m]
WGS84_B = 6356752.314245  # WGS84 polar radius [m]
# SGP4's WGS72 constants: the J2 secular drift is that of the model SGP4 implements.
J2_WGS72 = 0.001082616
J3_WGS72 = -0.00000253881
R_E_WGS72 = 6378135.0  # [m]

EPOCH = datetime(2024, 3, 1, 6, 0, 0)
PRESETS = sorted(WALKER_PRESETS)


def _small_shell(name: str) -> WalkerShell:
    """A 2-plane, 8-satellite shell with a preset's inclination and altitude."""
    p = walker_shell(name)
    return WalkerShell(
        f"{name}-mini", p.inclination_deg, 8, 2, 1, p.altitude_km, raan0_deg=10.0, arg_lat0_deg=5.0
    )


def _circle(incl: float, raan: np.ndarray, u: np.ndarray, a: float) -> np.ndarray:
    """Circular-orbit position [m] from inclination/RAAN/argument of latitude [rad]."""
    co, so, cu, su = np.cos(raan), np.sin(raan), np.cos(u), np.sin(u)
    ci, si = math.cos(incl), math.sin(incl)
    return a * np.stack([co * cu - so * su * ci, so * cu + co * su * ci, su * si], axis=-1)


def _ang_diff_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| wrapped to [0, 180] [deg]."""
    return np.abs((np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0)


# --------------------------------------------------------------------------------------------
# Kepler: radius and period measured from the positions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PRESETS)
def test_kepler_radius_constant_and_period_from_positions(name: str) -> None:
    shell = walker_shell(name)
    a = R_E + 1e3 * shell.altitude_km
    period = 2.0 * math.pi * math.sqrt(a**3 / MU)

    t = np.linspace(0.0, 2.0 * period, 97)
    r = kepler_eci(shell, t)
    assert r.shape == (t.size, shell.total, 3)
    np.testing.assert_allclose(np.linalg.norm(r, axis=-1), a, rtol=1e-12)

    # Period: when does each satellite come back to its start?  Signed in-plane angle from the
    # starting position, bracketing the expected period, zero crossing by linear interpolation
    # (the angle is linear in time for uniform circular motion).
    r0 = kepler_eci(shell, [0.0])[0]
    h = np.cross(r0, kepler_eci(shell, [1.0])[0])
    h /= np.linalg.norm(h, axis=-1, keepdims=True)
    t12 = np.array([0.999, 1.001]) * period
    r12 = kepler_eci(shell, t12)
    theta = np.arctan2(
        np.einsum("nk,tnk->tn", h, np.cross(r0[None], r12)), np.einsum("nk,tnk->tn", r0, r12)
    )
    assert np.all(theta[0] < 0) and np.all(theta[1] > 0)
    measured = t12[0] - theta[0] * (t12[1] - t12[0]) / (theta[1] - theta[0])
    np.testing.assert_allclose(measured, period, rtol=1e-6)
    assert shell.period_s == pytest.approx(period, rel=1e-12)


# --------------------------------------------------------------------------------------------
# Walker geometry
# --------------------------------------------------------------------------------------------

GEOMETRY_SHELLS = [
    *(walker_shell(n) for n in PRESETS),
    WalkerShell("odd", 97.6, 30, 5, 3, 700.0, raan0_deg=-20.0, arg_lat0_deg=200.0),
    WalkerShell("single", 0.0, 1, 1, 0, 35786.0),
]


@pytest.mark.parametrize("shell", GEOMETRY_SHELLS, ids=lambda s: s.name)
def test_walker_geometry_from_positions(shell: WalkerShell) -> None:
    r0 = kepler_eci(shell, [0.0])[0]
    r1 = kepler_eci(shell, [1.0])[0]
    h = np.cross(r0, r1)
    h /= np.linalg.norm(h, axis=-1, keepdims=True)
    incl = np.degrees(np.arccos(np.clip(h[:, 2], -1, 1)))
    np.testing.assert_allclose(incl, shell.inclination_deg, atol=1e-9)

    s = shell.total // shell.planes
    j = np.repeat(np.arange(shell.planes), s)
    q = np.tile(np.arange(s), shell.planes)
    want_raan = shell.raan0_deg + 360.0 * j / shell.planes
    want_u = shell.arg_lat0_deg + 360.0 * q / s + 360.0 * shell.phasing * j / shell.total

    if 0.0 < shell.inclination_deg < 180.0:  # the node is defined
        raan = np.degrees(np.arctan2(h[:, 0], -h[:, 1]))
        assert _ang_diff_deg(raan, want_raan).max() < 1e-9
        node = np.stack([np.cos(np.radians(raan)), np.sin(np.radians(raan)), 0 * raan], axis=-1)
        u = np.degrees(
            np.arctan2(
                np.einsum("nk,nk->n", np.cross(node, r0), h), np.einsum("nk,nk->n", node, r0)
            )
        )
    else:  # equatorial: u is measured from the x axis through RAAN
        u = np.degrees(np.arctan2(r0[:, 1], r0[:, 0])) - want_raan
    assert _ang_diff_deg(u, want_u).max() < 1e-9

    # Spacing: consecutive slots 360/S apart in a plane, same slot of adjacent planes 360 F/T.
    raan_el, u_el = shell.elements()
    u_grid = u_el.reshape(shell.planes, s)
    if s > 1:
        assert _ang_diff_deg(np.diff(u_grid, axis=1), 360.0 / s).max() < 1e-9
    if shell.planes > 1:
        assert (
            _ang_diff_deg(np.diff(u_grid, axis=0), 360.0 * shell.phasing / shell.total).max() < 1e-9
        )
        assert _ang_diff_deg(np.diff(raan_el[::s]), 360.0 / shell.planes).max() < 1e-9

    # The SGP4 element sets carry the same geometry (to TLE precision, 1e-4 deg).
    sats = walker_satrecs(shell, EPOCH)
    tol = 0.6e-4
    assert _ang_diff_deg([math.degrees(x.nodeo) for x in sats], raan_el).max() < tol
    assert _ang_diff_deg([math.degrees(x.mo + x.argpo) for x in sats], u_el).max() < tol
    assert _ang_diff_deg([math.degrees(x.inclo) for x in sats], shell.inclination_deg).max() < tol


def test_walker_names_and_multishell_counts() -> None:
    c = Constellation.from_presets("starlink-1", "oneweb", "kuiper-1")
    assert c.n_sats == 1584 + 588 + 1156
    assert len(c.names) == c.n_sats and len(set(c.names)) == c.n_sats
    assert c.names[0] == "starlink-1/p00/s00"
    assert c.names[3 * 22 + 7] == "starlink-1/p03/s07"
    assert c.names[1584] == "oneweb/p00/s00" and c.names[-1] == "kuiper-1/p33/s33"
    assert c.shell_index.shape == (c.n_sats,)
    np.testing.assert_array_equal(np.bincount(c.shell_index), [1584, 588, 1156])
    assert np.all(np.diff(c.shell_index) >= 0)
    assert not c.shell_index.flags.writeable
    np.testing.assert_array_equal(c.plane_index[:23], [0] * 22 + [1])
    np.testing.assert_array_equal(c.slot_index[:23], [*range(22), 0])

    t = np.array([0.0, 600.0])
    r = kepler_eci(c, t)
    assert r.shape == (2, c.n_sats, 3)
    radius = np.linalg.norm(r, axis=-1)
    for k, shell in enumerate(c.shells):
        np.testing.assert_allclose(radius[:, c.shell_index == k], R_E + 1e3 * shell.altitude_km)
    # A multi-shell constellation is the concatenation of its shells.
    np.testing.assert_array_equal(r[:, 1584 : 1584 + 588], kepler_eci(walker_shell("oneweb"), t))

    # Single shells and lists are accepted; duplicate shell names are not.
    assert Constellation(walker_shell("oneweb")).n_sats == 588
    assert Constellation([walker_shell("oneweb")]).shells == (walker_shell("oneweb"),)
    with pytest.raises(ValueError, match="unique names"):
        Constellation((walker_shell("oneweb"), walker_shell("oneweb")))
    with pytest.raises(ValueError, match="at least one"):
        Constellation(())


def test_wide_indices_are_zero_padded_consistently() -> None:
    c = Constellation(WalkerShell("big", 60.0, 1200, 120, 1, 500.0))
    assert c.names[0] == "big/p000/s00" and c.names[-1] == "big/p119/s09"


# --------------------------------------------------------------------------------------------
# Phasing presets and the exact minimum-separation formula
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shell",
    [
        WalkerShell("a", 53.0, 24, 6, 1, 550.0),
        WalkerShell("b", 87.9, 30, 5, 3, 1200.0, raan0_deg=7.0, arg_lat0_deg=3.0),
        WalkerShell("c", 51.9, 36, 6, 5, 630.0),
    ],
    ids=lambda s: s.notation,
)
def test_min_separation_matches_brute_force(shell: WalkerShell) -> None:
    t = np.linspace(0.0, shell.period_s, 20001)
    r = kepler_eci(shell, t)
    brute = min(
        np.linalg.norm(r[:, a, None] - r[:, a + 1 :], axis=-1).min() for a in range(shell.total - 1)
    )
    exact = walker_min_separation_m(shell)
    # Sampling can only overestimate the minimum; 20001 samples resolve it to metres.
    assert exact <= brute + 1e-6
    assert brute - exact < 50.0


@pytest.mark.parametrize("name", PRESETS)
def test_preset_phasing_maximises_min_separation(name: str) -> None:
    shell = walker_shell(name)
    seps = [walker_min_separation_m(replace(shell, phasing=f)) for f in range(shell.planes)]
    assert int(np.argmax(seps)) == shell.phasing
    assert seps[shell.phasing] > 10e3  # no self-conjunctions closer than 10 km


# --------------------------------------------------------------------------------------------
# SGP4 vs Kepler: the difference is the J2 drift
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PRESETS)
def test_sgp4_vs_kepler_differ_by_the_j2_drift(name: str) -> None:
    """After one two-body period the SGP4 satellite has moved by the J2 secular drift.

    Expected drift (first order in J2, circular orbit, SGP4's WGS72 constants):
        dRAAN/dt = -1.5 n J2 (R/a)^2 cos i,    du/dt - n = 0.75 n J2 (R/a)^2 (5 cos^2 i - 1)
    (the Kozai mean motion we feed SGP4 is the anomalistic one, so dM/dt = n to first order).
    ``secular`` is the two-body circle with these rates; its one-orbit displacement D_sec is
    ~29 km at 53 deg and ~27 km at 87.9 deg.

    1. The one-orbit displacement of the SGP4 satellite, r(P) - r(0), matches the secular
       prediction to 0.5 km + 5 %: the periodic terms nearly cancel between t = 0 and t = P
       (they only shift by the drift angles ~0.01 rad, i.e. ~0.2 km); second-order J2 and J4
       terms make up the rest (~0.1 km measured).
    2. |SGP4 - Kepler| at t = P is at most 1.1 D_sec + A, where A bounds SGP4's periodic terms
       for e = 0 mean elements: J3's long-period "frozen" eccentricity
       e3 = |J3| / (2 J2) (R/a) sin i (radial a e3, along-track 2 a e3: sqrt(5) a e3 in all)
       plus J2 short-periodic terms of order a J2 (R/a)^2.  (~20 km; ~12 km is reached.)
    3. The two models differ: the displacement is at least 0.9 D_sec - 0.5 km > 2 km (D_sec
       is smallest, ~3.6 km, where the node and argument-of-latitude drifts nearly cancel).
    """
    shell = _small_shell(name)
    a, n = shell.radius_m, shell.mean_motion_rad_s
    incl = math.radians(shell.inclination_deg)
    period = 2.0 * math.pi / n
    t = np.array([0.0, period])

    r_sgp4 = propagate_teme(walker_satrecs(shell, EPOCH), EPOCH, t)
    r_kep = kepler_eci(shell, t)

    k = n * J2_WGS72 * (R_E_WGS72 / a) ** 2
    raan_rate = -1.5 * k * math.cos(incl)
    u_rate = n + 0.75 * k * (5.0 * math.cos(incl) ** 2 - 1.0)
    raan_deg, u_deg = shell.elements()
    r_sec_p = _circle(
        incl, np.radians(raan_deg) + raan_rate * period, np.radians(u_deg) + u_rate * period, a
    )
    d_sec_vec = r_sec_p - r_kep[1]  # secular one-orbit displacement (Kepler returns to start)
    d_sec = np.linalg.norm(d_sec_vec, axis=-1)

    # 1. one-orbit displacement of the SGP4 satellite = secular J2 drift
    disp = r_sgp4[1] - r_sgp4[0]
    err = np.linalg.norm(disp - d_sec_vec, axis=-1)
    assert np.all(err <= 500.0 + 0.05 * d_sec), err

    # 2. bound on |SGP4 - Kepler| after one orbit
    e3 = abs(J3_WGS72) / (2.0 * J2_WGS72) * (R_E_WGS72 / a) * math.sin(incl)
    periodic = a * (math.sqrt(5.0) * e3 + J2_WGS72 * (R_E_WGS72 / a) ** 2)
    diff_p = np.linalg.norm(r_sgp4[1] - r_kep[1], axis=-1)
    assert np.all(diff_p <= 1.1 * d_sec + periodic), (diff_p, d_sec, periodic)
    assert 20e3 < d_sec.max() < 40e3  # "tens of km" at these inclinations

    # 3. not the same model
    assert np.all(np.linalg.norm(disp, axis=-1) >= 0.9 * d_sec - 500.0)
    assert np.all(0.9 * d_sec - 500.0 > 2e3)


def test_sgp4_vectorised_matches_per_satellite_loop() -> None:
    shell = _small_shell("starlink-1")
    sats = walker_satrecs(shell, EPOCH)
    t = np.linspace(0.0, 7200.0, 13)
    r = propagate_teme(sats, EPOCH, t)
    jd, fr = julian_dates(EPOCH, t)
    for n, sat in enumerate(sats):
        for k in range(t.size):
            e, pos, _ = sat.sgp4(jd[k], fr[k])
            assert e == 0
            np.testing.assert_allclose(r[k, n], np.array(pos) * 1e3, rtol=0, atol=1e-6)


def test_propagate_ecef_sources_and_methods() -> None:
    shell = _small_shell("oneweb")
    c = Constellation(shell)
    t = np.linspace(0.0, 900.0, 7)
    jd, fr = julian_dates(EPOCH, t)
    r_sgp4 = propagate_ecef(c, EPOCH, t)
    assert r_sgp4.shape == (7, 8, 3)
    np.testing.assert_array_equal(r_sgp4, propagate_ecef(walker_satrecs(c, EPOCH), EPOCH, t))
    np.testing.assert_array_equal(r_sgp4, propagate_ecef(shell, EPOCH, t, method="sgp4"))
    r_kep = propagate_ecef(c, EPOCH, t, method="kepler")
    np.testing.assert_allclose(r_kep, teme_to_ecef(kepler_eci(c, t), jd, fr), rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(r_kep, axis=-1), shell.radius_m)
    # Same place to within the J2/J3 model difference after 15 minutes.
    assert np.linalg.norm(r_sgp4 - r_kep, axis=-1).max() < 30e3
    with pytest.raises(ValueError, match="kepler"):
        propagate_ecef(walker_satrecs(c, EPOCH), EPOCH, t, method="kepler")
    with pytest.raises(ValueError, match="method"):
        propagate_ecef(c, EPOCH, t, method="euler")  # type: ignore[arg-type]


def test_sgp4_error_names_satellite_and_time() -> None:
    good = walker_satrecs(WalkerShell("ok", 53.0, 1, 1, 0, 550.0), EPOCH)[0]
    doomed = Satrec()
    doomed.sgp4init(  # 150 km with a huge drag term: decays within hours
        WGS72,
        "i",
        2,
        good.jdsatepoch + good.jdsatepochF - 2433281.5,
        0.5,
        0.0,
        0.0,
        0.0,
        0.0,
        good.inclo,
        0.0,
        good.no_kozai * (6928.0 / 6528.0) ** 1.5,
        0.0,
    )
    t = np.linspace(0.0, 3 * 86400.0, 13)
    with pytest.raises(SGP4PropagationError, match=r"satellite 1 \(doomed\) at t = \d+ s"):
        propagate_teme([good, doomed], EPOCH, t, names=["good", "doomed"])


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------


def test_gmst_at_j2000_and_against_sgp4() -> None:
    assert math.degrees(gmst_rad(2451545.0, 0.0)) == pytest.approx(280.46061837, abs=1e-8)
    jd, fr = julian_date(datetime(2000, 1, 1, 12, 0, 0))
    assert math.degrees(gmst_rad(jd, fr)) == pytest.approx(280.46061837, abs=1e-8)
    # sgp4's own gstime (full Julian date in one float, so ~1e-9 rad resolution)
    jd = np.full(6, 2460370.5)
    fr = np.array([0.0, 0.1, 0.25, 0.5, 0.9, 3.3])
    ours = gmst_rad(jd, fr)
    ref = np.array([gstime(a + b) for a, b in zip(jd, fr, strict=True)])
    assert np.abs((ours - ref + np.pi) % (2 * np.pi) - np.pi).max() < 1e-8
    # Sidereal rate: one mean solar day advances GMST by ~360.9856 deg.
    step = np.degrees(gmst_rad(2460370.5, 1.0) - gmst_rad(2460370.5, 0.0)) % 360.0
    assert step == pytest.approx(0.98564736, abs=1e-7)


def test_julian_date_matches_sgp4_and_handles_timezones() -> None:
    t = datetime(2024, 3, 1, 6, 30, 15, 250000)
    assert julian_date(t) == pytest.approx(jday(2024, 3, 1, 6, 30, 15.25))
    aware = datetime(2024, 3, 1, 8, 30, 15, 250000, tzinfo=timezone(timedelta(hours=2)))
    assert julian_date(aware) == pytest.approx(julian_date(t))
    assert julian_date(t.replace(tzinfo=UTC)) == julian_date(t)
    jd, fr = julian_dates(t, [0.0, 86400.0])
    assert (jd + fr)[1] - (jd + fr)[0] == pytest.approx(1.0, abs=1e-12)


def test_teme_ecef_round_trip_and_rotation() -> None:
    rng = np.random.default_rng(7)
    r = rng.normal(size=(2, 5, 4, 3)) * 7e6  # (..., T, N, 3) with T = 5
    jd, fr = julian_dates(EPOCH, np.linspace(0.0, 3600.0, 5))
    r_ecef = teme_to_ecef(r, jd, fr)
    np.testing.assert_allclose(ecef_to_teme(r_ecef, jd, fr), r, rtol=0, atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(r_ecef, axis=-1), np.linalg.norm(r, axis=-1))
    np.testing.assert_array_equal(r_ecef[..., 2], r[..., 2])
    # The TEME x axis seen from Earth: (cos g, -sin g, 0).
    g = gmst_rad(jd, fr)
    x_axis = teme_to_ecef(np.tile([1.0, 0.0, 0.0], (5, 1, 1)), jd, fr)[:, 0]
    np.testing.assert_allclose(x_axis, np.stack([np.cos(g), -np.sin(g), 0 * g], -1), atol=1e-15)
    # Scalar time: any shape.
    np.testing.assert_allclose(teme_to_ecef(r[0, 0, 0], jd[0], fr[0]), r_ecef[0, 0, 0])
    with pytest.raises(ValueError, match="T = 5"):
        teme_to_ecef(r[:, :4], jd, fr)


def test_geodetic_round_trip_to_a_millimetre() -> None:
    lat = np.array([-90.0, -89.999, -60.0, -12.3, 0.0, 1e-7, 33.3, 53.0, 89.9999, 90.0])
    lon = np.linspace(-180.0, 179.0, 7)
    alt = np.array([-400.0, 0.0, 1.0, 550e3, 1200e3, 35786e3])
    la, lo, h = np.meshgrid(lat, lon, alt, indexing="ij")
    r = geodetic_to_ecef(la, lo, h)
    assert r.shape == (*la.shape, 3)
    la2, lo2, h2 = ecef_to_geodetic(r)
    np.testing.assert_allclose(h2, h, rtol=0, atol=1e-3)
    np.testing.assert_allclose(geodetic_to_ecef(la2, lo2, h2), r, rtol=0, atol=1e-3)
    # Latitude to ~1e-10 deg (1e-3 m / 6.4e6 m is 9e-9 deg).
    np.testing.assert_allclose(la2, la, rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("lat", "lon"), [(0.0, 0.0), (45.0, 10.0), (-33.9, 151.2), (89.9, -75.0), (-90.0, 0.0)]
)
def test_point_directly_above_a_ground_point(lat: float, lon: float) -> None:
    h = 550e3
    ground = geodetic_to_ecef(lat, lon)
    sat = geodetic_to_ecef(lat, lon, h)
    up = local_up(lat, lon)
    np.testing.assert_allclose(np.linalg.norm(up), 1.0)
    np.testing.assert_allclose(sat, ground + h * up, rtol=0, atol=1e-6)
    la, lo, alt = ecef_to_geodetic(sat)
    assert alt == pytest.approx(h, abs=1e-3) and la == pytest.approx(lat, abs=1e-9)


def test_satellites_over_equator_and_pole_are_at_the_expected_radius() -> None:
    h_km = 550.0
    t = np.linspace(0.0, 5000.0, 11)
    jd, fr = julian_dates(EPOCH, t)
    # Equatorial orbit: always over the equator, at R_E + h = WGS84 equatorial radius + h.
    equatorial = propagate_ecef(WalkerShell("eq", 0.0, 4, 1, 0, h_km), EPOCH, t, method="kepler")
    lat, _, alt = ecef_to_geodetic(equatorial)
    np.testing.assert_allclose(lat, 0.0, atol=1e-12)
    np.testing.assert_allclose(alt, h_km * 1e3, atol=1e-3)
    # Polar orbit starting at u = 90 deg: over the North Pole, R_E + h from the centre,
    # i.e. R_E + h - b above the polar ellipsoid surface.
    polar = WalkerShell("polar", 90.0, 1, 1, 0, h_km, arg_lat0_deg=90.0)
    r = propagate_ecef(polar, EPOCH, [0.0], method="kepler")[0, 0]
    lat, _, alt = ecef_to_geodetic(r)
    assert lat == pytest.approx(90.0, abs=1e-9)
    assert alt == pytest.approx(R_E + h_km * 1e3 - WGS84_B, abs=1e-3)
    assert jd.shape == fr.shape == t.shape


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

BASE = {
    "name": "s",
    "inclination_deg": 53.0,
    "total": 24,
    "planes": 6,
    "phasing": 1,
    "altitude_km": 550.0,
}
BAD_SHELLS = [
    ("total-zero", {"total": 0, "planes": 1, "phasing": 0}, r"total must be >= 1"),
    ("total-float", {"total": 24.5}, r"total must be an integer"),
    ("total-bool", {"total": True}, r"total must be an integer"),
    ("planes-zero", {"planes": 0}, r"planes must be in \[1, total"),
    ("planes-not-divisor", {"planes": 5}, r"planes must divide total"),
    ("planes-too-many", {"planes": 25}, r"planes must be in \[1, total"),
    ("phasing-high", {"phasing": 6}, r"phasing must be in \[0, planes-1\]"),
    ("phasing-negative", {"phasing": -1}, r"phasing must be in \[0, planes-1\]"),
    ("altitude-zero", {"altitude_km": 0.0}, r"altitude_km must be > 0"),
    ("altitude-nan", {"altitude_km": float("nan")}, r"altitude_km must be finite"),
    ("altitude-text", {"altitude_km": "high"}, r"altitude_km must be a number"),
    ("inclination-high", {"inclination_deg": 180.5}, r"inclination_deg must be in \[0, 180\]"),
    ("inclination-negative", {"inclination_deg": -1.0}, r"inclination_deg must be in \[0, 180\]"),
    ("raan0-inf", {"raan0_deg": float("inf")}, r"raan0_deg must be finite"),
    ("name-empty", {"name": " "}, r"name must be a non-empty string"),
    ("name-slash", {"name": "a/b"}, r"name must not contain '/'"),
]


@pytest.mark.parametrize(("kw", "msg"), [c[1:] for c in BAD_SHELLS], ids=[c[0] for c in BAD_SHELLS])
def test_bad_walker_parameters_name_the_field(kw: dict, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        WalkerShell(**{**BASE, **kw})


def test_walker_shell_coerces_and_is_frozen() -> None:
    s = WalkerShell(**{**BASE, "total": np.int64(24), "planes": 6.0, "altitude_km": 550})
    assert type(s.total) is int and type(s.planes) is int and type(s.altitude_km) is float
    assert s.notation == "53:24/6/1"
    with pytest.raises(AttributeError):
        s.total = 12  # type: ignore[misc]


def test_unknown_preset_lists_known_names() -> None:
    with pytest.raises(ValueError, match="unknown Walker preset 'starlink-9'") as info:
        walker_shell("starlink-9")
    for name in ("starlink-1", "oneweb", "kuiper-1"):
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("name", "incl", "total", "planes", "alt"),
    [
        ("starlink-1", 53.0, 1584, 72, 550.0),
        ("oneweb", 87.9, 588, 12, 1200.0),
        ("kuiper-1", 51.9, 1156, 34, 630.0),
    ],
)
def test_presets_match_spec(name: str, incl: float, total: int, planes: int, alt: float) -> None:
    s = walker_shell(name)
    assert (s.inclination_deg, s.total, s.planes, s.altitude_km) == (incl, total, planes, alt)
    assert s.name == name


@pytest.mark.parametrize(
    ("name", "incl", "total", "planes", "alt"),
    [
        ("starlink-gen1-540", 53.2, 1584, 72, 540.0),
        ("starlink-gen1-570", 70.0, 720, 36, 570.0),
        ("starlink-gen1-560", 97.6, 520, 10, 560.0),
        ("starlink-gen2-530", 43.0, 2492, 28, 530.0),
        ("walker-50-1000", 50.0, 1000, 20, 1000.0),
    ],
)
def test_added_shell_presets(name: str, incl: float, total: int, planes: int, alt: float) -> None:
    test_presets_match_spec(name, incl, total, planes, alt)


@pytest.mark.parametrize(
    ("name", "n_sats", "n_shells"),
    [("starlink-gen1", 4408, 4), ("starlink-5shell", 6900, 5), ("oneweb", 588, 1)],
)
def test_constellation_presets(name: str, n_sats: int, n_shells: int) -> None:
    c = constellation_preset(name)
    assert (c.n_sats, len(c.shells)) == (n_sats, n_shells)
    assert all(s.raan0_deg == 0.0 and s.arg_lat0_deg == 0.0 for s in c.shells)
    a = constellation_preset(name, rng=np.random.default_rng(3))
    b = constellation_preset(name, rng=np.random.default_rng(3))
    assert a == b  # seeded phases are reproducible
    phases = np.array([(s.raan0_deg, s.arg_lat0_deg) for s in a.shells])
    assert np.all((phases >= 0.0) & (phases < 360.0)) and len(np.unique(phases)) == 2 * n_shells
    # the phases change positions, not the shells' Walker parameters
    assert [s.notation for s in a.shells] == [s.notation for s in c.shells]
    with pytest.raises(ValueError, match="unknown constellation preset 'x'"):
        constellation_preset("x")


def test_random_subset_is_uniform_distinct_and_seeded() -> None:
    idx = random_subset(100, 30, np.random.default_rng(0))
    assert idx.dtype == np.int64 and len(idx) == 30 and np.all(np.diff(idx) > 0)
    assert np.array_equal(idx, random_subset(100, 30, np.random.default_rng(0)))
    counts = np.zeros(10)
    rng = np.random.default_rng(1)
    for _ in range(2000):
        counts += np.bincount(random_subset(10, 3, rng), minlength=10)
    # each index is picked with probability 3/10: 600 +- 5 sigma (sigma ~ 20.5)
    assert np.all(np.abs(counts - 600) < 103), counts
    for n, k, msg in [(0, 0, "n_sats must be >= 1"), (5, 6, r"k must be in \[0, n_sats=5\]")]:
        with pytest.raises(ValueError, match=msg):
            random_subset(n, k, rng)
