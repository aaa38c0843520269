"""Training of the multiorbit agents (behaviour cloning, the Wolpertinger critic, MaskablePPO).

Every phase writes a checkpoint after each epoch (supervised) or chunk of steps (PPO) with
:func:`_save` (atomic rename, SHA-256 recorded in the run's ``checksums.json``), and a rerun
with ``resume`` continues from it.  Supervised phases are deterministic for a seed: the batch
order comes from a ``torch.Generator`` whose state is checkpointed, so an interrupted and resumed
run ends with the same weights as an uninterrupted one.

Agents (``cfg.agent``):

* ``bc-select`` -- :class:`~agents.multiorbit.models.SelectorNet` trained with a masked binary
  cross-entropy on DV-MOSS's serving subsets (``train.target = hard``) or on each candidate's
  inclusion probability under the Markov approximation's distribution over the subsets DV-MOSS
  explored (``soft``, the default: a less noisy target, since many subsets are nearly as good);
* ``wolpertinger-select`` -- that selector as the actor and an
  :class:`~agents.multiorbit.models.AssocCritic` (``n_load = 2``) regressed on the objectives of
  every subset DV-MOSS's chain solved (free labels: JUBPA values it computed anyway);
* ``bc-assoc`` -- :class:`~agents.multiorbit.models.AssocNet` trained with a per-UE cross-entropy
  on DV-MOSS's association;
* ``wolpertinger-assoc`` -- the BC association network as the actor and an
  :class:`~agents.multiorbit.models.AssocCritic` regressed on the objectives of scored
  associations (the slots are independent, so the critic is the one-step value, ``gamma = 0``);
* ``maskppo-assoc`` -- MaskablePPO on ``MultiOrbitAssoc-v0``, its policy logits initialised from
  the BC association network (``ppo.init = bc``) or SB3's default ``MultiInputPolicy``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from omegaconf import OmegaConf

from agents.multiorbit.config import MultiOrbitRunConfig
from agents.multiorbit.features import (
    association_load,
    candidate_tokens,
    canonical,
    pair_features,
    subset_load,
)
from agents.multiorbit.labels import generate_labels
from agents.multiorbit.models import AssocCritic, AssocNet, SelectorNet
from agents.trust import record_digest, verify_digest
from leo_env.io import atomic_write, atomic_write_json, atomic_write_text

__all__ = ["train", "build_models", "load_labels", "slot_arrays", "load_weights"]


# ---------------------------------------------------------------------------- data
def load_labels(cfg: MultiOrbitRunConfig, progress: bool = True) -> dict[str, np.ndarray]:
    """DV-MOSS labels of the config's training seeds (generated or read from the cache)."""
    lb = cfg.labels
    seeds = list(range(lb.seed_offset, lb.seed_offset + lb.seeds))
    return generate_labels(
        cfg.env_kwargs("select", lb.slots_per_seed), seeds, lb.n_perturb, lb.cache_dir,
        backend=lb.backend, workers=lb.workers, progress=progress,
    )


