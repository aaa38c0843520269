"""Statistics over training seeds (IQM, stratified bootstrap) and the paired-difference plot."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import trim_mean

from agents.evaluation import PolicySpec, aggregate_markdown, aggregate_training_seeds, iqm_interval


def test_iqm_is_the_mean_of_the_middle_half_with_a_stratified_interval():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 12))
    iqm, lo, hi = iqm_interval(x, reps=500)
    assert iqm == pytest.approx(trim_mean(x.ravel(), 0.25))
    assert iqm == pytest.approx(np.sort(x.ravel())[12:36].mean())  # 48 scores: the middle 24
    assert lo < iqm < hi
    # identical runs: resampling runs within a task changes nothing, the interval is the point
    same = np.repeat(x[:1], 4, axis=0)
    _, lo1, hi1 = iqm_interval(same, reps=200)
    assert lo1 == pytest.approx(hi1) == pytest.approx(trim_mean(same.ravel(), 0.25))
    assert iqm_interval(x[:1]) == (trim_mean(x[0], 0.25),) * 3  # one run: no interval
    wide = iqm_interval(rng.normal(size=(3, 12)) * 5.0, reps=500)
    assert wide[2] - wide[1] > hi - lo  # more spread between runs, wider interval
    with pytest.raises(ValueError, match=r"\(runs, tasks\) matrix"):
        iqm_interval(np.array([1.0, np.nan])[None, :])


def _eps(values):
    return [{"utility": float(u)} for u in values]


def test_runs_of_one_config_are_aggregated_and_others_are_not():
    src = {"kind": "agent", "which": "best", "deterministic": True, "search": None}
    runs = [PolicySpec(f"B5[r{i}]", lambda: None, source={**src, "path": f"r{i}"}, group="g1", run_dir=f"r{i}")
            for i in range(3)]
    lone = PolicySpec("B4", lambda: None, source={**src, "path": "x"}, group="g2")
    ref = np.array([-10.0, -12.0, -8.0, -11.0])
    eps = {("B1", 0.1): _eps(ref), ("B4", 0.1): _eps(ref - 3)}
    u = np.array([ref - 1.0, ref - 2.0, ref - 1.5])
    for s, row in zip(runs, u, strict=True):
        eps[(s.label, 0.1)] = _eps(row)
    rows = aggregate_training_seeds(eps, [*runs, lone], reps=300)
    assert len(rows) == 1
    r = rows[0]
    assert r["policy"] == "B5" and r["n_runs"] == 3 and r["n_seeds"] == 4
    assert r["utility_iqm"] == pytest.approx(trim_mean(u.ravel(), 0.25))
    gaps = (ref[None, :] - u) / np.abs(ref[None, :])
    assert r["gap_to_b1_iqm"] == pytest.approx(trim_mean(gaps.ravel(), 0.25))
    assert r["utility_iqm_ci95"][0] <= r["utility_iqm"] <= r["utility_iqm_ci95"][1]
    assert "| B5 | 3 x 4 seeds | 10% |" in aggregate_markdown(rows)
    # the same runs decoded with search are another group
    searched = [PolicySpec(f"B5+LS[r{i}]", lambda: None, source={**s.source, "search": [3.0, 2]}, group="g1")
                for i, s in enumerate(runs)]
    for s, row in zip(searched, u, strict=True):
        eps[(s.label, 0.1)] = _eps(row + 0.5)
    assert [r["policy"] for r in aggregate_training_seeds(eps, [*runs, *searched], reps=100)] == ["B5", "B5+LS"]


def test_paired_difference_plot_has_one_panel_per_method(tmp_path):
    from agents.evaluation import paired_differences
    from agents.plots import paired_difference_plot

    eps = {("B1", 0.1): _eps([1, 2, 3]), ("B0", 0.1): _eps([0, 2, 1]), ("B2", 0.1): _eps([1, 1, 1]),
           ("B0", 0.2): _eps([0, 0, 0])}
    diffs = paired_differences(eps, "B1")
    assert set(diffs) == {("B0", 0.1), ("B2", 0.1)}  # no B1 at 20 %: nothing to pair with
    assert diffs[("B0", 0.1)][0] == [-1.0, 0.0, -2.0]
    d, lo, hi = diffs[("B2", 0.1)]
    assert d == [0.0, -1.0, -2.0] and lo <= np.mean(d) <= hi
    p = paired_difference_plot(tmp_path / "pd.png", diffs, "B1")
    assert p.exists() and p.stat().st_size > 5000


def test_every_run_gets_its_training_curve(tmp_path):
    from agents.plots import read_training_curve, training_curve_plot

    rd = tmp_path / "toy__ppo__0__x"
    rd.mkdir()
    (rd / "episodes.csv").write_text("timesteps,return\n10,-3.0\n20,-2.5\n30,-2.0\n")
    (rd / "evaluations.json").write_text(json.dumps({"history": [{"timesteps": 0, "mean_return": -4.0},
                                                                 {"timesteps": 30, "mean_return": -1.5}]}))
    cur = read_training_curve(rd)
    assert cur["returns"].tolist() == [-3.0, -2.5, -2.0] and cur["eval_steps"].tolist() == [0.0, 30.0]
    assert training_curve_plot(rd) == rd / "training_curve.png" and (rd / "training_curve.png").stat().st_size > 5000


@pytest.mark.slow
def test_evaluate_several_training_seeds_reports_the_iqm(tmp_path):
    """Two tiny runs of one config (seeds 0 and 1) evaluated with B1: IQM row, plots, curves."""
    from agents.downlink.pipeline import train
    from agents.pipeline import main_evaluate

    from .conftest import tiny_config

    for seed in (0, 1):
        train(tiny_config(tmp_path, f"seed={seed}", "agent.algo=maskable_ppo", "train.total_timesteps=64"),
              progress=False)
    out = tmp_path / "eval"
    rc = main_evaluate(["--config", "configs/experiments/demo.yaml", "--policies",
                        f"b1,{tmp_path / 'runs'}/*", "--seeds", "3", "--prediction-error", "0.1", "--out", str(out),
                        "--decode", "argmax", "--no-progress", "--set", "env.preset=toy", "env.allocator=equal"])
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    (agg,) = res["aggregates"]
    assert agg["n_runs"] == 2 and agg["n_seeds"] == 3 and agg["policy"] == "B4"
    assert len({r["policy"] for r in res["results"]}) == 3
    for f in ("paired_differences.png", "training_curves.png"):
        assert (out / f).stat().st_size > 5000
    assert "Aggregate over training seeds" in (out / "results.md").read_text()
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2 and all((r / "training_curve.png").stat().st_size > 5000 for r in runs)
    # a learned agent is rebuilt from its run folder in each worker: the same episodes
    from agents.config import EnvConfig
    from agents.evaluation import TIMING_KEYS, agent_spec, run_evaluation

    env = EnvConfig(preset="toy", allocator="equal")
    got = {}
    for backend in ("serial", "process"):
        eps = run_evaluation([agent_spec(runs[0])], env, 2, [0.1], tmp_path / backend, progress=False,
                             backend=backend, workers=2)
        got[backend] = [{k: v for k, v in e.items() if k not in TIMING_KEYS} for e in eps[("B4", 0.1)]]
    assert got["serial"] == got["process"] and len(got["serial"]) == 2
