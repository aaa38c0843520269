"""Scalar Gymnasium environment: online cell-satellite association under hard handover budgets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from leo_env.envs.downlink import core, render
from leo_env.envs.downlink.allocators import get_allocator
from leo_env.envs.downlink.params import DownlinkParams, resolve_params
from leo_env.envs.downlink.tables import N_CAND_FEATURES, EpisodeSource, Forecaster
from leo_env.scenario import Scenario

__all__ = ["DownlinkEnv", "make_spaces"]

Obs = dict[str, np.ndarray]
_ROW0 = np.zeros(1, dtype=np.int64)


def make_spaces(
    C: int, n: int, history: int, lookahead: int = 0  # noqa: N803
) -> tuple[spaces.Dict, spaces.MultiDiscrete]:
    """Observation and action spaces for ``C`` cells and ``n`` candidates.

    ``history`` slots of demand history and ``lookahead`` slots of look-ahead (0: no
    look-ahead entries).
    """
    f32 = np.float32
    lo = np.zeros((C, n, N_CAND_FEATURES), dtype=f32)
    hi = np.ones((C, n, N_CAND_FEATURES), dtype=f32)
    lo[..., 0], hi[..., 0] = -core.GAIN_CLIP, core.GAIN_CLIP
    hi[..., 2:4] = core.LOAD_CLIP
    hi[..., 6] = core.NEED_CLIP
    obs = spaces.Dict(
        {
            "candidates": spaces.Box(lo, hi, dtype=f32),
            "budget": spaces.Box(0.0, 1.0, (C,), dtype=f32),
            "served": spaces.Box(0.0, 1.0, (C,), dtype=f32),
            "demand_history": spaces.Box(0.0, core.DEMAND_CLIP, (C, history), dtype=f32),
            "forecast": spaces.Box(0.0, core.DEMAND_CLIP, (C,), dtype=f32),
            "time": spaces.Box(0.0, 1.0, (1,), dtype=f32),
            "action_mask": spaces.Box(0.0, 1.0, (C * n,), dtype=f32),
        }
    )
    if lookahead > 0:
        A, g = int(lookahead), core.GAIN_CLIP  # noqa: N806
        obs = spaces.Dict(
            {
                **obs.spaces,
                "forecast_ahead": spaces.Box(0.0, core.DEMAND_CLIP, (C, A), dtype=f32),
                "candidates_ahead": spaces.Box(-g, g, (C, n, A), dtype=f32),
                "best_ahead": spaces.Box(-g, g, (C, A), dtype=f32),
            }
        )
    return obs, spaces.MultiDiscrete(np.full(C, n, dtype=np.int64))


def setup_source(
    params: DownlinkParams,
    *,
    config: Any = None,
    scenario: Scenario | None = None,
    predictor: Forecaster | None = None,
) -> tuple[EpisodeSource, core.Params]:
    """Build the :class:`EpisodeSource` and the kernel constants of validated parameters.

    Shared by :class:`DownlinkEnv` and :class:`~leo_env.envs.downlink.vector.DownlinkVectorEnv`.
    ``config``, ``scenario`` and ``predictor`` are the hooks (objects, not data).
    """
    src = EpisodeSource(
        params.preset, config=config, overrides=list(params.overrides) or None,
        scenario=scenario, scenario_seed=params.scenario_seed, seed_split=params.seed_split,
        n_scenarios=params.n_scenarios, n_candidates=params.n_candidates,
        predictor=predictor if predictor is not None else params.predictor,
        prediction_error=params.prediction_error, ewma_alpha=params.ewma_alpha,
        cache_size=params.cache_size, cache_mb=params.cache_mb,
    )
    consts = core.Params(
        C=src.C, K=src.K, M=src.M, n=src.n_candidates, history=params.history,
        mask_mode=params.mask_mode, demand_scale=src.demand_scale, lookahead=params.lookahead,
        flat_forecast=src.predictor != "noisy-truth",
    )
    return src, consts


class DownlinkEnv(gym.Env[Obs, np.ndarray]):
    r"""Online association of ground cells to LEO satellites under hard handover budgets.

    One step is one slow slot (association epoch).  The agent picks a serving satellite for
    every cell from that cell's candidate list; the slot's arrivals are then revealed and the
    inner allocator (exact P1 by default) splits every satellite's PRBs and power over the slot's
    ``M`` fast slots.  The reward is the slot's proportional-fair utility minus a handover
    price.  Budgets are hard: the action mask only offers switches that leave enough budget for
    every handover the rest of the episode forces, so no budget is ever exceeded and no cell is
    ever stranded (docs/model.md section 5).

    ## Action space

    ``MultiDiscrete([n] * C)``: entry ``c`` is an index into cell ``c``'s candidate list.  The
    list holds the ``n`` strongest visible satellites (sorted by gain, strongest first); a visible
    current satellite that is not among them takes the last place, and so does, under
    ``mask_mode="full"``, the strongest affordable satellite when none of the listed ones is
    affordable.  Cells that see fewer than ``n`` satellites get padding entries (masked).

    ``action_masks()`` returns the flat boolean mask of length ``C * n`` (cell-major) that
    sb3-contrib's ``MaskablePPO`` expects, with at least one valid entry per cell:

    - ``mask_mode="full"`` (default): visible, and affordable -- staying on the current satellite,
      or a switch to ``s`` when ``1 + need[s, c, k] <= budget_left[c]``, where ``need`` is the
      fewest handovers the rest of the episode forces after choosing ``s`` (backward dynamic
      programme over visibility).  The first association (slot 0) is free.
    - ``mask_mode="basic"``: visible; switches only while budget is left (a lost current
      satellite frees every visible choice).  Budgets can then run dry before a forced handover:
      such an *emergency* handover is carried out, flagged and counted, and consumes no budget.

    An invalid entry (out of range or masked) is never raised: it is repaired (keep the current
    satellite when allowed, else the strongest allowed candidate) and counted in ``info``.

    ## Observation space

    A ``Dict`` of float32 arrays with fixed shapes (``C`` cells, ``n`` candidates, ``L``
    history slots).  Only what is known before slot ``k``'s arrivals: never realised arrivals
    of the current or future slots (the ``noisy-truth`` predictor excepted, whose information
    is set by ``prediction_error``).

    | key | shape | range | meaning |
    |---|---|---|---|
    | ``candidates[..., 0]`` | (C, n) | [-10, 10] | gain: ``(SNR_dB - 20) / 10``, SNR per PRB with the satellite's whole power pool |
    | ``candidates[..., 1]`` | (C, n) | [0, 1] | slots of visibility left from ``k`` on, divided by ``K`` |
    | ``candidates[..., 2]`` | (C, n) | [0, 10] | cells the satellite served in the previous slot, times ``S / C`` (1 = average) |
    | ``candidates[..., 3]`` | (C, n) | [0, 10] | demand load on the satellite under the previous association: sum over its cells of forecast demand / full-satellite capacity |
    | ``candidates[..., 4]`` | (C, n) | {0, 1} | is the current (previous-slot) satellite |
    | ``candidates[..., 5]`` | (C, n) | {0, 1} | entry is a real satellite (not padding) |
    | ``candidates[..., 6]`` | (C, n) | [0, 4] | handovers the rest of the episode forces after choosing it, divided by ``H`` |
    | ``budget`` | (C,) | [0, 1] | handovers left / ``H`` |
    | ``served`` | (C,) | [0, 1] | satisfaction ``xi`` of the previous slot (1 before slot 0 and for cells without demand) |
    | ``demand_history`` | (C, L) | [0, 100] | realised demand of slots ``k-L .. k-1`` (oldest first, 0 before slot 0) / ``demand_scale`` |
    | ``forecast`` | (C,) | [0, 100] | predictor's forecast of slot ``k``'s demand / ``demand_scale`` |
    | ``time`` | (1,) | [0, 1] | ``k / K`` |
    | ``action_mask`` | (C n,) | {0, 1} | the flat action mask |

    With ``lookahead=A > 0`` three more entries describe slots ``k+1 .. k+A``:

    | key | shape | range | meaning |
    |---|---|---|---|
    | ``forecast_ahead`` | (C, A) | [0, 100] | predictor's forecast of each slot's demand / ``demand_scale`` (0 past ``K``) |
    | ``candidates_ahead`` | (C, n, A) | [-10, 10] | each candidate's gain feature in each slot (-10: not visible, padding, or past ``K``) |
    | ``best_ahead`` | (C, A) | [-10, 10] | best gain feature over all satellites (rising ones included) in each slot |

    ``demand_scale`` is the bits per slow slot of a high-demand cell at the base rate
    (``demand.high_rate_bps * M * T_f``).

    ## Rewards

    ``sum_c log(eps + xi[c, k]) - lambda_h * sum_c h[c, k]``: ``xi`` is the share of the slot's
    demand the allocator serves (cells without demand are left out), ``h`` the handovers of the
    slot (the first association is free).  With the default allocator this is exactly the
    objective that :func:`oracles.p2.evaluate` gives an association sequence.

    ## Starting state

    Slot 0, no association, full budgets.  On every ``reset`` a new scenario is drawn: its seed
    comes from the environment's ``np_random`` in the range of ``seed_split`` (training seeds
    ``[0, 2**30)``, held-out evaluation seeds ``[2**30, 2**31)``), unless the scenario is fixed
    (``scenario_seed=`` / ``scenario=``) or named in ``reset(options={"scenario_seed": s})``.
    Forecast errors are drawn from ``np_random`` too, so ``reset(seed=s)`` fixes the episode.

    ## Episode end

    The episode terminates after ``K`` steps (``terminated=True``: the horizon is part of the
    problem and ``time`` is observed); it is never truncated.

    ## Info

    Deterministic (no wall-clock): ``xi`` (C,), ``served_bits`` (C,), ``demand_bits`` (C,)
    (revealed with the slot), ``assoc`` (C,) serving satellites, ``handovers`` (C,) of the slot,
    ``handovers_total`` (C,), ``budget_left`` (C,), ``repaired`` / ``emergency`` (C,) flags,
    ``repairs`` / ``emergencies`` (this slot) and ``repairs_total`` / ``emergencies_total``,
    ``budget_violations`` (non-emergency handovers beyond ``H``; stays 0), ``utility``,
    ``handover_cost``, ``jain`` (Jain index of ``xi``) and ``slot``.
    ``env.unwrapped.scenario`` is the episode's :class:`~leo_env.Scenario`.

    ## Arguments

    Every data argument is a field of :class:`~leo_env.envs.downlink.params.DownlinkParams`
    (documented there with its unit and allowed range, validated once): pass them as keyword
    arguments (``gym.make(id, prediction_error=0.2)``) or as ``params=DownlinkParams(...)``.

    - ``preset`` (str): scenario preset or YAML path (default ``"medium"``); ``overrides``
      (dotted ``key=value`` list or dict).
    - ``scenario_seed``: fixed-scenario mode (evaluation); ``seed_split`` (``"train"`` |
      ``"eval"``) and ``n_scenarios`` (draw from the first ``n_scenarios`` seeds only).
    - ``n_candidates`` (``n``, default ``min(S, 8)``), ``history`` (``L``, default 4),
      ``lookahead`` (``A``, 0..64, default 0).
    - ``predictor`` (``"ewma"``, default, and ``"naive"`` are causal; ``"noisy-truth"`` is a
      *noisy oracle*, declared explicitly: the realised demand of the forecast slot times
      ``max(0, 1 + e N(0, 1))``),
      ``prediction_error`` (``e``: 0, 0.05, 0.1, 0.2, ...; default 0.1), ``ewma_alpha`` (0.3).
    - ``mask_mode`` (``"full"`` | ``"basic"``); ``allocator`` (``"p1"`` exact fast P1,
      ``"cvx"`` CVXPY reference, ``"equal"`` equal split); ``render_mode`` (``"rgb_array"`` |
      ``"ansi"``); ``cache_size`` / ``cache_mb`` (scenario LRU).

    Hooks (objects, not data): ``config=`` (path, dict or ``ScenarioConfig`` instead of
    ``preset``), ``scenario=`` (a ready :class:`~leo_env.Scenario`: fixed-scenario mode),
    ``predictor=`` a causal callable ``f(demand (C, K), prior (C,)) -> (C, K)`` (e.g. a learned
    model) and ``allocator=`` a callable with the signature of
    :func:`leo_env.envs.downlink.allocators.equal_share`.

    ## Version history

    - v0: first release.

    ## Example

    >>> import gymnasium as gym
    >>> import leo_env.envs
    >>> env = gym.make("leo_env/Downlink-toy-v0", allocator="equal")
    >>> obs, info = env.reset(seed=0)
    >>> obs["candidates"].shape
    (5, 2, 7)
    >>> mask = env.unwrapped.action_masks().reshape(5, 2)
    >>> obs, reward, terminated, truncated, info = env.step(mask.argmax(axis=1))
    >>> info["budget_violations"], terminated
    (0, False)
    """

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 4}

    def __init__(
        self,
        preset: str | None = None,
        *,
        params: DownlinkParams | Mapping[str, Any] | None = None,
        config: Any = None,
        scenario: Scenario | None = None,
        **kwargs: Any,
    ) -> None:
        self.env_params, predictor, allocator = resolve_params(preset, params, kwargs)
        p = self.env_params
        if p.render_mode is not None and p.render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {p.render_mode!r}")
        self.source, self.params = setup_source(p, config=config, scenario=scenario, predictor=predictor)
        self.allocator_name = p.allocator if allocator is None else getattr(allocator, "__name__", "custom")
        self._allocate = get_allocator(allocator if allocator is not None else p.allocator)
        src = self.source
        self.observation_space, self.action_space = make_spaces(
            src.C, src.n_candidates, p.history, p.lookahead
        )
        self.render_mode = p.render_mode
        self._bt: core.Batch | None = None
        self._st = core.State(1, self.params)
        self._done = True
        self._last: dict[str, Any] = {}
        self._scenario_id: tuple[int, str] = (-1, "")
        self.timing = {"steps": 0, "allocator_s": 0.0}
        """Wall time spent in the allocator and steps taken (for benchmarks; not in ``info``)."""

    # ------------------------------------------------------------------ properties
    @property
    def scenario(self) -> Scenario:
        """The current episode's scenario."""
        if self._bt is None:
            raise RuntimeError("call reset() first")
        sc = self._bt.scenarios[0]
        assert sc is not None
        return sc

    @property
    def k(self) -> int:
        """Slot about to be played (``K`` once the episode is over)."""
        return int(self._st.k[0])

    @property
    def association(self) -> np.ndarray:
        """Satellite that served each cell in the previous slot, shape (C,) (``-1`` before slot 0)."""
        return self._st.cur[0].copy()

    @property
    def budget_left(self) -> np.ndarray:
        """Handovers left per cell, shape (C,)."""
        return self._st.budget[0].copy()

    @property
    def candidates(self) -> np.ndarray:
        """Satellite index of every candidate entry, shape (C, n) (``-1``: padding)."""
        return self._st.cand[0].copy()

    # ------------------------------------------------------------------ API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Obs, dict[str, Any]]:
        """Start an episode; ``options`` may hold ``scenario_seed`` or ``scenario``."""
        super().reset(seed=seed)
        sc, tab, base, factor = self.source.start(self.np_random, options)
        self._bt = core.Batch.single(self.params, sc, tab, base, factor)
        self._st.reset_rows(slice(None), sc.H)
        self._scenario_id = (int(sc.seed), sc.name)
        self._done = False
        self._last = {}
        obs = self._obs()
        # the same keys as a step's info (TorchRL and other batched readers need that)
        info = {key: (val[0].item() if val.ndim == 1 else val[0])
                for key, val in core.blank_info(self._st, _ROW0).items()}
        return obs, {**info, "scenario_seed": int(sc.seed), "scenario": sc.name}

    def _obs(self) -> Obs:
        assert self._bt is not None
        return {key: val[0] for key, val in core.decide_observe(self._bt, self._st).items()}

    def step(self, action: np.ndarray) -> tuple[Obs, float, bool, bool, dict[str, Any]]:
        """Play one slow slot; see the class docstring."""
        if self._bt is None:
            raise RuntimeError("call reset() before step()")
        if self._done:
            raise RuntimeError("the episode is over; call reset()")
        act = np.asarray(action)
        if act.shape != (self.params.C,):
            raise ValueError(f"action must have shape ({self.params.C},), got {act.shape}")
        if self.env_params.invalid_action == "raise":
            bad = core.invalid_cells(self._st, _ROW0, act[None])[0]
            if bad.any():
                raise ValueError(
                    f"invalid action for cell(s) {np.flatnonzero(bad).tolist()}: out of range or "
                    "masked (invalid_action='raise'; see action_masks())"
                )
        q = core.transition_parts(self._bt, self._st, _ROW0, act[None], self._allocate)
        reward = q.reward
        # handovers, emergencies, repairs, violations, repairs / emergencies so far
        _, n_em, n_rep, over, rep_tot, em_tot = q.counts[0].tolist()
        if self.env_params.invalid_action == "penalize":
            reward = reward - self.env_params.invalid_penalty * q.counts[:, 2]
        timing = self.timing
        timing["steps"] += 1
        timing["allocator_s"] += q.dt
        k = q.slot.item()
        terminated = k + 1 >= self.params.K
        self._done = terminated
        # the keys and order of core.transition's info, one row (Python scalars for the (R,)
        # entries, views of this step's fresh arrays for the (R, C) ones)
        out = {
            "slot": k,
            "assoc": q.sat[0],
            "xi": q.xi[0],
            "served_bits": q.served_bits[0],
            "demand_bits": q.demand_bits[0],
            "handovers": q.handovers[0],
            "handovers_total": q.handovers_total[0],
            "budget_left": q.budget_left[0],
            "repaired": q.repaired[0],
            "emergency": q.emergency[0],
            "repairs": n_rep,
            "emergencies": n_em,
            "repairs_total": rep_tot,
            "emergencies_total": em_tot,
            "budget_violations": over,
            "utility": q.utility.item(),
            "handover_cost": q.cost.item(),
            "jain": q.jain.item(),
            "scenario_seed": self._scenario_id[0],
            "scenario": self._scenario_id[1],
        }
        self._last = out
        obs = self._obs()
        return obs, float(reward[0]), terminated, False, out

    def action_masks(self) -> np.ndarray:
        """Flat boolean action mask, shape (C * n,), cell-major (sb3-contrib convention)."""
        return self._st.mask[0].reshape(-1).copy()

    def slot_capacity(self) -> np.ndarray:
        """Full-satellite bits per slow slot of every (cell, satellite) in the current slot, (C, S).

        What a cell would get holding all of a satellite's PRBs and power (0 where the satellite
        is not visible); computed from the known orbits, so an agent may use it at decision time
        (the capacity behind ``candidates[..., 3]``; :mod:`agents.search` uses it).
        """
        if self._bt is None:
            raise RuntimeError("call reset() first")
        k = min(self.k, self.params.K - 1)
        return self._bt.rho[0, k, :, : self.scenario.S].astype(np.float64)

    def action_mask_matrix(self) -> np.ndarray:
        """Action mask as (C, n) booleans."""
        return self._st.mask[0].copy()

    def safe_mask(self) -> np.ndarray:
        """(C, n) choices that keep every handover the episode still forces affordable.

        The ``mask_mode="full"`` rule whatever the environment's mask mode (baselines use it to
        stay budget-safe under ``"basic"`` masks); rows it would leave empty fall back to the
        action mask.
        """
        st, bt = self._st, self._bt
        if bt is None:
            raise RuntimeError("call reset() first")
        if self.params.mask_mode == "full":
            return st.mask[0].copy()
        k = min(self.k, self.params.K - 1)
        cand, valid = st.cand[0], st.valid[0]
        C = self.params.C  # noqa: N806
        need = bt.need[0, k][np.arange(C)[:, None], np.where(valid, cand, 0)]
        has_cur = (st.cur[0] >= 0)[:, None]
        safe = valid & (st.is_cur[0] | (need + has_cur <= st.budget[0][:, None]))
        return np.where(safe.any(axis=1, keepdims=True), safe, st.mask[0])

    def actions_for(self, sats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate indices that select satellites ``sats`` (C,), and where that is possible.

        Returns
        -------
        action : ndarray of int, shape (C,)
            Index of ``sats[c]`` in cell ``c``'s candidate list (0 where absent).
        ok : ndarray of bool, shape (C,)
            ``sats[c]`` is listed and allowed by the mask.
        """
        hit = (self._st.cand[0] == np.asarray(sats)[:, None]) & self._st.valid[0]
        found = hit.any(-1)
        idx = hit.argmax(-1)
        ok = found & self._st.mask[0][np.arange(self.params.C), idx]
        return idx.astype(np.int64), ok

    def forecast(self, horizon: int | None = None) -> np.ndarray:
        """Demand the predictor expects for slots ``k .. k+horizon-1``, shape (C, h) [bit].

        ``noisy-truth`` forecasts each slot's realised demand with that slot's error factor;
        ``naive`` and ``ewma`` extrapolate the current forecast flat (with each slot's factor).
        Used by the MPC baseline.
        """
        if self._bt is None:
            raise RuntimeError("call reset() first")
        K = self.params.K  # noqa: N806
        k = min(self.k, K - 1)
        h = K - k if horizon is None else max(1, min(int(horizon), K - k))
        return core.forecast_window(self._bt, self._st, 0, h)[0]

    def render(self) -> np.ndarray | str | None:  # type: ignore[override]
        """``rgb_array``: map of cells, satellites and associations; ``ansi``: a text table."""
        if self.render_mode is None:
            gym.logger.warn(
                "render() called without a render_mode; pass render_mode= to the constructor"
            )
            return None
        if self._bt is None:
            raise RuntimeError("call reset() before render()")
        if self.render_mode == "ansi":
            return render.ansi(self.scenario, self._st, self._last)
        return render.rgb_array(self.scenario, self._st, self._last)
