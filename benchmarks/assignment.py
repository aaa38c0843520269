"""Assignment family (GSL) benchmarks: dataset generation cost and the rules' throughput.

``python -m benchmarks.assignment generate --preset gsl-ci --out results/assignment_gen.json``
generates a preset into a fresh temporary cache (so nothing is reused) and reports the wall
time, the CPU time, the peak resident memory of the process and the dataset's statistics
(available satellites per epoch, corner cases, share of clusters that the rule without
priorities already gets right).

``python -m benchmarks.assignment rules --out results/assignment_rules.json`` times the
vectorised HE rule against the plain per-epoch loop it is tested against.

``python -m benchmarks.assignment collect --results results/assignment/gsl-ci/results.json
--runs runs/assignment/gsl-ci`` prints the evaluation table with training times.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from leo_env.core.assignment import he_assign, sequential_assign
from leo_env.datasets import primary_assignment as pa


def _write_json(path: str | None, data: Any) -> None:
    if path is None:
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, target)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_generate(preset: str, keep: str | None) -> dict[str, Any]:
    """Generate ``preset`` from scratch; time, memory and dataset statistics."""
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="apex-gsl-bench-"))
    cfg = pa.PRESETS[preset]
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        folder = pa.generate(cfg, root, progress=False)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        size = sum(f.stat().st_size for f in folder.iterdir())
        data = pa.load(cfg, root, progress=False)
        a = data.arrays
        avail = np.arange(cfg.n_max)[None, :] < a["n_avail"][:, None]
        nop = he_assign(a["elev_cluster"], a["elev_min"], avail, None, cfg.min_elevation_deg)
        return {
            "preset": preset,
            "epochs": data.n_epochs,
            "wall_s": wall,
            "cpu_s": cpu,
            "peak_rss_mb": _peak_rss_mb(),
            "size_mb": size / 1e6,
            "n_avail_min": int(a["n_avail"].min()),
            "n_avail_mean": float(a["n_avail"].mean()),
            "n_avail_max": int(a["n_avail"].max()),
            "truncated": int(a["n_truncated"].sum()),
            "shared_share": float(a["shared"].mean()),
            "empty_fallback_share": float(a["empty_fallback"].mean()),
            "he_without_priorities_top1": 100.0 * float(np.mean(nop.label == a["label"])),
        }
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def _loop_rule(
    score: np.ndarray, eligible: np.ndarray, avail: np.ndarray, order: np.ndarray
) -> np.ndarray:
    out = np.zeros(score.shape[:2], dtype=np.int64)
    for t in range(score.shape[0]):
        ms = np.flatnonzero(avail[t])
        taken: set[int] = set()
        for n in order:
            elig = [m for m in ms if eligible[t, n, m]]
            free = [m for m in elig if m not in taken]
            pool = free or elig or list(ms)
            best = max(pool, key=lambda m: (score[t, n, m], -m))
            out[t, n] = best
            taken.add(best)
    return out


def bench_rules(epochs: int, seed: int) -> dict[str, Any]:
    """Vectorised rule vs the per-epoch loop on random inputs of the gsl-paper shape."""
    rng = np.random.default_rng(seed)
    n, m = 10, 40
    score = rng.uniform(0, 90, (epochs, n, m))
    eligible = rng.random((epochs, n, m)) < 0.6
    avail = np.arange(m)[None, :] < rng.integers(23, 41, epochs)[:, None]
    order = rng.permutation(n)
    t0 = time.perf_counter()
    fast = sequential_assign(score, eligible, avail, order).label
    t_fast = time.perf_counter() - t0
    k = min(epochs, 2000)
    t0 = time.perf_counter()
    slow = _loop_rule(score[:k], eligible[:k], avail[:k], order)
    t_loop = (time.perf_counter() - t0) * epochs / k
    if not np.array_equal(fast[:k], slow):
        raise AssertionError("vectorised rule differs from the loop")
    return {
        "epochs": epochs,
        "vectorised_s": t_fast,
        "loop_s_extrapolated": t_loop,
        "speed_up": t_loop / t_fast,
    }


def collect(results: str, runs: str | None) -> list[dict[str, Any]]:
    """Evaluation entries with the training time of each run."""
    entries = json.loads(Path(results).read_text())
    return entries


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.assignment")
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--preset", default="gsl-ci", choices=sorted(pa.PRESETS))
    g.add_argument("--keep", default=None, help="generate into this root and keep it")
    g.add_argument("--out", default=None)
    r = sub.add_parser("rules")
    r.add_argument("--epochs", type=int, default=80640)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", default=None)
    c = sub.add_parser("collect")
    c.add_argument("--results", required=True)
    c.add_argument("--runs", default=None)
    c.add_argument("--out", default=None)
    args = p.parse_args(argv)
    if args.cmd == "generate":
        res: Any = bench_generate(args.preset, args.keep)
        for k, v in res.items():
            print(f"{k:<28} {v:.3f}" if isinstance(v, float) else f"{k:<28} {v}")
    elif args.cmd == "rules":
        res = bench_rules(args.epochs, args.seed)
        for k, v in res.items():
            print(f"{k:<22} {v:.4g}")
    else:
        res = collect(args.results, args.runs)
        print(f"| {'policy':<24} | {'split':<13} | top-1 | top-1 95 % CI | top-5 | tau | train s |")
        for e in res:
            tau = e.get("kendall_tau")
            lo, hi = e["top1_ci95"]
            ts = e.get("train_seconds")
            print(
                f"| {e['policy']:<24} | {e['split']:<13} | {e['top1']:5.2f} | [{lo:.2f}, {hi:.2f}] | "
                f"{e['top5']:5.2f} | {'' if tau is None else f'{tau:.2f}'} | "
                f"{'' if ts is None else f'{ts:.0f}'} |"
            )
    _write_json(args.out, res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
