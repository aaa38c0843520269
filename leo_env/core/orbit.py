"""Walker-delta constellations and their propagation (analytic Kepler or SGP4), TEME and ECEF.

A constellation is a tuple of :class:`WalkerShell` (several shells = a multi-shell or
multi-orbit constellation).  Positions come out as arrays of shape (T, N, 3) in metres, times
along the first axis and satellites along the second, in the order of
:attr:`Constellation.names` (shell by shell, plane-major, slot-minor).

Two propagators are offered:

* ``"kepler"`` -- circular two-body motion (:func:`kepler_eci`): exact, cheap, no
  perturbations.  Useful as a reference and for idealised studies.
* ``"sgp4"`` -- the satellites are turned into SGP4 element sets (:func:`walker_satrecs`) and
  propagated with :mod:`sgp4`'s vectorised ``SatrecArray`` (:func:`propagate_teme`).  This adds
  the J2 secular drift of node and argument of latitude and SGP4's short-periodic terms, and is
  the propagator used for real TLE sets (:mod:`leo_env.core.tle`).

Both are rotated to the Earth-fixed frame with the same GMST rotation
(:func:`leo_env.core.frames.teme_to_ecef`); the Kepler frame is the inertial frame aligned with
TEME at the epoch, so Kepler and SGP4 positions can be compared directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Literal, NamedTuple, overload

import numpy as np
from numpy.typing import ArrayLike
from sgp4.api import SGP4_ERRORS, WGS72, Satrec, SatrecArray

from leo_env.core.frames import julian_date, julian_dates, teme_to_ecef

__all__ = [
    "MU_EARTH_M3_S2",
    "R_EARTH_M",
    "WalkerShell",
    "WALKER_PRESETS",
    "CONSTELLATION_PRESETS",
    "walker_shell",
    "constellation_preset",
    "random_subset",
    "Constellation",
    "WalkerElements",
    "SGP4PropagationError",
    "walker_min_separation_m",
    "kepler_eci",
    "walker_satrecs",
    "propagate_teme",
    "propagate_ecef",
]

#: Earth's gravitational parameter (WGS84 / EGM96 value) [m^3 s^-2].
MU_EARTH_M3_S2: float = 3.986004418e14
#: Earth's equatorial radius used to turn altitudes into orbit radii (WGS84) [m].
R_EARTH_M: float = 6378137.0

# Epoch of SGP4's ``sgp4init`` time argument: 1949-12-31 00:00 UT as a Julian date [day].
_JD_SGP4_EPOCH0 = 2433281.5
# Mean-motion units: rad/min <-> rev/day.
_REV_PER_DAY_PER_RAD_PER_MIN = 1440.0 / (2.0 * math.pi)
# Largest satellite number a TLE can hold (Alpha-5 numbering, 'Z9999').
_MAX_SATNUM = 339999


def _as_int(value: object, field: str) -> int:
    """Integer value of a dataclass field, rejecting bools and non-integral numbers."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        if isinstance(value, float | np.floating) and float(value).is_integer():
            return int(value)
        raise ValueError(f"{field} must be an integer, got {value!r}")
    return int(value)


def _as_float(value: object, field: str) -> float:
    """Finite float value of a dataclass field."""
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{field} must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{field} must be finite, got {value!r}")
    return out


