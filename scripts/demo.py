"""Main job of ``python3 tasks.py demo`` (configs/experiments/demo.yaml).

1. Describes the demo's scenario preset (summary and figure).
2. Trains B5 briefly (behaviour cloning on hindsight-oracle labels, then masked PPO).
3. Evaluates B5 against B0 (greedy), B1 (hindsight oracle) and B2 (MPC) on paired held-out
   seeds at several prediction-error levels, prints the table and writes
   ``results.{json,md,csv}`` and the plots to the config's ``evaluate.out``.

Extra arguments go to ``evaluate.py`` (e.g. ``--set train.total_timesteps=4000``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import leo_env
from agents.pipeline import load, main_evaluate
from leo_env.scenario.describe import format_summary, plot_scenario, summarise

CONFIG = "configs/experiments/demo.yaml"


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _, cfg = load(CONFIG)
    out = Path(cfg.evaluate.out)
    out.mkdir(parents=True, exist_ok=True)
    sc = leo_env.make_scenario(cfg.env.preset, seed=0)
    print(format_summary(summarise(sc)))
    plot_scenario(sc, str(out / "scenario.png"))
    print(f"figure: {out / 'scenario.png'}\n")
    return main_evaluate(["--config", CONFIG, "--train", *argv])


if __name__ == "__main__":
    raise SystemExit(main())
