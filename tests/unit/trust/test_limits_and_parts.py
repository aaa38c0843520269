"""Issue 12, findings 7, 8 and 9 (parts): size limits before allocation, P2 budgets, TLE
duplicates and epochs, reproducible Lagrangian P2, file modes."""

from __future__ import annotations

import os
import stat
import tracemalloc
import warnings
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from leo_env.core import tle
from leo_env.core.orbit import WalkerShell, walker_satrecs
from leo_env.io import atomic_write_json, atomic_write_text
from leo_env.scenario import ConfigError, load_config, make_scenario
from oracles.p2 import solve
from oracles.p2.synthetic import random_problem

# ------------------------------------------------------------------ finding 7: size limits
HUGE = [
    (["time.K=200000", "time.M=100000"], ("time.K", "time.M", "max_memory_gib")),
    (["synthetic.S=100000", "synthetic.C=100000"], ("synthetic.S", "synthetic.C", "max_memory_gib")),
    (["synthetic.C=10000", "time.K=100000"], ("synthetic.C", "time.K", "max_memory_gib")),
]


@pytest.mark.parametrize(("overrides", "fields"), HUGE, ids=["K*M", "S*C", "C*K"])
def test_huge_builds_are_refused_before_allocation(overrides: list[str], fields: tuple[str, ...]) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as err:
            make_scenario("toy", seed=0, overrides=overrides)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, f"allocated {peak / 2**20:.0f} MiB before refusing"
    for f in fields:
        assert f in str(err.value)


