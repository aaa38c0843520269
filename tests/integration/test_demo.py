"""The README's main job (configs/experiments/demo.yaml) end to end: heavy, behind ``-m slow``."""

import json

import pytest

from agents.pipeline import main_evaluate as main


@pytest.mark.slow
def test_demo_trains_b5_and_evaluates_it_against_b0_b1_b2(tmp_path):
    out = tmp_path / "demo"
    rc = main(["--config", "configs/experiments/demo.yaml", "--train", "--out", str(out), "--no-progress",
               "--set", f"train.runs_dir={tmp_path / 'runs'}"])
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    rows = {(r["policy"], r["prediction_error"]): r for r in res["results"]}
    assert {p for p, _ in rows} == {"B0", "B1", "B2", "B5", "B5+LS"}
    for r in rows.values():
        assert r["budget_violations"] == 0 and r["episodes"] == 20
    # B5 is closer to the oracle than greedy
    assert rows[("B5", 0.2)]["gap_to_b1"] < rows[("B0", 0.2)]["gap_to_b1"]