@dataclass(frozen=True)
class WalkerShell:
    """One Walker-delta shell ``i:T/P/F`` of circular orbits at a common altitude.

    Plane ``j`` (0 <= j < P) has right ascension of the ascending node
    ``RAAN_j = raan0 + 360 j / P`` and slot ``q`` (0 <= q < T/P) of plane ``j`` has the argument
    of latitude at the epoch ``u_jq = arg_lat0 + 360 q / (T/P) + 360 F j / T`` [deg].

    Attributes
    ----------
    name : str
        Shell name; used in satellite names (``"<name>/p03/s07"``), so it may not contain ``/``.
    inclination_deg : float
        Orbit inclination, in [0, 180] [deg].
    total : int
        Number of satellites T, >= 1.
    planes : int
        Number of orbital planes P; must divide ``total``.
    phasing : int
        Walker phasing factor F, in [0, P - 1].
    altitude_km : float
        Altitude above the equatorial radius :data:`R_EARTH_M`, > 0 [km].
    raan0_deg : float, optional
        RAAN of plane 0 in TEME at the epoch [deg].
    arg_lat0_deg : float, optional
        Argument of latitude of slot 0 of plane 0 at the epoch [deg].

    Examples
    --------
    >>> shell = WalkerShell("demo", 53.0, total=24, planes=6, phasing=1, altitude_km=550.0)
    >>> shell.sats_per_plane, round(shell.period_s)
    (4, 5739)
    """

    name: str
    inclination_deg: float
    total: int
    planes: int
    phasing: int
    altitude_km: float
    raan0_deg: float = 0.0
    arg_lat0_deg: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        if "/" in self.name or any(ch in self.name for ch in "\r\n"):
            raise ValueError(f"name must not contain '/' or line breaks, got {self.name!r}")
        total = _as_int(self.total, "total")
        planes = _as_int(self.planes, "planes")
        phasing = _as_int(self.phasing, "phasing")
        incl = _as_float(self.inclination_deg, "inclination_deg")
        alt = _as_float(self.altitude_km, "altitude_km")
        raan0 = _as_float(self.raan0_deg, "raan0_deg")
        u0 = _as_float(self.arg_lat0_deg, "arg_lat0_deg")
        if total < 1:
            raise ValueError(f"total must be >= 1, got {total}")
        if not 1 <= planes <= total:
            raise ValueError(f"planes must be in [1, total={total}], got {planes}")
        if total % planes:
            raise ValueError(f"planes must divide total: total={total}, planes={planes}")
        if not 0 <= phasing <= planes - 1:
            raise ValueError(f"phasing must be in [0, planes-1] = [0, {planes - 1}], got {phasing}")
        if not 0.0 <= incl <= 180.0:
            raise ValueError(f"inclination_deg must be in [0, 180], got {incl}")
        if not alt > 0.0:
            raise ValueError(f"altitude_km must be > 0, got {alt}")
        for field, value in (
            ("total", total),
            ("planes", planes),
            ("phasing", phasing),
            ("inclination_deg", incl),
            ("altitude_km", alt),
            ("raan0_deg", raan0),
            ("arg_lat0_deg", u0),
        ):
            object.__setattr__(self, field, value)

    @property
    def sats_per_plane(self) -> int:
        """Satellites per plane, ``T / P``."""
        return self.total // self.planes

    @property
    def radius_m(self) -> float:
        """Orbit radius ``R_E + h`` [m]."""
        return R_EARTH_M + 1e3 * self.altitude_km

    @property
    def mean_motion_rad_s(self) -> float:
        """Two-body mean motion ``sqrt(mu / a^3)`` [rad/s]."""
        return math.sqrt(MU_EARTH_M3_S2 / self.radius_m**3)

    @property
    def period_s(self) -> float:
        """Two-body orbital period ``2 pi sqrt(a^3 / mu)`` [s]."""
        return 2.0 * math.pi / self.mean_motion_rad_s

    @property
    def notation(self) -> str:
        """Walker notation ``i:T/P/F``, e.g. ``"53:1584/72/65"``."""
        return f"{self.inclination_deg:g}:{self.total}/{self.planes}/{self.phasing}"

    def elements(self) -> tuple[np.ndarray, np.ndarray]:
        """RAAN and argument of latitude at the epoch of every satellite, plane-major.

        Returns
        -------
        raan_deg : ndarray, shape (T,)
            Right ascension of the ascending node, in [0, 360) [deg].
        arg_lat_deg : ndarray, shape (T,)
            Argument of latitude at the epoch, in [0, 360) [deg].
        """
        s = self.sats_per_plane
        j = np.repeat(np.arange(self.planes), s)
        q = np.tile(np.arange(s), self.planes)
        raan = self.raan0_deg + 360.0 * j / self.planes
        u = self.arg_lat0_deg + 360.0 * q / s + 360.0 * self.phasing * j / self.total
        return np.mod(raan, 360.0), np.mod(u, 360.0)


