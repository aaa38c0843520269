"""RLlib multi-agent PPO on the PettingZoo view: every cell is an agent, one shared masked policy.

    python examples/rllib_multi_agent.py --steps 5000

Needs the ``rllib`` extra (``python3 tasks.py test-rllib`` builds ``.venv-rllib``).
:func:`agents.rllib.multi_agent_ppo_config` wraps :func:`leo_env.parallel_env` in RLlib's
``ParallelPettingZooEnv``; each agent sees ``Dict(observation, action_mask)`` and the masking RL
module never samples a masked candidate.  ``--per-cell`` trains one policy per cell instead.
"""

from __future__ import annotations

import argparse

import ray
import torch

from agents.rllib import multi_agent_ppo_config, train_until


def main(total_steps: int = 5000, preset: str = "toy", shared: bool = True, batch: int = 200,
         seed: int = 0) -> dict[str, float]:
    """Train until ``total_steps`` env steps (joint steps) are sampled; returns steps and team return."""
    torch.set_num_threads(1)  # tiny networks: more threads only contend (rllib_single_agent.py)
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    config = multi_agent_ppo_config(
        env_kwargs={"preset": preset, "allocator": "equal"}, shared_policy=shared,
        train_batch_size=batch, minibatch_size=min(100, batch), seed=seed,
    )
    return train_until(config, total_steps, unit="joint steps")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--preset", default="toy")
    ap.add_argument("--per-cell", action="store_true", help="one policy per cell")
    args = ap.parse_args()
    main(args.steps, args.preset, shared=not args.per_cell)
