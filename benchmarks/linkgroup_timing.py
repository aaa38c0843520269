r"""linkgroup family: decision time per slot of the trained learners, before / after in one run (Fig. 9).

For every learner run given, two copies of the trained learner (greedy, frozen weights, as in
the windows evaluation of :mod:`agents.linkgroup.evaluation`) play the same held-out windows
in turn, window by window, so both see the same machine load:

* **before**: the widening reference k-NN (``knn_backend="walk"``: list ``n`` joint actions,
  filter the valid groups, widen ``n`` x4 until ``k`` are found) and the torch critic on the
  ``k`` candidates (``fast_choose=False``);
* **after**: the compiled lazy walk (``knn_backend="lazy"``: the same best-first listing,
  validity checked per listed joint action, stop at the ``k``-th valid one) and the numpy
  critic screen (``fast_choose=True``).

The decision time of a slot is the wall time of ``Learner.act`` (proto-action, k-NN, critic
choice); its CPU time (``time.thread_time``) is reported beside it, since on a shared machine
the wall time also counts the slices the process waits for a core.  Both copies must play the same groups in every slot (checked and reported: the two
paths are the same definition).  The numba kernel is loaded (or compiled) before timing.
Held-out tasks and windows are those of the windows evaluation (``window_seed(99, i)``,
``window_seed(100, i, w)``, layouts cycling over ``evaluate.layout_seeds``).

::

    python -m benchmarks.linkgroup_timing --runs runs/linkgroup/emcl_k50,runs/linkgroup/ac_maml_k50,\
runs/linkgroup/ac_ddpg_k50,runs/linkgroup/emcl_nowolp_k50 --tasks 5 --windows 2 \
        --out results/linkgroup/timing_k50_knn.json
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main", "time_run"]


def _play(learner: Any, env: Any, seed: int, times: list[float], cpu: list[float],
          groups: list[np.ndarray]) -> float:
    obs, _ = env.reset(seed=seed)
    while True:
        c0, t0 = time.thread_time(), time.perf_counter()
        a = learner.act(obs, env, False)
        times.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
        groups.append(np.asarray(a).copy())
        obs2, r, term, _, info = env.step(env.unwrapped.encode(a))
        learner.observe(obs, a, r, obs2, term, 0)
        obs = obs2
        if term:
            return float(info["objective"])


def _stats(x: list[float]) -> dict[str, float]:
    a = 1e3 * np.asarray(x)
    return {"mean_ms": float(a.mean()), "median_ms": float(np.median(a)),
            "p95_ms": float(np.percentile(a, 95)), "max_ms": float(a.max())}


def time_run(run: str | Path, tasks: int, windows: int, trust: bool = False) -> dict[str, Any]:
    """Before/after decision times of one run folder (module docstring)."""
    import torch

    from agents.linkgroup.config import load_config
    from agents.linkgroup.training import load_learner, make_env, window_seed
    from agents.linkgroup.wolpertinger import warm_up
    from leo_env.scenario import linkgroup as lg

    torch.set_num_threads(1)
    cfg = load_config(Path(run) / "config.yaml")
    paths = {"before": ("walk", False), "after": ("lazy", True)}
    learners = {}
    for name, (backend, fast) in paths.items():
        learner = load_learner(cfg, trust)
        learner.online = True
        learner.knn_backend, learner.fast_choose = backend, fast
        learners[name] = learner
    # load the compiled kernel before timing (from numba's cache, or compiled once)
    warm_up()
    times: dict[str, list[float]] = {n: [] for n in paths}
    cpu: dict[str, list[float]] = {n: [] for n in paths}
    groups: dict[str, list[np.ndarray]] = {n: [] for n in paths}
    f: dict[str, list[float]] = {n: [] for n in paths}
    layouts = cfg.evaluate.layout_seeds
    load0 = os.getloadavg()[0]
    for i in range(tasks):
        envs = {}
        for name in paths:
            env = make_env(cfg, layouts[i % len(layouts)])
            env.set_task(lg.sample_tasks(env.cfg, np.random.default_rng(window_seed(99, i)), 1)[0])
            envs[name] = env
        for w in range(windows):
            for name in paths:
                f[name].append(_play(learners[name], envs[name], window_seed(100, i, w), times[name], cpu[name],
                                     groups[name]))
    same = [bool(np.array_equal(a, b)) for a, b in zip(groups["before"], groups["after"], strict=True)]
    out: dict[str, Any] = {
        "run": str(run), "algo": cfg.algo, "k": learners["after"].k, "slots": len(same),
        "same_groups": int(sum(same)), "same_F": bool(f["before"] == f["after"]),
        "F_mean": float(np.mean(f["after"])),
        "screened": learners["after"].stats["screened"], "torch_fallback": learners["after"].stats["torch"],
        "load_start": load0, "load_end": os.getloadavg()[0],
    }
    for name in paths:
        out[name] = _stats(times[name])
        out[name + "_cpu"] = _stats(cpu[name])
    out["speedup_mean"] = out["before"]["mean_ms"] / out["after"]["mean_ms"]
    out["speedup_median"] = out["before"]["median_ms"] / out["after"]["median_ms"]
    out["speedup_cpu_mean"] = out["before_cpu"]["mean_ms"] / out["after_cpu"]["mean_ms"]
    return out


def main(argv: list[str] | None = None) -> None:
    """Command-line entry (module docstring)."""
    from agents.provenance import provenance
    from leo_env.io import atomic_write_json

    ap = argparse.ArgumentParser(prog="python -m benchmarks.linkgroup_timing", description=__doc__.split("\n")[0])
    ap.add_argument("--runs", required=True, help="comma-separated run folders")
    ap.add_argument("--tasks", type=int, default=5)
    ap.add_argument("--windows", type=int, default=2)
    ap.add_argument("--out", required=True)
    ap.add_argument("--trust", action="store_true")
    args = ap.parse_args(argv)
    if args.tasks < 1 or args.windows < 1:
        raise SystemExit("--tasks and --windows must be >= 1")
    rows = [time_run(r, args.tasks, args.windows, args.trust) for r in args.runs.split(",") if r]
    atomic_write_json(Path(args.out), {"meta": provenance(), "tasks": args.tasks, "windows": args.windows,
                                       "rows": rows})
    print("| run | algo | k | slots | wall before: mean / median / p95 ms | wall after: mean / median / p95 ms | "
          "speed-up (mean / median) | CPU before / after: mean ms | same groups | critic screened / torch | "
          "load (start / end) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        b, a = r["before"], r["after"]
        print(f"| {Path(r['run']).name} | {r['algo']} | {r['k']} | {r['slots']} | "
              f"{b['mean_ms']:.2f} / {b['median_ms']:.2f} / {b['p95_ms']:.2f} | "
              f"{a['mean_ms']:.2f} / {a['median_ms']:.2f} / {a['p95_ms']:.2f} | "
              f"{r['speedup_mean']:.1f}x / {r['speedup_median']:.1f}x | "
              f"{r['before_cpu']['mean_ms']:.2f} / {r['after_cpu']['mean_ms']:.2f} | "
              f"{r['same_groups']} / {r['slots']} | {r['screened']} / {r['torch_fallback']} | "
              f"{r['load_start']:.1f} / {r['load_end']:.1f} |")


if __name__ == "__main__":
    main()
