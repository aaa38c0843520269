"""Paired evaluation of association policies on held-out scenarios: metrics, tests, tables, plots.

Every policy plays the same held-out scenarios (seeds ``2**30 + i`` of the evaluation split,
``i < seeds``) at every prediction-error level; the environment's reset seed ``i`` fixes the
forecast error draws, so the pairs share scenarios *and* forecast noise (common random numbers;
the error factors of a seed are ``max(0, 1 + e z)`` with the same ``z`` at every level ``e``).
Policies that never read forecasts (B0 greedy, B1 hindsight) play each seed once and their
episodes are reused at every level.

Per episode (:func:`play`): utility (the episode return, i.e. the P2 objective
``sum log(eps + xi) - lambda_h sum h`` with exact P1 in every slot), mean ``xi``, Jain index of
``xi`` (mean over slots), worst-cell ``xi`` (lowest per-cell mean), served bits, total and
max-per-cell handovers, budget violations, emergency handovers, repairs, and the decision time
per slot (``policy.act``; a policy's per-episode set-up such as B1's hindsight solve is spread
over the slots).

Partial results are written atomically after every episode (``<out>/partial/*.json``), so an
interrupted evaluation resumes where it stopped.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from agents.config import BaselineConfig, EnvConfig, env_key
from agents.envs import VALIDATION_SEED_BASE, make_env
from leo_env.envs.downlink.tables import EVAL_SEED_RANGE
from leo_env.io import atomic_write_json, atomic_write_text
from leo_env.policies import Policy

__all__ = [
    "PolicySpec",
    "play",
    "baseline_spec",
    "agent_spec",
    "run_evaluation",
    "summarise",
    "wilcoxon_pairs",
    "markdown_table",
    "write_outputs",
    "METRICS",
]

METRICS = (
    "utility", "pf_utility", "xi_mean", "jain_slot_mean", "worst_cell_xi", "served_bits", "handovers_total",
    "handovers_max_cell", "budget_violations", "emergencies", "repairs", "decision_ms",
)


@dataclass
class PolicySpec:
    """A policy to evaluate.

    Attributes
    ----------
    label : str
        Name in tables (``B0``, ``B1``, ``B2``, ``B5``, ...).
    make : callable
        Builds a fresh :class:`~leo_env.envs.downlink.policies.Policy` (called once per level).
    forecast_free : bool
        The policy never reads forecasts: play once, reuse at every level.
    key : dict
        What identifies the policy in partial results (a changed key restarts its episodes).
    run_dir : str or None
        Run folder of a learned agent (training curves).
    env : dict
        Observation settings the policy needs that override the evaluation's environment
        config (a learned agent's ``lookahead``); the scenarios, forecasts and dynamics are the
        same for every policy.
    """

    label: str
    make: Callable[[], Policy]
    forecast_free: bool = False
    key: dict[str, Any] = field(default_factory=dict)
    run_dir: str | None = None
    env: dict[str, Any] = field(default_factory=dict)


def baseline_spec(name: str, b1: BaselineConfig, b2: BaselineConfig) -> PolicySpec:
    """Spec of ``b0``, ``b1``, ``b2`` or ``random``."""
    from leo_env.envs.downlink.policies import (
        GreedyPolicy,
        HindsightPolicy,
        MPCPolicy,
        RandomPolicy,
    )

    n = name.lower()
    if n == "b0":
        return PolicySpec("B0", GreedyPolicy, forecast_free=True, key={"policy": "b0"})
    if n == "b1":
            return PolicySpec(
            "B1", lambda: HindsightPolicy(method=b1.method, proxy=b1.proxy, **b1.options),
            forecast_free=True, key={"policy": "b1", **asdict(b1)},
        )
    if n == "b2":
            return PolicySpec(
            "B2", lambda: MPCPolicy(window=b2.window, method=b2.method, proxy=b2.proxy, **b2.options),
            key={"policy": "b2", **asdict(b2)},
        )
    if n == "random":
        return PolicySpec("random", lambda: RandomPolicy(seed=0), key={"policy": "random"})
    raise ValueError(f"unknown baseline {name!r} (b0, b1, b2, random, or a run folder / model zip)")


def is_factory(name: str) -> bool:
    """``"pkg.module:factory"`` (an importable callable), not a path."""
    mod, sep, attr = name.partition(":")
    return bool(sep) and attr.isidentifier() and all(p.isidentifier() for p in mod.split(".")) and not Path(name).exists()


def factory_spec(entry: str) -> PolicySpec:
    """Spec of any policy built by ``pkg.module:factory()`` (a :class:`leo_env.policies.Policy`).

    The factory is called with no arguments, once per evaluation level, and must return a
    ``Policy`` (``reset(env)``, ``act(obs, env)``); its ``name`` labels the table row.
    """
    import importlib

    mod, _, attr = entry.partition(":")
    factory = getattr(importlib.import_module(mod), attr)
    probe = factory()
    if not isinstance(probe, Policy):
        raise TypeError(f"{entry}() returned {type(probe).__name__}, not a leo_env.policies.Policy")
    return PolicySpec(str(getattr(probe, "name", attr)), factory, key={"policy": "factory", "entry": entry})


def agent_spec(
    path: str | os.PathLike[str], deterministic: bool = True, which: str = "best",
    search: tuple[float, int] | None = None,
    trust: bool = False,
) -> PolicySpec:
    """Spec of a learned agent (run folder or model zip), optionally with decision-time search."""
    from agents.policies import load_agent_policy
    from agents.runs import model_file, run_config

    probe = load_agent_policy(path, which=which, deterministic=deterministic, search=search, trust=trust)
    f = Path(path).resolve()
    stat = (Path(probe.run_dir) if probe.run_dir else f)
    lookahead = run_config(model_file(path, which)).env.lookahead
    return PolicySpec(
        probe.name,
        lambda: load_agent_policy(path, which=which, deterministic=deterministic, search=search, trust=trust),
        key={"policy": "agent", "path": str(f), "which": which, "deterministic": deterministic,
             "mtime": _mtime(f), **({"search": list(search)} if search is not None else {})},
        run_dir=str(stat) if probe.run_dir else None,
        env={"lookahead": lookahead} if lookahead else {},
    )


def _mtime(p: Path) -> float:
    from agents.runs import model_file

    try:
        return float(os.path.getmtime(model_file(p)))
    except (OSError, FileNotFoundError):
        return 0.0


def play(policy: Policy, env: Any, index: int, scenario_seed: int | None = None) -> dict[str, Any]:
    """Play held-out scenario ``index`` (seed ``2**30 + index``) and return its metrics.

    Parameters
    ----------
    policy : Policy
        The policy (reset here).
    env : gymnasium.Env
        Evaluation environment.
    index : int
        Scenario index in the evaluation split (also the reset seed: forecast errors).
    scenario_seed : int, optional
        Play this scenario seed instead (validation scenarios of the training split).
    """
    if scenario_seed is None:
        scenario_seed = EVAL_SEED_RANGE[0] + int(index)
    obs, _ = env.reset(seed=int(index), options={"scenario_seed": scenario_seed})
    t0 = time.perf_counter()
    policy.reset(env)
    setup_s = time.perf_counter() - t0
    times, rewards, xis, jains, util, served = [], [], [], [], [], []
    info: dict[str, Any] = {}
    done = False
    while not done:
        t = time.perf_counter()
        action = policy.act(obs, env)
        times.append(time.perf_counter() - t)
        obs, r, term, trunc, info = env.step(action)
        rewards.append(float(r))
        xis.append(np.asarray(info["xi"], dtype=float))
        jains.append(float(info["jain"]))
        util.append(float(info["utility"]))
        served.append(float(np.nansum(info["served_bits"])))
        done = bool(term or trunc)
    K = len(times)  # noqa: N806
    per_slot_ms = (np.asarray(times) + setup_s / K) * 1e3
    xi = np.stack(xis, axis=1)  # (C, K)
    with np.errstate(all="ignore"):
        cell_mean = np.nanmean(np.where(np.isnan(xi), np.nan, xi), axis=1)
    ho = np.asarray(info["handovers_total"])
    return {
        "index": int(index),
        "scenario_seed": scenario_seed,
        "utility": float(np.sum(rewards)),
        "pf_utility": float(np.sum(util)),
        "xi_mean": float(np.nanmean(xi)) if np.isfinite(xi).any() else float("nan"),
        "jain_slot_mean": float(np.nanmean(jains)) if np.isfinite(jains).any() else float("nan"),
        "worst_cell_xi": float(np.nanmin(cell_mean)) if np.isfinite(cell_mean).any() else float("nan"),
        "served_bits": float(np.sum(served)),
        "handovers_total": int(ho.sum()),
        "handovers_max_cell": int(ho.max()) if ho.size else 0,
        "budget_violations": int(info["budget_violations"]),
        "emergencies": int(info["emergencies_total"]),
        "repairs": int(info["repairs_total"]),
        "decision_ms": float(per_slot_ms.mean()),
        "decision_ms_slots": [float(x) for x in per_slot_ms],
        "setup_s": float(setup_s),
        "policy_stats": {k: v for k, v in policy.stats.items() if isinstance(v, (int, float))},
    }


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _partial_path(out: Path, label: str, level: float | None) -> Path:
    tag = "shared" if level is None else f"e{level:g}"
    return out / "partial" / f"{_slug(label)}__{tag}.json"


def _run_episodes(
    spec: PolicySpec, env_cfg: EnvConfig, level: float | None, n: int, out: Path, bar: Any
) -> list[dict[str, Any]]:
    """Episodes ``0 .. n-1`` of one policy at one level, resuming from the partial file."""
    path = _partial_path(out, spec.label, level)
    env_cfg = replace(env_cfg, **spec.env)
    ekey = env_key(env_cfg)
    ekey["prediction_error"] = level if level is not None else env_cfg.prediction_error
    key = json.loads(json.dumps({"spec": spec.key, "env": ekey}, default=str))
    done: dict[int, dict[str, Any]] = {}
    if path.exists():
        try:
            old = json.loads(path.read_text())
            if old.get("key") == key:
                done = {int(e["index"]): e for e in old["episodes"]}
        except (OSError, ValueError, KeyError):
            done = {}
    todo = [i for i in range(n) if i not in done]
    bar.update(n - len(todo))
    if todo:
        cfg = replace(env_cfg, prediction_error=float(ekey["prediction_error"]))
        env = make_env(cfg, seed_split="eval")
        # untimed warm-up on a training-split scenario with a separate policy object (numba and
        # torch first-call costs stay out of the decision times; no state carries over)
        play(spec.make(), env, 0, scenario_seed=VALIDATION_SEED_BASE)
        policy = spec.make()
        for i in todo:
            done[i] = play(policy, env, i)
            atomic_write_json(path, {"key": key, "episodes": [done[j] for j in sorted(done)]})
            bar.update(1)
    return [done[i] for i in range(n)]


def run_evaluation(
    specs: Sequence[PolicySpec],
    env_cfg: EnvConfig,
    seeds: int,
    levels: Sequence[float],
    out: str | os.PathLike[str],
    progress: bool = True,
) -> dict[tuple[str, float], list[dict[str, Any]]]:
    """Play every policy on ``seeds`` held-out scenarios at every prediction-error level.

    Returns
    -------
    dict
        ``{(label, level): [episode metrics, ...]}`` in seed order.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    levels = [float(x) for x in levels]
    total = sum(seeds if s.forecast_free else seeds * len(levels) for s in specs)
    episodes: dict[tuple[str, float], list[dict[str, Any]]] = {}
    with tqdm(total=total, desc="evaluation", unit="episode", disable=not progress) as bar:
        for spec in specs:
            if spec.forecast_free:
                eps = _run_episodes(spec, env_cfg, None, seeds, out, bar)
                for lv in levels:
                    episodes[(spec.label, lv)] = eps
            else:
                for lv in levels:
                    bar.set_postfix_str(f"{spec.label} e={lv:g}")
                    episodes[(spec.label, lv)] = _run_episodes(spec, env_cfg, lv, seeds, out, bar)
    return episodes


def _stat(values: Sequence[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return float("nan"), float("nan")
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0


def summarise(
    episodes: dict[tuple[str, float], list[dict[str, Any]]], reference: str = "B1"
) -> list[dict[str, Any]]:
    """One row per (policy, level): mean and std of every metric, gap to ``reference``.

    ``gap_to_b1`` is the mean over seeds of ``(U_B1 - U) / |U_B1|`` (positive: worse than B1);
    ``budget_violations`` and ``emergencies`` are totals over the seeds.
    """
    rows = []
    for (label, level), eps in episodes.items():
        def col(m: str, eps: list[dict[str, Any]] = eps) -> list[float]:
            return [float(e[m]) for e in eps]

        row: dict[str, Any] = {"policy": label, "prediction_error": level, "episodes": len(eps)}
        row["utility_mean"], row["utility_std"] = _stat(col("utility"))
        row["pf_utility_mean"], _ = _stat(col("pf_utility"))
        for m in ("xi_mean", "jain_slot_mean", "worst_cell_xi", "served_bits", "handovers_total", "decision_ms"):
            row[m], row[f"{m}_std"] = _stat(col(m))
        row["handovers_max_cell"] = int(max(col("handovers_max_cell"), default=0))
        for m in ("budget_violations", "emergencies", "repairs"):
            row[m] = int(sum(col(m)))
        slots = np.concatenate([np.asarray(e["decision_ms_slots"], dtype=float) for e in eps]) if eps else np.array([])
        row["decision_ms_median"] = float(np.median(slots)) if slots.size else float("nan")
        row["decision_ms_p95"] = float(np.percentile(slots, 95)) if slots.size else float("nan")
        ref = episodes.get((reference, level))
        if ref is not None and len(ref) == len(eps):
            u_ref = np.array([e["utility"] for e in ref])
            u = np.array(col("utility"))
            gaps = (u_ref - u) / np.maximum(np.abs(u_ref), 1e-12)
            row["gap_to_b1"], row["gap_to_b1_std"] = _stat(gaps)
        else:
            row["gap_to_b1"], row["gap_to_b1_std"] = float("nan"), float("nan")
        rows.append(row)
    return rows


def _default_pairs(labels: Sequence[str]) -> list[tuple[str, str]]:
    base = [b for b in ("B0", "B1", "B2") if b in labels]
    agents = [lab for lab in labels if lab not in ("B0", "B1", "B2", "random")]
    pairs = [(a, b) for a in agents for b in base]
    if "B2" in labels and "B0" in labels:
        pairs.append(("B2", "B0"))
    return pairs


def wilcoxon_pairs(
    episodes: dict[tuple[str, float], list[dict[str, Any]]],
    pairs: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Wilcoxon signed-rank tests of paired episode utilities (``scipy.stats.wilcoxon``).

    Parameters
    ----------
    episodes : dict
        Output of :func:`run_evaluation`.
    pairs : list of str, optional
        ``"A:B"`` labels; default: every learned agent against B0, B1, B2 and B2 against B0.

    Returns
    -------
    list of dict
        ``a``, ``b``, ``prediction_error``, ``mean_diff`` (``U_a - U_b``), ``wins`` (seeds where
        ``a`` is better), ``n``, ``p_value`` (two-sided; 1 when every difference is 0) and
        ``p_greater`` (one-sided, ``a`` better).
    """
    from scipy.stats import wilcoxon

    labels = list(dict.fromkeys(lab for lab, _ in episodes))
    levels = sorted({lv for _, lv in episodes})
    plist = [tuple(p.split(":", 1)) for p in pairs] if pairs else _default_pairs(labels)
    out = []
    for a, b in plist:
        for lv in levels:
            ea, eb = episodes.get((a, lv)), episodes.get((b, lv))
            if ea is None or eb is None:
                continue
            x = np.array([e["utility"] for e in ea])
            y = np.array([e["utility"] for e in eb])
            d = x - y
            if np.allclose(d, 0.0):
                p2, p1 = 1.0, 1.0
            else:
                p2 = float(wilcoxon(x, y, alternative="two-sided").pvalue)
                p1 = float(wilcoxon(x, y, alternative="greater").pvalue)
            lo, hi = paired_bootstrap_ci(d, seed=len(out))
            out.append({
                "a": a, "b": b, "prediction_error": lv, "n": int(len(d)), "mean_diff": float(d.mean()),
                "ci95_low": lo, "ci95_high": hi,
                "wins": int((d > 0).sum()), "p_value": p2, "p_greater": p1,
            })
    for t, ph in zip(out, holm([t["p_value"] for t in out]), strict=True):
        t["p_holm"] = ph
    return out


def paired_bootstrap_ci(d: np.ndarray, level: float = 0.95, resamples: int = 9999, seed: int = 0) -> tuple[float, float]:
    """Bootstrap (BCa) interval of the mean of paired differences ``d`` (``scipy.stats.bootstrap``).

    Seeds are resampled as pairs (the differences), so the interval respects the pairing.
    Returns ``(nan, nan)`` with fewer than 2 pairs and ``(m, m)`` when every difference is ``m``.
    """
    from scipy.stats import bootstrap

    d = np.asarray(d, dtype=float)
    if d.size < 2:
        return float("nan"), float("nan")
    if np.ptp(d) == 0:
        return float(d[0]), float(d[0])
    res = bootstrap((d,), np.mean, confidence_level=level, n_resamples=resamples, method="BCa",
                    random_state=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (family-wise error control over all tests of a table)."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return [float(x) for x in out]


def _fmt(x: Any, spec: str = ".3f") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return format(x, spec)


def predictor_label(predictor: str) -> str:
    """How tables and plots name a predictor (a noisy oracle is declared as such)."""
    from leo_env.envs.downlink.params import ORACLE_PREDICTORS

    if predictor in ORACLE_PREDICTORS:
        return f"{predictor} (noisy oracle of the realised demand)"
    return f"{predictor} (causal)"


def markdown_table(
    rows: list[dict[str, Any]], tests: list[dict[str, Any]], seeds: int, predictor: str = "noisy-truth"
) -> str:
    """Markdown tables: one per prediction-error level, then the Wilcoxon tests."""
    lines = []
    levels = sorted({r["prediction_error"] for r in rows})
    for lv in levels:
        lines.append(
            f"### Prediction error {lv:.0%}, predictor {predictor_label(predictor)} "
            f"({seeds} paired held-out seeds)\n"
        )
        lines.append(
            "| policy | utility (mean +- std) | gap to B1 | mean xi | Jain (slot mean) | worst-cell xi | served [Gbit] "
            "| handovers | max/cell | violations | emergencies | decision [ms/slot] mean / median |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in [r for r in rows if r["prediction_error"] == lv]:
            gap = r["gap_to_b1"]
            lines.append(
                f"| {r['policy']} | {_fmt(r['utility_mean'], '.2f')} +- {_fmt(r['utility_std'], '.2f')} "
                f"| {_fmt(gap * 100 if gap == gap else gap, '.2f')} % | {_fmt(r['xi_mean'])} | {_fmt(r['jain_slot_mean'])} "
                f"| {_fmt(r['worst_cell_xi'])} | {_fmt(r['served_bits'] / 1e9, '.3f')} "
                f"| {_fmt(r['handovers_total'], '.1f')} | {r['handovers_max_cell']} | {r['budget_violations']} "
                f"| {r['emergencies']} | {_fmt(r['decision_ms'], '.3f')} / {_fmt(r['decision_ms_median'], '.3f')} |"
            )
        lines.append("")
    if tests:
        lines.append("### Paired differences and Wilcoxon signed-rank tests (paired utilities)\n")
        lines.append(
            "| A | B | prediction error | mean U_A - U_B [95 % paired bootstrap CI] | A better on "
            "| p (two-sided) | p Holm | p (A > B) |"
        )
        lines.append("|---|---|---|---|---|---|---|---|")
        for t in tests:
            lines.append(
                f"| {t['a']} | {t['b']} | {t['prediction_error']:.0%} | {t['mean_diff']:+.3f} "
                f"[{_fmt(t.get('ci95_low'), '+.3f')}, {_fmt(t.get('ci95_high'), '+.3f')}] "
                f"| {t['wins']}/{t['n']} | {t['p_value']:.3g} | {t.get('p_holm', float('nan')):.3g} "
                f"| {t['p_greater']:.3g} |"
            )
        lines.append("")
    return "\n".join(lines)


RESULT_KEYS = (
    "policy", "predictor", "prediction_error", "episodes", "utility_mean", "utility_std", "gap_to_b1", "gap_to_b1_std",
    "pf_utility_mean", "xi_mean", "jain_slot_mean", "worst_cell_xi", "served_bits", "handovers_total",
    "handovers_max_cell", "budget_violations", "emergencies", "repairs", "decision_ms", "decision_ms_median",
    "decision_ms_p95",
)


def _csv_text(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(RESULT_KEYS), extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: r.get(k) for k in RESULT_KEYS})
    return buf.getvalue()


def write_outputs(
    out: str | os.PathLike[str],
    episodes: dict[tuple[str, float], list[dict[str, Any]]],
    specs: Sequence[PolicySpec],
    meta: dict[str, Any],
    pairs: Sequence[str] | None = None,
    plots: bool = True,
) -> dict[str, Any]:
    """Write ``results.json``, ``results.md``, ``results.csv`` and the plots into ``out``."""
    out = Path(out)
    predictor = str(meta.get("predictor") or meta.get("config", {}).get("env", {}).get("predictor", "noisy-truth"))
    rows = summarise(episodes)
    for r in rows:
        r["predictor"] = predictor
    tests = wilcoxon_pairs(episodes, pairs)
    seeds = max((len(v) for v in episodes.values()), default=0)
    md = markdown_table(rows, tests, seeds, predictor)
    results = {
        "meta": meta,
        "results": [{k: r.get(k) for k in RESULT_KEYS} for r in rows],
        "wilcoxon": tests,
        "episodes": [
            {"policy": lab, "prediction_error": lv, **{k: v for k, v in e.items() if k != "decision_ms_slots"}}
            for (lab, lv), eps in episodes.items() for e in eps
        ],
    }
    atomic_write_json(out / "results.json", results)
    atomic_write_text(out / "results.md", md)
    atomic_write_text(out / "results.csv", _csv_text(rows))
    if plots:
        from agents.plots import write_plots

        write_plots(out, rows, episodes, specs, predictor=predictor_label(predictor))
    return {"rows": rows, "tests": tests, "markdown": md}

