"""Typed experiment configuration of the lisl family (``configs/experiments/lisl_*.yaml``).

A YAML file is plain data merged over the dataclass defaults (unknown keys and wrong types are
errors naming the closest valid key), then the command line's dotted overrides
(``--set train.epochs=10``), with :func:`leo_env.core.overrides.merge_overrides`.

``agent`` selects what ``train.py`` trains:

* ``gnn``: the price predictor (:mod:`agents.lisl.predictor`): sections ``data``, ``gnn``,
  ``train``;
* ``ppo``: PPO with the GNN as actor and critic on ``LislRouting-v0`` (:mod:`agents.lisl.ppo`):
  sections ``env``, ``gnn``, ``ppo``;
* ``none``: nothing to train (an evaluation-only experiment).

``evaluate`` describes the paired evaluation of ``evaluate.py``.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "AGENTS",
    "BUILTIN_POLICIES",
    "DataSettings",
    "GnnSettings",
    "TrainSettings",
    "EnvSettings",
    "PpoSettings",
    "EvalSettings",
    "LislExperiment",
    "load_config",
]

AGENTS = ("gnn", "ppo", "none")
"""Values of ``agent``."""

BUILTIN_POLICIES = ("dujo", "dujo-best", "mrate", "sate", "+grid", "rand")
"""Built-in methods of ``evaluate.policies`` (besides run folders of trained agents)."""


@dataclass
class DataSettings:
    """Snapshots solved by DuJo for the price predictor.

    Attributes
    ----------
    sizes : list of int
        Numbers of satellites ``I`` of the training snapshots (each >= 20).
    train_seeds : int
        Training snapshots per size (>= 1); seeds ``100000 + k``.
    val_seeds : int
        Validation snapshots per size (>= 1); seeds ``200000 + k`` (disjoint from evaluation
        seeds, which start at 0).
    iterations : int
        DuJo's subgradient iterations ``K`` for the targets (>= 1).
    alpha0 : float
        DuJo's step scale (> 0).
    beta : float
        DuJo's step exponent, in [0, 1).
    overrides : dict
        Fields of :class:`leo_env.scenario.lisl.LislConfig` replacing the ``paper`` preset's.
    cache_dir : str
        Folder of the cached records.
    workers : int
        Processes solving snapshots (>= 1; 1 = serial).
    """

    sizes: list[int] = field(default_factory=lambda: [200, 300, 400, 500])
    train_seeds: int = 12
    val_seeds: int = 3
    iterations: int = 500
    alpha0: float = 0.1
    beta: float = 0.5
    overrides: dict[str, Any] = field(default_factory=dict)
    cache_dir: str = "runs/lisl/dataset"
    workers: int = 1


@dataclass
class GnnSettings:
    """Architecture of :class:`agents.lisl.gnn.ArcGNN`.

    Attributes
    ----------
    hidden : int
        Width of node and arc states (>= 1).
    layers : int
        Message-passing rounds (>= 1).
    """

    hidden: int = 64
    layers: int = 4


@dataclass
class TrainSettings:
    """Optimisation of the price predictor.

    Attributes
    ----------
    epochs : int
        Supervised passes over the training snapshots (>= 0).
    dual_epochs : int
        Passes of the subgradient edge loss after the supervised ones (>= 0).
    supervised_weight : float
        Weight of the supervised term during the dual passes (>= 0).
    lr : float
        Adam learning rate (> 0).
    dual_lr : float
        Adam learning rate of the dual passes (> 0).
    batch_graphs : int
        Snapshots per gradient step (>= 1).
    target : {"lam_last", "lam_best"}
        Which DuJo prices to imitate (the paper converts the last iterate).
    val_every : int
        Validate (and keep the best checkpoint) every this many epochs (>= 1).
    threads : int
        torch CPU threads (>= 1).
    max_seconds : float or None
        Wall-clock budget over all (resumed) sessions [s] (None: none).
    """

    epochs: int = 20
    dual_epochs: int = 0
    supervised_weight: float = 1.0
    lr: float = 1e-3
    dual_lr: float = 2e-4
    batch_graphs: int = 4
    target: str = "lam_last"
    val_every: int = 2
    threads: int = 1
    max_seconds: float | None = None


@dataclass
class EnvSettings:
    """``LislRouting-v0`` arguments for PPO (fields of ``LislEnvParams``).

    Attributes
    ----------
    n_sats : int
        Satellites per episode (>= 2).
    n_snapshots : int
        Snapshots per episode (>= 1).
    active_user_share : float
        Active share of the covered population, in (0, 1].
    lcts_per_sat : int
        LCTs per satellite, in [1, 4].
    acquisition_snapshots : int
        ``tau`` (>= 0).
    constellation : str
        Constellation preset.
    """

    n_sats: int = 200
    n_snapshots: int = 4
    active_user_share: float = 1e-4
    lcts_per_sat: int = 2
    acquisition_snapshots: int = 0
    constellation: str = "starlink-gen1"


@dataclass
class PpoSettings:
    """Plain-torch PPO (clipped surrogate, GAE) with GNN actor and critic.

    Attributes
    ----------
    total_steps : int
        Environment steps (snapshots) in all (>= 1).
    rollout_steps : int
        Steps per update (>= 1).
    epochs : int
        Optimisation passes per update (>= 1).
    lr : float
        Adam learning rate (> 0).
    gamma : float
        Discount in [0, 1] (0 suits tau = 0: a snapshot's prices do not change later ones).
    gae_lambda : float
        GAE parameter in [0, 1].
    clip : float
        PPO clip range (> 0).
    entropy_coef, value_coef : float
        Loss weights (>= 0).
    init_log_std : float
        Initial log standard deviation of the Gaussian on the price logits.
    reward_scale : float
        Rewards (served shares) are multiplied by this (> 0) before learning.
    threads : int
        torch CPU threads (>= 1).
    max_seconds : float or None
        Wall-clock budget [s] (None: none).
    """

    total_steps: int = 2048
    rollout_steps: int = 64
    epochs: int = 4
    lr: float = 3e-4
    gamma: float = 0.0
    gae_lambda: float = 0.95
    clip: float = 0.2
    entropy_coef: float = 0.0
    value_coef: float = 0.5
    init_log_std: float = -1.0
    reward_scale: float = 100.0
    threads: int = 1
    max_seconds: float | None = None


@dataclass
class EvalSettings:
    """Paired evaluation (``evaluate.py``).

    Attributes
    ----------
    policies : list of str
        Built-in methods (:data:`BUILTIN_POLICIES`) and run folders of trained agents; the first
        one is the reference of the paired differences.
    sizes : list of int
        Numbers of satellites of the evaluation snapshots.
    seeds : int
        Snapshots per size (>= 1), seeds ``seed0 .. seed0 + seeds - 1``.
    seed0 : int
        First evaluation seed (>= 0).
    dujo_iterations : int
        DuJo's iterations (>= 1).
    overrides : dict
        Instance overrides (as ``data.overrides``).
    bootstrap : int
        Bootstrap resamples of the paired intervals (>= 100).
    workers : int
        Processes over snapshots (>= 1).
    out : str
        Output folder.
    """

    policies: list[str] = field(default_factory=lambda: ["dujo", "mrate", "sate", "+grid", "rand"])
    sizes: list[int] = field(default_factory=lambda: [1000])
    seeds: int = 10
    seed0: int = 0
    dujo_iterations: int = 500
    overrides: dict[str, Any] = field(default_factory=dict)
    bootstrap: int = 2000
    workers: int = 1
    out: str = "results/lisl_eval"


@dataclass
class LislExperiment:
    """One lisl experiment (see the module docstring).

    Attributes
    ----------
    name : str
        Run folder name under ``run_dir``.
    agent : {"gnn", "ppo", "none"}
    seed : int
        Seeds the initial weights and the data order (>= 0).
    run_dir : str
        Root of run folders.
    """

    name: str = "lisl_gnn"
    agent: str = "gnn"
    seed: int = 0
    run_dir: str = "runs/lisl"
    data: DataSettings = field(default_factory=DataSettings)
    gnn: GnnSettings = field(default_factory=GnnSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    env: EnvSettings = field(default_factory=EnvSettings)
    ppo: PpoSettings = field(default_factory=PpoSettings)
    evaluate: EvalSettings = field(default_factory=EvalSettings)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first field out of range."""

        def need(ok: bool, name: str, allowed: str, value: Any) -> None:
            if not ok:
                raise ValueError(f"{name} must be {allowed}, got {value!r}")

        def finite(v: Any) -> bool:
            return v is not None and math.isfinite(float(v))

        need(self.agent in AGENTS, "agent", f"one of {AGENTS}", self.agent)
        need(self.seed >= 0, "seed", ">= 0", self.seed)
        d, t, g, p, e, ev = self.data, self.train, self.gnn, self.ppo, self.env, self.evaluate
        need(
            len(d.sizes) > 0 and min(d.sizes) >= 20, "data.sizes", "non-empty, each >= 20", d.sizes
        )
        need(d.train_seeds >= 1, "data.train_seeds", ">= 1", d.train_seeds)
        need(d.val_seeds >= 1, "data.val_seeds", ">= 1", d.val_seeds)
        need(d.iterations >= 1, "data.iterations", ">= 1", d.iterations)
        need(finite(d.alpha0) and d.alpha0 > 0, "data.alpha0", "finite > 0", d.alpha0)
        need(0 <= d.beta < 1, "data.beta", "in [0, 1)", d.beta)
        need(d.workers >= 1, "data.workers", ">= 1", d.workers)
        need(g.hidden >= 1 and g.layers >= 1, "gnn.hidden/gnn.layers", ">= 1", (g.hidden, g.layers))
        need(t.epochs >= 0, "train.epochs", ">= 0", t.epochs)
        need(t.dual_epochs >= 0, "train.dual_epochs", ">= 0", t.dual_epochs)
        need(
            finite(t.supervised_weight) and t.supervised_weight >= 0,
            "train.supervised_weight",
            "finite >= 0",
            t.supervised_weight,
        )
        need(finite(t.lr) and t.lr > 0, "train.lr", "finite > 0", t.lr)
        need(finite(t.dual_lr) and t.dual_lr > 0, "train.dual_lr", "finite > 0", t.dual_lr)
        need(t.batch_graphs >= 1, "train.batch_graphs", ">= 1", t.batch_graphs)
        need(t.target in ("lam_last", "lam_best"), "train.target", "lam_last or lam_best", t.target)
        need(t.val_every >= 1, "train.val_every", ">= 1", t.val_every)
        need(t.threads >= 1, "train.threads", ">= 1", t.threads)
        for name, v in (("train.max_seconds", t.max_seconds), ("ppo.max_seconds", p.max_seconds)):
            need(v is None or (finite(v) and v > 0), name, "finite > 0 or null", v)
        need(e.n_sats >= 2, "env.n_sats", ">= 2", e.n_sats)
        need(e.n_snapshots >= 1, "env.n_snapshots", ">= 1", e.n_snapshots)
        need(p.total_steps >= 1, "ppo.total_steps", ">= 1", p.total_steps)
        need(p.rollout_steps >= 1, "ppo.rollout_steps", ">= 1", p.rollout_steps)
        need(p.epochs >= 1, "ppo.epochs", ">= 1", p.epochs)
        need(finite(p.lr) and p.lr > 0, "ppo.lr", "finite > 0", p.lr)
        need(0 <= p.gamma <= 1, "ppo.gamma", "in [0, 1]", p.gamma)
        need(0 <= p.gae_lambda <= 1, "ppo.gae_lambda", "in [0, 1]", p.gae_lambda)
        need(finite(p.clip) and p.clip > 0, "ppo.clip", "finite > 0", p.clip)
        need(
            p.entropy_coef >= 0 and p.value_coef >= 0,
            "ppo.entropy_coef/value_coef",
            ">= 0",
            (p.entropy_coef, p.value_coef),
        )
        need(finite(p.init_log_std), "ppo.init_log_std", "finite", p.init_log_std)
        need(
            finite(p.reward_scale) and p.reward_scale > 0,
            "ppo.reward_scale",
            "finite > 0",
            p.reward_scale,
        )
        need(p.threads >= 1, "ppo.threads", ">= 1", p.threads)
        need(len(ev.policies) > 0, "evaluate.policies", "non-empty", ev.policies)
        need(
            len(ev.sizes) > 0 and min(ev.sizes) >= 2,
            "evaluate.sizes",
            "non-empty, each >= 2",
            ev.sizes,
        )
        need(ev.seeds >= 1, "evaluate.seeds", ">= 1", ev.seeds)
        need(ev.seed0 >= 0, "evaluate.seed0", ">= 0", ev.seed0)
        need(ev.dujo_iterations >= 1, "evaluate.dujo_iterations", ">= 1", ev.dujo_iterations)
        need(ev.bootstrap >= 100, "evaluate.bootstrap", ">= 100", ev.bootstrap)
        need(ev.workers >= 1, "evaluate.workers", ">= 1", ev.workers)

    @property
    def run_path(self) -> Path:
        """The run folder."""
        return Path(self.run_dir) / self.name

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the configuration."""
        return asdict(self)


def load_config(
    path: str | os.PathLike[str] | None, overrides: list[str] | tuple[str, ...] = ()
) -> LislExperiment:
    """Defaults <- YAML file <- dotted overrides, checked against :class:`LislExperiment`."""
    from agents.families import load_family_config

    cfg = load_family_config(LislExperiment, path, overrides)
    assert isinstance(cfg, LislExperiment)
    cfg.validate()
    return cfg
