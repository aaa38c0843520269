"""The architecture as a tested contract (docs/architecture.md)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    """Layers point one way, no module cycles, no gymnasium/torch below the envs (pyproject.toml)."""
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("import-linter is not installed (dev extra)")
    out = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "BROKEN" not in out.stdout


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("leo_env", ("gymnasium", "torch")),
        ("leo_env.core", ("gymnasium", "torch")),
        ("leo_env.scenario", ("gymnasium", "torch")),
        ("oracles.p1", ("gymnasium", "torch", "leo_env.envs")),
        ("oracles.p2", ("gymnasium", "torch", "leo_env.envs")),
        ("leo_env.envs", ("torch", "leo_env.envs.downlink.env")),
    ],
    ids=lambda v: v if isinstance(v, str) else "+".join(v),
)
def test_importing_a_layer_loads_nothing_above_it(module, forbidden):
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    bad = sorted(m for m in loaded for f in forbidden if m == f or m.startswith(f + "."))
    assert not bad, f"import {module} loaded {bad}"


def test_env_ids_register_by_string_entry_points():
    import gymnasium as gym

    import leo_env.envs
    from leo_env.envs.registration import env_specs

    for spec in env_specs():
        assert isinstance(spec["entry_point"], str) and ":" in spec["entry_point"]
        assert spec["id"] in gym.envs.registration.registry
    assert set(leo_env.envs.ENV_IDS) == {s["id"] for s in env_specs()}


def test_no_sys_path_tricks_and_thin_entry_points():
    for name in ("train.py", "evaluate.py"):
        text = (ROOT / name).read_text()
        assert "sys.path" not in text
        assert len(text.splitlines()) <= 40, f"{name} should stay a thin wrapper"
    for path in ROOT.glob("scripts/*.py"):
        assert "sys.path" not in path.read_text(), path


BLANKET = re.compile(r"#\s*noqa\s*$|#\s*ruff\s*:\s*noqa")  # a noqa without rule codes


def test_ruff_is_clean_without_blanket_noqa():
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff is not installed (dev extra)")
    out = subprocess.run([str(ruff), "check", "."], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:]
    blanket = [
        f"{p}:{i}" for p in ROOT.glob("**/*.py") if not any(part.startswith(".venv") for part in p.parts)
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if BLANKET.search(line)
    ]
    assert not blanket, blanket


@pytest.mark.parametrize("path", sorted((ROOT / "configs" / "experiments").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_experiment_config_loads_through_its_family(path):
    """train.py/evaluate.py know no family: the YAML's ``family:`` picks the pipeline."""
    from agents.families import FAMILIES, family_of
    from agents.pipeline import load

    name = family_of(path)
    assert name in FAMILIES, f"{path.name}: family {name!r} is not registered"
    fam, cfg = load(path)
    assert fam.name == name and cfg is not None


def test_unknown_family_names_the_closest():
    from agents.families import get_family

    with pytest.raises(ValueError, match=r"unknown family 'downlnk' \(did you mean 'downlink'\?\)"):
        get_family("downlnk")
