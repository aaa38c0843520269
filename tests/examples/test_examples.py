"""Every example runs on a tiny budget (what docs/integrations.md promises)."""

from __future__ import annotations

import math


def test_custom_policy_example():
    import gymnasium as gym

    import leo_env.envs  # noqa: F401  (registers the ids)
    from examples.custom_policy import make_policy
    from leo_env.policies import play

    ep = play(make_policy(), gym.make("leo_env/Downlink-toy-v0", allocator="equal"), seed=0)
    assert len(ep.rewards) == 10 and ep.infos[-1]["budget_violations"] == 0


def test_sb3_ppo_and_maskable_ppo_example():
    from examples.sb3_maskable_ppo import main

    out = main(steps=256)
    assert set(out) == {"PPO", "MaskablePPO"} and all(math.isfinite(v) for v in out.values())


def test_pettingzoo_example():
    from examples.pettingzoo_view import main

    assert math.isfinite(main(episodes=1))
