r"""linkgroup family: how much of the gap to hindsight OPT is the value of information (bounds).

Hindsight OPT (the reference of Fig. 8) knows the whole window's channel path; a causal
scheduler knows the current slot's channel and the FSMC model only.  On the scored windows of
the Fig. 8 protocol (the same stream, windows and realisations as
``python -m benchmarks.linkgroup_jobs``; the first ``--updates`` task updates), this script
computes per window

* ``opt``: hindsight OPT's ``F`` on the realised window;
* ``hs_mean``: the mean of hindsight OPT over ``N`` channel paths sampled from the window's
  slot-0 FSMC state (slot 0 real, slots 1..T-1 sampled): an unbiased estimate of
  ``E[F_OPT | slot-0 state]``;
* ``lb2``: HiGHS's dual bound of the two-stage SAA MILP on the *same* ``N`` paths (slot 0's
  links shared by all paths, everything later path-wise = known in hindsight).  In expectation
  over the samples it is a lower bound on the best schedule that is causal at slot 0 and
  clairvoyant afterwards, hence on the best fully causal policy (``E[min of a sample mean] <=
  min of the mean``); ``lb2 - hs_mean`` is the value of knowing slots 1..T-1 when slot 0 is
  decided;
* ``lbtree`` (``--tree b1,b2,.. --leaves n``): the same on a conditionally sampled scenario
  tree: ``b1`` slot-1 channels, ``b2`` slot-2 channels under each, ..., then ``n`` paths of the
  remaining slots under every node of the last level; the links of slot ``l`` are shared by
  all paths through the same level-``l`` node (causal at slots ``0..L``, clairvoyant after).
  The multistage SAA value on such a tree is a lower bound in expectation on the true
  multistage optimum (Shapiro), hence on the best causal policy; ``hs_tree`` is the mean of
  hindsight OPT over the tree's paths (the paired reference).

and, from a finished ``linkgroup_jobs`` folder (``--jobs``), every causal policy's ``F`` on the
same windows.  Table: pooled gaps ``sum X / sum F_OPT - 1`` and the mean over cycles of the
per-cycle gap (Fig. 8's summary).  Writes JSON atomically; rerunning with the same ``--out``
resumes (windows already computed are kept).

::

    python -m benchmarks.linkgroup_voi --config configs/experiments/linkgroup_emcl_k20.yaml \
        --updates 5 --samples 16 [--tree 3,3 --leaves 2] [--jobs results/linkgroup/fig8_k20/jobs] \
        --out results/linkgroup/voi_k20.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["window_values", "main"]


def window_values(u: Any, rng: np.random.Generator, n_samples: int, tree: tuple[int, ...], leaves: int,
                  time_limit: float) -> dict[str, Any]:
    """``opt``, ``hs_mean``, ``lb2`` (and ``lbtree``, ``hs_tree`` if ``tree``) of the env's current window."""
    from leo_env.scenario import linkgroup as lg
    from oracles.linkgroup.opt import solve_opt
    from oracles.linkgroup.rollout import gains_of_levels, sample_future_levels
    from oracles.linkgroup.saa import solve_saa_first_slot

    inst, T = u.instance, u.cfg.T  # noqa: N806
    large = lg.large_scale_gains(u.cfg, u.layout, u.task)
    tab = lg.fsmc_tables(u.cfg)
    trans = np.stack([tab["P_ka"], tab["P_c"]])
    mean = np.stack([tab["mean_ka"], tab["mean_c"]])
    chain = np.r_[0, np.ones(u.cfg.J - 1, dtype=np.int64)]
    t0 = time.perf_counter()
    out: dict[str, Any] = {"opt": float(solve_opt(inst, u.spec_obj, threads=1).objective)}
    lv = sample_future_levels(u.levels[:, :, 0], chain, trans, T - 1, n_samples, rng)
    fut = gains_of_levels(large, lv, chain, mean)
    now = inst.gain[:, :, :1]
    hs = [solve_opt(dataclasses.replace(inst, gain=np.concatenate([now, fut[s]], axis=2)), u.spec_obj,
                    threads=1).objective for s in range(n_samples)]
    out["hs_mean"] = float(np.mean(hs))
    _, info = solve_saa_first_slot(inst, 0, np.zeros(inst.K), fut, u.spec_obj, time_limit=time_limit)
    out["lb2"], out["lb2_status"], out["lb2_objective"] = info["dual_bound"], info["status"], info["objective"]
    if tree:
        nodes = [u.levels[:, :, :1]]  # (J, K, depth) level paths of the nodes of the current level
        ids = [np.zeros(0, dtype=np.int64)]
        for b in tree:
            nodes_next, ids_next = [], []
            for nd, idv in zip(nodes, ids, strict=True):
                ch = sample_future_levels(nd[:, :, -1], chain, trans, 1, b, rng)
                for i in range(b):
                    nodes_next.append(np.concatenate([nd, ch[i]], axis=2))
                    ids_next.append(np.r_[idv, len(ids_next)])
            nodes, ids = nodes_next, ids_next
        paths, br = [], []
        for nd, idv in zip(nodes, ids, strict=True):
            rest = sample_future_levels(nd[:, :, -1], chain, trans, T - 1 - len(tree), leaves, rng)
            for i in range(leaves):
                paths.append(np.concatenate([nd[:, :, 1:], rest[i]], axis=2))
                br.append(idv)
        fut3 = gains_of_levels(large, np.stack(paths), chain, mean)
        _, info3 = solve_saa_first_slot(inst, 0, np.zeros(inst.K), fut3, u.spec_obj, time_limit=time_limit,
                                        branch=np.stack(br))
        out["lbtree"], out["lbtree_status"] = info3["dual_bound"], info3["status"]
        out["hs_tree"] = float(np.mean([
            solve_opt(dataclasses.replace(inst, gain=np.concatenate([now, fut3[s]], axis=2)), u.spec_obj,
                      threads=1).objective for s in range(fut3.shape[0])]))
    out["wall_s"] = time.perf_counter() - t0
    return out


