"""The one parameter object of the lisl environments (scalar and vector).

>>> p = LislEnvParams(n_sats=120, n_snapshots=3)
>>> p.n_sats, p.links_capacity()
(120, 352)
>>> LislEnvParams(n_snapshots=0)
Traceback (most recent call last):
...
ValueError: LislEnvParams.n_snapshots = 0 is out of range: allowed [1, 10000]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from leo_env.scenario.lisl import LISL_CONSTELLATIONS, LislConfig

__all__ = ["LislEnvParams", "ACTION_MODES"]

ACTION_MODES = ("prices", "scores")


@dataclass(frozen=True)
class LislEnvParams:
    """Data parameters of ``LislRouting-v0``, validated on construction.

    Attributes
    ----------
    constellation : str
        Constellation preset (``starlink-gen1``, ``starlink-53``, ``walker-50``, ``oneweb``).
    n_sats : int
        Satellites ``I`` drawn at random (per episode) from the constellation, in [2, 5000].
    lcts_per_sat : int
        LCTs per satellite, in [1, 4].
    for_half_angle_deg : float
        Field-of-regard half angle, in (0, 180] [deg].
    max_distance_km : float
        Maximum LISL distance, in (0, 20000] [km].
    active_user_share : float
        Active share of the covered population, in (0, 1].
    n_gateways : int
        Gateway sites (large cities), in [1, 1000].
    n_nearest : int
        Serving satellites per demanding satellite ``M``, in [1, 50].
    n_snapshots : int
        Snapshots per episode ``K``, in [1, 10000].
    snapshot_interval_s : float
        Time between snapshots, in (0, 86400] [s].
    acquisition_snapshots : int
        ``tau``: a newly established LISL carries traffic only after it has been held for
        ``tau`` earlier consecutive snapshots, in [0, 100] (0 = DuJo's static model).
    action_mode : {"prices", "scores"}
        ``prices``: ``Box(0, 1, (L_max, 2))`` link prices ``(lambda_ij, lambda_ji)`` converted by
        DuJo's conversion; ``scores``: ``Box(0, 1, (L_max,))`` one score per satellite pair, LCT
        pair weight ``score * r_nm``, greedy matching, OSPF routing, LP rates.
    max_links : int or None
        Padding ``L_max`` of the candidate satellite pairs, in [1, 10**7]; None:
        ``ceil(0.02 I^2) + 64`` (a snapshot with more pairs raises an error naming this field).
    """

    constellation: str = "starlink-gen1"
    n_sats: int = 150
    lcts_per_sat: int = 2
    for_half_angle_deg: float = 60.0
    max_distance_km: float = 3000.0
    active_user_share: float = 1e-4
    n_gateways: int = 100
    n_nearest: int = 5
    n_snapshots: int = 12
    snapshot_interval_s: float = 900.0
    acquisition_snapshots: int = 0
    action_mode: str = "prices"
    max_links: int | None = None

    def __post_init__(self) -> None:
        if self.constellation not in LISL_CONSTELLATIONS:
            raise ValueError(
                f"LislEnvParams.constellation must be one of {sorted(LISL_CONSTELLATIONS)}, "
                f"got {self.constellation!r}"
            )
        if self.action_mode not in ACTION_MODES:
            raise ValueError(
                f"LislEnvParams.action_mode must be one of {ACTION_MODES}, got {self.action_mode!r}"
            )
        ints = {
            "n_sats": (2, 5000),
            "lcts_per_sat": (1, 4),
            "n_gateways": (1, 1000),
            "n_nearest": (1, 50),
            "n_snapshots": (1, 10000),
            "acquisition_snapshots": (0, 100),
        }
        for name, (lo, hi) in ints.items():
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or not lo <= int(v) <= hi:
                raise ValueError(
                    f"LislEnvParams.{name} = {v!r} is out of range: allowed [{lo}, {hi}]"
                )
            object.__setattr__(self, name, int(v))
        if self.max_links is not None and not 1 <= int(self.max_links) <= 10**7:
            raise ValueError(
                f"LislEnvParams.max_links = {self.max_links!r} is out of range: allowed "
                "[1, 10000000] or None"
            )
        floats = {
            "for_half_angle_deg": (0.0, 180.0),
            "max_distance_km": (0.0, 20000.0),
            "active_user_share": (0.0, 1.0),
            "snapshot_interval_s": (0.0, 86400.0),
        }
        for name, (flo, fhi) in floats.items():
            fv = float(getattr(self, name))
            if not math.isfinite(fv) or not flo < fv <= fhi:
                raise ValueError(
                    f"LislEnvParams.{name} = {fv!r} is out of range: allowed ({flo:g}, {fhi:g}]"
                )
            object.__setattr__(self, name, fv)

    def links_capacity(self) -> int:
        """``L_max``: the padded number of candidate satellite pairs."""
        if self.max_links is not None:
            return int(self.max_links)
        return int(math.ceil(0.02 * self.n_sats**2)) + 64

    def scenario_config(self, seed: int, t_s: float) -> LislConfig:
        """The instance configuration of snapshot time ``t_s`` of an episode with ``seed``."""
        return LislConfig(
            constellation=self.constellation,
            n_sats=self.n_sats,
            t_s=t_s,
            lcts_per_sat=self.lcts_per_sat,
            for_half_angle_deg=self.for_half_angle_deg,
            max_distance_km=self.max_distance_km,
            active_user_share=self.active_user_share,
            n_gateways=self.n_gateways,
            n_nearest=self.n_nearest,
            seed=seed,
        )
