"""P2 oracle: slow-timescale association under hard per-cell handover budgets (hindsight).

``maximise sum_{c,k} log(eps + xi[c,k]) - lambda_h sum_{c,k} h[c,k]`` over one serving
satellite per cell and slot among the visible ones, with at most ``H[c]`` handovers per cell,
where ``xi`` is bounded by a capacity proxy (SPEC section 5):

- ``proxy="separable"`` (APEX's): ``xi <= min(1, rho / D)``, ``rho`` the bits of a cell holding
  a whole satellite; solved exactly by per-cell dynamic programming (``method="dp"``).
- ``proxy="coupled"``: cells on one satellite share its pool; solved by Lagrangian DP with a
  certified gap (``method="lagrangian"``).

``method="milp"`` (HiGHS) and ``method="rolling"`` (rolling windows) accept either proxy.
:func:`evaluate` scores any association exactly with P1 in every slot (the environment's
return).

>>> import numpy as np
>>> from oracles.p2 import Problem, solve
>>> from oracles.p2.synthetic import random_problem
>>> prob = random_problem(np.random.default_rng(0), S=3, C=4, K=6, H=2)
>>> res = solve(prob, method="dp")
>>> res.status, res.x.shape, bool(np.all(res.handovers <= 2))
('optimal', (3, 4, 6), True)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from oracles.p2.evaluate import EvalResult, evaluate
from oracles.p2.problem import PROXIES, Problem
from oracles.p2.result import P2Result

__all__ = ["Problem", "P2Result", "EvalResult", "solve", "evaluate", "METHODS", "PROXIES"]

METHODS = ("milp", "rolling", "dp", "lagrangian")


def solve(problem: Problem, method: str = "milp", **options: Any) -> P2Result:
    """Solve P2 with the chosen method.

    Parameters
    ----------
    problem : Problem
        Built with :meth:`Problem.from_arrays` or :meth:`Problem.from_scenario`.
    method : {"milp", "rolling", "dp", "lagrangian"}
        ``"milp"``: full-horizon HiGHS MILP (:func:`oracles.p2.milp.solve_milp`);
        ``"rolling"``: rolling windows (:func:`oracles.p2.rolling.solve_rolling`);
        ``"dp"``: exact per-cell DP, separable proxy (:func:`oracles.p2.dp.solve_dp`);
        ``"lagrangian"``: Lagrangian DP, coupled proxy
        (:func:`oracles.p2.lagrangian.solve_lagrangian`).
    **options
        Passed to the method.

    Returns
    -------
    P2Result
        ``status`` is ``"infeasible"`` (with a message naming the cell and the numbers) when a
        cell has a slot without a visible satellite or needs more handovers than its budget;
        budgets are never relaxed.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be an oracles.p2.Problem, got {type(problem).__name__}")
    if method == "milp":
        from oracles.p2.milp import solve_milp

        if isinstance(options.get("warm_start"), str) and options["warm_start"] == "lagrangian":
            # resolved here, not in oracles.p2.milp: the Lagrangian method uses the MILP's model
            # builder (its window bound), so milp must not import lagrangian (no import cycle)
            from oracles.p2.lagrangian import solve_lagrangian

            warm = solve_lagrangian(problem, terminal_cost=options.get("terminal_cost"),
                                    terminal_req=options.get("terminal_req"))
            if not warm.feasible:
                raise ValueError(f"warm_start 'lagrangian' failed: {warm.message}")
            res = solve_milp(problem, **{**options, "warm_start": warm.assoc})
            # the warm start's time counts, as when solve_milp computes it itself
            info = {**res.info, "warm_start_time_s": res.info.get("warm_start_time_s", 0.0) + warm.solve_time_s}
            return replace(res, solve_time_s=res.solve_time_s + warm.solve_time_s, info=info)
        return solve_milp(problem, **options)
    if method == "rolling":
        from oracles.p2.rolling import solve_rolling

        return solve_rolling(problem, **options)
    if method == "dp":
        from oracles.p2.dp import solve_dp

        return solve_dp(problem, **options)
    if method == "lagrangian":
        from oracles.p2.lagrangian import solve_lagrangian

        return solve_lagrangian(problem, **options)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")
