"""Shared loading of the environment's dataset (scalar and vector env)."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np

from leo_env.datasets import primary_assignment as pa
from leo_env.envs.assignment.params import PrimaryAssignmentParams


@lru_cache(maxsize=4)
def load_part(params: PrimaryAssignmentParams) -> tuple[pa.PrimaryAssignmentData, np.ndarray]:
    """The dataset and the epoch indices of ``params.part`` (chronological split)."""
    cfg = pa.PRESETS[params.dataset]
    if params.duration_s is not None:
        cfg = replace(cfg, duration_s=float(params.duration_s))
    data = pa.load(cfg, params.data_root, progress=False)
    n = data.n_epochs
    n_test = int(round(params.test_fraction * n))
    n_val = int(round(params.val_fraction * n))
    n_train = n - n_val - n_test
    if min(n_train, n_val, n_test) < 1:
        raise ValueError(f"duration_s gives {n} epochs: too few for the split")
    bounds = {
        "train": (0, n_train),
        "val": (n_train, n_train + n_val),
        "test": (n_train + n_val, n),
    }
    lo, hi = bounds.get(params.part, (0, n))
    # every epoch needs at least one available satellite (always true for the presets)
    idx = np.arange(lo, hi)
    return data, idx[data["n_avail"][idx] > 0]
