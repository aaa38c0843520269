"""PettingZoo: the downlink env as a ParallelEnv, one agent per cell.

    python examples/pettingzoo_view.py

Every cell chooses its serving satellite among its candidates; the joint action is one step of
the same environment (same masks, budgets and exact P1).  Rewards are per cell by default and
sum to the environment's reward; ``state()`` is the global observation for centralised critics.
"""

from __future__ import annotations

import numpy as np
from pettingzoo.test import parallel_api_test

import leo_env


def main(episodes: int = 1, seed: int = 0) -> float:
    """Check the API, then play random masked actions; returns the summed team return."""
    env = leo_env.parallel_env(preset="toy", allocator="equal")
    parallel_api_test(leo_env.parallel_env(preset="toy", allocator="equal"), num_cycles=20)
    rng = np.random.default_rng(seed)
    total = 0.0
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        while env.agents:
            actions = {a: int(rng.choice(np.flatnonzero(obs[a]["action_mask"]))) for a in env.agents}
            obs, rewards, _, _, _ = env.step(actions)
            total += sum(rewards.values())
    print(f"{len(env.possible_agents)} agents, team return {total:.3f} over {episodes} episode(s)")
    return total


if __name__ == "__main__":
    main()
