"""Oracle benchmarks on the parallel map: same objectives on every backend, finished instances kept."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_p2_instances_on_a_process_pool_equal_serial_and_are_skipped_on_rerun(tmp_path):
    from benchmarks import p2

    common = ["--preset", "toy", "--instances", "2", "--overload-scale", "2", "--europe-instances", "0",
              "--methods", "dp", "sep-milp", "--milp-time", "10"]
    assert p2.main([*common, "--out", str(tmp_path / "s" / "p2.json")]) == 0
    assert p2.main([*common, "--out", str(tmp_path / "p" / "p2.json"), "--backend", "process", "--workers", "2"]) == 0

    def exact(path):
        rep = json.loads(path.read_text())
        return {v: [{m: (e["objective"], e["status"], e["handovers_total"]) for m, e in i["methods"].items()}
                    for i in d["instances"]] for v, d in rep["variants"].items()}

    assert exact(tmp_path / "s" / "p2.json") == exact(tmp_path / "p" / "p2.json")
    parts = sorted(p.name for p in (tmp_path / "p" / "p2.parts").iterdir())
    assert parts == ["toy-overloaded__0.json", "toy-overloaded__1.json", "toy__0.json", "toy__1.json"]
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "p" / "p2.parts").iterdir()}
    assert p2.main([*common, "--out", str(tmp_path / "p" / "p2.json")]) == 0  # all four read back
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "p" / "p2.parts").iterdir()} == before
    assert exact(tmp_path / "p" / "p2.json") == exact(tmp_path / "s" / "p2.json")
