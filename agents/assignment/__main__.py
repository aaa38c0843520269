"""Command line of the assignment family.

``python -m agents.assignment train --config configs/experiments/gsl_gsl.yaml [--split random]
[--set train.max_epochs=5 ...]`` trains one model; ``python -m agents.assignment evaluate
--config configs/experiments/gsl_*.yaml [--train-missing] [--out DIR]`` evaluates one or more
trained models on the chronological and random splits with the reference rules.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from agents.assignment.config import load_config
from agents.assignment.training import evaluate, train
from leo_env.core.overrides import add_set_argument


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return an exit code."""
    parser = argparse.ArgumentParser(prog="python -m agents.assignment")
    sub = parser.add_subparsers(dest="cmd", required=True)
    pt = sub.add_parser("train", help="train one model")
    pt.add_argument("--config", required=True)
    pt.add_argument("--split", default=None, help="override the config's split")
    add_set_argument(pt, "train.lr=1e-3")
    pt.add_argument("--no-progress", action="store_true")
    pe = sub.add_parser("evaluate", help="top-k tables for trained models and reference rules")
    pe.add_argument("--config", nargs="+", required=True)
    pe.add_argument("--splits", default="chronological,random")
    add_set_argument(pe, "train.threads=1")
    pe.add_argument("--out", default=None)
    pe.add_argument("--train-missing", action="store_true")
    pe.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.cmd == "train":
        over = list(args.set) + ([f"split={args.split}"] if args.split else [])
        cfg = load_config(args.config, over)
        print(json.dumps(train(cfg, progress=not args.no_progress), indent=2))
        return 0
    cfgs = [load_config(p, list(args.set)) for p in args.config]
    res = evaluate(
        cfgs,
        tuple(args.splits.split(",")),
        out_dir=args.out,
        train_missing=args.train_missing,
        progress=not args.no_progress,
    )
    for r in res:
        tau = r.get("kendall_tau")
        print(
            f"{r['policy']:<26} {r['split']:<13} top1 {r['top1']:6.2f} "
            f"[{r['top1_ci95'][0]:6.2f}, {r['top1_ci95'][1]:6.2f}] top5 {r['top5']:6.2f}"
            + ("" if tau is None else f"  tau {tau:.3f}")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
