"""Gymnasium environments of the APEX suite (scalar and native vector) and their registration.

See :class:`~leo_env.envs.downlink.DownlinkEnv` for the specification (spaces, reward,
episode end, arguments) and ``docs/environment.md`` for the design notes.
"""

from leo_env.envs.downlink import DownlinkEnv
from leo_env.envs.registration import ENV_IDS, register_envs
from leo_env.envs.vector import DownlinkVectorEnv

__all__ = ["DownlinkEnv", "DownlinkVectorEnv", "ENV_IDS", "register_envs"]
