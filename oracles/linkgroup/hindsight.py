"""Hindsight OPT: the exact optimum on the realised channel path of a window.

The learning agents decide slot by slot and only see the current FSMC state; the instance an
environment builds at reset already holds the *realised* level path of all ``T`` slots, so OPT
(:func:`oracles.linkgroup.opt.solve_opt`) on it is the clairvoyant reference ("OPT on the same
realisation" of Fig. 8).  :func:`solve_hindsight` is that call, named for the role, and
:func:`hindsight_gap` the gap of a method's ``F`` to it.
"""

from __future__ import annotations

from typing import Any

from leo_env.core.linkgroups import LinkGroupInstance
from oracles.linkgroup.objective import DEFAULT_SPEC, ObjectiveSpec
from oracles.linkgroup.opt import solve_opt
from oracles.linkgroup.solution import LinkGroupSolution

__all__ = ["solve_hindsight", "hindsight_gap"]


def solve_hindsight(
    inst: LinkGroupInstance, spec: ObjectiveSpec = DEFAULT_SPEC, **opt_kwargs: Any
) -> LinkGroupSolution:
    """OPT on the realised path of ``inst`` (``method="hindsight"``)."""
    sol = solve_opt(inst, spec, **opt_kwargs)
    return LinkGroupSolution(sol.links, sol.objective, sol.delivered_bits, "hindsight",
                             sol.solve_time_s, sol.bound, sol.info)


def hindsight_gap(f_method: float, f_opt: float, eps: float = 1e-9) -> float:
    """Relative gap ``(F - F_OPT) / max(F_OPT, eps)`` (Fig. 8's gap to OPT)."""
    return (float(f_method) - float(f_opt)) / max(float(f_opt), eps)
