"""Non-joint baselines: a matching rule, then OSPF (or min-hop) routing, then the rate LP (35).

* ``+Grid`` -- greedy matching by pointing alignment ``d_{i_n i_m}.u_n + d_{i_m i_n}.u_m``;
* ``Rand`` -- greedy matching by i.i.d. uniform weights (seeded);
* ``MRate`` -- greedy matching by the pair's rate ``r_nm``;
* ``SaTE`` -- MRate's matching, min-hop routing, optimal rates (traffic engineering on a fixed
  topology).

OSPF routes every flow on one shortest path of the established links with link cost
``1 / sum_{E_ij} c_nm r_nm`` [s/Gbit]; rates then come from the LP (35).
"""

from __future__ import annotations

import time

import numpy as np

from oracles.lisl.problem import LislProblem
from oracles.lisl.routing import match, route_and_rate
from oracles.lisl.solution import LislSolution, make_solution

__all__ = ["ospf_cost", "plus_grid", "rand_matching", "mrate", "sate", "BASELINES"]


def ospf_cost(problem: LislProblem, matched: np.ndarray) -> np.ndarray:
    """OSPF arc costs ``1 / capacity`` on established links (0 elsewhere; those arcs are unused)."""
    cap = problem.arc_capacity_gbps(matched)
    return np.where(cap > 0, 1.0 / np.where(cap > 0, cap, 1.0), 0.0)


def _finish(
    problem: LislProblem, name: str, c: np.ndarray, cost: np.ndarray, t0: float
) -> LislSolution:
    paths, q = route_and_rate(problem, c, cost)
    return make_solution(
        problem, name, c, paths.ptr, paths.arcs, q, solve_time_s=time.perf_counter() - t0
    )


def plus_grid(problem: LislProblem) -> LislSolution:
    """+Grid: alignment matching, OSPF, LP rates."""
    t0 = time.perf_counter()
    c = match(problem, problem.graph.pair_align, tiebreak=problem.rate_gbps)
    return _finish(problem, "+grid", c, ospf_cost(problem, c), t0)


def rand_matching(problem: LislProblem, rng: np.random.Generator) -> LislSolution:
    """Rand: random-weight matching, OSPF, LP rates."""
    t0 = time.perf_counter()
    c = match(problem, rng.random(problem.graph.n_pairs))
    return _finish(problem, "rand", c, ospf_cost(problem, c), t0)


def mrate(problem: LislProblem) -> LislSolution:
    """MRate: max-rate greedy matching, OSPF, LP rates."""
    t0 = time.perf_counter()
    c = match(problem, problem.rate_gbps)
    return _finish(problem, "mrate", c, ospf_cost(problem, c), t0)


def sate(problem: LislProblem) -> LislSolution:
    """SaTE: max-rate greedy matching, min-hop routing, LP rates."""
    t0 = time.perf_counter()
    c = match(problem, problem.rate_gbps)
    return _finish(problem, "sate", c, np.ones(problem.n_arcs), t0)


#: Name -> callable ``(problem, rng) -> LislSolution``.
BASELINES = {
    "+grid": lambda problem, rng: plus_grid(problem),
    "rand": rand_matching,
    "mrate": lambda problem, rng: mrate(problem),
    "sate": lambda problem, rng: sate(problem),
}
