"""Issue 11 (scenario part): ``leo_env.scenario`` is a lower layer without module circles.

No module of the package imports ``leo_env.envs``, ``leo_env.wrappers``, ``oracles``, ``agents``,
``benchmarks``, gymnasium or torch (not even inside a function), the package's own modules
import each other without a circle, and importing every module plus building and describing a
scenario loads neither gymnasium nor torch.
"""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[3] / "leo_env" / "scenario"
FORBIDDEN = ("leo_env.envs", "leo_env.wrappers", "oracles", "agents", "benchmarks", "gymnasium", "torch")


def _imports(path: Path) -> set[str]:
    """Every module named by an import statement of ``path`` (module, function or TYPE_CHECKING level)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


MODULES = sorted(PKG.glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_no_upward_imports(path: Path) -> None:
    bad = sorted(m for m in _imports(path) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert not bad, f"{path.name} imports {bad}"


def test_no_module_circle_inside_the_package() -> None:
    names = {p.stem for p in MODULES} - {"__init__"}
    graph = {
        stem: {
            m.split(".")[2]
            for m in _imports(PKG / f"{stem}.py")
            if m.startswith("leo_env.scenario.") and m.split(".")[2] in names and m.split(".")[2] != stem
        }
        for stem in names
    }
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"module circle in leo_env.scenario: {exc.args[1]}")


def test_importing_and_describing_loads_neither_gymnasium_nor_torch(tmp_path: Path) -> None:
    code = (
        "import sys, importlib, pathlib\n"
        f"for p in sorted(pathlib.Path({str(PKG)!r}).glob('*.py')):\n"
        "    if p.stem not in ('__init__', '__main__'):\n"
        "        importlib.import_module('leo_env.scenario.' + p.stem)\n"
        "from leo_env.scenario.__main__ import main\n"
        f"assert main(['describe', 'toy', '--json', {str(tmp_path / 's.json')!r}]) == 0\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('gymnasium', 'torch', 'oracles', 'agents')"
        " or m.startswith('leo_env.envs'))\n"
        "print('LOADED', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stdout, out.stdout
    assert (tmp_path / "s.json").exists()


def test_bench_moved_to_benchmarks() -> None:
    from benchmarks import scenarios
    from leo_env.scenario.__main__ import main

    assert not (PKG / "bench.py").exists()
    assert main(["bench", "--seeds", "2"]) == 2  # no longer a subcommand: points to the new one
    assert callable(scenarios.run) and callable(scenarios.main)
