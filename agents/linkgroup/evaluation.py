"""Paired evaluation of the link-group learners and oracles (Figs. 4/7/8/9 of the EMCL paper).

Two parts, every policy on the same seeds:

* **windows** (Fig. 8 style): ``evaluate.seeds`` held-out tasks (``sample_tasks`` from seeds
  never used in training; the cells cycle over ``evaluate.layout_seeds``), ``windows_per_task``
  consecutive deadline windows each (the first fills a learner's context).  Learners act
  greedily (``eps = 0``) and do not learn.  Per seed the gap to hindsight OPT is
  ``(mean F - mean F_OPT) / mean F_OPT`` over the seed's windows; the table gives its mean over
  seeds where OPT leaves someone unserved (``F_OPT >= 1``; elsewhere ``F_OPT`` can be ~0 and
  a relative gap meaningless), the pooled gap ``sum F / sum F_OPT - 1``, the median gap and
  the decision time per slot.
* **streams** (Figs. 4/7): ``stream_seeds`` task streams of ``(changes + 1) * interval`` slots
  with changes departure, arrival, burst (, shock) at multiples of ``interval``.  Learners start
  from their trained weights and learn online (:func:`agents.linkgroup.training.run_stream`);
  the per-slot series is the final ``F`` of the window the slot belongs to; the recovery time
  after each change follows :func:`oracles.linkgroup.objective.recovery_time`.

Every policy is compared with the config's own learner by paired differences (per seed), a
bootstrap 95 % interval of the mean difference and a two-sided Wilcoxon signed-rank test.
``results.json`` (atomically) and ``results.md`` go to ``evaluate.out`` or
``results_dir/<name>``.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from agents.linkgroup.config import LinkGroupRunConfig, load_config
from leo_env.core.overrides import merge_overrides
from leo_env.io import atomic_write_json, atomic_write_text
from leo_env.scenario import linkgroup as lg

__all__ = ["BUILTINS", "evaluate", "windows_seed", "stream_seed", "paired"]

BUILTINS = ("grd", "admm", "opt", "random", "rollout", "saa", "rollout_ls", "la1", "la2")
"""Built-in policies: GRD (causal greedy), ADMM-HEU and OPT (hindsight on the realised window),
uniformly random masked, the causal searches over sampled channel futures: the rollout of GRD
(``RolloutPolicy``), the rollout with a local search over first-slot groups (``rollout_ls``,
``evaluate.rollout_ls_rounds`` rounds) and SAA-MPC (``SaaPolicy``); and two information oracles
that are **not causal** (``LookaheadSaaPolicy``: SAA-MPC knowing the realised channel 1 or 2
slots ahead), for measuring the value of information."""

SEARCHES = ("rollout", "saa", "rollout_ls", "la1", "la2")
"""Built-ins with a decision-time search, scored on the first ``evaluate.fig8_search_updates``
updates only (when > 0)."""

EVENTS = ("departure", "arrival", "burst", "shock")


def _resolve(cfg: LinkGroupRunConfig, policies: list[str]) -> list[tuple[str, dict[str, Any] | None]]:
    """(label, learner config dict or None for a built-in), the config's learner first."""
    out: list[tuple[str, dict[str, Any] | None]] = [(cfg.name, cfg.to_dict())]
    for p in policies:
        if p in BUILTINS:
            out.append((p, None))
            continue
        path = Path(p)
        if path.is_dir() and (path / "config.yaml").exists():
            path = path / "config.yaml"
        if path.suffix in (".yaml", ".yml") and path.exists():
            c = load_config(path)
            if c.name != cfg.name:
                out.append((c.name, c.to_dict()))
            continue
        raise FileNotFoundError(
            f"policy {p!r} is neither a built-in {BUILTINS} nor an experiment YAML / run folder"
        )
    seen: set[str] = set()
    uniq = []
    for lab, d in out:
        if lab not in seen:
            seen.add(lab)
            uniq.append((lab, d))
    return uniq


def _cfg(d: dict[str, Any]) -> LinkGroupRunConfig:
    c = merge_overrides(LinkGroupRunConfig, [d], [])
    assert isinstance(c, LinkGroupRunConfig)
    c.check()
    return c


