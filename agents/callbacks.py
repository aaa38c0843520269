"""Training callbacks: episode log, atomic checkpoints, masked validation with best-model saving."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from agents.config import EnvConfig
from agents.envs import VALIDATION_SEED_BASE, make_env
from leo_env.io import atomic_write, atomic_write_json

__all__ = ["EpisodeLogCallback", "CheckpointCallback", "ValidationCallback", "save_model", "EPISODE_FIELDS"]

EPISODE_FIELDS = ("timesteps", "return", "length", "budget_violations", "emergencies_total", "repairs_total", "time_s")


def save_model(model: Any, path: str | os.PathLike[str]) -> Path:
    """``model.save`` into ``path`` atomically and record its SHA-256 in the run folder.

    A crash leaves the old file or none; :func:`agents.trust.verify_digest` later refuses a file
    that changed after it was written.
    """
    from agents.runs import run_dir_of
    from agents.trust import record_digest

    out = atomic_write(path, lambda tmp: model.save(tmp))
    rd = run_dir_of(out)
    if rd is not None:
        record_digest(rd, out)
    return out


class EpisodeLogCallback(BaseCallback):
    """Append every finished training episode to ``episodes.csv`` (unscaled return).

    Parameters
    ----------
    path : path
        CSV file; on resume, rows beyond ``resume_from`` environment steps are dropped first.
    resume_from : int, optional
        Environment steps of the checkpoint a resumed run starts from.
    """

    def __init__(self, path: str | os.PathLike[str], resume_from: int | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self._t0 = time.perf_counter()
        if resume_from is not None and self.path.exists():
            lines = self.path.read_text().splitlines()
            keep = [lines[0]] + [ln for ln in lines[1:] if ln and int(float(ln.split(",")[0])) <= resume_from]
            atomic_write(self.path, lambda tmp: Path(tmp).write_text("\n".join(keep) + "\n"))
        if not self.path.exists():
            self.path.write_text(",".join(EPISODE_FIELDS) + "\n")
        self._fh: Any = None

    def _on_training_start(self) -> None:
        self._fh = open(self.path, "a", buffering=1)  # noqa: SIM115 - closed in _on_training_end

    def _on_step(self) -> bool:
        infos = self.locals.get("infos", [])
        for info in infos:
            ep = info.get("episode")
            if ep is None:
                continue
            m = info.get("episode_metrics", {})
            row = [
                self.num_timesteps, f"{float(ep['r']):.6g}", int(ep["l"]), m.get("budget_violations", 0),
                m.get("emergencies_total", 0), m.get("repairs_total", 0), f"{time.perf_counter() - self._t0:.2f}",
            ]
            if self._fh is not None:
                self._fh.write(",".join(str(x) for x in row) + "\n")
        return True

    def _on_training_end(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class CheckpointCallback(BaseCallback):
    """Every ``freq`` environment steps: ``checkpoints/ckpt_<steps>.zip`` and ``.json`` (atomic).

    The JSON holds the environment steps and the training environments' generator states, so
    ``train.py --resume`` continues the same stream of scenarios.  Only the newest ``keep``
    checkpoints stay on disk.

    Parameters
    ----------
    run_dir : path
        Run folder.
    freq : int
        Environment steps between checkpoints (0: only when :meth:`save` is called).
    keep : int
        Checkpoints kept.
    vec_env : DownlinkVecEnv
        Training environment (generator states).
    """

    def __init__(self, run_dir: str | os.PathLike[str], freq: int, keep: int, vec_env: Any) -> None:
        super().__init__()
        self.dir = Path(run_dir) / "checkpoints"
        self.freq, self.keep, self.vec_env = int(freq), max(1, int(keep)), vec_env
        self._last = 0

    def _on_training_start(self) -> None:
        self._last = self.num_timesteps

    def _on_step(self) -> bool:
        if self.freq > 0 and self.num_timesteps // self.freq > self._last // self.freq:
            self.save()
        return True

    def save(self) -> Path:
        """Write a checkpoint now; returns the zip path."""
        steps = int(self.model.num_timesteps)
        self._last = steps
        zpath = self.dir / f"ckpt_{steps:010d}.zip"
        atomic_write_json(zpath.with_suffix(".json"), {"timesteps": steps, "rng_states": self.vec_env.rng_states()})
        save_model(self.model, zpath)
        ckpts = sorted(self.dir.glob("ckpt_*.zip"))
        for old in ckpts[: -self.keep]:
            old.unlink(missing_ok=True)
            old.with_suffix(".json").unlink(missing_ok=True)
        return zpath


class ValidationCallback(BaseCallback):
    """Masked, deterministic validation on fixed training-split scenarios; keeps the best model.

    Every ``freq`` environment steps (and at the start and end of training) the agent plays
    ``episodes`` validation scenarios (seeds ``VALIDATION_SEED_BASE - i`` of the training split,
    never the held-out evaluation seeds) through :class:`agents.policies.AgentPolicy`, i.e.
    with the action masks exactly as in ``evaluate.py``.  Mean return, violations and
    emergencies go to the logger (``eval/``) and to ``evaluations.json``; a better mean return
    saves ``best_model.zip`` atomically.

    Parameters
    ----------
    run_dir : path
        Run folder.
    env_cfg : EnvConfig
        Environment of the experiment.
    algo : str
        Algorithm name (how the agent acts).
    freq : int
        Environment steps between validations (0: only start and end).
    episodes : int
        Validation scenarios.
    """

    def __init__(self, run_dir: str | os.PathLike[str], env_cfg: EnvConfig, algo: str, freq: int, episodes: int) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.env_cfg, self.algo = env_cfg, algo
        self.freq, self.episodes = int(freq), int(episodes)
        self.file = self.run_dir / "evaluations.json"
        self.history: list[dict[str, Any]] = []
        self.best = -np.inf
        if self.file.exists():
            old = json.loads(self.file.read_text())
            self.history = old.get("history", [])
            self.best = float(old.get("best_mean_return", -np.inf) or -np.inf)
        self._env: Any = None
        self._last = 0

    def trim(self, steps: int) -> None:
        """Drop history beyond ``steps`` (resume from an earlier checkpoint)."""
        self.history = [h for h in self.history if h["timesteps"] <= steps]
        vals = [h["mean_return"] for h in self.history]
        self.best = max(vals) if vals else -np.inf

    def _on_training_start(self) -> None:
        self._last = self.num_timesteps
        if self.episodes > 0 and not any(h["timesteps"] == self.num_timesteps for h in self.history):
            self.evaluate()

    def _on_step(self) -> bool:
        if self.episodes > 0 and self.freq > 0 and self.num_timesteps // self.freq > self._last // self.freq:
            self.evaluate()
        return True

    def _on_training_end(self) -> None:
        if self.episodes > 0 and self._last != self.num_timesteps:
            self.evaluate()

    def evaluate(self) -> dict[str, Any]:
        """Run the validation episodes now and record them."""
        from agents.evaluation import play
        from agents.policies import AgentPolicy

        self._last = self.num_timesteps
        if self._env is None:
            self._env = make_env(self.env_cfg, seed_split="train")
        policy = AgentPolicy(self.model, self.algo, deterministic=True)
        was_training = self.model.policy.training
        self.model.policy.set_training_mode(False)
        eps = [play(policy, self._env, i, scenario_seed=VALIDATION_SEED_BASE - i) for i in range(self.episodes)]
        self.model.policy.set_training_mode(was_training)
        rets = np.array([e["utility"] for e in eps])
        entry = {
            "timesteps": int(self.num_timesteps),
            "mean_return": float(rets.mean()),
            "std_return": float(rets.std()),
            "mean_xi": float(np.nanmean([e["xi_mean"] for e in eps])),
            "budget_violations": int(sum(e["budget_violations"] for e in eps)),
            "emergencies": int(sum(e["emergencies"] for e in eps)),
            "repairs": int(sum(e["repairs"] for e in eps)),
            "decision_ms": float(np.mean([e["decision_ms"] for e in eps])),
        }
        for key in ("mean_return", "std_return", "mean_xi", "budget_violations", "emergencies", "repairs"):
            self.logger.record(f"eval/{key}", entry[key])
        self.history.append(entry)
        if entry["mean_return"] > self.best:
            self.best = entry["mean_return"]
            save_model(self.model, self.run_dir / "best_model.zip")
            entry["best"] = True
        atomic_write_json(self.file, {"best_mean_return": self.best, "history": self.history})
        return entry
