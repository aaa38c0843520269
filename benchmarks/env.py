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
and reports the ratio of the means (``speedup_vs_nested_off``).  ``--p1-threads both`` does the
same for the P1 batch on helper threads (``speedup_vs_threads_off``; the default ``auto`` uses
them only while other processes leave a core idle).  ``--p1-baseline REV`` adds the P1 kernels of git revision
``REV`` as a same-run baseline (``speedup_vs_baseline``).  The 1-minute load average is
recorded before every case; each case also records this process's CPU time per step
(``cpu_us_per_step``: what the machine's load barely changes, threads' time included) and the
cores other processes kept busy meanwhile (``others_busy_cores``, from ``/proc/stat``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["bench_scalar", "bench_vector", "main", "TARGETS"]

TARGETS: dict[tuple[str, str], float] = {
    ("medium", "scalar"): 8_000.0,
    ("medium", "vector"): 20_000.0,
    ("europe-starlink", "scalar"): 1_000.0,
}
"""Throughput targets [env steps/s] on an idle machine (issue 18, part 2; they were 2,000 and
100 for the scalar cases before)."""


def _random_actions(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uniform allowed index per cell; ``mask`` (..., C, n)."""
    return np.where(mask, rng.random(mask.shape), -1.0).argmax(axis=-1)


def _cpu_sample() -> tuple[float, float, float, float]:
    """Wall clock [s], this process's CPU time [s], all CPUs' busy and total jiffies."""
    try:
        with open("/proc/stat", "rb") as fh:
            vals = [float(v) for v in fh.readline().split()[1:9]]
        busy, total = sum(vals) - vals[3] - vals[4], sum(vals)
    except (OSError, ValueError):  # pragma: no cover - no /proc/stat on this platform
        busy = total = float("nan")
    return time.perf_counter(), time.process_time(), busy, total


def _cpu_use(start: tuple[float, float, float, float], steps: int) -> dict[str, float]:
    """CPU time of this process per step [us] and the cores other processes kept busy."""
    end = _cpu_sample()
    wall = end[0] - start[0]
    own = end[1] - start[1]
    ncpu = os.cpu_count() or 1
    busy = ncpu * (end[2] - start[2]) / max(end[3] - start[3], 1e-9)
    return {"cpu_us_per_step": 1e6 * own / steps, "others_busy_cores": busy - own / wall}


def _warm_pool(env: Any, pool: int, seed: int) -> float:
    """Build every scenario of the pool once (fills the cache); mean build time [ms]."""
    src = env.source
    t0 = time.perf_counter()
    for s in range(src.seed_range[0], src.seed_range[0] + pool):
        src.get(seed=s)
    return 1e3 * (time.perf_counter() - t0) / pool


def bench_scalar(
    preset: str,
    allocator: str | Callable[..., Any] = "p1",
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
    cpu0 = _cpu_sample()
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
    cpu = _cpu_use(cpu0, steps)
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
        **cpu,
        "scenario_build_ms": build_ms,
        "S": env.scenario.S,
        "C": env.params.C,
        "K": env.params.K,
        "n_candidates": env.params.n,
    }


def bench_vector(
    preset: str,
    num_envs: int = 64,
    allocator: str | Callable[..., Any] = "p1",
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
    cpu0 = _cpu_sample()
    t0 = time.perf_counter()
    while True:
        vec.step(_random_actions(vec.action_masks().reshape(num_envs, C, -1), rng))
        calls += 1
        if time.perf_counter() - t0 >= seconds and calls >= 4:
            break
    wall = time.perf_counter() - t0
    alloc = vec.timing["allocator_s"]
    env_steps = calls * num_envs  # auto-reset steps included, as any vector env counts them
    cpu = _cpu_use(cpu0, env_steps)
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
        **cpu,
        "scenario_build_ms": build_ms,
        "C": C,
        "K": vec.params.K,
        "n_candidates": vec.params.n,
    }


def baseline_allocator(rev: str) -> Callable[..., Any]:
    """P1 allocator on the fast solver's kernels of git revision ``rev`` (same-run baselines).

    ``git show rev:oracles/p1/_kernels.py`` is loaded as a module of its own (compiled once,
    cached by numba under the system's temporary folder) and called like
    ``oracles.p1.fast.allocate`` with the default options; revisions whose ``allocate_kernel``
    has no ``check`` argument get the allocator's NumPy finiteness check of those revisions.
    """
    import importlib
    import inspect
    import subprocess
    import tempfile

    from leo_env.envs.downlink.allocators import Allocation
    from oracles.p1.fast import FAST_DEFAULTS as opt

    sha = subprocess.run(
        ["git", "rev-parse", rev], capture_output=True, text=True, check=True
    ).stdout.strip()
    src = subprocess.run(
        ["git", "show", f"{sha}:oracles/p1/_kernels.py"], capture_output=True, text=True, check=True
    ).stdout
    folder = Path(tempfile.gettempdir()) / "apex_p1_baseline"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"p1_kernels_{sha[:12]}"
    path = folder / f"{name}.py"
    if not path.exists() or path.read_text() != src:
        path.write_text(src)
    # a plain import (not a module built from a spec): numba's cache pickles the module name
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
    mod = importlib.import_module(name)
    kernel = mod.allocate_kernel
    has_check = "check" in inspect.signature(kernel.py_func).parameters

    def allocate(assoc, a, g, *, N_PRB, P_max, W_PRB, N0, T_f, eps=1e-4):  # noqa: N803
        if not has_check:
            assert all(
                bool(np.isfinite(v).all()) for v in (a, g, N_PRB, P_max, W_PRB, N0, T_f, eps)
            )
        a = np.ascontiguousarray(a, dtype=float)
        g = np.ascontiguousarray(g, dtype=float)
        if g.ndim == 3:
            g = g[..., None]
        args = (
            np.ascontiguousarray(assoc, dtype=np.int64),
            a,
            g,
            np.ascontiguousarray(N_PRB, dtype=float),
            np.ascontiguousarray(P_max, dtype=float),
            1.0 / (W_PRB * N0),
            T_f * W_PRB / np.log(2.0),
            float(eps),
            bool(opt["nested"]),
            float(opt["tol"]),
            float(opt["mu_factor"]),
            int(opt["max_iter"]),
            float(opt["target_gap"]),
        )
        xi, served = kernel(*args, True) if has_check else kernel(*args)
        return Allocation(xi, served)

    return allocate


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
        "threads",
        "steps/s",
        "target",
        "P1 share",
        "P1 us/step",
        "env us/step",
        "CPU us/step",
        "others",
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
            str(r.get("p1_threads", "auto")),
            f"{r['steps_per_s']:,.0f}",
            "-" if tgt is None else f"{tgt:,.0f}{ok}",
            f"{100 * r['allocator_share']:.0f} %",
            f"{r['allocator_us_per_step']:,.0f}",
            f"{r['env_us_per_step']:,.0f}",
            f"{r['cpu_us_per_step']:,.0f}",
            f"{r['others_busy_cores']:.1f}",
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
    ap.add_argument(
        "--p1-threads",
        default="auto",
        choices=["auto", "on", "off", "both"],
        help="P1 batch on helper threads (oracles.p1.fast.THREADS; 'auto': batches of >= 32 "
        "(item, satellite) pairs while other processes leave a core idle); 'both' times every "
        "case off and on in the same run",
    )
    ap.add_argument(
        "--p1-baseline",
        default=None,
        metavar="REV",
        help="also time the P1 allocator on the kernels of git revision REV (e.g. HEAD~1) in "
        "the same run, ABBA order, and report speedup_vs_baseline",
    )
    args = ap.parse_args(argv)
    import oracles.p1.fast as p1fast

    # every combination of the two switches; with a 'both', ABBA order (the combinations, then
    # again in reverse), so that a drift of the machine's load cancels in the ratios
    nested_v: list[Any] = {"on": [True], "off": [False], "both": [False, True]}[args.p1_nested]
    threads_choices: dict[str, list[Any]] = {
        "auto": ["auto"],
        "on": [True],
        "off": [False],
        "both": [False, True],
    }
    threads_v = threads_choices[args.p1_threads]
    variants: list[tuple[Any, Any]] = [(nv, tv) for nv in nested_v for tv in threads_v]
    base_alloc = None
    if args.p1_baseline is not None:
        if args.allocator != "p1":
            ap.error("--p1-baseline needs --allocator p1")
        base_alloc = baseline_allocator(args.p1_baseline)
        variants = [("baseline", "baseline"), *variants]
    if len(variants) > 1:
        variants = variants + variants[::-1]
    from leo_env.scenario import load_config

    rows = []
    default_nested = p1fast.FAST_DEFAULTS["nested"]
    default_threads = p1fast.THREADS
    load_start = os.getloadavg()
    for preset in args.presets:
        orbit = load_config(preset).kind == "orbit"
        for mode in args.modes:
            for nested, threads in variants:
                p1fast.FAST_DEFAULTS["nested"] = nested
                p1fast.THREADS = threads
                load0 = os.getloadavg()[0]
                is_base = nested == "baseline"
                alloc: Any = base_alloc if is_base else args.allocator
                if is_base:
                    p1fast.FAST_DEFAULTS["nested"] = default_nested
                try:
                    if mode == "scalar":
                        r = bench_scalar(preset, alloc, args.seconds, args.pool, args.seed)
                    else:
                        n = args.num_envs_large if orbit else args.num_envs
                        pool = min(args.pool, n) if orbit else max(args.pool, n)
                        r = bench_vector(preset, n, alloc, args.seconds, pool, args.seed)
                finally:
                    p1fast.FAST_DEFAULTS["nested"] = default_nested
                    p1fast.THREADS = default_threads
                if is_base:
                    r["allocator"] = f"p1@{args.p1_baseline}"
                r["p1_nested"] = default_nested if is_base else nested
                r["p1_threads"] = threads
                r["p1_baseline"] = is_base
                r["load_avg_1min"] = [load0, os.getloadavg()[0]]
                tgt = TARGETS.get((preset, mode))
                r["target_steps_per_s"] = tgt
                r["meets_target"] = None if tgt is None else bool(r["steps_per_s"] >= tgt)
                rows.append(r)
                print(
                    f"{preset:>16s} {mode:>6s} nested={nested!s:8s} threads={threads!s:8s}: "
                    f"{r['steps_per_s']:,.0f} steps/s (load {load0:.1f}, other processes "
                    f"{r['others_busy_cores']:.1f} cores)",
                    file=sys.stderr,
                )
            last = rows[-len(variants) :]
            if base_alloc is not None:
                old = float(np.mean([r["steps_per_s"] for r in last if r["p1_baseline"]]))
                for r in last:
                    r["speedup_vs_baseline"] = r["steps_per_s"] / old
                for tv in threads_v:
                    for nv in nested_v:
                        sel = [
                            r["steps_per_s"]
                            for r in last
                            if not r["p1_baseline"]
                            and r["p1_threads"] == tv
                            and r["p1_nested"] == nv
                        ]
                        print(
                            f"{'':>16s} {'':>6s} nested={nv!s} threads={tv!s} vs "
                            f"{args.p1_baseline} (ABBA means): {np.mean(sel) / old:.2f}x",
                            file=sys.stderr,
                        )
                last = [r for r in last if not r["p1_baseline"]]
            for key, name in (("p1_nested", "nested"), ("p1_threads", "threads")):
                if len({str(r[key]) for r in last}) < 2:
                    continue
                old = float(np.mean([r["steps_per_s"] for r in last if r[key] is False]))
                new = float(np.mean([r["steps_per_s"] for r in last if r[key] is True]))
                for r in last:
                    r[f"speedup_vs_{name}_off"] = new / old
                print(
                    f"{'':>16s} {'':>6s} {name} on/off (ABBA means): {new / old:.2f}x",
                    file=sys.stderr,
                )
    _print_table(rows)
    out = {
        "benchmark": "benchmarks.env",
        "command": "python -m benchmarks.env "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": _machine(),
        "load_avg_1min_5min_15min": {"start": list(load_start), "end": list(os.getloadavg())},
        "results": rows,
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