# Presets.  Inclination, T, P and altitude are the operators' filed figures as given in docs/model.md
# section 3.  The phasing factor F is not published for any of them, so we choose it: the F in
# [0, P-1] that maximises the smallest distance between any two satellites of the shell over
# all time in the circular two-body model (``walker_min_separation_m``, exact), i.e. the
# self-conjunction-safest Walker phasing.  Many F values give collisions (distance 0), e.g.
# F = 0 for starlink-1 and kuiper-1 and F = 1 for oneweb.  Resulting minimum separations:
#   starlink-1  53:1584/72/65    71.5 km   (runner-up F = 3:  58.2 km)
#   oneweb      87.9:588/12/8    17.8 km   (runner-up F = 2:  11.9 km)
#   kuiper-1    51.9:1156/34/7   78.3 km   (runner-up F = 27: 74.6 km)
# tests/unit/core/test_orbit.py checks that these F are still the maximisers.  Real OneWeb
# planes span ~180 deg of RAAN (a Walker *star*); the preset follows docs/model.md's Walker-delta form.
WALKER_PRESETS: dict[str, WalkerShell] = {
    "starlink-1": WalkerShell("starlink-1", 53.0, 1584, 72, 65, 550.0),
    "oneweb": WalkerShell("oneweb", 87.9, 588, 12, 8, 1200.0),
    "kuiper-1": WalkerShell("kuiper-1", 51.9, 1156, 34, 7, 630.0),
    # Starlink Gen1 (SpaceX 2020 modification) and one Gen2 shell, as in the five-shell set of
    # the Kim/Roberts group's simulator; "starlink-1" above is Gen1's 550 km shell.  The Gen1
    # polar shells (560 km, 97.6 deg: 6 x 58 and 4 x 43 satellites) are merged into one
    # 10 x 52 shell of the same 520 satellites.  F by the rule above (the simulator uses F = 1,
    # which puts satellites of starlink-gen2-530 on top of each other):
    #   starlink-gen1-540   53.2:1584/72/13   47.9 km   (F = 25 ties)
    #   starlink-gen1-570   70:720/36/25      64.7 km   (runner-up F = 23: 57.6 km)
    #   starlink-gen1-560   97.6:520/10/5     55.4 km   (F = 9 ties)
    #   starlink-gen2-530   43:2492/28/22     53.6 km   (runner-up F = 16: 27.4 km)
    "starlink-gen1-540": WalkerShell("starlink-gen1-540", 53.2, 1584, 72, 13, 540.0),
    "starlink-gen1-570": WalkerShell("starlink-gen1-570", 70.0, 720, 36, 25, 570.0),
    "starlink-gen1-560": WalkerShell("starlink-gen1-560", 97.6, 520, 10, 5, 560.0),
    "starlink-gen2-530": WalkerShell("starlink-gen2-530", 43.0, 2492, 28, 22, 530.0),
    # A generic Walker-delta shell (DuJo's "Walker-delta 50 deg, I = 1000"); P = 20 planes is
    # our choice.  50:1000/20/3, 122.9 km (runner-up F = 9: 59.6 km).
    "walker-50-1000": WalkerShell("walker-50-1000", 50.0, 1000, 20, 3, 1000.0),
}

#: Multi-shell presets: name -> shell presets, in satellite order.
#: ``starlink-gen1`` = Gen1's four shells (4,408 satellites); ``starlink-5shell`` = Gen1 + the
#: 530 km / 43 deg Gen2 shell (6,900 satellites), the five-shell set of the Kim/Roberts group.
CONSTELLATION_PRESETS: dict[str, tuple[str, ...]] = {
    "starlink-gen1": (
        "starlink-gen1-540",
        "starlink-1",
        "starlink-gen1-570",
        "starlink-gen1-560",
    ),
    "starlink-5shell": (
        "starlink-gen1-540",
        "starlink-1",
        "starlink-gen1-570",
        "starlink-gen1-560",
        "starlink-gen2-530",
    ),
}


