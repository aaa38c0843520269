"""Decision-time benchmark of trained agents: what one slow-slot decision costs on CPU.

Command line::

    python -m benchmarks.decision --run runs/<run dir> [--run ...] [--episodes 5] [--decode argmax,search]
        [--search-delta 3] [--search-passes 2] [--out results/decision.json]
        [--backend serial|process|ray] [--workers N] [--address ADDR]

Plays ``--episodes`` held-out scenarios of the run's environment with the run's best model
(deterministic, one torch thread; after one untimed warm-up episode) and times, per slot, the whole decision
(:meth:`agents.policies.AgentPolicy.act`) and its parts: the action mask
(``env.action_masks()``), the flat observation, and the network forward pass with the masked
argmax (with ``--decode search`` also :func:`agents.search.local_search`, inside "network").
Prints a table (mean / median / p95 in ms) and writes JSON.  The environment step
(exact P1 for the slot) is not part of the decision and is not timed.

Besides wall-clock time, the whole decision is also timed in CPU time of the calling thread
(``decision_cpu``; torch runs on that one thread), which is what the decision costs on an idle
core: on a shared machine wall-clock time includes waiting for a core.

Every (run, decode) pair is one task of :func:`leo_env.parallel.pmap` (the worker receives the
run folder and the decode settings); with ``--out``, each finished pair is kept in
``<out stem>.parts/`` and skipped on rerun.  Workers time their decisions while the others
compute, so parallel backends measure a loaded machine: the default ``serial`` is the one to
quote, ``process``/``ray`` (on idle cores or separate nodes) only speed up a sweep.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["decision_times", "main"]


def decision_times(run: str, episodes: int = 5, search: tuple[float, int] | None = None) -> dict[str, Any]:
    """Per-slot timings [ms] of a run's policy on ``episodes`` held-out scenarios."""
    import torch as th

    from agents.envs import make_env
    from agents.policies import load_agent_policy
    from agents.runs import run_config
    from leo_env.envs.downlink.tables import EVAL_SEED_RANGE

    th.set_num_threads(1)
    cfg = run_config(Path(run))
    policy = load_agent_policy(run, search=search)
    env = make_env(cfg.env, seed_split="eval")
    parts: dict[str, list[float]] = {"decision": [], "decision_cpu": [], "mask": [], "observation": []}
    # warm-up episode, not timed (first calls compile kernels and fill torch's caches)
    obs, _ = env.reset(seed=0, options={"scenario_seed": EVAL_SEED_RANGE[0]})
    policy.reset(env)
    done = False
    while not done:
        obs, _, term, trunc, _ = env.step(policy.act(obs, env))
        done = bool(term or trunc)
    for i in range(episodes):
        obs, _ = env.reset(seed=i, options={"scenario_seed": EVAL_SEED_RANGE[0] + i})
        policy.reset(env)
        done = False
        while not done:
            c0, t0 = time.thread_time(), time.perf_counter()
            action = policy.act(obs, env)
            t1, c1 = time.perf_counter(), time.thread_time()
            env.unwrapped.action_masks()
            t2 = time.perf_counter()
            assert policy.layout is not None
            policy.layout.observe(env, obs)
            t3 = time.perf_counter()
            parts["decision"].append((t1 - t0) * 1e3)
            parts["decision_cpu"].append((c1 - c0) * 1e3)
            parts["mask"].append((t2 - t1) * 1e3)
            parts["observation"].append((t3 - t2) * 1e3)
            obs, _, term, trunc, _ = env.step(action)
            done = bool(term or trunc)
    out: dict[str, Any] = {
        "run": str(run), "algo": cfg.agent.algo, "policy": policy.name, "preset": cfg.env.preset,
        "search": None if search is None else list(search), "slots": len(parts["decision"]),
    }
    for k, v in parts.items():
        a = np.asarray(v)
        out[k] = {"mean_ms": float(a.mean()), "median_ms": float(np.median(a)), "p95_ms": float(np.percentile(a, 95))}
    d = np.asarray(parts["decision"]) - np.asarray(parts["mask"]) - np.asarray(parts["observation"])
    out["network"] = {"mean_ms": float(d.mean()), "median_ms": float(np.median(d)), "p95_ms": float(np.percentile(d, 95))}
    return out


def _task(run: str, episodes: int, search: list[float] | None) -> dict[str, Any]:
    """Worker task: :func:`decision_times` from plain settings."""
    return decision_times(run, episodes, None if search is None else (float(search[0]), int(search[1])))


def _mtime(run: str) -> float:
    """Modification time of the run's best model (a retrained run is timed again)."""
    from agents.runs import model_file

    try:
        return float(Path(model_file(run, "best")).stat().st_mtime)
    except (OSError, FileNotFoundError):
        return 0.0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    from leo_env.io import atomic_write_json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--run", action="append", required=True, help="run folder (repeatable)")
    ap.add_argument("--episodes", type=int, default=5)
    ap.add_argument("--decode", default="argmax", help="comma-separated: argmax,search")
    ap.add_argument("--search-delta", type=float, default=3.0, help="logit window of the search")
    ap.add_argument("--search-passes", type=int, default=2, help="sweeps of the search")
    ap.add_argument("--out", help="JSON output file")
    ap.add_argument("--backend", choices=("serial", "process", "ray"), default="serial",
                    help="where the (run, decode) pairs run (quote serial timings)")
    ap.add_argument("--workers", type=int, default=None, help="worker processes / Ray CPUs")
    ap.add_argument("--address", default=None, help="Ray cluster to join (auto, ray://host:10001)")
    args = ap.parse_args(argv)
    if args.episodes < 1:
        raise SystemExit(f"--episodes must be >= 1, got {args.episodes}")
    decodes = [d.strip() for d in args.decode.split(",") if d.strip()]
    if not decodes or any(d not in ("argmax", "search") for d in decodes):
        raise SystemExit(f"--decode entries must be argmax or search, got {args.decode!r}")
    if args.workers is not None and args.workers < 1:
        raise SystemExit(f"--workers must be >= 1, got {args.workers}")
    from leo_env.parallel import pmap, pmap_cached

    search = [args.search_delta, args.search_passes]
    tasks = [(str(r), args.episodes, search if d == "search" else None) for r in args.run for d in decodes]
    par = {"backend": args.backend, "workers": args.workers, "address": args.address, "desc": "decision times",
           "retries": 0}
    if args.out:
        parts = Path(args.out).with_suffix(".parts")
        names = [f"{i:03d}_{Path(r).name}_{d}.json" for i, (r, d) in enumerate((r, d) for r in args.run for d in decodes)]
        keys = [{"run": str(Path(t[0]).resolve()), "mtime": _mtime(t[0]), "episodes": t[1], "search": t[2]}
                for t in tasks]
        rows = pmap_cached(_task, tasks, [parts / n for n in names], keys, **par)
    else:
        rows = pmap(_task, tasks, **par)
    print("| run | policy | preset | slots | part | mean [ms] | median [ms] | p95 [ms] |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        for part in ("decision", "decision_cpu", "mask", "observation", "network"):
            t = r[part]
            print(f"| {Path(r['run']).name} | {r['policy']} | {r['preset']} | {r['slots']} | {part} "
                  f"| {t['mean_ms']:.3f} | {t['median_ms']:.3f} | {t['p95_ms']:.3f} |")
    if args.out:
        atomic_write_json(args.out, {"machine": platform.processor() or platform.machine(), "results": rows,
                                     "parallel": {k: par[k] for k in ("backend", "workers", "address")}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
