"""The ``linkgroup`` family (EMCL): link-group scheduling in an overloaded LEO-5G cell.

Modules: :mod:`.env` (:class:`~leo_env.envs.linkgroup.env.LinkGroupSchedEnv`, whose docstring
is the spec), :mod:`.vector` (batched env), :mod:`.params` (the one parameter object),
:mod:`.stream` (task-stream wrapper: tasks switch every ``update_interval`` slots) and
:mod:`.policies` (OPT / ADMM-HEU / GRD behind :class:`leo_env.policies.Policy`).

| id | scenario |
|---|---|
| ``leo_env/LinkGroupSched-v0`` | any preset (``preset=``, default ``k20``), ``mode="links"`` or ``"groups"`` |
"""

from __future__ import annotations

from typing import Any

__all__ = ["ENV_SPECS"]

ENV_SPECS: tuple[dict[str, Any], ...] = (
    {
        "id": "leo_env/LinkGroupSched-v0",
        "entry_point": "leo_env.envs.linkgroup.env:LinkGroupSchedEnv",
        "vector_entry_point": "leo_env.envs.linkgroup.vector:LinkGroupSchedVectorEnv",
    },
)
"""Keyword arguments of ``gymnasium.register`` (string entry points)."""