def walker_shell(name: str) -> WalkerShell:
    """Preset Walker shell by name.

    Parameters
    ----------
    name : str
        One of the keys of :data:`WALKER_PRESETS`.

    Returns
    -------
    WalkerShell
    """
    try:
        return WALKER_PRESETS[name]
    except KeyError:
        known = ", ".join(sorted(WALKER_PRESETS))
        raise ValueError(f"unknown Walker preset {name!r}; known presets: {known}") from None


def constellation_preset(name: str, rng: np.random.Generator | None = None) -> Constellation:
    """Preset constellation by name: a multi-shell preset or a single shell preset.

    Parameters
    ----------
    name : str
        A key of :data:`CONSTELLATION_PRESETS` (multi-shell) or of :data:`WALKER_PRESETS`.
    rng : numpy.random.Generator, optional
        If given, every shell gets a random relative phase: ``raan0_deg`` and ``arg_lat0_deg``
        drawn uniformly in [0, 360) (two draws per shell, in shell order).  Real shells are not
        phase-locked to each other; without ``rng`` all shells start at 0.

    Returns
    -------
    Constellation
    """
    if name in CONSTELLATION_PRESETS:
        shells = [walker_shell(n) for n in CONSTELLATION_PRESETS[name]]
    elif name in WALKER_PRESETS:
        shells = [WALKER_PRESETS[name]]
    else:
        known = ", ".join(sorted([*CONSTELLATION_PRESETS, *WALKER_PRESETS]))
        raise ValueError(f"unknown constellation preset {name!r}; known presets: {known}")
    if rng is not None:
        shells = [
            replace(s, raan0_deg=float(a), arg_lat0_deg=float(b))
            for s, (a, b) in zip(shells, rng.uniform(0.0, 360.0, (len(shells), 2)), strict=True)
        ]
    return Constellation(tuple(shells))