def _windows(cfg: Any, s: int, updates: int, first: int = 0):
    """Yield (update, window index, env) at the reset of every scored window (as ``fig8_run``)."""
    from agents.linkgroup.evaluation import _idle_window
    from agents.linkgroup.training import make_env, window_seed
    from leo_env.envs.linkgroup.stream import LinkGroupTaskStream

    e = cfg.evaluate
    base = make_env(cfg, e.layout_seeds[s % len(e.layout_seeds)])
    T = base.cfg.T  # noqa: N806
    env = LinkGroupTaskStream(base, e.fig8_updates - 1, e.fig8_windows * T, "random", window_seed(500, s))
    seed = window_seed(600, s)
    n_win = min(updates, e.fig8_updates) * e.fig8_windows
    for w in range(n_win):
        sd = seed if w == 0 else None
        if w % e.fig8_every == e.fig8_every - 1 and w // e.fig8_windows >= first:
            env.reset(seed=sd)
            yield w // e.fig8_windows, w, env.unwrapped
            # replay the window idle from its start state: same realisations (they do not depend
            # on actions), and the stream advances as in fig8_run
            u = env.unwrapped
            idle = u.encode(-np.ones(u.cfg.J, dtype=np.int64))
            while True:
                *_, term, _, _ = env.step(idle)
                if term:
                    break
        else:
            _idle_window(env, sd)


def _summary(rows: list[dict[str, Any]], policies: dict[str, list[float]]) -> dict[str, Any]:
    f_opt = np.asarray([r["opt"] for r in rows])
    upd = np.asarray([r["update"] for r in rows])
    cols = {k: np.asarray([r[k] for r in rows]) for k in ("hs_mean", "lb2", "hs_tree", "lbtree")
            if all(k in r for r in rows)}
    cols.update({k: np.asarray(v) for k, v in policies.items() if len(v) == len(rows)})
    out: dict[str, Any] = {"n_windows": len(rows), "opt_mean_F": float(f_opt.mean())}
    for k, x in cols.items():
        cyc = [(x[upd == c].mean(), f_opt[upd == c].mean()) for c in np.unique(upd)]
        g = [100.0 * (a - b) / b for a, b in cyc if b > 1e-6]
        hard = [100.0 * (a - b) / b for a, b in cyc if b >= 1.0]
        out[k] = {"mean_F": float(x.mean()), "pooled_gap_pct": 100.0 * float(x.sum() / f_opt.sum() - 1.0),
                  "gap_mean_over_cycles_pct": float(np.mean(g)),
                  "gap_overloaded_cycles_pct": float(np.mean(hard)) if hard else None, "n_overloaded": len(hard)}
    return out