def test_fine_region_is_refused_before_the_cells_are_made() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as err:
            load_config("europe-starlink", ["region.cells=grid", "region.cell_size_deg=0.0001"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20
    assert "region.cell_size_deg" in str(err.value) and "region.max_cells" in str(err.value)
    with pytest.raises(ConfigError, match=r"region\.hex_spacing_km"):
        load_config("europe-starlink", ["region.hex_spacing_km=0.01"])


BOXES = [
    ("grid", 40.0, 55.0, 5.0, 30.0, 0.15, 110.0),
    ("grid", -10.0, 10.0, 350.0, 359.0, 0.7, 110.0),
    ("hex", 40.0, 55.0, 5.0, 30.0, 0.15, 110.0),
    ("hex", 43.0, 53.0, -2.0, 16.0, 0.15, 110.0),
    ("hex", -75.0, 75.0, -180.0, 180.0, 0.15, 400.0),
    ("hex", 60.0, 89.0, 0.0, 40.0, 0.15, 55.5),
]


@pytest.mark.parametrize("box", BOXES, ids=[f"{b[0]}-{i}" for i, b in enumerate(BOXES)])
def test_region_cell_count_matches_the_builders(box: tuple) -> None:
    from leo_env.core import ground
    from leo_env.scenario.config import RegionConfig, region_cell_count

    cells, la0, la1, lo0, lo1, size, spacing = box
    r = RegionConfig(la0, la1, lo0, lo1, cells, size, spacing)
    real = (
        ground.grid_cells(la0, la1, lo0, lo1, size) if cells == "grid"
        else ground.hex_cells(la0, la1, lo0, lo1, spacing)
    )
    assert region_cell_count(r) == len(real)


def test_memory_limit_is_configurable() -> None:
    with pytest.raises(ConfigError, match="max_memory_gib"):
        load_config("toy", ["max_memory_gib=1e-6"])
    load_config("toy", ["time.K=2000", "time.M=1000", "max_memory_gib=64"])
    with pytest.raises(ConfigError, match="max_memory_gib"):
        load_config("toy", ["time.K=2000", "time.M=1000", "max_memory_gib=0.01"])


def test_build_memory_estimate_bounds_the_real_arrays() -> None:
    from leo_env.scenario.config import estimate_build_bytes

    cfg = load_config("stress")
    sc = make_scenario(cfg, seed=0)
    arrays = sum(getattr(sc, n).nbytes for n in ("v", "g", "a", "elevation_deg", "demand_rate", "sat_ecef"))
    est = sum(estimate_build_bytes(cfg).values())
    assert arrays <= est <= 50 * arrays


# ------------------------------------------------------------------ finding 8: P2 budgets
@pytest.mark.parametrize("bad", [[5, 0, 0, 0], [-1, 0, 0, 0]], ids=["above-H", "negative"])
def test_p2_refuses_budget_left_outside_0_H(bad: list[int]) -> None:
    prob = random_problem(np.random.default_rng(1), S=3, C=4, K=6, H=1)
    with pytest.raises(ValueError, match="budget_left") as err:
        prob.replace(budget_left=np.asarray(bad))
    assert ("H" in str(err.value)) if bad[0] > 0 else (">= 0" in str(err.value))
    ok = prob.replace(budget_left=np.asarray([1, 0, 1, 0]))
    assert np.all(solve(ok, method="dp").handovers <= 1)


# ------------------------------------------------------------------ finding 9: TLEs
EPOCH = datetime(2026, 1, 1, 0, 0, 0)


def _tle_text(epoch: datetime, names: list[str], satnum_start: int = 44713) -> str:
    shell = WalkerShell("syn", 53.0, len(names), 1, 0, 550.0)
    return tle.export_tles(walker_satrecs(shell, epoch, satnum_start=satnum_start), names)


def test_duplicate_tle_satellites_are_deduplicated_with_a_warning() -> None:
    a = _tle_text(EPOCH, ["A", "B"])
    newer = _tle_text(EPOCH + timedelta(days=1), ["A2", "B2"])
    text = a + "\n".join(newer.splitlines()[:3]) + "\n"  # A again, one day newer
    with pytest.warns(tle.TLEWarning, match="44713"):
        names, sats = tle.parse_tles(text)
    assert names == ["A2", "B"] and len(sats) == 2
    assert sats[0].jdsatepoch + sats[0].jdsatepochF > sats[1].jdsatepoch + sats[1].jdsatepochF
    with pytest.raises(tle.TLEError, match="duplicate"):
        tle.parse_tles(text, duplicates="error")


def test_tle_epoch_age_warns_then_refuses() -> None:
    _, sats = tle.parse_tles(_tle_text(EPOCH, ["A", "B"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tle.check_epoch_age(sats, EPOCH + timedelta(days=1), ["A", "B"])
    with pytest.warns(tle.TLEWarning, match="days"):
        tle.check_epoch_age(sats, EPOCH + timedelta(days=tle.TLE_WARN_AGE_DAYS + 1), ["A", "B"])
    with pytest.raises(tle.TLEError, match="A"):
        tle.check_epoch_age(sats, EPOCH + timedelta(days=365.25 * 20), ["A", "B"])


def test_scenario_refuses_tles_decades_from_its_epoch(tmp_path: Path) -> None:
    f = tmp_path / "old.tle"
    f.write_text(_tle_text(datetime(2004, 1, 1), ["A", "B", "C", "D"]))
    over = {
        "name": "tle-age", "kind": "orbit", "time": {"K": 2, "M": 2, "T_f": 1.0},
        "constellation": {"source": "tle", "tle_file": str(f), "epoch": "2026-01-01T00:00:00"},
        "region": {"lat_min": 40.0, "lat_max": 42.0, "lon_min": 5.0, "lon_max": 7.0},
    }
    with pytest.raises(ConfigError, match="constellation.epoch"):
        make_scenario(over, seed=0)


# ------------------------------------------------------------------ finding 9: Lagrangian
def test_lagrangian_default_is_reproducible_on_a_slow_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import oracles.p2.lagrangian as lag

    prob = random_problem(np.random.default_rng(3), S=4, C=8, K=12, H=3).replace(proxy="coupled")
    ref = solve(prob, method="lagrangian")
    clock = iter(range(0, 10**9, 1000))  # every clock read advances 1000 s: a very slow machine
    monkeypatch.setattr(lag.time, "perf_counter", lambda: float(next(clock)))
    slow = solve(prob, method="lagrangian")
    assert np.array_equal(ref.assoc, slow.assoc)
    assert ref.info["iterations"] == slow.info["iterations"]
    assert ref.objective == slow.objective
    # wall-clock remains an option
    limited = solve(prob, method="lagrangian", time_limit=1.0)
    assert limited.info["iterations"] <= ref.info["iterations"]


# ------------------------------------------------------------------ finding 9: file modes
def test_atomic_writes_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        p1 = atomic_write_text(tmp_path / "a.txt", "x")
        p2 = atomic_write_json(tmp_path / "sub" / "b.json", {"a": 1})
        os.umask(0o077)
        p3 = atomic_write_text(tmp_path / "c.txt", "y")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p1.stat().st_mode) == 0o644
    assert stat.S_IMODE(p2.stat().st_mode) == 0o644
    assert stat.S_IMODE(p3.stat().st_mode) == 0o600
