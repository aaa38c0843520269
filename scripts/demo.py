"""Main job of ``python3 tasks.py demo`` (configs/experiments/demo.yaml).

1. Builds the ``toy`` scenario, prints its summary and writes its figure.
2. Trains B5 briefly (behaviour cloning on hindsight-oracle labels, then masked PPO).
3. Evaluates B5 against B0 (greedy), B1 (hindsight oracle) and B2 (MPC) on 20 paired
   held-out seeds at 5 %, 10 % and 20 % prediction error, prints the table and writes
   ``results.{json,md,csv}`` and the plots to ``results/demo/``.

Extra arguments go to ``evaluate.py`` (e.g. ``--set train.total_timesteps=4000``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONFIG = "configs/experiments/demo.yaml"


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit status."""
    import evaluate
    import leo_env
    from agents.config import load_experiment
    from leo_env.scenario.describe import _format, plot_scenario, summarise

    argv = list(sys.argv[1:] if argv is None else argv)
    cfg = load_experiment(CONFIG, [])
    out = Path(cfg.evaluate.out)
    out.mkdir(parents=True, exist_ok=True)
    sc = leo_env.make_scenario(cfg.env.preset, seed=0)
    print(_format(summarise(sc)))
    plot_scenario(sc, str(out / "scenario.png"))
    print(f"figure: {out / 'scenario.png'}\n")
    return evaluate.main(["--config", CONFIG, "--train", *argv])


if __name__ == "__main__":
    raise SystemExit(main())
