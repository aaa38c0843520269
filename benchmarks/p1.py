"""Benchmark of the P1 oracles: fast exact solver vs the CVXPY + Clarabel reference.

``python -m benchmarks.p1 --out results/p1.json [--instances 50] [--quick]``

Cases (instances from :func:`oracles.p1.instances.random_instance`, seeded):

- ``medium-overloaded`` -- APEX's medium overloaded case: S=4, C=10, M=20, N_PRB=100,
  P_max=100 W, arrivals uniform in [1e3, 2e4] bit per fast slot with demand-channel mismatch,
  equal-share SNR uniform in [-30, -10] dB (mean satisfaction ~0.14).  The targets apply here.
- ``toy``, ``stress`` -- APEX's toy (S=2, C=5) and stress (S=8, C=30) sizes, overloaded.
- ``medium-transition``, ``medium-underloaded`` -- other load regimes.
- ``medium-backloaded`` -- arrivals growing as m^3 and absent from the first third of the
  slow slot: causality binds.
- ``medium-fading`` -- Rayleigh fading per fast slot.
- ``large-batch`` -- S=64, C=500, M=20, fast solver only, time per call.

Per instance the fast solver is timed as a single call (median of ``--repeats`` calls, after a
warm-up that compiles the numba kernels), the reference as its ``problem.solve`` call on the
cached DPP problem (CVXPY overhead included) at tight Clarabel tolerances
(:data:`oracles.p1.cvx.TIGHT_CLARABEL`).  The relative gap is
``max(0, U_ref - U_fast) / |U_ref|`` with both utilities recomputed from the returned
allocations.  The previous path of the fast solver (``nested=False``: the interior point
wherever uniform prices do not settle a satellite) is timed on every instance in the same run
(``old``); ``split sats`` counts the satellites settled by the free-prefix / priced-prefix
path instead, ``stair sats`` those settled by the two-block staircase search.  Outputs (written atomically): JSON, CSV (per instance), Markdown, PNG.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import io
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

TARGETS = {
    "gap_median": 1e-5,
    "gap_p95": 1e-4,
    "certified_gap_max": 1e-6,
    "speedup_median": 100.0,
    "max_constraint_violation": 1e-9,
    "large_batch_time_s": 0.050,
}
APEX = {"gap_median": 3.8e-4, "gap_p95": 1.1e-2, "speedup_median_vs_mosek": 71.9}
GAP_TARGET = 1e-6  # per-instance disagreement above which an instance is flagged


@dataclass(frozen=True)
class Case:
    """One benchmark case."""

    name: str
    S: int
    C: int
    M: int
    regime: str = "overloaded"
    arrivals: str = "uniform"
    fading: bool = False
    reference: bool = True
    instances: int | None = None  # default: --instances


CASES = [
    Case("medium-overloaded", 4, 10, 20),
    Case("toy", 2, 5, 10, instances=20),
    Case("stress", 8, 30, 10, instances=10),
    Case("medium-transition", 4, 10, 20, regime="transition", instances=20),
    Case("medium-underloaded", 4, 10, 20, regime="underloaded", instances=20),
    Case("medium-backloaded", 4, 10, 20, arrivals="backloaded", instances=20),
    Case("medium-fading", 4, 10, 20, fading=True, instances=20),
    Case("large-batch", 64, 500, 20, reference=False, instances=5),
]


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _q(x: np.ndarray, q: float) -> float:
    return float(np.quantile(x, q)) if len(x) else float("nan")


def _reference(kw: dict[str, Any], tight: bool, warm: bool) -> tuple[Any, str]:
    """Reference solve; on a solver failure retry at default tolerances (noted in the status)."""
    from oracles.p1 import solve
    from oracles.p1.cvx import P1SolverError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if warm:
            try:
                solve(**kw, method="cvx", tight=tight)  # DPP compilation
            except P1SolverError:
                pass
        try:
            return solve(**kw, method="cvx", tight=tight), ""
        except P1SolverError:
            if not tight:
                raise
        return solve(**kw, method="cvx"), " (tight failed; default tolerances)"


def run_case(
    case: Case, n_inst: int, seed_seq: np.random.SeedSequence, repeats: int, tight: bool
) -> dict[str, Any]:
    """Run one case; returns its summary and per-instance rows."""
    from oracles.p1 import solve
    from oracles.p1.instances import random_instance

    rows = []
    children = seed_seq.spawn(n_inst)
    for i, child in enumerate(children):
        inst = random_instance(
            np.random.default_rng(child),
            S=case.S,
            C=case.C,
            M=case.M,
            regime=case.regime,
            arrivals=case.arrivals,
            fading=case.fading,
        )
        kw = inst.kwargs()
        if i == 0:
            solve(**kw)  # compile / load the numba kernels
        # the previous path (interior point wherever the uniform prices do not settle a
        # satellite) is timed in the same run, interleaved, after one warm call of each
        solve(**kw)
        solve(**kw, nested=False)
        times = []
        times_old = []
        fast = old = None
        for _ in range(repeats):
            t0 = time.perf_counter()
            fast = solve(**kw)
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            old = solve(**kw, nested=False)
            times_old.append(time.perf_counter() - t0)
        assert fast is not None
        assert old is not None
        path = np.asarray(fast.info["path"])
        row: dict[str, Any] = {
            "case": case.name,
            "instance": i,
            "seed_entropy": str(child.entropy),
            "spawn_key": list(child.spawn_key),
            "S": case.S,
            "C": case.C,
            "M": case.M,
            "U_fast": float(fast.utility),
            "bound_fast": float(fast.bound),
            "certified_gap": float(fast.gap),
            "fast_status": fast.status,
            "fast_time_s": float(np.median(times)),
            "fast_iterations": int(fast.iterations),
            "satellites_closed_form": int((path == 1).sum()),
            "satellites_split": int((path == 5).sum()),
            "satellites_staircase": int((path == 6).sum()),
            "satellites_interior_point": int(((path >= 2) & (path <= 3)).sum()),
            "fast_old_time_s": float(np.median(times_old)),
            "certified_gap_old": float(old.gap),
            "U_fast_old": float(old.utility),
            "max_violation": float(fast.max_violation),
            "mean_xi": float(np.nanmean(fast.xi)) if np.isfinite(fast.xi).any() else 1.0,
        }
        if case.reference:
            ref, note = _reference(kw, tight, warm=i == 0)
            u_ref = float(ref.utility)
            row.update(
                {
                    "U_ref": u_ref,
                    "ref_status": ref.status + note,
                    "ref_form": str(ref.info["form"]),
                    "ref_time_s": float(ref.info["cvx_solve_time_s"]),
                    "ref_iterations": int(ref.iterations),
                    "ref_certified_gap": float(ref.gap),
                    "ref_max_violation_raw": float(ref.info["raw_violation"]),
                    "gap": max(0.0, u_ref - row["U_fast"]) / abs(u_ref),
                    "signed_diff": (row["U_fast"] - u_ref) / abs(u_ref),
                }
            )
            row["speedup"] = row["ref_time_s"] / row["fast_time_s"]
        rows.append(row)
    return {"case": case, "rows": rows}


def summarise(case: Case, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Summary statistics of one case."""
    col = {k: np.array([r[k] for r in rows]) for k in rows[0] if not isinstance(rows[0][k], list)}
    out: dict[str, Any] = {
        "case": case.name,
        "S": case.S,
        "C": case.C,
        "M": case.M,
        "regime": case.regime,
        "arrivals": case.arrivals,
        "fading": case.fading,
        "instances": len(rows),
        "fast_time_median_s": float(np.median(col["fast_time_s"])),
        "fast_time_max_s": float(np.max(col["fast_time_s"])),
        "max_constraint_violation": float(np.max(col["max_violation"])),
        "certified_gap_median": float(np.median(col["certified_gap"])),
        "certified_gap_max": float(np.max(col["certified_gap"])),
        "fast_statuses": sorted({str(v) for v in col["fast_status"].tolist()}),
        "mean_satisfaction": float(np.mean(col["mean_xi"])),
        "share_satellites_interior_point": float(
            col["satellites_interior_point"].sum()
            / max(
                1,
                (
                    col["satellites_interior_point"]
                    + col["satellites_closed_form"]
                    + col["satellites_split"]
                    + col["satellites_staircase"]
                ).sum(),
            )
        ),
        "satellites_split": int(col["satellites_split"].sum()),
        "satellites_staircase": int(col["satellites_staircase"].sum()),
        "satellites_interior_point": int(col["satellites_interior_point"].sum()),
        "fast_old_time_median_s": float(np.median(col["fast_old_time_s"])),
        "speedup_vs_nested_off_median": float(
            np.median(col["fast_old_time_s"] / col["fast_time_s"])
        ),
        "certified_gap_max_old": float(np.max(col["certified_gap_old"])),
        "max_rel_utility_change_vs_old": float(
            np.max(np.abs(col["U_fast"] - col["U_fast_old"]) / np.abs(col["U_fast_old"]))
        ),
        "share_instances_closed_form_only": float(np.mean(col["satellites_interior_point"] == 0)),
    }
    if case.reference:
        gap = col["gap"]
        sp = col["speedup"]
        out.update(
            {
                "gap_median": float(np.median(gap)),
                "gap_p95": _q(gap, 0.95),
                "gap_max": float(np.max(gap)),
                "fast_better_than_ref": int((col["signed_diff"] > 0).sum()),
                "outliers_over_1e-6": [int(r["instance"]) for r in rows if r["gap"] > GAP_TARGET],
                "speedup_median": float(np.median(sp)),
                "speedup_p05": _q(sp, 0.05),
                "ref_time_median_s": float(np.median(col["ref_time_s"])),
                "ref_statuses": [str(v) for v in col["ref_status"].tolist()],
                "ref_status_counts": {
                    str(s): int((col["ref_status"] == s).sum())
                    for s in sorted(set(col["ref_status"].tolist()))
                },
                "max_fast_advantage": float(np.max(col["signed_diff"])),
                "ref_certified_gap_median": float(np.median(col["ref_certified_gap"])),
                "ref_raw_violation_max": float(np.max(col["ref_max_violation_raw"])),
            }
        )
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if v != v:
            return "-"
        if v == 0:
            return "0"
        return f"{v:.2e}" if abs(v) < 1e-2 or abs(v) >= 1e4 else f"{v:.3g}"
    return str(v)