def slot_arrays(labels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Network inputs of every labelled slot: tokens, mask, pairs (and the canonical arrays)."""
    c = canonical({k: labels[k] for k in ("sat", "gain", "visible", "mask", "context")})
    return {"tokens": candidate_tokens(c), "mask": c["mask"], "pairs": pair_features(c), **c}


def build_models(cfg: MultiOrbitRunConfig) -> dict[str, th.nn.Module]:
    """The agent's networks, freshly initialised from ``train.seed``."""
    t = cfg.train
    th.manual_seed(t.seed)
    if cfg.agent == "bc-select":
        return {"bc": SelectorNet(t.d_model, t.layers, t.heads)}
    if cfg.agent == "wolpertinger-select":
        return {"bc": SelectorNet(t.d_model, t.layers, t.heads), "critic": AssocCritic(t.d_model, t.layers, t.heads, n_load=2)}
    models: dict[str, th.nn.Module] = {"bc": AssocNet(t.d_model, t.layers, t.heads)}
    if cfg.agent == "wolpertinger-assoc":
        models["critic"] = AssocCritic(t.d_model, t.layers, t.heads)
    return models


# ---------------------------------------------------------------------------- files
def _save(run: Path, name: str, obj: dict[str, Any]) -> Path:
    """``torch.save`` atomically to ``run/name`` and record the digest."""
    path = run / name
    atomic_write(path, lambda tmp: th.save(obj, tmp))
    record_digest(run, path)
    return path


def load_weights(path: Path, run: Path | None, trust: bool = False) -> dict[str, Any]:
    """Tensors (and plain data) of a checkpoint after checking its digest (no pickles run)."""
    verify_digest(path, run, trust)
    return th.load(path, map_location="cpu", weights_only=True)


# ---------------------------------------------------------------------------- supervised
def _split(labels: dict[str, np.ndarray], frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train / validation slot indices, split by episode seed."""
    seeds = np.unique(labels["seed"])
    rng = np.random.default_rng(seed)
    val = rng.choice(seeds, size=max(1, int(round(frac * seeds.size))), replace=False)
    is_val = np.isin(labels["seed"], val)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def _fit(
    run: Path,
    phase: str,
    model: th.nn.Module,
    loss_fn: Callable[[np.ndarray], th.Tensor],
    metric_fn: Callable[[np.ndarray], dict[str, float]],
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    epochs: int,
    cfg: MultiOrbitRunConfig,
    progress: bool,
    trust: bool,
) -> dict[str, Any]:
    """Adam on ``loss_fn`` over minibatches of ``train_idx``; best validation weights kept.

    Checkpoint ``{phase}_ckpt.pt`` after every epoch (weights, optimiser, generator state,
    history, time used); the best weights go to ``{phase}.pt``.
    """
    t = cfg.train
    opt = th.optim.Adam(model.parameters(), lr=t.lr)
    gen = th.Generator().manual_seed(t.seed)
    state: dict[str, Any] = {"epoch": 0, "best": float("inf"), "bad": 0, "history": [], "seconds": 0.0}
    ckpt = run / f"{phase}_ckpt.pt"
    if ckpt.exists():
        saved = load_weights(ckpt, run, trust)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        gen.set_state(saved["gen"])
        state = {k: saved[k] for k in state}
    while state["epoch"] < epochs and state["bad"] < t.patience:
        if t.max_seconds is not None and state["seconds"] >= t.max_seconds:
            break
        t0 = time.perf_counter()
        model.train()
        perm = train_idx[th.randperm(train_idx.size, generator=gen).numpy()]
        total, n = 0.0, 0
        for i in range(0, perm.size, t.batch_size):
            idx = perm[i : i + t.batch_size]
            loss = loss_fn(idx)
            opt.zero_grad()
            loss.backward()
            th.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            total += float(loss.detach()) * idx.size
            n += idx.size
        model.eval()
        with th.no_grad():
            val = float(np.mean([float(loss_fn(val_idx[i : i + 256])) for i in range(0, val_idx.size, 256)]))
            metrics = metric_fn(val_idx)
        state["epoch"] += 1
        row = {"epoch": state["epoch"], "train_loss": total / max(n, 1), "val_loss": val, **metrics}
        state["history"].append(row)
        if val < state["best"] - 1e-6:
            state["best"], state["bad"] = val, 0
            _save(run, f"{phase}.pt", {"model": model.state_dict(), "epoch": state["epoch"]})
        else:
            state["bad"] += 1
        state["seconds"] += time.perf_counter() - t0
        _save(run, f"{phase}_ckpt.pt", {"model": model.state_dict(), "opt": opt.state_dict(),
                                        "gen": gen.get_state(), **state})
        if progress:
            print(f"[{phase}] " + " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()),
                  flush=True)
    best = load_weights(run / f"{phase}.pt", run, trust)
    model.load_state_dict(best["model"])
    return state


def soft_targets(labels: dict[str, np.ndarray], sharpness: float = 1.0, beta_rel: float = 0.01) -> np.ndarray:
    """Inclusion probability of every candidate under ``p_f ∝ exp(sharpness * beta * Phi_f)``.

    ``f`` runs over the subsets DV-MOSS's chain solved (``explored``), ``beta`` is the chain's
    own ``1 / (beta_rel * |Phi(A_0)|)`` (``A_0``, the start subset, is the first explored);
    ``sharpness = 1`` gives the labels' ``soft_selected``, large values DV-MOSS's subset.
    """
    obj = labels["explored_objective"]
    ok = np.isfinite(obj)
    beta = 1.0 / (beta_rel * np.maximum(np.abs(obj[:, :1]), 1.0))
    z = np.where(ok, sharpness * beta * (np.where(ok, obj, -np.inf) - np.nanmax(obj, axis=1, keepdims=True)), -np.inf)
    w = np.exp(z)
    w /= w.sum(axis=1, keepdims=True)
    return np.einsum("nm,nms->ns", w, labels["explored"].astype(np.float64)).astype(np.float32)


def _train_selector(run: Path, cfg: MultiOrbitRunConfig, model: SelectorNet, data: dict[str, np.ndarray],
                    labels: dict[str, np.ndarray], progress: bool, trust: bool) -> dict[str, Any]:
    tok, mask = th.as_tensor(data["tokens"]), th.as_tensor(data["mask"])
    y = th.as_tensor(soft_targets(labels, cfg.train.target_sharpness) if cfg.train.target == "soft" else labels["selected"])
    hard = th.as_tensor(labels["selected"])
    pw = th.tensor(cfg.train.pos_weight)

    def loss_fn(idx: np.ndarray) -> th.Tensor:
        logit = model(tok[idx], mask[idx])
        m = mask[idx]
        raw = th.nn.functional.binary_cross_entropy_with_logits(
            th.where(m > 0, logit, th.zeros_like(logit)), y[idx], pos_weight=pw, reduction="none")
        return (raw * m).sum() / m.sum()

    def metric_fn(idx: np.ndarray) -> dict[str, float]:
        pred = (model(tok[idx], mask[idx]) > 0).float() * mask[idx]
        exact = (pred == hard[idx]).all(dim=1).float().mean()
        return {"val_exact_subset": float(exact), "val_size_error": float((pred.sum(1) - hard[idx].sum(1)).abs().mean())}

    tr, va = _split(labels, cfg.train.val_fraction, cfg.train.seed)
    return _fit(run, "bc", model, loss_fn, metric_fn, tr, va, cfg.train.epochs, cfg, progress, trust)


def _train_assoc(run: Path, cfg: MultiOrbitRunConfig, model: AssocNet, data: dict[str, np.ndarray],
                 labels: dict[str, np.ndarray], progress: bool, trust: bool) -> dict[str, Any]:
    tok, mask, pairs = (th.as_tensor(data[k]) for k in ("tokens", "mask", "pairs"))
    y = th.as_tensor(labels["assoc"] + 1)

    def loss_fn(idx: np.ndarray) -> th.Tensor:
        z = model(tok[idx], mask[idx], pairs[idx])
        return th.nn.functional.cross_entropy(z.reshape(-1, z.shape[-1]), y[idx].reshape(-1))

    def metric_fn(idx: np.ndarray) -> dict[str, float]:
        z = model(tok[idx], mask[idx], pairs[idx])
        return {"val_ue_accuracy": float((z.argmax(-1) == y[idx]).float().mean())}

    tr, va = _split(labels, cfg.train.val_fraction, cfg.train.seed)
    return _fit(run, "bc", model, loss_fn, metric_fn, tr, va, cfg.train.epochs, cfg, progress, trust)


def critic_inputs(data: dict[str, np.ndarray], idx: np.ndarray, assoc: np.ndarray) -> tuple[th.Tensor, ...]:
    """Critic tensors for slots ``idx`` (repeated per association) and associations (B, U)."""
    c = {k: data[k][idx] for k in ("gain", "visible", "mask")}
    load, glob = association_load(c, assoc)
    return (th.as_tensor(data["tokens"][idx]), th.as_tensor(data["mask"][idx]), th.as_tensor(load), th.as_tensor(glob))


def _train_critic(run: Path, cfg: MultiOrbitRunConfig, model: AssocCritic, data: dict[str, np.ndarray],
                  labels: dict[str, np.ndarray], progress: bool, trust: bool) -> dict[str, Any]:
    acts = np.concatenate([labels["assoc"][:, None, :], labels["critic_assoc"]], axis=1)  # (N, M+1, U)
    objs = np.concatenate([labels["assoc_objective"][:, None], labels["critic_objective"]], axis=1)
    m1 = acts.shape[1]
    if m1 < 2:
        raise ValueError("the Wolpertinger critic needs scored associations: set labels.n_perturb >= 1")

    def batch(idx: np.ndarray) -> tuple[th.Tensor, th.Tensor]:
        rep = np.repeat(idx, m1)
        pred = model(*critic_inputs(data, rep, acts[idx].reshape(-1, acts.shape[2])))
        return pred, th.as_tensor(objs[idx].reshape(-1) / 100.0, dtype=th.float32)

    def loss_fn(idx: np.ndarray) -> th.Tensor:
        pred, y = batch(idx)
        return th.nn.functional.mse_loss(pred, y)

    def metric_fn(idx: np.ndarray) -> dict[str, float]:
        pred, y = batch(idx)
        p, t = pred.reshape(-1, m1).numpy(), y.reshape(-1, m1).numpy()
        top = float(np.mean(t[np.arange(len(t)), p.argmax(1)] >= t.max(1) - 1e-9))
        return {"val_top1": top, "val_mae_mbps": float(np.abs(p - t).mean() * 100)}

    tr, va = _split(labels, cfg.train.val_fraction, cfg.train.seed)
    return _fit(run, "critic", model, loss_fn, metric_fn, tr, va, cfg.train.critic_epochs, cfg, progress, trust)


def _train_subset_critic(run: Path, cfg: MultiOrbitRunConfig, model: AssocCritic, data: dict[str, np.ndarray],
                         labels: dict[str, np.ndarray], progress: bool, trust: bool) -> dict[str, Any]:
    """Regress the objective of the subsets DV-MOSS explored (within-slot centred + absolute MSE)."""
    from leo_env.envs.multiorbit.params import SelectEnvParams

    k_max = SelectEnvParams(**cfg.env_kwargs("select", 1)).k_max
    ex, obj = labels["explored"], labels["explored_objective"]
    n_ok = np.isfinite(obj).sum(axis=1)
    m = 16

    def pick(idx: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        cols = np.stack([rng.integers(0, max(int(n_ok[i]), 1), m) for i in idx])
        return ex[idx[:, None], cols].reshape(-1, ex.shape[2]), obj[idx[:, None], cols].reshape(-1)

    def run_batch(idx: np.ndarray, rng: np.random.Generator) -> tuple[th.Tensor, th.Tensor]:
        subs, y = pick(idx, rng)
        rep = np.repeat(idx, m)
        c = {k: data[k][rep] for k in ("visible", "mask")}
        load, glob = subset_load(c, subs, k_max)
        pred = model(th.as_tensor(data["tokens"][rep]), th.as_tensor(c["mask"]), th.as_tensor(load), th.as_tensor(glob))
        return pred.reshape(-1, m), th.as_tensor(y / 100.0, dtype=th.float32).reshape(-1, m)

    def loss_fn(idx: np.ndarray) -> th.Tensor:
        # the draw depends on the batch only, so a resumed run repeats it exactly
        pred, y = run_batch(idx, np.random.default_rng([cfg.train.seed, int(idx.sum()), int(idx[0]), idx.size]))
        centred = ((pred - pred.mean(1, keepdim=True)) - (y - y.mean(1, keepdim=True))).pow(2).mean()
        return centred + 0.1 * (pred - y).pow(2).mean()

    def metric_fn(idx: np.ndarray) -> dict[str, float]:
        pred, y = run_batch(idx, np.random.default_rng(1))
        p, t = pred.numpy(), y.numpy()
        pick_val = t[np.arange(len(t)), p.argmax(1)]
        return {"val_regret_mbps": float((t.max(1) - pick_val).mean() * 100), "val_mae_mbps": float(np.abs(p - t).mean() * 100)}

    tr, va = _split(labels, cfg.train.val_fraction, cfg.train.seed)
    return _fit(run, "critic", model, loss_fn, metric_fn, tr, va, cfg.train.critic_epochs, cfg, progress, trust)


THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
"""Serve-probability thresholds tried by :func:`calibrate_threshold`."""


def calibrate_threshold(cfg: MultiOrbitRunConfig, model: SelectorNet, labels: dict[str, np.ndarray],
                        data: dict[str, np.ndarray]) -> dict[str, Any]:
    """Pick the selector's serve threshold on the *validation* label seeds (never evaluation seeds).

    The soft targets are inclusion probabilities, so serving every candidate above 1/2 is one
    decision rule among several; for each threshold in :data:`THRESHOLDS` the served subsets of
    the validation slots are solved with JUBPA (the selection env's inner allocator) and the
    threshold with the largest mean objective is kept.
    """
    from leo_env.envs.multiorbit.env import MultiOrbitSelectEnv
    from leo_env.scenario.multiorbit import build_instance
    from oracles.multiorbit.jubpa import jubpa

    _, va = _split(labels, cfg.train.val_fraction, cfg.train.seed)
    env = MultiOrbitSelectEnv(**cfg.env_kwargs("select", cfg.labels.slots_per_seed))
    sc = env.env_params.scenario()
    k_max = env.env_params.k_max
    with th.inference_mode():
        prob = th.sigmoid(model(th.as_tensor(data["tokens"][va]), th.as_tensor(data["mask"][va]))).numpy()
    totals = dict.fromkeys(THRESHOLDS, 0.0)
    sc_seed: dict[int, int] = {}
    for j, i in enumerate(va):
        s = int(labels["seed"][i])
        if s not in sc_seed:
            env.reset(seed=s)
            sc_seed[s] = env.scenario_seed
        inst = build_instance(sc, sc_seed[s], int(labels["slot"][i]))
        cache: dict[tuple[int, ...], float] = {}
        for tau in THRESHOLDS:
            p = np.where(labels["mask"][i] > 0, prob[j], -1.0)
            order = np.argsort(-p, kind="stable")[:k_max]
            sub = tuple(sorted(int(c) for c in order if p[c] > tau)) or (int(order[0]),)
            if sub not in cache:
                cache[sub] = jubpa(inst, sub).objective_mbps
            totals[tau] += cache[sub] / va.size
    best = max(THRESHOLDS, key=lambda t: (totals[t], -abs(t - 0.5)))
    return {"threshold": best, "val_objective_by_threshold": {str(k): v for k, v in totals.items()},
            "val_dv_moss_objective": float(labels["objective"][va].mean())}


# ---------------------------------------------------------------------------- PPO
def _ppo(run: Path, cfg: MultiOrbitRunConfig, bc: AssocNet | None, progress: bool, trust: bool) -> dict[str, Any]:
    from agents.multiorbit.ppo import build_maskable_ppo, load_ppo_state, ppo_state

    p = cfg.ppo
    model = build_maskable_ppo(cfg, bc)
    ckpt = run / "ppo_ckpt.pt"
    hist: list[dict[str, float]] = []
    if ckpt.exists():
        saved = load_weights(ckpt, run, trust)
        load_ppo_state(model, saved)
        hist = list(saved.get("history", []))
    while model.num_timesteps < p.total_timesteps:
        steps = min(p.chunk, p.total_timesteps - model.num_timesteps)
        t0 = time.perf_counter()
        model.learn(steps, reset_num_timesteps=False, progress_bar=False)
        rews = [float(ep["r"]) / max(int(ep["l"]), 1) for ep in model.ep_info_buffer]
        hist.append({"timesteps": int(model.num_timesteps), "mean_reward_per_slot": float(np.mean(rews)) if rews else float("nan"),
                     "seconds": time.perf_counter() - t0})
        _save(run, "ppo_ckpt.pt", {**ppo_state(model), "history": hist})
        if progress:
            print(f"[ppo] {hist[-1]}", flush=True)
    _save(run, "ppo.pt", ppo_state(model))
    return {"history": hist, "timesteps": int(model.num_timesteps)}


# ---------------------------------------------------------------------------- entry
def train(cfg: MultiOrbitRunConfig, resume: str | os.PathLike[str] | None = None, progress: bool = True,
          trust: bool = False) -> Path:
    """Train ``cfg.agent`` into ``cfg.run_path`` (or continue the run folder ``resume``).

    Returns
    -------
    Path
        The run folder (``config.yaml``, ``provenance.json``, checkpoints, ``metrics.json``).
    """
    from agents.provenance import provenance

    run = Path(resume) if resume is not None else cfg.run_path
    if resume is None and any(run.glob("*_ckpt.pt")):
        from leo_env.core.overrides import OverrideError

        raise OverrideError(f"run folder {run} already holds checkpoints: continue it with --resume {run} "
                              "(train.py) or choose another name (--set name=...)")
    run.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run / "config.yaml", "family: multiorbit\n" + OmegaConf.to_yaml(OmegaConf.structured(cfg)))
    if not (run / "provenance.json").exists():
        atomic_write_json(run / "provenance.json", provenance())
    th.set_num_threads(cfg.train.threads)
    t0 = time.perf_counter()
    models = build_models(cfg)
    out: dict[str, Any] = {"agent": cfg.agent}
    ppo_only = cfg.agent == "maskppo-assoc" and (cfg.ppo.init == "scratch" or bool(cfg.ppo.bc_run))
    if not ppo_only:
        labels = load_labels(cfg, progress)
        data = slot_arrays(labels)
        out.update({"label_slots": int(labels["seed"].size), "label_seconds_this_call": time.perf_counter() - t0,
                    "dv_moss_seconds_per_slot_median": float(np.median(labels["dv_time_s"]))})
    if cfg.env_kind == "select":
        out["bc"] = _train_selector(run, cfg, models["bc"], data, labels, progress, trust)  # type: ignore[arg-type]
    elif ppo_only:
        if cfg.ppo.bc_run and cfg.ppo.init == "bc":
            src = Path(cfg.ppo.bc_run)
            if (src / "model.pt").exists():
                weights = load_weights(src / "model.pt", src, trust)["bc"]
            else:  # the source run is still training its critic: its BC phase is final
                weights = load_weights(src / "bc.pt", src, trust)["model"]
            models["bc"].load_state_dict(weights)
            out["bc"] = {"loaded_from": str(src)}
    else:
        out["bc"] = _train_assoc(run, cfg, models["bc"], data, labels, progress, trust)  # type: ignore[arg-type]
    if cfg.agent == "wolpertinger-select":
        out["critic"] = _train_subset_critic(run, cfg, models["critic"], data, labels, progress, trust)  # type: ignore[arg-type]
    if cfg.agent == "wolpertinger-assoc":
        out["critic"] = _train_critic(run, cfg, models["critic"], data, labels, progress, trust)  # type: ignore[arg-type]
    if cfg.agent == "maskppo-assoc":
        bc = models["bc"] if cfg.ppo.init == "bc" else None
        out["ppo"] = _ppo(run, cfg, bc, progress, trust)  # type: ignore[arg-type]
    final: dict[str, Any] = {k: v.state_dict() for k, v in models.items()}
    if cfg.env_kind == "select":
        out["calibration"] = calibrate_threshold(cfg, models["bc"], labels, data)  # type: ignore[arg-type]
        final["threshold"] = th.tensor(out["calibration"]["threshold"])
    _save(run, "model.pt", final)
    atomic_write_text(run / "metrics.json", json.dumps(out, indent=1, default=float))
    return run

