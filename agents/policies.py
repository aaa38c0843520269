"""Trained agents behind the baselines' :class:`leo_env.envs.downlink.policies.Policy` interface.

``evaluate.py`` plays every method -- B0/B1/B2 and the learned agents -- through the same
``reset(env)`` / ``act(obs, env)`` calls, so their episodes, metrics and decision times are
measured the same way.

>>> policy = load_agent_policy("runs/toy__bc_maskable_ppo__0__...")  # doctest: +SKIP
>>> from leo_env.envs.downlink.policies import run_episode  # doctest: +SKIP
>>> run_episode(policy, env, seed=0).ret  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm

from agents.envs import ObsLayout
from agents.registry import APEX_NAMES, load_model
from agents.runs import model_file, run_config, run_dir_of
from leo_env.envs.downlink.policies import Policy

if TYPE_CHECKING:
    from leo_env.envs.downlink import DownlinkEnv

__all__ = ["AgentPolicy", "load_agent_policy"]


class AgentPolicy(Policy):
    """A trained SB3 model as an association policy.

    Parameters
    ----------
    model : BaseAlgorithm
        PPO, MaskablePPO (B4/B5) or :class:`~agents.wolpertinger.Wolpertinger`.
    algo : str
        Algorithm name (``ppo``, ``maskable_ppo``, ``bc_maskable_ppo``, ``wolpertinger``).
    name : str, optional
        Label in tables (default: APEX name, e.g. ``B5``).
    deterministic : bool
        Greedy actions (masked argmax) instead of samples.
    run_dir : path, optional
        Run folder (training curves in the plots).
    search : tuple of (float, int), optional
        ``(delta, passes)``: improve the greedy choice with :func:`agents.search.local_search`
        on the slot's coupled capacity proxy (candidates within ``delta`` of each cell's best
        logit, ``passes`` sweeps); the label gets a ``+LS`` suffix.  Needs ``deterministic``
        and a logit policy (not Wolpertinger).

    Notes
    -----
    Masked agents receive the environment's action mask; ``ppo`` (B3) does not, and its
    invalid choices are repaired by the environment (counted in ``info["repairs_total"]``).
    With ``search`` every agent's moves stay within the action mask.
    """

    def __init__(
        self,
        model: BaseAlgorithm,
        algo: str,
        name: str | None = None,
        deterministic: bool = True,
        run_dir: str | os.PathLike[str] | None = None,
        search: tuple[float, int] | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.algo = algo
        self.name = name or APEX_NAMES.get(algo, algo)
        self.deterministic = deterministic
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.layout: ObsLayout | None = None
        if search is not None:
            if algo == "wolpertinger" or not deterministic:
                raise ValueError("search needs a deterministic logit policy (not wolpertinger)")
            delta, passes = search
            if not (float(delta) >= 0 and int(passes) >= 1):
                raise ValueError(f"search needs delta >= 0 and passes >= 1, got {search}")
            self.name = f"{self.name}+LS"
        self.search = None if search is None else (float(search[0]), int(search[1]))

    def reset(self, env: gym.Env[Any, Any]) -> None:
        """Read the observation layout of ``env`` and check that it fits the model."""
        super().reset(env)
        space = cast(gym.spaces.Dict, env.unwrapped.observation_space)
        shape = self.model.observation_space.shape
        assert shape is not None  # a Box: the flattened observation
        expected = int(np.prod(shape))
        dims = (getattr(self.model, "policy_kwargs", None) or {}).get("obs_dims")
        if dims is not None:
            ids = bool(dims.get("ids", False))
        else:  # MLP policy: the vector length tells whether the ids were appended
            plain = ObsLayout.from_space(space)
            ids = expected == plain.dim + plain.C * plain.n
        layout = ObsLayout.from_space(space, ids=ids)
        if layout.dim != expected:
            raise ValueError(
                f"{self.name}: the environment's flat observation has {layout.dim} entries, the model "
                f"expects {expected} (different preset, n_candidates or history?)"
            )
        self.layout = layout
        if self.search is not None:  # compile / load the kernel now, not inside the first decision
            from agents.search import local_search

            one = np.ones((1, 1))
            local_search(one, one > 0, np.zeros((1, 1), np.int64), -np.ones(1, np.int64), one[0], one, 1e-3, 0.0)

    def act(self, obs: dict[str, np.ndarray], env: gym.Env[Any, Any]) -> np.ndarray:
        """Candidate index per cell, shape (C,)."""
        if self.layout is None:
            self.reset(env)
        assert self.layout is not None
        flat = self.layout.observe(env, obs)[None]
        if self.algo == "wolpertinger":
            return self.model.select(flat)[0][0]  # type: ignore[attr-defined]
        policy: Any = self.model.policy  # SB3 types it as BasePolicy; ours are actor-critic policies
        masked = self.algo != "ppo" or self.search is not None
        mask = cast("DownlinkEnv", env.unwrapped).action_masks() if masked else None
        with th.inference_mode():
            x = th.as_tensor(flat, device=policy.device)
            if self.deterministic:
                # masked argmax of the logits: the distribution's mode, without building one
                # Categorical per cell (5-10x faster for a single observation)
                feats = policy.extract_features(x)
                if isinstance(feats, tuple):
                    feats = feats[0]
                logits = policy.action_net(policy.mlp_extractor.forward_actor(feats))
                logits = logits.reshape(self.layout.C, self.layout.n)
                if self.search is not None:
                    return self._search(logits.cpu().numpy(), env)
                if mask is not None:
                    logits = logits.masked_fill(~th.as_tensor(mask.reshape(self.layout.C, -1)), -th.inf)
                return logits.argmax(dim=1).cpu().numpy().astype(np.int64)
            if masked:
                assert mask is not None
                dist = policy.get_distribution(x, action_masks=mask[None])
            else:
                dist = policy.get_distribution(x)
            return dist.get_actions(deterministic=False)[0].cpu().numpy().astype(np.int64)


    def _search(self, logits: np.ndarray, env: gym.Env[Any, Any]) -> np.ndarray:
        """Local search around the masked argmax on the slot's capacity proxy."""
        from agents.search import local_search

        assert self.search is not None
        u = cast("DownlinkEnv", env.unwrapped)
        sc = u.scenario
        return local_search(
            logits, u.action_mask_matrix(), u.candidates, u.association, u.forecast(1)[:, 0], u.slot_capacity(),
            sc.eps, sc.lambda_h, delta=self.search[0], passes=self.search[1],
        )


