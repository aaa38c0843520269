import itertools

import numpy as np
import pytest

from leo_env.core import atmosphere, fsmc, linkgroups, terrestrial
from leo_env.core.channel import fspl_linear

from .conftest import make_instance


def brute_groups(compat):
    J, K = compat.shape
    opts = [[-1] + list(np.flatnonzero(compat[j])) for j in range(J)]
    out = []
    for a in itertools.product(*opts):
        on = [x for x in a if x >= 0]
        if len(on) == len(set(on)):
            out.append(a)
    return np.array(out, dtype=np.int64).reshape(-1, J)


@pytest.mark.parametrize(
    "J,K,p,seed", [(2, 3, 0.6, 0), (3, 5, 0.5, 1), (4, 6, 0.7, 2), (4, 4, 1.0, 3), (3, 4, 0.0, 4)],
    ids=["2x3", "3x5", "4x6", "4x4-full", "3x4-empty"],
)
def test_enumeration_equals_brute_force(J, K, p, seed):
    compat = np.random.default_rng(seed).random((J, K)) < p
    g = linkgroups.enumerate_groups(compat)
    ref = brute_groups(compat)
    assert linkgroups.count_groups(compat) == len(ref) == len(g)
    assert {tuple(r) for r in g} == {tuple(r) for r in ref}
    assert (g[0] == -1).all()
    for row in g:  # unicast and compatibility
        on = row[row >= 0]
        assert len(on) == len(set(on.tolist()))
        assert all(compat[j, k] for j, k in enumerate(row) if k >= 0)


def test_enumeration_refuses_what_does_not_fit():
    compat = np.ones((4, 200), dtype=bool)
    n = linkgroups.count_groups(compat)
    assert n > 1_000_000
    with pytest.raises(ValueError, match="max_bytes"):
        linkgroups.enumerate_groups(compat, max_bytes=2**20)


def _direct_sinr(inst, assign, t):
    """Plain loop over the definition."""
    out = {}
    for j, k in enumerate(assign):
        if k < 0:
            continue
        interf = 0.0
        for j2, k2 in enumerate(assign):
            if j2 != j and k2 >= 0 and inst.tx_band[j2] == inst.tx_band[j]:
                interf += inst.tx_power_w[j2] * inst.gain[j2, k, t]
        sinr = inst.tx_power_w[j] * inst.gain[j, k, t] / (interf + inst.noise_w[inst.tx_band[j]])
        bits = inst.dt_s * inst.bandwidth_hz[inst.tx_band[j]] * np.log2(1 + sinr)
        out[j] = (sinr, bits)
    return out


def test_sinr_bits_and_view_equal_a_direct_loop():
    _, inst, _ = make_instance("small", 3)
    view = linkgroups.link_view(inst)
    groups = linkgroups.enumerate_groups(inst.usable)
    valid = linkgroups.group_valid(groups, view)
    rng = np.random.default_rng(0)
    for gi in rng.choice(len(groups), 150, replace=False):
        a = groups[gi]
        for t in (0, inst.T - 1):
            ref = _direct_sinr(inst, a, t)
            sinr, bits, ok = linkgroups.slot_links(inst, a, t)
            p = linkgroups.pattern_of(a)
            ok_ref = True
            for j, (s, b) in ref.items():
                assert sinr[j] == pytest.approx(s, rel=1e-12)
                passed = s >= inst.sinr_th[a[j]]
                ok_ref &= passed
                assert ok[j] == passed
                assert bits[j] == pytest.approx(b if passed else 0.0, rel=1e-12)
                assert view.sinr[j, a[j], p, t] == pytest.approx(s, rel=1e-12)
                assert view.bits[j, a[j], p, t] == pytest.approx(b if passed else 0.0, rel=1e-12)
            assert valid[gi, t] == ok_ref


def test_slot_links_flags_duplicates_and_incompatible(tiny):
    _, inst, _ = tiny
    mt = int(np.flatnonzero(inst.compat[1] & ~inst.compat[0] & inst.active)[0])
    _, _, ok = linkgroups.slot_links(inst, np.array([mt, -1, -1]), 0)  # LEO -> MT
    assert not ok[0]
    _, _, ok = linkgroups.slot_links(inst, np.array([-1, mt, mt]), 0)  # MT twice
    assert not ok[1] and not ok[2]


