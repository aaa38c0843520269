"""Native batched version of :class:`~leo_env.envs.downlink.DownlinkEnv`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from leo_env.envs.downlink import core, render
from leo_env.envs.downlink.allocators import get_allocator
from leo_env.envs.downlink.env import make_spaces, setup_source
from leo_env.envs.downlink.params import DownlinkParams, resolve_params
from leo_env.scenario import Scenario

__all__ = ["DownlinkVectorEnv"]


class DownlinkVectorEnv(VectorEnv):
    """``num_envs`` downlink environments stepped as one batch, numpy over the batch axis.

    Every sub-environment ``i`` behaves exactly like a
    :class:`~leo_env.envs.downlink.DownlinkEnv` with the same arguments that was reset with
    ``seed + i`` (the tests step both in lockstep): each has its own generator for scenario
    draws and forecast errors.  One step runs the compiled decision/observation kernel once
    for the whole batch and the inner allocator once (P1's batched entry) for every
    environment that plays a slot.

    Auto-reset (``autoreset_mode``) follows Gymnasium 1.x: ``NEXT_STEP`` (default): the step after
    an episode's last slot resets that sub-environment (a new scenario drawn from its
    generator), ignores its action and returns the first observation of the new episode with
    reward 0 and ``terminated = truncated = False``; ``SAME_STEP``: the last step already
    returns the new episode's first observation, the last one and its info going to
    ``info["final_obs"]`` / ``info["final_info"]``; ``DISABLED``: a finished sub-environment must
    be reset by the caller (stepping it raises).  ``reset(options={"reset_mask": mask})`` resets
    only the masked sub-environments; ``info["scenario_seed"]`` always names the scenario of the
    episode the row is in (the new one after a reset).

    Spaces are the scalar ones batched: ``observation_space`` is a ``Dict`` of arrays with a
    leading ``num_envs`` axis, ``action_space`` a ``MultiDiscrete`` of shape ``(num_envs, C)``.
    ``info`` holds the scalar env's keys as arrays with a leading ``num_envs`` axis plus the
    ``_key`` masks of Gymnasium's vector convention (False for sub-environments that reset in
    this step).  ``action_masks()`` returns the (num_envs, C * n) masks.

    Parameters
    ----------
    num_envs : int
        Number of sub-environments.
    preset, params, config, scenario, **kwargs
        As for :class:`~leo_env.envs.downlink.env.DownlinkEnv`: the data arguments are the fields
        of :class:`~leo_env.envs.downlink.params.DownlinkParams`, the others are hooks.  One
        scenario cache serves all sub-environments.

    Examples
    --------
    >>> import gymnasium as gym
    >>> import leo_env.envs
    >>> envs = gym.make_vec("leo_env/Downlink-toy-v0", num_envs=4, allocator="equal")
    >>> obs, info = envs.reset(seed=0)
    >>> obs["candidates"].shape
    (4, 5, 2, 7)
    """

    metadata = {
        "render_modes": ["rgb_array", "ansi"],
        "render_fps": 4,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        preset: str | None = None,
        *,
        params: DownlinkParams | Mapping[str, Any] | None = None,
        config: Any = None,
        scenario: Scenario | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        **kwargs: Any,
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        try:
            self.autoreset_mode = AutoresetMode(autoreset_mode)
        except ValueError:
            modes = ", ".join(m.value for m in AutoresetMode)
            raise ValueError(f"autoreset_mode must be one of {modes}, got {autoreset_mode!r}") from None
        self.metadata = {**type(self).metadata, "autoreset_mode": self.autoreset_mode}
        self.num_envs = int(num_envs)
        self.env_params, predictor, allocator = resolve_params(preset, params, kwargs)
        p = self.env_params
        if p.render_mode is not None and p.render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {p.render_mode!r}")
        self.source, self.params = setup_source(p, config=config, scenario=scenario, predictor=predictor)
        self._allocate = get_allocator(allocator if allocator is not None else p.allocator)
        src = self.source
        self.single_observation_space, self.single_action_space = make_spaces(
            src.C, src.n_candidates, p.history, p.lookahead
        )
        render_mode = p.render_mode
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.render_mode = render_mode
        self._bt = core.Batch(self.num_envs, self.params)
        self._st = core.State(self.num_envs, self.params)
        self._rngs: list[np.random.Generator] = [
            seeding.np_random()[0] for _ in range(self.num_envs)
        ]
        self._prev_done = np.zeros(self.num_envs, dtype=bool)
        self._started = False
        self._last_step: tuple[np.ndarray, dict[str, np.ndarray]] = (
            np.zeros(0, dtype=np.int64),
            {},
        )
        self._fresh = np.ones(self.num_envs, dtype=bool)
        # scenario of every row, kept up to date where rows (re)start: info reads, never rebuilds
        self._seeds = np.full(self.num_envs, -1, dtype=np.int64)
        self._names = np.full(self.num_envs, "", dtype=object)
        self._info_template: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
        self.timing = {"steps": 0, "env_steps": 0, "allocator_s": 0.0}
        """Wall time in the allocator and steps taken (benchmarks only; not in ``info``)."""

    # ------------------------------------------------------------------ helpers
    @property
    def scenarios(self) -> list[Scenario | None]:
        """Current scenario of every sub-environment."""
        return list(self._bt.scenarios)

    def _start(self, i: int, options: dict[str, Any] | None) -> int:
        sc, tab, base, factor = self.source.start(self._rngs[i], options)
        self._bt.set(i, sc, tab, base, factor)
        self._st.reset_rows(np.array([i]), sc.H)
        self._fresh[i] = True
        self._seeds[i], self._names[i] = int(sc.seed), sc.name
        return int(sc.seed)

    # ------------------------------------------------------------------ API
    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Reset every (or every masked) sub-environment; sub-env ``i`` is seeded ``seed + i``."""
        B = self.num_envs  # noqa: N806
        opts = dict(options or {})
        reset_mask = opts.pop("reset_mask", None)
        rows = (
            np.arange(B)
            if reset_mask is None
            else np.flatnonzero(np.asarray(reset_mask, dtype=bool))
        )
        if not self._started and len(rows) != B:
            raise RuntimeError("the first reset must reset every sub-environment")
        if seed is None:
            seeds: list[int | None] = [None] * B
        elif isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(B)]
        else:
            seeds = list(seed)
            if len(seeds) != B:
                raise ValueError(f"seed list must have {B} entries, got {len(seeds)}")
        if isinstance(seed, (int, np.integer)):
            self._np_random, self._np_random_seed = seeding.np_random(int(seed))
        scen_seed = np.zeros(B, dtype=np.int64)
        for i in rows:
            if seeds[i] is not None:
                self._rngs[i], _ = seeding.np_random(seeds[i])
            scen_seed[i] = self._start(int(i), opts)
        self._prev_done[rows] = False
        self._started = True
        obs = core.decide_observe(self._bt, self._st)
        done = np.zeros(B, dtype=bool)
        done[rows] = True
        # the same keys as a step's info (nothing played yet in the reset rows)
        infos: dict[str, Any] = {}
        for key, val in core.blank_info(self._st, np.arange(B)).items():
            infos[key], infos["_" + key] = val, done
        infos.update(self._scenario_info(done))
        infos["scenario_seed"] = np.where(done, scen_seed, infos["scenario_seed"])
        return obs, infos

    def step(
        self, actions: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every sub-environment (auto-resetting those whose episode ended last step)."""
        if not self._started:
            raise RuntimeError("call reset() before step()")
        B, C = self.num_envs, self.params.C  # noqa: N806
        act = np.asarray(actions)
        if act.shape != (B, C):
            raise ValueError(f"actions must have shape ({B}, {C}), got {act.shape}")
        resetting = np.flatnonzero(self._prev_done)
        if resetting.size and self.autoreset_mode == AutoresetMode.DISABLED:
            raise RuntimeError(
                f"sub-environment(s) {resetting.tolist()} finished their episode: reset them with "
                "reset(options={'reset_mask': mask}) first (autoreset_mode=DISABLED)"
            )
        for i in resetting:
            self._start(int(i), None)
        rows = np.flatnonzero(~self._prev_done)
        reward = np.zeros(B)
        terminated = np.zeros(B, dtype=bool)
        infos: dict[str, Any] = {}
        if rows.size:
            r, info, dt = core.transition(self._bt, self._st, rows, act[rows], self._allocate)
            self.timing["allocator_s"] += dt
            self.timing["env_steps"] += int(rows.size)
            reward[rows] = r
            terminated[rows] = self._st.k[rows] >= self.params.K
            present = np.zeros(B, dtype=bool)
            present[rows] = True
            for key, val in info.items():
                full = np.zeros((B, *val.shape[1:]), dtype=val.dtype)
                full[rows] = val
                infos[key] = full
                infos["_" + key] = present
            self._last_step = (rows, info)
            self._fresh[rows] = False
            self._info_template = {key: (val.shape[1:], val.dtype) for key, val in info.items()}
        else:  # every sub-environment reset: same keys, all masked out
            absent = np.zeros(B, dtype=bool)
            for key, (shape, dtype) in self._info_template.items():
                infos[key] = np.zeros((B, *shape), dtype=dtype)
                infos["_" + key] = absent
        self.timing["steps"] += 1
        obs = core.decide_observe(self._bt, self._st)
        if self.autoreset_mode == AutoresetMode.SAME_STEP and terminated.any():
            # Gymnasium's SAME_STEP: the episode's last observation and info go to
            # info["final_obs"] / info["final_info"]; the row restarts now
            done_rows = np.flatnonzero(terminated)
            final_obs = np.empty(B, dtype=object)
            for i in done_rows:
                final_obs[i] = {key: val[i].copy() for key, val in obs.items()}
            final_info = {key: val for key, val in infos.items() if not key.startswith("_")}
            final_info.update({"_" + key: terminated.copy() for key in list(final_info)})
            infos["final_obs"], infos["_final_obs"] = final_obs, terminated.copy()
            infos["final_info"], infos["_final_info"] = final_info, terminated.copy()
            for i in done_rows:
                self._start(int(i), None)
            self._prev_done = np.zeros(B, dtype=bool)
            obs = core.decide_observe(self._bt, self._st)
        else:
            self._prev_done = terminated.copy()
        infos.update(self._scenario_info(np.ones(B, dtype=bool)))  # reset rows: the new episode's
        return obs, reward, terminated, np.zeros(B, dtype=bool), infos

    def _scenario_info(self, present: np.ndarray) -> dict[str, np.ndarray]:
        """Scenario seed and name of every row's current episode."""
        return {
            "scenario_seed": self._seeds.copy(),
            "_scenario_seed": present,
            "scenario": self._names.astype(str),
            "_scenario": present,
        }

    def action_mask_matrix(self) -> np.ndarray:
        """Action masks per cell, shape (num_envs, C, n) (libraries that want (cells, candidates))."""
        return self._st.mask.copy()

    @property
    def candidates(self) -> np.ndarray:
        """Satellite index of every candidate entry, shape (num_envs, C, n) (``-1``: padding)."""
        return self._st.cand.copy()

    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Everything that determines the future of the batch, mid-episode included.

        Returns ``(arrays, meta)``: numpy arrays (per-row scenario seeds, forecast tables, the
        step state) and JSON-able data (generator states, flags), so a checkpoint needs no
        pickle.  :meth:`set_state` on an environment built with the same arguments continues
        exactly where this one was (a resumed training run equals an uninterrupted one).
        """
        if not self._started:
            raise RuntimeError("reset() before get_state()")
        seeds = np.array([-1 if self.source.fixed_scenario is not None else int(sc.seed)  # type: ignore[union-attr]
                          for sc in self._bt.scenarios], dtype=np.int64)
        arrays: dict[str, np.ndarray] = {"scenario_seed": seeds, "fc_base": self._bt.fc_base.copy(),
                                         "fc_factor": self._bt.fc_factor.copy(),
                                         "prev_done": self._prev_done.copy(), "fresh": self._fresh.copy()}
        for name, val in vars(self._st).items():
            if isinstance(val, np.ndarray):
                arrays[f"state.{name}"] = val.copy()
        meta = {"rng_states": self.rng_states(), "np_random": self.np_random.bit_generator.state}
        return arrays, meta

    def set_state(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Restore :meth:`get_state` (same construction arguments)."""
        seeds = np.asarray(arrays["scenario_seed"])
        if seeds.shape != (self.num_envs,):
            raise ValueError(f"state is for {seeds.shape[0]} sub-environments, this env has {self.num_envs}")
        for i, s in enumerate(seeds):
            sc, tab = self.source.get(seed=None if s < 0 else int(s))
            self._bt.set(i, sc, tab, np.asarray(arrays["fc_base"][i]), np.asarray(arrays["fc_factor"][i]))
            self._seeds[i], self._names[i] = int(sc.seed), sc.name
        for key, val in arrays.items():
            if key.startswith("state."):
                getattr(self._st, key[len("state."):])[...] = val
        self._prev_done[...] = arrays["prev_done"]
        self._fresh[...] = arrays["fresh"]
        self.set_rng_states(meta["rng_states"])
        self.np_random.bit_generator.state = meta["np_random"]
        self._started = True

    def rng_states(self) -> list[dict[str, Any]]:
        """Bit-generator states of the sub-environments' generators (for checkpoints)."""
        return [r.bit_generator.state for r in self._rngs]

    def set_rng_states(self, states: list[dict[str, Any]]) -> None:
        """Restore :meth:`rng_states` (on resume, before the next reset)."""
        if len(states) != self.num_envs:
            raise ValueError(f"states has {len(states)} entries for {self.num_envs} sub-environments")
        for r, s in zip(self._rngs, states, strict=True):
            r.bit_generator.state = s

    def action_masks(self) -> np.ndarray:
        """Flat boolean masks, shape (num_envs, C * n)."""
        return self._st.mask.reshape(self.num_envs, -1).copy()

    def _last_of(self, i: int) -> dict[str, Any]:
        rows, info = self._last_step
        hit = np.flatnonzero(rows == i)
        if self._fresh[i] or not hit.size:
            return {}
        return {
            key: (val[hit[0]].item() if val.ndim == 1 else val[hit[0]]) for key, val in info.items()
        }

    def render(self) -> tuple[Any, ...] | None:
        """One frame (``rgb_array``) or text (``ansi``) per sub-environment."""
        if self.render_mode is None:
            return None
        out = []
        for i in range(self.num_envs):
            sc = self._bt.scenarios[i]
            if sc is None:
                raise RuntimeError("call reset() before render()")
            view = _RowView(self._st, i)
            fn = render.ansi if self.render_mode == "ansi" else render.rgb_array
            out.append(fn(sc, view, self._last_of(i)))
        return tuple(out)


class _RowView:
    """The attributes :mod:`leo_env.envs.downlink.render` reads, for one row of a batched state."""

    def __init__(self, st: core.State, i: int) -> None:
        self.k = st.k[i : i + 1]
        self.cur = st.cur[i : i + 1]
        self.budget = st.budget[i : i + 1]
