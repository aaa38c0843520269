"""Assignment family (GSL): ``leo_env/PrimaryAssignment-v0`` (see :mod:`.env`).

``ENV_SPECS`` holds the keyword arguments of ``gymnasium.register`` (the suite's registration
wires them in).
"""

from __future__ import annotations

__all__ = ["ENV_SPECS"]

ENV_SPECS: tuple[dict[str, object], ...] = (
    {
        "id": "leo_env/PrimaryAssignment-v0",
        "entry_point": "leo_env.envs.assignment.env:PrimaryAssignmentEnv",
        "vector_entry_point": "leo_env.envs.assignment.vector:PrimaryAssignmentVectorEnv",
    },
)
