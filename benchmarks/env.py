"""Environment throughput benchmark: ``python -m benchmarks.env --out results/env.json``.

Measures environment steps per second with random masked actions (env checker disabled) for
the scalar environment and the native vector environment on ``medium``, ``stress`` and
``europe-starlink``, and splits each step's time into the inner allocator (P1) and the
environment's own overhead (masks, observations, bookkeeping, resets).

Episodes resample their scenario on every reset from a pool of ``--pool`` training seeds;
the pool is built once before timing (scenario construction is a property of the scenario
builder and is reported separately as ``scenario_build_ms`` -- the cost of a reset that misses
the cache).

``--p1-nested both`` times every case with the P1 fast solver's interior point only (off) and
with its two-block prefix path (on, the default) in the same run, in the order off, on, on, off,
and reports the ratio of the means (``speedup_vs_nested_off``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["bench_scalar", "bench_vector", "main", "TARGETS"]

TARGETS: dict[tuple[str, str], float] = {
    ("medium", "scalar"): 2_000.0,
    ("medium", "vector"): 20_000.0,
    ("europe-starlink", "scalar"): 100.0,
}
"""Throughput targets [env steps/s] of the issue."""


def _random_actions(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uniform allowed index per cell; ``mask`` (..., C, n)."""
    return np.where(mask, rng.random(mask.shape), -1.0).argmax(axis=-1)


def _warm_pool(env: Any, pool: int, seed: int) -> float:
    """Build every scenario of the pool once (fills the cache); mean build time [ms]."""
    src = env.source
    t0 = time.perf_counter()
    for s in range(src.seed_range[0], src.seed_range[0] + pool):
        src.get(seed=s)
    return 1e3 * (time.perf_counter() - t0) / pool


def bench_scalar(
    preset: str,
    allocator: str = "p1",
    seconds: float = 3.0,
    pool: int = 8,
    seed: int = 0,
    **kw: Any,
) -> dict[str, Any]:
    """Scalar environment: steps/s with random masked actions, allocator share of the time."""
    from leo_env.envs import DownlinkEnv

    env = DownlinkEnv(
        preset, allocator=allocator, n_scenarios=pool, cache_size=max(pool, 1), cache_mb=1e5, **kw
    )
    build_ms = _warm_pool(env, pool, seed)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    for _ in range(3):  # compile / warm caches
        _, _, done, _, _ = env.step(_random_actions(env.action_mask_matrix(), rng))
        if done:
            env.reset()
    env.timing.update(steps=0, allocator_s=0.0)
    steps = resets = 0
    t_reset = 0.0
    t0 = time.perf_counter()
    while True:
        _, _, done, _, _ = env.step(_random_actions(env.action_mask_matrix(), rng))
        steps += 1
        if done:
            tr = time.perf_counter()
            env.reset()
            t_reset += time.perf_counter() - tr
            resets += 1
        if steps % 8 == 0 and time.perf_counter() - t0 >= seconds:
            break
    wall = time.perf_counter() - t0
    alloc = env.timing["allocator_s"]
    return {
        "preset": preset,
        "mode": "scalar",
        "num_envs": 1,
        "allocator": allocator,
        "steps": steps,
        "resets": resets,
        "seconds": wall,
        "steps_per_s": steps / wall,
        "allocator_share": alloc / wall,
        "allocator_us_per_step": 1e6 * alloc / steps,
        "env_us_per_step": 1e6 * (wall - alloc) / steps,
        "reset_ms_cached": 1e3 * t_reset / max(resets, 1),
        "scenario_build_ms": build_ms,
        "S": env.scenario.S,
        "C": env.params.C,
        "K": env.params.K,
        "n_candidates": env.params.n,
    }


def bench_vector(
    preset: str,
    num_envs: int = 64,
    allocator: str = "p1",
    seconds: float = 3.0,
    pool: int = 64,
    seed: int = 0,
    **kw: Any,
) -> dict[str, Any]:
    """Native vector environment: env steps/s (sum over sub-environments)."""
    from leo_env.envs import DownlinkVectorEnv

    vec = DownlinkVectorEnv(
        num_envs,
        preset,
        allocator=allocator,
        n_scenarios=pool,
        cache_size=max(pool, 1),
        cache_mb=1e5,
        **kw,
    )
    build_ms = _warm_pool(vec, pool, seed)
    rng = np.random.default_rng(seed)
    vec.reset(seed=seed)
    C = vec.params.C  # noqa: N806
    for _ in range(3):
        vec.step(_random_actions(vec.action_masks().reshape(num_envs, C, -1), rng))
    vec.timing.update(steps=0, env_steps=0, allocator_s=0.0)
    calls = 0
    t0 = time.perf_counter()
    while True:
        vec.step(_random_actions(vec.action_masks().reshape(num_envs, C, -1), rng))
        calls += 1
        if time.perf_counter() - t0 >= seconds and calls >= 4:
            break
    wall = time.perf_counter() - t0
    alloc = vec.timing["allocator_s"]
    env_steps = calls * num_envs  # auto-reset steps included, as any vector env counts them
    return {
        "preset": preset,
        "mode": "vector",
        "num_envs": num_envs,
        "allocator": allocator,
        "steps": env_steps,
        "played_slots": vec.timing["env_steps"],
        "batch_calls": calls,
        "seconds": wall,
        "steps_per_s": env_steps / wall,
        "allocator_share": alloc / wall,
        "allocator_us_per_step": 1e6 * alloc / env_steps,
        "env_us_per_step": 1e6 * (wall - alloc) / env_steps,
        "scenario_build_ms": build_ms,
        "C": C,
        "K": vec.params.K,
        "n_candidates": vec.params.n,
    }


