"""No future in the observation: perturbing arrivals after slot j leaves observations up to j unchanged.

Every predictor x look-ahead combination is checked; the only predictor allowed to see the
future is the one declared a noisy oracle (``ORACLE_PREDICTORS``), and the test asserts that it
does (so the declaration is not vacuous).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import leo_env
from leo_env.envs.downlink.env import DownlinkEnv
from leo_env.envs.downlink.params import ORACLE_PREDICTORS, PREDICTOR_NAMES


def _mean_forecaster(demand: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """A causal callable predictor: running mean of the revealed slots."""
    out = np.empty_like(demand)
    out[:, 0] = prior
    csum = np.cumsum(demand, axis=1)
    out[:, 1:] = csum[:, :-1] / np.arange(1, demand.shape[1])
    return out


def _observations(sc, predictor, lookahead: int, upto: int) -> list[dict[str, np.ndarray]]:
    env = DownlinkEnv(scenario=sc, allocator="equal", predictor=predictor, lookahead=lookahead,
                      prediction_error=0.1)
    obs, _ = env.reset(seed=7)
    seen = [obs]
    for _ in range(upto):
        mask = env.action_masks().reshape(sc.C, -1)
        obs, *_ = env.step(mask.argmax(axis=1))
        seen.append(obs)
    return seen


PREDICTORS = [*PREDICTOR_NAMES, _mean_forecaster]


@pytest.mark.parametrize("lookahead", [0, 1, 3])
@pytest.mark.parametrize("predictor", PREDICTORS, ids=lambda p: p if isinstance(p, str) else "callable")
def test_observations_up_to_j_ignore_arrivals_after_j(predictor, lookahead):
    sc = leo_env.make_scenario("medium", seed=0)
    j = 10
    a = np.array(sc.a, dtype=float)
    a[:, j + 1 :, :] *= 3.0  # triple every arrival after slot j
    perturbed = dataclasses.replace(sc, a=a)
    # decision points 0 .. j+1 have seen slots < j+1 only
    ref = _observations(sc, predictor, lookahead, j + 1)
    new = _observations(perturbed, predictor, lookahead, j + 1)
    same = all(np.array_equal(r[key], n[key]) for r, n in zip(ref, new, strict=True) for key in r)
    oracle = isinstance(predictor, str) and predictor in ORACLE_PREDICTORS
    if oracle:
        assert not same, "a declared noisy oracle should see the realised future demand"
    else:
        assert same, f"{predictor} with lookahead={lookahead} leaks arrivals after slot {j}"
