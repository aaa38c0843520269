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

All print a table and write JSON atomically.
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

__all__ = ["timing", "fig4", "tiny", "beta_sweep", "main"]

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
            pb, summary, _ = _problem(n, seed, preset, overrides)
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
            rows.append(
                {
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
            )
            print(
                f"I={n:>5} seed={seed:>2}  "
                + "  ".join(f"{k}={v:7.1f}" for k, v in thr.items())
                + f"  bound={bound:7.1f}  ({sol.solve_time_s:.0f} s)",
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
    """Fig. 3: step-size exponent vs dual estimate and converted throughput."""
    betas = [0.5, 0.7, 0.9] if betas is None else betas
    seeds = [0] if seeds is None else seeds
    rows = []
    for seed in seeds:
        pb, _, _ = _problem(n_sats, seed, "paper")
        for beta in betas:
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
                }
            )
            r = rows[-1]
            print(
                f"seed={seed} beta={beta:.1f} last={r['throughput_last']:.1f} "
                f"best={r['throughput_best']:.1f} bound={r['bound']:.1f} h={r['h_at']}",
                flush=True,
            )
    result = {"meta": _meta(), "n_sats": n_sats, "iterations": iterations, "rows": rows}
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
    a = ap.parse_args(argv)
    if a.cmd == "timing":
        timing(a.n_sats, a.iterations, a.seeds, a.preset, a.out)
    elif a.cmd == "fig4":
        overrides = {}
        for item in a.set:
            key, _, value = item.partition("=")
            overrides[key.strip()] = _value(value.strip())
        fig4(a.sizes, a.seeds, a.iterations, a.preset, a.out, overrides)
    elif a.cmd == "tiny":
        tiny(a.n_sats, a.seeds, a.milp_time, a.iterations, a.out)
    else:
        beta_sweep(a.n_sats, a.betas, a.seeds, a.iterations, a.out)


if __name__ == "__main__":
    main()
