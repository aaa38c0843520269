#!/usr/bin/env python
"""Train a learning agent on an experiment of any family (also installed as ``apex-train``).

    python train.py --config configs/experiments/<name>.yaml [--set key=value ...]
    python train.py --resume runs/<run folder> [--set train.total_timesteps=...]

The experiment YAML names its family (``family: downlink`` by default); the family's pipeline
does the rest (:mod:`agents.pipeline`, ``docs/architecture.md``).  A run folder receives the
resolved ``config.yaml``, TensorBoard logs, checkpoints and the final model; the same seed
gives the same training curve.
"""

from agents.pipeline import main_train

if __name__ == "__main__":
    raise SystemExit(main_train())
