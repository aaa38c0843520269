"""A primary LEO operator's cluster-to-satellite assignment rules, vectorised over epochs.

At every handover epoch ``t`` the operator has ``M(t)`` *available* satellites, ranked (index
``m``) by elevation at the region's reference point, and ``N`` cell clusters with a fixed priority
order.  For each cluster ``n`` a satellite ``m`` is *eligible* if its elevation at every sample
point of the cluster is at least the minimum elevation ``eps``.  The rules are serial
dictatorships over the clusters in priority order:

    for n in clusters, highest priority first:
        E = eligible satellites of n
        if some satellite of E is not yet taken: take the best free one of E
        elif E is not empty:                     take the best one of E anyway   (shared)
        else:                                    take the best available one     (empty fallback)

"Best" is the highest ``score[n, m]``: the elevation at the cluster centre for the highest-
elevation rule (HE), the remaining contact time for the maximum-contact-time rule (MCT).  Ties go
to the lowest rank index ``m``.  :func:`sequential_assign` is that loop, vectorised over epochs
(a loop of ``N`` steps over arrays of shape (T, M)).

:func:`cluster_min_elevation_deg` computes the eligibility input in chunks of epochs so that the
(epochs x satellites x sample points) elevation array is never held in memory, reusing
:func:`leo_env.core.geometry.elevation_deg`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from leo_env.core.geometry import elevation_deg

__all__ = [
    "Assignment",
    "sequential_assign",
    "he_assign",
    "he_assign_without_priorities",
    "mct_assign",
    "remaining_contact_epochs",
    "cluster_min_elevation_deg",
]


class Assignment(NamedTuple):
    """Result of an assignment rule, each array of shape (T, N)."""

    label: np.ndarray
    """Rank index ``m`` of the satellite serving each cluster (int64)."""
    shared: np.ndarray
    """Every eligible satellite was already taken: the cluster shares one (bool)."""
    empty_fallback: np.ndarray
    """No satellite is eligible: the best available one was taken (bool)."""


def _check(score: np.ndarray, eligible: np.ndarray, available: np.ndarray) -> None:
    if score.ndim != 3:
        raise ValueError(f"score must have shape (T, N, M), got {score.shape}")
    if eligible.shape != score.shape:
        raise ValueError(
            f"eligible must have the shape of score {score.shape}, got {eligible.shape}"
        )
    if available.shape != (score.shape[0], score.shape[2]):
        raise ValueError(
            f"available must have shape (T, M) = {(score.shape[0], score.shape[2])}, "
            f"got {available.shape}"
        )
    if not np.all(available.any(axis=1)):
        raise ValueError("available must hold at least one satellite at every epoch")


def _best(score: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Index of the highest ``score`` among ``allowed`` (lowest index on ties), shape (T,)."""
    return np.argmax(np.where(allowed, score, -np.inf), axis=1)


def sequential_assign(
    score: np.ndarray,
    eligible: np.ndarray,
    available: np.ndarray,
    order: np.ndarray | None,
) -> Assignment:
    """Serial dictatorship of the clusters over the available satellites (module docstring).

    Parameters
    ----------
    score : ndarray, shape (T, N, M)
        Preference of cluster ``n`` for satellite ``m`` (higher is better); finite where
        ``available``.
    eligible : ndarray of bool, shape (T, N, M)
        Satellite ``m`` may serve cluster ``n`` (only available satellites count).
    available : ndarray of bool, shape (T, M)
        Satellites in the ranked list of the epoch (at least one per epoch).
    order : ndarray of int, shape (N,), or None
        Cluster indices, highest priority first.  ``None``: no priorities -- every cluster takes
        its best eligible satellite whether taken or not (the "HE without priorities" rule).

    Returns
    -------
    Assignment
    """
    score = np.asarray(score, dtype=np.float64)
    available = np.asarray(available, dtype=bool)
    eligible = np.asarray(eligible, dtype=bool) & available[:, None, :]
    _check(score, eligible, available)
    n_t, n_c, _ = score.shape
    if order is not None:
        order = np.asarray(order)
        if sorted(order.tolist()) != list(range(n_c)):
            raise ValueError(f"order must be a permutation of range({n_c}), got {order}")
    label = np.empty((n_t, n_c), dtype=np.int64)
    shared = np.zeros((n_t, n_c), dtype=bool)
    empty = np.zeros((n_t, n_c), dtype=bool)
    taken = np.zeros_like(available)
    rows = np.arange(n_t)
    for n in range(n_c) if order is None else order:
        elig = eligible[:, n]
        free = elig & ~taken if order is not None else elig
        has_free, has_elig = free.any(axis=1), elig.any(axis=1)
        label[:, n] = np.where(
            has_free,
            _best(score[:, n], free),
            np.where(has_elig, _best(score[:, n], elig), _best(score[:, n], available)),
        )
        shared[:, n] = has_elig & ~has_free
        empty[:, n] = ~has_elig
        taken[rows, label[:, n]] = True
    return Assignment(label, shared, empty)


