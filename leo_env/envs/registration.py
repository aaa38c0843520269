"""Environment ids of the APEX suite, registered with Gymnasium on ``import leo_env``.

| id | scenario |
|---|---|
| ``leo_env/Downlink-v0`` | any: ``preset=``, ``config=``, ``overrides=`` (default ``medium``) |
| ``leo_env/Downlink-toy-v0`` | ``toy`` (S=2, C=5, K=10) |
| ``leo_env/Downlink-medium-v0`` | ``medium`` (S=4, C=12, K=30) |
| ``leo_env/Downlink-stress-v0`` | ``stress`` (S=8, C=30, K=50) |
| ``leo_env/Downlink-europe-starlink-v0`` | ``europe-starlink`` (Starlink shell 1 over Europe, C=304, K=60) |
| ``leo_env/Downlink-europe-multishell-v0`` | ``europe-multishell`` (three shells, C=145, K=40) |

Every id has a scalar entry point (:class:`~leo_env.envs.downlink.DownlinkEnv`) and a native
``vector_entry_point`` (:class:`~leo_env.envs.vector.DownlinkVectorEnv`), so
``gym.make_vec(id, num_envs=64)`` builds the batched environment.  Episodes have a fixed length
``K`` and end by termination, so no ``max_episode_steps`` is set.
"""

from __future__ import annotations

import gymnasium as gym

__all__ = ["register_envs", "ENV_IDS", "PRESET_IDS"]

_ENTRY = "leo_env.envs.downlink:DownlinkEnv"
_VECTOR = "leo_env.envs.vector:DownlinkVectorEnv"

PRESET_IDS = {
    "leo_env/Downlink-toy-v0": "toy",
    "leo_env/Downlink-medium-v0": "medium",
    "leo_env/Downlink-stress-v0": "stress",
    "leo_env/Downlink-europe-starlink-v0": "europe-starlink",
    "leo_env/Downlink-europe-multishell-v0": "europe-multishell",
}
ENV_IDS = ("leo_env/Downlink-v0", *PRESET_IDS)


def register_envs() -> None:
    """Register every id in :data:`ENV_IDS` (idempotent)."""
    registry = gym.envs.registration.registry
    if "leo_env/Downlink-v0" not in registry:
        gym.register(id="leo_env/Downlink-v0", entry_point=_ENTRY, vector_entry_point=_VECTOR)
    for env_id, preset in PRESET_IDS.items():
        if env_id not in registry:
            gym.register(
                id=env_id, entry_point=_ENTRY, vector_entry_point=_VECTOR, kwargs={"preset": preset}
            )