TABLE_COLS = [
    ("case", "case"),
    ("instances", "n"),
    ("mean_satisfaction", "mean xi"),
    ("gap_median", "gap med"),
    ("gap_p95", "gap p95"),
    ("gap_max", "gap max"),
    ("certified_gap_max", "cert. gap max"),
    ("speedup_median", "speedup med"),
    ("speedup_p05", "speedup p05"),
    ("ref_time_median_s", "ref t med [s]"),
    ("fast_time_median_s", "fast t med [s]"),
    ("max_constraint_violation", "max viol"),
    ("share_satellites_interior_point", "IPM share"),
    ("satellites_split", "split sats"),
    ("satellites_staircase", "stair sats"),
    ("certified_gap_max_old", "cert. gap max (old)"),
    ("fast_old_time_median_s", "old t med [s]"),
    ("speedup_vs_nested_off_median", "new/old speed"),
]


def markdown_table(summaries: list[dict[str, Any]]) -> str:
    """Summary table as GitHub Markdown."""
    head = "| " + " | ".join(h for _, h in TABLE_COLS) + " | flags |"
    sep = "|" + "---|" * (len(TABLE_COLS) + 1)
    lines = [head, sep]
    for s in summaries:
        flags = []
        if s.get("outliers_over_1e-6"):
            flags.append(f"gap>1e-6 on instances {s['outliers_over_1e-6']}")
        if s["certified_gap_max"] > GAP_TARGET:
            flags.append("certified gap above 1e-6")
        bad = {k: v for k, v in s.get("ref_status_counts", {}).items() if k != "optimal"}
        if bad:
            flags.append(f"ref statuses {bad}")
        cells = [_fmt(s.get(k, float("nan"))) for k, _ in TABLE_COLS]
        lines.append("| " + " | ".join(cells) + " | " + ("; ".join(flags) or "-") + " |")
    return "\n".join(lines)


