"""Plots of the lisl family (matplotlib, Agg) from the benchmark JSON files.

``python -m benchmarks.lisl_plots throughput --inputs results/lisl_fig4.json,... --out results/lisl_throughput_vs_I.png``
    Throughput vs I per method: means with 95 % bootstrap intervals over the seeds.

``python -m benchmarks.lisl_plots map [--n-sats 1000] [--seed 0] [--iterations 500] --out results/lisl_map.png``
    One snapshot solved by DuJo: sub-satellite points, established LISLs (colour = utilisation
    of the link), the ten busiest routes (thick), serving and demanding satellites.  Writes the
    plotted numbers to ``<out>.json`` too.

``python -m benchmarks.lisl_plots fig3 --input results/lisl_fig3.json --out results/lisl_fig3.png``
    Dual estimate ``h_k`` vs iteration (mean over seeds) and converted throughput per ``beta``.

``python -m benchmarks.lisl_plots tables --fig3 results/lisl_fig3.json --fig6 a.json,b.json``
    The Markdown tables of docs/families/lisl.md (Fig. 3 and Fig. 6).

``python -m benchmarks.lisl_plots fig6 --inputs results/lisl_fig6_lct.json,... --out results/lisl_fig6.png``
    Throughput per Fig. 6 setting and method, means with 95 % bootstrap intervals.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "plot_throughput",
    "plot_map",
    "plot_fig3",
    "plot_fig6",
    "markdown_tables",
    "main",
]

METHODS = ("dujo", "dujo-best", "mrate", "sate", "+grid", "rand")
LABELS = {
    "dujo": "DuJo",
    "dujo-best": "DuJo*",
    "mrate": "MRate",
    "sate": "SaTE",
    "+grid": "+Grid",
    "rand": "Rand",
}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _ci(x: list[float], n_boot: int = 2000) -> tuple[float, float, float]:
    a = np.asarray(x, dtype=float)
    rng = np.random.default_rng(0)
    if a.size < 2:
        return float(a.mean()), float(a.mean()), float(a.mean())
    means = a[rng.integers(0, a.size, (n_boot, a.size))].mean(axis=1)
    return float(a.mean()), float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def _rows(paths: list[str]) -> list[dict[str, Any]]:
    """Rows of result files, each instance once.

    A row repeated in several files (same setting, I, seed and beta: runs over overlapping seed
    ranges) is kept once (the last one read).
    """
    rows: dict[tuple, dict[str, Any]] = {}
    for p in paths:
        for r in json.loads(Path(p).read_text())["rows"]:
            key = (r.get("setting"), r.get("n_sats"), r.get("seed"), r.get("beta"))
            rows[key] = r
    return list(rows.values())


def _save(fig: Any, out: str) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=130, bbox_inches="tight")


def plot_throughput(inputs: list[str], out: str) -> dict[str, Any]:
    """Throughput vs I with 95 % intervals (rows of ``benchmarks.lisl fig4`` files)."""
    plt = _plt()
    rows = _rows(inputs)
    sizes = sorted({int(r["n_sats"]) for r in rows})
    data: dict[str, Any] = {}
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for m in ("dujo", "mrate", "+grid", "rand"):
        stats = [
            _ci([r["throughput_gbps"][m] for r in rows if int(r["n_sats"]) == n]) for n in sizes
        ]
        mean = np.array([s[0] for s in stats])
        lo, hi = np.array([s[1] for s in stats]), np.array([s[2] for s in stats])
        ax.plot(sizes, mean, marker="o", label=LABELS[m])
        ax.fill_between(sizes, lo, hi, alpha=0.25)
        data[m] = {"sizes": sizes, "mean": mean.tolist(), "lo": lo.tolist(), "hi": hi.tolist()}
    n_per = {n: sum(int(r["n_sats"]) == n for r in rows) for n in sizes}
    ax.set_xlabel("satellites I")
    ax.set_ylabel("routed throughput [Gbit/s]")
    ax.set_title(f"throughput vs I (mean, 95 % bootstrap CI; seeds per I: {min(n_per.values())})")
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, out)
    plt.close(fig)
    return data


def plot_map(n_sats: int, seed: int, iterations: int, out: str, top_routes: int = 10) -> dict:
    """A snapshot solved by DuJo: established links, busiest routes, serving/demanding sats."""
    plt = _plt()
    from matplotlib.collections import LineCollection

    from leo_env.scenario.lisl import LISL_PRESETS, build_lisl_instance
    from oracles.lisl import DujoParams, LislProblem, dujo
    from oracles.lisl.objective import arc_load_gbps

    inst = build_lisl_instance(LISL_PRESETS["paper"], n_sats=n_sats, seed=seed)
    pb = LislProblem(inst.graph, inst.traffic)
    sol = dujo(pb, DujoParams(iterations=iterations, certify=False))
    g = inst.graph
    lat = np.degrees(np.arcsin(np.clip(inst.ground_unit[:, 2], -1, 1)))
    lon = np.degrees(np.arctan2(inst.ground_unit[:, 1], inst.ground_unit[:, 0]))
    cap = pb.arc_capacity_gbps(sol.matched)
    load = arc_load_gbps(pb, sol.path_ptr, sol.path_arcs, sol.rate_gbps)
    links = np.flatnonzero(cap[0::2] > 0)
    util = np.maximum(load[2 * links], load[2 * links + 1]) / cap[2 * links]
    segs, colours = [], []
    for lk, u in zip(links, util, strict=True):
        i, j = g.link_sat[lk]
        if abs(lon[i] - lon[j]) > 180:  # wraps around the map edge
            continue
        segs.append([(lon[i], lat[i]), (lon[j], lat[j])])
        colours.append(u)
    fig, ax = plt.subplots(figsize=(11, 5.5))
    lc = LineCollection(segs, array=np.asarray(colours), cmap="viridis", linewidths=0.8)
    lc.set_clim(0, 1)
    ax.add_collection(lc)
    fig.colorbar(lc, ax=ax, label="link utilisation (load / capacity)", shrink=0.8)
    serve = pb.serve_gbps > 0
    demand = pb.demand_gbps > 0
    ax.scatter(lon, lat, s=2, c="0.6", label="satellite")
    ax.scatter(lon[serve], lat[serve], s=14, c="tab:green", label="serving (gateway)")
    ax.scatter(lon[demand], lat[demand], s=14, c="tab:red", marker="x", label="demanding")
    order = np.argsort(-sol.rate_gbps)[:top_routes]
    routes = []
    tail, head = g.arc_tail, g.arc_head
    for rank, f in enumerate(order):
        if sol.rate_gbps[f] <= 0:
            break
        arcs = sol.path_arcs[sol.path_ptr[f] : sol.path_ptr[f + 1]]
        nodes = [int(tail[arcs[0]])] + [int(head[a]) for a in arcs] if arcs.size else []
        routes.append({"flow": int(f), "rate_gbps": float(sol.rate_gbps[f]), "sats": nodes})
        for a in arcs:
            i, j = int(tail[a]), int(head[a])
            if abs(lon[i] - lon[j]) <= 180:
                ax.plot(
                    [lon[i], lon[j]],
                    [lat[i], lat[j]],
                    c="tab:orange",
                    lw=4,
                    alpha=0.9,
                    zorder=5,
                    solid_capstyle="round",
                    label="10 busiest routes" if rank == 0 and a == arcs[0] else None,
                )
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_xlabel("longitude [deg]")
    ax.set_ylabel("latitude [deg]")
    ax.set_title(
        f"DuJo, I = {n_sats}, seed {seed}: {int(sol.matched.sum())} LISLs, "
        f"{sol.throughput_gbps:.1f} Gbit/s routed"
    )
    ax.legend(loc="lower left", fontsize=8)
    _save(fig, out)
    plt.close(fig)
    data = {
        "n_sats": n_sats,
        "seed": seed,
        "iterations": iterations,
        "n_lisls": int(sol.matched.sum()),
        "throughput_gbps": float(sol.throughput_gbps),
        "mean_utilisation": float(util.mean()) if util.size else 0.0,
        "saturated_links": int((util > 0.999).sum()),
        "busiest_routes": routes,
    }
    from leo_env.io import atomic_write_json

    atomic_write_json(str(Path(out).with_suffix(".json")), data)
    return data


def plot_fig3(input_path: str, out: str) -> dict[str, Any]:
    """Dual estimate vs iteration and converted throughput per step-size exponent."""
    plt = _plt()
    rows = _rows([input_path])
    betas = sorted({float(r["beta"]) for r in rows})
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    data: dict[str, Any] = {}
    for b in betas:
        rs = [r for r in rows if float(r["beta"]) == b and "h_trace_every5" in r]
        if not rs:
            continue
        h = np.array([r["h_trace_every5"] for r in rs])
        k = 5 * np.arange(1, h.shape[1] + 1)
        a1.plot(k, h.mean(axis=0), label=f"beta = {b:g} ({len(rs)} seeds)")
        data[str(b)] = {
            "h_mean_every5": h.mean(axis=0).tolist(),
            "throughput": _ci([r["throughput_last"] for r in rs]),
            "bound": _ci([r["bound"] for r in rs]),
        }
    a1.set_xlabel("iteration k")
    a1.set_ylabel("dual estimate h_k [Gbit/s] (greedy matching)")
    a1.set_yscale("log")
    a1.grid(alpha=0.3)
    a1.legend()
    # paired: converted throughput of every beta relative to the first beta on the same seed
    ref = {int(r["seed"]): r["throughput_last"] for r in rows if float(r["beta"]) == betas[0]}
    stats = {}
    for b in betas:
        ratios = [
            r["throughput_last"] / ref[int(r["seed"])]
            for r in rows
            if float(r["beta"]) == b and ref.get(int(r["seed"]), 0) > 0
        ]
        if ratios:
            stats[b] = _ci(ratios)
            data.setdefault(str(b), {})["ratio_vs_first"] = stats[b]
    xs = np.arange(len(stats))
    means = [v[0] for v in stats.values()]
    err = np.array([[v[0] - v[1], v[2] - v[0]] for v in stats.values()]).T
    a2.bar(xs, means, yerr=err, capsize=4)
    a2.set_xticks(xs, [f"beta = {b:g}" for b in stats])
    a2.set_ylim(min(0.8, min(means) - 0.05), max(1.1, max(means) + 0.05))
    a2.axhline(1.0, c="0.3", lw=0.8)
    a2.set_ylabel(f"converted throughput / that of beta = {betas[0]:g} (same instance)")
    a2.set_title("last iterate, paired ratio: mean, 95 % bootstrap CI")
    _save(fig, out)
    plt.close(fig)
    return data


def plot_fig6(inputs: list[str], out: str) -> dict[str, Any]:
    """Grouped bars: throughput per Fig. 6 setting and method (mean, 95 % CI)."""
    plt = _plt()
    rows = _rows(inputs)
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    methods = ("dujo", "mrate", "+grid", "rand")
    fig, ax = plt.subplots(figsize=(12, 4.5))
    width = 0.8 / len(methods)
    data: dict[str, Any] = {}
    for k, m in enumerate(methods):
        stats = [
            _ci([r["throughput_gbps"][m] for r in rows if r["setting"] == s]) for s in settings
        ]
        mean = np.array([s[0] for s in stats])
        err = np.array([[s[0] - s[1] for s in stats], [s[2] - s[0] for s in stats]])
        ax.bar(
            np.arange(len(settings)) + k * width, mean, width, yerr=err, capsize=2, label=LABELS[m]
        )
        data[m] = {s: st for s, st in zip(settings, stats, strict=True)}
    n = {s: sum(r["setting"] == s for r in rows) for s in settings}
    ax.set_xticks(
        np.arange(len(settings)) + 0.4 - width / 2,
        [f"{s}\n(n={n[s]})" for s in settings],
        fontsize=7,
    )
    ax.set_ylabel("routed throughput [Gbit/s]")
    ax.set_title("Fig. 6: LCTs per satellite, field of regard, constellations (mean, 95 % CI)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    _save(fig, out)
    plt.close(fig)
    return data


def markdown_tables(fig3: str | None, fig6: list[str]) -> str:
    """Markdown tables of Fig. 3 and Fig. 6 result files (means, paired ratios with 95 % CIs)."""
    lines: list[str] = []
    if fig3:
        rows = _rows([fig3])
        betas = sorted({float(r["beta"]) for r in rows})
        ref = {int(r["seed"]): r for r in rows if float(r["beta"]) == betas[0]}
        lines += [
            "| beta | n | h_10 | h_50 | h_100 | h_250 | h_500 | bound | DuJo (last) | DuJo* "
            f"(best of last/best) | last / last at beta = {betas[0]:g} (95 % CI) |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for b in betas:
            rs = [r for r in rows if float(r["beta"]) == b]
            hs = [np.mean([r["h_at"][k] for r in rs]) for k in ("10", "50", "100", "250", "500")]
            ratio = _ci(
                [
                    r["throughput_last"] / ref[int(r["seed"])]["throughput_last"]
                    for r in rs
                    if int(r["seed"]) in ref
                ]
            )
            star = np.mean([max(r["throughput_last"], r["throughput_best"]) for r in rs])
            lines.append(
                f"| {b:g} | {len(rs)} | "
                + " | ".join(f"{h:.0f}" for h in hs)
                + f" | {np.mean([r['bound'] for r in rs]):.1f} | "
                f"{np.mean([r['throughput_last'] for r in rs]):.1f} | {star:.1f} | "
                f"{ratio[0]:.3f} ({ratio[1]:.3f}-{ratio[2]:.3f}) |"
            )
        lines.append("")
    if fig6:
        rows = _rows(fig6)
        settings = list(dict.fromkeys(r["setting"] for r in rows))
        lines += [
            "| setting | n | DuJo | MRate | SaTE | +Grid | Rand | bound | DuJo/MRate (95 % CI) "
            "| DuJo/+Grid (95 % CI) | DuJo > MRate | gap DuJo |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for st in settings:
            rs = [r for r in rows if r["setting"] == st]

            def m(k: str, rs: list = rs) -> float:
                return float(np.mean([r["throughput_gbps"][k] for r in rs]))

            def rat(k: str, rs: list = rs) -> tuple[float, float, float]:
                return _ci([r["throughput_gbps"]["dujo"] / r["throughput_gbps"][k] for r in rs])

            a, g = rat("mrate"), rat("+grid")
            wins = sum(r["throughput_gbps"]["dujo"] > r["throughput_gbps"]["mrate"] for r in rs)
            lines.append(
                f"| {st} | {len(rs)} | {m('dujo'):.1f} | {m('mrate'):.1f} | {m('sate'):.1f} | "
                f"{m('+grid'):.1f} | {m('rand'):.1f} | "
                f"{np.mean([r['bound_gbps'] for r in rs]):.1f} | {a[0]:.2f} ({a[1]:.2f}-{a[2]:.2f})"
                f" | {g[0]:.2f} ({g[1]:.2f}-{g[2]:.2f}) | {wins}/{len(rs)} | "
                f"{np.mean([r['gap']['dujo'] for r in rs]):.2f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.lisl_plots", description=__doc__.split("\n")[0]
    )
    sub = ap.add_subparsers(dest="cmd", required=True)

    def paths(t: str) -> list[str]:
        return [x for x in t.split(",") if x]

    t = sub.add_parser("throughput")
    t.add_argument("--inputs", type=paths, required=True)
    t.add_argument("--out", required=True)
    m = sub.add_parser("map")
    m.add_argument("--n-sats", type=int, default=1000)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--iterations", type=int, default=500)
    m.add_argument("--out", required=True)
    f3 = sub.add_parser("fig3")
    f3.add_argument("--input", required=True)
    f3.add_argument("--out", required=True)
    f6 = sub.add_parser("fig6")
    f6.add_argument("--inputs", type=paths, required=True)
    f6.add_argument("--out", required=True)
    tb = sub.add_parser("tables", help="Markdown tables of Fig. 3 / Fig. 6 results")
    tb.add_argument("--fig3", default=None)
    tb.add_argument("--fig6", type=paths, default=[])
    a = ap.parse_args(argv)
    if a.cmd == "tables":
        print(markdown_tables(a.fig3, a.fig6))
        return
    if a.cmd == "throughput":
        plot_throughput(a.inputs, a.out)
    elif a.cmd == "map":
        d = plot_map(a.n_sats, a.seed, a.iterations, a.out)
        print({k: v for k, v in d.items() if k != "busiest_routes"})
    elif a.cmd == "fig3":
        plot_fig3(a.input, a.out)
    else:
        plot_fig6(a.inputs, a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
