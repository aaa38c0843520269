"""Paired evaluation of lisl methods on held-out snapshots (``evaluate.py``).

Every policy runs on the same snapshots ``(I, seed)`` for ``I`` in ``evaluate.sizes`` and seeds
``seed0 .. seed0 + seeds - 1`` (disjoint from the predictor's training seeds 100000+ and
validation seeds 200000+).  Policies:

* ``dujo`` (Alg. 1, last iterate, ``dujo_iterations``), ``dujo-best`` (the better of the last and
  the best iterate), ``mrate``, ``sate``, ``+grid``, ``rand`` (:mod:`oracles.lisl`);
* a run folder of a trained ``gnn`` (price predictor + DuJo's conversion) or ``ppo`` agent
  (the actor's mean prices + DuJo's conversion).

Per snapshot: routed throughput [Gbit/s], served share, wall-clock time of the method [s] and
the certified gap ``1 - throughput / bound`` when DuJo (which computes the dual bound) is listed.
Summary per size: mean with a 95 % bootstrap interval, the paired difference to the first policy
(mean, 95 % bootstrap interval), the mean paired ratio and the number of wins.  Written
atomically: ``results.json`` and ``results.md`` in ``evaluate.out``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from agents.lisl.config import BUILTIN_POLICIES, LislExperiment
from agents.lisl.data import build_snapshot
from leo_env.io import atomic_write_json, atomic_write_text
from leo_env.parallel import pmap
from oracles.lisl import BASELINES, DujoParams, convert_prices, dujo, served_share

__all__ = ["policy_label", "evaluate_snapshot", "summarize", "evaluate"]

_MODELS: dict[tuple[str, bool], Any] = {}


def policy_label(policy: str) -> str:
    """Table name of a policy: the built-in name, or ``<agent>:<run folder name>``."""
    if policy in BUILTIN_POLICIES:
        return policy
    p = Path(policy)
    agent = str(OmegaConf.load(p / "config.yaml").agent)
    return f"{agent}:{p.name}"


def _learned(policy: str, trust: bool) -> tuple[str, Any]:
    key = (str(Path(policy).resolve()), trust)
    if key not in _MODELS:
        p = Path(policy)
        if not (p / "config.yaml").exists():
            raise FileNotFoundError(
                f"policy {policy!r} is neither a built-in ({', '.join(BUILTIN_POLICIES)}) nor a "
                "run folder with config.yaml"
            )
        agent = str(OmegaConf.load(p / "config.yaml").agent)
        if agent == "gnn":
            from agents.lisl.training import load_predictor

            _MODELS[key] = ("gnn", load_predictor(p, trust=trust))
        elif agent == "ppo":
            from agents.lisl.ppo import PpoPolicy, load_actor

            _MODELS[key] = ("ppo", PpoPolicy(load_actor(p, trust=trust)))
        else:
            raise ValueError(f"run folder {policy} has agent {agent!r}: nothing to evaluate")
    return _MODELS[key]


def evaluate_snapshot(
    n_sats: int,
    seed: int,
    policies: list[str],
    dujo_iterations: int,
    overrides: dict[str, Any],
    trust: bool,
) -> dict[str, Any]:
    """Every policy on one snapshot; one result row."""
    import torch

    torch.set_num_threads(1)
    inst, pb = build_snapshot(n_sats, seed, overrides)
    row: dict[str, Any] = {
        "n_sats": int(n_sats),
        "seed": int(seed),
        "demand_gbps": float(pb.demand_gbps.sum()),
        "throughput_gbps": {},
        "served_share": {},
        "time_s": {},
        "bound_gbps": None,
    }
    dujo_sol = None
    for pol in policies:
        t0 = time.perf_counter()
        if pol in ("dujo", "dujo-best"):
            if dujo_sol is None:
                dujo_sol = dujo(pb, DujoParams(iterations=dujo_iterations, iterate="both"))
                row["bound_gbps"] = float(dujo_sol.upper_bound_gbps)
                row["time_s"]["dujo"] = (
                    dujo_sol.info["subgradient_time_s"] + dujo_sol.info["conversion_time_s"]
                )
            info = dujo_sol.info
            thr = info["throughput_last"] if pol == "dujo" else dujo_sol.throughput_gbps
            if pol == "dujo-best":
                row["time_s"][pol] = row["time_s"]["dujo"]
            label = pol
        elif pol in BASELINES:
            sol = BASELINES[pol](pb, np.random.default_rng(seed))
            thr, label = sol.throughput_gbps, pol
            row["time_s"][label] = time.perf_counter() - t0
        else:
            kind, model = _learned(pol, trust)
            label = policy_label(pol)
            if kind == "gnn":
                from agents.lisl.predictor import predictor_solution

                sol, t = predictor_solution(model, inst, pb)
                row.setdefault("time_parts_s", {})[label] = t
            else:
                from leo_env.envs.lisl.core import graph_observation

                obs = graph_observation(
                    inst, pb, pb.graph.n_links, max_distance_km=inst.config.max_distance_km
                )
                sol = convert_prices(pb, model.prices(obs), method="ppo")
            thr = sol.throughput_gbps
            row["time_s"][label] = time.perf_counter() - t0
        row["throughput_gbps"][label] = float(thr)
        row["served_share"][label] = served_share(pb, np.array([thr]))
    return row


def _boot_ci(x: np.ndarray, n_boot: int, rng: np.random.Generator) -> list[float]:
    if x.size < 2:
        return [float(x.mean()), float(x.mean())]
    means = x[rng.integers(0, x.size, (n_boot, x.size))].mean(axis=1)
    return [float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))]


def summarize(rows: list[dict[str, Any]], labels: list[str], n_boot: int = 2000) -> list[dict]:
    """Per size and policy: mean, interval, paired difference/ratio to ``labels[0]``, wins."""
    rng = np.random.default_rng(0)
    out = []
    ref = labels[0]
    for n in sorted({r["n_sats"] for r in rows}):
        rs = [r for r in rows if r["n_sats"] == n]
        base = np.array([r["throughput_gbps"][ref] for r in rs])
        for lab in labels:
            x = np.array([r["throughput_gbps"][lab] for r in rs])
            d = x - base
            ratio = x / np.where(base > 0, base, np.nan)
            bounds = [r["bound_gbps"] for r in rs]
            gap = (
                float(np.mean([1 - v / b for v, b in zip(x, bounds, strict=True) if b]))
                if all(b is not None and b > 0 for b in bounds)
                else None
            )
            out.append(
                {
                    "n_sats": n,
                    "policy": lab,
                    "n": len(rs),
                    "mean_gbps": float(x.mean()),
                    "ci95_gbps": _boot_ci(x, n_boot, rng),
                    "diff_vs_ref_gbps": float(d.mean()),
                    "diff_ci95_gbps": _boot_ci(d, n_boot, rng),
                    "ratio_vs_ref": float(np.nanmean(ratio)),
                    "ratio_min": float(np.nanmin(ratio)),
                    "wins_vs_ref": int((x > base + 1e-9).sum()),
                    "mean_served_share": float(np.mean([r["served_share"][lab] for r in rs])),
                    "mean_time_s": float(np.mean([r["time_s"][lab] for r in rs])),
                    "mean_gap": gap,
                }
            )
    return out


def _markdown(summary: list[dict], ref: str) -> str:
    lines = [
        f"| I | policy | n | Gbit/s (95 % CI) | diff vs {ref} (95 % CI) | ratio vs {ref} (min) "
        "| wins | served | time s | gap |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        gap = "" if s["mean_gap"] is None else f"{s['mean_gap']:.2f}"
        lines.append(
            f"| {s['n_sats']} | {s['policy']} | {s['n']} | {s['mean_gbps']:.1f} "
            f"({s['ci95_gbps'][0]:.1f}-{s['ci95_gbps'][1]:.1f}) | {s['diff_vs_ref_gbps']:+.1f} "
            f"({s['diff_ci95_gbps'][0]:+.1f}, {s['diff_ci95_gbps'][1]:+.1f}) | "
            f"{s['ratio_vs_ref']:.3f} ({s['ratio_min']:.3f}) | {s['wins_vs_ref']}/{s['n']} | "
            f"{100 * s['mean_served_share']:.2f} % | {s['mean_time_s']:.3f} | {gap} |"
        )
    return "\n".join(lines) + "\n"


def evaluate(
    cfg: LislExperiment, policies: list[str], progress: bool = True, trust: bool = False
) -> dict[str, Any]:
    """Run the paired evaluation; returns ``{"rows", "summary", "markdown", "out"}``."""
    ev = cfg.evaluate
    pols = list(policies) if policies else list(ev.policies)
    for p in pols:
        if p not in BUILTIN_POLICIES:
            _learned(p, trust)  # fail early on a bad folder or digest
    labels = [policy_label(p) for p in pols]
    tasks = [
        (n, ev.seed0 + k, pols, ev.dujo_iterations, dict(ev.overrides), trust)
        for n in ev.sizes
        for k in range(ev.seeds)
    ]
    rows = pmap(
        evaluate_snapshot,
        tasks,
        backend="process" if ev.workers > 1 else "serial",
        workers=ev.workers,
        desc="lisl evaluation",
        progress=progress,
    )
    summary = summarize(rows, labels, ev.bootstrap)
    md = _markdown(summary, labels[0])
    out = Path(ev.out)
    out.mkdir(parents=True, exist_ok=True)
    from agents.provenance import provenance

    atomic_write_json(
        out / "results.json",
        {
            "meta": provenance(),
            "config": cfg.to_dict(),
            "policies": pols,
            "labels": labels,
            "rows": rows,
            "summary": summary,
        },
    )
    atomic_write_text(out / "results.md", md)
    return {"rows": rows, "summary": summary, "markdown": md, "out": str(out.resolve())}
