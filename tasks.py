#!/usr/bin/env python3
"""One-file bootstrap for the APEX suite: ``python3 tasks.py demo`` and ``python3 tasks.py test``.

Needs only Python >= 3.11 and pip.  On first use it creates ``.venv`` next to this file,
installs torch 2.13.0 (CPU build, pinned in ``constraints.txt``) and then the project with
its ``dev`` and ``ray`` extras in editable mode (so ``test`` also runs the Ray tests).  The
install is redone when ``pyproject.toml`` or ``constraints.txt`` change.  Extra arguments after
the task name are passed through (to pytest for ``test`` and ``test-rllib``, to ``evaluate.py``
for ``demo``).  ``lint`` runs ruff, the import-linter contracts and mypy against its committed,
shrinking baseline.

``test-rllib`` builds a second environment, ``.venv-rllib``, with the ``rllib`` and ``dev``
extras (RLlib pins gymnasium 1.2.2, the main environment has the newest gymnasium) and runs
the tests marked ``rllib`` there (``pytest -m rllib``).
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
RLLIB_VENV = ROOT / ".venv-rllib"
EXTRAS = "dev,ray"
RLLIB_EXTRAS = "rllib,dev"


def _python(venv_dir: Path) -> Path:
    return venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


PY = _python(VENV)
STAMP = VENV / ".apex-install-stamp"


def _fingerprint(extras: str = EXTRAS) -> str:
    h = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        h.update((ROOT / name).read_bytes())
    h.update(extras.encode())
    return h.hexdigest()


def _run(*cmd: str | os.PathLike[str]) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True)


def ensure_env(venv_dir: Path = VENV, extras: str = EXTRAS) -> Path:
    """Create ``venv_dir`` and install the project with ``extras`` if missing or out of date.

    Returns the environment's python.
    """
    if sys.version_info < (3, 11):  # noqa: UP036 - tasks.py runs under any system python
        sys.exit(f"Python >= 3.11 is required, this is {sys.version.split()[0]}")
    py, stamp = _python(venv_dir), venv_dir / ".apex-install-stamp"
    if not py.exists():
        print(f"creating {venv_dir}", flush=True)
        venv.EnvBuilder(with_pip=True).create(venv_dir)
    if stamp.exists() and stamp.read_text() == _fingerprint(extras):
        return py
    pip = (py, "-m", "pip", "install", "--disable-pip-version-check", "-q")
    _run(*pip, "--upgrade", "pip")
    _run(*pip, "-c", "constraints.txt", "torch==2.13.0")
    _run(*pip, "-c", "constraints.txt", "-e", f".[{extras}]")
    stamp.write_text(_fingerprint(extras))
    return py


def main(argv: list[str]) -> int:
    """Dispatch ``demo``, ``test``, ``test-rllib``, ``lint`` or ``setup``."""
    if not argv or argv[0] not in {"demo", "test", "test-rllib", "setup", "lint"}:
        print(__doc__)
        print("usage: python3 tasks.py {demo|test|test-rllib|lint|setup} [args ...]")
        return 2
    task, rest = argv[0], argv[1:]
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    if task == "test-rllib":  # its own environment: RLlib pins gymnasium 1.2.2
        py = ensure_env(RLLIB_VENV, RLLIB_EXTRAS)
        cmd = [str(py), "-m", "pytest", "-m", "rllib", *rest]
        print("+", " ".join(cmd), flush=True)
        return subprocess.run(cmd, cwd=ROOT, env=env).returncode
    ensure_env()
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
