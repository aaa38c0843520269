"""Training data of the lisl price predictor: seeded snapshots solved by DuJo (cached as .npz).

One *record* per snapshot ``(n_sats, seed)``: the graph features
(:func:`agents.lisl.features.graph_features`), DuJo's last and best prices after ``K`` subgradient
iterations (the supervision target), and the converted throughput of DuJo (last and best
iterate) and of MRate on that snapshot (the yardsticks).  Records are written atomically to
``<cache>/<key>/I<n>_s<seed>.npz`` where ``key`` hashes everything that changes them (DuJo's
parameters, the instance overrides, the feature version), so a rerun reuses them.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.lisl.features import ARC_FEATURES, NODE_FEATURES, graph_features
from leo_env.scenario.lisl import LISL_PRESETS, LislInstance, build_lisl_instance
from oracles.lisl import DujoParams, LislProblem, convert_prices, mrate, subgradient

__all__ = ["FEATURE_VERSION", "build_snapshot", "dataset_key", "make_record", "load_records"]

FEATURE_VERSION = 1
"""Bumped whenever :mod:`agents.lisl.features` changes what it computes."""


def build_snapshot(
    n_sats: int, seed: int, overrides: Mapping[str, Any] | None = None
) -> tuple[LislInstance, LislProblem]:
    """The ``paper`` preset snapshot with ``n_sats`` satellites and ``seed`` (plus overrides)."""
    ov = {k: (tuple(v) if isinstance(v, list) else v) for k, v in dict(overrides or {}).items()}
    inst = build_lisl_instance(LISL_PRESETS["paper"], n_sats=int(n_sats), seed=int(seed), **ov)
    return inst, LislProblem(inst.graph, inst.traffic)


def dataset_key(params: DujoParams, overrides: Mapping[str, Any] | None = None) -> str:
    """Short hash of what a record depends on (DuJo's parameters, overrides, features)."""
    blob = json.dumps(
        {
            "dujo": [params.iterations, params.alpha0, params.beta, params.project_unit],
            "overrides": {k: v for k, v in sorted(dict(overrides or {}).items())},
            "features": [FEATURE_VERSION, NODE_FEATURES, ARC_FEATURES],
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def make_record(
    n_sats: int,
    seed: int,
    iterations: int,
    alpha0: float,
    beta: float,
    overrides: Mapping[str, Any] | None,
    cache_dir: str,
) -> str:
    """Solve one snapshot with DuJo and write its record (skipped when cached); returns its path."""
    params = DujoParams(iterations=int(iterations), alpha0=float(alpha0), beta=float(beta))
    folder = Path(cache_dir) / dataset_key(params, overrides)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"I{int(n_sats)}_s{int(seed)}.npz"
    if path.exists():
        return str(path)
    inst, pb = build_snapshot(n_sats, seed, overrides)
    feats = graph_features(pb, inst.pos_m, inst.config.max_distance_km * 1e3)
    tr = subgradient(pb, params)
    thr_last = convert_prices(pb, tr.lam_last).throughput_gbps
    thr_best = convert_prices(pb, tr.lam_best).throughput_gbps
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz.tmp")
    os.close(fd)
    with open(tmp, "wb") as fh:
        np.savez_compressed(
            fh,
            node_x=feats.node_x,
            arc_x=feats.arc_x,
            tail=feats.tail,
            head=feats.head,
            lam_last=tr.lam_last.astype(np.float32),
            lam_best=tr.lam_best.astype(np.float32),
            thr_dujo=np.float64(thr_last),
            thr_dujo_best=np.float64(thr_best),
            thr_mrate=np.float64(mrate(pb).throughput_gbps),
            demand_gbps=np.float64(pb.demand_gbps.sum()),
            iter_time_s=np.float64(tr.iter_time_s),
            n_sats=np.int64(n_sats),
            seed=np.int64(seed),
        )
    os.replace(tmp, path)
    return str(path)


def load_records(paths: Sequence[str]) -> list[dict[str, np.ndarray]]:
    """Load records written by :func:`make_record` (plain arrays; no pickles)."""
    out = []
    for p in paths:
        with np.load(p, allow_pickle=False) as z:
            out.append({k: z[k] for k in z.files})
    return out
