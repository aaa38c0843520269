"""Calibrate the P2 capacity proxies against exact P1: ``python -m benchmarks.calibrate``.

Protocol (APEX's, extended): for each preset, seed and demand scale, sample slow slots and, in
each, random feasible associations (every cell on a uniformly drawn visible satellite).  For
every cell with demand compare the proxy's satisfaction (separable: ``min(1, rho / D)``;
coupled: exact water-filling of the shared pools) with the exact P1 satisfaction of the same
association (fast P1, :func:`oracles.p1.solve_batch`).  Report Pearson correlation, median and
95th-percentile absolute error per load regime and preset, a scatter plot, and JSON/Markdown.

Load regimes are set by scaling the preset's demand (``demand.scale``) so that the *mean
offered pool load* -- ``sum_c D / R`` over the cells the random association puts on a
satellite, averaged over the used satellites -- hits a target: 0.6 (``underloaded``),
1.0 (``transition``) and 3.0 (``overloaded``) by default.  Under random associations some
pools are overloaded even in the underloaded regime, so every regime has cells below full
satisfaction.  The pool load of every sample is stored too, for finer splits.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main", "run_calibration", "metrics"]

DEFAULT_REGIMES = {"underloaded": 0.6, "transition": 1.0, "overloaded": 3.0}


def metrics(proxy: np.ndarray, exact: np.ndarray) -> dict[str, float]:
    """Pearson correlation, median / p95 / max absolute error, mean signed error, count."""
    proxy = np.asarray(proxy, dtype=float)
    exact = np.asarray(exact, dtype=float)
    err = proxy - exact
    n = int(err.size)
    if n == 0:
        return {"n": 0}
    if np.std(proxy) > 0 and np.std(exact) > 0:
        pearson = float(np.corrcoef(proxy, exact)[0, 1])
    else:
        pearson = float("nan")
    return {
        "n": n, "pearson": pearson, "median_abs_err": float(np.median(np.abs(err))),
        "p95_abs_err": float(np.percentile(np.abs(err), 95)), "max_abs_err": float(np.abs(err).max()),
        "mean_err": float(err.mean()), "share_exact_below_1": float(np.mean(exact < 1 - 1e-6)),
    }


def _draw(prob: Any, rng: np.random.Generator, slots: int, assignments: int) -> tuple[np.ndarray, np.ndarray]:
    """Sampled slots (B,) and random feasible associations (B, C) as candidate indices."""
    C, K = prob.C, prob.K  # noqa: N806
    ks = np.sort(rng.choice(K, size=min(slots, K), replace=False))
    kb = np.repeat(ks, assignments)
    path_b = np.empty((kb.size, C), np.int64)
    for b, k in enumerate(kb):
        for c in range(C):
            path_b[b, c] = rng.choice(np.nonzero(prob.vis[c, :, k])[0])
    return kb, path_b


def _pool_loads(prob: Any, kb: np.ndarray, path_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sample and cell, the offered load ``sum D / R`` of its pool; and the mean over pools."""
    C = prob.C  # noqa: N806
    w_b = prob.w[np.arange(C)[None, :], path_b, kb[:, None]]
    w_b = np.where(np.isfinite(w_b), w_b, 0.0)
    sat_b = np.take_along_axis(prob.cand, path_b.T, axis=1).T
    load = np.zeros_like(w_b)
    means = []
    for b in range(kb.size):
        pool = np.zeros(prob.S)
        np.add.at(pool, sat_b[b], w_b[b])
        load[b] = pool[sat_b[b]]
        means.append(pool[np.unique(sat_b[b])].mean())
    return load, np.asarray(means)


