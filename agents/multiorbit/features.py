"""Observations of the multiorbit environments as network inputs (numpy, batched).

Both environments describe a slot by per-candidate features ``sat`` (S, 8), the SNR matrix and
the cone mask; the association env stores them UE-major.  :func:`canonical` brings either
observation to candidate-major arrays, :func:`candidate_tokens` builds one feature vector per
candidate (its row of ``sat`` without the history column, statistics of its SNR over the UEs
seeing it, and how often it is a UE's best or only option) for the set networks of
:mod:`agents.multiorbit.models`.  Slots are independent in the paper's setting
(``lambda_switch_mbps = 0``), so the history column (served in the previous slot) is dropped
and demonstrations of single slots are valid training data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["canonical", "candidate_tokens", "pair_features", "association_load", "subset_load", "N_TOKEN", "N_PAIR", "stack_obs"]

N_TOKEN = 17
"""Features per candidate token."""

N_PAIR = 4
"""Features per (UE, candidate) pair."""

_SAT_COLS = (0, 1, 2, 3, 4, 5, 7)


def canonical(obs: dict[str, Any]) -> dict[str, np.ndarray]:
    """Candidate-major arrays ``sat`` (B,S,8), ``gain``/``visible`` (B,S,U), ``mask`` (B,S), ``context`` (B,3).

    Accepts one observation or a batch, of either environment (the association env's ``gain``
    is UE-major and has no ``mask``: it is rebuilt from ``sat``'s non-empty rows... precisely,
    from the candidates some UE sees).
    """
    sat = np.asarray(obs["sat"], dtype=np.float32)
    single = sat.ndim == 2
    def b(x: Any) -> np.ndarray:
        a = np.asarray(x, dtype=np.float32)
        return a[None] if single else a
    sat = b(sat)
    gain, vis = b(obs["gain"]), b(obs["visible"])
    if "mask" in obs:
        mask = b(obs["mask"])
    else:  # association env: (B, U, S) -> (B, S, U)
        gain, vis = gain.transpose(0, 2, 1), vis.transpose(0, 2, 1)
        mask = (vis.max(axis=2) > 0).astype(np.float32)
    return {"sat": sat, "gain": gain, "visible": vis, "mask": mask, "context": b(obs["context"])}


def stack_obs(obs_list: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Stack single observations into a batch."""
    return {k: np.stack([np.asarray(o[k]) for o in obs_list]) for k in obs_list[0]}


def candidate_tokens(c: dict[str, np.ndarray]) -> np.ndarray:
    """Per-candidate features (B, S, :data:`N_TOKEN`), zero on padded candidates.

    Columns: ``sat`` without the history column (7); over the UEs seeing the candidate, the
    mean, min, max and std of SNR/30 (4); the share of UEs whose best (largest SNR) option it
    is, and whose only option it is (2); the candidate's mean SNR minus the mean over
    candidates (1); rank of its mean SNR among the candidates / S (1); number of candidates / S
    and ``k_max / S`` from the context (2).
    """
    sat, gain, vis, mask = c["sat"], c["gain"], c["visible"], c["mask"]
    bsz, s, u = gain.shape
    v = vis > 0
    nv = np.maximum(v.sum(axis=2), 1)
    g_mean = np.where(v, gain, 0).sum(axis=2) / nv
    g_min = np.where(v, gain, np.inf).min(axis=2)
    g_max = np.where(v, gain, -np.inf).max(axis=2)
    g_min = np.where(np.isfinite(g_min), g_min, 0)
    g_max = np.where(np.isfinite(g_max), g_max, 0)
    g_std = np.sqrt(np.maximum(np.where(v, gain**2, 0).sum(axis=2) / nv - g_mean**2, 0))
    masked = np.where(v, gain, -np.inf)
    best = masked.argmax(axis=1)  # (B, U)
    has = np.asarray(v.any(axis=1))
    best_share = np.zeros((bsz, s), np.float32)
    only_share = np.zeros((bsz, s), np.float32)
    only = np.asarray(v.sum(axis=1) == 1)
    for i in range(bsz):
        np.add.at(best_share[i], best[i][has[i]], 1.0)
        np.add.at(only_share[i], best[i][only[i]], 1.0)
    best_share /= u
    only_share /= u
    n = np.maximum(mask.sum(axis=1, keepdims=True), 1)
    rel = g_mean - (g_mean * mask).sum(axis=1, keepdims=True) / n
    order = np.argsort(np.argsort(-np.where(mask > 0, g_mean, -np.inf), axis=1), axis=1)
    rank = order / s
    ctx = np.broadcast_to(np.stack([n[:, 0] / s, c["context"][:, 2]], axis=1)[:, None, :], (bsz, s, 2))
    out = np.concatenate(
        [sat[..., list(_SAT_COLS)], np.stack([g_mean, g_min, g_max, g_std, best_share, only_share, rel, rank], -1), ctx],
        axis=-1,
    ).astype(np.float32)
    return out * mask[..., None]


