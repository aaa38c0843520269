"""APEX suite: environments for fair downlink allocation in LEO direct-access networks.

>>> import leo_env
>>> sc = leo_env.make_scenario("toy", seed=0)
>>> sc.v.shape  # (S, C, K)
(2, 5, 10)
"""

from leo_env.scenario import (
    ConfigError,
    InfeasibleScenarioError,
    Scenario,
    ScenarioConfig,
    load_config,
    make_scenario,
    preset_names,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "InfeasibleScenarioError",
    "Scenario",
    "ScenarioConfig",
    "load_config",
    "make_scenario",
    "preset_names",
]

from leo_env.envs.registration import register_envs as _register  # noqa: E402

_register()


def parallel_env(**kwargs: object) -> object:
    """PettingZoo ``ParallelEnv`` view, one agent per cell (:mod:`leo_env.wrappers.parallel`)."""
    from leo_env.wrappers.parallel import parallel_env as _parallel_env

    return _parallel_env(**kwargs)


__all__ += ["parallel_env"]
