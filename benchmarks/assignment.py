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

``python -m benchmarks.assignment ablation --out results/assignment_ablation.json`` trains and
tests the priority model and the Perceptron on variants of a dataset preset (default
``gsl-ci``, random split): N = 5 / 10 / 20 clusters, a primary that follows the MCT rule
instead of HE, and 1 % / 5 % label noise in training (with and without the priority model's
``robust_quantile``), next to the two reference rules.
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


ABLATIONS: dict[str, list[str]] = {
    "N=10 (preset)": [],
    "N=5": ["dataset_overrides.n_clusters=5"],
    "N=20": ["dataset_overrides.n_clusters=20"],
    "MCT primary": ["dataset_overrides.rule=mct"],
    "label noise 1 %": ["label_noise=0.01"],
    "label noise 5 %": ["label_noise=0.05"],
}
"""Variant name -> overrides of the run configs (see the module docstring)."""


def ablation(dataset: str, split: str, data_root: str | None, work: str, variants: list[str]) -> list[dict[str, Any]]:
    """Train (if missing) and test the priority model and the Perceptron on every variant."""
    from agents.assignment.config import load_config
    from agents.assignment.training import evaluate

    rows = []
    for name in variants:
        tag = "".join(ch if ch.isalnum() else "_" for ch in name)
        common = [f"dataset={dataset}", f"run_dir={work}/runs/{tag}", *ABLATIONS[name]]
        if data_root:
            common.append(f"data_root={data_root}")
        cfgs = [load_config("configs/experiments/gsl_priority.yaml", [*common, "name=priority_{split}"]),
                load_config("configs/experiments/gsl_perceptron.yaml", [*common, "name=perceptron_{split}"])]
        if "label_noise" in " ".join(ABLATIONS[name]):
            cfgs.insert(1, load_config("configs/experiments/gsl_priority.yaml",
                                       [*common, "name=priority_rq_{split}", "model_kwargs.robust_quantile=0.1"]))
        t0 = time.perf_counter()
        res = evaluate(cfgs, (split,), out_dir=Path(work) / "res" / tag, train_missing=True, progress=False)
        for i, r in enumerate(res):
            label = r["policy"] + (" robust q=0.1" if i == 3 and len(cfgs) == 3 else "")
            rows.append({"variant": name, "policy": label, "top1": r["top1"], "top1_ci95": r["top1_ci95"],
                         "top5": r["top5"], "kendall_tau": r.get("kendall_tau"),
                         "pairs_confident": r.get("pairs_confident")})
        print(f"{name}: {time.perf_counter() - t0:.0f} s", flush=True)
    return rows


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
    a = sub.add_parser("ablation")
    a.add_argument("--dataset", default="gsl-ci", choices=sorted(pa.PRESETS))
    a.add_argument("--split", default="random", choices=["chronological", "random"])
    a.add_argument("--data-root", default=None, help="dataset cache root (default: the suite's)")
    a.add_argument("--work", default="runs/assignment-ablation", help="run folders and tables")
    a.add_argument("--variants", nargs="+", default=list(ABLATIONS), choices=list(ABLATIONS))
    a.add_argument("--out", default=None)
    args = p.parse_args(argv)
    if args.cmd == "ablation":
        res = ablation(args.dataset, args.split, args.data_root, args.work, args.variants)
        print("| variant | policy | top-1 | top-1 95 % CI | top-5 | Kendall tau |")
        print("|---|---|---|---|---|---|")
        for e in res:
            lo, hi = e["top1_ci95"]
            tau = e["kendall_tau"]
            print(f"| {e['variant']} | {e['policy']} | {e['top1']:.2f} | [{lo:.2f}, {hi:.2f}] | {e['top5']:.2f} | "
                  f"{'' if tau is None else f'{tau:.3f}'} |")
    elif args.cmd == "generate":
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