def _env_cfg(cfg: LinkGroupRunConfig, d: dict[str, Any] | None) -> LinkGroupRunConfig:
    """``cfg`` with the observation form of learner ``d`` (the cell, tasks and windows stay ``cfg``'s).

    The observation option changes only what the agent sees, never the dynamics, so every
    policy still meets the same realisations.
    """
    if d is None:
        return cfg
    obs = _cfg(d).env.observation
    if obs == cfg.env.observation:
        return cfg
    return merge_overrides(LinkGroupRunConfig, [cfg.to_dict()], [f"env.observation={obs}"])


def _builtin(name: str, seed: int, e: Any = None) -> Any:
    from leo_env.envs.linkgroup.policies import (
        AdmmPolicy,
        GreedyPolicy,
        LookaheadSaaPolicy,
        OptPolicy,
        RolloutPolicy,
        SaaPolicy,
    )
    from leo_env.policies import RandomPolicy

    return {"grd": GreedyPolicy, "admm": AdmmPolicy, "opt": OptPolicy,
            "random": lambda: RandomPolicy(seed=seed),
            "rollout": lambda: RolloutPolicy(n_samples=16 if e is None else e.rollout_samples, seed=seed),
            "saa": lambda: SaaPolicy(n_samples=4 if e is None else e.saa_samples, seed=seed),
            "rollout_ls": lambda: RolloutPolicy(n_samples=16 if e is None else e.rollout_samples, seed=seed,
                                                local_search=3 if e is None else e.rollout_ls_rounds),
            "la1": lambda: LookaheadSaaPolicy(1, n_samples=4 if e is None else e.saa_samples, seed=seed),
            "la2": lambda: LookaheadSaaPolicy(2, n_samples=4 if e is None else e.saa_samples, seed=seed)}[name]()


def _play_builtin(pol: Any, env: Any, seed: int | None, times: list[float]) -> float:
    obs, info = env.reset(seed=seed)
    pol.reset(env)
    t_sol = getattr(pol, "stats", {}).get("solve_time_s", 0.0)
    T = env.unwrapped.cfg.T  # noqa: N806
    while True:
        t0 = time.perf_counter()
        a = pol.act(obs, env)
        times.append(time.perf_counter() - t0 + t_sol / T)
        obs, _, term, _, info = env.step(a)
        if term:
            return float(info["objective"])


def windows_seed(cfg_d: dict[str, Any], specs: list[tuple[str, dict[str, Any] | None]], i: int,
                 trust: bool) -> dict[str, Any]:
    """One held-out task: every policy's F per window and decision time per slot."""
    import torch

    from agents.linkgroup.training import load_learner, make_env, play_window, window_seed

    torch.set_num_threads(1)
    cfg = _cfg(cfg_d)
    e = cfg.evaluate
    layout = e.layout_seeds[i % len(e.layout_seeds)]
    out: dict[str, Any] = {"seed": i, "layout_seed": layout}
    for label, d in [("opt", None), *[s for s in specs if s[0] != "opt"]]:
        env = make_env(_env_cfg(cfg, d), layout)
        task = lg.sample_tasks(env.cfg, np.random.default_rng(window_seed(99, i)), 1)[0]
        env.set_task(task)
        times: list[float] = []
        fs = []
        if d is None:
            pol = _builtin(label, i, e)
            for w in range(e.windows_per_task):
                fs.append(_play_builtin(pol, env, window_seed(100, i, w), times))
        else:
            learner = load_learner(_cfg(d), trust)
            learner.online = True
            for w in range(e.windows_per_task):
                fs.append(play_window(learner, env, window_seed(100, i, w), False, None, 0, times))
        out[label] = {"F": fs, "time_per_slot_s": float(np.mean(times)), "event": task.event}
    return out


