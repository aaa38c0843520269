"""RLlib: PPO (new API stack) on a downlink env through the native vector env, with action masking.

    python examples/rllib_single_agent.py --steps 20000
    python examples/rllib_single_agent.py --bench --out results/rllib_vectorize.json

Needs the ``rllib`` extra, which pins gymnasium 1.2.2: ``python3 tasks.py test-rllib`` builds
``.venv-rllib`` with it (or ``pip install -e .[rllib]`` in a fresh environment).

:func:`agents.rllib.ppo_config` builds the ``PPOConfig``: every env runner makes the id's
registered vector env (``gym_env_vectorize_mode="vector_entry_point"``: one numpy batch per step
instead of ``num_envs`` Python envs), flattens the ``Dict`` observation and passes the action
mask to a masking RL module, so masked candidates are never sampled.  ``--bench`` times
512-step PPO iterations on ``Downlink-medium-v0`` with the native vector env and with
Gymnasium's ``SyncVectorEnv``, prints a table and writes it as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path
from typing import Any

import ray
import torch

from agents.rllib import ppo_config, time_iterations, train_until


def _init_ray(num_cpus: int = 2) -> None:
    # one torch thread: the networks are tiny and, with sampling and learning in this process,
    # more threads only contend for the cores (on 2 loaded cores: 25-41 s per 512-step PPO
    # iteration on Downlink-medium-v0 with torch's default threads, about 1 s with one)
    torch.set_num_threads(1)
    if not ray.is_initialized():
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)


def main(
    total_steps: int = 20_000,
    env_id: str = "leo_env/Downlink-toy-v0",
    num_envs: int = 4,
    batch: int = 512,
    vectorize: str = "native",
    seed: int = 0,
    **env_kwargs: Any,
) -> dict[str, float]:
    """Train PPO until ``total_steps`` env steps are sampled; returns steps, iterations, return."""
    _init_ray()
    config = ppo_config(
        env_id, env_kwargs=env_kwargs or {"allocator": "equal"}, vectorize=vectorize,
        num_envs=num_envs, train_batch_size=batch, minibatch_size=min(128, batch), seed=seed,
    )
    return train_until(config, total_steps)


def bench(
    env_id: str = "leo_env/Downlink-medium-v0",
    num_envs: int = 8,
    iterations: int = 3,
    out: str | None = None,
    **env_kwargs: Any,
) -> list[dict[str, Any]]:
    """Seconds per 512-step PPO iteration: native vector env vs ``SyncVectorEnv`` (one warm-up each).

    Wall and CPU seconds per training iteration, for sampling one 512-step batch alone and for
    stepping the env runner's vector env alone (:func:`agents.rllib.time_iterations`); the
    speed-ups (CPU) are relative to ``SyncVectorEnv``.  Torch runs one thread (the networks are
    tiny; more threads only contend for the cores).
    """
    _init_ray()
    rows = []
    for mode in ("vector_entry_point", "sync"):
        config = ppo_config(env_id, env_kwargs=env_kwargs, vectorize=mode, num_envs=num_envs,
                            train_batch_size=512, minibatch_size=128, num_epochs=4)
        rows.append({"env_id": env_id, "env_kwargs": env_kwargs, "vectorize": mode,
                     "num_envs": num_envs, **time_iterations(config, iterations=iterations, warmup=1)})
    base = rows[1]
    print(f"{'vectorize':<20} {'s/iter':>7} {'cpu/iter':>8} {'sample s':>8} {'cpu':>6} "
          f"{'env s':>6} {'cpu':>6} {'x cpu/iter':>10} {'x sample':>8} {'x env':>6}")
    for row in rows:
        row["speedup_cpu_iter"] = base["cpu_s_per_iter"] / row["cpu_s_per_iter"]
        row["speedup_sample_cpu"] = base["sample_cpu_s"] / row["sample_cpu_s"]
        row["speedup_env_cpu"] = base["env_cpu_s"] / row["env_cpu_s"]
        print(f"{row['vectorize']:<20} {row['s_per_iter']:7.2f} {row['cpu_s_per_iter']:8.2f} "
              f"{row['sample_s']:8.2f} {row['sample_cpu_s']:6.2f} {row['env_s']:6.2f} "
              f"{row['env_cpu_s']:6.2f} {row['speedup_cpu_iter']:9.2f}x {row['speedup_sample_cpu']:7.2f}x "
              f"{row['speedup_env_cpu']:5.2f}x")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        meta = {"ray": ray.__version__, "python": platform.python_version(),
                "machine": platform.machine(), "iterations": iterations,
                "load_avg_1min": os.getloadavg()[0], "cpus": os.cpu_count(), "torch_threads": 1}
        Path(out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
        print(f"wrote {out}")
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20_000)
    ap.add_argument("--env", default=None,
                    help="env id (default: Downlink-toy-v0; Downlink-medium-v0 for --bench)")
    ap.add_argument("--bench", action="store_true", help="time native vs SyncVectorEnv instead")
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--out", default=None, help="JSON file for --bench")
    ap.add_argument("--allocator", default=None, help="env allocator for --bench (default: the preset's)")
    args = ap.parse_args()
    if args.bench:
        kw = {"allocator": args.allocator} if args.allocator else {}
        bench(env_id=args.env or "leo_env/Downlink-medium-v0", iterations=args.iterations,
              out=args.out, **kw)
    else:
        main(args.steps, args.env or "leo_env/Downlink-toy-v0")
