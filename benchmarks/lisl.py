"""lisl family (DuJo) benchmarks: time per subgradient iteration and a Fig. 4 style comparison.

``python -m benchmarks.lisl timing [--n-sats 1000] [--iterations 50] [--seeds 0,1] [--out F]``
    Builds I-satellite instances and times DuJo's subgradient iteration (greedy matching,
    Dijkstra, transport LP, update), the conversion, the exact-matching dual bound and every
    baseline.

``python -m benchmarks.lisl fig4 [--sizes 500,750,1000,1250,1500] [--seeds 0,1,2]
[--iterations 500] [--out F]``
    Throughput vs I of DuJo (last iterate, as published; and the better of last/best),
    MRate, SaTE, +Grid and Rand on the same instances, the certified dual bound and every
    method's certified gap ``1 - throughput / bound``, with paired ratios and win counts.

``python -m benchmarks.lisl tiny [--n-sats 12] [--seeds 0-29] [--milp-time 30] [--out F]``
    Dense tiny instances (``subset="cluster"``, ``n_nearest=2``, 1000 gateway cities so that
    flows exist; seeds without flows are skipped): DuJo and MRate against the exact MILP
    (incumbent and proven bound within the time limit) and DuJo's dual bound.

``python -m benchmarks.lisl beta [--n-sats 1000] [--betas 0.5,0.7,0.9] [--seeds 0]``
    Fig. 3: dual estimate and converted throughput for several step-size exponents.

``python -m benchmarks.lisl fig6 [--settings a,b] [--seeds 0-9] [--out F]``
    Fig. 6: average LCTs per satellite (1.5 / 2 / 3 / 4), field of regard (45 / 60 / 90 deg)
    and constellations (Starlink Gen1 I = 1000, Walker-delta 50 deg I = 1000 with 2 and 4 LCTs,
    OneWeb I = 588), every method on the same instances (resumable).

``python -m benchmarks.lisl learned --run runs/lisl/lisl_gnn [--sizes 1000] [--seeds 0-9]
[--references results/lisl_fig3.json,results/lisl_fig6_lct.json] [--out F]``
    The GNN price predictor against DuJo on the same snapshots: throughput ratio, and time per
    snapshot (features + forward pass, conversion).

All print a table and write JSON atomically (``fig6`` and ``beta`` after every instance, and
they resume from an existing ``--out``).  Plots: ``python -m benchmarks.lisl_plots``.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from typing import Any

import numpy as np

from leo_env.core.overrides import add_set_argument
from leo_env.io import atomic_write_json
from leo_env.scenario.lisl import LISL_PRESETS, PAPER_SIZES, build_lisl_instance
from oracles.lisl import (
    BASELINES,
    DujoParams,
    LislProblem,
    convert_prices,
    dual_bound,
    dujo,
    mrate,
    solve_milp,
)
from oracles.lisl.dujo import subgradient
from oracles.lisl.lp import TransportLP

__all__ = [
    "timing",
    "fig4",
    "fig6",
    "tiny",
    "beta_sweep",
    "learned",
    "summarize_setting",
    "main",
]

BASE_METHODS = ("mrate", "sate", "+grid", "rand")


def _problem(
    n_sats: int, seed: int, preset: str, overrides: dict[str, Any] | None = None
) -> tuple[LislProblem, dict[str, Any], float]:
    t0 = time.perf_counter()
    inst = build_lisl_instance(LISL_PRESETS[preset], n_sats=n_sats, seed=seed, **(overrides or {}))
    return LislProblem(inst.graph, inst.traffic), inst.summary(), time.perf_counter() - t0


def _meta() -> dict[str, Any]:
    """Provenance of a benchmark result (command, versions, git commit, machine, time)."""
    from agents.provenance import provenance

    return provenance()


def timing(
    n_sats: int = 1000,
    iterations: int = 50,
    seeds: list[int] | None = None,
    preset: str = "paper",
    out: str | None = None,
) -> dict[str, Any]:
    """Time the pieces of DuJo and the baselines on I-satellite instances."""
    seeds = [0, 1] if seeds is None else seeds
    # compile the numba kernels outside the timings
    warm, _, _ = _problem(150, 0, "ci")
    dujo(warm, DujoParams(iterations=3))
    rows = []
    for seed in seeds:
        pb, summary, t_build = _problem(n_sats, seed, preset)
        tlp = TransportLP(pb)
        tr = subgradient(pb, DujoParams(iterations=iterations), transport=tlp)
        t0 = time.perf_counter()
        convert_prices(pb, tr.lam_last)
        t_conv = time.perf_counter() - t0
        t0 = time.perf_counter()
        dual_bound(pb, tr.lam_last, transport=tlp)
        t_bound = time.perf_counter() - t0
        base = {}
        for name in BASE_METHODS:
            t0 = time.perf_counter()
            BASELINES[name](pb, np.random.default_rng(seed))
            base[name] = time.perf_counter() - t0
        rows.append(
            {
                "seed": seed,
                **summary,
                "build_s": t_build,
                "iter_s": tr.iter_time_s,
                "conversion_s": t_conv,
                "exact_bound_s": t_bound,
                "baseline_s": base,
            }
        )
    result = {
        "meta": _meta(),
        "n_sats": n_sats,
        "iterations": iterations,
        "preset": preset,
        "rows": rows,
        "median_iter_s": statistics.median(r["iter_s"] for r in rows),
    }
    print(f"lisl timing, I = {n_sats}, {iterations} iterations, preset {preset}")
    print(
        f"{'seed':>4} {'pairs':>6} {'flows':>6} {'build s':>8} {'iter s':>8} {'conv s':>7} "
        f"{'bound s':>8} {'mrate s':>8}"
    )
    for r in rows:
        print(
            f"{r['seed']:>4} {r['n_pairs']:>6} {r['n_flows']:>6} {r['build_s']:>8.2f} "
            f"{r['iter_s']:>8.4f} {r['conversion_s']:>7.3f} {r['exact_bound_s']:>8.3f} "
            f"{r['baseline_s']['mrate']:>8.3f}"
        )
    print(f"median time per subgradient iteration: {result['median_iter_s']:.4f} s")
    if out:
        atomic_write_json(out, result)
    return result


def fig4(
    sizes: list[int] | None = None,
    seeds: list[int] | None = None,
    iterations: int = 500,
    preset: str = "paper",
    out: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Throughput vs I for every method with the certified dual bound (paired instances)."""
    sizes = list(PAPER_SIZES) if sizes is None else sizes
    seeds = [0, 1, 2] if seeds is None else seeds
    params = DujoParams(iterations=iterations, iterate="both")
    rows = []
    for n in sizes:
        for seed in seeds:
            row = _instance_row(n, seed, overrides or {}, params, preset)
            rows.append(row)
            thr, bound = row["throughput_gbps"], row["bound_gbps"]
            print(
                f"I={n:>5} seed={seed:>2}  "
                + "  ".join(f"{k}={v:7.1f}" for k, v in thr.items())
                + f"  bound={bound:7.1f}  ({row['time_s']['dujo']:.0f} s)",
                flush=True,
            )
    summary_rows = []
    for n in sizes:
        rs = [r for r in rows if r["n_sats"] == n]

        def mean(key: str, rs: list = rs) -> float:
            return float(np.mean([r["throughput_gbps"][key] for r in rs]))

        def ratio(a: str, b: str, rs: list = rs) -> float:
            return float(np.mean([r["throughput_gbps"][a] / r["throughput_gbps"][b] for r in rs]))

        summary_rows.append(
            {
                "n_sats": n,
                "n_instances": len(rs),
                "mean_gbps": {k: mean(k) for k in rs[0]["throughput_gbps"]},
                "mean_bound_gbps": float(np.mean([r["bound_gbps"] for r in rs])),
                "dujo_over_mrate": ratio("dujo", "mrate"),
                "dujo_over_grid": ratio("dujo", "+grid"),
                "dujo_over_rand": ratio("dujo", "rand"),
                "dujo_wins_vs_mrate": int(
                    sum(r["throughput_gbps"]["dujo"] > r["throughput_gbps"]["mrate"] for r in rs)
                ),
                "mean_gap_dujo": float(np.mean([r["gap"]["dujo"] for r in rs])),
                "mean_gap_mrate": float(np.mean([r["gap"]["mrate"] for r in rs])),
            }
        )
    print()
    print(
        f"{'I':>5} {'n':>3} {'DuJo':>7} {'DuJo*':>7} {'MRate':>7} {'SaTE':>7} {'+Grid':>7} "
        f"{'Rand':>7} {'bound':>7} {'D/MR':>5} {'D/G':>5} {'wins':>5} {'gapD':>5}"
    )
    for s in summary_rows:
        m = s["mean_gbps"]
        print(
            f"{s['n_sats']:>5} {s['n_instances']:>3} {m['dujo']:>7.1f} {m['dujo-best']:>7.1f} "
            f"{m['mrate']:>7.1f} {m['sate']:>7.1f} {m['+grid']:>7.1f} {m['rand']:>7.1f} "
            f"{s['mean_bound_gbps']:>7.1f} {s['dujo_over_mrate']:>5.2f} {s['dujo_over_grid']:>5.2f} "
            f"{s['dujo_wins_vs_mrate']:>2}/{s['n_instances']:<2} {s['mean_gap_dujo']:>5.2f}"
        )
    result = {
        "meta": _meta(),
        "preset": preset,
        "overrides": dict(overrides or {}),
        "params": dataclasses.asdict(params),
        "rows": rows,
        "summary": summary_rows,
    }
    if out:
        atomic_write_json(out, result)
    return result


