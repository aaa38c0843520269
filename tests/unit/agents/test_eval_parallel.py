"""Evaluation on every backend: identical episodes, resumable per-episode cache, CLI flags."""

from __future__ import annotations

import pytest

from agents.config import EnvConfig, load_experiment
from agents.evaluation import TIMING_KEYS, baseline_spec, run_evaluation
from agents.pipeline import parallel_overrides, parallel_sections

ENV = EnvConfig(preset="toy", allocator="equal")
SPECS = [baseline_spec("b0", None, None), baseline_spec("random", None, None)]


def _exact(episodes):
    """Every metric but the timings, per (policy, level)."""
    return {k: [{m: v for m, v in e.items() if m not in TIMING_KEYS} for e in eps] for k, eps in episodes.items()}


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    return run_evaluation(SPECS, ENV, 2, [0.0, 0.2], tmp_path_factory.mktemp("serial"), progress=False)


def test_process_pool_equals_serial_and_a_rerun_reads_the_cache(serial, tmp_path):
    out = tmp_path / "proc"
    par = run_evaluation(SPECS, ENV, 2, [0.0, 0.2], out, progress=False, backend="process", workers=2)
    assert _exact(par) == _exact(serial)
    assert par[("B0", 0.0)] is not par[("random", 0.0)] and par[("B0", 0.0)] == par[("B0", 0.2)]  # forecast-free
    files = sorted(p.relative_to(out).as_posix() for p in (out / "partial").rglob("*.json"))
    assert files == sorted(["partial/B0__shared/00000.json", "partial/B0__shared/00001.json",
                            *[f"partial/random__e{e}/0000{i}.json" for e in ("0", "0.2") for i in (0, 1)]])
    (out / "partial" / "random__e0.2" / "00001.json").unlink()
    again = run_evaluation(SPECS, ENV, 2, [0.0, 0.2], out, progress=False)  # 1 episode left to play
    assert again[("B0", 0.0)] == par[("B0", 0.0)]  # read back, timings included
    assert _exact(again) == _exact(serial)


def test_ray_equals_serial(serial, ray_cluster, tmp_path):
    got = run_evaluation(SPECS, ENV, 2, [0.0, 0.2], tmp_path, progress=False, backend="ray")
    assert _exact(got) == _exact(serial)


def test_cli_flags_become_overrides_of_every_parallel_section():
    cfg = load_experiment("configs/experiments/demo.yaml", [])
    assert parallel_sections(cfg) == ["agent.labels", "evaluate"]
    got = parallel_overrides("configs/experiments/demo.yaml", ["agent.labels.workers=3"], "process", 2, None)
    # an explicit --set wins over --workers
    assert got == ["agent.labels.backend=process", "evaluate.backend=process", "evaluate.workers=2"]
    from leo_env.core.overrides import OverrideError

    with pytest.raises(OverrideError, match="--workers must be >= 1"):
        parallel_overrides("configs/experiments/demo.yaml", [], None, 0, None)


def test_the_downlink_family_reads_its_evaluate_section(tmp_path, monkeypatch):
    import agents.evaluation as ev
    from agents.downlink import pipeline

    seen = {}

    def fake(specs, env, seeds, levels, out, progress=True, **par):
        seen.update(par)
        return {(s.label, lv): [] for s in specs for lv in levels}

    monkeypatch.setattr(ev, "run_evaluation", fake)
    monkeypatch.setattr(ev, "write_outputs", lambda *a, **k: {"rows": [], "tests": [], "markdown": ""})
    cfg = load_experiment(
        "configs/experiments/demo.yaml", [f"evaluate.out={tmp_path}", "evaluate.backend=process", "evaluate.workers=2"]
    )
    pipeline.evaluate(cfg, ["b0"], progress=False)
    assert seen == {"backend": "process", "workers": 2, "address": None}