def pair_features(c: dict[str, np.ndarray]) -> np.ndarray:
    """Per (UE, candidate) features (B, U, S, :data:`N_PAIR`): SNR/30, SNR minus the UE's best, best flag, visible."""
    gain = c["gain"].transpose(0, 2, 1)
    vis = c["visible"].transpose(0, 2, 1) > 0
    masked = np.where(vis, gain, -np.inf)
    best = masked.max(axis=2, keepdims=True)
    best = np.where(np.isfinite(best), best, 0)
    gap = np.where(vis, gain - best, 0)
    is_best = vis & (masked >= best)
    return np.stack([np.where(vis, gain, 0), gap, is_best, vis], axis=-1).astype(np.float32)


def association_load(c: dict[str, np.ndarray], assoc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-candidate statistics of joint associations, for :class:`~agents.multiorbit.models.AssocCritic`.

    Parameters
    ----------
    c : dict
        :func:`canonical` arrays of B slots.
    assoc : (B, U) int
        Candidate per UE (-1: unserved).

    Returns
    -------
    load : (B, S, 4) float32
        Share of UEs on the candidate, mean and min SNR/30 of those UEs, served flag.
    glob : (B, 2) float32
        Share of unserved UEs, serving satellites / S.
    """
    gain = c["gain"]  # (B, S, U)
    bsz, s, u = gain.shape
    a = np.asarray(assoc, dtype=np.int64)
    onehot = np.zeros((bsz, s, u), dtype=bool)
    bi, ui = np.nonzero(a >= 0)
    onehot[bi, a[bi, ui], ui] = True
    cnt = onehot.sum(axis=2)
    mean = np.where(onehot, gain, 0).sum(axis=2) / np.maximum(cnt, 1)
    mn = np.where(onehot, gain, np.inf).min(axis=2)
    mn = np.where(np.isfinite(mn), mn, 0)
    served = (cnt > 0).astype(np.float32)
    load = np.stack([cnt / u, mean, mn, served], axis=-1).astype(np.float32)
    glob = np.stack([(a < 0).mean(axis=1), served.sum(axis=1) / s], axis=-1).astype(np.float32)
    return load, glob


def subset_load(c: dict[str, np.ndarray], subset: np.ndarray, k_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-candidate inputs of the subset critic (``AssocCritic(n_load=2)``).

    Parameters
    ----------
    c : dict
        :func:`canonical` arrays of B slots.
    subset : (B, S) 0/1
        Serving flags.
    k_max : int
        Most satellites in service.

    Returns
    -------
    load : (B, S, 2) float32
        Serving flag; share of UEs seeing the candidate times the flag.
    glob : (B, 2) float32
        ``|A| / S`` and ``|A| / k_max``.
    """
    a = np.asarray(subset, dtype=np.float32) * c["mask"]
    share = (c["visible"] > 0).mean(axis=2)
    load = np.stack([a, a * share], axis=-1).astype(np.float32)
    n = a.sum(axis=1)
    glob = np.stack([n / a.shape[1], n / max(int(k_max), 1)], axis=-1).astype(np.float32)
    return load, glob