def tiny(
    n_sats: int = 12,
    seeds: list[int] | None = None,
    milp_time_s: float = 30.0,
    iterations: int = 500,
    out: str | None = None,
) -> dict[str, Any]:
    """DuJo and MRate against the exact MILP on dense tiny instances."""
    seeds = list(range(30)) if seeds is None else seeds
    rows = []
    print(
        f"{'seed':>4} {'pairs':>5} {'flows':>5} {'DuJo':>7} {'DuJo*':>7} {'MRate':>7} "
        f"{'MILP':>7} {'MILPub':>7} {'opt':>4} {'dual':>7}"
    )
    for seed in seeds:
        inst = build_lisl_instance(
            LISL_PRESETS["tiny"], n_sats=n_sats, seed=seed, n_nearest=2, n_gateways=1000
        )
        pb = LislProblem(inst.graph, inst.traffic)
        if pb.n_flows == 0:
            continue
        m = solve_milp(pb, time_limit_s=milp_time_s, max_sats=max(30, n_sats))
        d = dujo(pb, DujoParams(iterations=iterations, iterate="both"))
        row = {
            "seed": seed,
            "n_pairs": pb.graph.n_pairs,
            "n_flows": pb.n_flows,
            "dujo": d.info["throughput_last"],
            "dujo_best": d.throughput_gbps,
            "mrate": mrate(pb).throughput_gbps,
            "milp": m.throughput_gbps,
            "milp_bound": m.upper_bound_gbps,
            "milp_optimal": bool(m.info["optimal"]),
            "dual_bound": d.upper_bound_gbps,
            "milp_time_s": m.solve_time_s,
        }
        rows.append(row)
        print(
            f"{seed:>4} {row['n_pairs']:>5} {row['n_flows']:>5} {row['dujo']:>7.2f} "
            f"{row['dujo_best']:>7.2f} {row['mrate']:>7.2f} {row['milp']:>7.2f} "
            f"{row['milp_bound']:>7.2f} {'yes' if row['milp_optimal'] else 'no':>4} "
            f"{row['dual_bound']:>7.2f}",
            flush=True,
        )
    result = {"meta": _meta(), "n_sats": n_sats, "milp_time_s": milp_time_s, "rows": rows}
    if out:
        atomic_write_json(out, result)
    return result


