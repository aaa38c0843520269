"""Typed experiment configuration of the link-group family (``configs/experiments/linkgroup_*.yaml``).

Defaults <- YAML file <- dotted ``key=value`` overrides, merged with the suite's one override
syntax (:func:`leo_env.core.overrides.merge_overrides`): unknown keys and wrong types are
errors naming the closest valid key; interpolations/resolvers are refused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agents.linkgroup.learner import ALGOS, LearnerSettings

__all__ = ["EnvSettings", "TrainSettings", "EvalSettings", "LinkGroupRunConfig", "load_config"]


@dataclass
class EnvSettings:
    """The cell (``LinkGroupParams`` fields).

    Attributes
    ----------
    preset : str
        Cell preset (``tiny``, ``small``, ``k20``, ``k30``, ``k50``, ``k100``).
    layout_seed : int
        Cell layout of training (evaluation uses ``evaluate.layout_seeds``).
    served, data : str
        Objective form (``squared``/``linear``, ``normalised``/``raw``).
    observation : str
        ``paper`` (the paper's state, default) or ``rates`` (each link's current rate and the
        receivers' absolute / remaining demands appended; the env's ``observation`` option).
    """

    preset: str = "small"
    layout_seed: int = 0
    served: str = "squared"
    data: str = "normalised"
    observation: str = "paper"


@dataclass
class TrainSettings:
    """Training budget and schedule.

    Attributes
    ----------
    seed : int
        Seeds the weights, tasks, windows and minibatches.
    n_tasks : int
        Meta-training tasks (spec: 16 per scenario family), >= 1.
    tasks_per_episode : int
        Tasks ``M`` sampled per meta-episode (spec [C]: 8), in [1, n_tasks].
    meta_episodes : int
        Meta-episodes (emcl, emcl-nowolp: each plays one window of each of the ``M`` tasks with
        one update per slot; ac-maml: meta-iterations), >= 0.  ``ac-ddpg`` has no meta-training.
    maml_inner_lr : float
        AC-MAML inner (adaptation) step size, > 0.
    maml_windows : int
        AC-MAML: windows played per task and meta-iteration to fill the task's memory, >= 1.
    bc_windows : int
        OPT-labelled windows (hindsight OPT on the training tasks) for a behaviour-cloning warm
        start of actor and critic before meta-training (0: none; the paper has none), >= 0.
    bc_epsilon : float
        Share of BC data-collection slots that play a random neighbour of OPT's group, [0, 1].
    bc_steps : int
        Gradient steps of the BC warm start, >= 0.
    bc_teacher : str
        Who labels the BC samples: ``opt`` (hindsight OPT's schedule of the window: not causal)
        or ``rollout`` (the causal rollout search, ``RolloutPolicy``, at every visited state).
    teacher_samples : int
        Sampled channel paths per decision of the ``rollout`` teacher, >= 1.
    dagger_rounds : int
        ``rollout`` teacher only: DAgger rounds after the first BC fit, >= 0.  Round ``r`` plays
        ``dagger_windows`` windows where each slot is played by the student (its Wolpertinger
        choice) with probability ``1 - 0.5^r`` and by the teacher otherwise; every visited state
        is labelled with the teacher's group, added to the BC set, and the actor (and critic)
        are refitted for ``bc_steps // 2`` steps.
    dagger_windows : int
        Windows per DAgger round, >= 1.
    checkpoint_every : int
        Meta-episodes between checkpoints, >= 1.
    threads : int
        torch CPU threads, >= 1.
    max_seconds : float or None
        Training-time budget [s] over resumed runs too (None: none).
    """

    seed: int = 0
    n_tasks: int = 16
    tasks_per_episode: int = 8
    meta_episodes: int = 40
    maml_inner_lr: float = 0.01
    maml_windows: int = 1
    bc_windows: int = 0
    bc_epsilon: float = 0.3
    bc_steps: int = 2000
    bc_teacher: str = "opt"
    teacher_samples: int = 16
    dagger_rounds: int = 0
    dagger_windows: int = 40
    checkpoint_every: int = 5
    threads: int = 1
    max_seconds: float | None = None


@dataclass
class EvalSettings:
    """Evaluation (paired seeds: every policy on the same windows and streams).

    Attributes
    ----------
    seeds : int
        Held-out tasks of the windows evaluation, >= 0 (0 skips it; ``evaluate.py --seeds``).
    windows_per_task : int
        Consecutive windows played per held-out task (the first fills the context), >= 1.
    stream_seeds : int
        Task streams of the recovery evaluation (Figs. 4/7), >= 0.
    layout_seeds : list of int
        Cell layouts cycled over the streams.
    changes, interval : int
        Task changes per stream and slots between them (paper: 3, 200).
    bootstrap : int
        Bootstrap resamples of the paired-difference intervals, >= 1.
    opt_time_limit : float
        HiGHS time limit per window [s].
    workers : int
        Parallel workers over seeds (``leo_env.parallel.pmap``), >= 1.
    policies : list of str
        Default policies of ``evaluate.py`` (built-ins ``grd``, ``admm``, ``opt``, ``random``
        and experiment YAMLs of trained learners; the config's own learner is always included).
    out : str or None
        Output folder (None: ``results_dir/<name>``).
    fig8_updates : int
        Fig. 8 protocol: task updates (environment-information updates) of one stream per
        ``fig8_seeds``; 0 skips the part, else >= 2.
    fig8_windows : int
        Deadline windows per update cycle (20 windows x T = 10 slots = the paper's 200-slot
        interval), >= 1.
    fig8_every : int
        OPT (and every other policy) is scored on every ``fig8_every``-th window of a cycle;
        learners still play (and learn on) every window, in [1, fig8_windows].
    fig8_seeds : int
        Fig. 8 streams (each with its own layout from ``layout_seeds`` and event schedule), >= 1.
    fig8_search_updates : int
        The slow causal searches (``rollout``, ``saa``) are scored on the first
        ``fig8_search_updates`` updates only (0: all), compared with OPT on the same cycles, >= 0.
    fig8_admm_updates : int
        ADMM-HEU (``admm``) is scored on the first ``fig8_admm_updates`` updates only (0: all;
        its solve takes ~17 s per window at ``k50``), >= 0.
    rollout_samples, saa_samples : int
        Sampled channel paths per decision of the ``rollout`` (and ``rollout_ls``) / ``saa``
        (and ``la1``, ``la2``) built-ins, >= 1.
    rollout_ls_rounds : int
        Local-search rounds of the ``rollout_ls`` built-in, >= 1.
    """

    seeds: int = 20
    windows_per_task: int = 3
    stream_seeds: int = 8
    layout_seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    changes: int = 3
    interval: int = 200
    bootstrap: int = 1000
    opt_time_limit: float = 60.0
    workers: int = 1
    policies: list[str] = field(default_factory=lambda: ["grd", "admm", "opt"])
    out: str | None = None
    fig8_updates: int = 0
    fig8_windows: int = 20
    fig8_every: int = 5
    fig8_seeds: int = 1
    fig8_search_updates: int = 0
    fig8_admm_updates: int = 0
    rollout_samples: int = 16
    saa_samples: int = 4
    rollout_ls_rounds: int = 3


@dataclass
class LinkGroupRunConfig:
    """One learner trained on one cell, and how it is evaluated.

    Attributes
    ----------
    name : str
        Run name (folder under ``run_dir``).
    algo : str
        ``emcl``, ``emcl-nowolp``, ``ac-ddpg`` or ``ac-maml``.
    env : EnvSettings
    agent : LearnerSettings
    train : TrainSettings
    evaluate : EvalSettings
    run_dir : str
        Root of run folders.
    results_dir : str
        Where ``evaluate`` writes ``results.json`` and ``results.md``.
    """

    name: str = "emcl_small"
    algo: str = "emcl"
    env: EnvSettings = field(default_factory=EnvSettings)
    agent: LearnerSettings = field(default_factory=LearnerSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    evaluate: EvalSettings = field(default_factory=EvalSettings)
    run_dir: str = "runs/linkgroup"
    results_dir: str = "results/linkgroup"

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Validate every field (errors name the field and the allowed values)."""
        from leo_env.envs.linkgroup.params import LinkGroupParams

        if self.algo not in ALGOS:
            raise ValueError(f"algo = {self.algo!r} is not allowed: one of {ALGOS}")
        LinkGroupParams.build(preset=self.env.preset, layout_seed=self.env.layout_seed,
                              served=self.env.served, data=self.env.data, observation=self.env.observation)
        self.agent.check()
        t, e = self.train, self.evaluate
        if t.n_tasks < 1 or not 1 <= t.tasks_per_episode <= t.n_tasks:
            raise ValueError("train.n_tasks must be >= 1 and train.tasks_per_episode in [1, n_tasks]")
        if t.bc_teacher not in ("opt", "rollout"):
            raise ValueError(f"train.bc_teacher = {t.bc_teacher!r} is not allowed: 'opt' or 'rollout'")
        if t.teacher_samples < 1 or t.dagger_windows < 1:
            raise ValueError("train.teacher_samples and train.dagger_windows must be >= 1")
        if t.dagger_rounds > 0 and t.bc_teacher != "rollout":
            raise ValueError("train.dagger_rounds > 0 needs train.bc_teacher = 'rollout' (a causal teacher "
                             "that can label the student's states)")
        for name in ("meta_episodes", "bc_windows", "bc_steps", "dagger_rounds"):
            if getattr(t, name) < 0:
                raise ValueError(f"train.{name} = {getattr(t, name)} is out of range: allowed >= 0")
        if t.maml_windows < 1 or t.checkpoint_every < 1 or t.threads < 1:
            raise ValueError("train.maml_windows, checkpoint_every and threads must be >= 1")
        if not t.maml_inner_lr > 0 or not 0.0 <= t.bc_epsilon <= 1.0:
            raise ValueError("train.maml_inner_lr must be > 0 and train.bc_epsilon in [0, 1]")
        if e.seeds < 0 or e.windows_per_task < 1 or e.stream_seeds < 0 or e.bootstrap < 1:
            raise ValueError("evaluate.windows_per_task, bootstrap >= 1; evaluate.seeds, stream_seeds >= 0")
        if e.fig8_updates != 0 and e.fig8_updates < 2:
            raise ValueError(f"evaluate.fig8_updates = {e.fig8_updates} is out of range: 0 (off) or >= 2")
        if e.rollout_samples < 1 or e.saa_samples < 1 or e.rollout_ls_rounds < 1:
            raise ValueError("evaluate.rollout_samples, evaluate.saa_samples and evaluate.rollout_ls_rounds "
                             "must be >= 1")
        for key in ("fig8_search_updates", "fig8_admm_updates"):
            if getattr(e, key) < 0:
                raise ValueError(f"evaluate.{key} = {getattr(e, key)} is out of range: >= 0")
        if e.fig8_windows < 1 or not 1 <= e.fig8_every <= e.fig8_windows or e.fig8_seeds < 1:
            raise ValueError("evaluate.fig8_windows >= 1, evaluate.fig8_every in [1, fig8_windows], "
                             "evaluate.fig8_seeds >= 1")
        if not e.layout_seeds or e.changes < 1 or e.interval < 50 or e.workers < 1:
            raise ValueError("evaluate.layout_seeds non-empty, evaluate.changes >= 1, evaluate.interval >= 50, evaluate.workers >= 1")

    @property
    def run_path(self) -> Path:
        """The run folder."""
        return Path(self.run_dir) / self.name

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the configuration."""
        return asdict(self)


def load_config(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> LinkGroupRunConfig:
    """Defaults <- YAML (``family:`` tag dropped) <- ``key=value`` overrides, validated."""
    from agents.families import load_family_config

    cfg = load_family_config(LinkGroupRunConfig, path, overrides)
    assert isinstance(cfg, LinkGroupRunConfig)
    cfg.check()
    return cfg