def stream_seed(cfg_d: dict[str, Any], specs: list[tuple[str, dict[str, Any] | None]], s: int,
                trust: bool) -> dict[str, Any]:
    """One task stream: every policy's per-slot series and recovery times."""
    import torch

    from agents.linkgroup.training import load_learner, make_env, run_stream, window_seed
    from leo_env.envs.linkgroup.stream import LinkGroupTaskStream
    from oracles.linkgroup.objective import recovery_time

    torch.set_num_threads(1)
    cfg = _cfg(cfg_d)
    e = cfg.evaluate
    layout = e.layout_seeds[s % len(e.layout_seeds)]
    n_slots = (e.changes + 1) * e.interval
    out: dict[str, Any] = {"seed": s, "layout_seed": layout}
    for label, d in specs:
        env = LinkGroupTaskStream(make_env(_env_cfg(cfg, d), layout), e.changes, e.interval,
                                  tuple(EVENTS[c % len(EVENTS)] for c in range(e.changes)), s)
        T = env.unwrapped.cfg.T  # noqa: N806
        seed = window_seed(200, s)
        if d is None:
            pol = _builtin(label, s, e)
            series: list[float] = []
            times: list[float] = []
            first = True
            while env.global_slot < n_slots:
                f = _play_builtin(pol, env, seed if first else None, times)
                first = False
                series.extend([f] * T)
            x = np.asarray(series[:n_slots])
            dt = float(np.mean(times))
        else:
            learner = load_learner(_cfg(d), trust)
            r = run_stream(learner, env, n_slots, seed, reinit_seed=window_seed(300, s))
            x, dt = r["series"], r["decision_time_s"]
        rec = [recovery_time(x, c * e.interval, (c + 1) * e.interval) for c in range(1, e.changes + 1)]
        out[label] = {
            "series": x.tolist(),
            "cycle_mean_F": [float(x[c * e.interval:(c + 1) * e.interval].mean()) for c in range(e.changes + 1)],
            "recovery_slots": [r.slots for r in rec], "recovered": [r.recovered for r in rec],
            "events": list(env.stream.events), "time_per_slot_s": dt,
        }
    return out


def _idle_window(env: Any, seed: int | None) -> float:
    """Play one window with every transmitter idle (advances the stream like any policy)."""
    env.reset(seed=seed)
    u = env.unwrapped
    idle = u.encode(-np.ones(u.cfg.J, dtype=np.int64))
    while True:
        _, _, term, _, info = env.step(idle)
        if term:
            return float(info["objective"])


