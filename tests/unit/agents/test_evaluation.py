import json

import numpy as np
import pytest

from agents.config import EnvConfig
from agents.evaluation import (
    PolicySpec,
    baseline_spec,
    markdown_table,
    run_evaluation,
    summarise,
    wilcoxon_pairs,
)
from leo_env.envs.downlink.policies import GreedyPolicy

ENV = EnvConfig(preset="toy", allocator="equal")


def _episodes(values):
    return [
        {"utility": u, "pf_utility": u, "xi_mean": 0.5, "jain_slot_mean": 0.9, "worst_cell_xi": 0.2, "served_bits": 1e6,
         "handovers_total": 3, "handovers_max_cell": 1, "budget_violations": 0, "emergencies": 0, "repairs": 0,
         "decision_ms": 0.1, "decision_ms_slots": [0.1, 0.1]}
        for u in values
    ]


def test_summary_gap_and_wilcoxon_on_known_numbers():
    b1 = [-10.0, -20.0, -10.0, -5.0, -8.0, -12.0]
    ag = [-11.0, -22.0, -10.5, -5.5, -9.0, -12.6]
    eps = {("B1", 0.1): _episodes(b1), ("B5", 0.1): _episodes(ag), ("B0", 0.1): _episodes([x - 5 for x in b1])}
    rows = {r["policy"]: r for r in summarise(eps)}
    assert rows["B1"]["gap_to_b1"] == 0.0
    expected = np.mean([(a - b) / abs(a) for a, b in zip(b1, ag, strict=True)])
    assert rows["B5"]["gap_to_b1"] == pytest.approx(expected)
    assert rows["B5"]["utility_mean"] == pytest.approx(np.mean(ag))
    assert rows["B5"]["utility_std"] == pytest.approx(np.std(ag, ddof=1))
    tests = wilcoxon_pairs(eps)
    t = next(t for t in tests if (t["a"], t["b"]) == ("B5", "B1"))
    assert t["wins"] == 0 and t["mean_diff"] < 0 and t["p_value"] == pytest.approx(0.03125)
    t0 = next(t for t in tests if (t["a"], t["b"]) == ("B5", "B0"))
    assert t0["wins"] == 6 and t0["p_greater"] == pytest.approx(0.015625)
    md = markdown_table(summarise(eps), tests, 6)
    assert "| B5 |" in md and "Wilcoxon" in md


class _Crash(GreedyPolicy):
    calls = 0

    def act(self, obs, env):
        _Crash.calls += 1
        if _Crash.calls > 35:  # the untimed warm-up episode (10 slots) + 2.5 timed episodes
            raise KeyboardInterrupt("simulated crash")
        return super().act(obs, env)


def test_interrupted_evaluation_resumes_from_partial_results(tmp_path):
    ref = run_evaluation([baseline_spec("b0", None, None)], ENV, 4, [0.1], tmp_path / "ref", progress=False)
    spec = PolicySpec("B0", _Crash, forecast_free=True, key={"policy": "b0"})
    with pytest.raises(KeyboardInterrupt):
        run_evaluation([spec], ENV, 4, [0.1], tmp_path / "out", progress=False)
    part = sorted((tmp_path / "out" / "partial" / "B0__shared").glob("*.json"))
    assert [p.name for p in part] == ["00000.json", "00001.json"]  # two whole episodes of 10 slots were saved
    assert json.loads(part[0].read_text())["key"]["index"] == 0
    _Crash.calls = -1000
    again = run_evaluation([spec], ENV, 4, [0.1], tmp_path / "out", progress=False)
    assert _Crash.calls == -1000 + 10 + 20  # the warm-up, then only the two missing episodes
    got = [e["utility"] for e in again[("B0", 0.1)]]
    assert got == [e["utility"] for e in ref[("B0", 0.1)]]


def test_holm_matches_its_definition():

    from agents.evaluation import holm

    rng = np.random.default_rng(3)
    for _ in range(20):
        p = rng.random(rng.integers(1, 7)) ** 2
        adj = holm(p)
        order = np.argsort(p)
        m = len(p)
        # step-down definition: adj_(i) = max_{j <= i} min(1, (m - j) p_(j))
        ref = np.empty(m)
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (m - rank) * p[i]))
            ref[i] = running
        np.testing.assert_allclose(adj, ref)
        assert all(a >= b for a, b in zip(adj, p, strict=True))
    assert holm([]) == []


def test_paired_bootstrap_interval_covers_the_mean_and_shrinks_with_more_pairs():
    from agents.evaluation import paired_bootstrap_ci

    rng = np.random.default_rng(0)
    small = rng.normal(1.0, 1.0, 10)
    big = rng.normal(1.0, 1.0, 400)
    lo_s, hi_s = paired_bootstrap_ci(small)
    lo_b, hi_b = paired_bootstrap_ci(big)
    assert lo_s < small.mean() < hi_s and lo_b < big.mean() < hi_b
    assert hi_b - lo_b < hi_s - lo_s
    assert paired_bootstrap_ci(np.full(5, 2.0)) == (2.0, 2.0)
    assert all(np.isnan(paired_bootstrap_ci(np.array([1.0]))))
    assert paired_bootstrap_ci(small, seed=1) == paired_bootstrap_ci(small, seed=1)  # seeded


def test_any_policy_factory_evaluates_next_to_the_baselines(tmp_path):
    import json

    from agents.pipeline import main_evaluate

    out = tmp_path / "eval"
    rc = main_evaluate(["--config", "configs/experiments/demo.yaml", "--policies",
                        "b0,examples.custom_policy:make_policy", "--seeds", "2", "--prediction-error", "0.1",
                        "--out", str(out), "--no-progress", "--set", "env.allocator=equal", "evaluate.plots=false"])
    assert rc == 0
    rows = json.loads((out / "results.json").read_text())["results"]
    assert {r["policy"] for r in rows} == {"B0", "sticky-strongest"}
    assert all(r["budget_violations"] == 0 and r["predictor"] == "noisy-truth" for r in rows)
    prov = json.loads((out / "results.json").read_text())["meta"]["provenance"]
    assert prov["command"][0] and "numpy" in prov["packages"]
