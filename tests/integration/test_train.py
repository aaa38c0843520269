import csv
import json
from pathlib import Path

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
    from agents.tb import scalar_steps

    tags = scalar_steps(run_dir / "tb")
    for tag in ("env/return", "env/handovers", "env/budget_violations", "eval/mean_return"):
        assert tags.get(tag), tag  # training-episode env metrics and validation, every rollout
    hist = json.loads((run_dir / "evaluations.json").read_text())["history"]
    assert [h["timesteps"] for h in hist][:2] == [0, 128]  # validation after BC, then every 128 steps
    assert all(h["budget_violations"] == 0 for h in hist)
    assert latest_checkpoint(run_dir).name == "ckpt_0000000256.zip"  # the end-of-training checkpoint
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


RESUME_CFG = ("agent.algo=bc_maskable_ppo", "agent.bc.epochs=2", "train.total_timesteps=512",
              "train.checkpoint_freq=64", "train.keep_checkpoints=3", "train.eval_freq=256", "seed=5")


def _final_params(run_dir):
    from agents.registry import load_model
    from agents.runs import run_config

    m = load_model(run_dir / "final_model.zip", run_config(run_dir))
    return th.cat([p.detach().flatten() for p in m.policy.parameters()])


def test_a_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    """kill -9 mid-training, ``--resume``: same weights bit for bit, same logs, no duplicate TB points."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from agents.tb import scalar_steps

    ref = train(tiny_config(tmp_path / "ref", *RESUME_CFG), progress=False)
    victim_root = tmp_path / "victim"
    script = (
        "from pathlib import Path\n"
        "from tests.unit.agents.conftest import tiny_config\n"
        "from agents.downlink.pipeline import train\n"
        f"train(tiny_config(Path({str(victim_root)!r}), *{RESUME_CFG!r}), progress=False)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2],
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.time() + 600
        ckpt = None
        while time.time() < deadline and proc.poll() is None:
            found = sorted(victim_root.glob("runs/*/checkpoints/ckpt_0000000128.zip"))
            if found:
                ckpt = found[0]
                break
            time.sleep(0.05)
        assert ckpt is not None, "the run ended before its 128-step checkpoint"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    run_dir = ckpt.parents[1]
    assert not (run_dir / "final_model.zip").exists()
    train(tiny_config(victim_root, *RESUME_CFG), resume=run_dir, progress=False)
    th.testing.assert_close(_final_params(run_dir), _final_params(ref), rtol=0, atol=0)
    assert _curve(run_dir) == _curve(ref)
    for tag, steps in scalar_steps(run_dir / "tb").items():
        assert len(steps) == len(set(steps)), f"duplicate TensorBoard steps for {tag}"


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
