"""P2 benchmark: ``python -m benchmarks.p2 --preset stress --instances 5 --out results/p2.json``.

For every instance (seeds ``0 .. instances-1``) of three variants -- the preset as is, an
overloaded copy (``demand.scale``) and ``europe-starlink`` -- it solves

* separable proxy: full MILP (HiGHS), exact DP, rolling window (MILP windows, value
  look-ahead) and the myopic APEX-style rolling window (no look-ahead);
* coupled proxy: full MILP (HiGHS, tangent envelope), Lagrangian DP, and the MILP again
  warm-started from the Lagrangian solution (an independent check of its quality);

(``europe-starlink``: no rolling windows and no warm-started MILP), and scores every association
exactly with fast P1 in every slot (:func:`oracles.p2.evaluate`).
Gaps are relative to the MILP's proxy objective, ``(obj_milp - obj) / |obj_milp|`` (negative:
better than the MILP), speedups are ``time_milp / time``.  A rich table is printed and JSON
(plus a Markdown table) written atomically.

Instances are independent tasks of :func:`leo_env.parallel.pmap_cached` (``--backend
serial|process|ray``, ``--workers N``, ``--address ADDR``): each worker receives the instance's
settings, and its result is written atomically to ``<out stem>.parts/<variant>__<seed>.json``, so
a rerun with the same settings skips the instances already solved.  Objectives, gaps and
statuses do not depend on the backend; solve times do when workers share cores (the default
``serial`` times one solve at a time; keep ``--workers`` at most the number of idle cores).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.calibrate import atomic_write_text

__all__ = ["main", "run_instance", "ALL_METHODS"]

ALL_METHODS = ("sep-milp", "dp", "rolling", "rolling-myopic", "cpl-milp", "lagrangian", "cpl-milp-warm")
#: optional Lagrangian variants (not in the default run): the subgradient-only bound, the
#: price-and-branch primal (integer restricted master as a large-neighbourhood repair), and the
#: bound strengthened by per-pool integral subsets (oracles.p2.decomp): pool-hull cuts in the
#: Dantzig-Wolfe master, or the Lagrangian-decomposition master; and the branch-and-price dive
#: primal (oracles.p2.bnp)
EXTRA_METHODS = ("lagrangian-subgradient", "lagrangian-pb", "lagrangian-cuts", "lagrangian-ld", "lagrangian-dive",
                 "lagrangian-window")
#: europe-starlink: no rolling windows (each window is itself a large MILP)
LARGE_METHODS = ("sep-milp", "dp", "cpl-milp", "lagrangian") + EXTRA_METHODS


def _warm_up() -> float:
    """Compile the numba kernels on a tiny instance; returns the time it took [s]."""
    from oracles.p2 import solve
    from oracles.p2.synthetic import random_problem

    t0 = time.perf_counter()
    prob = random_problem(np.random.default_rng(0), S=3, C=4, K=6, H=2, load=3.0)
    solve(prob, method="dp")
    solve(prob.replace(proxy="coupled"), method="lagrangian", max_iter=5)
    return time.perf_counter() - t0


def _child(conn: Any, prob: Any, method: str, opts: dict[str, Any]) -> None:  # pragma: no cover
    from oracles.p2 import solve

    try:
        conn.send(("ok", solve(prob, method=method, **opts)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("error", repr(exc)))
    conn.close()


def _solve_guarded(prob: Any, method: str, opts: dict[str, Any], wall_s: float | None) -> Any:
    """Solve in a child process with a hard wall-clock limit (HiGHS can overrun its own).

    The child is *spawned*, not forked: a forked child inherits the parent's numba and HiGHS
    worker threads in whatever lock state they were, and hung until the hard limit killed it.
    """
    from oracles.p2 import solve
    from oracles.p2.result import infeasible_result

    if wall_s is None:
        return solve(prob, method=method, **opts)
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    t0 = time.perf_counter()
    proc = ctx.Process(target=_child, args=(child, prob, method, opts), daemon=True)
    proc.start()
    child.close()
    got = parent.recv() if parent.poll(wall_s) else None
    proc.join(timeout=5)
    if proc.is_alive():
        proc.kill()
        proc.join()
    if got is None:
        return infeasible_result(
            prob, f"no result within the hard wall-clock limit of {wall_s:.0f} s (process killed)",
            method, time.perf_counter() - t0, status="no_solution",
        )
    if got[0] == "error":
        raise RuntimeError(f"{method} failed: {got[1]}")
    return got[1]


def run_instance(
    preset: str,
    seed: int,
    overrides: list[str],
    *,
    milp_time: float,
    lagrangian_time: float,
    window: int,
    step: int,
    threads: int | None,
    evaluate_exact: bool,
    methods: tuple[str, ...] = ALL_METHODS,
) -> dict[str, Any]:
    """Solve one instance with every method; plain data."""
    import leo_env
    from oracles.p2 import Problem, evaluate

    t0 = time.perf_counter()
    sc = leo_env.make_scenario(preset, seed=seed, overrides=overrides)
    build = time.perf_counter() - t0
    ps = Problem.from_scenario(sc, proxy="separable")
    pc = Problem.from_scenario(sc, proxy="coupled")
    ok, msg = ps.feasibility()
    info: dict[str, Any] = {
        "preset": preset, "seed": seed, "overrides": overrides, "scenario_build_s": build,
        **ps.describe(), "feasible": ok, "message": msg,
        "min_handovers_total": int(ps.min_handovers.sum()),
    }
    milp_opts: dict[str, Any] = {"time_limit": milp_time}
    if threads is not None:
        milp_opts["threads"] = threads
    plan = {
        "sep-milp": (ps, "milp", milp_opts),
        "dp": (ps, "dp", {}),
        "rolling": (ps, "rolling", {"window": window, "step": step, "inner": "milp",
                                    "inner_options": {"time_limit": milp_time}}),
        "rolling-myopic": (ps, "rolling", {"window": window, "step": step, "inner": "milp",
                                           "lookahead": "none",
                                           "inner_options": {"time_limit": milp_time}}),
        "cpl-milp": (pc, "milp", milp_opts),
        "lagrangian": (pc, "lagrangian", {"time_limit": lagrangian_time}),
        "lagrangian-subgradient": (pc, "lagrangian", {"time_limit": lagrangian_time, "dual": "subgradient"}),
        "lagrangian-pb": (pc, "lagrangian", {"time_limit": 2 * lagrangian_time, "primal": "price_and_branch"}),
        "lagrangian-cuts": (pc, "lagrangian", {"time_limit": 2 * lagrangian_time, "relaxation": "pool_cuts"}),
        "lagrangian-ld": (pc, "lagrangian", {"time_limit": 2 * lagrangian_time, "relaxation": "decomposition"}),
        "lagrangian-dive": (pc, "lagrangian", {"time_limit": 2 * lagrangian_time, "primal": "dive"}),
        "lagrangian-window": (pc, "lagrangian", {"time_limit": 2 * lagrangian_time, "relaxation": "window",
                                                 "dec_time_share": 0.8}),
        "cpl-milp-warm": (pc, "milp", {**milp_opts, "warm_start": "lagrangian"}),
    }
    results: dict[str, Any] = {}
    for name in methods:
        prob, method, opts = plan[name]
        wall = 1.5 * milp_time + 60.0 if method == "milp" else None
        res = _solve_guarded(prob, method, opts, wall)
        ev = evaluate(prob, res.x) if (evaluate_exact and res.feasible) else None
        entry = res.summary()
        # planned associations have no emergencies: violations = handovers beyond the budgets
        entry["budget_violations"] = int(np.maximum(0, res.handovers - prob.budget).sum()) if res.feasible else None
        if ev is not None:
            entry["exact"] = ev.summary()
        results[name] = entry
    _relate(results, info)
    return {"instance": info, "methods": results}


def _instance_task(
    preset: str, seed: int, overrides: list[str], milp_time: float, lagrangian_time: float, window: int, step: int,
    threads: int | None, evaluate_exact: bool, methods: list[str],
) -> dict[str, Any]:
    """Worker task: :func:`run_instance` from plain settings, as plain JSON data."""
    r = run_instance(preset, seed, overrides, milp_time=milp_time, lagrangian_time=lagrangian_time, window=window,
                     step=step, threads=threads, evaluate_exact=evaluate_exact, methods=tuple(methods))
    return json.loads(json.dumps(r, default=_json_default))


def _relate(results: dict[str, Any], info: dict[str, Any]) -> None:
    """Gaps / speedups against the MILP of the same proxy."""
    for ref, names in (("sep-milp", ("dp", "rolling", "rolling-myopic")), ("cpl-milp", ("lagrangian", "cpl-milp-warm") + EXTRA_METHODS)):
        r = results.get(ref)
        if r is None or r["status"] not in ("optimal", "feasible"):
            continue
        for n in names:
            e = results.get(n)
            if e is None or e["status"] not in ("optimal", "feasible"):
                continue
            e["gap_vs_milp"] = (r["objective"] - e["objective"]) / max(abs(r["objective"]), 1e-12)
            e["speedup_vs_milp"] = r["solve_time_s"] / max(e["solve_time_s"], 1e-12)
            e["extra_handovers_vs_milp"] = (
                e["handovers_total"] / max(r["handovers_total"], 1) - 1.0
            )
            if "exact" in e and "exact" in r:
                e["exact_utility_diff_vs_milp"] = e["exact"]["utility"] - r["exact"]["utility"]


def _median(vals: list[float]) -> float | None:
    vals = [v for v in vals if v is not None and np.isfinite(v)]
    return float(np.median(vals)) if vals else None


def _summarise(instances: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    names = instances[0]["methods"].keys()
    for n in names:
        rows = [inst["methods"][n] for inst in instances]
        s: dict[str, Any] = {
            "statuses": [r["status"] for r in rows],
            "median_time_s": _median([r["solve_time_s"] for r in rows]),
            "max_time_s": float(max(r["solve_time_s"] for r in rows)),
            "median_objective": _median([r["objective"] for r in rows]),
            "median_handovers": _median([r["handovers_total"] for r in rows]),
            "budget_violations_total": int(sum(r.get("budget_violations") or 0 for r in rows)),
        }
        for key in ("gap_vs_milp", "speedup_vs_milp", "extra_handovers_vs_milp", "gap", "mip_gap",
                    "exact_utility_diff_vs_milp"):
            vals = [r.get(key) for r in rows]
            if any(v is not None for v in vals):
                s[f"median_{key}"] = _median(vals)
                s[f"max_{key}"] = float(max(v for v in vals if v is not None))
                s[f"min_{key}"] = float(min(v for v in vals if v is not None))
        ex = [r["exact"] for r in rows if "exact" in r]
        if ex:
            s["median_exact_utility"] = _median([e["utility"] for e in ex])
            s["exact_budget_violations_total"] = int(sum(e["budget_violations"] for e in ex))
            s["exact_emergencies_total"] = int(sum(e["emergencies"] for e in ex))
            s["median_exact_jain_cells"] = _median([e["jain_cells"] for e in ex])
        out[n] = s
    return out


def _fmt(x: Any, pct: bool = False, nd: int = 3) -> str:
    if x is None:
        return "-"
    if pct:
        return f"{100 * x:.{nd}f} %"
    if isinstance(x, float):
        return f"{x:.{nd}g}"
    return str(x)


def _rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for vname, v in report["variants"].items():
        for m, s in v["summary"].items():
            rows.append([
                vname, m, ",".join(sorted(set(s["statuses"]))), _fmt(s["median_time_s"]),
                _fmt(s.get("median_speedup_vs_milp"), nd=3),
                _fmt(s.get("median_gap_vs_milp"), pct=True),
                _fmt(s.get("max_gap"), pct=True) if "max_gap" in s else "-",
                _fmt(s["median_handovers"]), _fmt(s.get("median_extra_handovers_vs_milp"), pct=True, nd=1),
                _fmt(s.get("median_exact_utility"), nd=6),
                str(s["budget_violations_total"] + s.get("exact_budget_violations_total", 0)),
            ])
    return rows


HEADER = ["variant", "method", "status", "median time [s]", "speedup vs MILP", "gap vs MILP",
          "max certified gap", "handovers", "extra HO vs MILP", "exact P1 utility", "budget viol."]


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="P2 benchmark (medians over instances)")
    for h in HEADER:
        t.add_column(h)
    for r in _rows(report):
        t.add_row(*r)
    Console().print(t)


def _markdown(report: dict[str, Any]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in _rows(report)]
    return "\n".join(lines) + "\n"


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def cell_cutout(prob: Any, lat_deg: float, lon_deg: float, n: int) -> Any:
    """The ``n`` cells of ``prob`` nearest ``(lat_deg, lon_deg)`` with every satellite that sees one.

    Same demand, budgets, radio and horizon as ``prob`` (the cells' neighbours outside the
    cut-out are gone, so its pools are less contested than the full instance's).
    """
    from oracles.p2 import Problem

    if prob.scenario is None:
        raise ValueError("prob must come from a scenario (cell positions)")
    if not 1 <= n <= prob.C:
        raise ValueError(f"n must be in [1, {prob.C}], got {n}")
    ll = np.asarray(prob.scenario.cell_latlon_deg, dtype=float)
    d = np.hypot(ll[:, 0] - lat_deg, (ll[:, 1] - lon_deg) * np.cos(np.radians(lat_deg)))
    cells = np.sort(np.argsort(d, kind="stable")[:n])
    v = prob.v[:, cells]
    keep = v.any(axis=(1, 2))
    return Problem.from_arrays(
        v[keep], prob.g[keep][:, cells], prob.a[cells], prob.budget[cells], N_PRB=prob.N_PRB[keep],
        P_max=prob.P_max[keep], W_PRB=prob.W_PRB, N0=prob.N0, T_f=prob.T_f, eps=prob.eps,
        lambda_h=prob.lambda_h, proxy="coupled", initial=prob.initial[cells],
    )


def run_cutouts(preset: str, cutouts: list[str], *, lagrangian_time: float, dive_time: float, milp_time: float,
                out: Path) -> dict[str, Any]:
    """Gap diagnosis on cell cut-outs (seed 0): DW bound, Lagrangian primal, dive primal, MILP bound.

    Objectives are also given in handover equivalents, ``(C K log(1 + eps) - value) / lambda_h``
    (every cell fully served costs nothing, each handover one unit).
    """
    import leo_env
    from oracles.p2 import Problem, solve

    full = Problem.from_scenario(leo_env.make_scenario(preset, seed=0), proxy="coupled")
    rows = []
    for spec in cutouts:
        lat, lon, n = (float(x) for x in spec.split(","))
        q = cell_cutout(full, lat, lon, int(n))
        top = q.C * q.K * float(np.log1p(q.eps))

        def heq(val: float, q: Any = q, top: float = top) -> float:
            return (top - val) / q.lambda_h

        lag = solve(q, "lagrangian", time_limit=lagrangian_time)
        dive = solve(q, "lagrangian", time_limit=lagrangian_time + dive_time, primal="dive")
        row: dict[str, Any] = {
            "cutout": spec, "cells": q.C, "satellites": q.S, "K": q.K, "min_handovers": int(q.min_handovers.sum()),
            "dw_bound": lag.bound, "lagrangian": lag.objective, "lagrangian_time_s": lag.solve_time_s,
            "dive": dive.objective, "dive_bound": dive.bound, "dive_time_s": dive.solve_time_s,
            "dive_info": {k: v for k, v in dive.info.items() if k.startswith(("dive", "column_dive"))},
        }
        best = max(lag.objective, dive.objective)
        bound = min(lag.bound, dive.bound)
        if milp_time > 0:
            warm = lag.assoc if lag.objective >= dive.objective else dive.assoc
            m = _solve_guarded(q, "milp", {"time_limit": milp_time, "warm_start": warm, "mip_rel_gap": 1e-6,
                                          "threads": 1}, milp_time + 120.0)
            row.update(milp_bound=m.bound, milp_objective=m.objective, milp_status=m.status,
                       milp_time_s=m.solve_time_s)
            if m.bound is not None and np.isfinite(m.bound):
                bound = min(bound, float(m.bound))
            if np.isfinite(m.objective):
                best = max(best, float(m.objective))
        row.update(best_bound=bound, best_primal=best,
                   heq={"dw_bound": heq(lag.bound), "lagrangian": heq(lag.objective), "dive": heq(dive.objective),
                        "best_bound": heq(bound), "best_primal": heq(best)},
                   primal_share=(best - lag.objective) / max(1e-12, lag.bound - lag.objective))
        rows.append(row)
        h = row["heq"]
        print(f"{spec}: {q.C} cells, {q.S} sats, min {row['min_handovers']} | handover equivalents: "
              f"DW bound {h['dw_bound']:.2f}, best bound {h['best_bound']:.2f}, lagrangian {h['lagrangian']:.2f}, "
              f"dive {h['dive']:.2f}, best primal {h['best_primal']:.2f} | gap closed by a better primal "
              f"{100 * row['primal_share']:.0f} %", flush=True)
    report = {"preset": preset, "cutouts": rows, "meta": {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"), "python": platform.python_version()}}
    atomic_write_text(out, json.dumps(report, indent=1, default=_json_default, allow_nan=True))
    print(f"wrote {out}")
    return report


def main(argv: list[str]) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.p2", description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="stress")
    ap.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                    help="scenario override for --preset and its overloaded copy (repeatable), "
                         "e.g. a cut-out: region.lat_min=46")
    ap.add_argument("--instances", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("results/p2.json"))
    ap.add_argument("--overload-scale", type=float, default=3.0,
                    help="demand.scale of the overloaded variant (0: skip it)")
    ap.add_argument("--europe-instances", type=int, default=1, help="europe-starlink seeds (0: skip)")
    ap.add_argument("--milp-time", type=float, default=60.0, help="HiGHS time limit per MILP [s]")
    ap.add_argument("--europe-milp-time", type=float, default=120.0,
                    help="HiGHS time limit per europe-starlink MILP [s]")
    ap.add_argument("--lagrangian-time", type=float, default=60.0)
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--step", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="HiGHS threads")
    ap.add_argument("--no-evaluate", action="store_true", help="skip the exact P1 scoring")
    ap.add_argument("--methods", nargs="+", default=None, help="subset of methods to run")
    ap.add_argument("--backend", choices=("serial", "process", "ray"), default="serial",
                    help="where the instances run (solve times are only comparable when serial)")
    ap.add_argument("--workers", type=int, default=None, help="worker processes / Ray CPUs")
    ap.add_argument("--address", default=None, help="Ray cluster to join (auto, ray://host:10001)")
    ap.add_argument("--cutout", action="append", default=[], metavar="LAT,LON,N",
                    help="gap diagnosis instead of the benchmark: the N cells of --preset (seed 0) nearest "
                         "(LAT, LON) [deg], full horizon (repeatable); --milp-time 0 skips HiGHS")
    ap.add_argument("--dive-time", type=float, default=30.0,
                    help="--cutout: time of the dive after the Lagrangian stages [s]")
    args = ap.parse_args(argv)
    if args.cutout:
        _warm_up()
        run_cutouts(args.preset, args.cutout, lagrangian_time=args.lagrangian_time, dive_time=args.dive_time,
                    milp_time=args.milp_time, out=args.out)
        return 0
    if args.workers is not None and args.workers < 1:
        ap.error(f"--workers must be >= 1, got {args.workers}")

    compile_s = _warm_up()
    methods = tuple(args.methods) if args.methods else ALL_METHODS
    name = args.preset + ("-cutout" if args.override else "")
    variants: list[tuple[str, str, list[str], int, float, tuple[str, ...]]] = [
        (name, args.preset, list(args.override), args.instances, args.milp_time, methods)
    ]
    if args.overload_scale > 0:
        variants.append((f"{name}-overloaded", args.preset,
                         [*args.override, f"demand.scale={args.overload_scale}"], args.instances, args.milp_time,
                         methods))
    if args.europe_instances > 0:
        variants.append(("europe-starlink", "europe-starlink", [], args.europe_instances,
                         args.europe_milp_time, tuple(m for m in methods if m in LARGE_METHODS)))
    report: dict[str, Any] = {"variants": {}}
    t0 = time.perf_counter()
    tasks, names = [], []
    for vname, preset, overrides, n, milp_time, meths in variants:
        for seed in range(n):
            tasks.append((preset, seed, overrides, milp_time, args.lagrangian_time, args.window, args.step,
                          args.threads, not args.no_evaluate, list(meths)))
            names.append((vname, seed))
    from leo_env.parallel import pmap_cached

    parts = args.out.with_suffix(".parts")
    results = pmap_cached(
        _instance_task, tasks, [parts / f"{v}__{s}.json" for v, s in names],
        [{"variant": v, "task": list(t)} for (v, _), t in zip(names, tasks, strict=True)],
        backend=args.backend, workers=args.workers, address=args.address, desc="P2 instances", retries=0,
    )
    for (vname, seed), r in zip(names, results, strict=True):
        print(f"{vname} seed {seed}: " + ", ".join(
            f"{m} {e['objective']:.4f} ({e['status']}, {e['solve_time_s']:.2f} s)"
            for m, e in r["methods"].items()), flush=True)
    for vname, *_ in variants:
        insts = [r for (v, _), r in zip(names, results, strict=True) if v == vname]
        report["variants"][vname] = {"instances": insts, "summary": _summarise(insts)}
    report["meta"] = {
        "command": "python -m benchmarks.p2 " + " ".join(argv),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "machine": platform.machine(),
        "numba_compile_s": compile_s, "wall_time_s": time.perf_counter() - t0,
        "parallel": {"backend": args.backend, "workers": args.workers, "address": args.address},
        "gap_definition": "(objective_milp - objective) / |objective_milp| on the proxy objective",
        "certified_gap_definition": "(bound - objective) / max(1, |objective|)",
    }
    atomic_write_text(args.out, json.dumps(report, indent=1, default=_json_default, allow_nan=True))
    atomic_write_text(args.out.with_suffix(".md"), _markdown(report))
    _print(report)
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
