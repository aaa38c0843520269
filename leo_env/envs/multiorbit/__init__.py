"""The ``multiorbit`` family (DV-MOSS): satellite selection, UE association, subcarriers, power.

Modules: :mod:`.env` (the two scalar envs, whose docstrings are their specs), :mod:`.vector`
(native batched envs), :mod:`.core` (shared step logic), :mod:`.params` (one parameter object
per env) and :mod:`.policies` (DV-MOSS and the baselines as
:class:`leo_env.policies.Policy` objects).  ``ENV_SPECS`` lists the Gymnasium ids with string
entry points (nothing imported).

| id | decision per slot |
|---|---|
| ``leo_env/MultiOrbitSelect-v0`` | serving satellite subset (the env runs JUBPA) |
| ``leo_env/MultiOrbitAssoc-v0`` | serving satellite of every UE (the env allocates subcarriers and power) |
"""

from __future__ import annotations

from typing import Any

__all__ = ["ENV_SPECS"]

ENV_SPECS: tuple[dict[str, Any], ...] = (
    {
        "id": "leo_env/MultiOrbitSelect-v0",
        "entry_point": "leo_env.envs.multiorbit.env:MultiOrbitSelectEnv",
        "vector_entry_point": "leo_env.envs.multiorbit.vector:MultiOrbitSelectVectorEnv",
    },
    {
        "id": "leo_env/MultiOrbitAssoc-v0",
        "entry_point": "leo_env.envs.multiorbit.env:MultiOrbitAssocEnv",
        "vector_entry_point": "leo_env.envs.multiorbit.vector:MultiOrbitAssocVectorEnv",
    },
)
"""Keyword arguments of ``gymnasium.register`` for every id of the family."""
