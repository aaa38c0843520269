"""The ``lisl`` family (DuJo): laser inter-satellite link matching and routing per snapshot.

Modules: :mod:`.env` (:class:`~leo_env.envs.lisl.env.LislRoutingEnv`, whose docstring is the
spec), :mod:`.vector` (the native batched env), :mod:`.core` (shared step logic),
:mod:`.params` (:class:`~leo_env.envs.lisl.params.LislEnvParams`) and :mod:`.policies`.
``ENV_SPECS`` lists the Gymnasium ids (string entry points, nothing imported).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ENV_SPECS"]

ENV_SPECS: tuple[dict[str, Any], ...] = (
    {
        "id": "leo_env/LislRouting-v0",
        "entry_point": "leo_env.envs.lisl.env:LislRoutingEnv",
        "vector_entry_point": "leo_env.envs.lisl.vector:LislRoutingVectorEnv",
    },
)
"""Keyword arguments of ``gymnasium.register`` for every id of the family."""
