"""Training of the lisl price predictor (``agent: gnn``): data, epochs, checkpoints, resume.

Run folder (``<run_dir>/<name>/``):

* ``config.yaml`` (the resolved experiment), ``provenance.json``;
* ``last.pt``: weights, optimiser state, epoch, phase, best validation score, elapsed time
  (written atomically after every epoch; ``resume`` continues from it);
* ``model.pt``: the weights with the best validation ratio (GNN / DuJo converted throughput);
* ``checksums.json``: SHA-256 of both (:mod:`agents.trust`), checked before loading;
* ``history.json``: loss and validation scores per epoch; ``tb/``: TensorBoard scalars.

The data order of epoch ``e`` comes from ``numpy.random.default_rng([seed, e])`` and nothing
else is random after the seeded initialisation, so a resumed run ends with the same weights as
an uninterrupted one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf

from agents.lisl.config import LislExperiment
from agents.lisl.data import build_snapshot, load_records, make_record
from agents.lisl.predictor import (
    PricePredictor,
    dual_epoch,
    load_checkpoint,
    load_run_weights,
    save_checkpoint,
    supervised_epoch,
    validate,
    write_json,
)
from agents.provenance import provenance
from agents.trust import record_digest
from leo_env.parallel import pmap

__all__ = [
    "TRAIN_SEED0",
    "VAL_SEED0",
    "dataset_paths",
    "write_config",
    "train_gnn",
    "load_predictor",
]

TRAIN_SEED0 = 100_000
"""First training seed of the predictor's snapshots."""
VAL_SEED0 = 200_000
"""First validation seed (evaluation seeds start at 0, so the three sets are disjoint)."""


def dataset_paths(cfg: LislExperiment, progress: bool = True) -> tuple[list[str], list[str]]:
    """Solve (or load from the cache) the training and validation snapshots; their paths."""
    d = cfg.data
    ov = dict(d.overrides)
    tasks_val = [
        (n, VAL_SEED0 + k, d.iterations, d.alpha0, d.beta, ov, d.cache_dir)
        for k in range(d.val_seeds)
        for n in d.sizes
    ]
    tasks_train = [
        (n, TRAIN_SEED0 + k, d.iterations, d.alpha0, d.beta, ov, d.cache_dir)
        for k in range(d.train_seeds)
        for n in d.sizes
    ]
    paths = pmap(
        make_record,
        tasks_val + tasks_train,
        backend="process" if d.workers > 1 else "serial",
        workers=d.workers,
        desc="DuJo targets",
        progress=progress,
    )
    return list(paths[: len(tasks_val)]), list(paths[len(tasks_val) :])


def write_config(cfg: LislExperiment, run: Path) -> None:
    """Write the resolved experiment as ``config.yaml``.

    It carries ``family: lisl``, which ``--resume`` reads to route the run back to this family.
    """
    tree = OmegaConf.create({"family": "lisl"})
    (run / "config.yaml").write_text(
        OmegaConf.to_yaml(OmegaConf.merge(tree, OmegaConf.structured(cfg)))
    )


def _save(run: Path, name: str, state: dict[str, Any]) -> None:
    path = run / name
    save_checkpoint(path, state)
    record_digest(run, path)


def load_predictor(run: str | Path, trust: bool = False) -> PricePredictor:
    """The best weights of a ``gnn`` run folder (digest checked unless ``trust``)."""
    cfg, weights = load_run_weights(run, trust)
    pred = PricePredictor.create(int(cfg.gnn.hidden), int(cfg.gnn.layers))
    pred.model.load_state_dict(weights)
    pred.model.eval()
    return pred


