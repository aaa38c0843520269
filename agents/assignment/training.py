"""Supervised training and evaluation of the assignment models (CPU).

``train(cfg)``: Adam on the mean cross-entropy over clusters, one pass over the shuffled training
split per epoch, validation top-1 after every pass, early stopping (``patience``), an atomic
checkpoint after every pass (``last.pt``, and ``best.pt`` for the best validation top-1),
TensorBoard scalars and a tqdm bar.  A run whose folder holds ``last.pt`` resumes from it
(model, optimiser, RNG states, counters), so a killed run continues where it stopped and ends
with the same weights as an uninterrupted one.

``evaluate(cfgs)``: top-1..top-5 accuracy (share of (epoch, cluster) pairs whose true satellite
is among the k highest logits) on the test split of every configuration's split, with a
moving-block bootstrap 95 % interval for top-1, plus the two reference rules ("HE without
priorities" and the true rule with the hidden priorities, which must score 100 %), written as
``results.json`` / ``.csv`` / ``.md``, and a figure of every model's learned cluster structure
against the hidden priorities with Kendall's tau.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.stats import kendalltau
from torch.nn import functional as F  # noqa: N812

from agents.assignment.config import AssignmentRunConfig
from agents.assignment.data import AssignmentTensors, Scaler, split_indices, to_tensors
from agents.assignment.models import AssignmentModel, build_model
from leo_env.core.assignment import he_assign
from leo_env.datasets import primary_assignment as pa

__all__ = [
    "Splits",
    "load_splits",
    "train",
    "topk_accuracy",
    "rule_logits",
    "block_bootstrap_ci",
    "evaluate",
    "structure_tau",
    "precedence_pairs",
]


@dataclass(frozen=True)
class Splits:
    """Train/validation/test tensors of a configuration, the dataset(s) and the scaler."""

    train: AssignmentTensors
    val: AssignmentTensors
    test: AssignmentTensors
    data: pa.PrimaryAssignmentData
    test_data: pa.PrimaryAssignmentData
    scaler: Scaler


def _preset(name: str, duration_s: float | None, overrides: dict[str, Any] | None = None) -> pa.PrimaryAssignmentConfig:
    if name not in pa.PRESETS:
        raise ValueError(f"dataset must be one of {sorted(pa.PRESETS)}, got {name!r}")
    cfg = pa.PRESETS[name]
    if overrides:
        cfg = replace(cfg, **dict(overrides))
    return cfg if duration_s is None else replace(cfg, duration_s=float(duration_s))


def noisy_labels(t: AssignmentTensors, share: float, rng: np.random.Generator) -> AssignmentTensors:
    """``t`` with a ``share`` of its (epoch, cluster) labels replaced by a random available satellite."""
    if share <= 0.0:
        return t
    label = t.label.clone()
    flip = torch.as_tensor(rng.random(tuple(label.shape)) < share)
    avail = t.avail.numpy()
    draw = np.empty(tuple(label.shape), dtype=np.int64)
    for i in range(label.shape[0]):  # uniform over the epoch's ranked list
        idx = np.flatnonzero(avail[i])
        draw[i] = idx[rng.integers(0, len(idx), size=label.shape[1])]
    label[flip] = torch.as_tensor(draw)[flip]
    return replace(t, label=label)


def load_splits(cfg: AssignmentRunConfig, progress: bool = True) -> Splits:
    """Load (generating if needed) the dataset and cut it as ``cfg.split`` says."""
    data = pa.load(_preset(cfg.dataset, cfg.duration_s, cfg.dataset_overrides), cfg.data_root, progress=progress)
    tr, va, te = split_indices(
        data.n_epochs, cfg.split, cfg.val_fraction, cfg.test_fraction, cfg.seed
    )
    scaler = Scaler.fit(data, tr)
    test_data = data
    if cfg.split == "new-region":
        region2 = _preset(f"{cfg.dataset}-region2", cfg.duration_s, cfg.dataset_overrides)
        test_data = pa.load(region2, cfg.data_root, progress=progress)
        if not np.array_equal(test_data.priority, data.priority):
            raise ValueError("the new-region dataset must share the hidden priorities")
    noise_rng = np.random.default_rng([cfg.seed, 0x4E015E])  # label noise: its own stream
    return Splits(
        noisy_labels(to_tensors(data, tr, scaler), cfg.label_noise, noise_rng),
        noisy_labels(to_tensors(data, va, scaler), cfg.label_noise, noise_rng),
        to_tensors(test_data, te, scaler),
        data,
        test_data,
        scaler,
    )


def _make_model(cfg: AssignmentRunConfig, data: pa.PrimaryAssignmentData) -> AssignmentModel:
    return build_model(
        cfg.model, data.config.n_clusters, data.config.n_max, cfg.mask, **dict(cfg.model_kwargs)
    )


@torch.no_grad()
def predict_logits(model: AssignmentModel, t: AssignmentTensors, batch: int = 512) -> torch.Tensor:
    """Logits (T, N, M) of a model in evaluation mode."""
    model.eval()
    out = [model(t.batch(np.arange(i, min(i + batch, len(t))))) for i in range(0, len(t), batch)]
    return torch.cat(out)


def topk_hits(
    logits: torch.Tensor | np.ndarray, label: torch.Tensor | np.ndarray, k: int
) -> np.ndarray:
    """Per epoch, the share of clusters whose label is among the ``k`` highest logits, (T,).

    Ties are broken towards the lower rank index (stable sort), for models and rules alike.
    """
    lg = torch.as_tensor(logits)
    lb = torch.as_tensor(label)
    order = torch.sort(lg, dim=-1, descending=True, stable=True).indices[..., :k]
    return (order == lb[..., None]).any(-1).float().mean(-1).numpy()


def topk_accuracy(
    logits: torch.Tensor | np.ndarray, label: torch.Tensor | np.ndarray
) -> dict[str, float]:
    """``top1`` .. ``top5`` accuracy [%]."""
    return {f"top{k}": 100.0 * float(topk_hits(logits, label, k).mean()) for k in range(1, 6)}


def block_bootstrap_ci(
    per_epoch: np.ndarray, n_boot: int, block: int, rng: np.random.Generator
) -> tuple[float, float]:
    """95 % moving-block bootstrap interval of the mean of a per-epoch series [same units x 100]."""
    x = np.asarray(per_epoch, dtype=np.float64)
    n = len(x)
    b = max(1, min(block, n))
    n_blocks = int(np.ceil(n / b))
    starts = rng.integers(0, n - b + 1, size=(n_boot, n_blocks))
    idx = (starts[..., None] + np.arange(b)).reshape(n_boot, -1)[:, :n]
    means = x[idx].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return 100.0 * float(lo), 100.0 * float(hi)


def rule_logits(
    t: AssignmentTensors, data: pa.PrimaryAssignmentData, priorities: bool
) -> np.ndarray:
    """Scores of a reference rule: its choice first, then eligible by elevation, then the rest."""
    cfg = data.config
    e = t.elev.numpy().astype(np.float64)
    emin = t.elev_min.numpy().astype(np.float64)
    avail = t.avail.numpy()
    order = np.argsort(data.priority) if priorities else None
    res = he_assign(e, emin, avail, order, cfg.min_elevation_deg)
    score = e + 1000.0 * (emin >= cfg.min_elevation_deg) - 1e5 * ~avail[:, None, :]
    np.put_along_axis(score, res.label[..., None], 1e6, axis=-1)
    return score


def structure_tau(
    model: AssignmentModel, priority: np.ndarray
) -> tuple[float | None, np.ndarray | None]:
    """Kendall's tau between the model's structure scores and the hidden priority ranks."""
    s = model.structure_scores()
    if s is None:
        return None, None
    score = s.detach().cpu().numpy().astype(np.float64)
    tau = kendalltau(score, priority).statistic
    return float(tau), score


def precedence_pairs(
    model: AssignmentModel, priority: np.ndarray, margin: float = 0.1
) -> dict[str, int]:
    """For models with a pairwise precedence ``w``: pairs learned with confidence, and right.

    A pair (i, j) is confident when ``|w_ij - 0.5| > margin``; it is right when the cluster it
    puts first has the smaller hidden priority rank.  Pairs whose order never shows in the
    labels stay near 0.5 (they cannot be learned, and do not matter for the predictions).
    """
    prec = getattr(model, "precedence", None)
    if prec is None:
        return {}
    w = prec().detach().cpu().numpy()
    n = len(priority)
    iu, ju = np.triu_indices(n, 1)
    conf = np.abs(w[iu, ju] - 0.5) > margin
    j_first = w[iu, ju] > 0.5  # w_ij: belief that j is served before i
    right = j_first == (priority[ju] < priority[iu])
    return {
        "pairs": int(len(iu)),
        "pairs_confident": int(conf.sum()),
        "pairs_confident_right": int((conf & right).sum()),
    }


def _atomic_torch_save(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _atomic_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def train(
    cfg: AssignmentRunConfig,
    *,
    splits: Splits | None = None,
    progress: bool = True,
    tensorboard: bool = True,
    stop_after: int | None = None,
) -> dict[str, Any]:
    """Train one model; return a summary (also written to ``run_path/summary.json``).

    Parameters
    ----------
    cfg : AssignmentRunConfig
    splits : Splits, optional
        Pre-loaded data (else loaded from ``cfg``).
    progress, tensorboard : bool
        tqdm bar; TensorBoard event files in ``run_path/tb``.
    stop_after : int, optional
        Return after this many passes in this call (simulates a kill; resume by calling again).
    """
    torch.set_num_threads(cfg.train.threads)
    sp = splits if splits is not None else load_splits(cfg, progress)
    run = cfg.run_path
    run.mkdir(parents=True, exist_ok=True)
    _atomic_text(run / "config.json", json.dumps(cfg.to_dict(), indent=2) + "\n")
    torch.manual_seed(cfg.seed)
    model = _make_model(cfg, sp.data)
    prepare = getattr(model, "prepare", None)
    if prepare is not None:  # statistics of the training split (restored on resume anyway)
        prepare(sp.train)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    state: dict[str, Any] = {
        "epoch": 0,
        "best_top1": -1.0,
        "best_epoch": -1,
        "bad": 0,
        "history": [],
        "seconds": 0.0,
    }
    last = run / "last.pt"
    if last.exists():
        ck = torch.load(last, weights_only=True)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optim"])
        gen.set_state(ck["gen"])
        torch.set_rng_state(ck["torch_rng"])
        state = ck["state"]
    writer = None
    if tensorboard:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(run / "tb"))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=cfg.train.max_epochs,
            initial=state["epoch"],
            desc=f"{cfg.model} {cfg.split}",
            unit="pass",
        )
    n = len(sp.train)
    passes = 0
    limit = cfg.train.max_seconds if cfg.train.max_seconds is not None else float("inf")
    while (
        state["epoch"] < cfg.train.max_epochs
        and state["bad"] < cfg.train.patience
        and state["seconds"] < limit
    ):
        if stop_after is not None and passes >= stop_after:
            break
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=gen)
        total, count = 0.0, 0
        for i in range(0, n, cfg.train.batch_size):
            if i and state["seconds"] + time.perf_counter() - t0 >= limit:
                break  # time budget spent within the pass: validate and stop
            idx = perm[i : i + cfg.train.batch_size]
            batch = sp.train.batch(idx)
            batch["label"] = sp.train.label[idx]  # read only by teacher-forced models
            logits = model(batch)
            loss = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), sp.train.label[idx].reshape(-1)
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        val = topk_accuracy(predict_logits(model, sp.val), sp.val.label)
        state["epoch"] += 1
        state["seconds"] += time.perf_counter() - t0
        state["history"].append({"epoch": state["epoch"], "loss": total / count, **val})
        if val["top1"] > state["best_top1"]:
            state.update(best_top1=val["top1"], best_epoch=state["epoch"], bad=0)
            _atomic_torch_save(
                {"model": model.state_dict(), "epoch": state["epoch"]}, run / "best.pt"
            )
        else:
            state["bad"] += 1
        _atomic_torch_save(
            {
                "model": model.state_dict(),
                "optim": opt.state_dict(),
                "gen": gen.get_state(),
                "torch_rng": torch.get_rng_state(),
                "state": state,
            },
            last,
        )
        if writer is not None:
            writer.add_scalar("train/loss", total / count, state["epoch"])
            for k in ("top1", "top3", "top5"):
                writer.add_scalar(f"val/{k}", val[k], state["epoch"])
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{total / count:.3f}", val_top1=f"{val['top1']:.2f}")
        passes += 1
    if bar is not None:
        bar.close()
    if writer is not None:
        writer.close()
    done = (
        state["epoch"] >= cfg.train.max_epochs
        or state["bad"] >= cfg.train.patience
        or state["seconds"] >= limit
    )
    finalize = getattr(model, "finalize", None)
    if finalize is not None and (run / "best.pt").exists() and done:
        # post-training step of models with closed-form parts (on the best weights)
        ck = torch.load(run / "best.pt", weights_only=True)
        model.load_state_dict(ck["model"])
        finalize(sp.train)
        val = topk_accuracy(predict_logits(model, sp.val), sp.val.label)
        state["best_top1"] = val["top1"]
        _atomic_torch_save({"model": model.state_dict(), "epoch": ck["epoch"]}, run / "best.pt")
    summary = {
        "model": cfg.model,
        "split": cfg.split,
        "dataset": cfg.dataset,
        "epochs": state["epoch"],
        "best_epoch": state["best_epoch"],
        "best_val_top1": state["best_top1"],
        "train_seconds": state["seconds"],
        "parameters": sum(p.numel() for p in model.parameters()),
        "complete": done,
        "stopped_by": None
        if not done
        else (
            "patience"
            if state["bad"] >= cfg.train.patience
            else "max_seconds"
            if state["seconds"] >= limit
            else "max_epochs"
        ),
    }
    _atomic_text(run / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def load_trained(cfg: AssignmentRunConfig, data: pa.PrimaryAssignmentData) -> AssignmentModel:
    """The best checkpoint of a run."""
    model = _make_model(cfg, data)
    ck = torch.load(cfg.run_path / "best.pt", weights_only=True)
    model.load_state_dict(ck["model"])
    model.eval()
    return model


POLICY_NAMES = {
    "perceptron": "Perceptron",
    "mlp3": "3L MLP",
    "complete_gnn": "Complete GNN",
    "gsl": "GSL",
    "priority": "Priority-SD (ours)",
}


def _entry(
    policy: str, split: str, logits: Any, t: AssignmentTensors, cfg: AssignmentRunConfig
) -> dict[str, Any]:
    acc = topk_accuracy(logits, t.label)
    per = topk_hits(logits, t.label, 1)
    lo, hi = block_bootstrap_ci(
        per, cfg.bootstrap, cfg.block_epochs, np.random.default_rng(cfg.seed)
    )
    return {"policy": policy, "split": split, **acc, "top1_ci95": [lo, hi], "n_test_epochs": len(t)}


def evaluate(
    cfgs: list[AssignmentRunConfig],
    splits: tuple[str, ...] = ("chronological", "random"),
    out_dir: str | Path | None = None,
    train_missing: bool = False,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Evaluate every configuration on every split, with the two reference rules; write tables."""
    results: list[dict[str, Any]] = []
    structures: dict[str, tuple[float | None, np.ndarray | None, np.ndarray]] = {}
    base = cfgs[0]
    out = Path(out_dir) if out_dir is not None else Path(base.results_dir) / base.dataset
    for split in splits:
        sp = load_splits(replace(base, split=split), progress)
        for name, prio in (("HE without priorities", False), ("HE with true priorities", True)):
            results.append(
                _entry(name, split, rule_logits(sp.test, sp.test_data, prio), sp.test, base)
            )
        for cfg in cfgs:
            c = replace(cfg, split=split)
            if not (c.run_path / "best.pt").exists():
                if not train_missing:
                    raise FileNotFoundError(f"no trained model in {c.run_path}; run train first")
                train(
                    c,
                    splits=load_splits(c, progress) if c.seed != base.seed else sp,
                    progress=progress,
                )
            model = load_trained(c, sp.data)
            entry = _entry(
                POLICY_NAMES.get(c.model, c.model),
                split,
                predict_logits(model, sp.test),
                sp.test,
                c,
            )
            tau, score = structure_tau(model, sp.data.priority)
            entry["kendall_tau"] = tau
            entry.update(precedence_pairs(model, sp.data.priority))
            summ = c.run_path / "summary.json"
            if summ.exists():
                s = json.loads(summ.read_text())
                entry.update(
                    train_seconds=s["train_seconds"], epochs=s["epochs"], parameters=s["parameters"]
                )
            results.append(entry)
            structures[f"{entry['policy']} ({split})"] = (tau, score, sp.data.priority)
    write_tables(results, out)
    plot_structures(structures, out / "structure.png")
    return results


