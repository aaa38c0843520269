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
from oracles.multiorbit.power import allocate_exact
from oracles.multiorbit.solution import Solution

__all__ = ["jubpa"]


def _pa_objective(inst: CochannelInstance, st: GameState) -> tuple[float, np.ndarray, np.ndarray]:
    res = allocate_exact(inst, st.assoc, st.subc)
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
        Cap on the outer rounds.
    tol : float
        Relative objective increase below which a round counts as no improvement.
    quota, max_changes, kappa, pi :
        UA game parameters (``Q = ceil(U / 5)`` by default, ``L_ch``, ``kappa``, ``pi``).
    method : str
        Name stored in the solution.

    Returns
    -------
    Solution
    """
    if ua not in ("matching", "fixed") or ba not in ("matching", "fixed"):
        raise ValueError(f"ua and ba must be 'matching' or 'fixed', got ua={ua!r}, ba={ba!r}")
    if max_rounds < 1:
        raise ValueError(f"max_rounds must be >= 1, got {max_rounds}")
    t0 = time.perf_counter()
    st = GameState(inst, selected)
    if ua == "fixed":
        st.init_fixed()
        if ba == "matching":
            pass
    else:
        st.init_greedy()
    st.refresh_all()
    val, power, sub_power = _pa_objective(inst, st)
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
        val, power, sub_power = _pa_objective(inst, st)
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