def print_table(summaries: list[dict[str, Any]]) -> None:
    """Print the summary table (rich when available)."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover
        print(markdown_table(summaries))
        return
    t = Table(title="P1: fast exact solver vs CVXPY + Clarabel (tight)")
    for _, h in TABLE_COLS:
        t.add_column(h, justify="right")
    t.add_column("flags", justify="left")
    for s in summaries:
        flags = []
        if s.get("outliers_over_1e-6"):
            flags.append(f"[red]gap>1e-6: {s['outliers_over_1e-6']}[/red]")
        if s["certified_gap_max"] > GAP_TARGET:
            flags.append("[red]cert>1e-6[/red]")
        bad = {k: v for k, v in s.get("ref_status_counts", {}).items() if k != "optimal"}
        if bad:
            flags.append(f"ref {bad}")
        t.add_row(*[_fmt(s.get(k, float("nan"))) for k, _ in TABLE_COLS], "; ".join(flags))
    Console(width=max(160, Console().width)).print(t)


def make_plot(rows: list[dict[str, Any]], summaries: list[dict[str, Any]]) -> bytes:
    """PNG: relative gap per case (box plot) and solve time vs problem size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8))
    names = [s["case"] for s in summaries if "gap_median" in s]
    data = [np.maximum([r["gap"] for r in rows if r["case"] == nm], 1e-17) for nm in names]
    cert = [
        np.maximum([r["certified_gap"] for r in rows if r["case"] == nm], 1e-17) for nm in names
    ]
    pos = np.arange(len(names))
    ax1.boxplot(
        data, positions=pos - 0.18, widths=0.3, patch_artist=True, boxprops={"facecolor": "#9ecae1"}
    )
    ax1.boxplot(
        cert, positions=pos + 0.18, widths=0.3, patch_artist=True, boxprops={"facecolor": "#fdae6b"}
    )
    ax1.set_yscale("log")
    ax1.axhline(1e-6, color="k", ls="--", lw=0.8)
    ax1.set_xticks(pos, names, rotation=30, ha="right")
    ax1.set_ylabel("relative gap (floored at 1e-17)")
    ax1.set_title("blue: vs reference, orange: certified by own dual bound")
    size = {s["case"]: s["S"] * s["C"] * s["M"] for s in summaries}
    for key, lab, mk in (("fast_time_s", "fast", "o"), ("ref_time_s", "CVXPY+Clarabel", "s")):
        xs = [size[r["case"]] for r in rows if key in r]
        ys = [r[key] for r in rows if key in r]
        ax2.scatter(xs, ys, label=lab, marker=mk, alpha=0.5, s=14)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("S x C x M")
    ax2.set_ylabel("time per call [s]")
    ax2.legend()
    ax2.set_title("solve time vs size")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    return buf.getvalue()


