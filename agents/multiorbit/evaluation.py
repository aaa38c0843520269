"""Paired evaluation of multiorbit policies on held-out seeds.

Every policy plays the same episodes (reset seeds ``evaluate.seed_offset + i``) of the same
environment; per episode we keep the mean reward per slot (= the objective when
``lambda_switch_mbps = 0``), the mean sum rate, unmet UEs, the policy's decision time
(``policy.act``: wall clock, and the process's CPU time, which a machine shared with other jobs
inflates much less) and the environment's step time (the inner allocation on the chosen
decision).
Against the reference policy: the ratio of means, and the paired mean difference with a
seeded bootstrap 95 % interval over episodes.  ``results.json`` and ``results.md`` are written
atomically into ``evaluate.out``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from agents.multiorbit.config import MultiOrbitRunConfig

__all__ = ["evaluate", "episode_task", "play_episode", "summarise", "markdown"]


def play_episode(env: Any, policy: Any, seed: int) -> dict[str, float]:
    """One episode; per-slot means of reward, objective, sum rate, unmet UEs and times [ms]."""
    obs, _ = env.reset(seed=int(seed))
    policy.reset(env)
    rows: list[dict[str, float]] = []
    done = False
    while not done:
        c0 = time.process_time()
        t0 = time.perf_counter()
        action = policy.act(obs, env)
        t1 = time.perf_counter()
        c1 = time.process_time()
        obs, reward, done, _, info = env.step(action)
        t2 = time.perf_counter()
        rows.append({"reward": float(reward), "objective": info["objective_mbps"], "sum_rate": info["sum_rate_mbps"],
                     "unmet": info["n_unmet"], "selected": info["n_selected"], "invalid": info["invalid"],
                     "decision_ms": 1e3 * (t1 - t0), "decision_cpu_ms": 1e3 * (c1 - c0), "env_ms": 1e3 * (t2 - t1)})
    out = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    out["decision_ms_max"] = float(np.max([r["decision_ms"] for r in rows]))
    out["decision_ms_all"] = [r["decision_ms"] for r in rows]  # type: ignore[assignment]
    out["decision_cpu_ms_all"] = [r["decision_cpu_ms"] for r in rows]  # type: ignore[assignment]
    return out


def _boot(diff: np.ndarray, n: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, (n, diff.size))].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def summarise(per: dict[str, list[dict[str, Any]]], reference: str, bootstrap: int = 2000) -> list[dict[str, Any]]:
    """Table rows: means, ratio to the reference and paired differences (bootstrap 95 % CI)."""
    ref = np.array([r["reward"] for r in per[reference]]) if reference in per else None
    rows = []
    for name, eps in per.items():
        rew = np.array([r["reward"] for r in eps])
        dms = np.concatenate([np.asarray(r["decision_ms_all"]) for r in eps])
        cms = np.concatenate([np.asarray(r["decision_cpu_ms_all"]) for r in eps])
        row: dict[str, Any] = {
            "policy": name, "episodes": len(eps),
            "reward_mbps": float(rew.mean()),
            "sum_rate_mbps": float(np.mean([r["sum_rate"] for r in eps])),
            "unmet_per_slot": float(np.mean([r["unmet"] for r in eps])),
            "selected_per_slot": float(np.mean([r["selected"] for r in eps])),
            "invalid_per_slot": float(np.mean([r["invalid"] for r in eps])),
            "decision_ms_median": float(np.median(dms)), "decision_ms_p95": float(np.quantile(dms, 0.95)),
            "decision_cpu_ms_median": float(np.median(cms)), "decision_cpu_ms_p95": float(np.quantile(cms, 0.95)),
            "env_ms_mean": float(np.mean([r["env_ms"] for r in eps])),
        }
        if ref is not None:
            d = rew - ref
            lo, hi = _boot(d, bootstrap, 0)
            row.update({"ratio_to_reference": float(rew.mean() / ref.mean()), "paired_diff_mbps": float(d.mean()),
                        "paired_diff_ci95": [lo, hi], "wins_ties_losses": [int((d > 1e-6).sum()), int((np.abs(d) <= 1e-6).sum()),
                                                                         int((d < -1e-6).sum())]})
        rows.append(row)
    return rows


def markdown(rows: list[dict[str, Any]], reference: str, header: str = "") -> str:
    """Markdown table of :func:`summarise` rows."""
    lines = [header, "", f"| policy | reward [Mbit/s/slot] | ratio to {reference} | paired diff [95 % CI] | W/T/L | "
             "unmet UEs/slot | served sats/slot | decision wall [ms] median / p95 | decision CPU [ms] median / p95 | env step [ms] |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ci = r.get("paired_diff_ci95", [float("nan")] * 2)
        wtl = "/".join(str(x) for x in r.get("wins_ties_losses", []))
        lines.append(
            f"| {r['policy']} | {r['reward_mbps']:.2f} | {r.get('ratio_to_reference', float('nan')):.4f} | "
            f"{r.get('paired_diff_mbps', float('nan')):+.2f} [{ci[0]:+.2f}, {ci[1]:+.2f}] | {wtl} | "
            f"{r['unmet_per_slot']:.2f} | {r['selected_per_slot']:.2f} | {r['decision_ms_median']:.2f} / "
            f"{r['decision_ms_p95']:.2f} | {r['decision_cpu_ms_median']:.2f} / {r['decision_cpu_ms_p95']:.2f} | "
            f"{r['env_ms_mean']:.1f} |")
    return "\n".join(lines) + "\n"


_POLICIES: dict[tuple[Any, ...], Any] = {}
"""Policies built in this process (per spec), warmed up once."""


def episode_task(kind: str, env_kwargs: dict[str, Any], spec: str, seed: int, trust: bool, wolpertinger_k: int,
                 threads: int) -> dict[str, Any]:
    """One held-out episode of policy ``spec`` (a :func:`leo_env.parallel.pmap` task: plain data in and out)."""
    import torch as th

    from agents.multiorbit.policies import make_policy
    from leo_env.envs.multiorbit.env import MultiOrbitAssocEnv, MultiOrbitSelectEnv

    th.set_num_threads(int(threads))
    cls = MultiOrbitSelectEnv if kind == "select" else MultiOrbitAssocEnv
    key = (kind, spec, trust, wolpertinger_k, tuple(sorted(env_kwargs.items())))
    if key not in _POLICIES:
        pol = make_policy(spec, kind, seed=0, trust=trust, wolpertinger_k=wolpertinger_k)
        play_episode(cls(**env_kwargs), pol, 10**9)  # untimed warm-up (JIT, torch), not a held-out seed
        _POLICIES[key] = pol
    pol = _POLICIES[key]
    out = play_episode(cls(**env_kwargs), pol, seed)
    out["policy"] = pol.name
    return out


def _fingerprint(spec: str) -> str:
    """Built-in name, or the run folder's model digest (a retrained run is evaluated again)."""
    from agents.trust import sha256_of

    run = Path(spec.removesuffix("#actor"))
    files = [run / f for f in ("model.pt", "ppo.pt") if (run / f).exists()]
    return spec if not files else spec + ":" + ":".join(sha256_of(f)[:16] for f in files)


