"""Score of a predicted assignment: the share of clusters given their true satellite.

This is the only definition of the metric: the environment's reward
(:class:`leo_env.envs.assignment.env.PrimaryAssignmentEnv`) calls :func:`share_correct`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AssignmentDecision", "share_correct", "topk_correct"]


@dataclass(frozen=True)
class AssignmentDecision:
    """A predicted satellite (rank index) for every cluster of one epoch.

    Attributes
    ----------
    satellite : ndarray of int, shape (N,)
        Rank index in the epoch's ranked list of available satellites.
    """

    satellite: np.ndarray

    def check_feasible(self, n_avail: int, n_clusters: int) -> None:
        """Raise ``ValueError`` unless there is one available satellite per cluster."""
        s = np.asarray(self.satellite)
        if s.shape != (n_clusters,):
            raise ValueError(f"satellite must have shape ({n_clusters},), got {s.shape}")
        if not np.issubdtype(s.dtype, np.integer):
            raise ValueError(f"satellite must hold integers, got {s.dtype}")
        if s.min() < 0 or s.max() >= n_avail:
            raise ValueError(f"satellite indices must be in [0, n_avail={n_avail}), got {s}")


def share_correct(predicted: np.ndarray, label: np.ndarray) -> float:
    """Share of clusters whose predicted satellite is the true one, in [0, 1]."""
    p, y = np.asarray(predicted), np.asarray(label)
    if p.shape != y.shape:
        raise ValueError(f"predicted {p.shape} and label {y.shape} must have the same shape")
    return float(np.mean(p == y))


def topk_correct(scores: np.ndarray, label: np.ndarray, k: int) -> np.ndarray:
    """Per cluster, whether the label is among the ``k`` highest scores (lower index on ties).

    Parameters
    ----------
    scores : ndarray, shape (..., N, M)
    label : ndarray of int, shape (..., N)
    k : int
        In [1, M].

    Returns
    -------
    ndarray of bool, shape (..., N)
    """
    s = np.asarray(scores, dtype=np.float64)
    if not 1 <= k <= s.shape[-1]:
        raise ValueError(f"k must be in [1, {s.shape[-1]}], got {k}")
    top = np.argsort(-s, axis=-1, kind="stable")[..., :k]
    return np.any(top == np.asarray(label)[..., None], axis=-1)