def random_subset(n_sats: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``k`` distinct satellites out of ``n_sats``, drawn uniformly, sorted.

    Parameters
    ----------
    n_sats : int
        Size of the constellation (e.g. :attr:`Constellation.n_sats`), >= 1.
    k : int
        Subset size, in [0, n_sats].
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    ndarray of int64, shape (k,)
        Increasing satellite indices; index arrays of positions with them (``r[:, idx]``) or
        the SGP4 element sets (``[sats[i] for i in idx]``).
    """
    n = _as_int(n_sats, "n_sats")
    kk = _as_int(k, "k")
    if n < 1:
        raise ValueError(f"n_sats must be >= 1, got {n}")
    if not 0 <= kk <= n:
        raise ValueError(f"k must be in [0, n_sats={n}], got {kk}")
    return np.sort(rng.choice(n, size=kk, replace=False)).astype(np.int64)


class WalkerElements(NamedTuple):
    """Per-satellite circular-orbit elements of a constellation, each of shape (N,)."""

    inclination_deg: np.ndarray
    """Inclination [deg]."""
    raan_deg: np.ndarray
    """Right ascension of the ascending node at the epoch [deg]."""
    arg_lat_deg: np.ndarray
    """Argument of latitude at the epoch [deg]."""
    radius_m: np.ndarray
    """Orbit radius [m]."""
    mean_motion_rad_s: np.ndarray
    """Two-body mean motion [rad/s]."""


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Constellation:
    """A constellation made of one or more Walker shells (multi-shell / multi-orbit).

    Attributes
    ----------
    shells : tuple of WalkerShell
        The shells, in order; satellite indices run shell by shell.  Shell names must be
        unique.  A single shell or a list is accepted and stored as a tuple.

    Examples
    --------
    >>> c = Constellation.from_presets("starlink-1", "kuiper-1")
    >>> c.n_sats, c.names[0], c.names[-1]
    (2740, 'starlink-1/p00/s00', 'kuiper-1/p33/s33')
    """

    shells: tuple[WalkerShell, ...]

    def __post_init__(self) -> None:
        shells = self.shells
        if isinstance(shells, WalkerShell):
            shells = (shells,)
        shells = tuple(shells)
        if not shells:
            raise ValueError("shells must contain at least one WalkerShell")
        for k, shell in enumerate(shells):
            if not isinstance(shell, WalkerShell):
                raise ValueError(f"shells[{k}] must be a WalkerShell, got {type(shell).__name__}")
        names = [s.name for s in shells]
        if len(set(names)) != len(names):
            raise ValueError(f"shells must have unique names, got {names}")
        object.__setattr__(self, "shells", shells)

    @classmethod
    def from_presets(cls, *names: str) -> Constellation:
        """Constellation of preset shells (see :data:`WALKER_PRESETS`)."""
        return cls(tuple(walker_shell(n) for n in names))

    @cached_property
    def n_sats(self) -> int:
        """Total number of satellites N."""
        return sum(s.total for s in self.shells)

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Satellite names ``"<shell>/pJJ/sQQ"`` (plane and slot from 0), length N."""
        out: list[str] = []
        for shell in self.shells:
            wp = max(2, len(str(shell.planes - 1)))
            ws = max(2, len(str(shell.sats_per_plane - 1)))
            out.extend(
                f"{shell.name}/p{j:0{wp}d}/s{q:0{ws}d}"
                for j in range(shell.planes)
                for q in range(shell.sats_per_plane)
            )
        return tuple(out)

    @cached_property
    def shell_index(self) -> np.ndarray:
        """Index of each satellite's shell in :attr:`shells`, int64 array of shape (N,)."""
        sizes = [s.total for s in self.shells]
        return _readonly(np.repeat(np.arange(len(self.shells), dtype=np.int64), sizes))

    @cached_property
    def plane_index(self) -> np.ndarray:
        """Plane of each satellite within its shell, int64 array of shape (N,)."""
        parts = [np.repeat(np.arange(s.planes), s.sats_per_plane) for s in self.shells]
        return _readonly(np.concatenate(parts).astype(np.int64))

    @cached_property
    def slot_index(self) -> np.ndarray:
        """Slot of each satellite within its plane, int64 array of shape (N,)."""
        parts = [np.tile(np.arange(s.sats_per_plane), s.planes) for s in self.shells]
        return _readonly(np.concatenate(parts).astype(np.int64))

    def elements(self) -> WalkerElements:
        """Circular-orbit elements of every satellite at the epoch, each of shape (N,)."""
        raan, u, incl, radius, motion = [], [], [], [], []
        for shell in self.shells:
            r, a = shell.elements()
            raan.append(r)
            u.append(a)
            incl.append(np.full(shell.total, shell.inclination_deg))
            radius.append(np.full(shell.total, shell.radius_m))
            motion.append(np.full(shell.total, shell.mean_motion_rad_s))
        return WalkerElements(*(np.concatenate(x) for x in (incl, raan, u, radius, motion)))


def _as_constellation(source: Constellation | WalkerShell) -> Constellation:
    if isinstance(source, Constellation):
        return source
    if isinstance(source, WalkerShell):
        return Constellation((source,))
    raise TypeError(f"expected a Constellation or WalkerShell, got {type(source).__name__}")


def _as_times(t_s: ArrayLike) -> np.ndarray:
    t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
    if t.ndim != 1:
        raise ValueError(f"t_s must be a scalar or a 1-D array of seconds, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("t_s must be finite")
    return t


def _circular_positions(
    incl_rad: np.ndarray, raan_rad: np.ndarray, u_rad: np.ndarray, radius: np.ndarray
) -> np.ndarray:
    """Positions on circular orbits; all inputs broadcast together, output (..., 3)."""
    cos_o, sin_o = np.cos(raan_rad), np.sin(raan_rad)
    cos_u, sin_u = np.cos(u_rad), np.sin(u_rad)
    cos_i, sin_i = np.cos(incl_rad), np.sin(incl_rad)
    shape = np.broadcast_shapes(np.shape(incl_rad), np.shape(raan_rad), np.shape(u_rad))
    out = np.empty((*shape, 3), dtype=np.float64)
    out[..., 0] = radius * (cos_o * cos_u - sin_o * sin_u * cos_i)
    out[..., 1] = radius * (sin_o * cos_u + cos_o * sin_u * cos_i)
    out[..., 2] = radius * (sin_u * sin_i)
    return out


def kepler_eci(source: Constellation | WalkerShell, t_s: ArrayLike) -> np.ndarray:
    """Circular two-body positions in the inertial frame aligned with TEME at the epoch.

    Parameters
    ----------
    source : Constellation or WalkerShell
        The satellites.
    t_s : array_like, shape (T,)
        Times since the epoch [s].

    Returns
    -------
    ndarray, shape (T, N, 3)
        Positions [m].  The radius is exactly ``R_E + h`` and the period
        ``2 pi sqrt(a^3 / mu)`` with ``mu`` = :data:`MU_EARTH_M3_S2`.
    """
    const = _as_constellation(source)
    t = _as_times(t_s)
    el = const.elements()
    u = np.deg2rad(el.arg_lat_deg)[None, :] + el.mean_motion_rad_s[None, :] * t[:, None]
    return _circular_positions(
        np.deg2rad(el.inclination_deg)[None, :],
        np.deg2rad(el.raan_deg)[None, :],
        u,
        el.radius_m[None, :],
    )


def walker_min_separation_m(shell: WalkerShell) -> float:
    """Smallest distance between any two satellites of a shell over all time (two-body model).

    Parameters
    ----------
    shell : WalkerShell
        The shell (at least two satellites).

    Returns
    -------
    float
        Minimum separation [m].

    Notes
    -----
    A Walker-delta shell is invariant under "advance in time and rotate about z", which maps any
    satellite onto satellite 0, so it suffices to look at pairs (0, k).  For two circular orbits
    of equal radius ``a`` and a constant argument-of-latitude offset ``d`` (same period), the
    cosine of the angle between the satellites is ``c0 + c1 cos(2u + d) + c2 sin(2u + d)`` in
    the argument of latitude ``u`` of satellite 0, so its maximum over time is
    ``c0 + hypot(c1, c2)`` and the minimum distance is ``a sqrt(2 (1 - max))`` -- exact, with no
    time sampling.
    """
    if shell.total < 2:
        raise ValueError("walker_min_separation_m needs a shell with at least two satellites")
    raan_deg, u_deg = shell.elements()
    raan, u = np.deg2rad(raan_deg), np.deg2rad(u_deg)
    inc = math.radians(shell.inclination_deg)

    def axes(o: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p_hat = np.stack([np.cos(o), np.sin(o), np.zeros_like(o)], axis=-1)
        q_hat = np.stack(
            [-np.sin(o) * math.cos(inc), np.cos(o) * math.cos(inc), np.full_like(o, math.sin(inc))],
            axis=-1,
        )
        return p_hat, q_hat

    p0, q0 = axes(raan[:1])
    pk, qk = axes(raan[1:])
    pp, qq = pk @ p0[0], qk @ q0[0]
    pq, qp = qk @ p0[0], pk @ q0[0]  # P0.Qk and Q0.Pk
    d = u[1:] - u[0]
    best_cos = 0.5 * ((pp + qq) * np.cos(d) + (pq - qp) * np.sin(d)) + 0.5 * np.hypot(
        pp - qq, pq + qp
    )
    best_cos = np.minimum(best_cos, 1.0)
    return float(shell.radius_m * np.sqrt(2.0 * (1.0 - best_cos.max())))


def walker_satrecs(
    constellation: Constellation | WalkerShell,
    epoch: datetime,
    *,
    satnum_start: int = 1,
    tle_precision: bool = True,
) -> list[Satrec]:
    """SGP4 element sets for the satellites of a Walker constellation.

    Parameters
    ----------
    constellation : Constellation or WalkerShell
        The satellites (order of :attr:`Constellation.names`).
    epoch : datetime
        Element epoch (UTC); the Walker geometry holds at this instant.
    satnum_start : int, optional
        Catalogue number of the first satellite; the others follow consecutively.
    tle_precision : bool, optional
        Round the elements to what a TLE can hold (angles to 1e-4 deg, mean motion to 1e-8
        rev/day, epoch to 1e-8 day) so that :func:`leo_env.core.tle.export_tles` followed by
        parsing reproduces the same orbits.  This moves a satellite by at most ~7 m.

    Returns
    -------
    list of Satrec
        Initialised with ``Satrec.sgp4init`` on the WGS72 constants ("improved" mode),
        eccentricity 0, argument of perigee 0, mean anomaly = argument of latitude, and no drag
        (bstar = ndot = nddot = 0).

    Notes
    -----
    Mean-motion convention: the TLE / ``sgp4init`` mean motion is Kozai's, which SGP4 turns into
    Brouwer's internally.  We pass the two-body mean motion ``sqrt(mu / (R_E + h)^3)`` (with
    :data:`MU_EARTH_M3_S2`) *as the Kozai mean motion*.  To first order in J2 Kozai's mean motion
    is the anomalistic one (SGP4's secular mean-anomaly rate equals it), so the SGP4 satellite
    keeps the two-body period in mean anomaly; what remains is the J2 secular drift of the
    node and of the argument of perigee, plus SGP4's short-periodic terms.  The price is that
    SGP4's mean semi-major axis differs from ``R_E + h`` by about ``(2/3) delta_0 a`` (``delta_0
    = 0.75 J2 (R_E/a)^2 (3 cos^2 i - 1)``): ~0.3 km at 53 deg, ~3 km at 87.9 deg.
    """
    const = _as_constellation(constellation)
    n_sats = const.n_sats
    satnum_start = int(satnum_start)
    if satnum_start < 0 or satnum_start + n_sats - 1 > _MAX_SATNUM:
        raise ValueError(
            f"satnum_start must be >= 0 and leave room for {n_sats} satellites up to "
            f"{_MAX_SATNUM} (the largest TLE catalogue number), got {satnum_start}"
        )
    el = const.elements()
    incl = el.inclination_deg
    raan = el.raan_deg
    u = el.arg_lat_deg
    n_rev_day = el.mean_motion_rad_s * 86400.0 / (2.0 * math.pi)
    if tle_precision:
        incl = np.round(incl, 4)
        raan = np.mod(np.round(raan, 4), 360.0)
        u = np.mod(np.round(u, 4), 360.0)
        n_rev_day = np.round(n_rev_day, 8)
    no_kozai = n_rev_day / _REV_PER_DAY_PER_RAD_PER_MIN  # [rad/min]
    jd, fr = julian_date(epoch)
    if tle_precision:
        fr = round(fr, 8)  # a TLE epoch holds 1e-8 day (0.86 ms, i.e. < 7 mm of motion)
    epoch_days = (jd - _JD_SGP4_EPOCH0) + fr
    out: list[Satrec] = []
    for k in range(n_sats):
        sat = Satrec()
        sat.sgp4init(
            WGS72,
            "i",
            satnum_start + k,
            epoch_days,
            0.0,  # bstar [1/earth radii]
            0.0,  # ndot
            0.0,  # nddot
            0.0,  # eccentricity
            0.0,  # argument of perigee [rad]
            math.radians(incl[k]),
            math.radians(u[k]),  # mean anomaly = argument of latitude for e = 0 [rad]
            float(no_kozai[k]),
            math.radians(raan[k]),
        )
        if sat.error:
            raise ValueError(
                f"sgp4init failed for satellite {k} ({const.names[k]}): error {sat.error}: "
                f"{SGP4_ERRORS.get(sat.error, 'unknown error')}"
            )
        out.append(sat)
    return out


class SGP4PropagationError(RuntimeError):
    """SGP4 returned a non-zero error code for some satellite and time."""


@overload
def propagate_teme(
    satrecs: Sequence[Satrec],
    epoch: datetime,
    t_s: ArrayLike,
    *,
    names: Sequence[str] | None = ...,
    velocity: Literal[False] = ...,
) -> np.ndarray: ...


@overload
def propagate_teme(
    satrecs: Sequence[Satrec],
    epoch: datetime,
    t_s: ArrayLike,
    *,
    names: Sequence[str] | None = ...,
    velocity: Literal[True],
) -> tuple[np.ndarray, np.ndarray]: ...


def propagate_teme(
    satrecs: Sequence[Satrec],
    epoch: datetime,
    t_s: ArrayLike,
    *,
    names: Sequence[str] | None = None,
    velocity: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Propagate SGP4 element sets to TEME positions with the vectorised ``SatrecArray``.

    Parameters
    ----------
    satrecs : sequence of Satrec
        N element sets (their own epochs may differ from ``epoch``).
    epoch : datetime
        Reference instant (UTC) of the time grid.
    t_s : array_like, shape (T,)
        Times since ``epoch`` [s].
    names : sequence of str, optional
        Satellite names used in error messages.
    velocity : bool, optional
        Also return the TEME (inertial) velocities that SGP4 computes.

    Returns
    -------
    ndarray, shape (T, N, 3)
        TEME positions [m].
    ndarray, shape (T, N, 3)
        TEME velocities [m/s], only when ``velocity=True``.

    Raises
    ------
    SGP4PropagationError
        If SGP4 flags an error (e.g. decay, eccentricity out of range) for any satellite at any
        time; the message names the first such satellite, time and error.
    """
    sats = list(satrecs)
    if not sats:
        raise ValueError("satrecs must not be empty")
    if names is not None and len(names) != len(sats):
        raise ValueError(f"names has {len(names)} entries for {len(sats)} satrecs")
    t = _as_times(t_s)
    jd, fr = julian_dates(epoch, t)
    err, r_km, v_km_s = SatrecArray(sats).sgp4(jd, fr)
    if np.any(err):
        n, k = np.argwhere(err)[0]
        code = int(err[n, k])
        who = f"satellite {n}" + (f" ({names[n]})" if names is not None else "")
        when = epoch + timedelta(seconds=float(t[k]))
        raise SGP4PropagationError(
            f"sgp4 failed for {who} at t = {t[k]:g} s ({when.isoformat()}): error {code}: "
            f"{SGP4_ERRORS.get(code, 'unknown error')} "
            f"({int(np.count_nonzero(err))} satellite-times affected)"
        )
    r_m = np.ascontiguousarray(np.transpose(r_km, (1, 0, 2))) * 1e3
    if not velocity:
        return r_m
    return r_m, np.ascontiguousarray(np.transpose(v_km_s, (1, 0, 2))) * 1e3


def propagate_ecef(
    source: Constellation | WalkerShell | Iterable[Satrec],
    epoch: datetime,
    t_s: ArrayLike,
    method: Literal["sgp4", "kepler"] = "sgp4",
) -> np.ndarray:
    """Earth-fixed positions of a constellation or a set of SGP4 element sets.

    Parameters
    ----------
    source : Constellation, WalkerShell or iterable of Satrec
        Walker satellites (``"sgp4"`` builds them with :func:`walker_satrecs` at ``epoch``) or
        element sets, e.g. read from a TLE file (``"sgp4"`` only).
    epoch : datetime
        Reference instant (UTC); for Walker sources also the instant of the Walker geometry.
    t_s : array_like, shape (T,)
        Times since ``epoch`` [s].
    method : {"sgp4", "kepler"}, optional
        Propagator (see the module docstring).

    Returns
    -------
    ndarray, shape (T, N, 3)
        Positions in the pseudo Earth-fixed frame (TEME rotated by GMST) [m].
    """
    t = _as_times(t_s)
    if method not in ("sgp4", "kepler"):
        raise ValueError(f"method must be 'sgp4' or 'kepler', got {method!r}")
    names: Sequence[str] | None = None
    if isinstance(source, Constellation | WalkerShell):
        const = _as_constellation(source)
        names = const.names
        if method == "kepler":
            r_teme = kepler_eci(const, t)
        else:
            r_teme = propagate_teme(walker_satrecs(const, epoch), epoch, t, names=names)
    else:
        if method != "sgp4":
            raise ValueError("method='kepler' needs a Constellation or WalkerShell, not satrecs")
        r_teme = propagate_teme(list(source), epoch, t)
    jd, fr = julian_dates(epoch, t)
    return teme_to_ecef(r_teme, jd, fr)
