"""Evaluation plots (PNG, matplotlib with the Agg backend).

* ``methods.png`` -- utility mean +- std per policy, grouped by prediction-error level;
* ``gap_vs_error.png`` -- relative gap to B1 against the prediction error;
* ``training_curves.png`` -- training episode returns (``episodes.csv``, rolling mean) and
  validation returns (``evaluations.json``) of every learned agent's run folder;
* ``decision_time_cdf.png`` -- empirical CDF of the decision time per slot.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_plots", "read_training_curve", "PLOT_FILES"]

PLOT_FILES = ("methods.png", "gap_vs_error.png", "training_curves.png", "decision_time_cdf.png")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def read_training_curve(run_dir: str | Path) -> dict[str, np.ndarray]:
    """Training and validation curves of a run folder.

    Returns
    -------
    dict
        ``steps``/``returns`` of training episodes and ``eval_steps``/``eval_returns`` of the
        validation history (empty arrays when absent).
    """
    rd = Path(run_dir)
    steps, rets = [], []
    f = rd / "episodes.csv"
    if f.exists():
        with open(f, newline="") as fh:
            for row in csv.DictReader(fh):
                steps.append(float(row["timesteps"]))
                rets.append(float(row["return"]))
    es, er = [], []
    g = rd / "evaluations.json"
    if g.exists():
        for e in json.loads(g.read_text()).get("history", []):
            es.append(float(e["timesteps"]))
            er.append(float(e["mean_return"]))
    return {"steps": np.array(steps), "returns": np.array(rets), "eval_steps": np.array(es), "eval_returns": np.array(er)}


def write_plots(
    out: Path,
    rows: list[dict[str, Any]],
    episodes: dict[tuple[str, float], list[dict[str, Any]]],
    specs: Sequence[Any],
    predictor: str = "",
) -> list[Path]:
    """Write the four plots into ``out`` (titles name the demand predictor); returns their paths."""
    note = f"\npredictor: {predictor}" if predictor else ""
    plt = _plt()
    labels = list(dict.fromkeys(r["policy"] for r in rows))
    levels = sorted({r["prediction_error"] for r in rows})
    by = {(r["policy"], r["prediction_error"]): r for r in rows}
    paths = []

    # 1. method bars
    fig, ax = plt.subplots(figsize=(max(5, 1.3 * len(labels) * max(1, len(levels)) / 2), 3.6))
    width = 0.8 / max(1, len(levels))
    x = np.arange(len(labels))
    for j, lv in enumerate(levels):
        m = [by[(lab, lv)]["utility_mean"] for lab in labels]
        s = [by[(lab, lv)]["utility_std"] for lab in labels]
        ax.bar(x + (j - (len(levels) - 1) / 2) * width, m, width, yerr=s, capsize=3, label=f"e = {lv:.0%}")
    ax.set_xticks(x, labels)
    ax.set_ylabel("utility (episode return)")
    ax.set_title("Utility per method (mean +- std over paired seeds)" + note, fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    paths.append(out / "methods.png")
    save_figure(fig, paths[-1])
    plt.close(fig)

    # 2. gap vs prediction error
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for lab in labels:
        if lab == "B1":
            continue
        g = [by[(lab, lv)]["gap_to_b1"] * 100 for lv in levels]
        ax.plot([lv * 100 for lv in levels], g, marker="o", label=lab)
    ax.set_xlabel("prediction error [%]")
    ax.set_ylabel("gap to B1 [%]")
    ax.set_title("Relative gap to the hindsight oracle" + note, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    paths.append(out / "gap_vs_error.png")
    save_figure(fig, paths[-1])
    plt.close(fig)

    # 3. training curves
    fig, ax = plt.subplots(figsize=(6, 3.6))
    drawn = False
    for spec in specs:
        if not getattr(spec, "run_dir", None):
            continue
        cur = read_training_curve(spec.run_dir)
        if cur["steps"].size:
            w = max(1, min(50, cur["returns"].size // 10))
            smooth = np.convolve(cur["returns"], np.ones(w) / w, mode="valid")
            line = ax.plot(cur["steps"][w - 1 :], smooth, label=f"{spec.label} (train, rolling {w})")[0]
            color = line.get_color()
            drawn = True
        else:
            color = None
        if cur["eval_steps"].size:
            ax.plot(cur["eval_steps"], cur["eval_returns"], "o--", color=color, label=f"{spec.label} (validation)")
            drawn = True
    if not drawn:
        ax.text(0.5, 0.5, "no learned agent with a run folder", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode return")
    ax.set_title("Training curves")
    ax.grid(alpha=0.3)
    if drawn:
        ax.legend(fontsize=7)
    paths.append(out / "training_curves.png")
    save_figure(fig, paths[-1])
    plt.close(fig)

    # 4. decision-time CDF (first level; forecast-free policies share episodes)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    lv0 = levels[0] if levels else None
    for lab in labels:
        eps = episodes.get((lab, lv0), [])
        t = np.sort(np.concatenate([np.asarray(e["decision_ms_slots"]) for e in eps])) if eps else np.array([])
        if t.size:
            ax.step(t, np.arange(1, t.size + 1) / t.size, where="post", label=lab)
    ax.set_xscale("log")
    ax.set_xlabel("decision time per slot [ms]")
    ax.set_ylabel("CDF")
    ax.set_title("Decision time (CPU)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    paths.append(out / "decision_time_cdf.png")
    save_figure(fig, paths[-1])
    plt.close(fig)
    return paths


def save_figure(fig: Any, path: Path) -> None:
    """Save a matplotlib figure atomically as PNG."""
    from leo_env.io import atomic_write

    def _w(tmp: str) -> None:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")

    atomic_write(path, _w)
