"""Dispatch ``python -m oracles.bench <name> [args]`` to ``oracles.bench.<name>.main(args)``."""

from __future__ import annotations

import importlib
import sys

BENCHES = {
    "p1": "oracles.bench.p1",
    "p2": "oracles.bench.p2",
    "calibrate": "oracles.bench.calibrate",
}


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmark."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in BENCHES:
        print(f"usage: python -m oracles.bench {{{','.join(BENCHES)}}} [options]", file=sys.stderr)
        return 2
    module = importlib.import_module(BENCHES[argv[0]])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
