"""Oracles of the ``linkgroup`` family (EMCL link-group scheduling).

| name | function | what |
|---|---|---|
| objective | :func:`objective.objective` | the ONE definition of ``F`` (env reward uses it) |
| OPT | :func:`opt.solve_opt` | exact MILP on HiGHS (exact served cuts, tangent data cuts, error reported) |
| QP bound | :func:`opt.qp_bound` | convex-QP relaxation value (CVXPY/Clarabel) |
| ADMM-HEU | :func:`admm.solve_admm` | ADMM on the relaxation + rounding (Alg. 1) |
| GRD | :func:`greedy.solve_greedy` | slot-by-slot greedy group construction |
| hindsight | :func:`hindsight.solve_hindsight` | OPT on the realised channel path |
| rollout | :func:`rollout.rollout_group` | causal: GRD rolled out over sampled FSMC futures, best candidate group |
| SAA-MPC | :func:`saa.solve_saa_first_slot` | causal: one MILP over sampled futures with a shared first slot |
"""

from oracles.linkgroup.admm import solve_admm
from oracles.linkgroup.greedy import solve_greedy
from oracles.linkgroup.hindsight import solve_hindsight
from oracles.linkgroup.objective import DEFAULT_SPEC, ObjectiveSpec, objective
from oracles.linkgroup.opt import qp_bound, solve_opt
from oracles.linkgroup.rollout import rollout_group, sample_future_gains
from oracles.linkgroup.saa import solve_saa_first_slot
from oracles.linkgroup.solution import InfeasibleSolutionError, LinkGroupSolution, make_solution

__all__ = [
    "DEFAULT_SPEC",
    "InfeasibleSolutionError",
    "LinkGroupSolution",
    "ObjectiveSpec",
    "make_solution",
    "objective",
    "qp_bound",
    "rollout_group",
    "sample_future_gains",
    "solve_admm",
    "solve_greedy",
    "solve_hindsight",
    "solve_opt",
    "solve_saa_first_slot",
]
