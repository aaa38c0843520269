"""Typed configuration of the assignment family's supervised runs (``configs/experiments/gsl_*.yaml``).

A YAML file is plain data merged over the dataclass defaults with OmegaConf (unknown keys and
wrong types are errors), then dotted command-line overrides (``--set train.lr=1e-3``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

__all__ = ["TrainSettings", "AssignmentRunConfig", "load_config", "MODELS", "SPLITS"]

MODELS = ("perceptron", "mlp3", "complete_gnn", "gsl", "priority")
"""Model names accepted by ``model`` (see :mod:`agents.assignment.models`)."""

SPLITS = ("chronological", "random", "new-region")
"""Train/validation/test splits (see :func:`agents.assignment.data.split_indices`)."""


@dataclass
class TrainSettings:
    """Optimiser and stopping rule.

    Attributes
    ----------
    lr : float
        Adam learning rate (> 0).
    batch_size : int
        Epochs of the dataset per gradient step (>= 1).
    max_epochs : int
        Passes over the training split (>= 1).
    patience : int
        Stop after this many passes without a better validation top-1 (>= 1).
    threads : int
        torch CPU threads (>= 1).
    max_seconds : float or None
        Training-time budget [s] (None: no limit), counted over resumed runs too; checked
        before every batch, so the last pass may be partial (then validated and stopped).
    """

    lr: float = 1e-3
    batch_size: int = 64
    max_epochs: int = 50
    patience: int = 6
    threads: int = 1
    max_seconds: float | None = None


@dataclass
class AssignmentRunConfig:
    """One model trained on one dataset and split.

    Attributes
    ----------
    name : str
        Run name (folder under ``run_dir``); ``{split}`` is replaced by the split.
    dataset : str
        Dataset preset of :data:`leo_env.datasets.primary_assignment.PRESETS`; the new-region
        split tests on ``<dataset>-region2``.
    data_root : str or None
        Dataset cache root (None: ``$APEX_DATA_DIR`` or ``~/.cache/apex/datasets``).
    duration_s : float or None
        Shorten the dataset preset's history to this span [s] (None: whole; for quick runs).
    dataset_overrides : dict
        Fields of :class:`leo_env.datasets.primary_assignment.PrimaryAssignmentConfig` replaced
        in the preset (ablations: ``n_clusters``, ``rule``, ``min_elevation_deg``, ...; the
        dataset's hash, hence its cache folder, follows).
    label_noise : float
        Share of the training and validation labels replaced by a uniformly drawn available
        satellite (seeded by ``seed``), in [0, 0.5); test labels stay clean.
    model : str
        One of :data:`MODELS`.
    model_kwargs : dict
        Keyword arguments of the model class (e.g. ``graphs``, ``features``).
    mask : bool
        Mask unavailable satellites in the logits (off in the paper).
    split : str
        One of :data:`SPLITS`.
    val_fraction, test_fraction : float
        Shares of the epochs in validation and test (the paper: 15 % test).
    seed : int
        Seeds the split, the initialisation and the batch order.
    run_dir : str
        Root of run folders (checkpoints, TensorBoard logs).
    results_dir : str
        Where ``evaluate`` writes its tables.
    bootstrap : int
        Bootstrap resamples for the top-1 interval.
    block_epochs : int
        Block length of the (moving-block) bootstrap over test epochs: neighbouring epochs are
        correlated, so blocks of consecutive epochs are resampled.
    train : TrainSettings
    """

    name: str = "gsl_{split}"
    dataset: str = "gsl-ci"
    data_root: str | None = None
    duration_s: float | None = None
    dataset_overrides: dict[str, Any] = field(default_factory=dict)
    label_noise: float = 0.0
    model: str = "gsl"
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    mask: bool = False
    split: str = "chronological"
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 0
    run_dir: str = "runs/assignment"
    results_dir: str = "results/assignment"
    bootstrap: int = 1000
    block_epochs: int = 40
    train: TrainSettings = field(default_factory=TrainSettings)

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if not 0.0 <= self.label_noise < 0.5:
            raise ValueError(f"label_noise must be in [0, 0.5), got {self.label_noise}")
        if self.dataset_overrides:
            from dataclasses import fields

            from leo_env.datasets.primary_assignment import PrimaryAssignmentConfig

            known = {f.name for f in fields(PrimaryAssignmentConfig)} - {"name"}
            for key in self.dataset_overrides:
                if key not in known:
                    import difflib

                    close = difflib.get_close_matches(key, sorted(known), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise ValueError(f"dataset_overrides: unknown field {key!r}{hint}; fields: {sorted(known)}")
        for f in ("val_fraction", "test_fraction"):
            v = getattr(self, f)
            if not 0.0 < v < 0.5:
                raise ValueError(f"{f} must be in (0, 0.5), got {v}")
        t = self.train
        if not t.lr > 0 or t.batch_size < 1 or t.max_epochs < 1 or t.patience < 1 or t.threads < 1:
            raise ValueError(
                "train: need lr > 0, batch_size >= 1, max_epochs >= 1, patience >= 1, threads >= 1"
            )
        if self.bootstrap < 1 or self.block_epochs < 1:
            raise ValueError("bootstrap and block_epochs must be >= 1")

    @property
    def run_name(self) -> str:
        """Run folder name with the split filled in."""
        return self.name.replace("{split}", self.split)

    @property
    def run_path(self) -> Path:
        """The run folder."""
        return Path(self.run_dir) / self.dataset / self.run_name

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the configuration."""
        return asdict(self)


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> AssignmentRunConfig:
    """Defaults <- YAML file <- dotted overrides, checked against :class:`AssignmentRunConfig`."""
    base = OmegaConf.structured(AssignmentRunConfig)
    parts = [base]
    if path is not None:
        data = OmegaConf.load(path)
        if not isinstance(data, DictConfig):
            raise ValueError(f"experiment config {path}: expected a mapping of sections, got a list")
        data.pop("family", None)  # the family tag used by the lead's routing
        parts.append(data)
    if overrides:
        parts.append(OmegaConf.from_dotlist(list(overrides)))
    merged = OmegaConf.merge(*parts)
    obj = OmegaConf.to_object(merged)
    assert isinstance(obj, AssignmentRunConfig)
    obj.__post_init__()
    return obj
