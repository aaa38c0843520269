"""Decision-time benchmark of the downlink planner (agents.planner) against B2 (MPC).

Command line::

    python -m benchmarks.planner [--preset medium] [--episodes 5] [--prediction-error 0.2]
        [--predictor noisy-truth] [--policies planner,planner-fast,b2] [--out results/planner_time.json]

Plays ``--episodes`` held-out scenarios per policy, serially in this process (one torch thread,
after one untimed warm-up episode on a training-split scenario) and times every slot's whole
decision (``policy.act``; the planner's first slot includes its planning, so its ``max`` is the
first slot's cost) in wall-clock time
and in CPU time of the calling thread (what the decision costs on an idle core; on a shared
machine wall-clock time includes waiting for a core).  The per-slot figure that the paired
evaluation reports (``decision_ms``) spreads a policy's ``reset`` over the slots; the planner's
reset only loads its models, so the two agree.  Prints a table (mean / median / p95 [ms]) and
writes JSON with the machine load at the start and the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["decision_times", "main"]

POLICIES = ("planner", "planner-fast", "planner-lag", "mpc-post", "b2")


def _make(name: str) -> Any:
    from agents import planner
    from leo_env.envs.downlink.policies import MPCPolicy

    table: dict[str, Callable[[], Any]] = {
        "planner": planner.make_planner, "planner-fast": planner.make_planner_fast,
        "planner-lag": planner.make_planner_lagrangian, "mpc-post": planner.make_planner_mpc,
        "b2": MPCPolicy,
    }
    if name not in table:
        raise ValueError(f"policy must be one of {POLICIES}, got {name!r}")
    return table[name]()


def decision_times(name: str, preset: str, episodes: int, error: float, predictor: str) -> dict[str, Any]:
    """Per-slot wall and thread-CPU decision times [ms] of one policy on held-out episodes."""
    import torch as th

    from agents.config import EnvConfig
    from agents.envs import VALIDATION_SEED_BASE, make_env
    from leo_env.envs.downlink.tables import EVAL_SEED_RANGE

    th.set_num_threads(1)
    env = make_env(EnvConfig(preset=preset, predictor=predictor, prediction_error=error, allocator="p1"),
                   seed_split="eval")
    wall: list[float] = []
    cpu: list[float] = []
    utilities: list[float] = []
    for i in range(-1, episodes):  # -1: untimed warm-up
        seed = VALIDATION_SEED_BASE if i < 0 else EVAL_SEED_RANGE[0] + i
        obs, _ = env.reset(seed=max(i, 0), options={"scenario_seed": seed})
        policy = _make(name)
        c0, t0 = time.thread_time(), time.perf_counter()
        policy.reset(env)
        setup = (time.perf_counter() - t0, time.thread_time() - c0)
        done, ret, ws, cs = False, 0.0, [], []
        while not done:
            c0, t0 = time.thread_time(), time.perf_counter()
            action = policy.act(obs, env)
            ws.append(time.perf_counter() - t0)
            cs.append(time.thread_time() - c0)
            obs, r, term, trunc, _ = env.step(action)
            ret += float(r)
            done = bool(term or trunc)
        if i >= 0:
            k = len(ws)
            wall.extend((np.asarray(ws) + setup[0] / k) * 1e3)
            cpu.extend((np.asarray(cs) + setup[1] / k) * 1e3)
            utilities.append(ret)
    out: dict[str, Any] = {"policy": name, "preset": preset, "episodes": episodes, "prediction_error": error,
                           "predictor": predictor, "slots": len(wall), "utility_mean": float(np.mean(utilities))}
    for key, v in (("decision", wall), ("decision_cpu", cpu)):
        a = np.asarray(v)
        out[key] = {"mean_ms": float(a.mean()), "median_ms": float(np.median(a)), "p95_ms": float(np.percentile(a, 95)),
                    "max_ms": float(a.max())}
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    from leo_env.io import atomic_write_json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--episodes", type=int, default=5)
    ap.add_argument("--prediction-error", type=float, default=0.2)
    ap.add_argument("--predictor", default="noisy-truth")
    ap.add_argument("--policies", default="planner,planner-fast,b2", help=f"comma-separated from {POLICIES}")
    ap.add_argument("--out", help="JSON output file")
    args = ap.parse_args(argv)
    if args.episodes < 1:
        raise SystemExit(f"--episodes must be >= 1, got {args.episodes}")
    names = [n.strip() for n in args.policies.split(",") if n.strip()]
    bad = [n for n in names if n not in POLICIES]
    if bad or not names:
        raise SystemExit(f"--policies entries must be from {POLICIES}, got {args.policies!r}")
    load0 = os.getloadavg()[0]
    rows = [decision_times(n, args.preset, args.episodes, args.prediction_error, args.predictor) for n in names]
    load1 = os.getloadavg()[0]
    print(f"load average (1 min) at start / end: {load0:.1f} / {load1:.1f}")
    print("| policy | preset | slots | utility (mean) | wall mean / median / p95 / max [ms] | CPU mean / median / p95 / max [ms] |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        w, c = r["decision"], r["decision_cpu"]
        print(f"| {r['policy']} | {r['preset']} | {r['slots']} | {r['utility_mean']:.2f} "
              f"| {w['mean_ms']:.2f} / {w['median_ms']:.2f} / {w['p95_ms']:.2f} / {w['max_ms']:.1f} "
              f"| {c['mean_ms']:.2f} / {c['median_ms']:.2f} / {c['p95_ms']:.2f} / {c['max_ms']:.1f} |")
    if args.out:
        atomic_write_json(args.out, {"machine": platform.processor() or platform.machine(), "load_start": load0,
                                     "load_end": load1, "results": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
