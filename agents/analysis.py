"""Compare training runs: environment steps to reach a utility level (the BC warm-start figure).

Both runs' validation histories (``evaluations.json``) are measured on the same validation
scenarios and with the same deterministic masked policy, so their returns are comparable.

Command line::

    python -m agents.analysis warmstart --reference runs/<B4 run> --candidate runs/<B5 run>

prints the reference's final validation return (mean of its last ``--last`` evaluations), the
first environment step at which each run reaches it, and their ratio.  The candidate's
oracle-labelled slots (``bc.json``) are reported next to its PPO steps.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["history", "steps_to_reach", "warmstart"]


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


def main(argv: list[str] | None = None) -> int:
    """``python -m agents.analysis warmstart --reference RUN --candidate RUN``."""
    ap = argparse.ArgumentParser(description="Compare validation histories of two runs.")
    ap.add_argument("command", choices=["warmstart"])
    ap.add_argument("--reference", required=True, help="run folder of the from-scratch agent (B4)")
    ap.add_argument("--candidate", required=True, help="run folder of the warm-started agent (B5)")
    ap.add_argument("--last", type=int, default=1, help="average the reference's last N validations")
    args = ap.parse_args(argv)
    print(json.dumps(warmstart(args.reference, args.candidate, args.last), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
