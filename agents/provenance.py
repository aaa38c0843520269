"""Provenance of a run folder or a results file: command line, versions, git commit, machine.

Every run folder gets ``provenance.json`` next to its resolved ``config.yaml``, and every
``results.json`` carries the same record under ``meta.provenance``, so a number can always be
traced to the code and the command that produced it.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["provenance", "PACKAGES"]

PACKAGES = (
    "apex-suite", "numpy", "scipy", "numba", "torch", "gymnasium", "stable-baselines3", "sb3-contrib",
    "cvxpy", "highspy", "sgp4", "omegaconf", "pettingzoo", "rustworkx", "ray",
)
"""Distributions whose versions are recorded (missing ones are left out)."""

ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def provenance(argv: list[str] | None = None) -> dict[str, Any]:
    """What produced a result: command line, package versions, git commit, machine, time (UTC)."""
    versions: dict[str, str] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    commit = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "command": [Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)],
        "cwd": os.getcwd(),
        "python": sys.version.split()[0],
        "packages": versions,
        "git_commit": commit,
        "git_dirty": bool(dirty) if dirty is not None else None,
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count()},
        "time_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
