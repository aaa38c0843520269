"""Learning agents for the APEX suite (Stable-Baselines3 / sb3-contrib / torch).

| module | what |
|---|---|
| :mod:`agents.config` | typed experiment configuration (OmegaConf structured config) |
| :mod:`agents.envs`, :mod:`agents.vec_env` | flat observations, SB3 ``VecEnv`` over the native batched env |
| :mod:`agents.networks` | candidate-set policy / Q networks |
| :mod:`agents.registry` | algorithms by name (B3 ``ppo``, B4 ``maskable_ppo``, B5 ``bc_maskable_ppo``, ``wolpertinger``) |
| :mod:`agents.labels`, :mod:`agents.bc` | oracle labels (parallel, sharded cache) and behaviour cloning |
| :mod:`agents.wolpertinger` | TD3 + exact k-NN over valid joint actions |
| :mod:`agents.predictors` | naive / EWMA / LSTM demand predictors |
| :mod:`agents.policies`, :mod:`agents.evaluation`, :mod:`agents.plots` | paired evaluation against B0/B1/B2 |

Submodules are imported on demand (label workers never import torch).
"""

__all__ = ["config", "envs"]