def write_tables(results: list[dict[str, Any]], out: Path) -> None:
    """``results.json``, ``results.csv`` and ``results.md`` (atomic)."""
    out.mkdir(parents=True, exist_ok=True)
    _atomic_text(out / "results.json", json.dumps(results, indent=2) + "\n")
    cols = [
        "policy",
        "split",
        "top1",
        "top1_ci95",
        "top2",
        "top3",
        "top4",
        "top5",
        "kendall_tau",
        "n_test_epochs",
    ]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(cols)
    for r in results:
        w.writerow([json.dumps(r.get(c)) if isinstance(r.get(c), list) else r.get(c) for c in cols])
    _atomic_text(out / "results.csv", buf.getvalue())
    lines = [
        "| policy | split | top-1 | top-1 95 % CI | top-2 | top-3 | top-4 | top-5 | Kendall tau |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        tau = r.get("kendall_tau")
        lo, hi = r["top1_ci95"]
        lines.append(
            f"| {r['policy']} | {r['split']} | {r['top1']:.2f} | [{lo:.2f}, {hi:.2f}] | {r['top2']:.2f} | "
            f"{r['top3']:.2f} | {r['top4']:.2f} | {r['top5']:.2f} | {'' if tau is None else f'{tau:.3f}'} |"
        )
    _atomic_text(out / "results.md", "\n".join(lines) + "\n")


def plot_structures(
    structures: dict[str, tuple[float | None, np.ndarray | None, np.ndarray]], path: Path
) -> None:
    """Scatter of each model's per-cluster structure score against the hidden priority rank."""
    items = [(k, (tau, score, prio)) for k, (tau, score, prio) in structures.items() if score is not None]
    if not items:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(items), figsize=(3.2 * len(items), 3.0), squeeze=False)
    for ax, (name, (tau, score, prio)) in zip(axes[0], items, strict=True):
        ax.scatter(prio, score)
        for n, (x, y) in enumerate(zip(prio, score, strict=True)):
            ax.annotate(str(n), (x, y), fontsize=7)
        ax.set_xlabel("hidden priority rank (0 = first)")
        ax.set_ylabel("learned score")
        ax.set_title(f"{name}\nKendall tau = {tau:.2f}", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
