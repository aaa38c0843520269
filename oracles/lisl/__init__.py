"""Oracles of the lisl family (DuJo): problem, objective, solution, DuJo, baselines, bounds."""

from oracles.lisl.baselines import BASELINES, mrate, plus_grid, rand_matching, sate
from oracles.lisl.bounds import DualBound, dual_bound, lp_relaxation_bound
from oracles.lisl.dujo import DujoParams, convert_prices, dujo, subgradient
from oracles.lisl.milp import solve_milp
from oracles.lisl.objective import served_share, throughput_gbps
from oracles.lisl.problem import LislProblem
from oracles.lisl.solution import InfeasibleSolution, LislSolution, make_solution

__all__ = [
    "BASELINES",
    "DualBound",
    "DujoParams",
    "InfeasibleSolution",
    "LislProblem",
    "LislSolution",
    "convert_prices",
    "dual_bound",
    "dujo",
    "lp_relaxation_bound",
    "make_solution",
    "mrate",
    "plus_grid",
    "rand_matching",
    "sate",
    "served_share",
    "solve_milp",
    "subgradient",
    "throughput_gbps",
]
