"""Exact score of any association sequence: fast P1 in every slow slot on the realised arrivals.

This is the environment's episode return for the same decisions (SPEC sections 5 and 6):
``sum_k sum_c log(eps + xi[c, k]) - lambda_h * total handovers``, with ``xi`` from the exact P1
allocation of slot ``k`` given the association, and zero-demand cells left out.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from leo_env.core.handover import count_handovers, onehot_to_assoc
from leo_env.core.utility import jain_index, log_utility
from oracles.p2.problem import Problem

if TYPE_CHECKING:  # pragma: no cover
    from leo_env.scenario.scenario import Scenario

__all__ = ["EvalResult", "evaluate"]


@dataclass(frozen=True, eq=False)
class EvalResult:
    """Exact evaluation of an association sequence.

    Attributes
    ----------
    utility : float
        ``sum_k sum_c log(eps + xi) - lambda_h * handovers`` (the episode return).
    utility_log : float
        The log part alone.
    reward : ndarray, shape (K,)
        Per-slot reward ``sum_c log(eps + xi[c, k]) - lambda_h * sum_c h[c, k]``.
    xi : ndarray, shape (C, K)
        Exact P1 satisfaction (``nan`` for zero-demand cell-slots).
    jain_cells : float
        Jain index of the per-cell mean satisfaction (fairness across cells over the episode).
    jain_per_slot : ndarray, shape (K,)
        Jain index of ``xi[:, k]`` (the environment's per-step ``info["jain"]``).
    jain_slot_mean : float
        Mean of ``jain_per_slot`` (the result tables' ``jain_slot_mean``).
    mean_xi : float
        Mean satisfaction over cell-slots with demand.
    worst_cell_xi : float
        Smallest per-cell mean satisfaction.
    served_bits : float
        Total served bits.
    h : ndarray of int, shape (C, K)
        Handovers.
    handovers : ndarray of int, shape (C,)
        Handovers per cell.
    budget_violations : int
        Non-emergency handovers beyond the budgets, summed over cells: the environment's
        ``info["budget_violations"]`` and the tables' ``budget_violations`` (one definition).
    cells_over_budget : int
        Cells with at least one budget violation.
    emergencies : int
        Emergency handovers: switches forced by the serving satellite setting (not visible in
        the slot) when the cell's budget is already spent; they consume no budget (the
        environment's ``emergencies_total``).
    visibility_violations : int
        Cell-slots served by a satellite that is not visible (or not served at all).
    p1_status : dict
        Count of P1 statuses over the slots.
    time_s : float
        Wall time of the evaluation [s].
    """

    utility: float
    utility_log: float
    reward: np.ndarray
    xi: np.ndarray
    jain_cells: float
    jain_per_slot: np.ndarray
    jain_slot_mean: float
    mean_xi: float
    worst_cell_xi: float
    served_bits: float
    h: np.ndarray
    handovers: np.ndarray
    budget_violations: int
    cells_over_budget: int
    emergencies: int
    visibility_violations: int
    p1_status: dict[str, int] = field(default_factory=dict)
    time_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        """Scalars as plain data."""
        return {
            "utility": self.utility, "utility_log": self.utility_log, "jain_cells": self.jain_cells,
            "jain_slot_mean": self.jain_slot_mean,
            "mean_xi": self.mean_xi, "worst_cell_xi": self.worst_cell_xi,
            "served_bits": self.served_bits, "handovers_total": int(self.handovers.sum()),
            "handovers_max": int(self.handovers.max()) if self.handovers.size else 0,
            "budget_violations": self.budget_violations,
            "cells_over_budget": self.cells_over_budget,
            "emergencies": self.emergencies,
            "visibility_violations": self.visibility_violations,
            "p1_status": dict(self.p1_status), "time_s": self.time_s,
        }


def _as_assoc(x: np.ndarray, S: int, C: int, K: int) -> np.ndarray:  # noqa: N803
    x = np.asarray(x)
    if x.ndim == 3:
        if x.shape != (S, C, K):
            raise ValueError(f"x must have shape ({S}, {C}, {K}), got {x.shape}")
        return onehot_to_assoc(x)
    if x.ndim == 2:
        if x.shape != (C, K):
            raise ValueError(f"x given as satellite indices must have shape ({C}, {K}), got {x.shape}")
        if x.size and (x.min() < -1 or x.max() >= S):
            raise ValueError(f"x: satellite indices must be in [-1, {S - 1}]")
        return x.astype(np.int64)
    raise ValueError(f"x must be (S, C, K) 0/1 or (C, K) satellite indices, got shape {x.shape}")


def evaluate(
    problem_or_scenario: Problem | Scenario,
    x: np.ndarray,
    *,
    lambda_h: float | None = None,
    method: str = "fast",
    chunk_slots: int | None = None,
    **p1_options: Any,
) -> EvalResult:
    """Score an association sequence exactly (P1 in every slow slot).

    Parameters
    ----------
    problem_or_scenario : Problem or Scenario
        Instance; with a scenario (or a problem built from one) per-fast-slot gains with
        small-scale fading are used.
    x : ndarray
        Association as 0/1 (S, C, K) or satellite indices (C, K) (``-1``: unserved).
    lambda_h : float, optional
        Handover price (default: the problem's / scenario's).
    method : {"fast", "cvx"}
        P1 solver.
    chunk_slots : int, optional
        Slots per :func:`oracles.p1.solve_batch` call (default: bounded memory).
    **p1_options
        Passed to the P1 solver.

    Returns
    -------
    EvalResult
    """
    from oracles.p1 import solve_batch

    t0 = time.perf_counter()
    if isinstance(problem_or_scenario, Problem):
        prob = problem_or_scenario
    else:
        prob = Problem.from_scenario(problem_or_scenario)
    S, C, K, M = prob.S, prob.C, prob.K, prob.M  # noqa: N806
    lam = prob.lambda_h if lambda_h is None else float(lambda_h)
    assoc = _as_assoc(x, S, C, K)
    sc = prob.scenario
    fading = sc is not None and getattr(sc, "fading", "none") != "none"
    per_slot = S * C * (M if fading else 1) * 8 * 4
    chunk = chunk_slots or max(1, min(K, int(2e8 // max(per_slot, 1))))
    xi = np.full((C, K), np.nan)
    statuses: dict[str, int] = {}
    served = 0.0
    for k0 in range(0, K, chunk):
        k1 = min(K, k0 + chunk)
        ks = np.arange(k0, k1)
        xb = np.zeros((k1 - k0, S, C))
        kk, cc = np.nonzero(assoc[:, k0:k1].T >= 0)
        xb[kk, assoc[cc, k0 + kk], cc] = 1.0
        ab = np.transpose(prob.a[:, k0:k1, :], (1, 0, 2))
        if fading:
            assert sc is not None
            gb = np.stack([sc.fast_gain(prob.k_offset + int(k)) for k in ks])
        else:
            gb = np.transpose(prob.g[:, :, k0:k1], (2, 0, 1))
        res = solve_batch(
            xb, ab, gb, N_PRB=prob.N_PRB, P_max=prob.P_max, W_PRB=prob.W_PRB, N0=prob.N0,
            T_f=prob.T_f, eps=prob.eps, method=method, **p1_options,
        )
        xi[:, k0:k1] = np.asarray(res.xi).T
        served += float(np.sum(res.z))
        for s_ in np.asarray(res.status).ravel():
            statuses[str(s_)] = statuses.get(str(s_), 0) + 1
    h = count_handovers(assoc, prob.initial)
    util_slot = np.asarray(log_utility(xi, eps=prob.eps, axis=0), dtype=float)
    reward = util_slot - lam * h.sum(axis=0)
    handovers = h.sum(axis=1)
    budget = prob.budget
    # emergency: a switch away from a satellite that is no longer visible, budget already spent
    prev = np.empty_like(assoc)
    prev[:, 1:] = assoc[:, :-1]
    prev[:, 0] = prob.initial
    used_before = np.cumsum(h, axis=1) - h
    kk = np.broadcast_to(np.arange(K), (C, K))
    cc = np.broadcast_to(np.arange(C)[:, None], (C, K))
    prev_visible = np.where(prev >= 0, prob.v[np.maximum(prev, 0), cc, kk], True)
    emergency = (h > 0) & ~prev_visible & (used_before >= budget[:, None])
    over = np.maximum(0, handovers - emergency.sum(axis=1) - budget)  # emergencies consume no budget
    served_ok = np.where(assoc >= 0, prob.v[np.maximum(assoc, 0), cc, kk], False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # cells without demand in any slot
        cell_mean = np.nanmean(xi, axis=1)
    valid = ~np.isnan(cell_mean)
    jain_slots = np.asarray(jain_index(xi, axis=0), dtype=float)
    return EvalResult(
        utility=float(reward.sum()), utility_log=float(util_slot.sum()), reward=reward, xi=xi,
        jain_cells=float(jain_index(cell_mean[valid])) if valid.any() else 1.0,
        jain_per_slot=jain_slots, jain_slot_mean=float(np.mean(jain_slots)) if jain_slots.size else 1.0,
        mean_xi=float(np.nanmean(xi)) if np.any(~np.isnan(xi)) else float("nan"),
        worst_cell_xi=float(cell_mean[valid].min()) if valid.any() else float("nan"),
        served_bits=served, h=h, handovers=handovers,
        budget_violations=int(over.sum()), cells_over_budget=int((over > 0).sum()),
        emergencies=int(emergency.sum()),
        visibility_violations=int((~served_ok).sum()), p1_status=statuses,
        time_s=time.perf_counter() - t0,
    )
