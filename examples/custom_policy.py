r"""Evaluate your own policy next to the built-in baselines (the ``pkg.module:factory`` route).

A policy is any :class:`leo_env.policies.Policy`: ``reset(env)`` at the start of an episode and
``act(obs, env)`` once per step, reading only the observation and the environment's public
attributes.  Point ``evaluate.py`` at a factory that builds one::

    python evaluate.py --config configs/experiments/demo.yaml \\
        --policies b0,b1,examples.custom_policy:make_policy --seeds 5 --out results/custom

or play it from Python with :func:`leo_env.policies.play` (run this file).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from leo_env.policies import Policy


class StickyStrongest(Policy):
    """Stay on the current satellite while it is allowed; otherwise take the strongest allowed one."""

    name = "sticky-strongest"

    def act(self, obs: dict[str, np.ndarray], env: Any) -> np.ndarray:
        """Candidate index per cell."""
        mask = env.unwrapped.action_mask_matrix()  # (C, n) allowed candidates
        gain = np.where(mask, obs["candidates"][..., 0], -np.inf)
        current = (obs["candidates"][..., 4] > 0.5) & mask
        return np.where(current.any(axis=1), current.argmax(axis=1), gain.argmax(axis=1)).astype(np.int64)


def make_policy() -> Policy:
    """Factory for ``evaluate.py --policies examples.custom_policy:make_policy``."""
    return StickyStrongest()


if __name__ == "__main__":
    import gymnasium as gym

    import leo_env.envs  # noqa: F401  (registers the ids)
    from leo_env.policies import play

    env = gym.make("leo_env/Downlink-toy-v0", allocator="equal")
    ep = play(make_policy(), env, seed=0)
    print(f"{make_policy().name}: return {ep.ret:.3f} over {len(ep.rewards)} slots, "
          f"violations {ep.infos[-1]['budget_violations']}")
