"""Typed experiment configuration shared by ``train.py`` and ``evaluate.py``.

An experiment YAML (``configs/experiments/<name>.yaml``) is plain data with the sections below.
It is loaded into the :class:`ExperimentConfig` dataclass tree with OmegaConf (structured
config: unknown keys and wrong types are errors), after merging, in this order:

1. the dataclass defaults;
2. the agent preset ``configs/agents/<agent.algo>.yaml`` when ``agent.preset`` is set
   (``agent.preset: bc_maskable_ppo``), so that hyperparameters live in one place;
3. the experiment file itself;
4. dotted command-line overrides (``--set agent.ppo.learning_rate=1e-4 env.preset=medium``).

Nothing is ever evaluated as code: every value is a number, string, list or mapping.

Example
-------
>>> cfg = load_experiment(None, ["env.preset=toy", "agent.algo=maskable_ppo"])
>>> cfg.env.preset, cfg.agent.algo
('toy', 'maskable_ppo')
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from leo_env.core.overrides import check_no_env_resolvers, merge_overrides

__all__ = [
    "EnvConfig",
    "PPOConfig",
    "WolpertingerConfig",
    "BCConfig",
    "LabelConfig",
    "AgentConfig",
    "TrainConfig",
    "BaselineConfig",
    "EvaluateConfig",
    "ExperimentConfig",
    "load_experiment",
    "to_yaml",
    "to_dict",
    "ROOT",
    "ALGORITHMS",
]

ROOT = Path(__file__).resolve().parents[1]
"""Repository root (where ``configs/`` lives)."""

ALGORITHMS = ("ppo", "maskable_ppo", "bc_maskable_ppo", "wolpertinger")
"""Algorithm names accepted by ``agent.algo`` (B3, B4, B5, Wolpertinger)."""


@dataclass
class EnvConfig:
    """Environment arguments (:class:`leo_env.envs.downlink.DownlinkEnv`).

    Attributes
    ----------
    preset : str
        Scenario preset name or YAML path (``toy``, ``medium``, ``stress``, ...).
    overrides : list of str
        Dotted scenario overrides (``["demand.scale=1.5"]``).
    n_candidates : int or None
        Candidate list length ``n`` per cell (None: ``min(S, 8)``).
    history : int
        Slots of demand history in the observation.
    lookahead : int
        Slots of look-ahead in the observation (forecasts and candidate geometry of slots
        ``k+1 .. k+lookahead``; 0: none; see :class:`leo_env.envs.downlink.DownlinkEnv`).
    predictor : str
        Demand predictor: ``ewma`` (default, causal), ``naive``, ``lstm`` (learned, frozen
        weights from ``predictor_weights``; see :mod:`agents.predictors`) or, declared
        explicitly, ``noisy-truth`` (a noisy oracle: the realised demand times a unit-mean error
        of std ``prediction_error``).
    prediction_error : float
        Relative standard deviation of the multiplicative forecast error (0.05 = 5 %).
    ewma_alpha : float
        Smoothing factor of the EWMA predictor.
    predictor_weights : str or None
        Weights file of the ``lstm`` predictor (None: ``runs/predictors/<preset>/lstm.pt``,
        trained on first use).
    mask_mode : str
        ``full`` (budget-safe masks) or ``basic``.
    satellite_ids : bool
        Append every candidate's satellite index to the agents' flat observation
        (:class:`agents.envs.ObsLayout`), so that networks can pool over the cells that compete
        for one satellite (the environment's candidate lists, known at decision time).
    allocator : str
        Inner P1 allocator: ``p1`` (exact, fast), ``cvx`` or ``equal`` (equal split, fast
        lower bound; used by the unit tests).
    n_scenarios : int or None
        Train on the first ``n_scenarios`` training seeds only (None: a fresh seed per episode).
    """

    preset: str = "toy"
    overrides: list[str] = field(default_factory=list)
    n_candidates: int | None = None
    history: int = 4
    lookahead: int = 0
    predictor: str = "ewma"
    prediction_error: float = 0.1
    ewma_alpha: float = 0.3
    predictor_weights: str | None = None
    mask_mode: str = "full"
    satellite_ids: bool = True
    allocator: str = "p1"
    n_scenarios: int | None = None


def env_key(cfg: EnvConfig) -> dict[str, Any]:
    """The fields of an :class:`EnvConfig` as a dict for cache keys (labels, partial results).

    Fields added after the first caches were written are left out while at their default, so
    those caches keep matching.
    """
    key = asdict(cfg)
    if not key["lookahead"]:
        del key["lookahead"]
    return key


@dataclass
class PPOConfig:
    """PPO hyperparameters (B3, B4, B5); names as in Stable-Baselines3.

    Attributes
    ----------
    learning_rate : float
        Adam step size.
    n_steps : int
        Environment steps per sub-environment per rollout.
    batch_size : int
        Minibatch size [transitions].
    n_epochs : int
        Passes over each rollout.
    gamma, gae_lambda : float
        Discount and GAE parameter (episodes are short and fixed: ``gamma`` near 1 is fine).
    clip_range : float
        PPO ratio clip.
    ent_coef, vf_coef : float
        Entropy bonus and value-loss weights.
    max_grad_norm : float
        Gradient clipping norm.
    target_kl : float or None
        Early stop of an update's epochs when the KL exceeds this.
    normalize_advantage : bool
        Standardise advantages per minibatch.
    """

    learning_rate: float = 3e-4
    n_steps: int = 64
    batch_size: int = 256
    n_epochs: int = 5
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    target_kl: float | None = None
    normalize_advantage: bool = True


@dataclass
class WolpertingerConfig:
    """Wolpertinger (TD3 over a proto-action + exact k-NN over valid joint actions).

    Attributes
    ----------
    k : int
        Nearest valid joint actions the critic chooses from (acting and targets).
    embedding : str
        Candidate embedding: ``onehot`` (proto-action = a score per candidate) or ``scalar``.
    learning_rate : float
        Adam step size of actor and critic.
    buffer_size : int
        Replay buffer capacity [transitions].
    learning_starts : int
        Warm-up steps with uniformly random *valid* actions.
    batch_size : int
        Minibatch size.
    tau : float
        Polyak factor of the target networks.
    gamma : float
        Discount.
    train_freq : int
        Vector-environment steps between updates.
    gradient_steps : int
        Gradient steps per update.
    policy_delay : int
        Critic updates per actor update.
    action_noise : float
        Std of the Gaussian exploration noise on the proto-action (in [-1, 1] units).
    target_policy_noise, target_noise_clip : float
        TD3 target smoothing on the target proto-action.
    """

    k: int = 8
    embedding: str = "onehot"
    learning_rate: float = 3e-4
    buffer_size: int = 100_000
    learning_starts: int = 2_000
    batch_size: int = 128
    tau: float = 0.005
    gamma: float = 0.99
    train_freq: int = 1
    gradient_steps: int = 1
    policy_delay: int = 2
    action_noise: float = 0.3
    target_policy_noise: float = 0.2
    target_noise_clip: float = 0.5


@dataclass
class BCConfig:
    """Behaviour cloning on oracle labels (B5) before and during masked PPO.

    Attributes
    ----------
    epochs : int
        Passes over the label set before reinforcement learning.
    batch_size : int
        Minibatch size [decision slots].
    learning_rate : float
        Adam step size of the pretraining.
    value_pretrain : bool
        Also fit the value head to the oracle trajectories' discounted returns, so that PPO
        starts with a critic that matches the cloned policy.
    loss_coef : float
        Weight of the BC cross-entropy kept during PPO (0: pure PPO after pretraining).
    loss_decay_steps : int
        Environment steps over which that weight decays linearly to 0.
    loss_batches : int
        BC minibatches after every PPO update while the weight is positive.
    dagger_rounds : int
        DAgger rounds after the first cloning (0: plain BC).  Each round plays the current
        policy on ``dagger_seeds`` new training scenarios, labels every visited state with the
        hindsight expert re-planned from that state (P2 on the realised arrivals of the rest of
        the episode, current association and budgets left), adds the rows to the data and
        trains ``dagger_epochs`` more passes; see :mod:`agents.dagger`.
    dagger_seeds : int
        New scenarios per round (seeds after the label seeds, disjoint across rounds).
    dagger_epochs : int
        Passes over the aggregated data after each round.
    """

    epochs: int = 30
    batch_size: int = 256
    learning_rate: float = 1e-3
    value_pretrain: bool = True
    loss_coef: float = 1.0
    loss_decay_steps: int = 50_000
    loss_batches: int = 4
    dagger_rounds: int = 0
    dagger_seeds: int = 64
    dagger_epochs: int = 10


@dataclass
class LabelConfig:
    """Oracle labels for behaviour cloning: an expert's episodes replayed on training seeds.

    Attributes
    ----------
    n_seeds : int
        Training scenarios labelled (seeds ``first_seed .. first_seed + n_seeds - 1`` of the
        training split).
    first_seed : int
        First scenario seed.
    workers : int
        Worker processes (``process``) or concurrent tasks (``ray``).
    backend : str
        Where the shards run: ``serial``, ``process`` (default) or ``ray``
        (:func:`leo_env.parallel.pmap`); the labels are the same on every backend.
    address : str or None
        Ray cluster address (``ray`` backend; None: a local cluster).
    shard_size : int
        Scenarios per shard file.
    expert : str
        ``hindsight``: B1, P2 solved once on the realised arrivals (clairvoyant); ``mpc``: B2,
        P2 re-solved every slot on the environment's forecasts (causal: its choice is a
        function of what the agent observes plus the known orbits).
    window : int or None
        Planning horizon [slots] of the ``mpc`` expert (None: to the end of the episode).
    method, proxy : str
        P2 solver and capacity proxy of the expert (as in B1 / B2).
    options : dict
        Extra options of :func:`oracles.p2.solve` (``time_limit``, ...).
    cache_dir : str
        Root of the on-disk label cache; a subfolder per (environment, oracle) fingerprint.
    """

    n_seeds: int = 64
    first_seed: int = 0
    workers: int = 2
    backend: str = "process"
    address: str | None = None
    shard_size: int = 8
    expert: str = "hindsight"
    window: int | None = None
    method: str = "lagrangian"
    proxy: str = "coupled"
    options: dict[str, Any] = field(default_factory=dict)
    cache_dir: str = "runs/labels"


@dataclass
class AgentConfig:
    """Which learning agent, its network and its algorithm's hyperparameters.

    Attributes
    ----------
    algo : str
        ``ppo`` (B3, no masks), ``maskable_ppo`` (B4), ``bc_maskable_ppo`` (B5) or
        ``wolpertinger``.
    preset : str or None
        Agent preset merged under the experiment: ``configs/agents/<preset>.yaml``.
    policy : str
        ``candidate`` (shared per-candidate scorer, permutation-equivariant over cells; works
        for any number of cells) or ``mlp`` (SB3's MLP over the flat observation; PPO only).
    hidden : int
        Width of the hidden layers.
    ppo : PPOConfig
    wolpertinger : WolpertingerConfig
    bc : BCConfig
    labels : LabelConfig
    """

    algo: str = "maskable_ppo"
    preset: str | None = None
    policy: str = "candidate"
    hidden: int = 64
    ppo: PPOConfig = field(default_factory=PPOConfig)
    wolpertinger: WolpertingerConfig = field(default_factory=WolpertingerConfig)
    bc: BCConfig = field(default_factory=BCConfig)
    labels: LabelConfig = field(default_factory=LabelConfig)


@dataclass
class TrainConfig:
    """Training loop, logging and checkpoints.

    Attributes
    ----------
    total_timesteps : int
        Environment steps (slow slots summed over sub-environments).
    n_envs : int
        Sub-environments of the batched training environment.
    eval_freq : int
        Environment steps between validation evaluations (0: none).
    eval_episodes : int
        Validation scenarios (fixed training-split seeds at the top of the range, never the
        held-out evaluation seeds).
    checkpoint_freq : int
        Environment steps between checkpoints (0: only the final one).
    keep_checkpoints : int
        Checkpoints kept on disk (oldest deleted first).
    final_eval_episodes : int
        Held-out scenarios of the final summary (``final_eval.json``; 0: skip).
    progress_bar : bool
        Show a progress bar (tqdm/rich).
    torch_threads : int
        ``torch.set_num_threads`` for training.
    device : str
        Torch device.
    runs_dir : str
        Parent folder of run folders.
    verbose : int
        SB3 verbosity.
    tracking : str
        Experiment tracking next to TensorBoard: ``none``, ``mlflow`` or ``wandb`` (optional
        extras of the same names; :mod:`agents.tracking`).
    tracking_project : str
        MLflow experiment / W&B project name.
    tracking_uri : str or None
        MLflow tracking URI (None: MLflow's default or ``MLFLOW_TRACKING_URI``).
    """

    total_timesteps: int = 20_000
    n_envs: int = 8
    eval_freq: int = 5_000
    eval_episodes: int = 8
    checkpoint_freq: int = 10_000
    keep_checkpoints: int = 3
    final_eval_episodes: int = 10
    progress_bar: bool = True
    torch_threads: int = 1
    device: str = "cpu"
    runs_dir: str = "runs"
    verbose: int = 0
    tracking: str = "none"
    tracking_project: str = "apex"
    tracking_uri: str | None = None


@dataclass
class BaselineConfig:
    """Options of an optimisation baseline (B1 or B2) in the evaluation.

    Attributes
    ----------
    method, proxy : str
        P2 solver and capacity proxy.
    window : int or None
        MPC planning horizon [slots] (B2 only; None: to the end of the episode).
    options : dict
        Extra options of :func:`oracles.p2.solve`.
    """

    method: str = "lagrangian"
    proxy: str = "coupled"
    window: int | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvaluateConfig:
    """Paired evaluation on held-out scenario seeds (``seed_split="eval"``).

    Attributes
    ----------
    policies : list of str
        ``b0``, ``b1``, ``b2``, ``random``, run folders or checkpoint files.
    seeds : int
        Paired held-out scenarios (the first ``seeds`` seeds of the evaluation split).
    prediction_errors : list of float
        Forecast error levels; every policy plays every seed at every level.
    out : str
        Output folder (``results.json``, ``results.md``, ``results.csv``, plots).
    deterministic : bool
        Agents act greedily (argmax of the masked policy).
    decode : list of str
        How the (deterministic) agents pick their joint action; each agent is evaluated once
        per entry: ``argmax`` (per-cell masked argmax) and/or ``search`` (the argmax improved by
        :func:`agents.search.local_search` on the slot's coupled capacity proxy; label ``+LS``).
    search_delta : float
        Logit window of the search: candidates within ``search_delta`` of a cell's best logit.
    search_passes : int
        Sweeps over the cells of the search.
    wilcoxon_pairs : list of str
        Pairs ``"A:B"`` of policy labels to test; empty: every agent against B0, B1 and B2.
    b1, b2 : BaselineConfig
        Oracle options of the hindsight and MPC baselines.
    plots : bool
        Write the PNG plots.
    backend : str
        Where the (policy, level, seed) episodes run: ``serial`` (default: clean decision
        times), ``process`` or ``ray`` (:func:`leo_env.parallel.pmap`; metrics other than the
        timings are identical on every backend).
    workers : int or None
        Parallel workers (None: the backend's default).
    address : str or None
        Address of an existing Ray cluster (``ray`` backend only).
    """

    policies: list[str] = field(default_factory=lambda: ["b0", "b1", "b2"])
    seeds: int = 20
    prediction_errors: list[float] = field(default_factory=lambda: [0.05, 0.1, 0.2])
    out: str = "results/eval"
    deterministic: bool = True
    decode: list[str] = field(default_factory=lambda: ["argmax"])
    search_delta: float = 3.0
    search_passes: int = 2
    wilcoxon_pairs: list[str] = field(default_factory=list)
    b1: BaselineConfig = field(default_factory=BaselineConfig)
    b2: BaselineConfig = field(default_factory=BaselineConfig)
    plots: bool = True
    backend: str = "serial"
    workers: int | None = None
    address: str | None = None


@dataclass
class ExperimentConfig:
    """One experiment: environment, agent, training and evaluation.

    Attributes
    ----------
    family : str
        The family this experiment belongs to (:mod:`agents.families`); ``downlink`` here.
    name : str
        Experiment name (used in default output paths).
    seed : int
        Master seed: SB3's seed (torch, action sampling) and the training environments'
        seeds (sub-environment ``i`` gets ``seed + i``).
    env : EnvConfig
    agent : AgentConfig
    train : TrainConfig
    evaluate : EvaluateConfig
    """

    family: str = "downlink"
    name: str = "experiment"
    seed: int = 0
    env: EnvConfig = field(default_factory=EnvConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)


def resolve_path(path: str | os.PathLike[str]) -> Path:
    """A config path: as given when it exists (or is absolute), else relative to the repository."""
    p = Path(path)
    if p.exists() or p.is_absolute():
        return p
    return ROOT / p


def _agent_preset_path(name: str) -> Path:
    p = Path(name)
    if p.suffix in (".yaml", ".yml"):
        return resolve_path(p)
    return ROOT / "configs" / "agents" / f"{name}.yaml"


def load_experiment(
    path: str | os.PathLike[str] | None = None,
    overrides: list[str] | None = None,
) -> ExperimentConfig:
    """Load an experiment YAML (or just defaults) with dotted overrides into typed config.

    Parameters
    ----------
    path : str or path, optional
        Experiment YAML; relative paths are tried from the working directory, then from the
        repository root.  None: defaults only.
    overrides : list of str, optional
        Dotted ``key=value`` assignments applied last (OmegaConf dotlist syntax).

    Returns
    -------
    ExperimentConfig

    Raises
    ------
    FileNotFoundError
        The file or the agent preset does not exist.
    leo_env.core.overrides.OverrideError
        Unknown key (the message names the closest valid one) or value of the wrong type.
    """
    layers: list[Any] = []
    where = ""
    if path is not None:
        p = resolve_path(path)
        if not p.exists():
            raise FileNotFoundError(f"experiment config {path} not found")
        check_no_env_resolvers(p.read_text(), str(path))
        layers.append(OmegaConf.load(p))
        where = str(path)
    cli = OmegaConf.from_dotlist([o for o in (overrides or []) if "=" in o])
    # the agent preset: from the CLI, else from the file
    preset = OmegaConf.select(cli, "agent.preset", default=None)
    if preset is None and layers:
        preset = OmegaConf.select(layers[0], "agent.preset", default=None)
    if preset:
        pp = _agent_preset_path(str(preset))
        if not pp.exists():
            raise FileNotFoundError(f"agent preset {preset!r} not found at {pp}")
        layers.insert(0, OmegaConf.create({"agent": OmegaConf.load(pp)}))
    obj: object = merge_overrides(ExperimentConfig, layers, list(overrides or []), where=where)
    assert isinstance(obj, ExperimentConfig)
    validate(obj)
    return obj


def validate(cfg: ExperimentConfig) -> None:
    """Raise ``ValueError`` on values the types cannot express (names, ranges)."""
    if cfg.family != "downlink":
        raise ValueError(f"family must be 'downlink' for this config type, got {cfg.family!r}")
    if cfg.agent.algo not in ALGORITHMS:
        raise ValueError(f"agent.algo must be one of {ALGORITHMS}, got {cfg.agent.algo!r}")
    if cfg.agent.policy not in ("candidate", "mlp"):
        raise ValueError(f"agent.policy must be 'candidate' or 'mlp', got {cfg.agent.policy!r}")
    if cfg.agent.algo == "wolpertinger" and cfg.agent.policy != "candidate":
        raise ValueError("wolpertinger needs agent.policy=candidate")
    if cfg.env.predictor not in ("noisy-truth", "naive", "ewma", "lstm"):
        raise ValueError(f"env.predictor must be noisy-truth, naive, ewma or lstm, got {cfg.env.predictor!r}")
    if not 0 <= cfg.env.lookahead <= 64:
        raise ValueError(f"env.lookahead must be in [0, 64] slots, got {cfg.env.lookahead}")
    if cfg.train.tracking not in ("none", "mlflow", "wandb"):
        raise ValueError(f"train.tracking must be none, mlflow or wandb, got {cfg.train.tracking!r}")
    if cfg.train.n_envs < 1 or cfg.train.total_timesteps < 1:
        raise ValueError("train.n_envs and train.total_timesteps must be >= 1")
    if cfg.agent.wolpertinger.k < 1:
        raise ValueError("agent.wolpertinger.k must be >= 1")
    if cfg.agent.wolpertinger.embedding not in ("onehot", "scalar"):
        raise ValueError("agent.wolpertinger.embedding must be 'onehot' or 'scalar'")
    ev = cfg.evaluate
    bad = [d for d in ev.decode if d not in ("argmax", "search")]
    if bad or not ev.decode:
        raise ValueError(f"evaluate.decode entries must be 'argmax' or 'search' (at least one), got {ev.decode}")
    if not ev.search_delta >= 0:
        raise ValueError(f"evaluate.search_delta must be >= 0, got {ev.search_delta}")
    if ev.search_passes < 1:
        raise ValueError(f"evaluate.search_passes must be >= 1, got {ev.search_passes}")
    if "search" in ev.decode and not ev.deterministic:
        raise ValueError("evaluate.decode=search needs evaluate.deterministic=true")
    if ev.backend not in ("serial", "process", "ray"):
        raise ValueError(f"evaluate.backend must be serial, process or ray, got {ev.backend!r}")
    if ev.workers is not None and ev.workers < 1:
        raise ValueError(f"evaluate.workers must be >= 1 or null, got {ev.workers}")
    lab = cfg.agent.labels
    if lab.backend not in ("serial", "process", "ray"):
        raise ValueError(f"agent.labels.backend must be serial, process or ray, got {lab.backend!r}")
    if lab.expert not in ("hindsight", "mpc"):
        raise ValueError(f"agent.labels.expert must be 'hindsight' or 'mpc', got {lab.expert!r}")
    if lab.window is not None and lab.window < 1:
        raise ValueError(f"agent.labels.window must be >= 1 slot or null, got {lab.window}")
    bc = cfg.agent.bc
    for name in ("dagger_rounds", "dagger_epochs"):
        if getattr(bc, name) < 0:
            raise ValueError(f"agent.bc.{name} must be >= 0, got {getattr(bc, name)}")
    if bc.dagger_seeds < 1:
        raise ValueError(f"agent.bc.dagger_seeds must be >= 1, got {bc.dagger_seeds}")


def to_dict(cfg: ExperimentConfig) -> dict[str, Any]:
    """Plain nested dict of a config (for JSON and YAML)."""
    out = OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)
    assert isinstance(out, dict)
    return out  # type: ignore[return-value]


def to_yaml(cfg: ExperimentConfig) -> str:
    """YAML text of a resolved config (what a run folder stores as ``config.yaml``)."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))
