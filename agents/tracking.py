"""Optional experiment tracking next to TensorBoard: MLflow or Weights & Biases.

``train.tracking: mlflow`` (extra ``mlflow``) or ``train.tracking: wandb`` (extra ``wandb``) in an
experiment config adds :class:`TrackingCallback` to training.  At the start of training it opens a
run of the tracking library (named after the run folder; a resumed run folder reopens the same
run, whose id is kept in ``tracking.json``), logs the resolved config as parameters, and adds
one output format to SB3's logger, so every scalar that goes to TensorBoard (``rollout/``,
``train/``, ``env/``, ``eval/``) also goes to the tracker at the same step.  The run is closed at
the end of training.  Nothing is imported unless tracking is asked for.

MLflow: ``train.tracking_uri`` (e.g. ``file:/path/mlruns`` or ``http://host:5000``; default:
MLflow's own default, ``MLFLOW_TRACKING_URI`` when set), ``train.tracking_project`` is the
experiment name.  W&B: ``train.tracking_project`` is the project; offline runs with
``WANDB_MODE=offline``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import KVWriter

from agents.callbacks import flat_hparams
from leo_env.io import atomic_write_json

__all__ = ["TRACKERS", "TrackingCallback", "tracking_callbacks"]

TRACKERS = ("none", "mlflow", "wandb")
"""Allowed values of ``train.tracking``."""


def _scalars(key_values: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in key_values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(float(value)):
            out[key] = float(value)
    return out


class _MLflowFormat(KVWriter):
    """SB3 logger output: every finite scalar to ``mlflow.log_metric`` at the logger's step."""

    def __init__(self, mlflow: Any) -> None:
        self.mlflow = mlflow

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0) -> None:
        scalars = _scalars(key_values)
        if scalars:
            self.mlflow.log_metrics(scalars, step=int(step))

    def close(self) -> None:
        """Nothing to release (the callback ends the run)."""


class _WandbFormat(KVWriter):
    """SB3 logger output: every finite scalar to ``run.log`` at the logger's step."""

    def __init__(self, run: Any) -> None:
        self.run = run

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0) -> None:
        scalars = _scalars(key_values)
        if scalars:
            self.run.log({**scalars, "global_step": int(step)})

    def close(self) -> None:
        """Nothing to release (the callback finishes the run)."""


class TrackingCallback(BaseCallback):
    """Mirror SB3's logged scalars and the config to MLflow or W&B (see the module docstring).

    Parameters
    ----------
    kind : {"mlflow", "wandb"}
        Tracking library.
    run_dir : path
        Run folder (its name names the tracked run; ``tracking.json`` keeps the run id).
    config : dict
        Resolved experiment config (nested), logged as flattened parameters.
    project : str
        MLflow experiment / W&B project.
    uri : str, optional
        MLflow tracking URI.
    """

    def __init__(self, kind: str, run_dir: str | Path, config: dict[str, Any], project: str = "apex",
                 uri: str | None = None) -> None:
        super().__init__()
        if kind not in TRACKERS[1:]:
            raise ValueError(f"train.tracking must be one of {', '.join(TRACKERS)}, got {kind!r}")
        self.kind, self.run_dir, self.config = kind, Path(run_dir), config
        self.project, self.uri = project, uri
        self._run: Any = None
        self._format: KVWriter | None = None

    def _import(self) -> Any:
        import importlib

        try:
            return importlib.import_module(self.kind)
        except ImportError as exc:  # the extra is not installed
            raise ImportError(
                f"train.tracking={self.kind} needs the {self.kind} package: pip install -e '.[{self.kind}]'"
            ) from exc

    def _on_training_start(self) -> None:
        lib = self._import()
        state_file = self.run_dir / "tracking.json"
        previous = json.loads(state_file.read_text()) if state_file.exists() else {}
        run_id = previous.get("run_id") if previous.get("kind") == self.kind else None
        params = flat_hparams(self.config)
        if self.kind == "mlflow":
            if self.uri:
                lib.set_tracking_uri(self.uri)
            lib.set_experiment(self.project)
            self._run = lib.start_run(run_id=run_id, run_name=None if run_id else self.run_dir.name)
            if run_id is None:
                lib.log_params({k: str(v)[:500] for k, v in params.items()})
            self._format = _MLflowFormat(lib)
            new_id = self._run.info.run_id
        else:
            self._run = lib.init(project=self.project, name=self.run_dir.name, dir=str(self.run_dir),
                                 config=params, id=run_id, resume="allow" if run_id else None, reinit=True)
            self._run.define_metric("*", step_metric="global_step")
            self._format = _WandbFormat(self._run)
            new_id = self._run.id
        atomic_write_json(state_file, {"kind": self.kind, "run_id": new_id})
        self.model.logger.output_formats.append(self._format)

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        if self._format is not None and self._format in self.model.logger.output_formats:
            self.model.logger.output_formats.remove(self._format)
        if self._run is not None:
            if self.kind == "mlflow":
                self._import().end_run()
            else:
                self._run.finish()
            self._run = None


def tracking_callbacks(cfg: Any, run_dir: str | Path, config: dict[str, Any]) -> list[BaseCallback]:
    """``[TrackingCallback]`` when ``cfg.train.tracking`` asks for one, else ``[]``."""
    kind = str(getattr(cfg.train, "tracking", "none"))
    if kind == "none":
        return []
    return [TrackingCallback(kind, run_dir, config, project=str(getattr(cfg.train, "tracking_project", "apex")),
                             uri=getattr(cfg.train, "tracking_uri", None))]
