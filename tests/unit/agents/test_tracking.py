"""Optional MLflow / W&B tracking: the scalars SB3 logs reach the tracker; resumes reopen the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.tracking import TrackingCallback, tracking_callbacks


def _learn(callback: TrackingCallback, steps: int = 128) -> None:
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=steps, callback=callback)


def test_mlflow_receives_params_and_the_logged_scalars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # a file store keeps the test server-free
    uri = f"file:{tmp_path / 'mlruns'}"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    cfg = {"seed": 3, "train": {"total_timesteps": 128}, "env": {"preset": "toy"}}
    _learn(TrackingCallback("mlflow", run_dir, cfg, project="apex-test", uri=uri))
    state = json.loads((run_dir / "tracking.json").read_text())
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    run = client.get_run(state["run_id"])
    assert run.data.params["train.total_timesteps"] == "128" and run.data.params["env.preset"] == "toy"
    hist = client.get_metric_history(state["run_id"], "time/total_timesteps")
    assert [int(m.value) for m in hist] == [64, 128] and [m.step for m in hist] == [64, 128]
    assert run.info.run_name == "run" and run.info.status == "FINISHED"
    # a resumed run folder reopens the same tracked run and appends
    _learn(TrackingCallback("mlflow", run_dir, cfg, project="apex-test", uri=uri), steps=64)
    assert json.loads((run_dir / "tracking.json").read_text())["run_id"] == state["run_id"]
    assert len(client.get_metric_history(state["run_id"], "time/total_timesteps")) == 3


@pytest.mark.slow
def test_wandb_offline_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    _learn(TrackingCallback("wandb", tmp_path, {"seed": 1}, project="apex-test"))
    state = json.loads((tmp_path / "tracking.json").read_text())
    assert state["kind"] == "wandb" and state["run_id"]
    assert list((tmp_path / "wandb").glob(f"offline-run-*-{state['run_id']}/*.wandb"))


def test_tracking_choice_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="train.tracking must be one of"):
        TrackingCallback("neptune", tmp_path, {})

    class _Train:
        tracking = "none"

    class _Cfg:
        train = _Train()

    assert tracking_callbacks(_Cfg(), tmp_path, {}) == []
