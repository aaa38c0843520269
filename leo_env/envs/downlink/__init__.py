"""The ``downlink`` family (APEX): cell -> satellite association under hard handover budgets.

Modules: :mod:`.env` (:class:`~leo_env.envs.downlink.env.DownlinkEnv`, whose docstring is the
spec), :mod:`.vector` (the native batched env), :mod:`.core` (the shared step logic),
:mod:`.tables` (per-episode arrays), :mod:`.allocators` (P1 inside the step),
:mod:`.policies` (B0/B1/B2 behind the :class:`leo_env.policies.Policy` interface) and
:mod:`.render`.  ``ENV_SPECS`` lists the Gymnasium ids (string entry points, nothing imported).

| id | scenario |
|---|---|
| ``leo_env/Downlink-v0`` | any: ``preset=``, ``config=``, ``overrides=`` (default ``medium``) |
| ``leo_env/Downlink-toy-v0`` | ``toy`` (S=2, C=5, K=10) |
| ``leo_env/Downlink-small-v0`` | ``small`` (S=3, C=8, K=12, overloaded; the README's main job) |
| ``leo_env/Downlink-medium-v0`` | ``medium`` (S=4, C=12, K=30) |
| ``leo_env/Downlink-stress-v0`` | ``stress`` (S=8, C=30, K=50) |
| ``leo_env/Downlink-europe-starlink-v0`` | ``europe-starlink`` (Starlink shell 1 over Europe, C=304, K=60) |
| ``leo_env/Downlink-europe-multishell-v0`` | ``europe-multishell`` (three shells, C=145, K=40) |

Every id has a scalar entry point and a ``vector_entry_point``, so ``gym.make_vec(id,
num_envs=64)`` builds the batched environment.  Episodes have a fixed length ``K`` and end by
termination, so no ``max_episode_steps`` is set.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ENV_SPECS", "PRESET_IDS", "DownlinkEnv", "DownlinkVectorEnv"]

_ENTRY = "leo_env.envs.downlink.env:DownlinkEnv"
_VECTOR = "leo_env.envs.downlink.vector:DownlinkVectorEnv"

PRESET_IDS = {
    "leo_env/Downlink-toy-v0": "toy",
    "leo_env/Downlink-small-v0": "small",
    "leo_env/Downlink-medium-v0": "medium",
    "leo_env/Downlink-stress-v0": "stress",
    "leo_env/Downlink-europe-starlink-v0": "europe-starlink",
    "leo_env/Downlink-europe-multishell-v0": "europe-multishell",
}
"""Preset-bound ids and their scenario preset."""

ENV_SPECS: tuple[dict[str, Any], ...] = (
    {"id": "leo_env/Downlink-v0", "entry_point": _ENTRY, "vector_entry_point": _VECTOR},
    *(
        {"id": env_id, "entry_point": _ENTRY, "vector_entry_point": _VECTOR,
         "kwargs": {"preset": preset}}
        for env_id, preset in PRESET_IDS.items()
    ),
)
"""Keyword arguments of ``gymnasium.register`` for every id of the family."""


def __getattr__(name: str) -> Any:
    # The env classes load numba kernels and the P1 solver: import them only when asked for.
    if name == "DownlinkEnv":
        from leo_env.envs.downlink.env import DownlinkEnv

        return DownlinkEnv
    if name == "DownlinkVectorEnv":
        from leo_env.envs.downlink.vector import DownlinkVectorEnv

        return DownlinkVectorEnv
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
