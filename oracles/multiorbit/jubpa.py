"""JUBPA (Alg. 2): joint UA, subcarrier and power allocation on a fixed satellite subset.

Block coordinate ascent:

1. Equal contiguous split of the F subcarriers among the selected satellites.
2. Feasible start: the greedy of paper (25)-(31) (``ua="matching"``) or the static assignment
   of the Fixed-UA ablations (``ua="fixed"``); then power allocation.
3. Rounds: UA matching game, BA matching game (each skipped when fixed), power allocation with
   :func:`oracles.multiorbit.power.allocate_exact`; the PA's subcarrier powers become the
   games' budgets for the next round.  Stop when a round does not raise the objective (relative
   ``tol``); the best configuration seen is returned, so the objective never decreases.

``info`` of the returned :class:`Solution`: ``rounds`` (rounds run, the last one being the one
that found no improvement, unless ``max_rounds`` stopped it), ``improving_rounds``,
``round_values`` (objective after the start and after each round), ``ua_history`` and
``ba_history`` (game values per pass, per round).
"""

from __future__ import annotations

import time

import numpy as np

from leo_env.core.cochannel import CochannelInstance
from oracles.multiorbit.matching import GameState, ba_game, ua_game
from oracles.multiorbit.objective import evaluate
from oracles.multiorbit.power import allocate_exact, allocate_gp
from oracles.multiorbit.solution import Solution

__all__ = ["jubpa", "allocate_for_association"]


def _pa_objective(
    inst: CochannelInstance, st: GameState, pa: str = "exact"
) -> tuple[float, np.ndarray, np.ndarray]:
    if pa == "exact":
        res = allocate_exact(inst, st.assoc, st.subc)
    else:
        res = allocate_gp(inst, st.assoc, st.subc)
    if not res.feasible:  # pragma: no cover - the games keep every move solvable
        raise RuntimeError("JUBPA reached a configuration without a feasible power allocation")
    ev = evaluate(inst, st.assoc, st.subc, res.power_w)
    return ev.objective_mbps, res.power_w, res.sub_power_w


def jubpa(
    inst: CochannelInstance,
    selected: np.ndarray | list[int] | tuple[int, ...],
    *,
    ua: str = "matching",
    ba: str = "matching",
    max_rounds: int = 10,
    tol: float = 1e-6,
    quota: int | None = None,
    max_changes: int = 3,
    kappa: float = 1.0,
    pi: float = 0.1,
    pa: str = "exact",
    method: str = "jubpa",
) -> Solution:
    """JUBPA on the satellite subset ``selected`` (candidate indices, ``1..min(N_max, F)`` of them).

    Parameters
    ----------
    inst : CochannelInstance
        The instance.
    selected : sequence of int
        Candidates in service.
    ua, ba : {"matching", "fixed"}
        Matching games (paper) or the static assignments of the ablations.
    max_rounds : int
        Cap on the outer rounds (0: the feasible start with its power allocation only -- the
        fast inner allocator of the selection environment).
    tol : float
        Relative objective increase below which a round counts as no improvement.
    quota, max_changes, kappa, pi :
        UA game parameters (``Q = ceil(U / 5)`` by default, ``L_ch``, ``kappa``, ``pi``).
    pa : {"exact", "gp"}
        Power allocation: exact-rate (:func:`allocate_exact`, default) or the paper's
        high-SINR geometric program (:func:`allocate_gp`).
    method : str
        Name stored in the solution.

    Returns
    -------
    Solution
    """
    if ua not in ("matching", "fixed") or ba not in ("matching", "fixed"):
        raise ValueError(f"ua and ba must be 'matching' or 'fixed', got ua={ua!r}, ba={ba!r}")
    if pa not in ("exact", "gp"):
        raise ValueError(f"pa must be 'exact' or 'gp', got {pa!r}")
    if max_rounds < 0:
        raise ValueError(f"max_rounds must be >= 0, got {max_rounds}")
    t0 = time.perf_counter()
    st = GameState(inst, selected)
    if ua == "fixed":
        st.init_fixed()
    else:
        st.init_greedy()
    st.refresh_all()
    val, power, sub_power = _pa_objective(inst, st, pa)
    best = (val, st.assoc.copy(), st.subc.copy(), power)
    values = [val]
    ua_hist: list[list[float]] = []
    ba_hist: list[list[float]] = []
    rounds = improving = 0
    if ua == "fixed" and ba == "fixed":
        max_rounds = 0
    for _ in range(max_rounds):
        rounds += 1
        st.set_budgets(sub_power)
        ua_hist.append(
            ua_game(st, quota=quota, max_changes=max_changes, kappa=kappa, pi=pi)
            if ua == "matching"
            else []
        )
        ba_hist.append(ba_game(st) if ba == "matching" else [])
        val, power, sub_power = _pa_objective(inst, st, pa)
        values.append(val)
        if val > best[0] + tol * max(1.0, abs(best[0])):
            best = (val, st.assoc.copy(), st.subc.copy(), power)
            improving += 1
        else:
            break
    _, assoc, subc, power = best
    return Solution.build(
        inst,
        st.selected,
        st.owner,
        assoc,
        subc,
        power,
        method=method,
        rounds=rounds,
        improving_rounds=improving,
        round_values=values,
        ua_history=ua_hist,
        ba_history=ba_hist,
        time_s=time.perf_counter() - t0,
    )