def _sample(prob: Any, sc: Any, kb: np.ndarray, path_b: np.ndarray) -> dict[str, np.ndarray]:
    """Proxy and exact P1 satisfaction of the sampled associations."""
    from oracles.p1 import solve_batch
    from oracles.p2.proxy import coupled_allocation

    C = prob.C  # noqa: N806
    B = kb.size  # noqa: N806
    sat_b = np.take_along_axis(prob.cand, path_b.T, axis=1).T  # (B, C)
    w_b = prob.w[np.arange(C)[None, :], path_b, kb[:, None]]  # (B, C)
    # every sample as a one-slot problem whose only candidate is the drawn satellite
    xi_cpl = np.empty((B, C))
    zero = np.zeros((C, 1), np.int64)
    for b in range(B):
        xi_b, _, _ = coupled_allocation(zero, sat_b[b][:, None], w_b[b][:, None, None], prob.eps, prob.S)
        xi_cpl[b] = xi_b[:, 0]
    load, _ = _pool_loads(prob, kb, path_b)
    D = prob.D[:, kb].T  # noqa: N806 - (B, C)
    rho_b = prob.rho[np.arange(C)[None, :], path_b, kb[:, None]]
    with np.errstate(divide="ignore", invalid="ignore"):
        xi_sep = np.where(D > 0, np.minimum(1.0, rho_b / np.where(D > 0, D, 1.0)), np.nan)
    x = np.zeros((B, prob.S, C))
    x[np.arange(B)[:, None], sat_b, np.arange(C)[None, :]] = 1.0
    a = np.transpose(prob.a[:, kb, :], (1, 0, 2))
    if sc.fading != "none":
        g = np.stack([sc.fast_gain(int(k)) for k in kb])
    else:
        g = np.transpose(prob.g[:, :, kb], (2, 0, 1))
    t0 = time.perf_counter()
    res = solve_batch(x, a, g, N_PRB=prob.N_PRB, P_max=prob.P_max, W_PRB=prob.W_PRB, N0=prob.N0,
                      T_f=prob.T_f, eps=prob.eps)
    p1_time = time.perf_counter() - t0
    xi_p1 = np.asarray(res.xi)
    keep = D > 0
    return {
        "exact": xi_p1[keep], "separable": xi_sep[keep], "coupled": xi_cpl[keep],
        "pool_load": load[keep], "p1_time_s": np.array([p1_time]), "n_p1": np.array([B]),
        "p1_status_ok": np.array([int(np.sum(np.asarray(res.status) == "optimal"))]),
    }


def run_calibration(
    presets: list[str],
    seeds: list[int],
    regimes: dict[str, float],
    slots: int,
    assignments: int,
    rng_seed: int = 0,
) -> dict[str, Any]:
    """Run the protocol; returns plain data (metrics plus the raw samples).

    ``regimes`` maps a regime name to a target *mean offered pool load* (``sum_c D / R`` over
    the cells on a satellite, averaged over the used pools of the random associations): the
    demand scale of each (preset, seed) is set to ``target / load at scale 1``.
    """
    import leo_env
    from oracles.p2 import Problem

    rng = np.random.default_rng(rng_seed)
    out: dict[str, Any] = {"presets": {}, "samples": {}, "regime_targets": dict(regimes)}
    for preset in presets:
        parts: dict[str, list[dict[str, np.ndarray]]] = {r: [] for r in regimes}
        scales: dict[str, list[float]] = {r: [] for r in regimes}
        for seed in seeds:
            sc1 = leo_env.make_scenario(preset, seed=seed)
            prob1 = Problem.from_scenario(sc1, proxy="coupled")
            kb, path_b = _draw(prob1, rng, slots, assignments)
            base = float(_pool_loads(prob1, kb, path_b)[1].mean())
            for regime, target in regimes.items():
                scale = target / base
                sc = leo_env.make_scenario(preset, seed=seed, overrides=[f"demand.scale={scale}"])
                prob = Problem.from_scenario(sc, proxy="coupled")
                parts[regime].append(_sample(prob, sc, kb, path_b))
                scales[regime].append(scale)
        out["presets"][preset] = {}
        for regime in regimes:
            cat = {k: np.concatenate([p[k] for p in parts[regime]]) for k in parts[regime][0]}
            out["presets"][preset][regime] = {
                "target_pool_load": regimes[regime],
                "demand_scale": float(np.mean(scales[regime])),
                "demand_scales": scales[regime],
                "mean_pool_load_of_cells": float(cat["pool_load"].mean()),
                "p1_solves": int(cat["n_p1"].sum()),
                "p1_optimal": int(cat["p1_status_ok"].sum()),
                "p1_time_s": float(cat["p1_time_s"].sum()),
                "coupled": metrics(cat["coupled"], cat["exact"]),
                "separable": metrics(cat["separable"], cat["exact"]),
            }
            out["samples"][f"{preset}/{regime}"] = {
                k: cat[k].tolist() for k in ("exact", "separable", "coupled", "pool_load")
            }
    return out