@pytest.mark.parametrize("model", ["rayleigh", "rician"])
def test_fsmc_sampler_matches_its_matrix(model):
    # 2000 chains x 300 steps ~ 75k transitions per row; each entry's binomial std is
    # sqrt(p(1-p)/n) <= 0.0019: tolerance 5 std + 1e-4
    p = fsmc.ar1_transition_matrix(8, 0.2, model, 10.0)
    paths = fsmc.sample_levels(np.random.default_rng(1), p, 2000, 300)
    p_hat, n = fsmc.empirical_transition_matrix(paths, 8)
    tol = 5 * np.sqrt(p * (1 - p) / n[:, None]) + 1e-4
    assert np.all(np.abs(p_hat - p) <= tol)
    q = fsmc.lcr_transition_matrix(8, 0.05, model, 10.0)
    paths = fsmc.sample_levels(np.random.default_rng(2), q, 2000, 300)
    q_hat, n = fsmc.empirical_transition_matrix(paths, 8)
    assert np.all(np.abs(q_hat - q) <= 5 * np.sqrt(q * (1 - q) / n[:, None]) + 1e-4)
    assert np.all(q_hat[np.abs(np.subtract.outer(range(8), range(8))) > 1] == 0)


@pytest.mark.parametrize("model", ["rayleigh", "rician"])
def test_ar1_matrix_matches_a_simulated_gauss_markov_trace(model):
    # independent reference: simulate the AR(1) complex Gaussian fading and quantise it
    from scipy.special import j0

    k = 0.0 if model == "rayleigh" else 10.0
    m, s = np.sqrt(k / (k + 1)), np.sqrt(1 / (k + 1))
    rho = j0(2 * np.pi * 0.2)
    rng = np.random.default_rng(0)
    n = 300_000
    c1 = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)
    w = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)
    c2 = rho * c1 + np.sqrt(1 - rho**2) * w
    th = fsmc.equal_probability_thresholds(8, model, 10.0)
    lv = [np.searchsorted(th, np.abs(m + s * c) ** 2, side="right") - 1 for c in (c1, c2)]
    p_hat, cnt = fsmc.empirical_transition_matrix(np.stack(lv, axis=1), 8)
    p = fsmc.ar1_transition_matrix(8, 0.2, model, 10.0)
    assert np.all(np.abs(p_hat - p) <= 5 * np.sqrt(p * (1 - p) / cnt[:, None]) + 1e-4)
    # equal-probability levels: the uniform law is stationary
    assert np.allclose(p.sum(axis=0), 1.0, atol=2e-3)
    assert fsmc.level_means(8, model, 10.0).mean() == pytest.approx(1.0, abs=1e-6)


def test_fsmc_lcr_refuses_invalid_fd_dt():
    with pytest.raises(ValueError, match="fd_dt"):
        fsmc.lcr_transition_matrix(8, 0.2)
    with pytest.raises(ValueError, match="n_levels"):
        fsmc.ar1_transition_matrix(1, 0.2)


def test_atmosphere_and_terrestrial_formulas():
    # zenith: d = h, loss = 3 km x 0.3 dB/km = 0.9 dB
    h = 780e3
    assert atmosphere.slant_range_from_elevation_m(90.0, h) == pytest.approx(h)
    assert 10 * np.log10(atmosphere.rain_cloud_loss_linear(0.3, h, h)) == pytest.approx(0.9)
    d30 = atmosphere.slant_range_from_elevation_m(30.0, h)
    assert h < d30 < 2 * h  # flat-Earth 1/sin(30) = 2 is an upper bound
    # Bessel pattern: 1 on boresight, first null at x = 3.8317
    f, a = 30e9, 0.5
    th_null = np.arcsin(3.8317 * 299_792_458.0 / (2 * np.pi * a * f))
    g = atmosphere.bessel_pattern_gain(np.array([0.0, th_null]), f, a)
    assert g[0] == 1.0 and g[1] < 1e-8
    # alpha = 2 -> free space
    dist = np.array([100.0, 700.0])
    np.testing.assert_allclose(
        terrestrial.cband_gain(dist, freq_hz=4e9, exponent=2.0, g_tx_dbi=0.0, g_rx_dbi=0.0),
        1 / fspl_linear(dist, 4e9),
    )
    c = terrestrial.compatibility(np.array([0, 1, 2, 3, 3]), 2)
    np.testing.assert_array_equal(c[0], [False, True, True, True, True])
    np.testing.assert_array_equal(c[1:], np.tile([True, True, False, False, False], (3, 1)))


def test_group_embedding_marks_the_links():
    compat = np.random.default_rng(0).random((3, 4)) < 0.7
    g = linkgroups.enumerate_groups(compat)
    e = linkgroups.group_embedding(g, 4)
    assert e.shape == (len(g), 12)
    for row, emb in zip(g, e, strict=True):
        ref = np.zeros(12)
        for j, k in enumerate(row):
            if k >= 0:
                ref[j * 4 + k] = 1
        np.testing.assert_array_equal(emb, ref)
    # distinct groups, distinct embeddings
    assert len({tuple(x) for x in e}) == len(g)