def train_gnn(
    cfg: LislExperiment,
    resume: str | Path | None = None,
    progress: bool | None = None,
    trust: bool = False,
) -> Path:
    """Train the price predictor; returns the run folder (see the module docstring)."""
    show = progress is not False
    run = Path(resume) if resume is not None else cfg.run_path
    run.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(int(cfg.train.threads))
    val_paths, train_paths = dataset_paths(cfg, progress=show)
    train_recs = load_records(train_paths)
    val_recs = load_records(val_paths)
    t = cfg.train
    pred = PricePredictor.create(cfg.gnn.hidden, cfg.gnn.layers, seed=cfg.seed)
    opt = torch.optim.Adam(pred.model.parameters(), lr=t.lr)
    state: dict[str, Any] = {"epoch": 0, "best": -1.0, "elapsed_s": 0.0, "history": []}
    last = run / "last.pt"
    if resume is not None and last.exists():
        ck = load_checkpoint(last, run, trust)
        pred.model.load_state_dict(ck["model"])
        state = {k: ck[k] for k in ("epoch", "best", "elapsed_s")}
        state["history"] = json.loads(ck["history_json"])
        if state["epoch"] > t.epochs:
            opt = torch.optim.Adam(pred.model.parameters(), lr=t.dual_lr)
        opt.load_state_dict(ck["optimizer"])
    else:
        write_json(run / "provenance.json", provenance())
    write_config(cfg, run)  # the resolved config, with any overrides given at a resume
    snaps = []
    for r in val_recs:
        inst, pb = build_snapshot(int(r["n_sats"]), int(r["seed"]), cfg.data.overrides)
        snaps.append((inst, pb, float(r["thr_dujo"])))
    problems = None
    if t.dual_epochs > 0:
        problems = [
            build_snapshot(int(r["n_sats"]), int(r["seed"]), cfg.data.overrides)[1]
            for r in train_recs
        ]
    writer = None
    try:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(run / "tb"), purge_step=int(state["epoch"]) + 1)
    except ImportError:  # pragma: no cover - tensorboard is a dependency of the suite
        writer = None
    total = t.epochs + t.dual_epochs
    t_start = time.perf_counter() - float(state["elapsed_s"])
    for epoch in range(int(state["epoch"]) + 1, total + 1):
        if t.max_seconds is not None and time.perf_counter() - t_start > t.max_seconds:
            if show:
                print(f"time budget of {t.max_seconds} s reached after epoch {epoch - 1}")
            break
        rng = np.random.default_rng([cfg.seed, epoch])
        if epoch <= t.epochs:
            loss = supervised_epoch(pred, opt, train_recs, rng, t.batch_graphs, t.target)
            entry: dict[str, Any] = {"epoch": epoch, "phase": "supervised", "loss": loss}
        else:
            if epoch == t.epochs + 1:
                opt = torch.optim.Adam(pred.model.parameters(), lr=t.dual_lr)
            assert problems is not None
            norm = dual_epoch(pred, opt, train_recs, problems, rng, t.supervised_weight, t.target)
            entry = {"epoch": epoch, "phase": "dual", "delta_norm": norm}
        if epoch % t.val_every == 0 or epoch == total:
            v = validate(pred, snaps)
            entry.update({f"val_{k}": x for k, x in v.items()})
            if v["ratio_mean"] > state["best"]:
                state["best"] = v["ratio_mean"]
                entry["best"] = True
                _save(run, "model.pt", {"model": pred.model.state_dict(), "epoch": epoch})
        state["history"].append(entry)
        state["epoch"] = epoch
        state["elapsed_s"] = time.perf_counter() - t_start
        if writer is not None:
            for k, x in entry.items():
                if isinstance(x, float):
                    writer.add_scalar(f"lisl/{k}", x, epoch)
        _save(
            run,
            "last.pt",
            {
                "model": pred.model.state_dict(),
                "optimizer": opt.state_dict(),
                "epoch": epoch,
                "best": float(state["best"]),
                "elapsed_s": float(state["elapsed_s"]),
                "history_json": json.dumps(state["history"]),
            },
        )
        write_json(run / "history.json", state["history"])
        if show:
            print(
                " ".join(
                    f"{k}={x:.4g}" if isinstance(x, float) else f"{k}={x}" for k, x in entry.items()
                ),
                flush=True,
            )
    if writer is not None:
        writer.close()
    if not (run / "model.pt").exists():
        _save(run, "model.pt", {"model": pred.model.state_dict(), "epoch": int(state["epoch"])})
    return run
