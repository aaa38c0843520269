"""Batched dynamics of the downlink association MDP (plain numpy, no gymnasium).

The scalar environment is a batch of one and the native vector environment a batch of many;
both call the same two functions, which is what makes them agree step for step:

* :func:`decide_observe` -- the candidate lists and action masks of every environment at its
  slot, and the observation arrays;
* :func:`transition` -- repair, handover accounting, the inner allocation and the reward for a
  subset of rows.

Both run compiled kernels (:mod:`leo_env.envs.downlink._kernels`) so that no Python loop touches cells
or satellites; the numpy functions :func:`decide_reference`, :func:`observe_reference` and
:func:`apply_reference` are the readable specification the kernels are tested against.

Arrays carry the batch axis first.  :class:`Batch` holds the per-episode tables of every row
(stacked :class:`~leo_env.envs.downlink.tables.EpisodeTables`), :class:`State` the decision-dependent
state.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from leo_env.core.utility import row_metrics
from leo_env.envs.downlink._kernels import apply_kernel, decide_observe_kernel
from leo_env.envs.downlink.allocators import FINITE_CHECKING, Allocator
from leo_env.envs.downlink.tables import BIG, GAIN_CLIP, N_CAND_FEATURES, EpisodeTables
from leo_env.scenario import Scenario

__all__ = [
    "Params",
    "Batch",
    "State",
    "decide_observe",
    "transition",
    "transition_parts",
    "StepParts",
    "decide_reference",
    "observe_reference",
    "observe_lookahead",
    "forecast_window",
    "apply_reference",
    "LOAD_CLIP",
    "DEMAND_CLIP",
]

LOAD_CLIP = 10.0
"""Upper clip of the load features."""
DEMAND_CLIP = 100.0
"""Upper clip of the demand features (in units of ``demand_scale``)."""
NEED_CLIP = 4.0
"""Upper clip of the normalised forced-handover feature."""
MASK_MODES = ("full", "basic")


@dataclass(frozen=True)
class Params:
    """Constants shared by every row of a batch.

    Attributes
    ----------
    C, K, M, n : int
        Cells, slow slots, fast slots per slot, candidate list length.
    history : int
        Slots of demand history in the observation (``L``).
    mask_mode : {"full", "basic"}
        ``"full"``: visible and affordable under the handover-budget DP; ``"basic"``: visible,
        and switches only while budget is left (a lost satellite always frees the choice).
    demand_scale : float
        Demand features are divided by this [bit per slow slot].
    lookahead : int
        Slots ``k+1 .. k+lookahead`` described by the look-ahead entries of the observation
        (:func:`observe_lookahead`); 0: none.
    flat_forecast : bool
        The predictor extrapolates the current forecast flat over future slots (``naive``,
        ``ewma`` and callable predictors); False: ``noisy-truth`` forecasts every slot.
    """

    C: int
    K: int
    M: int
    n: int
    history: int
    mask_mode: str
    demand_scale: float
    lookahead: int = 0
    flat_forecast: bool = False


class Batch:
    """Stacked per-episode tables of ``B`` environments.

    Rows may hold scenarios with different satellite counts: arrays are padded to the largest
    ``S`` seen (padding satellites are never visible).
    """

    _PAD: dict[str, Any] = {
        "top": -1,
        "gain": -GAIN_CLIP,
        "rho": 0.0,
        "need": BIG,
        "vis_left": 0,
        "demand": 0.0,
        "arrivals": 0.0,
        "g_slot": 0.0,
        "prior": 0.0,
    }
    _S_AXIS = {"gain": 3, "rho": 3, "need": 3, "vis_left": 3, "g_slot": 2}

    def __init__(self, B: int, p: Params) -> None:  # noqa: N803
        self.B = int(B)
        self.p = p
        self.S = 0
        self.arrays: dict[str, np.ndarray] = {}
        self.fc_base = np.zeros((B, p.C, p.K))
        self.fc_factor = np.ones((B, p.C, p.K))
        self.N_PRB = np.ones((B, 0))
        self.P_max = np.ones((B, 0))
        self.H = np.zeros((B, p.C), dtype=np.int64)
        self.S_real = np.ones(B, dtype=np.int64)
        self.scenarios: list[Scenario | None] = [None] * B
        self.consts: dict[str, float] | None = None
        self.fading = np.zeros(B, dtype=bool)
        self.trusted = np.zeros(B, dtype=bool)
        """Rows whose allocator inputs are all finite for the whole episode (no fading, finite
        tables: :attr:`EpisodeTables.inputs_finite`); the step skips the allocator's check."""

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("arrays", {})
        if name in arrays:
            return arrays[name]
        raise AttributeError(name)

    def _grow(self, S: int, tab: EpisodeTables) -> None:  # noqa: N803
        """Allocate (first call) or pad every S-dependent array to ``S`` satellites."""
        B = self.B  # noqa: N806
        if not self.arrays:
            for name in self._PAD:
                src = getattr(tab, name)
                shape = [B, *src.shape]
                if name in self._S_AXIS:
                    shape[self._S_AXIS[name]] = S
                self.arrays[name] = np.full(tuple(shape), self._PAD[name], dtype=src.dtype)
            self.N_PRB = np.ones((B, S))
            self.P_max = np.ones((B, S))
        else:
            for name, ax in self._S_AXIS.items():
                old = self.arrays[name]
                pad = [(0, 0)] * old.ndim
                pad[ax] = (0, S - old.shape[ax])
                self.arrays[name] = np.pad(old, pad, constant_values=self._PAD[name])
            self.N_PRB = np.pad(self.N_PRB, ((0, 0), (0, S - self.S)), constant_values=1.0)
            self.P_max = np.pad(self.P_max, ((0, 0), (0, S - self.S)), constant_values=1.0)
        self.S = S

    def set(
        self, i: int, sc: Scenario, tab: EpisodeTables, fc_base: np.ndarray, fc_factor: np.ndarray
    ) -> None:
        """Load episode ``(sc, tab)`` and its forecast tables into row ``i``."""
        consts = {
            "eps": float(sc.eps),
            "lambda_h": float(sc.lambda_h),
            "W_PRB": float(sc.W_PRB),
            "N0": float(sc.N0),
            "T_f": float(sc.T_f),
        }
        if self.consts is None:
            self.consts = consts
        elif consts != self.consts:
            raise ValueError(
                f"every row of a batch needs the same constants: {consts} != {self.consts}"
            )
        if sc.S > self.S:
            self._grow(sc.S, tab)
        S = sc.S  # noqa: N806
        for name in self._PAD:
            dst = self.arrays[name][i]
            src = getattr(tab, name)
            if name in self._S_AXIS and S < self.S:
                ax = self._S_AXIS[name] - 1
                dst[...] = self._PAD[name]
                dst[(slice(None),) * ax + (slice(0, S),)] = src
            else:
                dst[...] = src
        self.fc_base[i] = fc_base
        self.fc_factor[i] = fc_factor
        self.N_PRB[i] = 1.0
        self.P_max[i] = 1.0
        self.N_PRB[i, :S] = sc.N_PRB
        self.P_max[i, :S] = sc.P_max
        self.H[i] = sc.H
        self.S_real[i] = S
        self.scenarios[i] = sc
        self.fading[i] = sc.fading != "none"
        self.trusted[i] = tab.inputs_finite and sc.fading == "none"

    @classmethod
    def single(
        cls, p: Params, sc: Scenario, tab: EpisodeTables, fc_base: np.ndarray, fc_factor: np.ndarray
    ) -> Batch:
        """A batch of one whose arrays are views of ``tab`` (no copy)."""
        bt = cls(1, p)
        bt.arrays = {name: getattr(tab, name)[None] for name in cls._PAD}
        bt.S = sc.S
        bt.fc_base = fc_base[None]
        bt.fc_factor = fc_factor[None]
        bt.N_PRB = np.asarray(sc.N_PRB, dtype=float)[None]
        bt.P_max = np.asarray(sc.P_max, dtype=float)[None]
        bt.H = np.asarray(sc.H, dtype=np.int64)[None]
        bt.S_real = np.array([sc.S])
        bt.scenarios = [sc]
        bt.fading = np.array([sc.fading != "none"])
        bt.trusted = np.array([tab.inputs_finite and sc.fading == "none"])
        bt.consts = {
            "eps": float(sc.eps),
            "lambda_h": float(sc.lambda_h),
            "W_PRB": float(sc.W_PRB),
            "N0": float(sc.N0),
            "T_f": float(sc.T_f),
        }
        return bt


