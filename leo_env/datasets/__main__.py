"""Command line of the dataset generators.

``python -m leo_env.datasets primary-assignment --preset gsl-ci [--root DIR]
[--backend serial|process|ray] [--workers N] [--address ADDR]``.
"""

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
    p.add_argument("--backend", choices=("serial", "process", "ray"), default="serial",
                   help="where the shards are computed (same files on every backend)")
    p.add_argument("--workers", type=int, default=None, help="worker processes / Ray CPUs")
    p.add_argument("--address", default=None, help="Ray cluster to join (auto, ray://host:10001)")
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    cfg = pa.PRESETS[args.preset]
    if args.seed is not None:
        from dataclasses import replace

        cfg = replace(cfg, seed=args.seed)
    t0 = time.perf_counter()
    folder = pa.generate(cfg, args.root, progress=not args.no_progress, backend=args.backend,
                         workers=args.workers, address=args.address)
    print(f"{cfg.name}: {cfg.n_epochs} epochs in {folder} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
