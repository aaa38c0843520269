"""Gymnasium registration of every family's environment ids (``import leo_env.envs``).

Each family package ``leo_env.envs.<family>`` exports ``ENV_SPECS``: the keyword arguments of
``gymnasium.register`` with *string* entry points, so registering imports no environment
module.  :data:`FAMILY_PACKAGES` lists the family packages; a new family adds its package here.
"""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium as gym

__all__ = ["FAMILY_PACKAGES", "ENV_IDS", "env_specs", "register_envs"]

FAMILY_PACKAGES: tuple[str, ...] = (
    "leo_env.envs.downlink",
    "leo_env.envs.assignment",
    "leo_env.envs.lisl",
    "leo_env.envs.multiorbit",
    "leo_env.envs.linkgroup",
)
"""Packages whose ``ENV_SPECS`` are registered (one per family)."""


def env_specs() -> list[dict[str, Any]]:
    """The ``gymnasium.register`` keyword arguments of every family, in registration order."""
    specs: list[dict[str, Any]] = []
    for pkg in FAMILY_PACKAGES:
        specs.extend(importlib.import_module(pkg).ENV_SPECS)
    return specs


def register_envs() -> None:
    """Register every id of :func:`env_specs` with Gymnasium (idempotent)."""
    registry = gym.envs.registration.registry
    for spec in env_specs():
        if spec["id"] not in registry:
            gym.register(**spec)


ENV_IDS: tuple[str, ...] = tuple(s["id"] for s in env_specs())
"""Every registered id."""
