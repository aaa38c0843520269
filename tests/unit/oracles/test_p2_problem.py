"""P2 problem container: validation, derived data, feasibility messages."""

from __future__ import annotations

import numpy as np
import pytest

from leo_env.core.handover import min_handovers
from oracles.p2 import Problem, solve
from oracles.p2.synthetic import APEX_RADIO, random_problem

RADIO = dict(N_PRB=APEX_RADIO["N_PRB"], P_max=APEX_RADIO["P_max"], W_PRB=APEX_RADIO["W_PRB"],
             N0=APEX_RADIO["N0"], T_f=APEX_RADIO["T_f"])


def _arrays(S=2, C=3, K=4, M=3):  # noqa: N803
    v = np.ones((S, C, K), bool)
    g = np.full((S, C, K), 1e-13)
    a = np.full((C, K, M), 1e5)
    return v, g, a


@pytest.mark.parametrize(
    ("override", "name"),
    [
        ({"v": np.ones((2, 3), bool)}, "v"),
        ({"v": np.full((2, 3, 4), 2)}, "v"),
        ({"g": np.ones((2, 3, 5))}, "g"),
        ({"g": -np.ones((2, 3, 4))}, "g"),
        ({"g": np.full((2, 3, 4), np.nan)}, "g"),
        ({"a": np.ones((3, 5, 2))}, "a"),
        ({"a": -np.ones((3, 4, 3))}, "a"),
        ({"H": [1, 2]}, "H"),
        ({"H": -1}, "H"),
        ({"H": 1.5}, "H"),
        ({"N_PRB": 0.0}, "N_PRB"),
        ({"N_PRB": [1.0, 2.0, 3.0]}, "N_PRB"),
        ({"P_max": -1.0}, "P_max"),
        ({"W_PRB": 0.0}, "W_PRB"),
        ({"N0": "x"}, "N0"),
        ({"T_f": -1.0}, "T_f"),
        ({"eps": 0.0}, "eps"),
        ({"lambda_h": -0.1}, "lambda_h"),
        ({"proxy": "magic"}, "proxy"),
        ({"initial": [0, 1, 2]}, "initial"),
        ({"initial": [0, 1]}, "initial"),
        ({"budget_left": [-1, 0, 0]}, "budget_left"),
    ],
    ids=lambda x: x if isinstance(x, str) else None,
)
def test_invalid_inputs_name_the_argument(override, name):
    v, g, a = _arrays()
    kw = dict(v=v, g=g, a=a, H=2, **RADIO)
    kw.update(override)
    with pytest.raises(ValueError, match=name):
        Problem.from_arrays(kw.pop("v"), kw.pop("g"), kw.pop("a"), kw.pop("H"), **kw)


def test_solve_rejects_unknown_method_and_wrong_proxy():
    prob = random_problem(np.random.default_rng(0), S=3, C=4, K=6, H=2)
    with pytest.raises(ValueError, match="method"):
        solve(prob, method="magic")
    with pytest.raises(ValueError, match="lagrangian"):
        solve(prob, method="lagrangian")
    with pytest.raises(ValueError, match="dp"):
        solve(prob.replace(proxy="coupled"), method="dp")
    with pytest.raises(ValueError, match="problem"):
        solve("not a problem", method="dp")  # type: ignore[arg-type]


def test_candidate_view_roundtrip_and_min_handovers():
    rng = np.random.default_rng(3)
    prob = random_problem(rng, S=6, C=9, K=15, H=6)
    dense = rng.random((prob.S, prob.C, prob.K))
    comp = prob.gather(dense)
    back = prob.scatter(comp)
    seen = prob.v.any(axis=2)
    np.testing.assert_array_equal(back[seen], dense[seen])
    np.testing.assert_array_equal(prob.scatter(prob.vis, fill=False), prob.v)
    np.testing.assert_array_equal(prob.min_handovers, min_handovers(prob.v))
    init = rng.integers(-1, prob.S, size=prob.C)
    p2 = prob.replace(initial=init)
    np.testing.assert_array_equal(p2.min_handovers, min_handovers(prob.v, init))


def test_from_scenario_reads_fields():
    import leo_env

    sc = leo_env.make_scenario("toy", seed=0)
    prob = Problem.from_scenario(sc, proxy="coupled")
    assert prob.proxy == "coupled"
    np.testing.assert_array_equal(prob.v, sc.v)
    np.testing.assert_array_equal(prob.H, sc.H)
    assert prob.lambda_h == sc.lambda_h and prob.eps == sc.eps and prob.T_f == sc.T_f
    assert prob.scenario is sc
    assert Problem.from_scenario(sc, lambda_h=0.3).lambda_h == 0.3


def test_no_visible_satellite_is_reported_not_relaxed():
    v, g, a = _arrays()
    v[:, 1, 2] = False
    prob = Problem.from_arrays(v, g, a, 2, **RADIO)
    ok, msg = prob.feasibility()
    assert not ok and "cell 1" in msg and "slot 2" in msg
    for method in ("dp", "milp", "rolling"):
        res = solve(prob, method=method)
        assert res.status == "infeasible" and "cell 1" in res.message and "slot 2" in res.message
    res = solve(prob.replace(proxy="coupled"), method="lagrangian")
    assert res.status == "infeasible" and "cell 1" in res.message


def test_budget_below_minimum_is_reported_with_numbers():
    v, g, a = _arrays(S=2, C=2, K=4)
    v[:] = False
    v[0, :, :2] = True  # satellite 0 sets after slot 1, satellite 1 rises in slot 2
    v[1, :, 2:] = True
    prob = Problem.from_arrays(v, g, a, [1, 0], **RADIO)
    ok, msg = prob.feasibility()
    assert not ok and "cell 1" in msg and "at least 1" in msg and "budget is 0" in msg
    for method in ("dp", "milp", "rolling"):
        res = solve(prob, method=method)
        assert res.status == "infeasible" and "cell 1" in res.message
        assert res.objective != res.objective  # nan, nothing was returned silently
    # budget_left overrides H the same way
    prob2 = Problem.from_arrays(v, g, a, [1, 1], budget_left=[0, 1], **RADIO)
    assert "cell 0" in solve(prob2, method="dp").message