def evaluate(cfg: MultiOrbitRunConfig, policies: list[str], progress: bool = True, trust: bool = False) -> dict[str, Any]:
    """Every policy on the same held-out seeds of ``evaluate.env``; writes results.json/.md.

    Episodes are cached one JSON file per (policy, seed) under ``evaluate.out/episodes`` (keyed
    by the env parameters and, for run folders, the model digests), so a rerun that adds a
    policy plays only the new one.  ``evaluate.workers > 1`` plays episodes in parallel
    (:func:`leo_env.parallel.pmap`; decision times are then measured under that load).

    Returns
    -------
    dict
        ``rows`` (:func:`summarise`), ``markdown``, ``out`` (the folder), ``per_episode``.
    """
    import re

    from agents.provenance import provenance
    from leo_env.io import atomic_write_json, atomic_write_text
    from leo_env.parallel import pmap_cached

    e = cfg.evaluate
    kind = e.env
    if not policies:
        raise ValueError("no policies to evaluate (evaluate.policies or --policies)")
    seeds = list(range(e.seed_offset, e.seed_offset + e.seeds))
    env_kwargs = cfg.env_kwargs(kind, e.n_slots)
    out = Path(e.out)
    per: dict[str, list[dict[str, Any]]] = {}
    for spec in policies:
        tag = re.sub(r"[^A-Za-z0-9_.-]+", "_", spec.strip("/"))
        tasks = [(kind, env_kwargs, spec, s, trust, e.wolpertinger_k, cfg.train.threads) for s in seeds]
        keys = [[kind, env_kwargs, _fingerprint(spec), s, e.wolpertinger_k] for s in seeds]
        paths = [out / "episodes" / tag / f"seed{s}.json" for s in seeds]
        eps = pmap_cached(episode_task, tasks, paths, keys, backend="serial" if e.workers <= 1 and e.backend == "process" else e.backend,
                          workers=e.workers, desc=f"evaluate {tag}", progress=progress)
        name = eps[0]["policy"]
        per[name] = eps
        if progress:
            print(f"[evaluate] {name}: {np.mean([r['reward'] for r in eps]):.2f} Mbit/s/slot over {len(seeds)} seeds",
                  flush=True)
    ref = e.reference if e.reference in per else next(iter(per))
    rows = summarise(per, ref, e.bootstrap)
    header = (f"multiorbit, {kind} env ({env_kwargs}), held-out reset seeds {seeds[0]}..{seeds[-1]}, "
              f"{e.n_slots} slots each; reference {ref}")
    md = markdown(rows, ref, header)
    out.mkdir(parents=True, exist_ok=True)
    doc = {"config": cfg.to_dict(), "policies": policies, "seeds": seeds, "reference": ref, "rows": rows,
           "per_episode": per, "provenance": provenance()}
    atomic_write_json(out / "results.json", doc)
    atomic_write_text(out / "results.md", md)
    return {"rows": rows, "markdown": md, "out": str(out.resolve()), "per_episode": per}
