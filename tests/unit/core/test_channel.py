import numpy as np
import pytest

from leo_env.core import channel


def test_fspl_matches_textbook_value():
    # 550 km at 2 GHz: 20 log10(4 pi d f / c) = 153.28 dB
    assert float(channel.linear_to_db(channel.fspl_linear(550e3, 2e9))) == pytest.approx(
        153.28, abs=0.01
    )
    with pytest.raises(ValueError, match="distance_m"):
        channel.fspl_linear(np.array([0.0]), 2e9)


def test_large_scale_gain_is_link_budget():
    d = np.array([550e3, 1200e3])
    g = channel.large_scale_gain(d, shadowing_db=np.array([0.0, 2.0]))
    expect_db = (
        30 + 0 - 0.5 - 3.0 - channel.linear_to_db(channel.fspl_linear(d, 2e9)) - np.array([0, 2.0])
    )
    np.testing.assert_allclose(channel.linear_to_db(g), expect_db, atol=1e-9)
    assert channel.dbm_per_hz_to_w_per_hz(-174.0) == pytest.approx(3.981e-21, rel=1e-3)


@pytest.mark.parametrize("model", ["rician", "rayleigh"])
def test_small_scale_fading_has_unit_mean(model):
    rng = np.random.default_rng(0)
    h2 = channel.small_scale_power_gain(rng, (200_000,), model=model, rician_k_db=10.0)
    assert h2.min() >= 0
    assert h2.mean() == pytest.approx(1.0, abs=0.01)
    if model == "rayleigh":  # Exp(1): variance 1
        assert h2.var() == pytest.approx(1.0, abs=0.02)
    else:  # Rician K: variance (2K+1)/(K+1)^2 for unit mean
        k = 10.0
        assert h2.var() == pytest.approx((2 * k + 1) / (k + 1) ** 2, rel=0.03)


def test_shadowing_marginal_and_correlation():
    rng = np.random.default_rng(1)
    x = channel.shadowing_db(rng, (20_000, 6), sigma_db=2.0, corr=0.9)
    assert x.std(axis=0) == pytest.approx(np.full(6, 2.0), rel=0.03)
    r = np.corrcoef(x[:, 2], x[:, 3])[0, 1]
    assert r == pytest.approx(0.9, abs=0.02)
    with pytest.raises(ValueError, match="corr"):
        channel.shadowing_db(rng, (2, 2), 2.0, corr=1.0)
