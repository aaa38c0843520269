"""Stable-Baselines3: PPO and sb3-contrib's MaskablePPO on a downlink env, public API only.

    python examples/sb3_maskable_ppo.py --steps 20000

MaskablePPO reads ``env.action_masks()`` (the budget-safe candidate masks, flat (C * n,)).
The ``Dict`` observation is flattened by :class:`leo_env.wrappers.FlattenDownlink`.  For the
suite's own training (candidate-set network, behaviour cloning, run folders) use ``train.py``.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

import leo_env.envs  # noqa: F401  (registers the ids)
from leo_env.wrappers import FlattenDownlink


def make(seed: int = 0) -> gym.Env:
    """A flattened toy env (equal-split allocator: fast; drop it for exact P1)."""
    return FlattenDownlink(gym.make("leo_env/Downlink-toy-v0", allocator="equal"))


def main(steps: int = 2048, seed: int = 0) -> dict[str, float]:
    """Train PPO and MaskablePPO for ``steps`` env steps each; returns their held-out returns."""
    out = {}
    for name, algo in (("PPO", PPO), ("MaskablePPO", MaskablePPO)):
        venv = make_vec_env(make, n_envs=2, seed=seed)
        model = algo("MlpPolicy", venv, n_steps=64, batch_size=64, seed=seed, verbose=0)
        model.learn(total_timesteps=steps)
        env = make()
        total = 0.0
        for ep in range(3):
            obs, _ = env.reset(seed=10_000 + ep)
            done = False
            while not done:
                kw = {"action_masks": env.action_masks()} if name == "MaskablePPO" else {}
                action, _ = model.predict(obs, deterministic=True, **kw)
                obs, r, term, trunc, _ = env.step(action)
                total += float(r)
                done = term or trunc
        out[name] = total / 3
        print(f"{name}: mean return {out[name]:.3f} over 3 held-out episodes after {steps} steps")
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20_000)
    main(ap.parse_args().steps)
