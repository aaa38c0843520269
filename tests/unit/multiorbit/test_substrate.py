import math

import numpy as np
import pytest

from leo_env.core.channel import fspl_linear
from leo_env.core.cochannel import (
    CochannelInstance,
    cochannel_sinr,
    gamma_min,
    min_rate_powers,
    min_rate_system,
    rates_bps,
    ue_drop_disc,
)
from leo_env.core.frames import geodetic_to_ecef
from leo_env.core.geometry import elevation_deg, zenith_cone_visible
from leo_env.core.ntn_pathloss import FREE_SPACE, PathLossModel, pathloss_db, pathloss_gain
from leo_env.core.orbit import propagate_ecef
from leo_env.scenario.multiorbit import _EPOCH, build_instance, preset, remaining_visible_s


def test_free_space_equals_fspl():
    d = np.array([5e5, 1e6, 2.5e6])
    for f in (2e9, 20e9):
        ref = 10 * np.log10(fspl_linear(d, f))
        np.testing.assert_allclose(pathloss_db(d, f), ref, atol=2.5e-3)  # 32.45 vs 32.448 dB
        np.testing.assert_allclose(pathloss_gain(d, f), 10 ** (-ref / 10), rtol=1e-3)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: pathloss_db([0.0], 2e9), "distance_m"),
        (lambda: pathloss_db([1.0], -1.0), "freq_hz"),
        (lambda: PathLossModel(a=float("nan")), "a must be"),
        (lambda: PathLossModel(c=-1.0), "c must be"),
        (lambda: ue_drop_disc(np.random.default_rng(0), 95.0, 0.0, 50.0, 3), "centre_lat_deg"),
        (lambda: ue_drop_disc(np.random.default_rng(0), 40.0, 0.0, -1.0, 3), "radius_km"),
        (lambda: preset("dvmoss-paper", cone_deg=0.0), "cone_deg"),
        (lambda: preset("dvmoss-paper", n_ues=0), "n_ues"),
        (lambda: preset("dvmoss-paper", p_max_w=float("inf")), "p_max_w"),
        (lambda: preset("nope"), "unknown multiorbit preset"),
    ],
    ids=["dist", "freq", "nan-a", "neg-c", "lat", "radius", "cone", "n_ues", "pmax", "preset"],
)
def test_bad_input_names_the_field(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_pathloss_model_general_form():
    m = PathLossModel(a=30.0, b=10.0, c=25.0, name="x")
    assert pathloss_db([100.0], 4e9, m)[0] == pytest.approx(30 * 2 + 10 + 25 * math.log10(4))
    assert FREE_SPACE.a == 20.0


def test_ue_drop_inside_disc_and_uniform():
    rng = np.random.default_rng(3)
    ll = ue_drop_disc(rng, 40.0, 0.0, 50.0, 4000)
    centre = geodetic_to_ecef(40.0, 0.0)
    d_km = np.linalg.norm(geodetic_to_ecef(ll[:, 0], ll[:, 1]) - centre, axis=1) / 1e3
    assert d_km.max() <= 50.0 * 1.01
    # uniform in area: P(r < R/2) = 1/4
    assert abs(np.mean(d_km < 25.0) - 0.25) < 0.03
    np.testing.assert_array_equal(ll, ue_drop_disc(np.random.default_rng(3), 40.0, 0.0, 50.0, 4000))


def _random_flat(rng, n, n_sub):
    g = 10 ** rng.uniform(-1, 2, n)
    p = rng.uniform(0.01, 1.0, n)
    f = rng.integers(0, n_sub, n)
    return g, p, f


def test_sinr_and_rates_equal_direct_loop():
    rng = np.random.default_rng(0)
    g, p, f = _random_flat(rng, 30, 5)
    noise = 0.05
    sinr = cochannel_sinr(g, p, f, noise, 5)
    for u in range(30):
        interf = sum(p[v] for v in range(30) if v != u and f[v] == f[u])
        ref = p[u] * g[u] / (noise + g[u] * interf)
        assert sinr[u] == pytest.approx(ref, rel=1e-12)
    np.testing.assert_allclose(rates_bps(sinr, 1e6), 1e6 * np.log2(1 + sinr))


def test_min_rate_powers_solve_the_system_exactly():
    rng = np.random.default_rng(1)
    noise, n_sub = 0.01, 6
    g = 10 ** rng.uniform(-1, 1, 14)
    f = rng.integers(0, n_sub, 14)
    gam = rng.uniform(0.02, 0.2, 14)
    p, total, ok = min_rate_powers(g, gam, f, noise, n_sub)
    for q in range(n_sub):
        m = np.flatnonzero(f == q)
        if m.size == 0:
            assert ok[q] and total[q] == 0
            continue
        mat, b = min_rate_system(g[m], gam[m], noise)
        ref = np.linalg.solve(mat, b)
        a = gam[m] / (1 + gam[m])
        assert ok[q] == (a.sum() < 1)
        if ok[q]:
            np.testing.assert_allclose(p[m], ref, rtol=1e-10)
            assert total[q] == pytest.approx(ref.sum(), rel=1e-10)
            assert np.all(ref > 0)
    served = np.isin(f, np.flatnonzero(ok))
    sinr = cochannel_sinr(g[served], p[served], f[served], noise, n_sub)
    np.testing.assert_allclose(sinr, gam[served], rtol=1e-9)
    np.testing.assert_allclose(rates_bps(sinr, 1e6), 1e6 * np.log2(1 + gam[served]), rtol=1e-9)


def test_positivity_test_rejects_crowded_subcarrier():
    # Gamma = 1 (R_min = B): two UEs cannot share (a = 1/2 each, sum = 1).
    g = np.array([1.0, 2.0])
    gam = gamma_min(np.array([1e6, 1e6]), 1e6)
    np.testing.assert_allclose(gam, 1.0)
    _, total, ok = min_rate_powers(g, gam, np.array([0, 0]), 0.1, 1)
    assert not ok[0] and np.isinf(total[0])
    mat, b = min_rate_system(g, gam, 0.1)
    assert abs(np.linalg.det(mat)) < 1e-12  # singular: no positive solution
    _, _, ok3 = min_rate_powers(np.ones(3), np.full(3, 0.4), np.zeros(3, int), 0.1, 1)
    assert ok3[0]  # 3 * 0.4 / 1.4 < 1
    mat, b = min_rate_system(np.ones(4), np.full(4, 0.4), 0.1)
    assert np.any(np.linalg.solve(mat, b) <= 0)  # 4 * 0.4 / 1.4 > 1: not positive


def test_instance_matches_cone_visibility_and_is_deterministic():
    sc = preset("dvmoss-paper", cone_deg=55.0, n_ues=12)
    inst = build_instance(sc, seed=4, slot=2)
    again = build_instance(sc, seed=4, slot=2)
    np.testing.assert_array_equal(inst.gain, again.gain)
    other = build_instance(sc, seed=5, slot=2)
    assert inst.gain.shape != other.gain.shape or not np.array_equal(inst.gain, other.gain)
    assert inst.gain.shape == (inst.n_sats, 12, 16)
    assert np.all(inst.visible.any(axis=1))
    # independent recomputation of the cone: rebuild the UE drop and satellite positions
    ss = np.random.SeedSequence([4, 0x4D4F])
    rng_ue, rng_ep = (np.random.default_rng(s) for s in ss.spawn(2))
    ll = ue_drop_disc(rng_ue, 40.0, 0.0, 50.0, 12)
    ue = geodetic_to_ecef(ll[:, 0], ll[:, 1])
    t0 = float(rng_ep.random()) * sc.shell.period_s
    sat = propagate_ecef(sc.shell, _EPOCH, [t0 + 2 * sc.slot_s], method="kepler")[0]
    vis = zenith_cone_visible(sat, ue, 55.0)
    np.testing.assert_array_equal(np.flatnonzero(vis.any(axis=1)), inst.sat_id)
    np.testing.assert_array_equal(vis[inst.sat_id], inst.visible)
    np.testing.assert_allclose(elevation_deg(sat, ue)[inst.sat_id], inst.elevation_deg)
    assert np.all(inst.elevation_deg[inst.visible] >= 90.0 - 55.0)


def test_instance_validation():
    inst = build_instance(preset("small"), 0)
    kw = {f: getattr(inst, f) for f in inst.__dataclass_fields__}
    with pytest.raises(ValueError, match="gain"):
        CochannelInstance(**{**kw, "gain": -inst.gain})
    with pytest.raises(ValueError, match="visible"):
        CochannelInstance(**{**kw, "visible": np.zeros_like(inst.visible)})
    with pytest.raises(ValueError, match="p_max_w"):
        CochannelInstance(**{**kw, "p_max_w": 0.0})


def test_remaining_visibility_matches_a_direct_loop():
    sc = preset("dvmoss-paper", cone_deg=50.0, n_ues=5)
    inst = build_instance(sc, seed=2, slot=1)
    rem = remaining_visible_s(sc, seed=2, slot=1, horizon_s=300.0)
    assert rem.shape == (inst.n_sats,)
    ss = np.random.SeedSequence([2, 0x4D4F])
    rng_ue, rng_ep = (np.random.default_rng(s) for s in ss.spawn(2))
    ll = ue_drop_disc(rng_ue, 40.0, 0.0, 50.0, 5)
    ue = geodetic_to_ecef(ll[:, 0], ll[:, 1])
    t = float(rng_ep.random()) * sc.shell.period_s + 1 * sc.slot_s
    for c, sid in enumerate(inst.sat_id):
        k = 0
        while k < 30:
            sat = propagate_ecef(sc.shell, _EPOCH, [t + (k + 1) * sc.slot_s], method="kepler")[0]
            if not zenith_cone_visible(sat[sid : sid + 1], ue, 50.0).any():
                break
            k += 1
        assert rem[c] == min(k * sc.slot_s, 300.0)
    assert rem.max() > 0
