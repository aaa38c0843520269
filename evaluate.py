#!/usr/bin/env python
"""Paired evaluation of policies on held-out seeds, for any family (also installed as ``apex-evaluate``).

    python evaluate.py --config configs/experiments/<name>.yaml --policies b0,b1,b2,runs/<run> \
        [--seeds 20] [--out DIR] [--set key=value ...] [--train]

Every policy plays the same held-out scenarios; ``--out`` receives ``results.{json,md,csv}``,
the paired statistical tests and the plots (:mod:`agents.pipeline`, ``docs/architecture.md``).
An interrupted evaluation resumes where it stopped.
"""

from agents.pipeline import main_evaluate

if __name__ == "__main__":
    raise SystemExit(main_evaluate())
