"""linkgroup family: Figs. 4/7/9-style plots and tables from a learners' evaluation.

``python -m benchmarks.linkgroup_figs --results results/linkgroup/emcl_small/results.json
[--out results/linkgroup/figs_small.json] [--plots results/linkgroup/figs_small]``

Reads the ``results.json`` that ``evaluate.py`` writes for the family (paired windows and task
streams, :mod:`agents.linkgroup.evaluation`) and produces

* Fig. 4 style: the per-slot objective of every policy on the task streams, averaged over the
  stream seeds (20-slot moving average, change points marked);
* Fig. 7 style: mean recovery time per policy and per event, EMCL's relative saving against
  every other policy next to the paper's numbers (AC-MAML 13.49 % / 28.66 %, AC-DDPG
  29.83 %, the ablation +10.11 % recovery time and +30.36 % objective without Wolpertinger);
* Fig. 9 style: decision time per slot of every policy (windows evaluation);
* the recovery time of the *seed-averaged* series (the paper plots one curve; averaging over
  the stream seeds first removes much of the window-to-window noise the per-seed metric
  suffers from).

Prints a table, writes the JSON atomically and, with ``--plots``, PNG files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from leo_env.io import atomic_write_json

__all__ = ["PUBLISHED", "figures", "main"]

PUBLISHED = {
    "recovery_saving_vs_ac_maml_pct": {"fig4": 28.66, "fig7": 13.49},
    "recovery_saving_vs_ac_ddpg_pct": {"fig7": 29.83},
    "nowolp_recovery_increase_pct": 10.11,
    "nowolp_objective_increase_pct": 30.36,
}
"""The paper's Fig. 4/7 anchors [%]."""


def _label(labels: list[str], stem: str) -> str | None:
    hits = [lab for lab in labels if lab.startswith(stem)]
    return hits[0] if hits else None


def figures(res: dict[str, Any]) -> dict[str, Any]:
    """Fig. 4/7/9 summaries of an evaluation result (module docstring)."""
    labels = list(res["policies"])
    me = labels[0]
    st = res["summary"]["streams"]
    out: dict[str, Any] = {"policy": me, "published": PUBLISHED, "rows": []}
    for lab in labels:
        r = st.get(lab)
        w = res["summary"]["windows"].get(lab, {})
        out["rows"].append({
            "policy": lab,
            "stream_mean_F": None if r is None else r["mean_F"],
            "mean_recovery_slots": None if r is None else r["mean_recovery_slots"],
            "recovered_share": None if r is None else r["recovered_share"],
            "recovery_by_event": None if r is None else r["recovery_by_event"],
            "saving_of_policy_pct": None if r is None else r.get(f"recovery_saving_of_{me}_pct"),
            "recovery_p": None if r is None or f"recovery_vs_{me}" not in r else r[f"recovery_vs_{me}"]["wilcoxon_p"],
            "windows_time_per_slot_ms": w.get("time_per_slot_ms"),
            "stream_time_per_slot_ms": None if r is None else r["time_per_slot_ms"],
        })
    streams = res.get("streams") or []
    if streams:
        from oracles.linkgroup.objective import recovery_time

        e = res["config"]["evaluate"]
        mean_rec = {}
        for lab in labels:
            x = np.mean([np.asarray(s_[lab]["series"]) for s_ in streams], axis=0)
            rec = [recovery_time(x, c * e["interval"], (c + 1) * e["interval"]) for c in range(1, e["changes"] + 1)]
            mean_rec[lab] = {"slots": [r.slots for r in rec], "recovered": [r.recovered for r in rec],
                             "mean_slots": float(np.mean([r.slots for r in rec]))}
        out["recovery_of_seed_mean_series"] = mean_rec
    nowolp = _label(labels, "emcl_nowolp")
    if nowolp and st.get(nowolp) and st.get(me):
        a, b = st[me], st[nowolp]
        out["nowolp_recovery_increase_pct"] = 100 * (b["mean_recovery_slots"] / max(a["mean_recovery_slots"], 1e-9) - 1)
        out["nowolp_objective_increase_pct"] = 100 * (b["mean_F"] / max(a["mean_F"], 1e-9) - 1)
    return out


def _plots(res: dict[str, Any], folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    streams = res["streams"]
    if streams:
        cfg = res["config"]["evaluate"]
        fig, ax = plt.subplots(figsize=(9, 4))
        for lab in res["policies"]:
            x = np.mean([np.asarray(s[lab]["series"]) for s in streams], axis=0)
            ma = np.convolve(x, np.ones(20) / 20, mode="valid")
            ax.plot(np.arange(19, x.size), ma, label=lab)
        for c in range(1, cfg["changes"] + 1):
            ax.axvline(c * cfg["interval"], color="k", ls=":", lw=0.8)
        ax.set_xlabel("slot")
        ax.set_ylabel("objective F (20-slot moving average)")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
        ax.set_title(f"task streams, mean over {len(streams)} seeds")
        p = folder / "fig4_streams.png"
        fig.tight_layout()
        fig.savefig(p, dpi=120)
        plt.close(fig)
        files.append(str(p))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    w = res["summary"]["windows"]
    labs = list(w)
    ax.bar(range(len(labs)), [w[lab]["time_per_slot_ms"] for lab in labs])
    ax.set_xticks(range(len(labs)), labs, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("decision time per slot [ms]")
    p = folder / "fig9_decision_time.png"
    fig.tight_layout()
    fig.savefig(p, dpi=120)
    plt.close(fig)
    files.append(str(p))
    return files


def main(argv: list[str] | None = None) -> None:
    """Command line (module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.linkgroup_figs", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", required=True, help="results.json of the family's evaluate.py")
    ap.add_argument("--out", default=None, help="JSON summary (default: next to the results)")
    ap.add_argument("--plots", default=None, help="folder for PNG plots")
    a = ap.parse_args(argv)
    res = json.loads(Path(a.results).read_text())
    fig = figures(res)
    print(f"{'policy':22s} {'stream F':>9s} {'recovery':>9s} {'recovered':>9s} {'saving of ' + fig['policy']:>24s} "
          f"{'p':>8s} {'ms/slot':>8s}")
    for r in fig["rows"]:
        def f(v: Any, spec: str) -> str:
            return "-" if v is None else format(v, spec)
        print(f"{r['policy']:22s} {f(r['stream_mean_F'], '.3f'):>9s} {f(r['mean_recovery_slots'], '.1f'):>9s} "
              f"{f(r['recovered_share'], '.2f'):>9s} {f(r['saving_of_policy_pct'], '.1f'):>24s} "
              f"{f(r['recovery_p'], '.3g'):>8s} {f(r['windows_time_per_slot_ms'], '.2f'):>8s}")
    for lab, r in fig.get("recovery_of_seed_mean_series", {}).items():
        print(f"seed-mean series recovery {lab:22s} {r['slots']} mean {r['mean_slots']:.1f}")
    for k in ("nowolp_recovery_increase_pct", "nowolp_objective_increase_pct"):
        if k in fig:
            print(f"{k}: {fig[k]:.1f} % (published {PUBLISHED[k]} %)")
    if a.plots:
        fig["plots"] = _plots(res, Path(a.plots))
        print("plots:", ", ".join(fig["plots"]))
    out = a.out or str(Path(a.results).with_name("figs.json"))
    atomic_write_json(out, fig)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
