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