def beta_sweep(
    n_sats: int = 1000,
    betas: list[float] | None = None,
    seeds: list[int] | None = None,
    iterations: int = 500,
    out: str | None = None,
) -> dict[str, Any]:
    """Fig. 3: step-size exponent vs dual estimate and converted throughput.

    Resumable: rows already in ``out`` (same seed and beta) are kept; the file is rewritten
    atomically after every run.  Each row keeps the whole trace ``h_k`` (every 5th iterate).
    """
    betas = [0.5, 0.7, 0.9] if betas is None else betas
    seeds = [0] if seeds is None else seeds
    rows = _load_rows(out)
    done = {(r["seed"], r["beta"]) for r in rows}

    def dump() -> dict[str, Any]:
        result = {"meta": _meta(), "n_sats": n_sats, "iterations": iterations, "rows": rows}
        if out:
            atomic_write_json(out, result)
        return result

    for seed in seeds:
        if all((seed, b) in done for b in betas):
            continue
        pb, _, _ = _problem(n_sats, seed, "paper")
        for beta in betas:
            if (seed, beta) in done:
                continue
            sol = dujo(pb, DujoParams(iterations=iterations, beta=beta, iterate="both"))
            h = sol.info["dual_trace"]
            rows.append(
                {
                    "seed": seed,
                    "beta": beta,
                    "throughput_last": sol.info["throughput_last"],
                    "throughput_best": sol.info["throughput_best"],
                    "bound": sol.upper_bound_gbps,
                    "h_at": {
                        str(k): float(h[k - 1]) for k in (10, 50, 100, 250, 500) if k <= h.size
                    },
                    "h_trace_every5": [float(x) for x in h[4::5]],
                }
            )
            r = rows[-1]
            print(
                f"seed={seed} beta={beta:.1f} last={r['throughput_last']:.1f} "
                f"best={r['throughput_best']:.1f} bound={r['bound']:.1f} h={r['h_at']}",
                flush=True,
            )
            dump()
    return dump()