def main(argv: list[str]) -> int:
    """Run the benchmark; see the module docstring."""
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.p1", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--out", type=Path, default=Path("results/p1.json"), help="JSON output path")
    ap.add_argument("--instances", type=int, default=50, help="instances of the main case")
    ap.add_argument("--quick", action="store_true", help="few instances per case (smoke run)")
    ap.add_argument("--seed", type=int, default=20261122, help="root seed")
    ap.add_argument("--repeats", type=int, default=3, help="fast-solver calls timed per instance")
    ap.add_argument("--cases", nargs="*", default=None, help="subset of case names")
    ap.add_argument("--loose", action="store_true", help="reference at default tolerances")
    args = ap.parse_args(argv)
    if args.instances < 1:
        ap.error("--instances must be >= 1")

    root = np.random.SeedSequence(args.seed)
    case_seeds = dict(zip([c.name for c in CASES], root.spawn(len(CASES)), strict=True))
    todo = [c for c in CASES if args.cases is None or c.name in args.cases]
    if not todo:
        ap.error(f"--cases: none of {args.cases} in {[c.name for c in CASES]}")
    all_rows: list[dict[str, Any]] = []
    summaries = []
    t_start = time.perf_counter()
    for case in todo:
        n = case.instances if case.instances is not None else args.instances
        if case.name == "medium-overloaded":
            n = args.instances
        if args.quick:
            n = min(n, 3 if case.name != "medium-overloaded" else 8)
        t0 = time.perf_counter()
        res = run_case(case, n, case_seeds[case.name], args.repeats, tight=not args.loose)
        summary = summarise(case, res["rows"])
        summary["wall_time_s"] = time.perf_counter() - t0
        summaries.append(summary)
        all_rows.extend(res["rows"])
        print(f"  {case.name}: {n} instances in {summary['wall_time_s']:.1f} s", file=sys.stderr)

    main_case = next((s for s in summaries if s["case"] == "medium-overloaded"), summaries[0])
    large = next((s for s in summaries if s["case"] == "large-batch"), None)
    import cvxpy
    import numba
    import scipy

    report: dict[str, Any] = {
        "benchmark": "P1 fast exact solver vs CVXPY+Clarabel",
        "command": "python -m benchmarks.p1 " + " ".join(argv),
        "date": _dt.date.today().isoformat(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        "versions": {
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "cvxpy": cvxpy.__version__,
            "numba": numba.__version__,
        },
        "reference": "CVXPY + Clarabel, tight tolerances" if not args.loose else "CVXPY + Clarabel",
        "targets": TARGETS,
        "apex_published": APEX,
        "seed": args.seed,
        "wall_time_s": time.perf_counter() - t_start,
        # main case at the top level
        **{
            k: main_case.get(k)
            for k in (
                "instances",
                "gap_median",
                "gap_p95",
                "gap_max",
                "speedup_median",
                "speedup_p05",
                "ref_time_median_s",
                "fast_time_median_s",
                "max_constraint_violation",
                "certified_gap_max",
                "ref_statuses",
                "mean_satisfaction",
            )
        },
        "large_batch_time_median_s": large["fast_time_median_s"] if large else None,
        "cases": summaries,
    }
    out = args.out
    _atomic_write(out, json.dumps(report, indent=2, default=str).encode())
    buf = io.StringIO()
    fields = sorted({k for r in all_rows for k in r})
    w = csv.DictWriter(buf, fieldnames=fields)
    w.writeheader()
    w.writerows(all_rows)
    _atomic_write(out.with_suffix(".csv"), buf.getvalue().encode())
    md = [
        f"# P1 benchmark ({report['date']})",
        "",
        f"Command: `{report['command']}`; reference: {report['reference']}.",
        "",
        markdown_table(summaries),
        "",
    ]
    _atomic_write(out.with_suffix(".md"), "\n".join(md).encode())
    try:
        _atomic_write(out.with_suffix(".png"), make_plot(all_rows, summaries))
    except Exception as exc:  # pragma: no cover - plotting must not lose the results
        print(f"plot failed: {exc}", file=sys.stderr)
    print_table(summaries)
    print(
        f"wrote {out}, {out.with_suffix('.csv')}, {out.with_suffix('.md')}, "
        f"{out.with_suffix('.png')}"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