def _table_property(name: str) -> property:
    def get(self: Batch) -> np.ndarray:
        return self.arrays[name]

    return property(get, doc=f"Stacked ``{name}`` table of the rows (a view of ``arrays``).")


# the tables as properties: a plain attribute lookup (~0.1 us) instead of the __getattr__
# fallback (~0.8 us, about ten per step)
for _name in Batch._PAD:
    setattr(Batch, _name, _table_property(_name))
del _name


class State:
    """Decision-dependent state of ``B`` environments, plus the current decision point.

    Attributes
    ----------
    k : ndarray of int, shape (B,)
        Slot about to be played (``K`` once the episode is over).
    cur : ndarray of int, shape (B, C)
        Satellite that served each cell in the previous slot (``-1`` before slot 0).
    budget : ndarray of int, shape (B, C)
        Handovers left.
    ho_total, em_cell : ndarray of int, shape (B, C)
        Handovers so far, and how many of them were emergencies.
    last_xi : ndarray, shape (B, C)
        Satisfaction of the previous slot (``nan``: none or no demand).
    repairs_total, emergencies_total : ndarray of int, shape (B,)
        Repaired cell actions and emergency handovers so far.
    ret : ndarray, shape (B,)
        Episode return so far.
    cand, mask, is_cur, valid : ndarray, shape (B, C, n)
        Current decision point (set by :func:`decide`).
    """

    def __init__(self, B: int, p: Params) -> None:  # noqa: N803
        C, n = p.C, p.n  # noqa: N806
        self.k = np.zeros(B, dtype=np.int64)
        self.cur = np.full((B, C), -1, dtype=np.int64)
        self.budget = np.zeros((B, C), dtype=np.int64)
        self.ho_total = np.zeros((B, C), dtype=np.int64)
        self.em_cell = np.zeros((B, C), dtype=np.int64)
        self.last_xi = np.full((B, C), np.nan)
        self.repairs_total = np.zeros(B, dtype=np.int64)
        self.emergencies_total = np.zeros(B, dtype=np.int64)
        self.ret = np.zeros(B)
        self.cand = np.full((B, C, n), -1, dtype=np.int64)
        self.mask = np.zeros((B, C, n), dtype=bool)
        self.is_cur = np.zeros((B, C, n), dtype=bool)
        self.valid = np.zeros((B, C, n), dtype=bool)
        self.decision = (self.cand, self.mask, self.is_cur, self.valid)
        """The buffers :func:`decide_observe` writes ``cand, mask, is_cur, valid`` into."""

    def reset_rows(self, rows: np.ndarray | slice, H: np.ndarray) -> None:  # noqa: N803
        """Start new episodes in ``rows`` with budgets ``H`` (broadcast to (len(rows), C))."""
        self.k[rows] = 0
        self.cur[rows] = -1
        self.budget[rows] = H
        self.ho_total[rows] = 0
        self.em_cell[rows] = 0
        self.last_xi[rows] = np.nan
        self.repairs_total[rows] = 0
        self.emergencies_total[rows] = 0
        self.ret[rows] = 0.0


