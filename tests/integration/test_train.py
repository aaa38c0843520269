import csv
import json

import numpy as np
import pytest
import torch as th

from agents.downlink.pipeline import train
from agents.envs import make_env
from agents.evaluation import play
from agents.policies import load_agent_policy
from agents.runs import latest_checkpoint

from .conftest import tiny_config


def _curve(run_dir):
    with open(run_dir / "episodes.csv") as fh:
        return [(int(r["timesteps"]), float(r["return"])) for r in csv.DictReader(fh)]


def _params(run_dir):
    from agents.registry import load_model
    from agents.runs import run_config

    m = load_model(run_dir / "final_model.zip", run_config(run_dir))
    return th.cat([p.detach().flatten() for p in m.policy.parameters()])


@pytest.mark.parametrize("algo", ["maskable_ppo", "ppo"])
def test_same_seed_same_curve(tmp_path, algo):
    runs = [train(tiny_config(tmp_path / str(i), f"agent.algo={algo}", "seed=3"), progress=False) for i in range(2)]
    a, b = (_curve(r) for r in runs)
    assert len(a) >= 8 and a == b
    if algo == "maskable_ppo":
        th.testing.assert_close(_params(runs[0]), _params(runs[1]), rtol=0, atol=0)
        other = train(tiny_config(tmp_path / "x", f"agent.algo={algo}", "seed=4"), progress=False)
        assert _curve(other) != a


def test_run_folder_contents(trained_run):
    run_dir, _ = trained_run
    for name in ("config.yaml", "episodes.csv", "evaluations.json", "best_model.zip", "final_model.zip",
                 "bc.json", "final_eval.json"):
        assert (run_dir / name).exists(), name
    assert any((run_dir / "tb").rglob("events.out.tfevents.*"))
    hist = json.loads((run_dir / "evaluations.json").read_text())["history"]
    assert [h["timesteps"] for h in hist][:2] == [0, 128]  # validation after BC, then every 128 steps
    assert all(h["budget_violations"] == 0 for h in hist)
    assert latest_checkpoint(run_dir).name == "ckpt_0000000256.zip"
    summary = json.loads((run_dir / "final_eval.json").read_text())
    assert summary["final_eval"]["budget_violations"] == 0


def test_checkpoints_reload_and_evaluate_to_the_same_numbers(trained_run):
    run_dir, cfg = trained_run
    env = make_env(cfg.env, seed_split="eval")
    results = []
    for which in ("final", "latest", "final"):
        pol = load_agent_policy(run_dir, which=which)
        results.append([play(pol, env, i)["utility"] for i in range(3)])
    assert results[0] == results[1] == results[2]
    assert np.isfinite(results[0]).all()


def test_resume_continues_from_the_latest_checkpoint(tmp_path):
    cfg = tiny_config(tmp_path, "train.total_timesteps=128", "train.checkpoint_freq=64")
    run_dir = train(cfg, progress=False)
    before = _curve(run_dir)
    resumed = train(tiny_config(tmp_path, "train.total_timesteps=256", "train.checkpoint_freq=64"),
                    resume=run_dir, progress=False)
    assert resumed == run_dir
    after = _curve(run_dir)
    assert after[: len(before)] == before
    steps = [s for s, _ in after]
    assert steps == sorted(steps) and steps[-1] > 128
    assert latest_checkpoint(run_dir).name == "ckpt_0000000256.zip"


def test_decision_benchmark_times_the_parts_of_a_decision(trained_run, tmp_path, capsys):
    import json

    from benchmarks.decision import decision_times, main

    run, _ = trained_run
    r = decision_times(str(run), episodes=1)
    assert r["slots"] == 10 and r["algo"] == "bc_maskable_ppo"
    for part in ("decision", "mask", "observation"):
        assert 0 < r[part]["mean_ms"] < 1e4
    out = tmp_path / "decision.json"
    assert main(["--run", str(run), "--episodes", "1", "--decode", "argmax,search", "--out", str(out)]) == 0
    res = json.loads(out.read_text())["results"]
    assert [x["policy"] for x in res] == ["B5", "B5+LS"] and res[1]["search"] == [3.0, 2]
    assert res[0]["slots"] == 10
    assert "| decision |" in capsys.readouterr().out
