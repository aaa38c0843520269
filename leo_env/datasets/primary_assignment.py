"""Offline history of a primary LEO system's cluster-to-satellite assignments (GSL dataset).

The primary (Starlink, simulated as Walker shells propagated with SGP4) serves ``N`` hexagonal
cell clusters around a reference point; at every handover epoch (every ``step_s``) it assigns a
satellite to every cluster with the highest-elevation rule and a hidden cluster priority order
(:mod:`leo_env.core.assignment`).  This module generates that history, deterministically for a
configuration, in shards of ``shard_epochs`` epochs written atomically into a folder named by a
hash of the configuration; a killed run resumes at the first missing shard.  Shards are
independent (each one propagates its own epoch range), so they can be computed in parallel
(``backend="process"`` or ``"ray"``, :func:`leo_env.parallel.pmap`): every worker receives the
configuration as a dict and an epoch range, and the files are the same on every backend.

Per epoch (one shard stores a slice of epochs; ``M`` = ``n_max``, padding last):

| array | shape | dtype | meaning |
|---|---|---|---|
| ``t_s`` | (T,) | float64 | seconds since ``epoch_utc`` |
| ``n_avail`` | (T,) | int16 | ranked satellites ``M(t)`` (<= n_max) |
| ``n_truncated`` | (T,) | int16 | candidates dropped because the list was full |
| ``sat_id`` | (T, M) | int16 | constellation index, ranked by reference elevation, -1 padding |
| ``sat_ecef`` | (T, M, 3) | float32 | ECEF position [m], 0 padding |
| ``sat_lla`` | (T, M, 3) | float32 | latitude [deg], longitude [deg], altitude [m], 0 padding |
| ``elev_ref`` | (T, M) | float32 | elevation at the reference point [deg], 0 padding |
| ``elev_cluster`` | (T, N, M) | float32 | elevation at each cluster centre [deg], 0 padding |
| ``elev_min`` | (T, N, M) | float32 | minimum elevation over the cluster's sample points [deg], -90 padding |
| ``remaining_s`` | (T, N, M) | float32 | remaining eligible contact time [s] (only with ``rule="mct"``) |
| ``label`` | (T, N) | int8 | rank index of the serving satellite |
| ``shared``, ``empty_fallback`` | (T, N) | bool | HE corner cases |

The ranked list holds the satellites above ``min_elevation_deg`` at the reference point (with
``ranking="union"`` also those eligible for some cluster), sorted by elevation there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import numpy as np

from leo_env.core.assignment import (
    Assignment,
    he_assign,
    mct_assign,
    remaining_contact_epochs,
)
from leo_env.core.clusters import ClusterLayout, hex_cluster_layout
from leo_env.core.frames import ecef_to_geodetic, julian_dates, teme_to_ecef
from leo_env.core.geometry import (
    coverage_central_angle_rad,
    elevation_deg,
    elevation_from_central_angle_deg,
)
from leo_env.core.orbit import (
    CONSTELLATION_PRESETS,
    WALKER_PRESETS,
    Constellation,
    constellation_preset,
    propagate_teme,
    walker_satrecs,
)
from leo_env.parallel import pmap

__all__ = [
    "PrimaryAssignmentConfig",
    "PRESETS",
    "PrimaryAssignmentData",
    "generate",
    "load",
    "default_root",
    "build_layout",
    "build_constellation",
    "compute_epochs",
]

_SCHEMA_VERSION = 1
_PROPAGATION_CHUNK = 120  # epochs propagated at once (6,900 satellites: ~20 MB)


@dataclass(frozen=True)
class PrimaryAssignmentConfig:
    """Configuration of a primary-assignment dataset (everything but ``name`` enters the hash).

    Attributes
    ----------
    name : str
        Label of the preset (not hashed).
    constellation : str
        Constellation preset of :func:`leo_env.core.orbit.constellation_preset`.
    epoch_utc : str
        ISO date-time (UTC) of the Walker geometry and of ``t = 0``.
    duration_s : float
        Span of the history, > 0 [s]; epochs at ``0, step_s, ...`` below it.
    step_s : float
        Handover interval, in (0, 3600] [s].
    ref_lat_deg, ref_lon_deg : float
        Reference point (ranking) and centre of cluster 0 [deg].
    n_clusters : int
        Clusters N, in [1, 64].
    rings : int
        Rings of cells around each cluster's centre cell, in [0, 10].
    spacing_km : float
        Cell width flat-to-flat, in (0, 1000] [km].
    min_elevation_deg : float
        Minimum elevation ``eps``, in [0, 90) [deg].
    n_max : int
        Length of the ranked list, in [1, 127].
    include_vertices : bool
        Minimum elevation also over the cells' hexagon vertices.
    ranking : {"reference", "union"}
        Which satellites enter the ranked list: those above ``min_elevation_deg`` at the
        reference point (the paper's definition; default), or also those eligible for some
        cluster while below it at the reference point (the list is then often longer than
        ``n_max`` and truncated, lowest reference elevation first; ``n_truncated`` counts it).
    rule : {"he", "mct"}
        Assignment rule of the primary.
    mct_horizon_s : float
        Look-ahead for the remaining contact time (rule "mct"), >= step_s [s]; must exceed the
        longest pass (a few minutes at 30 deg).
    seed : int
        Seeds the relative phases of the shells and the hidden priorities (>= 0).
    shard_epochs : int
        Epochs per shard file, >= 1 (does not change the data).
    """

    name: str = "custom"
    constellation: str = "starlink-5shell"
    epoch_utc: str = "2026-01-01T00:00:00"
    duration_s: float = 6 * 3600.0
    step_s: float = 15.0
    ref_lat_deg: float = 31.27
    ref_lon_deg: float = -97.74
    n_clusters: int = 10
    rings: int = 1
    spacing_km: float = 100.0
    min_elevation_deg: float = 30.0
    n_max: int = 40
    include_vertices: bool = False
    ranking: str = "reference"
    rule: str = "he"
    mct_horizon_s: float = 900.0
    seed: int = 0
    shard_epochs: int = 480

    def __post_init__(self) -> None:
        if (
            self.constellation not in CONSTELLATION_PRESETS
            and self.constellation not in WALKER_PRESETS
        ):
            known = sorted([*CONSTELLATION_PRESETS, *WALKER_PRESETS])
            raise ValueError(f"constellation must be one of {known}, got {self.constellation!r}")
        try:
            datetime.fromisoformat(self.epoch_utc)
        except (TypeError, ValueError):
            raise ValueError(
                f"epoch_utc must be an ISO date-time, got {self.epoch_utc!r}"
            ) from None
        for field, lo, hi, lo_open in [
            ("duration_s", 0.0, 366 * 86400.0, True),
            ("step_s", 0.0, 3600.0, True),
            ("ref_lat_deg", -80.0, 80.0, False),
            ("ref_lon_deg", -180.0, 180.0, False),
            ("spacing_km", 0.0, 1000.0, True),
            ("min_elevation_deg", 0.0, 90.0, False),
            ("mct_horizon_s", 0.0, 86400.0, True),
        ]:
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ValueError(f"{field} must be a finite number, got {v!r}")
            if (v <= lo if lo_open else v < lo) or v > hi:
                brk = "(" if lo_open else "["
                raise ValueError(f"{field} must be in {brk}{lo}, {hi}], got {v}")
        if self.min_elevation_deg >= 90.0:
            raise ValueError(f"min_elevation_deg must be in [0, 90), got {self.min_elevation_deg}")
        for field, lo, hi in [
            ("n_clusters", 1, 64),
            ("rings", 0, 10),
            ("n_max", 1, 127),
            ("seed", 0, 2**63 - 1),
            ("shard_epochs", 1, 10**7),
        ]:
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ValueError(f"{field} must be an integer in [{lo}, {hi}], got {v!r}")
        if self.ranking not in ("reference", "union"):
            raise ValueError(f"ranking must be 'reference' or 'union', got {self.ranking!r}")
        if self.rule not in ("he", "mct"):
            raise ValueError(f"rule must be 'he' or 'mct', got {self.rule!r}")
        if self.rule == "mct" and self.mct_horizon_s < self.step_s:
            raise ValueError("mct_horizon_s must be >= step_s")

    @property
    def n_epochs(self) -> int:
        """Number of epochs T."""
        return int(math.ceil(self.duration_s / self.step_s - 1e-9))

    @property
    def epoch(self) -> datetime:
        """``epoch_utc`` as a naive UTC datetime."""
        return datetime.fromisoformat(self.epoch_utc).replace(tzinfo=None)

    def data_dict(self) -> dict[str, Any]:
        """Fields that define the data (everything but ``name`` and ``shard_epochs``)."""
        d = dataclasses.asdict(self)
        d.pop("name")
        d.pop("shard_epochs")
        return d

    @property
    def key(self) -> str:
        """Hash of the configuration (16 hex digits), the cache folder's name."""
        d = {**self.data_dict(), "shard_epochs": self.shard_epochs, "schema": _SCHEMA_VERSION}
        blob = json.dumps(d, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


#: Presets: ``gsl-paper`` (14 days every 15 s, 80,640 epochs), ``gsl-ci`` (6 hours, 1,440 epochs),
#: their "new region" twins (same layout, priorities and constellation around Denver, CO) and
#: the SatComSim-like layout (10 clusters of 127 cells of 10 km radius).
PRESETS: dict[str, PrimaryAssignmentConfig] = {
    "gsl-paper": PrimaryAssignmentConfig(name="gsl-paper", duration_s=14 * 86400.0),
    "gsl-ci": PrimaryAssignmentConfig(name="gsl-ci", duration_s=6 * 3600.0, shard_epochs=360),
    "gsl-paper-region2": PrimaryAssignmentConfig(
        name="gsl-paper-region2", duration_s=14 * 86400.0, ref_lat_deg=39.74, ref_lon_deg=-104.99
    ),
    "gsl-ci-region2": PrimaryAssignmentConfig(
        name="gsl-ci-region2",
        duration_s=6 * 3600.0,
        shard_epochs=360,
        ref_lat_deg=39.74,
        ref_lon_deg=-104.99,
    ),
    "gsl-satcomsim": PrimaryAssignmentConfig(
        name="gsl-satcomsim", duration_s=6 * 3600.0, rings=6, spacing_km=10.0 * math.sqrt(3.0)
    ),
}


def default_root() -> Path:
    """Cache root: ``$APEX_DATA_DIR`` or ``~/.cache/apex/datasets``."""
    env = os.environ.get("APEX_DATA_DIR")
    return Path(env) if env else Path.home() / ".cache" / "apex" / "datasets"


def _rngs(cfg: PrimaryAssignmentConfig) -> tuple[np.random.Generator, np.random.Generator]:
    phases, priorities = np.random.SeedSequence(cfg.seed).spawn(2)
    return np.random.default_rng(phases), np.random.default_rng(priorities)


def build_constellation(cfg: PrimaryAssignmentConfig) -> Constellation:
    """The primary's constellation with seeded relative shell phases."""
    return constellation_preset(cfg.constellation, rng=_rngs(cfg)[0])


def build_layout(cfg: PrimaryAssignmentConfig) -> ClusterLayout:
    """The cluster layout with its seeded hidden priorities."""
    return hex_cluster_layout(
        cfg.ref_lat_deg, cfg.ref_lon_deg, cfg.n_clusters, cfg.rings, cfg.spacing_km, _rngs(cfg)[1]
    )


class _Geometry:
    """Static geometry shared by all shards of a configuration."""

    def __init__(self, cfg: PrimaryAssignmentConfig) -> None:
        self.cfg = cfg
        self.const = build_constellation(cfg)
        self.layout = build_layout(cfg)
        self.satrecs = walker_satrecs(self.const, cfg.epoch)
        self.centre_ecef, self.centre_up = self.layout.centre_ecef()
        self.pts_ecef, self.pts_up, self.pts_cluster = self.layout.sample_points(
            cfg.include_vertices
        )
        # Coarse filter: a satellite at >= eps from a point d away from the reference is seen
        # from the reference above the elevation at central angle (coverage + d / R) (spherical
        # Earth; 1 deg margin for the ellipsoid).
        ref = self.layout.ref_ecef
        cos_d = (self.pts_ecef @ ref) / (
            np.linalg.norm(self.pts_ecef, axis=1) * np.linalg.norm(ref)
        )
        d_ang = float(np.arccos(np.clip(cos_d, -1.0, 1.0)).max())
        alts = [1e3 * s.altitude_km for s in self.const.shells]
        self.coarse_deg = (
            min(
                float(
                    elevation_from_central_angle_deg(
                        np.array(coverage_central_angle_rad(a, cfg.min_elevation_deg) + d_ang), a
                    )
                )
                for a in alts
            )
            - 1.0
        )
        self.coarse_deg = min(self.coarse_deg, cfg.min_elevation_deg - 1.0)

    def ecef(self, t_s: np.ndarray) -> np.ndarray:
        r = propagate_teme(self.satrecs, self.cfg.epoch, t_s, names=self.const.names)
        jd, fr = julian_dates(self.cfg.epoch, t_s)
        return teme_to_ecef(r, jd, fr)


def compute_epochs(geo: _Geometry, i0: int, i1: int) -> dict[str, np.ndarray]:
    """All per-epoch arrays of epochs ``i0 <= i < i1`` (a shard)."""
    cfg, lay = geo.cfg, geo.layout
    n_c, m_max, eps = cfg.n_clusters, cfg.n_max, cfg.min_elevation_deg
    look = int(math.ceil(cfg.mct_horizon_s / cfg.step_s)) if cfg.rule == "mct" else 0
    t_all = np.arange(i0, i1 + look, dtype=np.float64) * cfg.step_s
    n_t = i1 - i0
    # Candidates (epoch, satellite) of the coarse filter, epoch by propagation chunk.
    ti_l, si_l, pos_l, eref_l, ecen_l, emin_l = [], [], [], [], [], []
    for c0 in range(0, len(t_all), _PROPAGATION_CHUNK):
        sat = geo.ecef(t_all[c0 : c0 + _PROPAGATION_CHUNK])  # (c, S, 3)
        e_ref = elevation_deg(sat, lay.ref_ecef[None, :], lay.ref_up[None, :])[..., 0]
        ti, si = np.nonzero(e_ref >= geo.coarse_deg)
        pos = sat[ti, si]
        ti_l.append(ti + c0)
        si_l.append(si)
        pos_l.append(pos)
        eref_l.append(e_ref[ti, si])
        ecen_l.append(elevation_deg(pos, geo.centre_ecef, geo.centre_up))  # (K, N)
        e_pts = elevation_deg(pos, geo.pts_ecef, geo.pts_up)  # (K, P)
        emin = np.full((len(pos), n_c), np.inf)
        for n in range(n_c):
            emin[:, n] = e_pts[:, geo.pts_cluster == n].min(axis=1)
        emin_l.append(emin)
    ti, si = np.concatenate(ti_l), np.concatenate(si_l)
    pos, e_ref = np.concatenate(pos_l), np.concatenate(eref_l)
    e_cen, e_min = np.concatenate(ecen_l), np.concatenate(emin_l)
    eligible = e_min >= eps
    # Remaining contact time (MCT) on the candidates' tracks, over the look-ahead.
    if cfg.rule == "mct":
        uniq, s_loc = np.unique(si, return_inverse=True)
        track = np.zeros((len(t_all), len(uniq), n_c), dtype=bool)
        track[ti, s_loc] = eligible
        remaining = remaining_contact_epochs(track)[ti, s_loc] * cfg.step_s
    # Ranked list: union of reference-available and cluster-eligible, by reference elevation.
    keep = (ti < n_t) & (e_ref >= eps)
    if cfg.ranking == "union":
        keep |= (ti < n_t) & eligible.any(axis=1)
    idx = np.nonzero(keep)[0]
    idx = idx[np.lexsort((-e_ref[idx], ti[idx]))]
    tk = ti[idx]
    first = np.searchsorted(tk, np.arange(n_t))
    rank = np.arange(len(idx)) - first[tk]
    count = np.bincount(tk, minlength=n_t)
    fits = rank < m_max
    idx, tk, rank = idx[fits], tk[fits], rank[fits]

    out: dict[str, np.ndarray] = {
        "t_s": t_all[:n_t].copy(),
        "n_avail": np.minimum(count, m_max).astype(np.int16),
        "n_truncated": np.maximum(count - m_max, 0).astype(np.int16),
        "sat_id": np.full((n_t, m_max), -1, dtype=np.int16),
        "sat_ecef": np.zeros((n_t, m_max, 3), dtype=np.float32),
        "sat_lla": np.zeros((n_t, m_max, 3), dtype=np.float32),
        "elev_ref": np.zeros((n_t, m_max), dtype=np.float32),
        "elev_cluster": np.zeros((n_t, n_c, m_max), dtype=np.float32),
        "elev_min": np.full((n_t, n_c, m_max), -90.0, dtype=np.float32),
    }
    out["sat_id"][tk, rank] = si[idx]
    out["sat_ecef"][tk, rank] = pos[idx]
    lat, lon, alt = ecef_to_geodetic(pos[idx])
    out["sat_lla"][tk, rank] = np.stack([lat, lon, alt], axis=-1)
    out["elev_ref"][tk, rank] = e_ref[idx]
    out["elev_cluster"][tk, :, rank] = e_cen[idx]
    out["elev_min"][tk, :, rank] = e_min[idx]
    if cfg.rule == "mct":
        out["remaining_s"] = np.zeros((n_t, n_c, m_max), dtype=np.float32)
        out["remaining_s"][tk, :, rank] = remaining[idx]
    # Labels (epochs without any satellite get -1 and no flags).
    avail = np.arange(m_max)[None, :] < out["n_avail"][:, None]
    ok = out["n_avail"] > 0
    label = np.full((n_t, n_c), -1, dtype=np.int8)
    shared = np.zeros((n_t, n_c), dtype=bool)
    empty = np.zeros((n_t, n_c), dtype=bool)
    if ok.any():
        res = _assign(cfg, lay, out, avail, ok)
        label[ok], shared[ok], empty[ok] = res.label, res.shared, res.empty_fallback
    out.update(label=label, shared=shared, empty_fallback=empty)
    return out


def _assign(
    cfg: PrimaryAssignmentConfig,
    lay: ClusterLayout,
    arrays: dict[str, np.ndarray],
    avail: np.ndarray,
    ok: np.ndarray,
) -> Assignment:
    e_cen = arrays["elev_cluster"][ok].astype(np.float64)
    e_min = arrays["elev_min"][ok].astype(np.float64)
    if cfg.rule == "mct":
        rem = arrays["remaining_s"][ok].astype(np.float64)
        return mct_assign(rem, e_cen, e_min, avail[ok], lay.order, cfg.min_elevation_deg)
    return he_assign(e_cen, e_min, avail[ok], lay.order, cfg.min_elevation_deg)


@dataclass(frozen=True, eq=False)
class PrimaryAssignmentData:
    """A loaded dataset: per-epoch arrays (concatenated shards), static arrays and the config.

    Attributes
    ----------
    config : PrimaryAssignmentConfig
    arrays : dict of str to ndarray
        The per-epoch arrays of the module table, first axis T.
    static : dict of str to ndarray
        ``cell_lat_deg``, ``cell_lon_deg``, ``cluster_of_cell``, ``centre_lat_deg``,
        ``centre_lon_deg``, ``centre_ecef``, ``ref_ecef``.
    priority : ndarray of int64, shape (N,)
        Hidden priority rank of each cluster (0 = first); stored in its own file.
    path : Path
        The dataset folder.
    """

    config: PrimaryAssignmentConfig
    arrays: dict[str, np.ndarray]
    static: dict[str, np.ndarray]
    priority: np.ndarray
    path: Path

    @property
    def n_epochs(self) -> int:
        """Number of epochs T."""
        return len(self.arrays["t_s"])

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]


def _atomic_save(path: Path, save: Callable[[str], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    def save(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **cast(dict[str, Any], arrays))

    _atomic_save(path, save)


def _save_json(path: Path, data: Any) -> None:
    def save(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")

    _atomic_save(path, save)


def _shard_path(folder: Path, k: int) -> Path:
    return folder / f"shard_{k:05d}.npz"


_GEOMETRY: dict[str, _Geometry] = {}  # per process: geometry by configuration key (few entries)


def _shard_task(cfg_d: dict[str, Any], folder: str, k: int, i0: int, i1: int) -> int:
    """Worker task: epochs ``i0 <= i < i1`` written as shard ``k``; returns the truncated count."""
    cfg = PrimaryAssignmentConfig(**cfg_d)
    geo = _GEOMETRY.get(cfg.key)
    if geo is None:
        if len(_GEOMETRY) >= 2:
            _GEOMETRY.clear()
        geo = _GEOMETRY[cfg.key] = _Geometry(cfg)
    arrays = compute_epochs(geo, i0, i1)
    _save_npz(_shard_path(Path(folder), k), arrays)
    return int(arrays["n_truncated"].sum())


def generate(
    config: PrimaryAssignmentConfig | str,
    root: str | os.PathLike[str] | None = None,
    *,
    progress: bool = True,
    max_shards: int | None = None,
    backend: str = "serial",
    workers: int | None = None,
    address: str | None = None,
) -> Path:
    """Generate (or complete) a dataset; return its folder.

    Parameters
    ----------
    config : PrimaryAssignmentConfig or str
        A configuration or the name of a preset in :data:`PRESETS`.
    root : path, optional
        Cache root (default :func:`default_root`); the data go to ``root/<config.key>/``.
    progress : bool, optional
        Show a tqdm progress bar (shards).
    max_shards : int, optional
        Stop after writing this many new shards (to test resumption).
    backend : {"serial", "process", "ray"}
        Where the shards are computed (:func:`leo_env.parallel.pmap`); same files on every one.
    workers : int, optional
        Worker processes (``process``) or CPUs of a local Ray cluster (``ray``).
    address : str, optional
        Ray cluster to join (``ray``).

    Returns
    -------
    Path
        The dataset folder; ``complete.json`` exists in it once every shard is written.
    """
    cfg = PRESETS[config] if isinstance(config, str) else config
    if isinstance(config, str) and config not in PRESETS:
        raise ValueError(f"unknown preset {config!r}; known presets: {sorted(PRESETS)}")
    folder = Path(root) if root is not None else default_root()
    folder = folder / f"primary-assignment-{cfg.key}"
    n_t, step = cfg.n_epochs, cfg.shard_epochs
    n_shards = (n_t + step - 1) // step
    if (folder / "complete.json").exists():
        return folder
    geo = _Geometry(cfg)
    if not (folder / "config.json").exists():
        lay = geo.layout
        _save_npz(
            folder / "static.npz",
            {
                "cell_lat_deg": lay.cell_lat_deg,
                "cell_lon_deg": lay.cell_lon_deg,
                "cluster_of_cell": lay.cluster_of_cell,
                "centre_lat_deg": lay.centre_lat_deg,
                "centre_lon_deg": lay.centre_lon_deg,
                "centre_ecef": geo.centre_ecef,
                "ref_ecef": lay.ref_ecef,
            },
        )
        _save_npz(folder / "hidden_priority.npz", {"priority": lay.priority})
        shells = [dataclasses.asdict(s) for s in geo.const.shells]
        meta = {
            "config": dataclasses.asdict(cfg),
            "key": cfg.key,
            "schema": _SCHEMA_VERSION,
            "n_epochs": n_t,
            "n_shards": n_shards,
            "shells": shells,
        }
        _save_json(folder / "config.json", meta)
    missing = [k for k in range(n_shards) if not _shard_path(folder, k).exists()]
    todo = missing if max_shards is None else missing[: max(0, int(max_shards))]
    if len(_GEOMETRY) >= 2:
        _GEOMETRY.clear()
    _GEOMETRY[cfg.key] = geo  # the serial backend reuses it
    cfg_d = dataclasses.asdict(cfg)
    tasks = [(cfg_d, str(folder), k, k * step, min(n_t, (k + 1) * step)) for k in todo]
    pmap(_shard_task, tasks, backend=backend, workers=workers, address=address, retries=1,
         desc=f"primary-assignment {cfg.name} (shards of {step} epochs)", progress=progress,
         done=n_shards - len(missing))
    if all(_shard_path(folder, k).exists() for k in range(n_shards)):
        _save_json(folder / "complete.json", {"n_shards": n_shards, "n_epochs": n_t})
    return folder


def load(
    config: PrimaryAssignmentConfig | str,
    root: str | os.PathLike[str] | None = None,
    *,
    generate_missing: bool = True,
    progress: bool = True,
) -> PrimaryAssignmentData:
    """Load a dataset, generating it (or its missing shards) first if needed."""
    cfg = PRESETS[config] if isinstance(config, str) else config
    if isinstance(config, str) and config not in PRESETS:
        raise ValueError(f"unknown preset {config!r}; known presets: {sorted(PRESETS)}")
    folder = (Path(root) if root is not None else default_root()) / f"primary-assignment-{cfg.key}"
    if not (folder / "complete.json").exists():
        if not generate_missing:
            raise FileNotFoundError(f"dataset {cfg.name} ({cfg.key}) is not complete in {folder}")
        generate(cfg, root, progress=progress)
    meta = json.loads((folder / "config.json").read_text())
    parts: dict[str, list[np.ndarray]] = {}
    for k in range(meta["n_shards"]):
        with np.load(_shard_path(folder, k)) as z:
            for key in z.files:
                parts.setdefault(key, []).append(z[key])
    arrays = {k: np.concatenate(v) for k, v in parts.items()}
    with np.load(folder / "static.npz") as z:
        static = {k: z[k] for k in z.files}
    with np.load(folder / "hidden_priority.npz") as z:
        priority = z["priority"]
    return PrimaryAssignmentData(cfg, arrays, static, priority, folder)
