"""Scenario construction: YAML presets and configs -> :class:`Scenario` arrays."""

from leo_env.scenario.build import InfeasibleScenarioError, make_scenario
from leo_env.scenario.config import ConfigError, ScenarioConfig, load_config, preset_names
from leo_env.scenario.scenario import Scenario

__all__ = [
    "ConfigError",
    "InfeasibleScenarioError",
    "Scenario",
    "ScenarioConfig",
    "load_config",
    "make_scenario",
    "preset_names",
]
