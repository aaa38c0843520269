"""mypy on the three packages against a committed baseline that may only shrink.

    python tools/check_mypy.py            # fails if any file has more errors than the baseline
    python tools/check_mypy.py --update   # rewrite the baseline (after fixing errors)

The baseline (``tools/mypy-baseline.json``) maps each file to its number of mypy errors; a new
file must have none.  Exit status 0 when every file is at or below its baseline.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "tools" / "mypy-baseline.json"
PACKAGES = ("leo_env", "oracles", "agents")
_LINE = re.compile(r"^(?P<file>[^:]+\.py):\d+: error:")


def count_errors() -> dict[str, int]:
    """Count mypy errors per file."""
    out = subprocess.run([sys.executable, "-m", "mypy", *PACKAGES], cwd=ROOT, capture_output=True, text=True)
    counts: collections.Counter[str] = collections.Counter()
    for line in out.stdout.splitlines():
        m = _LINE.match(line)
        if m:
            counts[m.group("file")] += 1
    if out.returncode not in (0, 1) or (out.returncode == 1 and not counts):
        sys.exit(f"mypy did not run cleanly:\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    return dict(sorted(counts.items()))


def main(argv: list[str] | None = None) -> int:
    """Compare (or ``--update``) the baseline."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--update", action="store_true", help="rewrite the baseline with the current counts")
    args = ap.parse_args(argv)
    now = count_errors()
    if args.update:
        BASELINE.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"baseline: {sum(now.values())} errors in {len(now)} files")
        return 0
    base = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    worse = {f: (n, base.get(f, 0)) for f, n in now.items() if n > base.get(f, 0)}
    print(f"mypy: {sum(now.values())} errors in {len(now)} files (baseline {sum(base.values())})")
    for f, (n, b) in sorted(worse.items()):
        print(f"  {f}: {n} errors, baseline {b}")
    return 1 if worse else 0


if __name__ == "__main__":
    raise SystemExit(main())
