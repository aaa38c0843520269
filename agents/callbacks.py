"""Training callbacks: episode log, atomic checkpoints, masked validation with best-model saving."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from agents.config import EnvConfig
from agents.envs import VALIDATION_SEED_BASE, make_env
from leo_env.io import atomic_write, atomic_write_json

__all__ = ["flat_hparams", "EpisodeLogCallback", "CheckpointCallback", "ValidationCallback", "save_model", "EPISODE_FIELDS"]

EPISODE_FIELDS = ("timesteps", "return", "length", "budget_violations", "emergencies_total", "repairs_total", "time_s")


def save_model(model: Any, path: str | os.PathLike[str]) -> Path:
    """``model.save`` into ``path`` atomically and record its SHA-256 in the run folder.

    The model is written to a temporary file, its digest recorded (next to the old file's), the
    file swapped in, then the digest recorded alone: whatever the moment of a crash, the file on
    disk is either absent or matches a recorded digest, and :func:`agents.trust.verify_digest`
    refuses a file that changed after it was written.
    """
    from agents.runs import run_dir_of
    from agents.trust import record_digest, sha256_of

    rd = run_dir_of(Path(path).parent)
    digest: list[str] = []

    def _write(tmp: str) -> None:
        model.save(tmp)
        digest.append(sha256_of(tmp))
        if rd is not None:
            record_digest(rd, path, digest[0], keep_previous=True)

    out = atomic_write(path, _write)
    if rd is not None:
        record_digest(rd, out, digest[0])
    return out


def flat_hparams(cfg: dict[str, Any], prefix: str = "") -> dict[str, bool | int | float | str]:
    """A nested config as TensorBoard hyper-parameters: dotted keys, scalar values.

    Lists become their string form; ``None`` becomes ``"None"``.
    """
    out: dict[str, bool | int | float | str] = {}
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_hparams(value, prefix=f"{name}."))
        elif isinstance(value, (bool, int, float, str)):
            out[name] = value
        else:
            out[name] = str(value)
    return out


class EpisodeLogCallback(BaseCallback):
    """Log every finished training episode: ``episodes.csv`` rows and TensorBoard ``env/`` means.

    Each finished episode appends a row to the CSV (unscaled return, length, budget violations,
    emergencies, repairs, wall time) and adds its return and environment metrics (handovers,
    budget violations, emergencies, repairs) to the TensorBoard means of the ``env/`` tags,
    written at every rollout.  With ``hparams``, the run's hyper-parameters (the resolved config,
    flattened) go to TensorBoard's HPARAMS tab at the start of training, paired with the
    validation return and the training episode return.

    Parameters
    ----------
    path : path
        CSV file; on resume, rows beyond ``resume_from`` environment steps are dropped first.
    resume_from : int, optional
        Environment steps of the checkpoint a resumed run starts from.
    hparams : dict, optional
        Nested config (e.g. :func:`agents.config.to_dict`), flattened by :func:`flat_hparams`.
    """

    def __init__(
        self, path: str | os.PathLike[str], resume_from: int | None = None,
        hparams: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.hparams = flat_hparams(hparams) if hparams else None
        self.resume_from = resume_from
        self._t0 = time.perf_counter()
        if resume_from is not None and self.path.exists():
            lines = self.path.read_text().splitlines()
            keep = [lines[0]] + [ln for ln in lines[1:] if ln and int(float(ln.split(",")[0])) <= resume_from]
            atomic_write(self.path, lambda tmp: _write_text(tmp, "\n".join(keep) + "\n"))
        if not self.path.exists():
            self.path.write_text(",".join(EPISODE_FIELDS) + "\n")
        self._fh: Any = None

    def _on_training_start(self) -> None:
        self._fh = open(self.path, "a", buffering=1)  # noqa: SIM115 - closed in _on_training_end
        if self.hparams and self.resume_from is None:  # a resumed run has them already
            from stable_baselines3.common.logger import HParam

            metrics = {"eval/mean_return": 0.0, "env/return": 0.0}
            self.logger.record("hparams", HParam(self.hparams, metrics), exclude=("stdout", "log", "json", "csv"))

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
            self.logger.record_mean("env/return", float(ep["r"]))
            for key, tag in (("handovers", "handovers"), ("budget_violations", "budget_violations"),
                             ("emergencies_total", "emergencies"), ("repairs_total", "repairs")):
                if key in m:
                    self.logger.record_mean(f"env/{tag}", float(m[key]))
        return True

    def _on_training_end(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class CheckpointCallback(BaseCallback):
    """Checkpoints at rollout boundaries, complete enough that a resumed run equals an uninterrupted one.

    At the start of the first rollout after every ``freq`` environment steps (and when
    :meth:`save` is called) it writes, atomically and without pickles:

    - ``checkpoints/ckpt_<steps>.zip``: the model's parameters and optimizer state (SHA-256
      recorded, loaded back tensors-only by :func:`agents.registry.load_model`);
    - ``ckpt_<steps>.npz``: the training environment's full state (scenario seeds, forecast
      tables, mid-episode step state), SB3's last observation and episode-start flags, and the
      episode monitor's running returns and lengths;
    - ``ckpt_<steps>.json``: environment steps, every random generator (the environments', numpy's
      global one that SB3's rollout buffer shuffles with, Python's and torch's), SB3's update and
      episode counters and its recent-episode buffer.

    ``train.py --resume`` restores all of it at the same program point (the start of that
    rollout), so an on-policy run (PPO, MaskablePPO, B5) continues bit for bit.  Only the
    newest ``keep`` checkpoints stay on disk.

    Parameters
    ----------
    run_dir : path
        Run folder.
    freq : int
        Environment steps between checkpoints (0: only when :meth:`save` is called).
    keep : int
        Checkpoints kept.
    vec_env : DownlinkVecEnv
        The base training environment (its state is saved).
    monitor : VecMonitor, optional
        The episode monitor around it (running returns and lengths).
    """

    def __init__(
        self, run_dir: str | os.PathLike[str], freq: int, keep: int, vec_env: Any, monitor: Any = None
    ) -> None:
        super().__init__()
        self.dir = Path(run_dir) / "checkpoints"
        self.freq, self.keep, self.vec_env, self.monitor = int(freq), max(1, int(keep)), vec_env, monitor
        self._last = 0
        self._pending: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None

    def restore_at_next_rollout(self, zpath: str | os.PathLike[str]) -> int:
        """Read checkpoint ``zpath``'s state; it is applied when the next rollout starts."""
        z = Path(zpath)
        meta = json.loads(z.with_suffix(".json").read_text())
        if "torch_rng" not in meta:
            raise ValueError(f"{z.with_suffix('.json')} is not a complete training checkpoint")
        with np.load(z.with_suffix(".npz"), allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        self._pending = (meta, arrays)
        return int(meta["timesteps"])

    def _on_training_start(self) -> None:
        self._last = self.num_timesteps

    def _on_rollout_start(self) -> None:
        if self._pending is not None:
            self._apply(*self._pending)
            self._pending = None
            return
        if self.freq > 0 and self.num_timesteps // self.freq > self._last // self.freq:
            self.save()

    def _on_step(self) -> bool:
        return True

    def _apply(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        import random

        import torch as th

        model = self.model
        env_arrays = {k[4:]: v for k, v in arrays.items() if k.startswith("env.")}
        self.vec_env.set_state(env_arrays, meta["env"])
        # SB3 keeps its rollout state in attributes without a public setter
        model._last_obs = arrays["last_obs"]
        model._last_episode_starts = arrays["last_episode_starts"]
        if self.monitor is not None and "monitor_returns" in arrays:
            self.monitor.episode_returns[...] = arrays["monitor_returns"]
            self.monitor.episode_lengths[...] = arrays["monitor_lengths"]
        model._n_updates = int(meta["n_updates"])
        model._episode_num = int(meta["episode_num"])
        if model.ep_info_buffer is not None:
            model.ep_info_buffer.clear()
            model.ep_info_buffer.extend(meta["ep_info_buffer"])
        th.set_rng_state(th.tensor(meta["torch_rng"], dtype=th.uint8))
        np_state = meta["numpy_rng"]
        # SB3's rollout buffer shuffles minibatches with numpy's legacy global generator
        np.random.set_state((np_state[0], np.array(np_state[1], dtype=np.uint32), *np_state[2:]))  # noqa: NPY002
        py_state = meta["python_rng"]
        random.setstate((py_state[0], tuple(py_state[1]), py_state[2]))

    def save(self) -> Path:
        """Write a checkpoint now; returns the zip path."""
        import random

        import torch as th

        model = self.model
        steps = int(model.num_timesteps)
        self._last = steps
        zpath = self.dir / f"ckpt_{steps:010d}.zip"
        env_arrays, env_meta = self.vec_env.get_state()
        arrays = {f"env.{k}": v for k, v in env_arrays.items()}
        if model._last_obs is not None:
            arrays["last_obs"] = np.asarray(model._last_obs)
            arrays["last_episode_starts"] = np.asarray(model._last_episode_starts)
        if self.monitor is not None:
            arrays["monitor_returns"] = np.asarray(self.monitor.episode_returns)
            arrays["monitor_lengths"] = np.asarray(self.monitor.episode_lengths)
        np_state = cast(tuple[Any, ...], np.random.get_state())  # noqa: NPY002 - SB3's minibatch shuffling uses it
        py_state = random.getstate()
        meta = {
            "timesteps": steps,
            "rng_states": env_meta["rng_states"],
            "env": env_meta,
            "torch_rng": th.get_rng_state().tolist(),
            "numpy_rng": [np_state[0], np_state[1].tolist(), *[x.item() if hasattr(x, "item") else x for x in np_state[2:]]],
            "python_rng": [py_state[0], list(py_state[1]), py_state[2]],
            "n_updates": int(getattr(model, "_n_updates", 0)),
            "episode_num": int(getattr(model, "_episode_num", 0)),
            "ep_info_buffer": [{k: float(v) for k, v in e.items()} for e in (model.ep_info_buffer or [])],
        }
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write(zpath.with_suffix(".npz"), lambda tmp: _savez(tmp, arrays))
        atomic_write_json(zpath.with_suffix(".json"), meta)
        save_model(model, zpath)  # last: a checkpoint counts once its zip exists
        ckpts = sorted(self.dir.glob("ckpt_*.zip"))
        for old in ckpts[: -self.keep]:
            for suffix in (".zip", ".json", ".npz"):
                old.with_suffix(suffix).unlink(missing_ok=True)
        return zpath


def _savez(tmp: str, arrays: dict[str, np.ndarray]) -> None:
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub mistakes ** for allow_pickle


def _write_text(tmp: str, text: str) -> None:
    Path(tmp).write_text(text)


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

    def __init__(
        self, run_dir: str | os.PathLike[str], env_cfg: EnvConfig, algo: str, freq: int, episodes: int,
        at_start: bool = True,
    ) -> None:
        super().__init__()
        self.at_start = bool(at_start)
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
        if self.at_start and self.episodes > 0 and not any(h["timesteps"] == self.num_timesteps for h in self.history):
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
