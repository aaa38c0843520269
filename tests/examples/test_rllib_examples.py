"""The RLlib examples on a tiny budget (marker rllib: python3 tasks.py test-rllib)."""

from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.rllib


@pytest.fixture(scope="module")
def rllib(ray_cluster):
    mod = pytest.importorskip("ray.rllib")
    import torch

    torch.set_num_threads(1)  # tiny networks; more threads only contend on the shared cores
    return mod


def test_rllib_single_agent_example(rllib):
    from examples.rllib_single_agent import main

    out = main(total_steps=128, num_envs=2, batch=64)
    assert out["steps"] >= 128 and out["iterations"] == 2 and math.isfinite(out["return_mean"])


def test_rllib_multi_agent_example(rllib):
    from examples.rllib_multi_agent import main

    out = main(total_steps=100, batch=50)
    assert out["steps"] >= 100 and math.isfinite(out["return_mean"])
