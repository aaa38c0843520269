"""Evaluation plots (PNG, matplotlib with the Agg backend).

* ``methods.png`` -- utility mean +- std per policy, grouped by prediction-error level;
* ``gap_vs_error.png`` -- relative gap to B1 against the prediction error;
* ``training_curves.png`` -- training episode returns (``episodes.csv``, rolling mean) and
  validation returns (``evaluations.json``) of every learned agent's run folder;
* ``decision_time_cdf.png`` -- empirical CDF of the decision time per slot;
* ``training_curve.png`` (in every run folder, at the end of training) -- that run's curve
  (:func:`training_curve_plot`);
* ``paired_differences.png`` -- one panel per method: its per-seed utility difference to the
  reference (B1 when evaluated, else the first policy) at every level, with the mean and its
  95 % paired bootstrap interval (``differences``: reference and
  :func:`agents.evaluation.paired_differences`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_plots", "read_training_curve", "training_curve_plot", "paired_difference_plot", "PLOT_FILES"]

PLOT_FILES = ("methods.png", "gap_vs_error.png", "training_curves.png", "decision_time_cdf.png",
              "paired_differences.png")


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


def _draw_curve(ax: Any, cur: dict[str, np.ndarray], label: str) -> bool:
    """One run's training (rolling mean) and validation returns on ``ax``; False when empty."""
    drawn = False
    color = None
    if cur["steps"].size:
        w = max(1, min(50, cur["returns"].size // 10))
        smooth = np.convolve(cur["returns"], np.ones(w) / w, mode="valid")
        color = ax.plot(cur["steps"][w - 1 :], smooth, label=f"{label} (train, rolling {w})")[0].get_color()
        drawn = True
    if cur["eval_steps"].size:
        ax.plot(cur["eval_steps"], cur["eval_returns"], "o--", color=color, label=f"{label} (validation)")
        drawn = True
    return drawn


def training_curve_plot(run_dir: str | Path, path: str | Path | None = None) -> Path:
    """Write one run's training curve (``<run_dir>/training_curve.png`` by default)."""
    rd = Path(run_dir)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    if not _draw_curve(ax, read_training_curve(rd), rd.name.split("__")[1] if "__" in rd.name else rd.name):
        ax.text(0.5, 0.5, "no finished episode yet", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(fontsize=7)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode return")
    ax.set_title(f"Training curve: {rd.name}", fontsize=9)
    ax.grid(alpha=0.3)
    out = Path(path) if path is not None else rd / "training_curve.png"
    save_figure(fig, out)
    plt.close(fig)
    return out


def write_plots(
    out: Path,
    rows: list[dict[str, Any]],
    episodes: dict[tuple[str, float], list[dict[str, Any]]],
    specs: Sequence[Any],
    predictor: str = "",
    differences: tuple[str, Mapping[tuple[str, float], tuple[Sequence[float], float, float]]] | None = None,
) -> list[Path]:
    """Write the plots of :data:`PLOT_FILES` into ``out`` (titles name the predictor); returns their paths."""
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
    seen: set[str] = set()
    for spec in specs:  # one curve per run folder (an agent decoded two ways is one run)
        if not getattr(spec, "run_dir", None) or spec.run_dir in seen:
            continue
        seen.add(spec.run_dir)
        drawn = _draw_curve(ax, read_training_curve(spec.run_dir), spec.label) or drawn
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
    lv0 = levels[0] if levels else 0.0
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

    if differences is not None:
        paths.append(paired_difference_plot(out / "paired_differences.png", differences[1], differences[0], note))
    return paths


def paired_difference_plot(
    path: Path, differences: Mapping[tuple[str, float], tuple[Sequence[float], float, float]], reference: str,
    note: str = "",
) -> Path:
    """Per-seed utility differences to ``reference``, one panel per method, with the 95 % CI.

    ``differences[(method, level)] = (d, low, high)``: the differences ``U_method - U_ref`` of
    the paired held-out seeds (dots), and the interval of their mean (whiskers;
    :func:`agents.evaluation.paired_differences`); the bar is the mean.
    """
    plt = _plt()
    methods = list(dict.fromkeys(lab for lab, _ in differences))
    levels = sorted({lv for _, lv in differences})
    ncol = min(3, max(1, len(methods)))
    nrow = max(1, -(-len(methods) // ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    for ax in axes.flat[len(methods):]:
        ax.set_visible(False)
    if not methods:
        axes[0, 0].set_visible(True)
        axes[0, 0].text(0.5, 0.5, "nothing to pair", ha="center", va="center")
    for ax, lab in zip(axes.flat, methods, strict=False):
        for j, lv in enumerate(levels):
            if (lab, lv) not in differences:
                continue
            d_, lo, hi = differences[(lab, lv)]
            d = np.asarray(d_, dtype=float)
            jitter = np.linspace(-0.15, 0.15, d.size) if d.size > 1 else np.zeros(d.size)
            ax.plot(j + jitter, d, "o", ms=3, alpha=0.6, color=f"C{j}")
            ax.bar(j, d.mean(), 0.5, color=f"C{j}", alpha=0.35)
            if np.isfinite(lo) and np.isfinite(hi):
                ax.errorbar(j, d.mean(), yerr=[[d.mean() - lo], [hi - d.mean()]], color="k", capsize=4, lw=1.2)
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xticks(range(len(levels)), [f"e = {lv:.0%}" for lv in levels])
        ax.set_title(f"{lab} - {reference}", fontsize=9)
        ax.set_ylabel("utility difference per seed")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"Paired differences to {reference} (dots: seeds; bar: mean; whiskers: 95 % paired bootstrap CI)"
                 + note, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return path


def save_figure(fig: Any, path: Path) -> None:
    """Save a matplotlib figure atomically as PNG."""
    from leo_env.io import atomic_write

    def _w(tmp: str) -> None:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")

    atomic_write(path, _w)
