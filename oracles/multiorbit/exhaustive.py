"""Reference solutions: exhaustive subset search and the exact optimum of tiny instances.

* :func:`exhaustive_subsets` -- JUBPA on every subset of ``S(t)`` with ``1..min(N_max, F)``
  satellites; the best is a reference for the *subset choice* of DV-MOSS (its gap isolates the
  Markov search; JUBPA's own gap is not covered).
* :func:`exact_tiny` -- the optimum of OP-0 for tiny instances: every assignment of each UE to a
  (visible satellite, subcarrier) pair or to nobody such that every subcarrier is used by at most
  one satellite (any disjoint subcarrier sets, not only the equal split) and at most ``N_max``
  satellites serve, each scored with the exact-rate power allocation
  (:func:`oracles.multiorbit.power.allocate_exact` with every winner tuple tried: for fixed
  winners the PA is concave, so this is exact to the water-filling bisection tolerance).
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np

from leo_env.core.cochannel import CochannelInstance
from oracles.multiorbit.jubpa import jubpa
from oracles.multiorbit.objective import evaluate
from oracles.multiorbit.power import allocate_exact
from oracles.multiorbit.solution import Solution, equal_split

__all__ = ["n_subsets", "exhaustive_subsets", "exact_tiny"]


def n_subsets(inst: CochannelInstance) -> int:
    """Number of subsets :func:`exhaustive_subsets` solves."""
    k = min(inst.n_max, inst.n_sub, inst.n_sats)
    return sum(math.comb(inst.n_sats, j) for j in range(1, k + 1))


def exhaustive_subsets(inst: CochannelInstance, max_subsets: int = 5000) -> Solution:
    """Best JUBPA solution over all admissible subsets (refuses more than ``max_subsets``)."""
    total = n_subsets(inst)
    if total > max_subsets:
        raise ValueError(f"{total} subsets > max_subsets={max_subsets} (|S(t)|={inst.n_sats})")
    t0 = time.perf_counter()
    k = min(inst.n_max, inst.n_sub, inst.n_sats)
    best: Solution | None = None
    for j in range(1, k + 1):
        for sub in itertools.combinations(range(inst.n_sats), j):
            sol = jubpa(inst, sub)
            if best is None or sol.objective_mbps > best.objective_mbps:
                best = sol
    assert best is not None
    return Solution.build(
        inst,
        best.selected,
        best.owner,
        best.assoc,
        best.subc,
        best.power_w,
        method="exhaustive-subsets",
        subsets=total,
        rounds=best.info.get("rounds"),
        time_s=time.perf_counter() - t0,
    )


def exact_tiny(inst: CochannelInstance, max_leaves: int = 200_000, split: str = "any") -> Solution:
    """Optimum of OP-0 by enumeration (see the module docstring).

    ``split="equal"`` restricts the subcarrier sets to JUBPA's equal contiguous split of the
    serving subset (every subset tried): the optimum over the configurations JUBPA can reach,
    which separates JUBPA's own gap from the cost of the equal split.

    Raises ``ValueError`` if the number of assignments ``(S F + 1)^U`` exceeds ``max_leaves``.
    """
    if split not in ("any", "equal"):
        raise ValueError(f"split must be 'any' or 'equal', got {split!r}")
    s_n, u_n, f_n = inst.n_sats, inst.n_ues, inst.n_sub
    if (s_n * f_n + 1) ** u_n > max_leaves:
        raise ValueError(f"(S F + 1)^U = {(s_n * f_n + 1) ** u_n} > max_leaves={max_leaves}")
    t0 = time.perf_counter()
    options = [
        [(-1, -1)] + [(s, f) for s in range(s_n) if inst.visible[s, u] for f in range(f_n)]
        for u in range(u_n)
    ]
    gam = inst.gamma_min
    a = gam / (1.0 + gam)
    best_val, best = -math.inf, None
    assoc = np.full(u_n, -1, dtype=np.intp)
    subc = np.full(u_n, -1, dtype=np.intp)
    owner = np.full(f_n, -1, dtype=np.intp)
    count = np.zeros(f_n, dtype=np.intp)
    a_sum = np.zeros(f_n)
    leaves = 0
    per_sat: dict[tuple, tuple[float, np.ndarray]] = {}

    def rec(u: int) -> None:
        nonlocal best_val, best, leaves
        if u == u_n:
            sats = np.unique(assoc[assoc >= 0])
            if sats.size > inst.n_max:
                return
            leaves += 1
            # The objective separates per satellite: memoise each satellite's exact PA.
            total = -inst.penalty_mbps * int(np.count_nonzero(assoc < 0))
            powers = np.zeros(u_n)
            for s in sats:
                mine = np.flatnonzero(assoc == s)
                key = (int(s), tuple(mine.tolist()), tuple(subc[mine].tolist()))
                if key not in per_sat:
                    a_s = np.where(assoc == s, assoc, -1)
                    res = allocate_exact(inst, a_s, subc, enumerate_winners=True)
                    if not res.feasible:
                        per_sat[key] = (-math.inf, res.power_w[mine])
                    else:
                        ev = evaluate(inst, a_s, subc, res.power_w)
                        per_sat[key] = (
                            ev.sum_rate_bps / 1e6
                            - inst.penalty_mbps * (ev.n_unmet - int(np.count_nonzero(a_s < 0))),
                            res.power_w[mine],
                        )
                val, pw = per_sat[key]
                total += val
                powers[mine] = pw
            if total > best_val:
                best_val = total
                best = (assoc.copy(), subc.copy(), owner.copy(), powers)
            return
        for s, f in options[u]:
            if s >= 0:
                if owner[f] >= 0 and owner[f] != s:
                    continue
                if a_sum[f] + a[u] >= 1.0 - 1e-12:
                    continue
                owner[f] = s
                count[f] += 1
                a_sum[f] += a[u]
                assoc[u], subc[u] = s, f
                rec(u + 1)
                assoc[u] = subc[u] = -1
                a_sum[f] -= a[u]
                count[f] -= 1
                if count[f] == 0:  # the subcarrier is free again
                    owner[f] = -1
            else:
                rec(u + 1)

    split_best: tuple[tuple[int, ...], np.ndarray] = ((), owner)
    if split == "any":
        rec(0)
    else:
        all_options = options
        k = min(inst.n_max, f_n, s_n)
        for j in range(1, k + 1):
            for sub in itertools.combinations(range(s_n), j):
                fixed = equal_split(sub, f_n)
                options = [
                    [o for o in opts if o[0] < 0 or fixed[o[1]] == o[0]] for opts in all_options
                ]
                before = best
                rec(0)
                if best is not before:
                    split_best = (tuple(sub), fixed)
    if best is None:  # pragma: no cover - serving nobody is always feasible
        raise RuntimeError("no feasible assignment")
    b_assoc, b_subc, b_owner, b_power = best
    sel = tuple(int(s) for s in np.unique(b_assoc[b_assoc >= 0]))
    if split == "equal":
        sel, b_owner = split_best
    return Solution.build(
        inst,
        sel,
        b_owner,
        b_assoc,
        b_subc,
        b_power,
        method="exact-tiny" if split == "any" else "exact-tiny-equal-split",
        leaves=leaves,
        time_s=time.perf_counter() - t0,
    )
