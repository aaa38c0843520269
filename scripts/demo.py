"""Main job of ``python3 tasks.py demo``.

Builds the default scenario (``toy``), prints its summary, writes its figure, and scores the B0
greedy baseline with exact P1 in every slow slot.  Later issues extend this into a short training
run plus evaluation (configs/experiments/demo.yaml).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    """Run the demo."""
    import leo_env
    from leo_env.core.handover import assoc_to_onehot
    from leo_env.scenario.describe import _format, plot_scenario, summarise
    from oracles.baselines import greedy_association

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scenario", default="toy")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--out", default="results/demo")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    sc = leo_env.make_scenario(args.scenario, seed=0)
    print(_format(summarise(sc)))
    plot_scenario(sc, str(out / "scenario.png"))
    print(f"figure: {out / 'scenario.png'}")

    from oracles.p2 import evaluate

    rows = []
    for seed in range(args.seeds):
        sc = leo_env.make_scenario(args.scenario, seed=seed)
        assoc = greedy_association(sc.v, sc.g, sc.H)
        ev = evaluate(sc, assoc_to_onehot(assoc, sc.S))
        rows.append((seed, ev.utility, ev.mean_xi, ev.jain, int(ev.handovers.sum()),
                     int(ev.budget_violations)))
    print(f"\nB0 greedy on '{args.scenario}', exact P1 in every slot:")
    print(f"{'seed':>4} {'utility':>10} {'mean xi':>8} {'Jain':>6} {'handovers':>9} {'violations':>10}")
    for r in rows:
        print(f"{r[0]:>4} {r[1]:>10.3f} {r[2]:>8.3f} {r[3]:>6.3f} {r[4]:>9d} {r[5]:>10d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