def _take(arr: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``arr[b, c, idx[b, c, j]]`` for arrays (B, C, S) and indices (B, C, n)."""
    return np.take_along_axis(arr, idx, axis=2)


def decide_reference(bt: Batch, st: State) -> None:
    """Compute every row's candidate list and action mask at its current slot (in place).

    Candidates are the ``n`` strongest visible satellites (``bt.top``); a visible current
    satellite outside them takes the last place, and under ``mask_mode="full"`` a cell whose
    list holds no affordable satellite gets its strongest affordable one there.  Rows whose
    mask would still be empty (only on budget-infeasible scenarios) allow every visible
    candidate; a switch there is an emergency.
    """
    p = bt.p
    B, n = bt.B, p.n  # noqa: N806
    b = np.arange(B)
    k = np.minimum(st.k, p.K - 1)
    need_k = bt.need[b, k]  # (B, C, S)
    cand = bt.top[b, k].astype(np.int64)  # (B, C, n)
    cur = st.cur
    has_cur = cur >= 0
    cur_i = np.where(has_cur, cur, 0)
    cur_vis = has_cur & (np.take_along_axis(need_k, cur_i[..., None], 2)[..., 0] < BIG)
    miss = cur_vis & ~(cand == cur[..., None]).any(-1)
    if miss.any():
        cand[miss, n - 1] = cur[miss]
    budget = st.budget[..., None]

    def _mask(cand: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        valid = cand >= 0
        is_cur = valid & (cand == cur[..., None])
        if p.mask_mode == "full":
            cost = _take(need_k, np.where(valid, cand, 0)) + has_cur[..., None]
            mask = valid & (is_cur | (cost <= budget))
        else:
            mask = valid & (is_cur | ~cur_vis[..., None] | (budget > 0))
        return valid, is_cur, mask

    valid, is_cur, mask = _mask(cand)
    empty = np.asarray(~mask.any(-1))
    if p.mask_mode == "full" and empty.any():
        eb, ec = np.nonzero(empty)
        cost = need_k[eb, ec] + has_cur[eb, ec][:, None]  # (E, S)
        aff = cost <= st.budget[eb, ec][:, None]
        ok = aff.any(-1)
        if ok.any():
            gk = bt.gain[eb, k[eb], ec]  # (E, S)
            best = np.where(aff, gk, -np.inf).argmax(-1)
            cand[eb[ok], ec[ok], n - 1] = best[ok]
            valid, is_cur, mask = _mask(cand)
            empty = np.asarray(~mask.any(-1))
    if empty.any():
        mask = np.where(empty[..., None], valid, mask)
    st.cand, st.mask, st.is_cur, st.valid = cand, mask, is_cur, valid


def forecast_now(bt: Batch, st: State) -> np.ndarray:
    """Forecast of the current slot's demand of every cell, shape (B, C) [bit]."""
    b = np.arange(bt.B)
    k = np.minimum(st.k, bt.p.K - 1)
    return bt.fc_base[b, :, k] * bt.fc_factor[b, :, k]


def forecast_window(bt: Batch, st: State, first: int, h: int) -> np.ndarray:
    """Forecasts of slots ``k+first .. k+first+h-1`` of every row, shape (B, C, h) [bit].

    What the predictor expects before slot ``k``'s arrivals: ``noisy-truth`` forecasts each
    slot with that slot's error factor; the other predictors extrapolate the current base
    forecast flat (with each slot's factor).  Slots past the horizon ``K`` are 0.
    """
    p = bt.p
    b = np.arange(bt.B)[:, None]
    k = np.minimum(st.k, p.K - 1)
    j = k[:, None] + first + np.arange(h)[None, :]  # (B, h)
    inside = j < p.K
    jj = np.minimum(j, p.K - 1)
    fac = bt.fc_factor[b, :, jj]  # (B, h, C)
    base = bt.fc_base[b, :, k[:, None]] if p.flat_forecast else bt.fc_base[b, :, jj]
    return np.where(inside[..., None], base * fac, 0.0).transpose(0, 2, 1)


def observe_lookahead(bt: Batch, st: State) -> dict[str, np.ndarray]:
    """Look-ahead entries of the observation (``p.lookahead = A > 0``), float32, axis B first.

    * ``forecast_ahead`` (B, C, A): the predictor's forecast of slots ``k+1 .. k+A`` /
      ``demand_scale`` (0 past the horizon);
    * ``candidates_ahead`` (B, C, n, A): gain feature of each listed candidate in slots
      ``k+1 .. k+A`` (``-GAIN_CLIP`` where it is no longer visible, for padding entries and past
      the horizon): when the candidate sets;
    * ``best_ahead`` (B, C, A): the best gain feature over every satellite in those slots,
      rising satellites included: when a better satellite comes up.

    Orbits are known in advance, so the geometry entries reveal nothing the agent could not
    compute itself; only the forecasts carry (noisy) information about future demand.
    """
    p = bt.p
    A, K = p.lookahead, p.K  # noqa: N806
    b = np.arange(bt.B)
    k = np.minimum(st.k, K - 1)
    j = k[:, None] + 1 + np.arange(A)[None, :]  # (B, A)
    inside = j < K
    g = bt.gain[b[:, None], np.minimum(j, K - 1)]  # (B, A, C, S)
    g = np.where(inside[..., None, None], g, -GAIN_CLIP)
    ci = np.where(st.valid, st.cand, 0)  # (B, C, n)
    gc = np.take_along_axis(g, np.broadcast_to(ci[:, None], (bt.B, A, *ci.shape[1:])), axis=3)
    gc = np.where(st.valid[:, None], gc, -GAIN_CLIP)  # (B, A, C, n)
    fc = forecast_window(bt, st, 1, A) / p.demand_scale
    return {
        "forecast_ahead": fc.clip(0.0, DEMAND_CLIP).astype(np.float32),
        "candidates_ahead": gc.transpose(0, 2, 3, 1).astype(np.float32),
        "best_ahead": g.max(-1).transpose(0, 2, 1).astype(np.float32),
    }


def observe_reference(bt: Batch, st: State) -> dict[str, np.ndarray]:
    """Observation arrays of every row (call :func:`decide_reference` first); float32, axis B first.

    See :class:`~leo_env.envs.downlink.DownlinkEnv` for the meaning of each entry.
    """
    p = bt.p
    B, C, n, K, L = bt.B, p.C, p.n, p.K, p.history  # noqa: N806
    b = np.arange(B)
    k = np.minimum(st.k, K - 1)
    cand, valid = st.cand, st.valid
    ci = np.where(valid, cand, 0)
    feats = np.zeros((B, C, n, N_CAND_FEATURES), dtype=np.float32)
    feats[..., 0] = np.where(valid, _take(bt.gain[b, k], ci), 0.0)
    feats[..., 1] = np.where(valid, _take(bt.vis_left[b, k], ci), 0) / K
    # load of each satellite under the previous association
    S = bt.S  # noqa: N806
    cur = st.cur
    has_cur = cur >= 0
    cur_i = np.where(has_cur, cur, 0)
    fc = forecast_now(bt, st)
    if has_cur.any():
        rho_cur = np.take_along_axis(bt.rho[b, k], cur_i[..., None], 2)[..., 0].astype(float)
        w = np.where(has_cur & (rho_cur > 0), fc / np.where(rho_cur > 0, rho_cur, 1.0), 0.0)
        flat = (b[:, None] * S + cur_i)[has_cur]
        cnt = np.bincount(flat, minlength=B * S).reshape(B, S)
        dload = np.bincount(flat, weights=w[has_cur], minlength=B * S).reshape(B, S)
        cflat = ci.reshape(B, C * n)
        per_sat = (bt.S_real / C)[:, None]
        feats[..., 2] = (np.take_along_axis(cnt * per_sat, cflat, 1).reshape(B, C, n) * valid).clip(
            0.0, LOAD_CLIP
        )
        feats[..., 3] = (np.take_along_axis(dload, cflat, 1).reshape(B, C, n) * valid).clip(
            0.0, LOAD_CLIP
        )
    feats[..., 4] = st.is_cur
    feats[..., 5] = valid
    hn = np.maximum(bt.H, 1)[..., None]
    need_c = _take(bt.need[b, k], ci)
    feats[..., 6] = np.where(valid, np.minimum(need_c / hn, NEED_CLIP), 0.0)
    # demand history: D[k-L], ..., D[k-1] (zeros before slot 0), oldest first
    lag = k[:, None] - np.arange(L, 0, -1)[None, :]  # (B, L)
    hist = bt.demand[b[:, None], :, np.maximum(lag, 0)]  # (B, L, C)
    hist = np.where((lag >= 0)[..., None], hist, 0.0).transpose(0, 2, 1) / p.demand_scale
    served = np.where(np.isnan(st.last_xi), 1.0, st.last_xi)
    obs = {
        "candidates": feats,
        "budget": (st.budget / np.maximum(bt.H, 1)).clip(0.0, 1.0).astype(np.float32),
        "served": served.astype(np.float32),
        "demand_history": hist.clip(0.0, DEMAND_CLIP).astype(np.float32),
        "forecast": (fc / p.demand_scale).clip(0.0, DEMAND_CLIP).astype(np.float32),
        "time": (st.k / K).astype(np.float32)[:, None],
        "action_mask": st.mask.reshape(B, C * n).astype(np.float32),
    }
    if p.lookahead > 0:
        obs.update(observe_lookahead(bt, st))
    return obs


def decide_observe(bt: Batch, st: State) -> dict[str, np.ndarray]:
    """Decision point and observation of every row in one compiled pass.

    Sets ``st.cand, st.mask, st.is_cur, st.valid`` and returns the observation arrays
    (float32, leading axis B); same values as :func:`decide_reference` followed by
    :func:`observe_reference`.
    """
    p = bt.p
    B, C, n, L = bt.B, p.C, p.n, p.history  # noqa: N806
    # the decision arrays are the state's own buffers, overwritten in full by the kernel (never
    # handed out: the environments return copies); decide_reference may have rebound them
    st.cand, st.mask, st.is_cur, st.valid = st.decision
    f32 = np.float32
    obs = {
        "candidates": np.empty((B, C, n, N_CAND_FEATURES), dtype=f32),
        "budget": np.empty((B, C), dtype=f32),
        "served": np.empty((B, C), dtype=f32),
        "demand_history": np.empty((B, C, L), dtype=f32),
        "forecast": np.empty((B, C), dtype=f32),
        "time": np.empty((B, 1), dtype=f32),
        "action_mask": np.empty((B, C * n), dtype=f32),
    }
    decide_observe_kernel(
        bt.top,
        bt.gain,
        bt.rho,
        bt.need,
        bt.vis_left,
        bt.demand,
        bt.fc_base,
        bt.fc_factor,
        bt.H,
        bt.S_real,
        st.k,
        st.cur,
        st.budget,
        st.last_xi,
        p.mask_mode == "full",
        int(BIG),
        float(p.demand_scale),
        DEMAND_CLIP,
        LOAD_CLIP,
        NEED_CLIP,
        st.cand,
        st.mask,
        st.is_cur,
        st.valid,
        obs["candidates"],
        obs["budget"],
        obs["served"],
        obs["demand_history"],
        obs["forecast"],
        obs["time"],
        obs["action_mask"],
    )
    if p.lookahead > 0:
        obs.update(observe_lookahead(bt, st))
    return obs


def apply_reference(
    st: State, rows: np.ndarray, act: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Repair ``act`` (R, C) and account handovers (numpy reference of the compiled kernel).

    Invalid entries (out of range or masked) become the current satellite when it is allowed,
    else the first (strongest) allowed candidate.  Budgets of ``rows`` are updated in place;
    a handover without budget is an emergency and consumes none.

    Returns
    -------
    sat, h, emerg, repaired : ndarray, shape (R, C)
        Serving satellites, handover flags, emergency flags, repair flags.
    """
    n = st.cand.shape[2]
    cand, mask, is_cur = st.cand[rows], st.mask[rows], st.is_cur[rows]
    inr = (act >= 0) & (act < n)
    ai = np.clip(act, 0, n - 1)
    ok = inr & np.take_along_axis(mask, ai[..., None], 2)[..., 0]
    stay = is_cur & mask
    rep = np.where(stay.any(-1), stay.argmax(-1), mask.argmax(-1))
    idx = np.where(ok, ai, rep)
    sat = np.take_along_axis(cand, idx[..., None], 2)[..., 0]
    cur = st.cur[rows]
    h = (cur >= 0) & (sat != cur)
    budget = st.budget[rows]
    emerg = h & (budget <= 0)
    st.budget[rows] = budget - (h & ~emerg)
    return sat, h, emerg, ~ok


def _gains(bt: Batch, rows: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Allocator gains of ``rows`` at slots ``k``: (R, S, C), or (R, S, C, M) with fading."""
    one = len(rows) == 1
    g = bt.g_slot[rows[0], k[0]][None] if one else bt.g_slot[rows, k]
    if not (bt.fading[rows[0]] if one else bt.fading[rows].any()):
        return g
    out = np.repeat(g[..., None], bt.p.M, axis=3)
    for j, (r, kk) in enumerate(zip(rows, k, strict=True)):
        sc = bt.scenarios[r]
        if sc is not None and sc.fading != "none":
            out[j, : sc.S] = sc.fast_gain(int(kk))
    return out


def invalid_cells(st: State, rows: np.ndarray, action: np.ndarray) -> np.ndarray:
    """Which cell actions of ``rows`` are invalid (out of range or masked), shape (R, C)."""
    act = np.asarray(action, dtype=np.int64)
    n = st.mask.shape[2]
    in_range = (act >= 0) & (act < n)
    masks = st.mask[rows]
    ok = np.take_along_axis(masks, np.clip(act, 0, n - 1)[..., None], axis=2)[..., 0]
    return ~(in_range & ok)


def blank_info(st: State, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Info arrays with the keys, shapes and dtypes of :func:`transition`'s, before any slot.

    ``reset`` returns them so that reset and step infos carry the same keys: nothing played
    yet (``slot = -1``, no association, zeros for satisfaction, utility, Jain and counts; no
    ``nan``, so equality checks and batched readers work), the budgets and running totals as
    they stand.
    """
    R = len(rows)  # noqa: N806
    C = st.cur.shape[1]  # noqa: N806
    zeros_c = np.zeros((R, C), dtype=np.int64)
    return {
        "slot": np.full(R, -1, dtype=np.int64),
        "assoc": st.cur[rows].copy(),
        "xi": np.zeros((R, C)),
        "served_bits": np.zeros((R, C)),
        "demand_bits": np.zeros((R, C)),
        "handovers": zeros_c.copy(),
        "handovers_total": st.ho_total[rows].copy(),
        "budget_left": st.budget[rows].copy(),
        "repaired": np.zeros((R, C), dtype=bool),
        "emergency": np.zeros((R, C), dtype=bool),
        "repairs": np.zeros(R, dtype=np.int64),
        "emergencies": np.zeros(R, dtype=np.int64),
        "repairs_total": st.repairs_total[rows].copy(),
        "emergencies_total": st.emergencies_total[rows].copy(),
        "budget_violations": np.zeros(R, dtype=np.int64),
        "utility": np.zeros(R),
        "handover_cost": np.zeros(R),
        "jain": np.zeros(R),
    }


class StepParts(NamedTuple):
    """What :func:`transition_parts` returns: the slot's outcome of ``R`` rows, axis R first.

    Every array is fresh (written by this step only), so callers may hand them out.
    """

    reward: np.ndarray
    """(R,) utility minus handover cost."""
    slot: np.ndarray
    """(R,) slot played."""
    sat: np.ndarray
    """(R, C) serving satellites."""
    xi: np.ndarray
    """(R, C) satisfaction (``nan``: no demand)."""
    served_bits: np.ndarray
    """(R, C) bits served [bit]."""
    demand_bits: np.ndarray
    """(R, C) realised demand of the slot [bit]."""
    handovers: np.ndarray
    """(R, C) handovers of the slot (0/1, int64)."""
    handovers_total: np.ndarray
    """(R, C) handovers so far."""
    budget_left: np.ndarray
    """(R, C) handovers left."""
    repaired: np.ndarray
    """(R, C) repaired actions."""
    emergency: np.ndarray
    """(R, C) emergency handovers."""
    counts: np.ndarray
    """(R, 6) int64: handovers, emergencies, repairs, budget violations, repairs so far,
    emergencies so far."""
    utility: np.ndarray
    """(R,) proportional-fair utility."""
    cost: np.ndarray
    """(R,) handover cost."""
    jain: np.ndarray
    """(R,) Jain index of ``xi``."""
    dt: float
    """Wall time spent in the allocator [s]."""


def transition_parts(
    bt: Batch, st: State, rows: np.ndarray, action: np.ndarray, allocator: Allocator
) -> StepParts:
    """:func:`transition` without building the info dict (the scalar environment's step)."""
    p = bt.p
    cons = bt.consts or {}
    act = np.asarray(action)
    C = p.C  # noqa: N806
    if act.shape != (len(rows), C):
        raise ValueError(
            f"action must hold {C} candidate indices per environment, got {act.shape}"
        )
    act = np.ascontiguousarray(act, dtype=np.int64)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    R = len(rows)  # noqa: N806
    one = R == 1
    sel: slice | np.ndarray = slice(None) if R == bt.B else rows  # views when every row plays
    i64 = np.int64
    sat = np.empty((R, C), dtype=i64)
    h = np.empty((R, C), dtype=i64)
    emerg = np.empty((R, C), dtype=bool)
    repaired = np.empty((R, C), dtype=bool)
    ho = np.empty((R, C), dtype=i64)
    budget = np.empty((R, C), dtype=i64)
    demand = np.empty((R, C))
    counts = np.empty((R, 6), dtype=i64)
    k = st.k[sel].copy()
    apply_kernel(
        rows,
        act,
        st.cand,
        st.mask,
        st.is_cur,
        st.cur,
        st.budget,
        st.ho_total,
        st.em_cell,
        bt.H,
        st.repairs_total,
        st.emergencies_total,
        st.k,
        bt.demand,
        sat,
        h,
        emerg,
        repaired,
        ho,
        budget,
        demand,
        counts,
    )
    a = bt.arrivals[rows[0], k[0]][None] if one else bt.arrivals[rows, k]  # (R, C, M)
    # the exact allocators check finiteness in debug mode; rows whose tables were checked
    # when built (and that have no per-step fading gains) need no check per step
    skip = allocator in FINITE_CHECKING and (
        bt.trusted[rows[0]] if one else bt.trusted[rows].all()
    )
    t0 = time.perf_counter()
    alloc = allocator(
        sat,
        a,
        _gains(bt, rows, k),
        N_PRB=bt.N_PRB[sel],
        P_max=bt.P_max[sel],
        W_PRB=cons["W_PRB"],
        N0=cons["N0"],
        T_f=cons["T_f"],
        eps=cons["eps"],
        **_CHECKED if skip else {},
    )
    dt = time.perf_counter() - t0
    xi = np.ascontiguousarray(alloc.xi, dtype=float)
    # the one definition of the objective (leo_env.core.utility, also used by
    # oracles.p2.evaluate): the kernel behind log_utility(xi, eps, axis=1) and
    # jain_index(xi, axis=1), called once for both (their wrappers cost ~20 us per step)
    utility = np.empty(R)
    jain = np.empty(R)
    row_metrics(xi, _ones(xi.shape), float(cons["eps"]), utility, jain)
    cost = cons["lambda_h"] * counts[:, 0]
    reward = utility - cost
    if not (math.isfinite(reward[0]) if one else np.isfinite(reward).all()):
        bad = int(np.flatnonzero(~np.isfinite(reward))[0])
        raise FloatingPointError(
            f"non-finite reward in slot {int(k[bad])}: utility {utility[bad]!r}, handover cost "
            f"{cost[bad]!r} (eps={cons['eps']!r}, lambda_h={cons['lambda_h']!r}); the scenario's "
            "numbers are out of range"
        )
    st.cur[sel] = sat
    st.k[sel] = k + 1
    st.last_xi[sel] = xi
    st.ret[sel] += reward
    return StepParts(
        reward, k, sat, xi, alloc.served_bits, demand, h, ho, budget, repaired, emerg, counts,
        utility, cost, jain, dt,
    )  # fmt: skip


_CHECKED = {"inputs_finite": True}

_ONES: dict[tuple[int, ...], np.ndarray] = {}


def _ones(shape: tuple[int, ...]) -> np.ndarray:
    """Ones of ``shape``, cached (the utility's unit weights; only ever read, never returned).

    Writable on purpose: a read-only array is another numba type (one more compile).
    """
    w = _ONES.get(shape)
    if w is None:
        w = _ONES[shape] = np.ones(shape)
    return w


def transition(
    bt: Batch, st: State, rows: np.ndarray, action: np.ndarray, allocator: Allocator
) -> tuple[np.ndarray, dict[str, np.ndarray], float]:
    """Play the current slot of ``rows`` with ``action`` (R, C) candidate indices.

    Invalid entries (out of range or masked) are repaired: keep the current satellite when it
    is allowed, else take the strongest allowed candidate.  Returns the rewards (R,), the info
    arrays (leading axis R) and the wall time spent in the allocator [s] (not part of info).
    """
    q = transition_parts(bt, st, rows, action, allocator)
    counts = q.counts
    info: dict[str, Any] = {
        "slot": q.slot,
        "assoc": q.sat,
        "xi": q.xi,
        "served_bits": q.served_bits,
        "demand_bits": q.demand_bits,
        "handovers": q.handovers,
        "handovers_total": q.handovers_total,
        "budget_left": q.budget_left,
        "repaired": q.repaired,
        "emergency": q.emergency,
        "repairs": counts[:, 2],
        "emergencies": counts[:, 1],
        "repairs_total": counts[:, 4],
        "emergencies_total": counts[:, 5],
        "budget_violations": counts[:, 3],
        "utility": q.utility,
        "handover_cost": q.cost,
        "jain": q.jain,
    }
    return q.reward, info, q.dt
