"""Run analyses: steps to reach a utility level (BC warm start), an agent's search window.

Both runs' validation histories (``evaluations.json``) are measured on the same validation
scenarios and with the same deterministic masked policy, so their returns are comparable.

Command line::

    python -m agents.analysis warmstart --reference runs/<B4 run> --candidate runs/<B5 run>

prints the reference's final validation return (mean of its last ``--last`` evaluations), the
first environment step at which each run reaches it, and their ratio.  The candidate's
oracle-labelled slots (``bc.json``) are reported next to its PPO steps.

::

    python -m agents.analysis search --run runs/<run> --deltas 0,1,2,3,5,inf --episodes 10 [--prediction-error 0.2]

plays the run's best model with :func:`agents.search.local_search` at every logit window
``delta`` (0 = the plain argmax) on the *validation* scenarios (training split, the ones the
training callback uses; never the held-out evaluation seeds) and prints the mean return per
window, so the window is chosen without touching the evaluation split.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["history", "steps_to_reach", "warmstart", "search_windows"]


def history(run_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Validation history of a run folder, by environment steps."""
    data = json.loads((Path(run_dir) / "evaluations.json").read_text())
    return sorted(data["history"], key=lambda h: h["timesteps"])


def steps_to_reach(hist: list[dict[str, Any]], level: float) -> int | None:
    """First environment step whose validation return is at least ``level`` (None: never)."""
    for h in hist:
        if h["mean_return"] >= level:
            return int(h["timesteps"])
    return None


def warmstart(reference: str | os.PathLike[str], candidate: str | os.PathLike[str], last: int = 1) -> dict[str, Any]:
    """Steps each run needs to reach the reference's final validation return.

    Parameters
    ----------
    reference : path
        Run folder of the from-scratch agent (B4).
    candidate : path
        Run folder of the warm-started agent (B5).
    last : int
        The reference level is the mean of its last ``last`` validation returns.
    """
    ref, cand = history(reference), history(candidate)
    tail = ref[-max(1, last):]
    level = sum(h["mean_return"] for h in tail) / len(tail)
    s_ref = steps_to_reach(ref, level)
    s_cand = steps_to_reach(cand, level)
    bc = Path(candidate) / "bc.json"
    # environment steps the oracle labels cost: label slots plus DAgger's learner states
    bc_stats = json.loads(bc.read_text()) if bc.exists() else {}
    oracle_slots = bc_stats.get("oracle_env_steps", bc_stats.get("slots"))
    out: dict[str, Any] = {
        "level": level, "reference_steps": s_ref, "reference_final_steps": int(ref[-1]["timesteps"]),
        "candidate_steps": s_cand, "candidate_oracle_slots": oracle_slots,
        "candidate_best": max(h["mean_return"] for h in cand), "reference_best": max(h["mean_return"] for h in ref),
    }
    if s_ref is not None and s_cand is not None:
        out["ratio"] = (s_ref / s_cand) if s_cand > 0 else "inf (reached before any RL step)"
        if oracle_slots:
            out["ratio_counting_oracle_slots"] = s_ref / (s_cand + oracle_slots)
    return out


def search_windows(
    run: str | os.PathLike[str], deltas: list[float], episodes: int, prediction_error: float | None = None,
    passes: int = 2,
) -> list[dict[str, Any]]:
    """Mean validation return of a run's best model per search window (``delta = 0``: argmax).

    Every window plays the same ``episodes`` validation scenarios (seeds
    ``VALIDATION_SEED_BASE - i`` of the training split).
    """
    from dataclasses import replace

    import numpy as np

    from agents.envs import VALIDATION_SEED_BASE, make_env
    from agents.evaluation import play
    from agents.policies import load_agent_policy
    from agents.runs import run_config

    cfg = run_config(run)
    env_cfg = cfg.env if prediction_error is None else replace(cfg.env, prediction_error=float(prediction_error))
    env = make_env(env_cfg, seed_split="train")
    rows = []
    for d in deltas:
        pol = load_agent_policy(run, search=None if d == 0 else (float(d), int(passes)))
        ret = [play(pol, env, i, scenario_seed=VALIDATION_SEED_BASE - i)["utility"] for i in range(episodes)]
        rows.append({"delta": float(d), "mean_return": float(np.mean(ret)), "returns": ret})
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m agents.analysis warmstart|search ...``."""
    ap = argparse.ArgumentParser(description="Compare validation histories of two runs; tune the search window.")
    ap.add_argument("command", choices=["warmstart", "search"])
    ap.add_argument("--reference", help="warmstart: run folder of the from-scratch agent (B4)")
    ap.add_argument("--candidate", help="warmstart: run folder of the warm-started agent (B5)")
    ap.add_argument("--last", type=int, default=1, help="warmstart: average the reference's last N validations")
    ap.add_argument("--run", help="search: run folder")
    ap.add_argument("--deltas", default="0,1,2,3,5,inf", help="search: comma-separated logit windows")
    ap.add_argument("--episodes", type=int, default=10, help="search: validation scenarios")
    ap.add_argument("--prediction-error", type=float, help="search: forecast error (default: the run's)")
    ap.add_argument("--passes", type=int, default=2, help="search: sweeps over the cells")
    args = ap.parse_args(argv)
    if args.command == "warmstart":
        if not (args.reference and args.candidate):
            ap.error("warmstart needs --reference and --candidate")
        print(json.dumps(warmstart(args.reference, args.candidate, args.last), indent=2))
        return 0
    if not args.run:
        ap.error("search needs --run")
    deltas = [float(x) for x in args.deltas.split(",")]
    if any(not d >= 0 for d in deltas):
        ap.error(f"--deltas must be >= 0 (inf allowed), got {args.deltas}")
    rows = search_windows(args.run, deltas, args.episodes, args.prediction_error, args.passes)
    print("| delta | mean validation return |")
    print("|---|---|")
    for r in rows:
        print(f"| {r['delta']:g} | {r['mean_return']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