def _machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
    }


def _print_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="leo_env throughput (random masked actions, env checker off)")
    for col in (
        "preset",
        "mode",
        "envs",
        "alloc",
        "nested",
        "steps/s",
        "target",
        "P1 share",
        "P1 us/step",
        "env us/step",
        "build ms",
    ):
        table.add_column(col, justify="right" if col not in ("preset", "mode", "alloc") else "left")
    for r in rows:
        tgt = TARGETS.get((r["preset"], r["mode"]))
        ok = "" if tgt is None else (" ok" if r["steps_per_s"] >= tgt else " MISS")
        table.add_row(
            r["preset"],
            r["mode"],
            str(r["num_envs"]),
            r["allocator"],
            "on" if r.get("p1_nested", True) else "off",
            f"{r['steps_per_s']:,.0f}",
            "-" if tgt is None else f"{tgt:,.0f}{ok}",
            f"{100 * r['allocator_share']:.0f} %",
            f"{r['allocator_us_per_step']:,.0f}",
            f"{r['env_us_per_step']:,.0f}",
            f"{r['scenario_build_ms']:.1f}",
        )
    Console(width=160).print(table)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.env", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    ap.add_argument("--presets", nargs="+", default=["medium", "stress", "europe-starlink"])
    ap.add_argument(
        "--modes", nargs="+", default=["scalar", "vector"], choices=["scalar", "vector"]
    )
    ap.add_argument("--num-envs", type=int, default=64, help="sub-environments of the vector env")
    ap.add_argument(
        "--num-envs-large",
        type=int,
        default=16,
        help="sub-environments for orbit presets (memory: ~0.1 GB each for europe-starlink)",
    )
    ap.add_argument("--allocator", default="p1", choices=["p1", "equal", "cvx"])
    ap.add_argument("--seconds", type=float, default=3.0, help="timed duration per case [s]")
    ap.add_argument(
        "--pool", type=int, default=8, help="scenario seeds per case (built before timing)"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--p1-nested",
        default="on",
        choices=["on", "off", "both"],
        help="P1 fast solver's free-prefix/uniform-suffix path before the interior point "
        "(oracles.p1.fast.FAST_DEFAULTS['nested']); 'both' times every case without, then "
        "with it, in the same run",
    )
    args = ap.parse_args(argv)
    from oracles.p1.fast import FAST_DEFAULTS

    # "both": ABBA order (off, on, on, off), so that a drift of the machine's load cancels
    variants = {"on": [True], "off": [False], "both": [False, True, True, False]}[
        args.p1_nested
    ]
    from leo_env.scenario import load_config

    rows = []
    default_nested = FAST_DEFAULTS["nested"]
    for preset in args.presets:
        orbit = load_config(preset).kind == "orbit"
        for mode in args.modes:
            for nested in variants:
                FAST_DEFAULTS["nested"] = nested
                try:
                    if mode == "scalar":
                        r = bench_scalar(preset, args.allocator, args.seconds, args.pool, args.seed)
                    else:
                        n = args.num_envs_large if orbit else args.num_envs
                        pool = min(args.pool, n) if orbit else max(args.pool, n)
                        r = bench_vector(preset, n, args.allocator, args.seconds, pool, args.seed)
                finally:
                    FAST_DEFAULTS["nested"] = default_nested
                r["p1_nested"] = nested
                tgt = TARGETS.get((preset, mode))
                r["target_steps_per_s"] = tgt
                r["meets_target"] = None if tgt is None else bool(r["steps_per_s"] >= tgt)
                rows.append(r)
                print(
                    f"{preset:>16s} {mode:>6s} nested={nested!s:5s}: "
                    f"{r['steps_per_s']:,.0f} steps/s",
                    file=sys.stderr,
                )
            if len(variants) > 1:
                last = rows[-len(variants) :]
                old = float(np.mean([r["steps_per_s"] for r in last if not r["p1_nested"]]))
                new = float(np.mean([r["steps_per_s"] for r in last if r["p1_nested"]]))
                for r in last:
                    r["speedup_vs_nested_off"] = new / old
                print(f"{'':>16s} {'':>6s} new/old (ABBA means): {new / old:.2f}x", file=sys.stderr)
    _print_table(rows)
    out = {
        "benchmark": "benchmarks.env",
        "command": "python -m benchmarks.env "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": _machine(),
        "results": rows,
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
