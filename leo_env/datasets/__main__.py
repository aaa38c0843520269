"""Command line: ``python -m leo_env.datasets primary-assignment --preset gsl-ci [--root DIR]``."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from leo_env.datasets import primary_assignment as pa


def main(argv: Sequence[str] | None = None) -> int:
    """Generate a dataset and print its folder."""
    parser = argparse.ArgumentParser(prog="python -m leo_env.datasets")
    sub = parser.add_subparsers(dest="dataset", required=True)
    p = sub.add_parser("primary-assignment", help="primary system's cluster assignments (GSL)")
    p.add_argument("--preset", default="gsl-ci", choices=sorted(pa.PRESETS))
    p.add_argument("--root", default=None, help="cache root (default $APEX_DATA_DIR or ~/.cache)")
    p.add_argument("--seed", type=int, default=None, help="override the preset's seed")
    p.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    cfg = pa.PRESETS[args.preset]
    if args.seed is not None:
        from dataclasses import replace

        cfg = replace(cfg, seed=args.seed)
    t0 = time.perf_counter()
    folder = pa.generate(cfg, args.root, progress=not args.no_progress)
    print(f"{cfg.name}: {cfg.n_epochs} epochs in {folder} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