def fig8_run(cfg_d: dict[str, Any], spec: tuple[str, dict[str, Any] | None], s: int,
             trust: bool) -> dict[str, Any]:
    """Fig. 8 protocol, one policy on one stream of ``fig8_updates`` task updates.

    The stream (``LinkGroupTaskStream``, random events) changes the task every
    ``fig8_windows * T`` slots.  Learners play every window and learn online
    (:func:`agents.linkgroup.training.run_stream`: EMCL adapts its actor, AC-MAML returns to its
    meta-learned weights and AC-DDPG to fresh weights at every update); the other policies play
    the scored windows (every ``fig8_every``-th of a cycle) and idle through the others.  The
    windows' demands and channels depend only on the stream's seed, so every policy meets the
    same realisations.  Returns the final ``F`` of every scored window.
    """
    import torch

    from agents.linkgroup.training import load_learner, make_env, run_stream, window_seed
    from leo_env.envs.linkgroup.stream import LinkGroupTaskStream

    torch.set_num_threads(1)
    label, d = spec
    cfg = _cfg(cfg_d)
    e = cfg.evaluate
    layout = e.layout_seeds[s % len(e.layout_seeds)]
    base = make_env(_env_cfg(cfg, d), layout)
    T = base.cfg.T  # noqa: N806
    env = LinkGroupTaskStream(base, e.fig8_updates - 1, e.fig8_windows * T, "random", window_seed(500, s))
    n_win = e.fig8_updates * e.fig8_windows
    scored = [w for w in range(n_win) if w % e.fig8_every == e.fig8_every - 1]
    seed = window_seed(600, s)
    t0 = time.perf_counter()
    limit = e.fig8_search_updates if label in SEARCHES else (e.fig8_admm_updates if label == "admm" else 0)
    if limit:
        scored = [w for w in scored if w // e.fig8_windows < limit]
    if d is None:
        pol = _builtin(label, s, e)
        times: list[float] = []
        f_all = []
        for w in range(n_win):
            sd = seed if w == 0 else None
            f_all.append(_play_builtin(pol, env, sd, times) if w in scored else _idle_window(env, sd))
        dt = float(np.mean(times))
    else:
        learner = load_learner(_cfg(d), trust)
        r = run_stream(learner, env, n_win * T, seed, reinit_seed=window_seed(700, s))
        f_all = [float(v) for v in r["series"][::T]]
        dt = r["decision_time_s"]
    return {"label": label, "seed": s, "layout_seed": layout, "F": [f_all[w] for w in scored],
            "update": [w // e.fig8_windows for w in scored], "events": list(env.stream.events),
            "time_per_slot_s": dt, "wall_s": time.perf_counter() - t0}


def _fig8_summary(cfg: LinkGroupRunConfig, labels: list[str], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per cycle: mean F of each policy over the scored windows vs OPT's on the same windows."""
    e = cfg.evaluate
    me = cfg.name
    by = {(r["label"], r["seed"]): r for r in runs}
    seeds = sorted({r["seed"] for r in runs})

    def cycles(lab: str) -> dict[tuple[int, int], float]:
        out = {}
        for s in seeds:
            if (lab, s) not in by:  # a partial set of jobs (benchmarks.linkgroup_jobs)
                continue
            r = by[(lab, s)]
            upd = np.asarray(r["update"])
            for u in np.unique(upd):
                out[(s, int(u))] = float(np.mean(np.asarray(r["F"])[upd == u]))
        return out

    c_opt = cycles("opt")
    f_all = np.asarray(list(c_opt.values()))
    res: dict[str, Any] = {"n_cycles": int(f_all.size), "n_cycles_opt_positive": int((f_all > 1e-6).sum()),
                           "opt_mean_F": float(f_all.mean()), "policies": {}}
    c_me = cycles(me) if me in labels else None
    for lab in ["opt", *[x for x in labels if x != "opt"]]:
        c = cycles(lab)
        keys = sorted(k for k in c if k in c_opt)
        f = np.asarray([c[k] for k in keys])
        f_opt = np.asarray([c_opt[k] for k in keys])
        pos = f_opt > 1e-6
        g = 100.0 * (f[pos] - f_opt[pos]) / f_opt[pos]
        hard = f_opt >= 1.0  # overloaded cycles: OPT's F of at least one unserved receiver
        row = {"mean_F": float(f.mean()), "n_cycles": len(keys), "opt_mean_F_same_cycles": float(f_opt.mean()),
               "gap_to_opt_pct": float(g.mean()),
               "gap_overloaded_pct": float(np.mean(100.0 * (f[hard] - f_opt[hard]) / f_opt[hard])) if hard.any()
               else None,
               "n_cycles_overloaded": int(hard.sum()),
               "gap_to_opt_pct_median": float(np.median(g)),
               "pooled_gap_pct": 100.0 * float(f.sum() / max(f_opt.sum(), 1e-9) - 1.0),
               "time_per_slot_ms": 1e3 * float(np.mean([by[(lab, s)]["time_per_slot_s"] for s in seeds
                                                        if (lab, s) in by])),
               "seeds": sorted({k[0] for k in keys}),
               "cycle_gaps_pct": g.tolist()}
        if c_me is not None and lab != me:
            both = np.asarray([k in c_me for k in keys])
            row["vs_" + me] = paired(np.asarray([c_me[k] for k in keys if k in c_me]), f[both], e.bootstrap)
        if e.fig8_search_updates:  # every policy on the cycles the searches were scored on
            sub = np.asarray([k[1] < e.fig8_search_updates for k in keys])
            fs, fo = f[sub], f_opt[sub]
            ps, hs = fo > 1e-6, fo >= 1.0
            row["search_cycles"] = {
                "n_cycles": int(sub.sum()), "mean_F": float(fs.mean()), "opt_mean_F": float(fo.mean()),
                "gap_to_opt_pct": float(np.mean(100.0 * (fs[ps] - fo[ps]) / fo[ps])),
                "gap_overloaded_pct": float(np.mean(100.0 * (fs[hs] - fo[hs]) / fo[hs])) if hs.any() else None,
                "n_cycles_overloaded": int(hs.sum()),
                "pooled_gap_pct": 100.0 * float(fs.sum() / max(fo.sum(), 1e-9) - 1.0)}
        res["policies"][lab] = row
    return res


PUBLISHED_FIG8 = {"emcl": 27.58, "ac-maml": 45.26, "ac-ddpg": 57.23, "grd": 74.15, "admm": 31.12}
"""Fig. 8: gap to OPT averaged over 50 updates [%] (ADMM-HEU: EMCL's 27.58 + 3.54 points)."""


def _fig8_markdown(cfg: LinkGroupRunConfig, f8: dict[str, Any], algos: dict[str, str]) -> str:
    e = cfg.evaluate
    me = cfg.name
    lines = [f"### Fig. 8 protocol: {e.fig8_seeds} stream(s) x {e.fig8_updates} task updates, "
             f"{e.fig8_windows} windows per cycle, every {e.fig8_every}-th scored against hindsight OPT, "
             f"preset `{cfg.env.preset}` ({f8['n_cycles_opt_positive']} of {f8['n_cycles']} cycles with F_OPT > 0)",
             "", f"| policy | cycles | mean F (OPT on the same cycles) | gap to OPT % (mean over cycles) | "
             f"gap % over overloaded cycles (F_OPT >= 1) | published % | median % | pooled % | ms/slot | "
             f"{me} - policy per cycle (mean F, 95 % CI, p) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for lab, r in f8["policies"].items():
        v = r.get("vs_" + me)
        cmp = "-" if v is None else (f"{v['mean_diff']:+.3f} [{v['ci95'][0]:+.3f}, {v['ci95'][1]:+.3f}], "
                                     f"p={v['wilcoxon_p']:.3g}")
        pub = PUBLISHED_FIG8.get(algos.get(lab, lab))
        lines.append(f"| {lab} | {r['n_cycles']} | {r['mean_F']:.3f} ({r['opt_mean_F_same_cycles']:.3f}) | "
                     f"{r['gap_to_opt_pct']:.1f} | "
                     f"{'-' if r['gap_overloaded_pct'] is None else format(r['gap_overloaded_pct'], '.1f')} "
                     f"(n={r['n_cycles_overloaded']}) | "
                     f"{'-' if pub is None else format(pub, '.2f')} | {r['gap_to_opt_pct_median']:.1f} | "
                     f"{r['pooled_gap_pct']:.1f} | {r['time_per_slot_ms']:.2f} | {cmp} |")
    if e.fig8_search_updates:
        lines += ["", f"Every policy on the first {e.fig8_search_updates} cycles (where `rollout` / `saa` were scored):",
                  "", "| policy | cycles | mean F (OPT) | gap to OPT % | gap % over overloaded cycles | pooled % |",
                  "|---|---|---|---|---|---|"]
        for lab, r in f8["policies"].items():
            c = r["search_cycles"]
            go = "-" if c["gap_overloaded_pct"] is None else format(c["gap_overloaded_pct"], ".1f")
            lines.append(f"| {lab} | {c['n_cycles']} | {c['mean_F']:.3f} ({c['opt_mean_F']:.3f}) | "
                         f"{c['gap_to_opt_pct']:.1f} | {go} (n={c['n_cycles_overloaded']}) | {c['pooled_gap_pct']:.1f} |")
    return "\n".join(lines) + "\n"


def paired(a: np.ndarray, b: np.ndarray, resamples: int, seed: int = 0) -> dict[str, Any]:
    """Mean of ``a - b`` with a bootstrap 95 % interval and a Wilcoxon signed-rank p-value."""
    from scipy.stats import wilcoxon

    d = np.asarray(a, float) - np.asarray(b, float)
    rng = np.random.default_rng(seed)
    boot = d[rng.integers(0, d.size, (resamples, d.size))].mean(axis=1)
    lo, hi = (float(v) for v in np.quantile(boot, [0.025, 0.975]))
    p = float(wilcoxon(d).pvalue) if d.size >= 2 and np.any(d != 0) else 1.0
    return {"mean_diff": float(d.mean()), "ci95": [lo, hi], "wilcoxon_p": p, "n": int(d.size)}


def _summary(cfg: LinkGroupRunConfig, labels: list[str], win: list[dict[str, Any]],
             st: list[dict[str, Any]]) -> dict[str, Any]:
    me = cfg.name
    e = cfg.evaluate
    res: dict[str, Any] = {"windows": {}, "streams": {}}
    f_opt = np.array([np.mean(r["opt"]["F"]) for r in win])
    wl = ["opt", *[lab for lab in labels if lab != "opt"]] if win else []
    for lab in wl:
        f = np.array([np.mean(r[lab]["F"]) for r in win])
        gaps = (f - f_opt) / np.maximum(f_opt, 1e-9)
        hard = f_opt >= 1.0  # OPT leaves at least one receiver unserved ("overloaded" seeds)
        row: dict[str, Any] = {"mean_F": float(f.mean()),
               "gap_to_opt_pct": 100 * float(gaps[hard].mean()) if hard.any() else None,
               "n_overloaded_seeds": int(hard.sum()),
               "median_gap_pct": 100 * float(np.median(gaps)),
               "pooled_gap_pct": 100 * float(f.sum() / max(f_opt.sum(), 1e-9) - 1),
               "time_per_slot_ms": 1e3 * float(np.mean([r[lab]["time_per_slot_s"] for r in win]))}
        if lab != me:
            f_me = np.array([np.mean(r[me]["F"]) for r in win])
            row["vs_" + me] = paired(f_me, f, e.bootstrap)
        res["windows"][lab] = row
    if st:
        rec_me = np.array([np.mean(r[me]["recovery_slots"]) for r in st])
        f_me = np.array([np.mean(r[me]["series"]) for r in st])
        from oracles.linkgroup.objective import transient_excess

        def excess(r: dict[str, Any]) -> float:
            x = np.asarray(r["series"], float)
            return float(np.mean([transient_excess(x, c * e.interval, (c + 1) * e.interval)
                                  for c in range(1, e.changes + 1)]))

        exc_me = np.array([excess(r[me]) for r in st])
        for lab in labels:
            rec = np.array([np.mean(r[lab]["recovery_slots"]) for r in st])
            f = np.array([np.mean(r[lab]["series"]) for r in st])
            exc = np.array([excess(r[lab]) for r in st])
            per_event: dict[str, list[int]] = {}
            for r in st:
                for ev, v in zip(r[lab]["events"], r[lab]["recovery_slots"], strict=True):
                    per_event.setdefault(ev, []).append(v)
            row = {"mean_F": float(f.mean()), "mean_recovery_slots": float(rec.mean()),
                   "recovered_share": float(np.mean([np.mean(r[lab]["recovered"]) for r in st])),
                   "recovery_by_event": {k: float(np.mean(v)) for k, v in per_event.items()},
                   "time_per_slot_ms": 1e3 * float(np.mean([r[lab]["time_per_slot_s"] for r in st])),
                   "transient_excess": float(exc.mean())}
            if lab != me:
                row["recovery_vs_" + me] = paired(rec_me, rec, e.bootstrap)
                row["transient_excess_vs_" + me] = paired(exc_me, exc, e.bootstrap)
                row["F_vs_" + me] = paired(f_me, f, e.bootstrap)
                row["recovery_saving_of_" + me + "_pct"] = 100 * float(1 - rec_me.mean() / max(rec.mean(), 1e-9))
            res["streams"][lab] = row
    return res


def _fmt_paired(v: dict[str, Any] | None) -> str:
    if v is None:
        return "-"
    return f"{v['mean_diff']:+.2f} [{v['ci95'][0]:+.2f}, {v['ci95'][1]:+.2f}], p={v['wilcoxon_p']:.3g}"


def _markdown(cfg: LinkGroupRunConfig, summ: dict[str, Any]) -> str:
    me = cfg.name
    e = cfg.evaluate
    lines: list[str] = [] if not summ["windows"] else [f"### Windows: {e.seeds} held-out tasks x {e.windows_per_task} windows, preset "
             f"`{cfg.env.preset}` (gap to hindsight OPT)", "",
             f"| policy | mean F | pooled gap to OPT % | gap % (mean over overloaded seeds) | median gap % | ms/slot | "
             f"{me} - policy (mean F, 95 % CI, p) |", "|---|---|---|---|---|---|---|"]
    for lab, r in summ["windows"].items():
        v = r.get("vs_" + me)
        cmp = "-" if v is None else (f"{v['mean_diff']:+.3f} [{v['ci95'][0]:+.3f}, {v['ci95'][1]:+.3f}], "
                                     f"p={v['wilcoxon_p']:.3g}")
        g = r["gap_to_opt_pct"]
        gs = "-" if g is None else f"{g:.1f} (n={r['n_overloaded_seeds']})"
        lines.append(f"| {lab} | {r['mean_F']:.3f} | {r['pooled_gap_pct']:.1f} | {gs} | {r['median_gap_pct']:.1f} | "
                     f"{r['time_per_slot_ms']:.2f} | {cmp} |")
    if summ["streams"]:
        lines += ["", f"### Streams: {e.stream_seeds} task streams of {(e.changes + 1) * e.interval} slots, "
                  f"changes every {e.interval} slots (recovery time, online learning)", "",
                  f"| policy | mean F | mean recovery [slots] | recovered | by event | {me} - policy "
                  f"(recovery, 95 % CI, p) | saving of {me} % | ms/slot | transient excess [F] | {me} - policy "
                  f"(excess, 95 % CI, p) |", "|---|---|---|---|---|---|---|---|---|---|"]
        for lab, r in summ["streams"].items():
            v = r.get("recovery_vs_" + me)
            cmp = "-" if v is None else (f"{v['mean_diff']:+.1f} [{v['ci95'][0]:+.1f}, {v['ci95'][1]:+.1f}], "
                                         f"p={v['wilcoxon_p']:.3g}")
            sav = r.get("recovery_saving_of_" + me + "_pct")
            ev = ", ".join(f"{k} {x:.0f}" for k, x in r["recovery_by_event"].items())
            lines.append(f"| {lab} | {r['mean_F']:.3f} | {r['mean_recovery_slots']:.1f} | "
                         f"{100 * r['recovered_share']:.0f} % | {ev} | {cmp} | "
                         f"{'-' if sav is None else format(sav, '.1f')} | {r['time_per_slot_ms']:.2f} | "
                         f"{r['transient_excess']:.2f} | {_fmt_paired(r.get('transient_excess_vs_' + me))} |")
    return "\n".join(lines) + "\n"


def evaluate(cfg: LinkGroupRunConfig, policies: list[str] | None = None, progress: bool = True,
             trust: bool = False) -> dict[str, Any]:
    """Run both parts (module docstring); returns ``{"summary", "markdown", "out", ...}``."""
    from agents.provenance import provenance
    from leo_env.parallel import pmap

    e = cfg.evaluate
    specs = _resolve(cfg, list(policies) if policies else list(e.policies))
    labels = [lab for lab, _ in specs]
    backend = "process" if e.workers > 1 else "serial"
    cd = cfg.to_dict()
    f8_runs: list[dict[str, Any]] = []
    if e.fig8_updates:
        f8_specs = specs if any(lab == "opt" for lab, _ in specs) else [*specs, ("opt", None)]
        # the slowest jobs (OPT, the rollout, the learners) first, so the workers stay busy
        items = [(cd, sp, s, trust) for s in range(e.fig8_seeds) for sp in f8_specs]
        items.sort(key=lambda it: (it[1][0] not in ("opt", "rollout") and it[1][1] is None))
        f8_runs = pmap(fig8_run, items, backend=backend, workers=e.workers, desc="fig8", progress=progress)
    win = pmap(windows_seed, [(cd, specs, i, trust) for i in range(e.seeds)], backend=backend,
               workers=e.workers, desc="windows", progress=progress) if e.seeds else []
    st = pmap(stream_seed, [(cd, specs, s, trust) for s in range(e.stream_seeds)], backend=backend,
              workers=e.workers, desc="streams", progress=progress) if e.stream_seeds else []
    summ = _summary(cfg, labels, win, st)
    md = _markdown(cfg, summ)
    if f8_runs:
        f8_labels = [lab for lab, _ in specs]
        summ["fig8"] = _fig8_summary(cfg, [*f8_labels, "opt"], f8_runs)
        md = _fig8_markdown(cfg, summ["fig8"], {lab: (d["algo"] if d else lab) for lab, d in specs}) + "\n" + md
    out = Path(e.out) if e.out else Path(cfg.results_dir) / cfg.name
    out.mkdir(parents=True, exist_ok=True)
    result = {"meta": provenance(), "config": asdict(cfg), "policies": labels, "summary": summ,
              "windows": win, "streams": st, "fig8": f8_runs}
    atomic_write_json(out / "results.json", result)
    atomic_write_text(out / "results.md", md)
    return {"summary": summ, "markdown": md, "out": str(out.resolve()), "rows": summ}