def allocate_for_association(
    inst: CochannelInstance,
    assoc: np.ndarray,
    max_rounds: int = 10,
    method: str = "association",
) -> Solution:
    """Subcarriers and powers for a GIVEN association (the association environment's step).

    ``assoc[u]`` is a candidate index or -1.  Choices outside the UE's cone count as -1.  If
    more than ``k_max = min(N_max, F)`` satellites are chosen, the ``k_max`` serving the most
    UEs are kept (ties: lower index) and the UEs of the others are unserved.  Then JUBPA with
    the association held: equal subcarrier split, the greedy start of paper (25)-(31) on each
    UE's own satellite (UEs it cannot place stay unserved), power allocation, and up to
    ``max_rounds`` rounds of BA matching game + power allocation
    (:func:`oracles.multiorbit.power.allocate_exact`) while the objective rises.

    ``info``: ``invalid`` (choices outside the cone), ``dropped`` (UEs of satellites over the
    ``k_max`` cap), ``unplaced`` (UEs the subcarrier step could not place).
    """
    a = np.asarray(assoc, dtype=np.intp).copy()
    if a.shape != (inst.n_ues,):
        raise ValueError(f"assoc must have shape ({inst.n_ues},), got {a.shape}")
    if np.any(a < -1) or np.any(a >= inst.n_sats):
        raise ValueError(f"assoc entries must be in [-1, {inst.n_sats}), got {a.tolist()}")
    served = a >= 0
    bad = served & ~inst.visible[np.maximum(a, 0), np.arange(inst.n_ues)]
    a[bad] = -1
    k_max = min(inst.n_max, inst.n_sub)
    counts = np.bincount(a[a >= 0], minlength=inst.n_sats)
    chosen = np.flatnonzero(counts)
    dropped = 0
    if chosen.size > k_max:
        keep = np.lexsort((chosen, -counts[chosen]))[:k_max]
        keep_set = chosen[keep]
        drop = (a >= 0) & ~np.isin(a, keep_set)
        dropped = int(drop.sum())
        a[drop] = -1
        chosen = np.sort(keep_set)
    none = np.full(inst.n_ues, -1)
    if chosen.size == 0:
        return Solution.build(
            inst,
            (),
            np.full(inst.n_sub, -1),
            none,
            none,
            np.zeros(inst.n_ues),
            method=method,
            invalid=int(bad.sum()),
            dropped=dropped,
            unplaced=0,
        )
    st = GameState(inst, chosen)
    st.init_greedy(sat_of=a)
    st.refresh_all()
    unplaced = int(np.count_nonzero((a >= 0) & (st.assoc < 0)))
    val, power, sub_power = _pa_objective(inst, st)
    best = (val, st.assoc.copy(), st.subc.copy(), power)
    for _ in range(max_rounds):
        st.set_budgets(sub_power)
        ba_game(st)
        val, power, sub_power = _pa_objective(inst, st)
        if val > best[0] + 1e-6 * max(1.0, abs(best[0])):
            best = (val, st.assoc.copy(), st.subc.copy(), power)
        else:
            break
    _, st_assoc, st_subc, power = best
    return Solution.build(
        inst,
        st.selected,
        st.owner,
        st_assoc,
        st_subc,
        power,
        method=method,
        invalid=int(bad.sum()),
        dropped=dropped,
        unplaced=unplaced,
    )
