import json

from agents.pipeline import main_evaluate as main
from agents.plots import PLOT_FILES

REQUIRED = ("utility_mean", "utility_std", "gap_to_b1", "xi_mean", "jain_slot_mean", "handovers_total",
            "budget_violations", "emergencies", "decision_ms")


def test_evaluate_writes_every_table_and_plot(trained_run, tmp_path, capsys):
    run_dir, _ = trained_run
    out = tmp_path / "eval"
    rc = main([
        "--set", "env.preset=toy", "env.allocator=equal",
        "--policies", f"b0,b1,b2,{run_dir}", "--seeds", "3", "--prediction-error", "0.05,0.2",
        "--out", str(out), "--no-progress", "--decode", "argmax,search",
    ])
    assert rc == 0
    for name in ("results.json", "results.md", "results.csv", *PLOT_FILES):
        assert (out / name).stat().st_size > 0, name
    res = json.loads((out / "results.json").read_text())
    entries = res["results"]
    assert {(e["policy"], e["prediction_error"]) for e in entries} == {
        (p, e) for p in ("B0", "B1", "B2", "B5", "B5+LS") for e in (0.05, 0.2)
    }
    for e in entries:
        for k in REQUIRED:
            assert k in e, k
        assert e["budget_violations"] == 0
    assert any(t["a"] == "B5" and t["b"] == "B2" for t in res["wilcoxon"])
    assert "| B5 |" in capsys.readouterr().out
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert len(csv_lines) == 1 + 10
