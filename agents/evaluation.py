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

Episodes run through :func:`leo_env.parallel.pmap_cached` (``backend`` serial, process or ray):
every (policy, level, seed) is one task whose worker receives plain data (the policy's recipe
:attr:`PolicySpec.source`, the environment config as a dict, the seed), builds a fresh policy
for the episode and writes its metrics atomically to ``<out>/partial/<policy>__<level>/<seed>.json``.
A rerun skips the episodes already there (same policy and environment key), so an interrupted
evaluation resumes where it stopped, on any backend.  Every metric except the timings
(``decision_ms*``, ``setup_s``, solver times in ``policy_stats``) is bit-identical across
backends and worker counts.  Each worker plays one untimed warm-up episode per policy before
its first timed one (numba and torch first-call costs stay out of the decision times); with
parallel workers sharing cores the decision times include the contention, so time methods
with ``backend="serial"`` (the default).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from agents.config import BaselineConfig, EnvConfig, env_key
from agents.envs import VALIDATION_SEED_BASE, make_env
from leo_env.envs.downlink.tables import EVAL_SEED_RANGE
from leo_env.io import atomic_write_json, atomic_write_text
from leo_env.parallel import pmap_cached
from leo_env.policies import Policy

__all__ = [
    "PolicySpec",
    "play",
    "baseline_spec",
    "agent_spec",
    "factory_spec",
    "build_policy",
    "TIMING_KEYS",
    "run_evaluation",
    "summarise",
    "wilcoxon_pairs",
    "markdown_table",
    "write_outputs",
    "aggregate_training_seeds",
    "paired_differences",
    "iqm_interval",
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
    source : dict or None
        Plain-data recipe from which a worker rebuilds the policy (:func:`build_policy`); a
        spec without one (only ``make``) plays in this process, whatever the backend.
    group : str or None
        Learned agents trained from the same config with different training seeds share a
        group (their run folders' config without the seed); results aggregate over it.
    """

    label: str
    make: Callable[[], Policy]
    forecast_free: bool = False
    key: dict[str, Any] = field(default_factory=dict)
    run_dir: str | None = None
    env: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] | None = None
    group: str | None = None


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
        return PolicySpec("B0", GreedyPolicy, forecast_free=True, key={"policy": "b0"},
                          source={"kind": "baseline", "name": "b0"})
    if n == "b1":
        return PolicySpec(
            "B1", lambda: HindsightPolicy(method=b1.method, proxy=b1.proxy, **b1.options),
            forecast_free=True, key={"policy": "b1", **asdict(b1)},
            source={"kind": "baseline", "name": "b1", "config": asdict(b1)},
        )
    if n == "b2":
        return PolicySpec(
            "B2", lambda: MPCPolicy(window=b2.window, method=b2.method, proxy=b2.proxy, **b2.options),
            key={"policy": "b2", **asdict(b2)}, source={"kind": "baseline", "name": "b2", "config": asdict(b2)},
        )
    if n == "random":
        # seeded per held-out scenario (build_policy), so an episode never depends on the others
        return PolicySpec("random", lambda: RandomPolicy(seed=0), key={"policy": "random", "seed": "index"},
                          source={"kind": "baseline", "name": "random"})
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
    return PolicySpec(str(getattr(probe, "name", attr)), factory, key={"policy": "factory", "entry": entry},
                      source={"kind": "factory", "entry": entry})


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
        source={"kind": "agent", "path": str(path), "which": which, "deterministic": deterministic,
                "search": None if search is None else [float(search[0]), int(search[1])], "trust": trust},
        group=_training_group(path, which),
    )


def _training_group(path: str | os.PathLike[str], which: str) -> str | None:
    """Hash of a run's resolved config without its seed (runs of one config share it)."""
    import hashlib

    from agents.config import to_dict
    from agents.runs import model_file, run_config

    try:
        d = to_dict(run_config(model_file(path, which)))
    except (OSError, ValueError, KeyError):
        return None
    d.pop("seed", None)
    d.get("train", {}).pop("runs_dir", None)
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:12]


def build_policy(source: dict[str, Any], index: int = 0) -> Policy:
    """A fresh policy from a :attr:`PolicySpec.source` recipe (what a worker receives).

    ``index`` is the held-out scenario the policy will play (the random baseline draws from a
    generator seeded with it, so an episode does not depend on which episodes ran before it).
    """
    kind = source.get("kind")
    if kind == "baseline":
        from leo_env.envs.downlink.policies import (
            GreedyPolicy,
            HindsightPolicy,
            MPCPolicy,
            RandomPolicy,
        )

        name, c = source["name"], source.get("config", {})
        if name == "b0":
            return GreedyPolicy()
        if name == "b1":
            return HindsightPolicy(method=c["method"], proxy=c["proxy"], **c["options"])
        if name == "b2":
            return MPCPolicy(window=c["window"], method=c["method"], proxy=c["proxy"], **c["options"])
        if name == "random":
            return RandomPolicy(seed=int(index))
    elif kind == "factory":
        import importlib

        mod, _, attr = source["entry"].partition(":")
        return getattr(importlib.import_module(mod), attr)()
    elif kind == "agent":
        from agents.policies import load_agent_policy

        search = source.get("search")
        return load_agent_policy(source["path"], which=source["which"], deterministic=source["deterministic"],
                                 search=None if search is None else (float(search[0]), int(search[1])),
                                 trust=bool(source.get("trust", False)))
    raise ValueError(f"unknown policy source {source!r}")


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


TIMING_KEYS = ("decision_ms", "decision_ms_slots", "setup_s", "policy_stats")
"""Episode fields that measure time (they differ from run to run; every other field is exact)."""


def _partial_path(out: Path, label: str, level: float | None, index: int) -> Path:
    tag = "shared" if level is None else f"e{level:g}"
    return out / "partial" / f"{_slug(label)}__{tag}" / f"{int(index):05d}.json"


_ENVS: OrderedDict[str, Any] = OrderedDict()  # per process: evaluation environments by config
_WARM: set[str] = set()  # per process: (evaluation, policy) pairs already warmed up


def _env_for(env_d: dict[str, Any]) -> Any:
    key = json.dumps(env_d, sort_keys=True, default=str)
    if key not in _ENVS:
        _ENVS[key] = make_env(EnvConfig(**env_d), seed_split="eval")
        while len(_ENVS) > 4:
            _ENVS.popitem(last=False)
    _ENVS.move_to_end(key)
    return _ENVS[key]


def _play_episode(make: Callable[[int], Policy], env_d: dict[str, Any], index: int, warm: str) -> dict[str, Any]:
    """Held-out episode ``index`` with a fresh policy; first an untimed warm-up in this process.

    The warm-up plays a training-split scenario with a separate policy object (numba and torch
    first-call costs stay out of the decision times; no state carries over).
    """
    env = _env_for(env_d)
    if warm not in _WARM:
        play(make(0), env, 0, scenario_seed=VALIDATION_SEED_BASE)
        _WARM.add(warm)
    return play(make(int(index)), env, int(index))


def _episode_task(source: dict[str, Any], env_d: dict[str, Any], index: int, warm: str) -> dict[str, Any]:
    """Worker task: one held-out episode of the policy ``source`` describes (plain data in and out)."""
    return _play_episode(lambda i: build_policy(source, i), env_d, index, warm)


def run_evaluation(
    specs: Sequence[PolicySpec],
    env_cfg: EnvConfig,
    seeds: int,
    levels: Sequence[float],
    out: str | os.PathLike[str],
    progress: bool = True,
    *,
    backend: str = "serial",
    workers: int | None = None,
    address: str | None = None,
) -> dict[tuple[str, float], list[dict[str, Any]]]:
    """Play every policy on ``seeds`` held-out scenarios at every prediction-error level.

    Parameters
    ----------
    specs : sequence of PolicySpec
        The policies (forecast-free ones play each seed once, reused at every level).
    env_cfg : EnvConfig
        The evaluation environment (a spec's ``env`` overrides apply to its episodes).
    seeds : int
        Held-out scenarios ``0 .. seeds-1``.
    levels : sequence of float
        Prediction-error levels.
    out : path
        Output folder (per-episode results under ``partial/``; finished episodes are reused).
    progress : bool
        Progress bar (episodes).
    backend, workers, address
        :func:`leo_env.parallel.pmap` settings; specs without a ``source`` play in this process.

    Returns
    -------
    dict
        ``{(label, level): [episode metrics, ...]}`` in seed order.
    """
    out = Path(out)
    levels = [float(x) for x in levels]
    token = uuid.uuid4().hex  # warm-ups are per evaluation and process
    jobs: list[tuple[PolicySpec, float | None, int, dict[str, Any], dict[str, Any], Path]] = []
    for spec in specs:
        cfg = replace(env_cfg, **spec.env)
        for lv in ([None] if spec.forecast_free else levels):
            d = asdict(replace(cfg, prediction_error=float(cfg.prediction_error if lv is None else lv)))
            ekey = env_key(EnvConfig(**d))
            for i in range(int(seeds)):
                key = {"spec": spec.key, "env": ekey, "index": i}
                jobs.append((spec, lv, i, d, key, _partial_path(out, spec.label, lv, i)))
    remote = [j for j in jobs if j[0].source is not None]
    local = [j for j in jobs if j[0].source is None]
    results: dict[int, dict[str, Any]] = {}
    if remote:
        got = pmap_cached(
            _episode_task, [(j[0].source, j[3], j[2], f"{token}:{j[0].label}") for j in remote],
            [j[5] for j in remote], [j[4] for j in remote], backend=backend, workers=workers, address=address,
            desc="evaluation", progress=progress, retries=1,
        )
        results.update({id(j): r for j, r in zip(remote, got, strict=True)})
    if local:
        def run_local(make: Callable[[], Policy], env_d: dict[str, Any], index: int, warm: str) -> dict[str, Any]:
            return _play_episode(lambda _i: make(), env_d, index, warm)

        got = pmap_cached(
            run_local, [(j[0].make, j[3], j[2], f"{token}:{j[0].label}") for j in local], [j[5] for j in local],
            [j[4] for j in local], backend="serial", desc="evaluation (in this process)", progress=progress,
            retries=0,
        )
        results.update({id(j): r for j, r in zip(local, got, strict=True)})
    episodes: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for spec in specs:
        for lv in levels:
            src = None if spec.forecast_free else lv
            episodes[(spec.label, lv)] = [results[id(j)] for j in jobs if j[0] is spec and j[1] == src]
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
    out: list[dict[str, Any]] = []
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


def paired_differences(
    episodes: dict[tuple[str, float], list[dict[str, Any]]], reference: str
) -> dict[tuple[str, float], tuple[list[float], float, float]]:
    """Per-seed ``U_policy - U_reference`` of every other policy and level, with the 95 % CI.

    Returns ``{(policy, level): (differences, low, high)}`` (:func:`paired_bootstrap_ci`).
    """
    out = {}
    for j, ((lab, lv), eps) in enumerate(episodes.items()):
        ref = episodes.get((reference, lv))
        if lab == reference or ref is None or len(ref) != len(eps) or not eps:
            continue
        d = np.array([a["utility"] - b["utility"] for a, b in zip(eps, ref, strict=True)], dtype=float)
        lo, hi = paired_bootstrap_ci(d, seed=j)
        out[(lab, lv)] = ([float(x) for x in d], lo, hi)
    return out


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


def iqm_interval(
    scores: np.ndarray, level: float = 0.95, reps: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Interquartile mean of a (runs, tasks) score matrix and its stratified bootstrap interval.

    The IQM is the mean of the middle 50 % of all ``runs x tasks`` scores
    (``rliable.metrics.aggregate_iqm``); the interval is rliable's percentile stratified
    bootstrap (``rliable.library.get_interval_estimates``): every resample draws the runs
    with replacement, independently for each task (here a held-out scenario), so the interval
    reflects the spread over training seeds (Agarwal et al., NeurIPS 2021).

    Returns
    -------
    tuple of float
        ``(iqm, low, high)``; the interval is ``(iqm, iqm)`` with a single run.
    """
    from rliable import library as rly
    from rliable import metrics

    x = np.asarray(scores, dtype=float)
    if x.ndim != 2 or x.size == 0 or not np.isfinite(x).all():
        raise ValueError(f"scores must be a finite (runs, tasks) matrix, got shape {x.shape}")
    iqm = float(metrics.aggregate_iqm(x))
    if x.shape[0] < 2:
        return iqm, iqm, iqm
    import warnings

    with warnings.catch_warnings():  # rliable hands arch a RandomState, which arch now deprecates
        warnings.filterwarnings("ignore", message="random_state is deprecated", category=FutureWarning)
        _, ci = rly.get_interval_estimates(
            {"m": x}, lambda m: np.array([metrics.aggregate_iqm(m)]), reps=reps,
            confidence_interval_size=level, random_state=np.random.RandomState(seed),
        )
    return iqm, float(ci["m"][0, 0]), float(ci["m"][1, 0])


def _base_label(label: str) -> str:
    return re.sub(r"\[[^\]]*\]$", "", label)


def aggregate_training_seeds(
    episodes: dict[tuple[str, float], list[dict[str, Any]]],
    specs: Sequence[PolicySpec],
    reference: str = "B1",
    reps: int = 2000,
) -> list[dict[str, Any]]:
    """IQM over training seeds: one row per group of runs of one config (>= 2 runs) and level.

    Learned agents whose run folders hold the same config except ``seed`` (and decode the same
    way) form a group; their episodes make a (runs, held-out seeds) matrix of utilities (and of
    per-episode gaps to ``reference``), summarised by :func:`iqm_interval`.
    """
    groups: dict[str, list[PolicySpec]] = {}
    for s in specs:
        if s.group is None:
            continue
        how = {k: v for k, v in (s.source or {}).items() if k not in ("path", "trust")}
        groups.setdefault(s.group + json.dumps(how, sort_keys=True, default=str), []).append(s)
    levels = sorted({lv for _, lv in episodes})
    rows = []
    for n, members in enumerate(groups.values()):
        if len(members) < 2:
            continue
        for lv in levels:
            found = [episodes.get((m.label, lv)) for m in members]
            eps = [e for e in found if e is not None]
            if len(eps) != len(found) or len({len(e) for e in eps}) != 1:
                continue
            u = np.array([[e["utility"] for e in run] for run in eps], dtype=float)
            iqm, lo, hi = iqm_interval(u, reps=reps, seed=n)
            row: dict[str, Any] = {
                "policy": _base_label(members[0].label), "runs": [m.label for m in members],
                "run_dirs": [m.run_dir for m in members], "prediction_error": lv, "n_runs": len(members),
                "n_seeds": int(u.shape[1]), "utility_iqm": iqm, "utility_iqm_ci95": [lo, hi],
                "utility_mean": float(u.mean()),
                "gap_to_b1_iqm": None, "gap_to_b1_iqm_ci95": None,
            }
            ref = episodes.get((reference, lv))
            if ref is not None and len(ref) == u.shape[1]:
                u_ref = np.array([e["utility"] for e in ref], dtype=float)
                gaps = (u_ref[None, :] - u) / np.maximum(np.abs(u_ref[None, :]), 1e-12)
                g, glo, ghi = iqm_interval(gaps, reps=reps, seed=n)
                row.update(gap_to_b1_iqm=g, gap_to_b1_iqm_ci95=[glo, ghi])
            rows.append(row)
    return rows


def aggregate_markdown(rows: list[dict[str, Any]]) -> str:
    """Markdown table of :func:`aggregate_training_seeds` rows."""
    if not rows:
        return ""
    lines = [
        "### Aggregate over training seeds (interquartile mean, 95 % stratified bootstrap CI, rliable)\n",
        "| policy | training runs | prediction error | IQM utility [95 % CI] | IQM gap to B1 [95 % CI] | mean utility |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lo, hi = r["utility_iqm_ci95"]
        g = r["gap_to_b1_iqm"]
        gap = "-" if g is None else (
            f"{100 * g:.2f} % [{100 * r['gap_to_b1_iqm_ci95'][0]:.2f}, {100 * r['gap_to_b1_iqm_ci95'][1]:.2f}]"
        )
        lines.append(
            f"| {r['policy']} | {r['n_runs']} x {r['n_seeds']} seeds | {r['prediction_error']:.0%} "
            f"| {r['utility_iqm']:.3f} [{lo:.3f}, {hi:.3f}] | {gap} | {r['utility_mean']:.3f} |"
        )
    return "\n".join(lines) + "\n"


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
    aggregates = aggregate_training_seeds(episodes, specs)
    if aggregates:
        md += "\n" + aggregate_markdown(aggregates)
    results = {
        "meta": meta,
        "results": [{k: r.get(k) for k in RESULT_KEYS} for r in rows],
        "wilcoxon": tests,
        "aggregates": aggregates,
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

        ref = "B1" if any(lab == "B1" for lab, _ in episodes) else next(iter(episodes), ("", 0.0))[0]
        write_plots(out, rows, episodes, specs, predictor=predictor_label(predictor),
                    differences=(ref, paired_differences(episodes, ref)))
    return {"rows": rows, "tests": tests, "aggregates": aggregates, "markdown": md}

