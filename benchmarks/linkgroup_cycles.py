r"""linkgroup family: the Fig. 8 cycles by load -- which cycles are structurally overloaded, and the gaps there.

Reads the per-policy jobs of a Fig. 8 run (``benchmarks.linkgroup_jobs run --part fig8``),
rebuilds the task stream of each stream seed exactly as :func:`agents.linkgroup.evaluation.fig8_run`
does (same seed, random events), and reports per cycle the event, the number of present
receivers (active devices + backhaul receivers) and OPT's mean F.  The paper's Fig. 8 is on a
cell of 50-100 devices (Table I) that is *overloaded*: with ``J T`` link activations per
deadline window (40 here) at least ``present - J T`` receivers cannot be reached at all.  In
the suite's random-event stream departures compound (each removes 30 % of the active
devices) and light bursts scale every demand by 0.2, so some cycles have fewer present
receivers than link activations.  The gap to OPT is summarised on

* all cycles (as :mod:`agents.linkgroup.evaluation`),
* the cycles with ``F_OPT >= 100`` (the "heavy" view of docs section 6.9),
* the **structurally overloaded** cycles: present receivers ``> J T`` (spec: "at most
  ``|J| T`` link activations exist in an episode"),

as the mean gap over cycles, the median and the pooled gap ``sum F / sum F_OPT - 1``, and the
paired per-cycle difference of mean F against the config's learner on each subset.

::

    python -m benchmarks.linkgroup_cycles --config configs/experiments/linkgroup_emcl_k50.yaml \
        --jobs results/linkgroup/fig8_k50/jobs --out results/linkgroup/fig8_k50_cycles.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main", "cycle_table", "subset_gaps"]


def cycle_table(cfg: Any, seed: int) -> list[dict[str, Any]]:
    """Per cycle of stream ``seed`` of the Fig. 8 protocol: event, present receivers, demand factor."""
    from agents.linkgroup.training import make_env, window_seed
    from leo_env.scenario import linkgroup as lg

    e = cfg.evaluate
    env = make_env(cfg, e.layout_seeds[seed % len(e.layout_seeds)])
    c = env.cfg
    stream = lg.make_task_stream(c, np.random.default_rng(window_seed(500, seed)), e.fig8_updates - 1,
                                 e.fig8_windows * c.T, "random")
    out = []
    for i, task in enumerate(stream.tasks):
        present = int(task.receivers_active().sum())
        out.append({"seed": seed, "cycle": i, "event": task.event, "active_devices": int(task.active.sum()),
                    "present_receivers": present, "link_activations": c.J * c.T,
                    "structurally_overloaded": present > c.J * c.T,
                    "demand_factor_devices": float(task.demand_factor[: c.n_dev].mean())})
    return out


def subset_gaps(f: np.ndarray, f_opt: np.ndarray) -> dict[str, Any]:
    """Gap summaries [%] of per-cycle mean F against OPT's (cycles with F_OPT > 0)."""
    pos = f_opt > 1e-6
    if not pos.any():
        return {"n_cycles": int(f.size), "gap_mean_pct": None, "gap_median_pct": None, "pooled_gap_pct": None}
    g = 100.0 * (f[pos] - f_opt[pos]) / f_opt[pos]
    return {"n_cycles": int(f.size), "mean_F": float(f.mean()), "opt_mean_F": float(f_opt.mean()),
            "gap_mean_pct": float(g.mean()), "gap_median_pct": float(np.median(g)),
            "pooled_gap_pct": 100.0 * float(f.sum() / max(f_opt.sum(), 1e-9) - 1.0)}


def main(argv: list[str] | None = None) -> None:
    """Command-line entry (module docstring)."""
    from agents.linkgroup.config import load_config
    from agents.linkgroup.evaluation import paired
    from agents.provenance import provenance
    from leo_env.io import atomic_write_json

    ap = argparse.ArgumentParser(prog="python -m benchmarks.linkgroup_cycles", description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--jobs", required=True, help="folder of fig8_<seed>_<label>.json jobs")
    ap.add_argument("--out", required=True)
    ap.add_argument("--set", nargs="*", default=[])
    args = ap.parse_args(argv)
    cfg = load_config(args.config, args.set or [])
    runs = [json.loads(p.read_text()) for p in sorted(Path(args.jobs).glob("fig8_*.json"))]
    if not any(r["label"] == "opt" for r in runs):
        raise SystemExit(f"no OPT job in {args.jobs}")

    def cycles(r: dict[str, Any]) -> dict[tuple[int, int], float]:
        upd, f = np.asarray(r["update"]), np.asarray(r["F"])
        return {(r["seed"], int(u)): float(f[upd == u].mean()) for u in np.unique(upd)}

    by_label: dict[str, dict[tuple[int, int], float]] = {}
    for r in runs:
        by_label.setdefault(r["label"], {}).update(cycles(r))
    table = [row for s in sorted({r["seed"] for r in runs}) for row in cycle_table(cfg, s)]
    c_opt = by_label["opt"]
    for row in table:
        row["F_opt"] = c_opt.get((row["seed"], row["cycle"]))
    info = {(row["seed"], row["cycle"]): row for row in table}
    subsets = {
        "all": lambda k: True,
        "F_opt>=100": lambda k: c_opt[k] >= 100.0,
        "overloaded (present > J T)": lambda k: info[k]["structurally_overloaded"],
        "not overloaded": lambda k: not info[k]["structurally_overloaded"],
    }
    me = cfg.name
    res: dict[str, Any] = {}
    for lab, c in by_label.items():
        res[lab] = {}
        for name, keep in subsets.items():
            keys = sorted(k for k in c if k in c_opt and keep(k))
            if not keys:
                continue
            f = np.asarray([c[k] for k in keys])
            row = subset_gaps(f, np.asarray([c_opt[k] for k in keys]))
            if lab not in (me, "opt") and me in by_label:
                both = [k for k in keys if k in by_label[me]]
                if len(both) >= 2:
                    row["vs_" + me] = paired(np.asarray([by_label[me][k] for k in both]),
                                             np.asarray([c[k] for k in both]), cfg.evaluate.bootstrap)
            res[lab][name] = row
    atomic_write_json(Path(args.out), {"meta": provenance(), "config": args.config, "cycles": table,
                                       "gaps": res})
    n_over = sum(r["structurally_overloaded"] for r in table)
    print(f"{len(table)} cycles, {n_over} structurally overloaded (present receivers > J T = "
          f"{table[0]['link_activations']}); present receivers per cycle: min "
          f"{min(r['present_receivers'] for r in table)}, median "
          f"{int(np.median([r['present_receivers'] for r in table]))}, max {max(r['present_receivers'] for r in table)}")
    print("\n| policy | subset | cycles | gap mean % | median % | pooled % | EMCL - policy (mean F, 95 % CI, p) |")
    print("|---|---|---|---|---|---|---|")
    for lab, rows in res.items():
        for name, r in rows.items():
            if r.get("gap_mean_pct") is None:
                continue
            vs = r.get("vs_" + me)
            cmp = "-" if not vs else f"{vs['mean_diff']:+.1f} [{vs['ci95'][0]:+.1f}, {vs['ci95'][1]:+.1f}], p = {vs['wilcoxon_p']:.2g}"
            print(f"| {lab} | {name} | {r['n_cycles']} | {r['gap_mean_pct']:.1f} | {r['gap_median_pct']:.1f} | "
                  f"{r['pooled_gap_pct']:.1f} | {cmp} |")


if __name__ == "__main__":
    main()
