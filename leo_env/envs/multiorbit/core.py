"""Step logic shared by the scalar and vector multiorbit environments (one episode each)."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from leo_env.core.cochannel import CochannelInstance
from leo_env.envs.multiorbit.params import AssocEnvParams, SelectEnvParams
from leo_env.scenario.multiorbit import build_instance, remaining_visible_s
from oracles.multiorbit.jubpa import allocate_for_association, jubpa
from oracles.multiorbit.solution import Solution

__all__ = [
    "INFO_KEYS",
    "SAT_FEATURES",
    "select_spaces",
    "assoc_spaces",
    "SelectEpisode",
    "AssocEpisode",
]

INFO_KEYS = (
    "slot",
    "t_s",
    "sum_rate_mbps",
    "objective_mbps",
    "n_unmet",
    "n_selected",
    "n_switched",
    "n_candidates",
    "rounds",
    "invalid",
)
"""Keys of ``info`` (same at reset and at every step)."""

SAT_FEATURES = (
    "plane / planes",
    "share of UEs with the satellite in their cone",
    "mean elevation / 90",
    "max elevation / 90",
    "mean SNR at 1 W [dB] / 30 over the UEs in the cone",
    "max SNR at 1 W [dB] / 30 over the UEs in the cone",
    "served in the previous slot",
    "remaining time in some UE's cone / horizon (0 when the horizon is 0)",
)
"""Columns of ``obs["sat"]``."""

_CLIP = 3.0


def _box(shape: tuple[int, ...], lo: float = -_CLIP, hi: float = _CLIP) -> spaces.Box:
    return spaces.Box(lo, hi, shape, dtype=np.float32)


def select_spaces(p: SelectEnvParams) -> tuple[spaces.Dict, spaces.Box]:
    """Observation and action spaces of the selection environment."""
    s, u = int(p.max_candidates), int(p.n_ues)
    obs = spaces.Dict(
        {
            "sat": _box((s, len(SAT_FEATURES))),
            "gain": _box((s, u)),
            "visible": _box((s, u), 0.0, 1.0),
            "mask": _box((s,), 0.0, 1.0),
            "context": _box((3,), 0.0, 1.0e6),
        }
    )
    return obs, spaces.Box(-1.0, 1.0, (s,), dtype=np.float32)


def assoc_spaces(p: AssocEnvParams) -> tuple[spaces.Dict, spaces.MultiDiscrete]:
    """Observation and action spaces of the association environment."""
    s, u = int(p.max_candidates), int(p.n_ues)
    obs = spaces.Dict(
        {
            "sat": _box((s, len(SAT_FEATURES))),
            "gain": _box((u, s)),
            "visible": _box((u, s), 0.0, 1.0),
            "prev": _box((u, s), 0.0, 1.0),
            "context": _box((3,), 0.0, 1.0e6),
        }
    )
    return obs, spaces.MultiDiscrete(np.full(u, s + 1, dtype=np.int64))


class _Episode:
    """One episode: the slot instances of one seed and the switching memory."""

    def __init__(self, params: SelectEnvParams | AssocEnvParams) -> None:
        self.params = params
        self.sc = params.scenario()
        self.seed = 0
        self.k = 0
        self.inst: CochannelInstance | None = None
        self.last: Solution | None = None
        self.prev_sats: frozenset[int] | None = None  # constellation ids served last slot
        self.prev_ue_sat = np.full(int(params.n_ues), -1, dtype=np.int64)
        self.remaining = np.zeros(0)

    @property
    def done(self) -> bool:
        """True after the last slot was played."""
        return self.k >= int(self.params.n_slots)

    @property
    def instance(self) -> CochannelInstance:
        """The current slot's instance (the last one once the episode is over)."""
        assert self.inst is not None, "reset first"
        return self.inst

    def start(self, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """New episode: scenario seed drawn from ``rng``."""
        self.seed = int(rng.integers(0, 2**31 - 1))
        self.k = 0
        self.last = None
        self.prev_sats = None
        self.prev_ue_sat[:] = -1
        self._load()
        info = dict.fromkeys(INFO_KEYS, 0.0)
        info["n_candidates"] = float(self.instance.n_sats)
        return self.observation(), info

    def _load(self) -> None:
        self.inst = build_instance(self.sc, self.seed, self.k)
        h = float(self.params.visibility_horizon_s)
        if h > 0:
            self.remaining = remaining_visible_s(self.sc, self.seed, self.k, h) / h
        else:
            self.remaining = np.zeros(self.inst.n_sats)

    # ------------------------------------------------------------------ features
    def _sat_features(self) -> np.ndarray:
        inst = self.instance
        s_max = int(self.params.max_candidates)
        out = np.zeros((s_max, len(SAT_FEATURES)), dtype=np.float32)
        n = inst.n_sats
        snr = self._snr_db()
        vis = inst.visible
        with np.errstate(invalid="ignore"):
            mean_snr = np.where(vis, snr, 0.0).sum(1) / np.maximum(vis.sum(1), 1)
        max_snr = np.where(vis, snr, -np.inf).max(1)
        out[:n, 0] = inst.plane / self.sc.shell.planes
        out[:n, 1] = vis.mean(axis=1)
        out[:n, 2] = inst.elevation_deg.mean(axis=1) / 90.0
        out[:n, 3] = inst.elevation_deg.max(axis=1) / 90.0
        out[:n, 4] = np.clip(mean_snr / 30.0, -_CLIP, _CLIP)
        out[:n, 5] = np.clip(max_snr / 30.0, -_CLIP, _CLIP)
        if self.prev_sats:
            out[:n, 6] = np.isin(inst.sat_id, list(self.prev_sats))
        out[:n, 7] = self.remaining
        return out

    def _snr_db(self) -> np.ndarray:
        inst = self.instance
        return 10.0 * np.log10(inst.gain.mean(axis=2) / inst.noise_w)  # (S, U) at 1 W

    def _gain_obs(self) -> tuple[np.ndarray, np.ndarray]:
        inst = self.instance
        s_max, u = int(self.params.max_candidates), int(self.params.n_ues)
        gain = np.zeros((s_max, u), dtype=np.float32)
        vis = np.zeros((s_max, u), dtype=np.float32)
        n = inst.n_sats
        gain[:n] = np.where(inst.visible, np.clip(self._snr_db() / 30.0, -_CLIP, _CLIP), 0.0)
        vis[:n] = inst.visible
        return gain, vis

    def _context(self) -> np.ndarray:
        p = self.params
        return np.array(
            [
                self.k / int(p.n_slots),
                p.r_min_bps / self.sc.bandwidth_hz,
                p.k_max / p.max_candidates,
            ],
            dtype=np.float32,
        )

    def observation(self) -> dict[str, np.ndarray]:  # pragma: no cover - overridden
        raise NotImplementedError

    # ------------------------------------------------------------------ stepping
    def _finish(self, sol: Solution, invalid: int, rounds: int) -> tuple[float, dict[str, Any]]:
        inst = self.instance
        sats = frozenset(int(inst.sat_id[s]) for s in sol.selected)
        ue_sat = np.where(sol.assoc >= 0, inst.sat_id[np.maximum(sol.assoc, 0)], -1)
        n_switched = self._switches(sats, ue_sat)
        reward = sol.objective_mbps - float(self.params.lambda_switch_mbps) * n_switched
        info = {
            "slot": float(self.k),
            "t_s": float(self.k * self.sc.slot_s),
            "sum_rate_mbps": sol.sum_rate_mbps,
            "objective_mbps": sol.objective_mbps,
            "n_unmet": float(sol.n_unmet),
            "n_selected": float(len(sol.selected)),
            "n_switched": float(n_switched),
            "n_candidates": float(inst.n_sats),
            "rounds": float(rounds),
            "invalid": float(invalid),
        }
        self.last = sol
        self.prev_sats = sats
        self.prev_ue_sat = ue_sat.astype(np.int64)
        self.k += 1
        if not self.done:
            self._load()
        return float(reward), info

    def _switches(self, sats: frozenset[int], ue_sat: np.ndarray) -> int:  # pragma: no cover
        raise NotImplementedError


class SelectEpisode(_Episode):
    """Episode of ``MultiOrbitSelect-v0``."""

    params: SelectEnvParams

    def observation(self) -> dict[str, np.ndarray]:
        """Observation of the current slot."""
        gain, vis = self._gain_obs()
        mask = np.zeros(int(self.params.max_candidates), dtype=np.float32)
        mask[: self.instance.n_sats] = 1.0
        return {
            "sat": self._sat_features(),
            "gain": gain,
            "visible": vis,
            "mask": mask,
            "context": self._context(),
        }

    def subset_from_action(self, action: np.ndarray) -> tuple[int, ...]:
        """Serving subset for a score vector (see the env docstring)."""
        a = np.asarray(action, dtype=np.float64).reshape(-1)
        n = self.instance.n_sats
        if a.shape != (int(self.params.max_candidates),) or not np.all(np.isfinite(a)):
            raise ValueError(f"action must be finite with shape ({self.params.max_candidates},)")
        scores = a[:n]
        k_max = min(self.params.k_max, n)
        order = np.argsort(-scores, kind="stable")
        chosen = [int(i) for i in order[:k_max] if scores[i] > 0]
        if not chosen:
            chosen = [int(order[0])]
        return tuple(sorted(chosen))

    def action_for_subset(self, subset: tuple[int, ...] | list[int]) -> np.ndarray:
        """Score vector that serves exactly ``subset`` (+1 inside, -1 elsewhere)."""
        out = -np.ones(int(self.params.max_candidates), dtype=np.float32)
        out[list(subset)] = 1.0
        return out

    def solve(self, subset: tuple[int, ...]) -> Solution:
        """The inner allocation on ``subset``."""
        p = self.params
        if p.inner == "jubpa":
            return jubpa(self.instance, subset)
        return jubpa(self.instance, subset, max_rounds=int(p.jubpa_rounds), method="fast")

    def step(self, action: np.ndarray) -> tuple[float, dict[str, Any]]:
        """Serve the chosen subset in the current slot."""
        sol = self.solve(self.subset_from_action(action))
        return self._finish(sol, 0, int(sol.info.get("rounds", 0)))

    def _switches(self, sats: frozenset[int], ue_sat: np.ndarray) -> int:
        if self.prev_sats is None:
            return 0
        return len(sats.symmetric_difference(self.prev_sats))


class AssocEpisode(_Episode):
    """Episode of ``MultiOrbitAssoc-v0``."""

    params: AssocEnvParams

    def observation(self) -> dict[str, np.ndarray]:
        """Observation of the current slot."""
        gain, vis = self._gain_obs()
        inst = self.instance
        prev = np.zeros((int(self.params.n_ues), int(self.params.max_candidates)), np.float32)
        served = self.prev_ue_sat >= 0
        if served.any():
            match = self.prev_ue_sat[:, None] == inst.sat_id[None, :]
            prev[:, : inst.n_sats] = match & served[:, None]
        return {
            "sat": self._sat_features(),
            "gain": gain.T.copy(),
            "visible": vis.T.copy(),
            "prev": prev,
            "context": self._context(),
        }

    def action_masks(self) -> np.ndarray:
        """Valid choices, flattened (U * (S_max + 1),): "unserved" and satellites in the cone."""
        inst = self.instance
        u, s_max = int(self.params.n_ues), int(self.params.max_candidates)
        m = np.zeros((u, s_max + 1), dtype=bool)
        m[:, 0] = True
        m[:, 1 : inst.n_sats + 1] = inst.visible.T
        return m.reshape(-1)

    def assoc_from_action(self, action: np.ndarray) -> tuple[np.ndarray, int]:
        """Candidate per UE (-1: unserved) and the number of invalid choices."""
        a = np.asarray(action).reshape(-1)
        u, s_max = int(self.params.n_ues), int(self.params.max_candidates)
        if a.shape != (u,) or np.any(a < 0) or np.any(a > s_max):
            raise ValueError(f"action must be {u} integers in [0, {s_max}]")
        inst = self.instance
        cand = a.astype(np.int64) - 1
        ok = (cand >= 0) & (cand < inst.n_sats)
        ok[ok] = inst.visible[cand[ok], np.flatnonzero(ok)]
        invalid = int(np.count_nonzero((cand >= 0) & ~ok))
        return np.where(ok, cand, -1), invalid

    def action_for_assoc(self, assoc: np.ndarray) -> np.ndarray:
        """MultiDiscrete action for an association (candidate per UE, -1: unserved)."""
        return (np.asarray(assoc, dtype=np.int64) + 1).astype(np.int64)

    def solve(self, assoc: np.ndarray) -> Solution:
        """Subcarriers and powers for the association (the oracle function of the step)."""
        return allocate_for_association(
            self.instance, assoc, max_rounds=int(self.params.jubpa_rounds)
        )

    def step(self, action: np.ndarray) -> tuple[float, dict[str, Any]]:
        """Serve the chosen association in the current slot."""
        assoc, invalid = self.assoc_from_action(action)
        sol = self.solve(assoc)
        return self._finish(sol, invalid, 0)

    def _switches(self, sats: frozenset[int], ue_sat: np.ndarray) -> int:
        both = (ue_sat >= 0) & (self.prev_ue_sat >= 0)
        return int(np.count_nonzero(both & (ue_sat != self.prev_ue_sat)))