def _fmt(x: float) -> str:
    """Pearson as text; undefined when one side is constant."""
    return "n/a (constant)" if not np.isfinite(x) else f"{x:.4f}"


def _markdown(res: dict[str, Any]) -> str:
    lines = [
        "| preset | regime | demand scale | samples | proxy | Pearson | median abs err | p95 abs err |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for preset, regs in res["presets"].items():
        for regime, e in regs.items():
            for proxy in ("coupled", "separable"):
                m = e[proxy]
                lines.append(
                    f"| {preset} | {regime} | {e['demand_scale']:g} | {m['n']} | {proxy} | "
                    f"{_fmt(m['pearson'])} | {m['median_abs_err']:.2e} | {m['p95_abs_err']:.2e} |"
                )
    return "\n".join(lines) + "\n"


def _scatter(res: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharex=True, sharey=True)
    colours = {"underloaded": "tab:green", "transition": "tab:orange", "overloaded": "tab:red"}
    for ax, proxy in zip(axes, ("separable", "coupled"), strict=True):
        for key, smp in res["samples"].items():
            regime = key.split("/")[1]
            ax.scatter(smp["exact"], smp[proxy], s=3, alpha=0.35, color=colours.get(regime, "tab:blue"),
                       label=regime, rasterized=True)
        ax.plot([0, 1], [0, 1], "k--", lw=0.8)
        ax.set_title(f"{proxy} proxy vs exact P1")
        ax.set_xlabel("exact P1 satisfaction xi")
    axes[0].set_ylabel("proxy satisfaction xi")
    handles, labels = axes[0].get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=False))
    axes[0].legend(uniq.values(), uniq.keys(), markerscale=4, loc="upper left")
    fig.tight_layout()
    _atomic_write_bytes(path, lambda f: fig.savefig(f, dpi=130, format="png"))
    plt.close(fig)


def _atomic_write_bytes(path: Path, writer: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            writer(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    _atomic_write_bytes(path, lambda f: f.write(text.encode()))


def _print_table(res: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="P2 proxy calibration against exact P1")
    for col in ("preset", "regime", "proxy", "n", "Pearson", "median |err|", "p95 |err|"):
        table.add_column(col)
    for preset, regs in res["presets"].items():
        for regime, e in regs.items():
            for proxy in ("coupled", "separable"):
                m = e[proxy]
                table.add_row(preset, regime, proxy, str(m["n"]), _fmt(m["pearson"]),
                              f"{m['median_abs_err']:.2e}", f"{m['p95_abs_err']:.2e}")
    Console().print(table)


def main(argv: list[str]) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.calibrate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("results/calibration.json"))
    ap.add_argument("--presets", nargs="+", default=["toy", "medium", "stress"])
    ap.add_argument("--seeds", type=int, default=3, help="seeds per preset and regime")
    ap.add_argument("--slots", type=int, default=10, help="slow slots sampled per scenario")
    ap.add_argument("--assignments", type=int, default=3, help="random associations per slot")
    ap.add_argument("--loads", type=float, nargs=3, metavar=("UNDER", "TRANSITION", "OVER"),
                    default=list(DEFAULT_REGIMES.values()),
                    help="target mean offered pool loads of the three regimes")
    ap.add_argument("--png", type=Path, default=None, help="scatter plot (default: next to --out)")
    ap.add_argument("--md", type=Path, default=None, help="Markdown table (default: next to --out)")
    ap.add_argument("--rng-seed", type=int, default=0)
    args = ap.parse_args(argv)
    regimes = dict(zip(DEFAULT_REGIMES, args.loads, strict=True))
    t0 = time.perf_counter()
    res = run_calibration(args.presets, list(range(args.seeds)), regimes, args.slots,
                          args.assignments, args.rng_seed)
    res["meta"] = {
        "command": "python -m benchmarks.calibrate " + " ".join(argv),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "machine": platform.machine(),
        "processor": platform.processor(), "wall_time_s": time.perf_counter() - t0,
    }
    png = args.png or args.out.with_suffix(".png")
    md = args.md or args.out.with_suffix(".md")
    atomic_write_text(args.out, json.dumps(res, indent=1, allow_nan=True))
    atomic_write_text(md, _markdown(res))
    _scatter(res, png)
    _print_table(res)
    print(f"wrote {args.out}, {md}, {png}")
    return 0
