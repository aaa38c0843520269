"""Exact scoring of associations (P1 in every slot) and the benchmark entry points."""

from __future__ import annotations

import json

import numpy as np
import pytest

from leo_env.core.handover import assoc_to_onehot
from leo_env.core.utility import log_utility
from oracles.p2 import Problem, evaluate, solve
from oracles.p2.synthetic import APEX_RADIO

RADIO = dict(N_PRB=APEX_RADIO["N_PRB"], P_max=APEX_RADIO["P_max"], W_PRB=APEX_RADIO["W_PRB"],
             N0=APEX_RADIO["N0"], T_f=APEX_RADIO["T_f"])


@pytest.fixture(scope="module")
def toy():
    import leo_env

    return leo_env.make_scenario("toy", seed=0, overrides=["demand.scale=3"])


def test_evaluate_matches_p1_slot_by_slot(toy):
    from oracles.p1 import solve as p1_solve

    prob = Problem.from_scenario(toy, proxy="coupled")
    res = solve(prob, method="lagrangian")
    ev = evaluate(toy, res.x)
    total = 0.0
    for k in range(prob.K):
        r = p1_solve(res.x[:, :, k], toy.a[:, k, :], toy.g[:, :, k], N_PRB=toy.N_PRB,
                     P_max=toy.P_max, W_PRB=toy.W_PRB, N0=toy.N0, T_f=toy.T_f, eps=toy.eps)
        np.testing.assert_allclose(ev.xi[:, k], r.xi, atol=1e-9)
        total += float(log_utility(r.xi, eps=toy.eps))
    total -= toy.lambda_h * res.handovers.sum()
    assert ev.utility == pytest.approx(total, abs=1e-8)
    assert ev.reward.sum() == pytest.approx(ev.utility)
    assert ev.budget_violations == 0 and ev.emergencies == 0
    assert ev.visibility_violations == 0
    # the coupled proxy is close to exact P1 on the oracle's own association
    assert np.nanmax(np.abs(res.xi - ev.xi)) < 0.05
    # (S, C, K) one-hot and (C, K) indices give the same score; Problem or Scenario too
    ev2 = evaluate(prob, res.assoc)
    assert ev2.utility == pytest.approx(ev.utility)


def test_evaluate_counts_violations_and_emergencies():
    S, C, K, M = 2, 2, 6, 2  # noqa: N806
    v = np.zeros((S, C, K), bool)
    v[0, :, :3] = True
    v[1, :, 3:] = True
    g = np.full((S, C, K), 1e-13)
    a = np.full((C, K, M), 1e5)
    a[1, 2] = 0.0  # a zero-demand cell-slot is left out
    prob = Problem.from_arrays(v, g, a, [0, 1], **RADIO)
    assoc = np.array([[0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1]])
    ev = evaluate(prob, assoc)
    np.testing.assert_array_equal(ev.handovers, [1, 1])
    # cell 0 (budget 0) is forced off a setting satellite: an emergency, not a violation
    assert ev.emergencies == 1 and ev.budget_violations == 0 and ev.cells_over_budget == 0
    assert ev.jain_slot_mean == pytest.approx(np.mean(ev.jain_per_slot))
    # cell 1 (budget 1) switches voluntarily twice while both satellites are visible
    v2 = v.copy()
    v2[1] = True
    prob2 = Problem.from_arrays(v2, g, a, [0, 1], **RADIO)
    ev2 = evaluate(prob2, np.array([[0, 0, 0, 1, 1, 1], [0, 1, 0, 1, 1, 1]]))
    np.testing.assert_array_equal(ev2.handovers, [1, 3])
    assert ev2.emergencies == 2  # cell 0 as above; cell 1's last switch is forced after its budget
    assert ev2.budget_violations == 1 and ev2.cells_over_budget == 1  # 2 voluntary switches, budget 1
    assert ev.visibility_violations == 0
    assert np.isnan(ev.xi[1, 2])
    bad = assoc.copy()
    bad[0, 1] = 1  # satellite 1 is not visible in slot 1
    assert evaluate(prob, assoc_to_onehot(bad, S)).visibility_violations == 1
    with pytest.raises(ValueError, match="x"):
        evaluate(prob, np.zeros((C, K + 1), int))
    with pytest.raises(ValueError, match="x"):
        evaluate(prob, np.zeros((S, C)))


def test_bench_p2_and_calibrate_smoke(tmp_path):
    from benchmarks import calibrate, p2

    out = tmp_path / "p2.json"
    assert p2.main(["--preset", "toy", "--instances", "1", "--europe-instances", "0",
                    "--milp-time", "5", "--window", "4", "--step", "2", "--out", str(out)]) == 0
    rep = json.loads(out.read_text())
    toy = rep["variants"]["toy"]["summary"]
    assert toy["dp"]["median_gap_vs_milp"] == pytest.approx(0.0, abs=1e-9)
    assert all(s["budget_violations_total"] == 0 for v in rep["variants"].values()
               for s in v["summary"].values())
    # every method of every variant must have solved (a killed or failed solve is a failure)
    statuses = {(name, m): set(s["statuses"]) for name, v in rep["variants"].items()
                for m, s in v["summary"].items()}
    bad = {k: st for k, st in statuses.items() if not st <= {"optimal", "feasible"}}
    assert statuses and not bad, bad
    assert (tmp_path / "p2.md").exists()
    cal = tmp_path / "cal.json"
    assert calibrate.main(["--presets", "toy", "--seeds", "1", "--slots", "2", "--assignments", "2",
                           "--out", str(cal)]) == 0
    res = json.loads(cal.read_text())
    assert set(res["presets"]["toy"]) == {"underloaded", "transition", "overloaded"}
    assert (tmp_path / "cal.png").stat().st_size > 0 and (tmp_path / "cal.md").exists()