def main(argv: list[str] | None = None) -> None:
    """Command-line entry (module docstring)."""
    from agents.linkgroup.config import load_config
    from agents.linkgroup.training import window_seed
    from leo_env.io import atomic_write_json

    ap = argparse.ArgumentParser(prog="python -m benchmarks.linkgroup_voi", description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--set", nargs="*", default=[])
    ap.add_argument("--updates", type=int, default=5, help="task updates scored (from --first-update on)")
    ap.add_argument("--first-update", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0, help="Fig. 8 stream seed")
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--tree", default="", help="branching factors of slots 1..L, e.g. 3,3 (empty: no tree)")
    ap.add_argument("--leaves", type=int, default=2, help="paths under every last-level node of the tree")
    ap.add_argument("--time-limit", type=float, default=120.0, help="HiGHS limit per SAA MILP [s]")
    ap.add_argument("--jobs", default="", help="a linkgroup_jobs folder's jobs/ with the policies' F")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    tree = tuple(int(v) for v in a.tree.split(",") if v)
    if a.samples < 1 or a.updates < 1 or a.leaves < 1 or any(b < 1 for b in tree):
        raise ValueError("--samples, --updates, --leaves and every --tree factor must be >= 1")
    cfg = load_config(a.config, a.set)
    out = Path(a.out)
    prev = json.loads(out.read_text()) if out.exists() else {}
    done = {(r["update"], r["window"]): r for r in prev.get("windows", [])
            if prev.get("samples") == a.samples and prev.get("tree") == list(tree) and prev.get("leaves") == a.leaves}
    rows: list[dict[str, Any]] = []
    for c, w, u in _windows(cfg, a.seed, a.first_update + a.updates, a.first_update):
        if (c, w) in done:
            rows.append(done[(c, w)])
            continue
        rng = np.random.default_rng(window_seed(900, a.seed, w, a.samples))
        r = {"update": c, "window": w, **window_values(u, rng, a.samples, tree, a.leaves, a.time_limit)}
        rows.append(r)
        print(f"update {c} window {w}: " + ", ".join(f"{k} {v:.3f}" for k, v in r.items()
                                                       if isinstance(v, float)), flush=True)
        atomic_write_json(out, {"samples": a.samples, "tree": list(tree), "leaves": a.leaves, "seed": a.seed,
                                "windows": rows})
    pol: dict[str, list[float]] = {}
    if a.jobs:
        for p in sorted(Path(a.jobs).glob(f"fig8_{a.seed:02d}_*.json")):
            j = json.loads(p.read_text())
            keys = list(zip(j["update"], range(len(j["update"])), strict=True))
            idx = [i for (c, i) in keys if a.first_update <= c < a.first_update + a.updates]
            if [j["update"][i] for i in idx] == [r["update"] for r in rows]:  # the same scored windows
                pol[j["label"]] = [float(j["F"][i]) for i in idx]
    summ = _summary(rows, pol)
    atomic_write_json(out, {"samples": a.samples, "tree": list(tree), "leaves": a.leaves, "seed": a.seed,
                            "windows": rows, "policies": pol, "summary": summ})
    print(f"\n{len(rows)} windows, updates {a.first_update}..{a.first_update + a.updates - 1}, N = {a.samples} paths"
          + (f", tree {tree} x {a.leaves} leaves" if tree else ""))
    print("| quantity | mean F | pooled gap to hindsight OPT | mean over cycles | overloaded cycles |")
    print("|---|---|---|---|---|")
    for k, v in summ.items():
        if isinstance(v, dict):
            ov = "-" if v["gap_overloaded_cycles_pct"] is None else f"{v['gap_overloaded_cycles_pct']:.1f} %"
            print(f"| {k} | {v['mean_F']:.3f} | {v['pooled_gap_pct']:.1f} % | {v['gap_mean_over_cycles_pct']:.1f} % | "
                  f"{ov} (n={v['n_overloaded']}) |")


if __name__ == "__main__":
    main()
