"""Gymnasium environments of every family (scalar and native vector), registered on import.

``import leo_env.envs`` registers every id (string entry points: no environment module is
loaded until ``gymnasium.make``).  The families live side by side in sub-packages:
:mod:`leo_env.envs.downlink` (APEX) and the packages listed in
:data:`leo_env.envs.registration.FAMILY_PACKAGES`.  ``import leo_env`` alone stays free of
gymnasium; ``gymnasium.make("leo_env.envs:leo_env/Downlink-toy-v0")`` imports this package by
itself.
"""

from __future__ import annotations

from typing import Any

from leo_env.envs.registration import ENV_IDS, register_envs

__all__ = ["ENV_IDS", "register_envs", "DownlinkEnv", "DownlinkVectorEnv"]

register_envs()


def __getattr__(name: str) -> Any:
    if name in ("DownlinkEnv", "DownlinkVectorEnv"):
        from leo_env.envs import downlink

        return getattr(downlink, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
