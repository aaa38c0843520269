"""Scenario build benchmark.

``python -m benchmarks.scenarios [presets ...] [--seeds 5] [--out results/scenarios.json]``
(formerly ``python -m leo_env.scenario bench``, same options).

For every preset: the cold build (orbit geometry computed, numba kernels already compiled) and
the warm build (geometry cached: what an environment reset costs), median over seeds.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from leo_env.io import atomic_write_json
from leo_env.scenario import build
from leo_env.scenario.build import make_scenario
from leo_env.scenario.config import load_config

__all__ = ["run", "main", "DEFAULT_PRESETS"]

DEFAULT_PRESETS = ["toy", "medium", "stress", "europe-starlink", "europe-multishell"]


def _clear_geometry_cache() -> None:
    # the benchmark measures cold builds: it empties the builder's caches on purpose
    build.clear_caches()


def run(presets: list[str], seeds: int = 5, out: str | None = None) -> dict[str, Any]:
    """Time scenario builds and return (and optionally write) the results."""
    from rich.console import Console
    from rich.table import Table

    t0 = time.perf_counter()
    make_scenario("toy", seed=0)  # import + numba compile / cache load
    warmup_s = time.perf_counter() - t0
    rows: list[dict[str, Any]] = []
    for name in presets:
        _clear_geometry_cache()
        t0 = time.perf_counter()
        sc = make_scenario(name, seed=0)
        cold = time.perf_counter() - t0
        warm = []
        for seed in range(1, seeds + 1):
            t0 = time.perf_counter()
            make_scenario(name, seed=seed)
            warm.append(time.perf_counter() - t0)
        rows.append(
            {
                "preset": name,
                "S": sc.S,
                "C": sc.C,
                "K": sc.K,
                "M": sc.M,
                "satellites_propagated": _propagated(sc),
                "cold_build_s": cold,
                "warm_build_median_s": statistics.median(warm),
                "warm_build_max_s": max(warm),
            }
        )
    result = {
        "benchmark": "scenario_build",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''} cores={_cores()}".strip(),
        "python": platform.python_version(),
        "first_call_warmup_s": warmup_s,
        "seeds": seeds,
        "rows": rows,
    }
    table = Table(title="scenario build time")
    for col in (
        "preset",
        "S",
        "C",
        "K",
        "M",
        "propagated",
        "cold [s]",
        "warm median [s]",
        "warm max [s]",
    ):
        table.add_column(col, justify="right", no_wrap=True)
    for r in rows:
        table.add_row(
            r["preset"],
            str(r["S"]),
            str(r["C"]),
            str(r["K"]),
            str(r["M"]),
            str(r["satellites_propagated"]),
            f"{r['cold_build_s']:.3f}",
            f"{r['warm_build_median_s']:.4f}",
            f"{r['warm_build_max_s']:.4f}",
        )
    Console().print(table)
    if out:
        atomic_write_json(out, result)
        print(f"written {out}")
    return result


def _propagated(sc: Any) -> int:
    """Satellites propagated to build the scenario (the whole constellation for orbit presets)."""
    if sc.kind != "orbit":
        return sc.S
    _, names = build.orbit_source(load_config(sc.config))
    return len(names)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def main(argv: list[str] | None = None) -> int:
    """Command line: time the builds of the given presets and print / write the table."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.scenarios", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("presets", nargs="*", default=DEFAULT_PRESETS, help="preset names or YAML paths")
    p.add_argument("--seeds", type=int, default=5, help="warm builds per preset (seeds 1..N)")
    p.add_argument("--out", metavar="JSON", help="write the results here (atomically)")
    args = p.parse_args(argv)
    if args.seeds < 1:
        p.error(f"--seeds must be >= 1, got {args.seeds}")
    run(args.presets, seeds=args.seeds, out=args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