def he_assign(
    elev_centre_deg: np.ndarray,
    elev_min_deg: np.ndarray,
    available: np.ndarray,
    order: np.ndarray | None,
    min_elevation_deg: float,
) -> Assignment:
    """Highest-elevation (HE) rule with cluster priorities.

    Parameters
    ----------
    elev_centre_deg : ndarray, shape (T, N, M)
        Elevation of ranked satellite ``m`` at the centre of cluster ``n`` [deg] (the score).
    elev_min_deg : ndarray, shape (T, N, M)
        Minimum elevation over the cluster's sample points [deg] (eligibility).
    available : ndarray of bool, shape (T, M)
        Ranked-list mask.
    order : ndarray of int, shape (N,), or None
        Clusters from the highest priority down; ``None`` for the rule without priorities.
    min_elevation_deg : float
        ``eps`` [deg].

    Returns
    -------
    Assignment
    """
    eligible = np.asarray(elev_min_deg) >= float(min_elevation_deg)
    return sequential_assign(elev_centre_deg, eligible, available, order)


def he_assign_without_priorities(
    elev_centre_deg: np.ndarray,
    elev_min_deg: np.ndarray,
    available: np.ndarray,
    min_elevation_deg: float,
) -> Assignment:
    """Each cluster takes its own highest-elevation eligible satellite (no priorities, no taking)."""
    return he_assign(elev_centre_deg, elev_min_deg, available, None, min_elevation_deg)


def remaining_contact_epochs(eligible_track: np.ndarray) -> np.ndarray:
    """Consecutive epochs, from each epoch on, during which a satellite stays eligible.

    Parameters
    ----------
    eligible_track : ndarray of bool, shape (T, ...)
        Eligibility over time (time first).

    Returns
    -------
    ndarray of int64, shape (T, ...)
        ``run[t] = eligible[t] * (run[t + 1] + 1)`` with ``run[T] = 0``: 0 where not eligible;
        counts are truncated at the end of the track.
    """
    track = np.asarray(eligible_track, dtype=bool)
    run = np.zeros(track.shape, dtype=np.int64)
    nxt = np.zeros(track.shape[1:], dtype=np.int64)
    for t in range(track.shape[0] - 1, -1, -1):
        nxt = np.where(track[t], nxt + 1, 0)
        run[t] = nxt
    return run


def mct_assign(
    remaining_s: np.ndarray,
    elev_centre_deg: np.ndarray,
    elev_min_deg: np.ndarray,
    available: np.ndarray,
    order: np.ndarray | None,
    min_elevation_deg: float,
) -> Assignment:
    """Maximum-contact-time (MCT) rule: like HE, but the score is the remaining contact time.

    Ties in remaining time (e.g. two satellites visible to the end of the track) are broken by
    elevation at the cluster centre: the score is ``remaining_s + elev / 1000`` with the
    elevation in degrees (< 0.1 s), which cannot reorder different whole epochs of contact.

    Parameters
    ----------
    remaining_s : ndarray, shape (T, N, M)
        Time satellite ``m`` will stay eligible for cluster ``n`` from epoch ``t`` on [s]
        (e.g. :func:`remaining_contact_epochs` times the epoch step).
    elev_centre_deg, elev_min_deg, available, order, min_elevation_deg
        As in :func:`he_assign`.

    Returns
    -------
    Assignment
    """
    score = np.asarray(remaining_s, dtype=np.float64) + np.asarray(elev_centre_deg) / 1000.0
    eligible = np.asarray(elev_min_deg) >= float(min_elevation_deg)
    return sequential_assign(score, eligible, available, order)


def cluster_min_elevation_deg(
    sat_ecef: np.ndarray,
    points_ecef: np.ndarray,
    points_up: np.ndarray,
    point_cluster: np.ndarray,
    n_clusters: int,
    chunk: int = 64,
) -> np.ndarray:
    """Minimum elevation of every satellite over each cluster's sample points, in chunks.

    Parameters
    ----------
    sat_ecef : ndarray, shape (T, S, 3)
        Satellite positions [m].
    points_ecef, points_up : ndarray, shape (P, 3)
        Sample points [m] and their local verticals.
    point_cluster : ndarray of int, shape (P,)
        Cluster of every point, in [0, n_clusters).
    n_clusters : int
        Number of clusters N.
    chunk : int, optional
        Epochs per chunk: peak memory is ``chunk * S * P`` doubles.

    Returns
    -------
    ndarray, shape (T, S, N)
        Minimum elevation [deg]; ``+inf`` for a cluster without points.
    """
    sat = np.asarray(sat_ecef, dtype=np.float64)
    cl = np.asarray(point_cluster)
    if sat.ndim != 3 or sat.shape[-1] != 3:
        raise ValueError(f"sat_ecef must have shape (T, S, 3), got {sat.shape}")
    if cl.shape != (len(points_ecef),) or (cl.size and not 0 <= cl.min() <= cl.max() < n_clusters):
        raise ValueError(f"point_cluster must hold one cluster in [0, {n_clusters}) per point")
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    out = np.full((sat.shape[0], sat.shape[1], n_clusters), np.inf)
    for t0 in range(0, sat.shape[0], chunk):
        el = elevation_deg(sat[t0 : t0 + chunk], points_ecef, points_up)  # (c, S, P)
        for n in range(n_clusters):
            cols = cl == n
            if cols.any():
                out[t0 : t0 + chunk, :, n] = el[..., cols].min(axis=-1)
    return out
