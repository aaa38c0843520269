"""Session-wide fixtures: one local Ray cluster for every test that needs it."""

from __future__ import annotations

import importlib.util

import pytest


@pytest.fixture(scope="session")
def ray_cluster():
    """A local two-CPU Ray cluster (skipped without the ``ray`` extra)."""
    if importlib.util.find_spec("ray") is None:
        pytest.skip("ray is not installed (pip install 'apex-suite[ray]')")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
