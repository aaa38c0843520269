"""RLlib adapter: PPO configs for any registered env id and for the PettingZoo view.

RLlib (``pip install -e .[rllib]``, which pins gymnasium 1.2.2: use a separate virtual
environment, ``python3 tasks.py test-rllib`` builds ``.venv-rllib``) is imported lazily inside
the functions of this module: importing :mod:`agents.rllib` loads neither ray nor RLlib.

Single agent (:func:`ppo_config`): the env runners build the environment through RLlib's
``gym_env_vectorize_mode``:

- ``"vector_entry_point"`` (default, "native"): the id's registered vector env
  (``gym.make_vec(id, num_envs, vectorization_mode="vector_entry_point")``, one numpy batch per
  step) wrapped by :class:`FlattenMaskVector`;
- ``"sync"`` / ``"async"``: Gymnasium's ``SyncVectorEnv`` / ``AsyncVectorEnv`` over scalar envs
  wrapped by :class:`FlattenMask` (the comparison baseline).

Both wrappers turn the observation into ``Dict(observations=<flat float32 Box>,
action_mask=<Box(0, 1, (A,))>)`` where ``A`` is the number of logits of the discrete action space
(``sum(nvec)`` for ``MultiDiscrete``) and the mask comes from the env's ``action_masks()``
(flat, one block of candidates per component, the order of RLlib's multi-categorical logits).
The RL module is :class:`MaskedPPOTorchRLModule` (RLlib's new API stack): RLlib's default PPO
encoder and heads on the flat features, with the logits of masked actions set to the lowest
float so they are never sampled.  Envs without ``action_masks()`` or with a continuous action
space get the flat ``Box`` observation and RLlib's default PPO module.

Multi-agent (:func:`multi_agent_ppo_config`): the downlink PettingZoo view
(:func:`leo_env.parallel_env`, one agent per cell, ``Dict(observation, action_mask)`` per
agent) through RLlib's ``ParallelPettingZooEnv``; one policy shared by every cell (parameter
sharing) or one per cell.

Examples
--------
>>> from agents.rllib import ppo_config
>>> algo = ppo_config("leo_env/Downlink-toy-v0", env_kwargs={"allocator": "equal"}).build_algo()
... # doctest: +SKIP
>>> result = algo.train()  # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import batch_space

__all__ = [
    "FlattenMask",
    "FlattenMaskVector",
    "VECTORIZE_MODES",
    "env_returns",
    "make_rllib_env",
    "make_rllib_multi_agent_env",
    "masked_module_class",
    "multi_agent_ppo_config",
    "ppo_config",
    "sampled_steps",
    "time_iterations",
    "train_until",
]

VECTORIZE_MODES = ("vector_entry_point", "sync", "async")
"""Accepted ``vectorize`` values of :func:`ppo_config` (``"native"`` is an alias of the first)."""

SINGLE_AGENT_ENV = "apex-rllib-single-agent"
"""Name under which :func:`ppo_config` registers :func:`make_rllib_env` with RLlib."""
MULTI_AGENT_ENV = "apex-rllib-multi-agent"
"""Name under which :func:`multi_agent_ppo_config` registers :func:`make_rllib_multi_agent_env`."""
MASK_KEY = "action_mask"
FEATURES_KEY = "observations"


# ---------------------------------------------------------------------------- observation wrappers
def _mask_size(action_space: gym.Space[Any]) -> int | None:
    """Number of logits of a discrete action space (None for any other space)."""
    if isinstance(action_space, spaces.Discrete):
        return int(action_space.n)
    if isinstance(action_space, spaces.MultiDiscrete) and action_space.nvec.ndim == 1:
        return int(action_space.nvec.sum())
    return None


def _flat_box(space: gym.Space[Any]) -> spaces.Box:
    """The flattened float32 ``Box`` of ``space`` (raises a clear error when it is not flattenable)."""
    try:
        flat = spaces.flatten_space(space)
    except NotImplementedError as err:
        raise TypeError(f"observation space {space} cannot be flattened for RLlib: {err}") from None
    if not isinstance(flat, spaces.Box):
        raise TypeError(f"observation space {space} does not flatten to a Box (got {flat})")
    return spaces.Box(flat.low.astype(np.float32), flat.high.astype(np.float32), dtype=np.float32)


def _out_space(flat: spaces.Box, n_mask: int | None) -> gym.Space[Any]:
    if n_mask is None:
        return flat
    return spaces.Dict(
        {FEATURES_KEY: flat, MASK_KEY: spaces.Box(0.0, 1.0, (n_mask,), dtype=np.float32)}
    )


def _has_masks(env: Any) -> bool:
    return callable(getattr(env.unwrapped, "action_masks", None))


class FlattenMask(gym.ObservationWrapper[Any, Any, Any]):
    """Scalar env -> ``Dict(observations=flat Box, action_mask=Box)`` (or the flat ``Box`` alone).

    Parameters
    ----------
    env : gymnasium.Env
        Any environment whose observation space flattens to a ``Box``.
    mask : bool or None
        Add the ``action_mask`` entry (from ``env.unwrapped.action_masks()``).  ``None``: when the
        env has ``action_masks()`` and a ``Discrete`` / ``MultiDiscrete`` action space.
    """

    def __init__(self, env: gym.Env[Any, Any], mask: bool | None = None) -> None:
        super().__init__(env)
        n_mask = _mask_size(env.action_space)
        if mask is None:
            mask = n_mask is not None and _has_masks(env)
        if mask and n_mask is None:
            raise ValueError(f"mask=True needs a Discrete or MultiDiscrete action space, got {env.action_space}")
        self._inner = env.observation_space
        self._n_mask = n_mask if mask else None
        self._masks = getattr(env.unwrapped, "action_masks", None)
        if mask and not callable(self._masks):
            raise ValueError("mask=True needs an env with action_masks()")
        self.observation_space = _out_space(_flat_box(self._inner), self._n_mask)

    def observation(self, observation: Any) -> Any:
        """Flatten the observation and attach the current action mask."""
        flat = np.asarray(spaces.flatten(self._inner, observation), dtype=np.float32)
        if self._n_mask is None:
            return flat
        assert self._masks is not None
        m = np.asarray(self._masks(), dtype=np.float32).ravel()
        if m.shape != (self._n_mask,):
            raise ValueError(f"action_masks() has shape {m.shape}, the action space needs ({self._n_mask},)")
        return {FEATURES_KEY: flat, MASK_KEY: m}


class FlattenMaskVector(gym.vector.VectorObservationWrapper):
    """The native vector env's batched observation as RLlib's masked ``Dict`` (see :class:`FlattenMask`).

    ``Dict`` observations are flattened entry by entry (each entry reshaped to
    ``(num_envs, -1)``, in the order of the space, as :func:`gymnasium.spaces.flatten`); other
    spaces are flattened row by row.
    """

    def __init__(self, env: gym.vector.VectorEnv, mask: bool | None = None) -> None:
        super().__init__(env)
        single = env.single_observation_space
        n_mask = _mask_size(env.single_action_space)
        if mask is None:
            mask = n_mask is not None and _has_masks(env)
        if mask and n_mask is None:
            raise ValueError(
                f"mask=True needs a Discrete or MultiDiscrete action space, got {env.single_action_space}"
            )
        self._inner = single
        self._n_mask = n_mask if mask else None
        self._masks = getattr(env.unwrapped, "action_masks", None)
        if mask and not callable(self._masks):
            raise ValueError("mask=True needs an env with action_masks()")
        self._keys: list[str] | None = None  # Dict of arrays: flattened entry by entry
        if isinstance(single, spaces.Dict) and all(
            isinstance(sub, (spaces.Box, spaces.MultiBinary)) for sub in single.spaces.values()
        ):
            self._keys = list(single.spaces)
        self.single_observation_space = _out_space(_flat_box(single), self._n_mask)
        self.observation_space = batch_space(self.single_observation_space, env.num_envs)

    def observations(self, observations: Any) -> Any:
        """Flatten every row and attach the (num_envs, A) action masks."""
        B = self.num_envs  # noqa: N806
        if self._keys is not None:
            flat = np.concatenate(
                [np.asarray(observations[k], dtype=np.float32).reshape(B, -1) for k in self._keys],
                axis=1,
            )
        elif isinstance(self._inner, spaces.Box):
            flat = np.asarray(observations, dtype=np.float32).reshape(B, -1)
        else:
            rows = gym.vector.utils.iterate(self.env.observation_space, observations)
            flat = np.stack([np.asarray(spaces.flatten(self._inner, row)) for row in rows]).astype(np.float32)
        if self._n_mask is None:
            return flat
        assert self._masks is not None
        m = np.asarray(self._masks(), dtype=np.float32).reshape(B, -1)
        if m.shape[1] != self._n_mask:
            raise ValueError(f"action_masks() has {m.shape[1]} columns, the action space needs {self._n_mask}")
        return {FEATURES_KEY: flat, MASK_KEY: m}


def make_rllib_env(config: Mapping[str, Any]) -> gym.Env[Any, Any] | gym.vector.VectorEnv:
    """RLlib env creator: a wrapped scalar env, or the wrapped native vector env.

    Parameters
    ----------
    config : Mapping
        ``env_id`` (registered id), ``env_kwargs`` (constructor keywords), ``mask`` (see
        :class:`FlattenMask`) and, when RLlib asks for the vector entry point, ``num_envs``.
    """
    import leo_env.envs  # noqa: F401  (registers the ids in this process, e.g. a remote worker)

    if "env_id" not in config:
        raise ValueError("env_config must name the environment: env_config['env_id']")
    env_id, kwargs = str(config["env_id"]), dict(config.get("env_kwargs") or {})
    mask = config.get("mask")
    if "num_envs" in config:
        vec = gym.make_vec(
            env_id, num_envs=int(config["num_envs"]), vectorization_mode="vector_entry_point", **kwargs
        )
        return FlattenMaskVector(vec, mask=mask)
    return FlattenMask(gym.make(env_id, **kwargs), mask=mask)


# ---------------------------------------------------------------------------- masking RL module
_MODULE_CLASS: type | None = None


def masked_module_class() -> type:
    """The masking PPO RL module class, ``agents.rllib.MaskedPPOTorchRLModule``.

    Defined on first use (ray and RLlib are imported only here); later calls and the module
    attribute return the same class, so RLlib pickles it by reference.
    """
    global _MODULE_CLASS
    if _MODULE_CLASS is not None:
        return _MODULE_CLASS
    import torch
    from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import DefaultPPOTorchRLModule
    from ray.rllib.core.columns import Columns

    class MaskedPPOTorchRLModule(DefaultPPOTorchRLModule):
        """RLlib's default PPO module on the features, masked logits (``-inf``-like) for masked actions.

        The observation space must be a ``Dict`` with an ``action_mask`` entry (1 = allowed, one
        entry per logit) and exactly one other entry, the flat features the encoder reads.
        """

        def __init__(self, *, observation_space: gym.Space[Any] | None = None, **kwargs: Any) -> None:
            if not isinstance(observation_space, spaces.Dict) or MASK_KEY not in observation_space.spaces:
                raise ValueError(
                    f"MaskedPPOTorchRLModule needs a Dict observation space with an '{MASK_KEY}' "
                    f"entry, got {observation_space}"
                )
            others = [k for k in observation_space.spaces if k != MASK_KEY]
            if len(others) != 1:
                raise ValueError(
                    f"observation space needs exactly one entry besides '{MASK_KEY}', got {others}"
                )
            self._features_key = others[0]
            self._full_space = observation_space
            super().__init__(observation_space=observation_space[others[0]], **kwargs)
            self.observation_space = observation_space

        def _split(self, batch: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
            obs = batch[Columns.OBS]
            out = dict(batch)
            out[Columns.OBS] = obs[self._features_key]
            return obs[MASK_KEY], out

        def _masked(self, out: dict[str, Any], mask: Any) -> dict[str, Any]:
            logits = out[Columns.ACTION_DIST_INPUTS]
            low = torch.finfo(logits.dtype).min
            out[Columns.ACTION_DIST_INPUTS] = logits.masked_fill(mask < 0.5, low)
            return out

        def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            mask, inner = self._split(batch)
            return self._masked(super()._forward(inner, **kwargs), mask)

        def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            mask, inner = self._split(batch)
            return self._masked(super()._forward_train(inner, **kwargs), mask)

        def compute_values(self, batch: dict[str, Any], embeddings: Any = None) -> Any:
            if embeddings is None and isinstance(batch[Columns.OBS], Mapping):
                _, batch = self._split(batch)
            return super().compute_values(batch, embeddings)

    MaskedPPOTorchRLModule.__module__ = __name__
    MaskedPPOTorchRLModule.__qualname__ = "MaskedPPOTorchRLModule"
    _MODULE_CLASS = MaskedPPOTorchRLModule
    return MaskedPPOTorchRLModule


def __getattr__(name: str) -> Any:
    # PEP 562: ``agents.rllib.MaskedPPOTorchRLModule`` is built (and ray imported) on first access;
    # pickling by reference finds the same class object again.
    if name == "MaskedPPOTorchRLModule":
        return masked_module_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------- configs
def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if int(value) < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")


def _model_config(hidden: tuple[int, ...]) -> dict[str, Any]:
    return {"fcnet_hiddens": list(hidden), "fcnet_activation": "tanh", "vf_share_layers": False}


def ppo_config(
    env_id: str = "leo_env/Downlink-toy-v0",
    *,
    env_kwargs: Mapping[str, Any] | None = None,
    vectorize: str = "vector_entry_point",
    num_envs: int = 4,
    num_env_runners: int = 0,
    train_batch_size: int = 512,
    minibatch_size: int = 128,
    num_epochs: int = 4,
    lr: float = 3e-4,
    hidden: tuple[int, ...] = (64, 64),
    mask: bool | None = None,
    seed: int = 0,
) -> Any:
    """An RLlib ``PPOConfig`` (new API stack) for a registered env id.

    Parameters
    ----------
    env_id : str
        Any registered id whose observation flattens to a ``Box`` (``import leo_env.envs``) and
        whose action space is ``Discrete``, 1-D ``MultiDiscrete`` or a 1-D ``Box`` (a
        multi-dimensional ``Box``, as ``LislRouting-v0``'s, raises ``ValueError``).
    env_kwargs : Mapping, optional
        Constructor keywords of the env (e.g. ``{"allocator": "equal"}``).
    vectorize : {"vector_entry_point", "native", "sync", "async"}
        How each env runner batches its ``num_envs`` environments (module docstring).
    num_envs : int
        Environments per env runner.
    num_env_runners : int
        Remote env runners (0: sample in the driver process).
    train_batch_size : int
        Env steps per training iteration.
    minibatch_size, num_epochs, lr : int, int, float
        PPO's SGD settings.
    hidden : tuple of int
        Hidden layer sizes of the policy and value networks.
    mask : bool or None
        Masked module (None: whenever the env has ``action_masks()`` and a discrete action space).
    seed : int
        RLlib's seed (env runners reset their envs from it).

    Returns
    -------
    ray.rllib.algorithms.ppo.PPOConfig
        Call ``.build_algo()`` and ``.train()``.
    """
    import gymnasium as gym_mod
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.tune.registry import register_env

    mode = "vector_entry_point" if vectorize == "native" else vectorize
    if mode not in VECTORIZE_MODES:
        raise ValueError(f"vectorize must be one of native, {', '.join(VECTORIZE_MODES)}; got {vectorize!r}")
    _check_positive(num_envs=num_envs, train_batch_size=train_batch_size,
                    minibatch_size=minibatch_size, num_epochs=num_epochs)
    if num_env_runners < 0:
        raise ValueError(f"num_env_runners must be >= 0, got {num_env_runners}")
    import leo_env.envs  # noqa: F401

    if env_id not in gym_mod.registry:
        raise ValueError(f"env_id {env_id!r} is not registered (import leo_env.envs registers the suite's ids)")
    env_config = {"env_id": env_id, "env_kwargs": dict(env_kwargs or {}), "mask": mask}
    probe = make_rllib_env(env_config)  # fails here, not in a worker, when the env does not fit
    masked = isinstance(probe.observation_space, spaces.Dict)
    act = probe.action_space
    probe.close()
    if isinstance(act, spaces.Box) and len(act.shape) > 1:
        raise ValueError(
            f"{env_id}: RLlib's default PPO modules need a 1-D action space, got Box{act.shape}; "
            "reshape the action with a gymnasium ActionWrapper first"
        )
    register_env(SINGLE_AGENT_ENV, make_rllib_env)
    config = (
        PPOConfig()
        .environment(env=SINGLE_AGENT_ENV, env_config=env_config)
        .env_runners(
            num_env_runners=num_env_runners,
            num_envs_per_env_runner=num_envs,
            gym_env_vectorize_mode=gym_mod.VectorizeMode(mode),
            rollout_fragment_length="auto",
        )
        .learners(num_learners=0)
        .training(
            train_batch_size_per_learner=train_batch_size,
            minibatch_size=minibatch_size,
            num_epochs=num_epochs,
            lr=lr,
        )
        .debugging(seed=seed)
    )
    if masked:
        config = config.rl_module(
            rl_module_spec=RLModuleSpec(
                module_class=masked_module_class(), model_config=_model_config(hidden)
            )
        )
    else:
        config = config.rl_module(model_config=_model_config(hidden))
    return config


def make_rllib_multi_agent_env(config: Mapping[str, Any]) -> Any:
    """RLlib env creator for the downlink PettingZoo view (``config``: :func:`leo_env.parallel_env` keywords)."""
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv

    import leo_env

    kwargs = {k: v for k, v in dict(config).items() if k not in ("num_envs",)}
    return ParallelPettingZooEnv(leo_env.parallel_env(**kwargs))


def multi_agent_ppo_config(
    *,
    env_kwargs: Mapping[str, Any] | None = None,
    shared_policy: bool = True,
    num_env_runners: int = 0,
    train_batch_size: int = 512,
    minibatch_size: int = 128,
    num_epochs: int = 4,
    lr: float = 3e-4,
    hidden: tuple[int, ...] = (64, 64),
    seed: int = 0,
) -> Any:
    """A multi-agent RLlib ``PPOConfig`` over the PettingZoo view (one agent per cell).

    Parameters
    ----------
    env_kwargs : Mapping, optional
        Keywords of :func:`leo_env.parallel_env` (``preset``, ``allocator``, ``reward``, ...);
        default ``{"preset": "toy"}``.
    shared_policy : bool
        One policy for every cell (``"shared"``, parameter sharing) or one per cell (the agent id).
    num_env_runners, train_batch_size, minibatch_size, num_epochs, lr, hidden, seed
        As for :func:`ppo_config` (batch sizes count agent steps summed over the cells).

    Returns
    -------
    ray.rllib.algorithms.ppo.PPOConfig
        Every policy uses :class:`MaskedPPOTorchRLModule` on the agent's
        ``Dict(observation, action_mask)``.
    """
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.tune.registry import register_env

    _check_positive(train_batch_size=train_batch_size, minibatch_size=minibatch_size,
                    num_epochs=num_epochs)
    env_config = dict(env_kwargs or {"preset": "toy"})
    probe = make_rllib_multi_agent_env(env_config)
    agents = list(probe.par_env.possible_agents)
    probe.close()
    policies = ["shared"] if shared_policy else agents
    spec = RLModuleSpec(module_class=masked_module_class(), model_config=_model_config(hidden))
    mapping = _map_shared if shared_policy else _map_own
    register_env(MULTI_AGENT_ENV, make_rllib_multi_agent_env)
    return (
        PPOConfig()
        .environment(env=MULTI_AGENT_ENV, env_config=env_config)
        .env_runners(num_env_runners=num_env_runners, num_envs_per_env_runner=1)
        .learners(num_learners=0)
        .multi_agent(policies=set(policies), policy_mapping_fn=mapping)
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs=dict.fromkeys(policies, spec)))
        .training(
            train_batch_size_per_learner=train_batch_size,
            minibatch_size=minibatch_size,
            num_epochs=num_epochs,
            lr=lr,
        )
        .debugging(seed=seed)
    )


def _map_shared(agent_id: Any, episode: Any = None, **kwargs: Any) -> str:
    return "shared"


def _map_own(agent_id: Any, episode: Any = None, **kwargs: Any) -> str:
    return str(agent_id)


# ---------------------------------------------------------------------------- results
def _find(result: Mapping[str, Any], key: str) -> Any:
    """First value of ``key`` in a nested RLlib result dict (depth first), else None."""
    if key in result:
        return result[key]
    for value in result.values():
        if isinstance(value, Mapping):
            found = _find(value, key)
            if found is not None:
                return found
    return None


def sampled_steps(result: Mapping[str, Any]) -> int:
    """Env steps sampled so far (lifetime) according to an RLlib training result."""
    for key in ("num_env_steps_sampled_lifetime", "num_env_steps_sampled"):
        value = _find(result.get("env_runners", result), key)
        if value is not None:
            return int(value)
    return 0


def env_returns(result: Mapping[str, Any]) -> float:
    """Mean episode return of the finished episodes in an RLlib result (nan when none finished)."""
    value = _find(result.get("env_runners", result), "episode_return_mean")
    return float(value) if value is not None else math.nan


def train_until(config: Any, total_steps: int, unit: str = "steps") -> dict[str, float]:
    """Build the algorithm of ``config`` and train until ``total_steps`` env steps are sampled.

    Prints one line per training iteration (``unit`` names the steps, e.g. ``"joint steps"``)
    and stops the algorithm at the end, also on an error.

    Returns
    -------
    dict
        ``steps`` (sampled, lifetime), ``iterations`` and ``return_mean`` (the last result's
        mean episode return; nan while no episode has finished).
    """
    _check_positive(total_steps=total_steps)
    algo = config.build_algo()
    out = {"steps": 0.0, "iterations": 0.0, "return_mean": math.nan}
    try:
        while out["steps"] < total_steps:
            result = algo.train()
            out["steps"] = float(sampled_steps(result))
            out["iterations"] += 1
            out["return_mean"] = env_returns(result)
            print(f"iteration {int(out['iterations'])}: {int(out['steps'])} {unit}, "
                  f"mean episode return {out['return_mean']:.3f}")
    finally:
        algo.stop()
    return out


def time_iterations(config: Any, iterations: int = 3, warmup: int = 1) -> dict[str, float]:
    """Build the algorithm, run ``warmup`` untimed iterations, then time ``iterations`` more.

    Wall and CPU time (this process: with ``num_env_runners=0`` and no remote learners the
    sampling and the learner both run here) are measured per training iteration, and once more
    for the sampling alone (``env_runner.sample`` of one train batch, no learning) and for the
    env runner's vector env alone.

    Returns
    -------
    dict
        ``s_per_iter`` / ``cpu_s_per_iter`` (mean wall / CPU seconds of a timed iteration),
        ``sample_s`` / ``sample_cpu_s`` (mean wall / CPU seconds to sample one train batch),
        ``env_s`` / ``env_cpu_s`` (the same for stepping the runner's vector env alone through one
        train batch with random actions: the environment's share),
        ``steps_per_iter`` (env steps sampled per timed iteration), ``return_mean`` (the last
        result's) and ``iterations``.
    """
    _check_positive(iterations=iterations)
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    algo = config.build_algo()
    try:
        result: Mapping[str, Any] = {}
        for _ in range(warmup):
            result = algo.train()
        before = sampled_steps(result) if result else 0
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(iterations):
            result = algo.train()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        steps = sampled_steps(result) - before
        runner = algo.env_runner
        batch = int(config.train_batch_size_per_learner)
        t1, c1 = time.perf_counter(), time.process_time()
        for _ in range(iterations):
            runner.sample(num_timesteps=batch)
        ds, dsc = time.perf_counter() - t1, time.process_time() - c1
        env = runner.env  # the env runner's vector env, stepped alone (random actions)
        env.reset(seed=0)
        n_steps = iterations * max(1, batch // env.num_envs)
        env.action_space.seed(0)
        acts = [env.action_space.sample() for _ in range(n_steps)]
        t2, c2 = time.perf_counter(), time.process_time()
        for a in acts:
            env.step(a)
        de, dec = time.perf_counter() - t2, time.process_time() - c2
    finally:
        algo.stop()
    return {
        "s_per_iter": dt / iterations,
        "cpu_s_per_iter": dc / iterations,
        "sample_s": ds / iterations,
        "sample_cpu_s": dsc / iterations,
        "env_s": de / iterations,
        "env_cpu_s": dec / iterations,
        "steps_per_iter": steps / iterations,
        "return_mean": env_returns(result),
        "iterations": float(iterations),
    }
