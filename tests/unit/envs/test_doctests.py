"""The examples in the environment docstrings run as written."""

import doctest
import importlib

import pytest

MODULES = [
    "leo_env.envs.downlink.env",
    "leo_env.envs.downlink.vector",
    "leo_env.wrappers.flatten",
    "leo_env.wrappers.wolpertinger",
    "leo_env.envs.downlink.policies",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
