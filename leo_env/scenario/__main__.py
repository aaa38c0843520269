"""Scenario command line.

::

    python -m leo_env.scenario describe <preset-or-yaml> [--seed N] [--plot out.png]
        [--json out.json] [--set key=value ...]
    python -m leo_env.scenario ranges          # the allowed range of every config field

The scenario build benchmark moved to the top layer: ``python -m benchmarks.scenarios
[presets ...] [--seeds N] [--out results/scenarios.json]``.
"""

from __future__ import annotations

import argparse
import sys

from leo_env.core.overrides import add_set_argument
from leo_env.io import atomic_write_json
from leo_env.scenario.build import make_scenario
from leo_env.scenario.config import field_ranges
from leo_env.scenario.describe import format_summary, plot_scenario, summarise

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the ``describe`` or ``ranges`` command; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        print(
            "the scenario benchmark moved: python -m benchmarks.scenarios "
            + " ".join(argv[1:]),
            file=sys.stderr,
        )
        return 2
    p = argparse.ArgumentParser(
        prog="python -m leo_env.scenario",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Benchmark of scenario builds: python -m benchmarks.scenarios --help",
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("describe", help="print a scenario's summary and optionally plot it")
    d.add_argument("scenario", help="preset name or path to a YAML file")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--plot", metavar="PNG", help="write the figure here")
    d.add_argument("--json", metavar="FILE", help="write the summary as JSON here")
    add_set_argument(d, "demand.mismatch_ratio=0.5")
    sub.add_parser("ranges", help="print the allowed range of every scenario config field")
    args = p.parse_args(argv)
    if args.cmd == "ranges":
        table = field_ranges()
        width = max(map(len, table))
        for key, allowed in table.items():
            print(f"{key:<{width}}  {allowed}")
        return 0
    sc = make_scenario(args.scenario, seed=args.seed, overrides=args.set)
    summary = summarise(sc)
    print(format_summary(summary))
    if args.json:
        atomic_write_json(args.json, summary)
    if args.plot:
        plot_scenario(sc, args.plot)
        print(f"figure written to {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