#: Fig. 6 settings: name -> (instance overrides of the ``paper`` preset).  ``lct_mix`` draws 1-4
#: LCTs per satellite with the given probabilities (averages 1.5 and 3).
FIG6_SETTINGS: dict[str, dict[str, Any]] = {
    "starlink/lct2/for60": {},
    "starlink/lct1.5/for60": {"lct_mix": (0.5, 0.5, 0.0, 0.0)},
    "starlink/lct3/for60": {"lct_mix": (0.0, 0.5, 0.0, 0.5)},
    "starlink/lct4/for60": {"lcts_per_sat": 4},
    "starlink/lct2/for45": {"for_half_angle_deg": 45.0},
    "starlink/lct2/for90": {"for_half_angle_deg": 90.0},
    "walker50/lct2/for60": {"constellation": "walker-50"},
    "walker50/lct4/for60": {"constellation": "walker-50", "lcts_per_sat": 4},
    "oneweb/lct2/for60": {"constellation": "oneweb", "n_sats": 588},
}


def _load_rows(out: str | None) -> list[dict[str, Any]]:
    import json
    import os

    if out and os.path.exists(out):
        with open(out) as fh:
            return list(json.load(fh).get("rows", []))
    return []


def _instance_row(
    n_sats: int,
    seed: int,
    overrides: dict[str, Any],
    params: DujoParams,
    preset: str = "paper",
) -> dict[str, Any]:
    """DuJo (last and best iterate), the baselines and the certified bound on one instance."""
    ov = dict(overrides)
    n = int(ov.pop("n_sats", n_sats))
    pb, summary, _ = _problem(n, seed, preset, ov)
    sol = dujo(pb, params)
    thr = {
        "dujo": sol.info["throughput_last"],
        "dujo-best": max(sol.info["throughput_last"], sol.info["throughput_best"]),
    }
    times = {"dujo": sol.solve_time_s}
    for name in BASE_METHODS:
        s = BASELINES[name](pb, np.random.default_rng(seed))
        thr[name] = s.throughput_gbps
        times[name] = s.solve_time_s
    bound = sol.upper_bound_gbps
    return {
        "n_sats": n,
        "seed": seed,
        **{f"inst_{k}": v for k, v in summary.items()},
        "throughput_gbps": thr,
        "bound_gbps": bound,
        "gap": {k: 1.0 - v / bound if bound > 0 else 0.0 for k, v in thr.items()},
        "time_s": times,
        "iter_s": sol.info["iter_time_s"],
        "best_k": sol.info["best_k"],
    }


