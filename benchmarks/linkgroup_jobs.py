r"""linkgroup family: the evaluation of ``evaluate.py`` as resumable per-job runs (partial results survive).

``evaluate.py --config configs/experiments/linkgroup_emcl_k20.yaml --policies ...`` maps every
job (one policy on one Fig. 8 stream; one recovery stream with every policy) over worker
processes and writes ``results.json`` only at the end.  On a shared machine a long evaluation
can be cut short with nothing saved; this script runs the same job functions
(:func:`agents.linkgroup.evaluation.fig8_run`, :func:`~agents.linkgroup.evaluation.stream_seed`)
one at a time, writes each result to ``<out>/jobs/`` as soon as it is done (a job whose file
exists is skipped, so a rerun resumes; a recovery stream is saved policy by policy under
``<out>/jobs/parts/`` and merged into ``stream_<seed>.json`` once every policy is done), and ``combine`` builds the same summary tables
(``results.json`` + ``results.md``) from whatever jobs exist.  Several ``run`` commands with
disjoint ``--only`` lists run side by side.

::

    python -m benchmarks.linkgroup_jobs run --config configs/experiments/linkgroup_emcl_k20.yaml \\
        --part fig8 --policies <yamls>,grd,rollout,saa,opt [--only opt,grd] [--set key=value ...] --out DIR
    python -m benchmarks.linkgroup_jobs run ... --part streams --seeds 0:20 --out DIR
    python -m benchmarks.linkgroup_jobs combine --config ... --policies ... [--set ...] --out DIR
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _setup(args: argparse.Namespace) -> tuple[Any, list[tuple[str, dict[str, Any] | None]]]:
    from agents.linkgroup.config import load_config
    from agents.linkgroup.evaluation import _resolve

    cfg = load_config(args.config, args.set or [])
    specs = _resolve(cfg, [p for p in args.policies.split(",") if p])
    return cfg, specs


def _run(args: argparse.Namespace) -> None:
    from agents.linkgroup.evaluation import fig8_run, stream_seed
    from leo_env.io import atomic_write_json

    cfg, specs = _setup(args)
    jobs = Path(args.out) / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(",")) if args.only else None
    if args.part == "fig8":
        f8 = specs if any(lab == "opt" for lab, _ in specs) else [*specs, ("opt", None)]
        for s in range(cfg.evaluate.fig8_seeds):
            for lab, d in f8:
                path = jobs / f"fig8_{s:02d}_{lab}.json"
                if (only and lab not in only) or path.exists():
                    continue
                t0 = time.perf_counter()
                atomic_write_json(path, fig8_run(cfg.to_dict(), (lab, d), s, args.trust))
                print(f"fig8 seed {s} {lab}: {time.perf_counter() - t0:.0f} s", flush=True)
    else:
        lo, hi = (int(v) for v in args.seeds.split(":"))
        parts = jobs / "parts"
        parts.mkdir(exist_ok=True)
        for s in range(lo, hi):
            path = jobs / f"stream_{s:02d}.json"
            if path.exists():
                continue
            t0 = time.perf_counter()
            merged: dict[str, Any] = {}
            for lab, d in specs:  # one part file per policy: a crash loses at most one policy's run
                part = parts / f"stream_{s:02d}_{lab}.json"
                if part.exists():
                    merged.update(json.loads(part.read_text()))
                    continue
                t1 = time.perf_counter()
                r = stream_seed(cfg.to_dict(), [(lab, d)], s, args.trust)
                atomic_write_json(part, r)
                merged.update(r)
                print(f"stream {s} {lab}: {time.perf_counter() - t1:.0f} s", flush=True)
            atomic_write_json(path, merged)
            print(f"stream {s}: {time.perf_counter() - t0:.0f} s", flush=True)


def _combine(args: argparse.Namespace) -> None:
    from agents.linkgroup.evaluation import _fig8_markdown, _fig8_summary, _markdown, _summary
    from agents.provenance import provenance
    from leo_env.io import atomic_write_json, atomic_write_text

    cfg, specs = _setup(args)
    labels = [lab for lab, _ in specs]
    out = Path(args.out)
    jobs = out / "jobs"
    f8 = [json.loads(p.read_text()) for p in sorted(jobs.glob("fig8_*.json"))]
    st = [json.loads(p.read_text()) for p in sorted(jobs.glob("stream_*.json"))]
    summ = _summary(cfg, labels, [], st)
    md = _markdown(cfg, summ)
    if f8:
        have = {r["label"] for r in f8}
        f8_labels = [lab for lab in [*labels, "opt"] if lab in have]
        summ["fig8"] = _fig8_summary(cfg, f8_labels, f8)
        md = _fig8_markdown(cfg, summ["fig8"], {lab: (d["algo"] if d else lab) for lab, d in specs}) + "\n" + md
    if st:
        md += f"\n({len(st)} streams: seeds {sorted(r['seed'] for r in st)})\n"
    atomic_write_json(out / "results.json", {"meta": provenance(), "config": asdict(cfg), "policies": labels,
                                             "summary": summ, "windows": [], "streams": st, "fig8": f8})
    atomic_write_text(out / "results.md", md)
    print(md)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry (module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.linkgroup_jobs", description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=("run", "combine"))
    ap.add_argument("--config", required=True)
    ap.add_argument("--policies", default="")
    ap.add_argument("--set", nargs="*", default=[])
    ap.add_argument("--out", required=True)
    ap.add_argument("--part", choices=("fig8", "streams"), default="fig8")
    ap.add_argument("--only", default="", help="fig8: comma-separated labels to run (default: all)")
    ap.add_argument("--seeds", default="0:20", help="streams: seed range lo:hi")
    ap.add_argument("--trust", action="store_true")
    args = ap.parse_args(argv)
    (_run if args.command == "run" else _combine)(args)


if __name__ == "__main__":
    main()
