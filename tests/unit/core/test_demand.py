import numpy as np
import pytest

from leo_env.core import demand, forecast, utility


def test_two_class_share_and_rates():
    rng = np.random.default_rng(0)
    rate, high = demand.two_class_rates(rng, 20, 0.3, 50e6, 10e6)
    assert high.sum() == 6
    np.testing.assert_array_equal(rate, np.where(high, 50e6, 10e6))
    with pytest.raises(ValueError, match="mismatch_ratio"):
        demand.two_class_rates(rng, 5, 1.5, 1, 1)


def test_poisson_arrivals_mean_and_granularity():
    rng = np.random.default_rng(1)
    rate = np.full((3, 4), 20e6)
    a = demand.poisson_arrivals(rng, rate, T_f=0.01, M=2000, packet_bits=12000)
    assert a.shape == (3, 4, 2000)
    assert np.all(np.mod(a, 12000) == 0)
    assert a.mean() == pytest.approx(20e6 * 0.01, rel=0.01)


def test_periodic_profile_is_apex():
    f = demand.profile_factor(48, "periodic", 24, 0.3)
    np.testing.assert_allclose(f, 1 + 0.3 * np.sin(2 * np.pi * np.arange(48) / 24))
    d = demand.profile_factor(
        3, "diurnal", slot_s=3600, start_utc_hour=0, lon_deg=np.array([0.0, 90.0])
    )
    assert d.shape == (2, 3)
    # 90 deg east is 6 h ahead: its value at 0 UTC equals the value at 6 UTC at Greenwich
    g = demand.profile_factor(7, "diurnal", slot_s=3600, start_utc_hour=0, lon_deg=np.array([0.0]))
    assert d[1, 0] == pytest.approx(g[0, 6])


def test_bursts_regimes_and_churn():
    rng = np.random.default_rng(2)
    b = demand.burst_multiplier(rng, 50, 40, prob=0.05, factor=3.0, length=3)
    assert set(np.unique(b)) <= {1.0, 3.0} and (b == 3.0).any()
    rate, shifts = demand.regime_shift_rates(rng, np.arange(1.0, 6.0), 30, 2, 0.5, 2.0)
    assert len(shifts) == 2 and np.all(rate[:, 0] == np.arange(1.0, 6.0))
    # each regime is a permutation of the previous one times a common factor
    r1 = rate[:, shifts[0]]
    assert np.sort(r1 / r1.sum()) == pytest.approx(np.arange(1.0, 6.0) / 15.0)
    act = demand.churn_active(rng, 100, 50, 0.1, 0.3)
    assert act[:, 0].all() and not act.all() and act.mean() > 0.5


def test_population_rates_put_the_most_people_in_high_demand():
    cells = np.array([[48.85, 2.35], [45.0, 1.0], [52.52, 13.40]])  # Paris, rural France, Berlin
    rate, pop = demand.population_rates(cells, 50e6, 10e6, radius_deg=0.5)
    assert pop[0] > 1e6 and pop[2] > 1e6
    assert rate.max() == pytest.approx(50e6) and np.all(rate >= 10e6)
    assert rate[1] < rate[0] and rate[1] < rate[2]


def test_forecasts():
    h = np.array([[1.0, 2.0, 4.0]])
    assert forecast.naive_forecast(h)[0] == 4.0
    assert forecast.ewma_forecast(h, 0.5)[0] == pytest.approx(0.5 * 4 + 0.5 * (0.5 * 2 + 0.5 * 1))
    rng = np.random.default_rng(3)
    truth = np.full(100_000, 10.0)
    f = forecast.noisy_forecast(truth, 0.2, rng)
    assert forecast.relative_error(f, truth) == pytest.approx(0.2, rel=0.02)
    with pytest.raises(ValueError, match="rel_error"):
        forecast.noisy_forecast(truth, -0.1, rng)


def test_utility_skips_zero_demand_and_jain():
    xi = utility.satisfaction(np.array([5.0, 0.0, 3.0]), np.array([10.0, 0.0, 2.0]))
    assert np.isnan(xi[1]) and xi[0] == 0.5 and xi[2] == 1.0
    assert utility.log_utility(xi, eps=1e-4) == pytest.approx(np.log(0.5001) + np.log(1.0001))
    assert utility.jain_index(np.array([1.0, 1.0, 1.0])) == pytest.approx(1.0)
    assert utility.jain_index(np.array([1.0, 0.0, 0.0, 0.0])) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="eps"):
        utility.log_utility(xi, eps=0)
