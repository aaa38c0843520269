"""Heavier P1 checks (``pytest -m slow``): APEX's medium case vs the reference, benchmark smoke."""

from __future__ import annotations

import json

import numpy as np
import pytest

from oracles.p1 import solve
from oracles.p1.instances import random_instance

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("regime", ["overloaded", "transition", "underloaded"])
@pytest.mark.parametrize("arrivals", ["uniform", "backloaded"])
def test_medium_fast_matches_reference(regime, arrivals):
    root = np.random.SeedSequence([2026, len(regime), len(arrivals)])
    for child in root.spawn(8):
        inst = random_instance(np.random.default_rng(child), regime=regime, arrivals=arrivals)
        fast = solve(**inst.kwargs())
        ref = solve(**inst.kwargs(), method="cvx", tight=True)
        assert max(0.0, ref.utility - fast.utility) / abs(ref.utility) <= 1e-6
        assert fast.gap <= 1e-6 and fast.max_violation <= 1e-9


def test_large_instance_certified():
    inst = random_instance(np.random.default_rng(64), S=64, C=500, M=20)
    res = solve(**inst.kwargs())
    assert res.status == "optimal" and res.gap <= 1e-6 and res.max_violation <= 1e-9


def test_benchmark_quick_smoke(tmp_path):
    from benchmarks.p1 import main

    out = tmp_path / "p1.json"
    assert (
        main(
            [
                "--out",
                str(out),
                "--quick",
                "--repeats",
                "1",
                "--cases",
                "toy",
                "medium-backloaded",
                "large-batch",
            ]
        )
        == 0
    )
    rep = json.loads(out.read_text())
    assert rep["certified_gap_max"] <= 1e-6
    for suffix in (".csv", ".md", ".png"):
        assert out.with_suffix(suffix).exists()
