"""Per-scenario tables the environments precompute once per episode, and the episode source.

Everything an environment step needs that does not depend on the agent's decisions is computed
here when an episode starts, slot-major so that a step gathers one contiguous block per array:

* the candidate list of every (slot, cell): visible satellites sorted by gain, padded with -1;
* a normalised gain feature, the full-satellite capacity, the remaining visibility run and the
  minimum number of handovers still needed from every (slot, cell, satellite) state (the
  backward dynamic programme of :func:`oracles.baselines.future_min_handovers`);
* realised per-slot demand and the forecast tables of the configured predictor.

The module is plain numpy (no gymnasium): array in, array out, randomness only through an
explicit :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from leo_env.core import forecast as _forecast
from leo_env.scenario import Scenario, ScenarioConfig, load_config, make_scenario
from oracles.baselines import future_min_handovers

__all__ = [
    "BIG",
    "N_CAND_FEATURES",
    "CAND_FEATURES",
    "PREDICTORS",
    "SEED_SPLITS",
    "TRAIN_SEED_RANGE",
    "EVAL_SEED_RANGE",
    "EpisodeTables",
    "EpisodeSource",
    "Forecaster",
    "build_tables",
    "forecast_tables",
]

BIG = np.int32(1 << 20)
"""Marker for an impossible state in ``need`` (satellite not visible)."""

CAND_FEATURES = ("gain", "vis_left", "load_cells", "load_demand", "is_current", "valid", "need")
"""Order of the per-candidate features in the ``candidates`` observation."""
N_CAND_FEATURES = len(CAND_FEATURES)

PREDICTORS = ("naive", "ewma", "noisy-truth")
SEED_SPLITS = ("train", "eval")
TRAIN_SEED_RANGE = (0, 1 << 30)
"""Scenario seeds of the training split: ``[0, 2**30)``."""
EVAL_SEED_RANGE = (1 << 30, 1 << 31)
"""Scenario seeds of the held-out evaluation split: ``[2**30, 2**31)`` (disjoint from training)."""

Forecaster = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""Causal forecaster ``f(demand (C, K), prior (C,)) -> (C, K)`` [bit]: column ``k`` from ``demand[:, :k]``."""

GAIN_REF_DB = 20.0
"""Gain feature: ``(SNR_dB - GAIN_REF_DB) / GAIN_SCALE_DB``, SNR with the whole pool per PRB."""
GAIN_SCALE_DB = 10.0
GAIN_CLIP = 10.0


@dataclass(frozen=True, eq=False)
class EpisodeTables:
    """Decision-independent arrays of one scenario, slot-major.

    Attributes
    ----------
    top : ndarray of int32, shape (K, C, n)
        Candidate satellites of each cell, strongest first; ``-1`` pads cells that see fewer
        than ``n`` satellites.
    gain : ndarray of float32, shape (K, C, S)
        Normalised gain feature ``(SNR_dB - 20) / 10`` clipped to [-10, 10], where SNR is the
        per-PRB SNR with the satellite's whole power pool spread over its PRBs.
    rho : ndarray of float32, shape (K, C, S)
        Bits per slow slot the cell would get holding all of the satellite's PRBs and power
        [bit] (APEX's separable capacity); 0 where not visible.
    need : ndarray of int32, shape (K, C, S)
        Fewest handovers from slot ``k`` to the end when ``s`` serves ``c`` at ``k``;
        :data:`BIG` where ``s`` is not visible.
    vis_left : ndarray of int16, shape (K, C, S)
        Consecutive slots, from ``k`` on, during which ``s`` stays visible from ``c``.
    demand : ndarray of float64, shape (C, K)
        Realised demand per slot [bit] (revealed after the slot is played).
    arrivals : ndarray of float64, shape (K, C, M)
        Realised arrivals [bit per fast slot], slot-major.
    g_slot : ndarray of float64, shape (K, S, C)
        Large-scale gains, slot-major (the allocator's input without fading).
    prior : ndarray of float64, shape (C,)
        Expected demand of slot 0 [bit] (process mean), the forecast when no history exists.
    inputs_finite : bool
        Every number the allocator receives without fading is finite: ``arrivals``,
        ``g_slot``, the scenario's pools and the constants the exact allocator derives
        (checked once here, so that the step can skip the allocator's own check).
    """

    top: np.ndarray
    gain: np.ndarray
    rho: np.ndarray
    need: np.ndarray
    vis_left: np.ndarray
    demand: np.ndarray
    arrivals: np.ndarray
    g_slot: np.ndarray
    prior: np.ndarray
    inputs_finite: bool = False

    @property
    def nbytes(self) -> int:
        """Memory held by the tables [byte]."""
        return int(
            sum(getattr(self, f).nbytes for f in self.__dataclass_fields__ if f != "inputs_finite")
        )


