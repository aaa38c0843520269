"""APEX suite: Gymnasium environments and substrate for resource allocation in LEO networks.

``import leo_env`` is light: it loads neither gymnasium nor torch.  The scenario API is
reachable from here; the environments register with ``import leo_env.envs``:

>>> import leo_env
>>> sc = leo_env.make_scenario("toy", seed=0)
>>> sc.v.shape  # (S, C, K)
(2, 5, 10)
>>> import gymnasium as gym
>>> import leo_env.envs  # registers every family's ids
>>> gym.make("leo_env/Downlink-toy-v0").unwrapped.scenario.C
5
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "InfeasibleScenarioError",
    "Scenario",
    "ScenarioConfig",
    "load_config",
    "make_scenario",
    "preset_names",
    "parallel_env",
]

_SCENARIO_NAMES = frozenset(__all__) - {"parallel_env"}


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): ``import leo_env.core`` must not pay for the scenario builders.
    if name in _SCENARIO_NAMES:
        from leo_env import scenario

        return getattr(scenario, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parallel_env(**kwargs: Any) -> Any:
    """PettingZoo ``ParallelEnv`` view, one agent per cell (:mod:`leo_env.wrappers.parallel`)."""
    from leo_env.wrappers.parallel import parallel_env as _parallel_env

    return _parallel_env(**kwargs)