def load_agent_policy(
    path: str | os.PathLike[str],
    which: str = "best",
    deterministic: bool = True,
    name: str | None = None,
    device: str = "cpu",
    search: tuple[float, int] | None = None,
    trust: bool = False,
) -> AgentPolicy:
    """Load a run folder's (or a checkpoint's) model as a :class:`AgentPolicy`.

    Loading is safe (:func:`agents.registry.load_model`): the model is rebuilt from the run's
    config and only its tensors are read, after the SHA-256 recorded by the run is checked.

    Parameters
    ----------
    path : path
        Run folder or model zip inside one.
    which : {"best", "final", "latest"}
        Which model of a run folder (see :func:`agents.runs.model_file`).
    deterministic : bool
        Greedy actions.
    name : str, optional
        Table label.
    device : str
        Torch device.
    search : tuple of (float, int), optional
        Decision-time local search ``(delta, passes)`` (see :class:`AgentPolicy`).
    trust : bool
        Load even when the file's digest is not the recorded one (tensors only, still).
    """
    f = model_file(path, which)
    cfg = run_config(f)
    model = load_model(f, cfg, device=device, trust=trust)
    model.policy.set_training_mode(False)
    return AgentPolicy(
        model, cfg.agent.algo, name=name, deterministic=deterministic, run_dir=run_dir_of(f), search=search
    )