def _ci95(x: list[float], n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95 % interval of the mean."""
    a = np.asarray(x, dtype=float)
    if a.size < 2:
        return float(a.mean()), float(a.mean())
    rng = np.random.default_rng(seed)
    means = a[rng.integers(0, a.size, (n_boot, a.size))].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def summarize_setting(rs: list[dict[str, Any]]) -> dict[str, Any]:
    """Means, 95 % bootstrap intervals, paired ratios and wins of one setting's rows."""
    methods = list(rs[0]["throughput_gbps"])
    out: dict[str, Any] = {"n_instances": len(rs)}
    for m in methods:
        v = [r["throughput_gbps"][m] for r in rs]
        out[m] = {"mean": float(np.mean(v)), "ci95": _ci95(v)}
    out["bound"] = float(np.mean([r["bound_gbps"] for r in rs]))
    for b in BASE_METHODS:
        ratios = [r["throughput_gbps"]["dujo"] / r["throughput_gbps"][b] for r in rs]
        out[f"dujo_over_{b}"] = {"mean": float(np.mean(ratios)), "ci95": _ci95(ratios)}
    out["dujo_wins_vs_mrate"] = int(
        sum(r["throughput_gbps"]["dujo"] > r["throughput_gbps"]["mrate"] for r in rs)
    )
    out["gap_dujo"] = float(np.mean([r["gap"]["dujo"] for r in rs]))
    return out


def fig6(
    settings: list[str] | None = None,
    seeds: list[int] | None = None,
    iterations: int = 500,
    out: str | None = None,
) -> dict[str, Any]:
    """Fig. 6: LCTs per satellite, field of regard and constellations (I = 1000; OneWeb 588).

    Resumable: rows already in ``out`` (same setting and seed) are kept and skipped; the file is
    rewritten atomically after every instance.
    """
    settings = list(FIG6_SETTINGS) if settings is None else settings
    for name in settings:
        if name not in FIG6_SETTINGS:
            raise ValueError(f"unknown Fig. 6 setting {name!r}; known: {sorted(FIG6_SETTINGS)}")
    seeds = list(range(10)) if seeds is None else seeds
    params = DujoParams(iterations=iterations, iterate="both")
    rows = _load_rows(out)
    done = {(r["setting"], r["seed"]) for r in rows}

    def dump() -> dict[str, Any]:
        summary = {}
        for name in FIG6_SETTINGS:
            rs = [r for r in rows if r["setting"] == name]
            if rs:
                summary[name] = summarize_setting(rs)
        result = {
            "meta": _meta(),
            "iterations": iterations,
            "settings": {k: FIG6_SETTINGS[k] for k in settings},
            "rows": rows,
            "summary": summary,
        }
        if out:
            atomic_write_json(out, result)
        return result

    for seed in seeds:
        for name in settings:
            if (name, seed) in done:
                continue
            row = {"setting": name, **_instance_row(1000, seed, FIG6_SETTINGS[name], params)}
            rows.append(row)
            thr = row["throughput_gbps"]
            print(
                f"{name:<24} seed={seed:>2} "
                + " ".join(f"{k}={v:7.1f}" for k, v in thr.items())
                + f" bound={row['bound_gbps']:7.1f} ({row['time_s']['dujo']:.0f} s)",
                flush=True,
            )
            dump()
    result = dump()
    print()
    print(
        f"{'setting':<24} {'n':>3} {'DuJo':>7} {'MRate':>7} {'+Grid':>7} {'Rand':>7} "
        f"{'bound':>7} {'D/MR':>5} {'D/G':>5} {'wins':>6}"
    )
    for name, s in result["summary"].items():
        print(
            f"{name:<24} {s['n_instances']:>3} {s['dujo']['mean']:>7.1f} {s['mrate']['mean']:>7.1f} "
            f"{s['+grid']['mean']:>7.1f} {s['rand']['mean']:>7.1f} {s['bound']:>7.1f} "
            f"{s['dujo_over_mrate']['mean']:>5.2f} {s['dujo_over_+grid']['mean']:>5.2f} "
            f"{s['dujo_wins_vs_mrate']:>3}/{s['n_instances']:<2}"
        )
    return result


def _dujo_references(paths: list[str]) -> dict[tuple[int, int], float]:
    """DuJo's converted throughput (last iterate, K = 500, beta = 0.5) per ``(I, seed)``.

    Read from ``fig6`` files (the default setting ``starlink/lct2/for60``) and ``beta`` files
    (``beta = 0.5``): the same instance and parameters as ``fig4``'s DuJo.
    """
    import json

    ref: dict[tuple[int, int], float] = {}
    for p in paths:
        data = json.loads(open(p).read())
        for r in data.get("rows", []):
            if r.get("setting") == "starlink/lct2/for60":
                ref[(int(r["n_sats"]), int(r["seed"]))] = float(r["throughput_gbps"]["dujo"])
            elif "beta" in r and abs(float(r["beta"]) - 0.5) < 1e-12:
                ref[(int(data["n_sats"]), int(r["seed"]))] = float(r["throughput_last"])
    return ref


def learned(
    run: str,
    sizes: list[int] | None = None,
    seeds: list[int] | None = None,
    references: list[str] | None = None,
    refine: list[int] | None = None,
    out: str | None = None,
) -> dict[str, Any]:
    """GNN price predictor vs DuJo: throughput ratio and time per snapshot (parts timed).

    DuJo's throughput comes from ``references`` (``fig6``/``beta`` result files, same
    instances) when they hold the snapshot, else DuJo is run here.  ``refine`` adds rows where
    DuJo's subgradient is warm-started at the predicted prices for that many iterations.
    """
    from agents.lisl.predictor import predictor_solution
    from agents.lisl.training import load_predictor

    sizes = [1000] if sizes is None else sizes
    seeds = list(range(10)) if seeds is None else seeds
    ref = _dujo_references(references or [])
    import torch

    torch.set_num_threads(1)
    pred = load_predictor(run)
    warm, _, _ = _problem(150, 0, "ci")  # compile numba kernels, load torch, outside the timings
    from agents.lisl.data import build_snapshot

    inst_w, pb_w = build_snapshot(150, 0)
    predictor_solution(pred, inst_w, pb_w)
    rows = []
    for n in sizes:
        for seed in seeds:
            inst, pb = build_snapshot(n, seed)
            sol, t = predictor_solution(pred, inst, pb)
            sol.check_feasible(pb)
            if (n, seed) in ref:
                d, d_src = ref[(n, seed)], "reference file"
            else:
                d = dujo(pb, DujoParams(certify=False)).throughput_gbps
                d_src = "run here"
            row = {
                "n_sats": n,
                "seed": seed,
                "gnn_gbps": sol.throughput_gbps,
                "dujo_gbps": d,
                "dujo_source": d_src,
                "mrate_gbps": mrate(pb).throughput_gbps,
                "ratio": sol.throughput_gbps / d if d > 0 else 1.0,
                **{f"{k}": v for k, v in t.items()},
            }
            # DuJo's cost on the same snapshot, measured the same way (CPU time, 10 iterations)
            c0 = time.process_time()
            subgradient(pb, DujoParams(iterations=10, certify=False))
            row["dujo_iter_cpu_s"] = (time.process_time() - c0) / 10
            from agents.lisl.predictor import predict_prices

            for k in refine or []:
                lam0 = predict_prices(pred, pb, inst.pos_m, inst.config.max_distance_km * 1e3)
                t0 = time.perf_counter()
                tr = subgradient(pb, DujoParams(iterations=k, certify=False), lam0=lam0)
                thr = convert_prices(pb, tr.lam_last).throughput_gbps
                row[f"refine{k}_gbps"] = thr
                row[f"refine{k}_s"] = time.perf_counter() - t0 + t["total_s"]
            rows.append(row)
            print(
                f"I={n:>5} seed={seed:>2} gnn={row['gnn_gbps']:7.1f} dujo={d:7.1f} "
                f"mrate={row['mrate_gbps']:7.1f} ratio={row['ratio']:.3f} "
                f"time={t['total_s']:.3f} s (predict {t['predict_s']:.3f}, conversion "
                f"{t['conversion_s']:.3f}; CPU {t['cpu_s']:.3f})",
                flush=True,
            )
    summary = []
    for n in sizes:
        rs = [r for r in rows if r["n_sats"] == n]
        summary.append(
            {
                "n_sats": n,
                "n": len(rs),
                "ratio_mean": float(np.mean([r["ratio"] for r in rs])),
                "ratio_min": float(np.min([r["ratio"] for r in rs])),
                "ratio_ci95": list(_ci95([r["ratio"] for r in rs])),
                "gnn_over_mrate": float(np.mean([r["gnn_gbps"] / r["mrate_gbps"] for r in rs])),
                "dujo_over_mrate": float(np.mean([r["dujo_gbps"] / r["mrate_gbps"] for r in rs])),
                "wins_vs_mrate": int(sum(r["gnn_gbps"] > r["mrate_gbps"] for r in rs)),
                "time_median_s": float(np.median([r["total_s"] for r in rs])),
                "time_max_s": float(np.max([r["total_s"] for r in rs])),
                "cpu_median_s": float(np.median([r["cpu_s"] for r in rs])),
                "cpu_max_s": float(np.max([r["cpu_s"] for r in rs])),
                "dujo_iter_cpu_median_s": float(np.median([r["dujo_iter_cpu_s"] for r in rs])),
                "predict_median_s": float(np.median([r["predict_s"] for r in rs])),
                "conversion_median_s": float(np.median([r["conversion_s"] for r in rs])),
                **{
                    f"refine{k}_ratio": float(
                        np.mean([r[f"refine{k}_gbps"] / r["dujo_gbps"] for r in rs])
                    )
                    for k in (refine or [])
                },
            }
        )
        s = summary[-1]
        print(
            f"I={n}: GNN/DuJo {s['ratio_mean']:.3f} (min {s['ratio_min']:.3f}, CI "
            f"{s['ratio_ci95'][0]:.3f}-{s['ratio_ci95'][1]:.3f}), GNN/MRate {s['gnn_over_mrate']:.2f}"
            f" (DuJo/MRate {s['dujo_over_mrate']:.2f}), wall time median {s['time_median_s']:.3f} s "
            f"max {s['time_max_s']:.3f} s, CPU time median {s['cpu_median_s']:.3f} s "
            f"max {s['cpu_max_s']:.3f} s; DuJo CPU per iteration median "
            f"{s['dujo_iter_cpu_median_s']:.4f} s (x 500 = {500 * s['dujo_iter_cpu_median_s']:.1f} s)"
        )
    result = {"meta": _meta(), "run": run, "rows": rows, "summary": summary}
    if out:
        atomic_write_json(out, result)
    return result


def _value(text: str) -> int | float | str:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.lisl", description=__doc__.split("\n")[0]
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("timing", help="time per subgradient iteration and per method")
    t.add_argument("--n-sats", type=int, default=1000)
    t.add_argument("--iterations", type=int, default=50)
    t.add_argument("--seeds", type=_ints, default=[0, 1])
    t.add_argument("--preset", default="paper", choices=sorted(LISL_PRESETS))
    t.add_argument("--out", default=None)
    f = sub.add_parser("fig4", help="throughput vs I with the certified gap")
    f.add_argument("--sizes", type=_ints, default=list(PAPER_SIZES))
    f.add_argument("--seeds", type=_ints, default=[0, 1, 2])
    f.add_argument("--iterations", type=int, default=500)
    f.add_argument("--preset", default="paper", choices=sorted(LISL_PRESETS))
    f.add_argument("--out", default=None)
    add_set_argument(f, "active_user_share=1e-6 constellation=oneweb")
    ti = sub.add_parser("tiny", help="DuJo vs the exact MILP on dense tiny instances")
    ti.add_argument("--n-sats", type=int, default=12)
    ti.add_argument("--seeds", type=_ints, default=list(range(30)))
    ti.add_argument("--milp-time", type=float, default=30.0)
    ti.add_argument("--iterations", type=int, default=500)
    ti.add_argument("--out", default=None)
    b = sub.add_parser("beta", help="Fig. 3: step-size exponent sweep")
    b.add_argument("--n-sats", type=int, default=1000)
    b.add_argument("--betas", type=_floats, default=[0.5, 0.7, 0.9])
    b.add_argument("--seeds", type=_ints, default=[0])
    b.add_argument("--iterations", type=int, default=500)
    b.add_argument("--out", default=None)
    f6 = sub.add_parser("fig6", help="Fig. 6: LCTs, field of regard, constellations")
    f6.add_argument("--settings", type=lambda t: [x for x in t.split(",") if x], default=None)
    f6.add_argument("--seeds", type=_ints, default=list(range(10)))
    f6.add_argument("--iterations", type=int, default=500)
    f6.add_argument("--out", default=None)
    lg = sub.add_parser("learned", help="GNN price predictor vs DuJo (ratio, time)")
    lg.add_argument("--run", required=True, help="run folder of a trained gnn agent")
    lg.add_argument("--sizes", type=_ints, default=[1000])
    lg.add_argument("--seeds", type=_ints, default=list(range(10)))
    lg.add_argument("--references", type=lambda t: [x for x in t.split(",") if x], default=[])
    lg.add_argument("--refine", type=_ints, default=[])
    lg.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    if a.cmd == "timing":
        timing(a.n_sats, a.iterations, a.seeds, a.preset, a.out)
    elif a.cmd == "fig4":
        overrides = {}
        for item in a.set:
            key, _, value = item.partition("=")
            overrides[key.strip()] = _value(value.strip())
        fig4(a.sizes, a.seeds, a.iterations, a.preset, a.out, overrides)
    elif a.cmd == "learned":
        learned(a.run, a.sizes, a.seeds, a.references, a.refine, a.out)
    elif a.cmd == "fig6":
        fig6(a.settings, a.seeds, a.iterations, a.out)
    elif a.cmd == "tiny":
        tiny(a.n_sats, a.seeds, a.milp_time, a.iterations, a.out)
    else:
        beta_sweep(a.n_sats, a.betas, a.seeds, a.iterations, a.out)


if __name__ == "__main__":
    main()
