import numpy as np
import pytest

from agents.config import EnvConfig
from agents.envs import make_env
from agents.predictors import (
    ewma_forecaster,
    load_lstm,
    lstm_forecaster,
    naive_forecaster,
    save_lstm,
    train_lstm,
)
from leo_env.envs.downlink.tables import forecast_tables


@pytest.mark.parametrize("name", ["naive", "ewma"])
def test_naive_and_ewma_match_the_environment(name, rng):
    demand = rng.random((4, 12)) * 1e6
    prior = rng.random(4) * 1e6
    base, _ = forecast_tables(demand, prior, name, 0.0, rng, 0.3)
    f = naive_forecaster if name == "naive" else ewma_forecaster(0.3)
    np.testing.assert_allclose(f(demand, prior), base)


def test_lstm_is_causal_saved_frozen_and_plugged_into_the_env(tmp_path, rng):
    model, stats = train_lstm("toy", seeds=3, epochs=2, hidden=8)
    assert stats["sequences"] > 0
    path = save_lstm(model, tmp_path / "lstm.pt", stats)
    f = lstm_forecaster(load_lstm(path))
    demand = rng.random((3, 10)) * 1e6
    prior = np.ones(3)
    base = f(demand, prior)
    np.testing.assert_allclose(base, lstm_forecaster(model)(demand, prior), rtol=1e-6)
    changed = demand.copy()
    changed[:, 6:] *= 3.0  # the future does not change earlier forecasts
    np.testing.assert_allclose(f(changed, prior)[:, :7], base[:, :7], rtol=1e-6)
    assert np.all(base[:, 0] == prior)
    env = make_env(EnvConfig(preset="toy", allocator="equal", predictor="lstm", prediction_error=0.0,
                             predictor_weights=str(path)))
    obs, _ = env.reset(seed=1)
    u = env.unwrapped  # the forecaster is the env's public predictor= hook
    sc = u.scenario
    demand = np.asarray(sc.a, dtype=float).sum(axis=2)  # realised bits per slot (C, K)
    prior = np.asarray(sc.demand_rate, dtype=float)[:, 0] * sc.M
    expected = f(demand, prior)
    np.testing.assert_allclose(u.forecast(1)[:, 0], expected[:, 0])
    np.testing.assert_allclose(obs["forecast"], np.clip(expected[:, 0] / u.params.demand_scale, 0, 100), rtol=1e-5)
