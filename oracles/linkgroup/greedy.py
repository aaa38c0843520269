"""GRD: slot-by-slot greedy link-group construction (the paper's greedy baseline).

In every slot, starting from the empty group, repeatedly add the (transmitter, receiver) link
that most decreases ``F`` given the bits already delivered, recomputing the SINR of every link of
the group under the grown activity pattern (so an added C-band transmitter may invalidate the
candidate); stop when no valid addition decreases ``F``.  It only uses the current slot's channel
(causal), unlike OPT and ADMM-HEU which see the whole window.
"""

from __future__ import annotations

import time

import numpy as np

from leo_env.core.linkgroups import LinkGroupInstance, link_view
from oracles.linkgroup.objective import DEFAULT_SPEC, ObjectiveSpec, objective
from oracles.linkgroup.solution import LinkGroupSolution, make_solution

__all__ = ["greedy_group", "solve_greedy"]


def greedy_group(
    inst: LinkGroupInstance,
    t: int,
    delivered_bits: np.ndarray,
    spec: ObjectiveSpec = DEFAULT_SPEC,
    view=None,
    tol: float = 1e-12,
) -> np.ndarray:
    """The greedy group of slot ``t`` given the bits delivered so far; shape (J,)."""
    v = link_view(inst) if view is None else view
    J = inst.J  # noqa: N806
    d0 = np.asarray(delivered_bits, dtype=float)
    a = -np.ones(J, dtype=np.int64)
    f_cur = objective(inst, d0, spec)
    while True:
        best_f, best = f_cur - tol * max(1.0, abs(f_cur)), None
        used = a[a >= 0]
        for j in np.flatnonzero(a < 0):
            p = int(((a >= 0) | (np.arange(J) == j)).astype(np.int64) @ (1 << np.arange(J)))
            on = np.flatnonzero(a >= 0)
            if not v.ok[on, a[on], p, t].all():
                continue
            base = d0.copy()
            np.add.at(base, a[on], v.bits[on, a[on], p, t])
            ks = np.flatnonzero(v.ok[j, :, p, t])
            ks = ks[~np.isin(ks, used)]
            if ks.size == 0:
                continue
            dd = np.repeat(base[None, :], ks.size, axis=0)
            dd[np.arange(ks.size), ks] += v.bits[j, ks, p, t]
            f = np.atleast_1d(objective(inst, dd, spec))
            i = int(np.argmin(f))
            if f[i] < best_f:
                best_f = float(f[i])
                best = a.copy()
                best[j] = ks[i]
        if best is None:
            return a
        a, f_cur = best, best_f


def solve_greedy(inst: LinkGroupInstance, spec: ObjectiveSpec = DEFAULT_SPEC) -> LinkGroupSolution:
    """GRD over the whole window (module docstring)."""
    t0 = time.perf_counter()
    v = link_view(inst)
    J = inst.J  # noqa: N806
    links = -np.ones((inst.T, J), dtype=np.int64)
    d = np.zeros(inst.K)
    for t in range(inst.T):
        a = greedy_group(inst, t, d, spec, v)
        links[t] = a
        on = np.flatnonzero(a >= 0)
        p = int((a >= 0).astype(np.int64) @ (1 << np.arange(J)))
        np.add.at(d, a[on], v.bits[on, a[on], p, t])
    return make_solution(inst, links, "grd", spec, time.perf_counter() - t0)