def _inputs_finite(sc: Scenario, arrivals: np.ndarray, g_slot: np.ndarray) -> bool:
    """Whether every input of the exact allocator (no fading) is finite for scenario ``sc``.

    The arrays of every slot, the pools, and the constants :func:`oracles.p1.fast.allocate`
    derives from the scenario's numbers (the same expressions, so the same overflows).
    """
    try:
        w, n0, t_f, eps = float(sc.W_PRB), float(sc.N0), float(sc.T_f), float(sc.eps)
        with np.errstate(all="ignore"):
            consts = (1.0 / (w * n0), t_f * w / math.log(2.0), eps)
    except (ZeroDivisionError, OverflowError, TypeError, ValueError):
        return False
    return bool(
        all(math.isfinite(v) for v in consts)
        and np.isfinite(np.asarray(sc.N_PRB, dtype=float)).all()
        and np.isfinite(np.asarray(sc.P_max, dtype=float)).all()
        and np.isfinite(arrivals).all()
        and np.isfinite(g_slot).all()
    )


def _top_candidates(gain: np.ndarray, visible: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` strongest visible satellites along the last axis, ``-1`` padded."""
    K, C, S = gain.shape  # noqa: N806
    key = np.where(visible, -gain.astype(np.float64), np.inf)
    if S > n:
        part = np.argpartition(key, n - 1, axis=-1)[..., :n]
        order = np.take_along_axis(
            part, np.argsort(np.take_along_axis(key, part, -1), axis=-1, kind="stable"), -1
        )
    else:
        order = np.argsort(key, axis=-1, kind="stable")
    ok = np.isfinite(np.take_along_axis(key, order, -1))
    top = np.full((K, C, n), -1, dtype=np.int32)
    top[..., : order.shape[-1]] = np.where(ok, order, -1)
    return top


def build_tables(sc: Scenario, n_candidates: int) -> EpisodeTables:
    """Precompute the decision-independent tables of scenario ``sc``.

    Parameters
    ----------
    sc : Scenario
        The episode's scenario.
    n_candidates : int
        Length of each cell's candidate list, >= 1.
    """
    if n_candidates < 1:
        raise ValueError(f"n_candidates must be >= 1, got {n_candidates}")
    v = np.asarray(sc.v, dtype=bool)
    S, C, K = v.shape  # noqa: N806
    M = sc.M  # noqa: N806
    vis = np.ascontiguousarray(v.transpose(2, 1, 0))  # (K, C, S)
    g = np.ascontiguousarray(np.asarray(sc.g, dtype=float).transpose(2, 1, 0))
    snr = g * (sc.P_max / sc.N_PRB)[None, None, :] / (sc.W_PRB * sc.N0)
    with np.errstate(divide="ignore"):
        snr_db = 10.0 * np.log10(np.maximum(snr, 1e-30))
    gain = np.clip((snr_db - GAIN_REF_DB) / GAIN_SCALE_DB, -GAIN_CLIP, GAIN_CLIP)
    gain = np.where(vis, gain, -GAIN_CLIP).astype(np.float32)
    rho = M * sc.T_f * sc.W_PRB * sc.N_PRB[None, None, :] * np.log2(1.0 + snr)
    rho = np.where(vis, rho, 0.0).astype(np.float32)
    need = future_min_handovers(v)  # (S, C, K)
    need = np.minimum(need, BIG).astype(np.int32).transpose(2, 1, 0)
    need = np.ascontiguousarray(np.where(vis, need, BIG))
    run = np.zeros((K, C, S), dtype=np.int16)
    run[K - 1] = vis[K - 1]
    for k in range(K - 2, -1, -1):
        run[k] = np.where(vis[k], run[k + 1] + 1, 0)
    arrivals = np.ascontiguousarray(np.asarray(sc.a, dtype=float).transpose(1, 0, 2))
    # from the contiguous slot-major copy: the same sums, bit for bit, as the step's
    # ``arrivals[k].sum(-1)`` (the step reads ``demand_bits`` from this table)
    demand = np.ascontiguousarray(arrivals.sum(axis=2).T)
    g_slot = np.ascontiguousarray(np.asarray(sc.g, dtype=float).transpose(2, 0, 1))
    return EpisodeTables(
        top=_top_candidates(gain, vis, n_candidates),
        gain=gain,
        rho=rho,
        need=need,
        vis_left=run,
        demand=demand,
        arrivals=arrivals,
        g_slot=g_slot,
        prior=np.asarray(sc.demand_rate, dtype=float)[:, 0] * M,
        inputs_finite=_inputs_finite(sc, arrivals, g_slot),
    )


def forecast_tables(
    demand: np.ndarray,
    prior: np.ndarray,
    predictor: str | Forecaster,
    rel_error: float,
    rng: np.random.Generator,
    ewma_alpha: float = 0.3,
) -> tuple[np.ndarray, np.ndarray]:
    """Point forecasts and multiplicative error factors of one episode.

    ``base[:, k]`` is what the predictor knows at slot ``k`` before the slot's arrivals are
    revealed: the naive and EWMA predictors use only ``demand[:, :k]`` (``prior`` at ``k = 0``),
    and so must a callable predictor ``f(demand, prior) -> base`` (e.g. a learned model);
    ``noisy-truth`` uses the realised ``demand[:, k]`` itself (its information content is set
    by ``rel_error`` alone).  ``factor`` is ``max(0, 1 + rel_error N(0, 1))`` per (cell, slot),
    drawn once from ``rng`` (:func:`leo_env.core.forecast.noisy_forecast`), so the forecast of
    slot ``j`` is the same whenever it is asked for.

    Parameters
    ----------
    demand : ndarray, shape (C, K)
        Realised demand per slot [bit].
    prior : ndarray, shape (C,)
        Forecast without history (expected demand of slot 0) [bit].
    predictor : {"naive", "ewma", "noisy-truth"} or callable
        Forecasting rule, or ``f(demand (C, K), prior (C,)) -> (C, K)`` [bit] that is causal
        (column ``k`` depends on ``demand[:, :k]`` only).
    rel_error : float
        Relative standard deviation of the multiplicative error, >= 0.
    rng : numpy.random.Generator
        Source of the error draws (nothing is drawn when ``rel_error == 0``).
    ewma_alpha : float
        Smoothing factor of the EWMA predictor, in (0, 1].

    Returns
    -------
    base : ndarray, shape (C, K)
        Error-free forecasts [bit].
    factor : ndarray, shape (C, K)
        Multiplicative error factors (ones when ``rel_error == 0``).
    """
    C, K = demand.shape  # noqa: N806
    if callable(predictor):
        base = np.asarray(predictor(demand, prior), dtype=float)
        if base.shape != (C, K):
            raise ValueError(f"a callable predictor must return shape {(C, K)}, got {base.shape}")
    elif predictor not in PREDICTORS:
        raise ValueError(f"predictor must be one of {PREDICTORS} or a callable, got {predictor!r}")
    elif predictor == "noisy-truth":
        base = demand.copy()
    else:
        base = np.empty((C, K))
        base[:, 0] = prior
        if predictor == "naive":
            base[:, 1:] = demand[:, :-1]
        else:
            if not 0 < ewma_alpha <= 1:
                raise ValueError(f"ewma_alpha must be in (0, 1], got {ewma_alpha}")
            # same recursion as leo_env.core.forecast.ewma_forecast on every prefix
            f = demand[:, 0].copy() if K > 1 else prior.copy()
            for k in range(1, K):
                if k > 1:
                    f = ewma_alpha * demand[:, k - 1] + (1.0 - ewma_alpha) * f
                base[:, k] = f
    factor = _forecast.noisy_forecast(np.ones((C, K)), rel_error, rng)
    return base, factor


class _LRU:
    """Small least-recently-used cache bounded by entry count and bytes."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max(0, int(max_entries))
        self.max_bytes = int(max_bytes)
        self._d: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._bytes = 0

    def get(self, key: Any) -> Any | None:
        hit = self._d.get(key)
        if hit is None:
            return None
        self._d.move_to_end(key)
        return hit[0]

    def put(self, key: Any, value: Any, nbytes: int) -> None:
        if self.max_entries == 0 or nbytes > self.max_bytes:
            return
        self._d[key] = (value, nbytes)
        self._bytes += nbytes
        while len(self._d) > self.max_entries or self._bytes > self.max_bytes:
            _, (_, nb) = self._d.popitem(last=False)
            self._bytes -= nb

    def __len__(self) -> int:
        return len(self._d)


def _scenario_nbytes(sc: Scenario) -> int:
    arrays = (sc.v, sc.g, sc.a, sc.elevation_deg, sc.demand_rate)
    return int(sum(np.asarray(x).nbytes for x in arrays))


class EpisodeSource:
    """Where the environments' episodes come from: scenario draws, tables and forecasts.

    A source resolves the scenario configuration once, then hands out ``(scenario, tables)``
    pairs for scenario seeds drawn from the split's range (or a fixed scenario), keeping recent
    ones in a bounded LRU cache (building a scenario costs milliseconds for the APEX presets and
    ~0.3 s for ``europe-starlink``).

    Parameters
    ----------
    preset : str, optional
        Preset name or YAML path (``"medium"``).
    config : str, path, dict or ScenarioConfig, optional
        Alternative to ``preset``: any source :func:`leo_env.load_config` accepts.
    overrides : list of str or dict, optional
        Dotted overrides (``["demand.scale=1.5"]``).
    scenario : Scenario, optional
        A ready scenario: every episode uses it (fixed-scenario mode).
    scenario_seed : int, optional
        Every episode uses this scenario seed (fixed-scenario mode).
    seed_split : {"train", "eval"}
        Range the per-episode scenario seeds are drawn from: :data:`TRAIN_SEED_RANGE` or the
        disjoint :data:`EVAL_SEED_RANGE`.
    n_scenarios : int, optional
        Draw only from the first ``n_scenarios`` seeds of the split (a finite pool).
    n_candidates : int, optional
        Candidate list length; default ``min(S, 8)`` of the first scenario.
    predictor : {"naive", "ewma", "noisy-truth"} or callable
        Demand forecast rule (see :func:`forecast_tables`).
    prediction_error : float
        Relative standard deviation of the multiplicative forecast error, >= 0.
    ewma_alpha : float
        EWMA smoothing factor.
    cache_size : int
        Scenarios kept in the LRU cache (also bounded to ``cache_mb`` MiB).
    cache_mb : float
        Memory bound of the cache [MiB].
    """

    def __init__(
        self,
        preset: str | None = None,
        *,
        config: Any = None,
        overrides: list[str] | dict[str, Any] | None = None,
        scenario: Scenario | None = None,
        scenario_seed: int | None = None,
        seed_split: str = "train",
        n_scenarios: int | None = None,
        n_candidates: int | None = None,
        predictor: str | Forecaster = "noisy-truth",
        prediction_error: float = 0.1,
        ewma_alpha: float = 0.3,
        cache_size: int = 64,
        cache_mb: float = 1024.0,
    ) -> None:
        if seed_split not in SEED_SPLITS:
            raise ValueError(f"seed_split must be one of {SEED_SPLITS}, got {seed_split!r}")
        if sum(x is not None for x in (preset, config, scenario)) > 1:
            raise ValueError("give at most one of preset=, config= and scenario=")
        if scenario is not None and scenario_seed is not None:
            raise ValueError("give scenario= or scenario_seed=, not both")
        if not callable(predictor) and predictor not in PREDICTORS:
            raise ValueError(
                f"predictor must be one of {PREDICTORS} or a callable, got {predictor!r}"
            )
        if not (np.isfinite(prediction_error) and prediction_error >= 0):
            raise ValueError(f"prediction_error must be >= 0, got {prediction_error}")
        if not 0 < ewma_alpha <= 1:
            raise ValueError(f"ewma_alpha must be in (0, 1], got {ewma_alpha}")
        self.predictor = predictor
        self.prediction_error = float(prediction_error)
        self.ewma_alpha = float(ewma_alpha)
        if n_scenarios is not None and n_scenarios < 1:
            raise ValueError(f"n_scenarios must be >= 1, got {n_scenarios}")
        self.seed_split = seed_split
        lo, hi = TRAIN_SEED_RANGE if seed_split == "train" else EVAL_SEED_RANGE
        self.seed_range = (lo, hi if n_scenarios is None else min(hi, lo + int(n_scenarios)))
        self.fixed_scenario = scenario
        self.fixed_seed = None if scenario_seed is None else int(scenario_seed)
        self._cache = _LRU(cache_size, int(cache_mb * 2**20))
        if scenario is not None:
            self.config: ScenarioConfig | None = None
            self.name = scenario.name
            self._make_args: tuple[Any, Any] = (None, None)
            first = scenario
        else:
            src = config if config is not None else (preset if preset is not None else "medium")
            self.config = load_config(src, overrides)
            self.name = self.config.name
            # make_scenario's cached fast path is a preset name/path with list overrides
            if isinstance(src, (str, os.PathLike)) and not isinstance(overrides, dict):
                self._make_args = (src, list(overrides or []))
            else:
                self._make_args = (self.config, None)
            first = self._build(self.fixed_seed if self.fixed_seed is not None else lo)
        self.C = first.C
        self.K = first.K
        self.M = first.M
        self.S_first = first.S
        self.check(first)
        self.n_candidates = int(n_candidates) if n_candidates is not None else min(first.S, 8)
        if self.n_candidates < 1:
            raise ValueError(f"n_candidates must be >= 1, got {n_candidates}")
        self.H_max = int(np.max(first.H)) if first.H.size else 0
        d = self.config.demand if self.config is not None else None
        ref = d.high_rate_bps if d is not None else float(first.demand_rate.max()) / first.T_f
        self.demand_scale = float(ref * first.T_f * first.M) or 1.0
        self._first = first

    @property
    def fixed(self) -> bool:
        """True when every episode uses the same scenario."""
        return self.fixed_scenario is not None or self.fixed_seed is not None

    def _build(self, seed: int) -> Scenario:
        src, ov = self._make_args
        return make_scenario(src, seed=int(seed), overrides=ov)

    def draw_seed(self, rng: np.random.Generator) -> int | None:
        """Scenario seed of the next episode (``None`` for a ready scenario)."""
        if self.fixed_scenario is not None:
            return None
        if self.fixed_seed is not None:
            return self.fixed_seed
        lo, hi = self.seed_range
        return int(rng.integers(lo, hi))

    def get(
        self, seed: int | None = None, scenario: Scenario | None = None
    ) -> tuple[Scenario, EpisodeTables]:
        """Scenario and tables for ``seed`` (or a given ``scenario``), through the cache."""
        if scenario is None and seed is None:
            scenario = self.fixed_scenario
        if scenario is not None:
            key: Any = ("obj", id(scenario))
            hit = self._cache.get(key)
            if hit is not None and hit[0] is scenario:
                return hit
            sc = scenario
        else:
            key = ("seed", int(seed))  # type: ignore[arg-type]
            hit = self._cache.get(key)
            if hit is not None:
                return hit
            sc = self._first if (self._first.seed == seed and self.config is not None) else None
            if sc is None:
                sc = self._build(int(seed))  # type: ignore[arg-type]
        self.check(sc)
        tab = build_tables(sc, self.n_candidates)
        self._cache.put(key, (sc, tab), tab.nbytes + _scenario_nbytes(sc))
        return sc, tab

    def start(
        self, rng: np.random.Generator, options: dict[str, Any] | None = None
    ) -> tuple[Scenario, EpisodeTables, np.ndarray, np.ndarray]:
        """Draw the next episode: scenario, tables and forecast tables (base, factor).

        ``options`` may name the episode's scenario: ``{"scenario_seed": int}`` or
        ``{"scenario": Scenario}``; otherwise the seed is drawn from ``rng`` (or fixed).  The
        forecast errors are then drawn from ``rng``.
        """
        opts = options or {}
        if opts.get("scenario") is not None:
            sc, tab = self.get(scenario=opts["scenario"])
        elif opts.get("scenario_seed") is not None:
            sc, tab = self.get(seed=int(opts["scenario_seed"]))
        else:
            sc, tab = self.get(seed=self.draw_seed(rng))
        base, factor = forecast_tables(
            tab.demand, tab.prior, self.predictor, self.prediction_error, rng, self.ewma_alpha
        )
        return sc, tab, base, factor

    def check(self, sc: Scenario) -> None:
        """Raise if ``sc`` does not fit the spaces fixed at construction or leaves a cell uncovered."""
        if (sc.C, sc.K, sc.M) != (self.C, self.K, self.M):
            raise ValueError(
                f"scenario {sc.name!r} has C={sc.C}, K={sc.K}, M={sc.M}; this environment was "
                f"built for C={self.C}, K={self.K}, M={self.M}"
            )
        uncovered = np.nonzero(~np.asarray(sc.v, dtype=bool).any(axis=0))
        if uncovered[0].size:
            c, k = int(uncovered[0][0]), int(uncovered[1][0])
            raise ValueError(f"scenario {sc.name!r}: cell {c} sees no satellite in slot {k}")
        need = np.asarray(sc.min_handovers)
        over = np.flatnonzero(need > np.asarray(sc.H))
        if over.size:
            c = int(over[0])
            raise ValueError(
                f"scenario {sc.name!r} is budget-infeasible: cell {c} needs at least {int(need[c])} "
                f"handovers but its budget H is {int(np.asarray(sc.H)[c])} ({over.size} cell(s) affected); "
                "hard budgets cannot be met, so the scenario is refused"
            )
