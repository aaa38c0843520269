"""The downlink family's training and evaluation (what ``train.py`` / ``evaluate.py`` run for it).

Algorithms (``agent.algo``): ``ppo`` (B3), ``maskable_ppo`` (B4), ``bc_maskable_ppo`` (B5: oracle
labels -> behaviour cloning -> masked PPO with a decaying BC term, optional DAgger rounds) and
``wolpertinger`` (TD3 + exact k-NN over valid joint actions).  A run folder
``runs/<env>__<algo>__<seed>__<time>/`` receives the resolved ``config.yaml``, TensorBoard logs
(``tb/``), ``episodes.csv``, validation history (``evaluations.json``), atomic checkpoints,
``best_model.zip``, ``final_model.zip``, ``final_eval.json`` (:mod:`agents.runs`) and its
training curve ``training_curve.png``.

Evaluation: every policy plays the same held-out scenarios (evaluation split) at every
prediction-error level (episodes in parallel with ``evaluate.backend``/``workers``/``address``,
:func:`leo_env.parallel.pmap`; serial by default, which keeps the decision times clean); ``evaluate.out`` receives ``results.json`` (one entry per policy and
level: utility mean/std, gap to B1, mean xi, Jain, worst-cell xi, served bits, handovers, budget
violations, emergencies, decision time), ``results.md``, ``results.csv``, the Wilcoxon
signed-rank tests and the plots; episodes are saved as they finish, so an interrupted
evaluation resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

__all__ = ["build_env", "train", "evaluate", "parallel_settings"]


def parallel_settings(section: Any) -> dict[str, Any]:
    """``backend``, ``workers`` and ``address`` of a config section (serial when it has none)."""
    return {
        "backend": str(getattr(section, "backend", "serial") or "serial"),
        "workers": getattr(section, "workers", None),
        "address": getattr(section, "address", None),
    }


def build_env(cfg: Any) -> tuple[Any, Any]:
    """Training environment: ``(DownlinkVecEnv, wrapped VecEnv)`` (:func:`agents.vec_env.make_vec_env`)."""
    from agents.vec_env import make_vec_env

    return make_vec_env(cfg)


def train(
    cfg: Any,
    *,
    resume: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    trust: bool = False,
) -> Path:
    """Train ``cfg`` (or resume a run folder) and return the run folder.

    Parameters
    ----------
    cfg : ExperimentConfig
        Experiment (ignored except for overrides when resuming: the run's own config is used).
    resume : path, optional
        Run folder to continue from its latest checkpoint.
    progress : bool, optional
        Progress bars (default: ``cfg.train.progress_bar``).
    """
    import numpy as np
    import torch as th
    from stable_baselines3.common.callbacks import CallbackList

    from agents.bc import BCData, BCMaskablePPO, pretrain
    from agents.callbacks import (
        CheckpointCallback,
        EpisodeLogCallback,
        ValidationCallback,
        save_model,
    )
    from agents.config import to_dict, to_yaml
    from agents.provenance import provenance
    from agents.registry import build_model
    from agents.runs import latest_checkpoint, make_run_dir
    from agents.tb import truncate_tensorboard
    from leo_env.io import atomic_write_json, atomic_write_text

    th.set_num_threads(int(cfg.train.torch_threads))
    show = cfg.train.progress_bar if progress is None else progress
    t_start = time.perf_counter()
    steps0: int | None = None
    if resume is not None:
        run_dir = Path(resume)
        ckpt = latest_checkpoint(run_dir)
        if ckpt is None:
            raise FileNotFoundError(f"{run_dir} has no checkpoint to resume from")
        state = json.loads(ckpt.with_suffix(".json").read_text())
        steps0 = int(state["timesteps"])
    else:
        run_dir = make_run_dir(cfg)
        atomic_write_text(run_dir / "config.yaml", to_yaml(cfg))
        atomic_write_json(run_dir / "provenance.json", provenance())
    base, env = build_env(cfg)
    algo = cfg.agent.algo
    if resume is not None:
        from agents.registry import load_model

        assert ckpt is not None and steps0 is not None  # set above whenever resuming

        model = load_model(ckpt, cfg, device=cfg.train.device, trust=trust, env=env, layout=base.layout)
        model.num_timesteps = steps0
        base.clear_pending_seeds()  # the checkpoint's state replaces the rebuilt model's seeding
        model.tensorboard_log = str(run_dir / "tb")
        truncate_tensorboard(run_dir / "tb", steps0)  # no duplicate points after the resume
        print(f"resuming {run_dir.name} from {ckpt.name} ({steps0} env steps)")
    else:
        model = build_model(cfg, env, base.layout, tensorboard_log=run_dir / "tb")

    if isinstance(model, BCMaskablePPO):
        from agents.labels import label_dir, labels_for

        t0 = time.perf_counter()
        labels = labels_for(cfg.env, cfg.agent.labels, progress=show)
        t_labels = time.perf_counter() - t0
        data = BCData.from_labels(labels, cfg.agent.ppo.gamma, 1.0 / base.layout.C, device=cfg.train.device)
        bc = cfg.agent.bc
        if resume is None:
            t0 = time.perf_counter()
            stats: dict[str, Any] = pretrain(
                model.policy, data, epochs=bc.epochs, batch_size=bc.batch_size, learning_rate=bc.learning_rate,
                value=bc.value_pretrain, rng=np.random.default_rng(cfg.seed),
            )
            stats.update(
                slots=len(labels), scenarios=int(len(np.unique(labels.seed))), fallbacks=labels.fallbacks,
                label_dir=str(label_dir(cfg.env, cfg.agent.labels)), label_time_s=t_labels,
                bc_time_s=time.perf_counter() - t0, oracle_env_steps=len(labels),
            )
            print(f"behaviour cloning: {len(labels)} labelled slots, training accuracy {stats['accuracy']:.3f}")
            if bc.dagger_rounds > 0:
                labels, data = _dagger(model, cfg, base, labels, run_dir, stats, show)
            atomic_write_json(run_dir / "bc.json", stats)
        model.bc_data = data
        model.bc_schedule = (bc.loss_coef, bc.loss_decay_steps, bc.loss_batches, bc.batch_size)

    ckpt_cb = CheckpointCallback(run_dir, cfg.train.checkpoint_freq, cfg.train.keep_checkpoints, base,
                                 monitor=env.venv)
    if resume is not None:
        assert ckpt is not None
        ckpt_cb.restore_at_next_rollout(ckpt)  # env, RNGs and SB3's rollout state, at the same point
    val_cb = ValidationCallback(run_dir, cfg.env, algo, cfg.train.eval_freq, cfg.train.eval_episodes,
                                at_start=resume is None)
    if steps0 is not None:
        val_cb.trim(steps0)
    from agents.tracking import tracking_callbacks

    resolved = to_dict(cfg)
    callbacks = CallbackList([
        EpisodeLogCallback(run_dir / "episodes.csv", resume_from=steps0, hparams=resolved), val_cb, ckpt_cb,
        *tracking_callbacks(cfg, run_dir, resolved),
    ])
    remaining = int(cfg.train.total_timesteps) - int(model.num_timesteps)
    if remaining > 0:
        model.learn(
            total_timesteps=remaining, callback=callbacks, progress_bar=show, tb_log_name=algo,
            reset_num_timesteps=resume is None, log_interval=1,
        )
    ckpt_cb.model = model
    ckpt_cb.save()
    save_model(model, run_dir / "final_model.zip")
    train_s = time.perf_counter() - t_start

    summary: dict[str, Any] = {
        "run_dir": str(run_dir), "algo": algo, "env_steps": int(model.num_timesteps), "train_time_s": train_s,
        "best_validation_return": val_cb.best if np.isfinite(val_cb.best) else None,
    }
    if cfg.train.final_eval_episodes > 0:
        from agents.evaluation import agent_spec, run_evaluation, summarise

        spec = agent_spec(run_dir, which="final")
        eps = run_evaluation(
            [spec], cfg.env, cfg.train.final_eval_episodes, [cfg.env.prediction_error],
            run_dir / "final_eval", progress=False,
        )
        summary["final_eval"] = summarise(eps)[0]
    summary["config"] = to_dict(cfg)
    atomic_write_json(run_dir / "final_eval.json", summary)
    from agents.plots import training_curve_plot

    training_curve_plot(run_dir)  # one curve per run, next to its episodes.csv
    fe = summary.get("final_eval")
    line = f"run folder: {run_dir} ({model.num_timesteps} env steps, {train_s:.0f} s)"
    if fe:
        line += (f"; held-out return {fe['utility_mean']:.2f} +- {fe['utility_std']:.2f} over "
                 f"{fe['episodes']} seeds, violations {fe['budget_violations']}, emergencies {fe['emergencies']}")
    print(line)
    return run_dir


def _dagger(model: Any, cfg: Any, base: Any, labels: Any, run_dir: Path, stats: dict[str, Any], show: bool) -> Any:
    """DAgger rounds after the first cloning (:mod:`agents.dagger`); returns (labels, data)."""
    import numpy as np

    from agents.bc import BCData, accuracy, pretrain
    from agents.dagger import concat, run_round

    bc = cfg.agent.bc
    rounds = []
    for r in range(int(bc.dagger_rounds)):
        t0 = time.perf_counter()
        new = run_round(model, cfg.agent.algo, cfg.env, cfg.agent.labels, bc, r, run_dir, progress=show)
        new_data = BCData.from_labels(new, cfg.agent.ppo.gamma, 1.0 / base.layout.C, device=cfg.train.device)
        agreement = accuracy(model.policy, new_data)  # learner vs expert on the learner's own states
        labels = concat([labels, new])
        data = BCData.from_labels(labels, cfg.agent.ppo.gamma, 1.0 / base.layout.C, device=cfg.train.device)
        st = pretrain(
            model.policy, data, epochs=bc.dagger_epochs, batch_size=bc.batch_size, learning_rate=bc.learning_rate,
            value=bc.value_pretrain, rng=np.random.default_rng([cfg.seed, r + 1]),
        )
        rounds.append({"round": r, "slots": len(new), "agreement_before": agreement, "accuracy": st["accuracy"],
                       "time_s": time.perf_counter() - t0})
        print(f"DAgger round {r}: {len(new)} learner states, agreement with the expert {agreement:.3f}, "
              f"accuracy on all {len(labels)} rows after training {st['accuracy']:.3f}")
    stats["dagger"] = rounds
    stats["oracle_env_steps"] = len(labels)
    return labels, data


def _expand(policies: list[str]) -> list[str]:
    """Entries with a wildcard (``runs/demo__ppo__*``) become the matching run folders, sorted."""
    import glob

    out = []
    for name in policies:
        if any(c in name for c in "*?["):
            hits = sorted(glob.glob(name))
            if not hits:
                raise FileNotFoundError(f"no run folder or model file matches {name!r}")
            out += hits
        else:
            out.append(name)
    return out


def evaluate(cfg: Any, policies: list[str], progress: bool = True, trust: bool = False) -> dict[str, Any]:
    """Evaluate ``policies`` under ``cfg.evaluate`` and write the outputs; returns the summary.

    Several run folders of one config trained with different seeds (e.g. ``runs/demo__*``) are
    evaluated one by one and aggregated (interquartile mean over training seeds with stratified
    bootstrap intervals, :func:`agents.evaluation.aggregate_training_seeds`).
    """
    import torch as th

    from agents.config import to_dict
    from agents.evaluation import (
        agent_spec,
        baseline_spec,
        factory_spec,
        is_factory,
        run_evaluation,
        write_outputs,
    )

    th.set_num_threads(int(cfg.train.torch_threads))
    ev = cfg.evaluate
    specs = []
    for name in _expand(policies):
        if name.lower() in ("b0", "b1", "b2", "random"):
            specs.append(baseline_spec(name, ev.b1, ev.b2))
        elif is_factory(name):
            specs.append(factory_spec(name))
        else:
            for decode in ev.decode:
                search = (ev.search_delta, ev.search_passes) if decode == "search" else None
                specs.append(agent_spec(name, deterministic=ev.deterministic, search=search, trust=trust))
    labels = [s.label for s in specs]
    for lab in set(labels):  # disambiguate two agents of the same algorithm
        same = [s for s in specs if s.label == lab]
        if len(same) > 1:
            for s in same:
                s.label = f"{lab}[{Path(s.run_dir or s.key.get('path', '?')).name}]"
    t0 = time.perf_counter()
    par = parallel_settings(ev)
    episodes = run_evaluation(specs, cfg.env, ev.seeds, ev.prediction_errors, ev.out, progress=progress, **par)
    meta = {
        "config": to_dict(cfg), "policies": [s.label for s in specs], "sources": policies,
        "seeds": ev.seeds, "prediction_errors": list(ev.prediction_errors), "wall_time_s": time.perf_counter() - t0,
        "seed_split": "eval", "predictor": cfg.env.predictor, "parallel": par,
    }
    from agents.provenance import provenance

    meta["provenance"] = provenance()
    out = write_outputs(ev.out, episodes, specs, meta, pairs=ev.wilcoxon_pairs or None, plots=ev.plots)
    out["out"] = str(Path(ev.out).resolve())
    return out


