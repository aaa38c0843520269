"""Typed experiment config of the multiorbit family (``configs/experiments/multiorbit_*.yaml``).

A YAML file (``family: multiorbit``) is merged over the dataclass defaults, then ``--set``
overrides (:func:`leo_env.core.overrides.merge_overrides`: unknown keys are errors naming the
closest valid key; interpolation resolvers are refused).  The ``env`` section is a mapping of
:class:`~leo_env.envs.multiorbit.params.SelectEnvParams` / ``AssocEnvParams`` fields, checked by
building the parameter object.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from leo_env.core.overrides import OverrideError

__all__ = [
    "AGENTS", "BUILTIN_POLICIES", "LabelSettings", "TrainSettings", "PPOSettings", "EvalSettings",
    "MultiOrbitRunConfig", "load_config",
]

AGENTS = ("bc-select", "wolpertinger-select", "bc-assoc", "wolpertinger-assoc", "maskppo-assoc")
"""``agent`` values: the BC selector and its Wolpertinger variant (BC actor + learned subset
critic) on the selection env; BC, Wolpertinger (BC actor + learned critic) and MaskablePPO on
the association env."""

BUILTIN_POLICIES = {
    "select": ("dv-moss", "eps-markov", "k-nearest", "2-nearest", "k-random"),
    "assoc": ("dv-moss-assoc", "jubpa-assoc", "best-gain"),
}
"""Built-in policy names of ``evaluate.policies`` per environment."""


@dataclass
class LabelSettings:
    """DV-MOSS demonstrations (:func:`agents.multiorbit.labels.generate_labels`).

    Attributes
    ----------
    seeds : int
        Episodes (reset seeds ``seed_offset ... seed_offset + seeds - 1``), >= 2.
    seed_offset : int
        First training seed (must keep the range disjoint from ``evaluate``'s).
    slots_per_seed : int
        Slots per episode, >= 1.
    n_perturb : int
        Associations scored per slot for the Wolpertinger critic, >= 0.
    backend : str
        :func:`leo_env.parallel.pmap` backend (``serial``, ``process``, ``ray``).
    workers : int
        Worker processes, >= 1.
    cache_dir : str
        Label cache folder.
    """

    seeds: int = 800
    seed_offset: int = 100_000
    slots_per_seed: int = 3
    n_perturb: int = 8
    backend: str = "process"
    workers: int = 2
    cache_dir: str = "runs/multiorbit/labels"


@dataclass
class TrainSettings:
    """Supervised training (BC and the critic).

    Attributes
    ----------
    epochs : int
        Passes over the training labels, >= 1.
    lr : float
        Adam learning rate, > 0.
    batch_size : int
        Slots per step, >= 1.
    val_fraction : float
        Share of the label *seeds* held out for validation (early stopping), in (0, 0.5).
    patience : int
        Stop after this many epochs without a better validation loss, >= 1.
    seed : int
        Initialisation and batch order.
    threads : int
        torch CPU threads, >= 1.
    max_seconds : float or None
        Wall-clock budget of the supervised phase [s] (None: none), counted over resumes.
    d_model, layers, heads : int
        Transformer width, depth and heads of the set networks.
    pos_weight : float
        Weight of positive labels in the selector's BCE (> 0).
    critic_epochs : int
        Passes of the Wolpertinger critic's regression, >= 1.
    target : str
        Selector labels: ``soft`` (inclusion probabilities under ``p_f ∝ exp(beta Phi_f)`` over
        the subsets DV-MOSS explored) or ``hard`` (DV-MOSS's subset).
    target_sharpness : float
        Multiplies the chain's ``beta`` in the soft targets (> 0; 1: the chain's own).
    """

    epochs: int = 60
    lr: float = 1e-3
    batch_size: int = 64
    val_fraction: float = 0.1
    patience: int = 10
    seed: int = 0
    threads: int = 1
    max_seconds: float | None = None
    d_model: int = 64
    layers: int = 2
    heads: int = 4
    pos_weight: float = 1.0
    critic_epochs: int = 40
    target: str = "soft"
    target_sharpness: float = 1.0


@dataclass
class PPOSettings:
    """MaskablePPO (sb3-contrib) on ``MultiOrbitAssoc-v0``.

    Attributes
    ----------
    init : str
        ``bc`` (policy logits from the BC association network) or ``scratch`` (SB3's
        ``MultiInputPolicy``).
    bc_run : str or None
        With ``init = bc``: a run folder (``bc-assoc`` or ``wolpertinger-assoc``, same network
        size) whose BC network is loaded (digest checked) instead of training one in this run.
    total_timesteps : int
        Environment steps, >= 1.
    chunk : int
        Steps between checkpoints, >= n_steps.
    n_steps, batch_size, n_epochs : int
        PPO rollout length, minibatch, epochs per update.
    learning_rate, ent_coef, clip_range, gamma : float
        PPO hyper-parameters (``gamma`` 0 fits the independent slots of the paper).
    n_slots : int
        Slots per training episode.
    """

    init: str = "bc"
    bc_run: str | None = None
    total_timesteps: int = 6000
    chunk: int = 1024
    n_steps: int = 256
    batch_size: int = 64
    n_epochs: int = 4
    learning_rate: float = 1e-4
    ent_coef: float = 0.0
    clip_range: float = 0.1
    gamma: float = 0.0
    n_slots: int = 8


@dataclass
class EvalSettings:
    """Paired evaluation on held-out seeds.

    Attributes
    ----------
    env : str
        ``select`` (``MultiOrbitSelect-v0``) or ``assoc`` (``MultiOrbitAssoc-v0``).
    seeds : int
        Held-out episodes, >= 2 (reset seeds ``seed_offset ...``).
    seed_offset : int
        First evaluation seed.
    n_slots : int
        Slots per episode, >= 1.
    policies : list of str
        Built-in names (:data:`BUILTIN_POLICIES`) and run folders.
    reference : str
        Policy the paired differences and ratios are taken against.
    out : str
        Output folder (results.json, results.md).
    bootstrap : int
        Bootstrap resamples of the paired intervals, >= 100.
    wolpertinger_k : int
        Joint actions (associations or subsets) the Wolpertinger critic compares, >= 1.
    backend : str
        :func:`leo_env.parallel.pmap` backend of the episodes (``serial``, ``process``, ``ray``).
    workers : int
        Episodes played in parallel, >= 1 (1: serially, the setting for timings).
    """

    env: str = "select"
    seeds: int = 20
    seed_offset: int = 0
    n_slots: int = 3
    policies: list[str] = field(default_factory=list)
    reference: str = "dv-moss"
    out: str = "results/multiorbit_eval"
    bootstrap: int = 2000
    wolpertinger_k: int = 16
    backend: str = "process"
    workers: int = 1


@dataclass
class MultiOrbitRunConfig:
    """One multiorbit experiment: an agent, its demonstrations and its evaluation.

    Attributes
    ----------
    name : str
        Run name (folder under ``run_dir``).
    agent : str
        One of :data:`AGENTS`.
    env : dict
        Environment parameters shared by labels, training and evaluation.
    run_dir : str
        Root of run folders.
    labels, train, ppo, evaluate :
        The sections above.
    """

    name: str = "bc_select"
    agent: str = "bc-select"
    env: dict[str, Any] = field(default_factory=lambda: {"cone_deg": 60.0})
    run_dir: str = "runs/multiorbit"
    labels: LabelSettings = field(default_factory=LabelSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    ppo: PPOSettings = field(default_factory=PPOSettings)
    evaluate: EvalSettings = field(default_factory=EvalSettings)

    def __post_init__(self) -> None:
        from leo_env.envs.multiorbit.params import AssocEnvParams, SelectEnvParams

        def bad(msg: str) -> OverrideError:
            return OverrideError(msg)

        if self.agent not in AGENTS:
            raise bad(f"agent = {self.agent!r}: allowed {AGENTS}")
        env = dict(self.env)
        if "n_slots" in env:
            raise bad("env.n_slots is set per use: labels.slots_per_seed, ppo.n_slots, evaluate.n_slots")
        try:
            SelectEnvParams(**{k: v for k, v in env.items() if k not in ("jubpa_rounds",)})
            AssocEnvParams(**{k: v for k, v in env.items() if k not in ("inner",)})
        except (TypeError, ValueError) as exc:
            raise bad(f"env: {exc}") from None
        lb, t, p, e = self.labels, self.train, self.ppo, self.evaluate
        checks = [
            (lb.seeds >= 2, "labels.seeds must be >= 2"),
            (lb.slots_per_seed >= 1, "labels.slots_per_seed must be >= 1"),
            (lb.n_perturb >= 0, "labels.n_perturb must be >= 0"),
            (lb.workers >= 1, "labels.workers must be >= 1"),
            (lb.backend in ("serial", "process", "ray"), "labels.backend must be serial, process or ray"),
            (t.epochs >= 1 and t.critic_epochs >= 1, "train.epochs and train.critic_epochs must be >= 1"),
            (t.lr > 0 and t.pos_weight > 0, "train.lr and train.pos_weight must be > 0"),
            (t.batch_size >= 1 and t.patience >= 1 and t.threads >= 1, "train.batch_size, patience, threads must be >= 1"),
            (0.0 < t.val_fraction < 0.5, "train.val_fraction must be in (0, 0.5)"),
            (t.d_model >= 4 and t.layers >= 1 and t.heads >= 1 and t.d_model % t.heads == 0,
             "train.d_model must be >= 4 and divisible by train.heads; train.layers >= 1"),
            (t.max_seconds is None or t.max_seconds > 0, "train.max_seconds must be > 0 or null"),
            (t.target in ("soft", "hard"), "train.target must be 'soft' or 'hard'"),
            (t.target_sharpness > 0, "train.target_sharpness must be > 0"),
            (p.init in ("bc", "scratch"), "ppo.init must be 'bc' or 'scratch'"),
            (p.total_timesteps >= 1 and p.n_steps >= 2 and p.batch_size >= 2 and p.n_epochs >= 1,
             "ppo.total_timesteps >= 1, n_steps >= 2, batch_size >= 2, n_epochs >= 1"),
            (p.chunk >= p.n_steps, "ppo.chunk must be >= ppo.n_steps"),
            (p.learning_rate > 0 and 0 <= p.gamma <= 1 and p.clip_range > 0 and p.ent_coef >= 0,
             "ppo: learning_rate > 0, clip_range > 0, ent_coef >= 0, gamma in [0, 1]"),
            (p.n_slots >= 1, "ppo.n_slots must be >= 1"),
            (e.env in BUILTIN_POLICIES, "evaluate.env must be 'select' or 'assoc'"),
            (e.backend in ("serial", "process", "ray"), "evaluate.backend must be serial, process or ray"),
            (e.seeds >= 2 and e.n_slots >= 1, "evaluate.seeds must be >= 2 and evaluate.n_slots >= 1"),
            (e.bootstrap >= 100 and e.wolpertinger_k >= 1 and e.workers >= 1,
             "evaluate.bootstrap >= 100, evaluate.wolpertinger_k >= 1, evaluate.workers >= 1"),
        ]
        for ok, msg in checks:
            if not ok:
                raise bad(msg)
        lo, hi = lb.seed_offset, lb.seed_offset + lb.seeds
        if lo < e.seed_offset + e.seeds and e.seed_offset < hi:
            raise bad(
                f"evaluate seeds [{e.seed_offset}, {e.seed_offset + e.seeds}) overlap the label seeds [{lo}, {hi})"
            )

    @property
    def env_kind(self) -> str:
        """``select`` for the selectors, ``assoc`` otherwise."""
        return "select" if self.agent.endswith("-select") else "assoc"

    @property
    def run_path(self) -> Path:
        """The run folder."""
        return Path(self.run_dir) / self.name

    def env_kwargs(self, kind: str, n_slots: int) -> dict[str, Any]:
        """Keyword arguments of the ``kind`` environment with ``n_slots`` slots."""
        drop = "jubpa_rounds" if kind == "select" else "inner"
        return {**{k: v for k, v in self.env.items() if k != drop}, "n_slots": int(n_slots)}

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the configuration."""
        return asdict(self)


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> MultiOrbitRunConfig:
    """Defaults <- YAML file <- ``--set`` overrides, checked against :class:`MultiOrbitRunConfig`."""
    from agents.families import load_family_config

    return load_family_config(MultiOrbitRunConfig, path, overrides)
