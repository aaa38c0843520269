#!/usr/bin/env python
r"""Paired evaluation of association policies against the oracle (B1), MPC (B2) and greedy (B0).

Usage::

    python evaluate.py --config configs/experiments/<name>.yaml \
        --policies b0,b1,b2,runs/<run dir>[,<checkpoint.zip>...] \
        [--seeds 20] [--prediction-error 0.05,0.1,0.2] [--out DIR] [--decode argmax,search]
        [--set key=value ...]
    python evaluate.py --config configs/experiments/demo.yaml --train   # train, then evaluate

Every policy plays the same held-out scenarios (evaluation split, ``seed_split="eval"``) at
every prediction-error level.  ``--out DIR`` receives ``results.json`` (one entry per policy
and level: utility mean/std, gap to B1, mean xi, Jain, worst-cell xi, served bits, handovers,
budget violations, emergencies, decision time), ``results.md``, ``results.csv``, the Wilcoxon
signed-rank tests, and the plots ``methods.png``, ``gap_vs_error.png``, ``training_curves.png``
and ``decision_time_cdf.png``.  Episodes are saved as they finish (``DIR/partial/``), so an
interrupted evaluation resumes where it stopped.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def evaluate(cfg: Any, policies: list[str], progress: bool = True) -> dict[str, Any]:
    """Evaluate ``policies`` under ``cfg.evaluate`` and write the outputs; returns the summary."""
    import torch as th

    from agents.config import to_dict
    from agents.evaluation import agent_spec, baseline_spec, run_evaluation, write_outputs

    th.set_num_threads(int(cfg.train.torch_threads))
    ev = cfg.evaluate
    specs = []
    for name in policies:
        if name.lower() in ("b0", "b1", "b2", "random"):
            specs.append(baseline_spec(name, ev.b1, ev.b2))
        else:
            for decode in ev.decode:
                search = (ev.search_delta, ev.search_passes) if decode == "search" else None
                specs.append(agent_spec(name, deterministic=ev.deterministic, search=search))
    labels = [s.label for s in specs]
    for lab in set(labels):  # disambiguate two agents of the same algorithm
        same = [s for s in specs if s.label == lab]
        if len(same) > 1:
            for s in same:
                s.label = f"{lab}[{Path(s.run_dir or s.key.get('path', '?')).name}]"
    t0 = time.perf_counter()
    episodes = run_evaluation(specs, cfg.env, ev.seeds, ev.prediction_errors, ev.out, progress=progress)
    meta = {
        "config": to_dict(cfg), "policies": [s.label for s in specs], "sources": policies,
        "seeds": ev.seeds, "prediction_errors": list(ev.prediction_errors), "wall_time_s": time.perf_counter() - t0,
        "seed_split": "eval",
    }
    return write_outputs(ev.out, episodes, specs, meta, pairs=ev.wilcoxon_pairs or None, plots=ev.plots)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--config", help="experiment YAML (env and evaluate sections are used)")
    ap.add_argument("--policies", help="comma-separated: b0,b1,b2,random, run folders or model zips")
    ap.add_argument("--seeds", type=int, help="paired held-out seeds (evaluate.seeds)")
    ap.add_argument("--prediction-error", help="comma-separated levels, e.g. 0.05,0.1,0.2")
    ap.add_argument("--out", help="output folder (evaluate.out)")
    ap.add_argument("--decode", help="comma-separated agent decodings: argmax,search (evaluate.decode)")
    ap.add_argument("--set", nargs="+", action="extend", default=[], metavar="KEY=VALUE", help="dotted overrides")
    ap.add_argument("--train", action="store_true", help="train the config's agent first and evaluate it too")
    ap.add_argument("--no-progress", action="store_true")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    from agents.config import load_experiment

    args = parse_args(argv)
    extra = list(args.set)
    if args.seeds is not None:
        extra.append(f"evaluate.seeds={args.seeds}")
    if args.prediction_error:
        extra.append(f"evaluate.prediction_errors=[{args.prediction_error}]")
    if args.out:
        extra.append(f"evaluate.out={args.out}")
    if args.decode:
        extra.append(f"evaluate.decode=[{args.decode}]")
    cfg = load_experiment(args.config, extra)
    policies = [p.strip() for p in args.policies.split(",") if p.strip()] if args.policies else list(cfg.evaluate.policies)
    progress = not args.no_progress
    if args.train:
        from train import train

        run_dir = train(cfg, progress=progress and cfg.train.progress_bar)
        policies.append(str(run_dir))
    out = evaluate(cfg, policies, progress=progress)
    print()
    print(out["markdown"])
    print(f"results: {Path(cfg.evaluate.out).resolve()} (results.json, results.md, results.csv, *.png)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
