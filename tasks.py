#!/usr/bin/env python3
"""One-file bootstrap for the APEX suite: ``python3 tasks.py demo`` and ``python3 tasks.py test``.

Needs only Python >= 3.11 and pip.  On first use it creates ``.venv`` next to this file,
installs torch 2.13.0 (CPU build, pinned in ``constraints.txt``) and then the project with
its ``dev`` extra in editable mode.  The install is redone when ``pyproject.toml`` or
``constraints.txt`` change.  Extra arguments after the task name are passed through
(to pytest for ``test``, to ``evaluate.py`` for ``demo``).  ``lint`` runs ruff, the
import-linter contracts and mypy against its committed, shrinking baseline.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
STAMP = VENV / ".apex-install-stamp"


def _fingerprint() -> str:
    h = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def _run(*cmd: str | os.PathLike[str]) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True)


def ensure_env() -> None:
    """Create ``.venv`` and install the project if missing or out of date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - tasks.py runs under any system python
        sys.exit(f"Python >= 3.11 is required, this is {sys.version.split()[0]}")
    if not PY.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    pip = (PY, "-m", "pip", "install", "--disable-pip-version-check", "-q")
    _run(*pip, "--upgrade", "pip")
    _run(*pip, "-c", "constraints.txt", "torch==2.13.0")
    _run(*pip, "-c", "constraints.txt", "-e", ".[dev]")
    STAMP.write_text(_fingerprint())


def main(argv: list[str]) -> int:
    """Dispatch ``demo`` or ``test``."""
    if not argv or argv[0] not in {"demo", "test", "setup", "lint"}:
        print(__doc__)
        print("usage: python3 tasks.py {demo|test|lint|setup} [args ...]")
        return 2
    task, rest = argv[0], argv[1:]
    ensure_env()
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    if task == "setup":
        return 0
    if task == "lint":  # ruff, the import contracts, mypy against its shrinking baseline
        bin_dir = PY.parent
        rc = 0
        for cmd in ([str(bin_dir / "ruff"), "check", "."], [str(bin_dir / "lint-imports")],
                    [str(PY), "tools/check_mypy.py"]):
            print("+", " ".join(cmd), flush=True)
            rc |= subprocess.run(cmd, cwd=ROOT, env=env).returncode
        return rc
    if task == "test":
        cmd = [str(PY), "-m", "pytest", *rest]
    else:
        cmd = [str(PY), "scripts/demo.py", *rest]
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
