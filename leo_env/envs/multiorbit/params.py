"""The parameter objects of the multiorbit environments (one per environment id).

>>> p = SelectEnvParams(cone_deg=50.0, n_slots=3)
>>> p.k_max, p.scenario().cone_deg
(10, 50.0)
>>> SelectEnvParams(n_slots=0)
Traceback (most recent call last):
...
ValueError: SelectEnvParams.n_slots = 0 is out of range: allowed [1, 100000]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from leo_env.scenario.multiorbit import PRESETS, MultiOrbitScenario, preset

__all__ = ["SelectEnvParams", "AssocEnvParams", "INNER_ALLOCATORS"]

INNER_ALLOCATORS = ("jubpa", "fast")

_RANGES: dict[str, tuple[float, float]] = {
    "cone_deg": (1.0, 89.0),
    "n_ues": (1, 1000),
    "n_sub": (1, 256),
    "n_max": (1, 256),
    "r_min_bps": (0.0, 1e10),
    "shadowing_sigma_db": (0.0, 30.0),
    "penalty_mbps": (0.0, 1e6),
    "lambda_switch_mbps": (0.0, 1e6),
    "n_slots": (1, 100000),
    "slot_s": (0.001, 86400.0),
    "max_candidates": (1, 1024),
    "jubpa_rounds": (0, 100),
    "visibility_horizon_s": (0.0, 86400.0),
}
_INTS = {"n_ues", "n_sub", "n_max", "n_slots", "max_candidates", "jubpa_rounds"}


@dataclass(frozen=True)
class _Common:
    """Fields shared by both environments (see the subclasses)."""

    preset: str = "dvmoss-paper"
    cone_deg: float = 60.0
    n_ues: int = 40
    n_sub: int = 16
    n_max: int = 10
    r_min_bps: float = 0.2e6
    shadowing_sigma_db: float = 1.0
    penalty_mbps: float = 10.0
    lambda_switch_mbps: float = 0.0
    n_slots: int = 60
    slot_s: float = 10.0
    max_candidates: int = 24
    visibility_horizon_s: float = 600.0

    def __post_init__(self) -> None:
        name = type(self).__name__
        if self.preset not in PRESETS:
            raise ValueError(f"{name}.preset = {self.preset!r}: allowed {sorted(PRESETS)}")
        for f in fields(self):
            if f.name not in _RANGES:
                continue
            v = getattr(self, f.name)
            lo, hi = _RANGES[f.name]
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ValueError(f"{name}.{f.name} = {v!r} must be a finite number")
            if f.name in _INTS and int(v) != v:
                raise ValueError(f"{name}.{f.name} = {v!r} must be an integer")
            if not lo <= v <= hi:
                raise ValueError(
                    f"{name}.{f.name} = {v!r} is out of range: allowed [{lo:g}, {hi:g}]"
                )

    @property
    def k_max(self) -> int:
        """Most satellites in service, ``min(n_max, n_sub)``."""
        return min(int(self.n_max), int(self.n_sub))

    def scenario(self) -> MultiOrbitScenario:
        """The scenario the episodes are drawn from."""
        return replace(
            preset(self.preset),
            cone_deg=float(self.cone_deg),
            n_ues=int(self.n_ues),
            n_sub=int(self.n_sub),
            n_max=int(self.n_max),
            r_min_bps=float(self.r_min_bps),
            shadowing_sigma_db=float(self.shadowing_sigma_db),
            penalty_mbps=float(self.penalty_mbps),
            slot_s=float(self.slot_s),
            max_candidates=int(self.max_candidates),
        )


@dataclass(frozen=True)
class SelectEnvParams(_Common):
    """Parameters of ``leo_env/MultiOrbitSelect-v0``, validated on construction.

    Attributes
    ----------
    preset : str
        Scenario preset (:data:`leo_env.scenario.multiorbit.PRESETS`) the fields below override.
    cone_deg : float
        Zenith-cone half-angle, in [1, 89] [deg].
    n_ues : int
        UEs U, in [1, 1000].
    n_sub : int
        Subcarriers F, in [1, 256].
    n_max : int
        Most satellites in service N_max, in [1, 256].
    r_min_bps : float
        Minimum rate per UE, in [0, 1e10] [bit/s].
    shadowing_sigma_db : float
        Shadowing std, in [0, 30] [dB].
    penalty_mbps : float
        Reward penalty per UE below its minimum rate (unserved included), in [0, 1e6] [Mbit/s].
    lambda_switch_mbps : float
        Reward penalty per satellite switched on or off between slots, in [0, 1e6] [Mbit/s]
        (0 = the paper's independent slots).
    n_slots : int
        Slots per episode K, in [1, 100000].
    slot_s : float
        Slot length, in [0.001, 86400] [s].
    max_candidates : int
        Padding S_max of the candidate axis, in [1, 1024]; a slot with more candidates keeps
        the S_max with the highest mean elevation.
    visibility_horizon_s : float
        Horizon of the remaining-visibility feature, in [0, 86400] [s] (0: feature off, saves
        a propagation per slot).
    inner : {"jubpa", "fast"}
        Allocation run on the chosen subset: JUBPA to convergence, or ``fast`` (JUBPA with
        ``jubpa_rounds`` rounds).
    jubpa_rounds : int
        Rounds of the ``fast`` allocator, in [0, 100] (0: greedy start + power allocation).
    """

    inner: str = "jubpa"
    jubpa_rounds: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.inner not in INNER_ALLOCATORS:
            raise ValueError(f"SelectEnvParams.inner = {self.inner!r}: allowed {INNER_ALLOCATORS}")


@dataclass(frozen=True)
class AssocEnvParams(_Common):
    """Parameters of ``leo_env/MultiOrbitAssoc-v0``, validated on construction.

    Attributes
    ----------
    preset, cone_deg, n_ues, n_sub, n_max, r_min_bps, shadowing_sigma_db, penalty_mbps, n_slots,
    slot_s, max_candidates, visibility_horizon_s :
        As in :class:`SelectEnvParams`.
    lambda_switch_mbps : float
        Reward penalty per UE whose serving satellite changed between slots (a handover), in
        [0, 1e6] [Mbit/s].
    jubpa_rounds : int
        Cap on the BA-game + power-allocation rounds of the step, in [0, 100].
    """

    jubpa_rounds: int = 10
