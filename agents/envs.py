"""Environments as the agents see them: configuration -> environment, flat observations.

The Gymnasium environment's observation is a ``Dict`` of arrays (cells x candidates x
features, budgets, demand history, ...).  The agents receive it flattened into one float32
vector, the entries concatenated in the ``Dict`` space's key order (the same vector as
:class:`leo_env.wrappers.FlattenDownlink`); :class:`ObsLayout` records where each entry sits
so that networks can take it apart again.

The Stable-Baselines3 ``VecEnv`` adapter lives in :mod:`agents.vec_env` (this module does not
import torch, so label workers stay light).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from agents.config import EnvConfig
from leo_env.envs.downlink.env import DownlinkEnv, make_spaces
from leo_env.envs.downlink.params import DownlinkParams
from leo_env.envs.downlink.tables import N_CAND_FEATURES

__all__ = [
    "ObsLayout",
    "env_kwargs",
    "flatten_obs",
    "make_env",
    "layout_of",
    "Forecaster",
    "EPISODE_KEYS",
    "VALIDATION_SEED_BASE",
]

EPISODE_KEYS = ("budget_violations", "emergencies_total", "repairs_total")
"""Info entries copied into ``info["episode_metrics"]`` at the end of every episode."""

VALIDATION_SEED_BASE = (1 << 30) - 1
"""Validation scenarios (best-model selection) use training-split seeds counting down from here.

Training episodes draw seeds uniformly from ``[0, 2**30)``; the top of that range is used for
validation so that it never touches the held-out evaluation split ``[2**30, 2**31)``.
"""


@dataclass(frozen=True)
class ObsLayout:
    """Where each observation entry sits in the flat vector.

    Attributes
    ----------
    C, n, F, L : int
        Cells, candidates per cell, features per candidate, history slots.
    A : int
        Look-ahead slots (``forecast_ahead``, ``candidates_ahead``, ``best_ahead``; 0: none).
    slices : dict of str to slice
        Position of each ``Dict`` entry in the flat vector (and of ``candidate_ids``).
    shapes : dict of str to tuple
        Shape of each entry (without batch axis).
    dim : int
        Length of the flat vector.
    ids : bool
        The vector ends with the satellite index of every candidate, shape (C, n), ``-1`` for
        padding (``EnvConfig.satellite_ids``): what lets a network see which cells compete for
        the same satellite.  It is the environment's own candidate list
        (``env.unwrapped.candidates``), known to the agent at decision time.
    """

    C: int
    n: int
    F: int
    L: int
    slices: dict[str, slice]
    shapes: dict[str, tuple[int, ...]]
    dim: int
    ids: bool = False
    A: int = 0

    @classmethod
    def from_dims(cls, C: int, n: int, L: int, ids: bool = False, A: int = 0) -> ObsLayout:  # noqa: N803
        """Layout for ``C`` cells, ``n`` candidates, ``L`` history and ``A`` look-ahead slots."""
        space, _ = make_spaces(int(C), int(n), int(L), int(A))
        return cls.from_space(space, ids=ids)

    @classmethod
    def from_space(cls, space: spaces.Dict, ids: bool = False) -> ObsLayout:
        """Layout of a ``Dict`` observation space of :class:`~leo_env.envs.downlink.DownlinkEnv`."""
        slices, shapes, off = {}, {}, 0
        for key, sub in space.spaces.items():
            if sub.shape is None:
                raise ValueError(f"observation key {key!r} has no fixed shape")
            size = int(np.prod(sub.shape))
            slices[key] = slice(off, off + size)
            shapes[key] = tuple(int(x) for x in sub.shape)
            off += size
        C, n, F = shapes["candidates"]  # noqa: N806
        if F != N_CAND_FEATURES:
            raise ValueError(f"expected {N_CAND_FEATURES} candidate features, got {F}")
        if ids:
            slices["candidate_ids"] = slice(off, off + C * n)
            shapes["candidate_ids"] = (C, n)
            off += C * n
        A = shapes["forecast_ahead"][1] if "forecast_ahead" in shapes else 0  # noqa: N806
        return cls(
            C=C, n=n, F=F, L=shapes["demand_history"][1], slices=slices, shapes=shapes, dim=off, ids=bool(ids), A=A
        )

    @property
    def dims(self) -> dict[str, Any]:
        """``{"C", "n", "L", "ids"}`` (+ ``"A"`` with look-ahead): :meth:`from_dims`'s arguments."""
        out: dict[str, Any] = {"C": self.C, "n": self.n, "L": self.L, "ids": self.ids}
        if self.A:
            out["A"] = self.A
        return out

    def box(self, space: spaces.Dict) -> spaces.Box:
        """The flat observation space (``candidate_ids`` in [-1, 2**24])."""
        flat = spaces.flatten_space(space)
        assert isinstance(flat, spaces.Box)
        lo, hi = flat.low.astype(np.float32), flat.high.astype(np.float32)
        if self.ids:
            lo = np.concatenate([lo, np.full(self.C * self.n, -1.0, np.float32)])
            hi = np.concatenate([hi, np.full(self.C * self.n, float(1 << 24), np.float32)])
        return spaces.Box(lo, hi, dtype=np.float32)

    def flatten(self, obs: dict[str, np.ndarray], ids: np.ndarray | None = None) -> np.ndarray:
        """Flat float32 vector(s) of one observation or a batch (leading axis kept).

        ``ids`` (candidate satellite indices, shape (..., C, n)) is required when
        :attr:`ids` is set and ignored otherwise.
        """
        first = np.asarray(obs["time"])
        batch = first.shape[:-1]
        keys = [k for k in self.slices if k != "candidate_ids"]
        parts = [np.asarray(obs[k], dtype=np.float32).reshape(*batch, -1) for k in keys]
        if self.ids:
            if ids is None:
                raise ValueError("this layout needs the candidates' satellite indices (ids=)")
            parts.append(np.asarray(ids, dtype=np.float32).reshape(*batch, -1))
        return np.concatenate(parts, axis=-1)

    def observe(self, env: Any, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Flat vector of a scalar environment's observation (ids from ``env.unwrapped``)."""
        return self.flatten(obs, env.unwrapped.candidates if self.ids else None)

    def unflatten(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Inverse of :meth:`flatten` (views of ``flat``)."""
        batch = flat.shape[:-1]
        return {k: flat[..., s].reshape(*batch, *self.shapes[k]) for k, s in self.slices.items()}

    def mask(self, flat: np.ndarray) -> np.ndarray:
        """Boolean action mask(s) (..., C, n) read from flat observation(s)."""
        m = flat[..., self.slices["action_mask"]] > 0.5
        return m.reshape(*flat.shape[:-1], self.C, self.n)


def flatten_obs(obs: dict[str, np.ndarray]) -> np.ndarray:
    """Flatten a ``Dict`` observation in sorted-key order (the environment's space order)."""
    return np.concatenate([np.asarray(obs[k], dtype=np.float32).ravel() for k in sorted(obs)])


def layout_of(env: Any, cfg: EnvConfig) -> ObsLayout:
    """Flat-observation layout of a (scalar or vector) environment under ``cfg``."""
    u = env.unwrapped if hasattr(env, "unwrapped") else env
    space = getattr(u, "single_observation_space", None) or u.observation_space
    return ObsLayout.from_space(space, ids=cfg.satellite_ids)


def env_kwargs(cfg: EnvConfig, **extra: Any) -> dict[str, Any]:
    """Keyword arguments of the downlink environments for an :class:`EnvConfig`.

    ``params`` is the :class:`~leo_env.envs.downlink.params.DownlinkParams` built from the
    config's fields of the same names (validated there); the ``lstm`` predictor becomes the
    environment's ``predictor=`` hook (a causal callable, :mod:`agents.predictors`).  ``extra``
    updates the parameters (or passes hooks such as ``scenario=``).
    """
    names = DownlinkParams.field_names()
    fields = {k: v for k, v in asdict(cfg).items() if k in names}
    hooks = {k: extra.pop(k) for k in list(extra) if k not in names}
    if cfg.predictor == "lstm":
        from agents.predictors import load_forecaster

        fields["predictor"] = "naive"
        hooks.setdefault("predictor", load_forecaster(cfg))
    return {"params": DownlinkParams.build(fields, **extra), **hooks}


Forecaster = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``f(demand (C, K), prior (C,)) -> base forecasts (C, K)`` [bit], causal in ``k``."""


def make_env(cfg: EnvConfig, **extra: Any) -> gym.Env[Any, Any]:
    """Scalar environment of an :class:`EnvConfig` (with the LSTM forecaster when configured)."""
    return DownlinkEnv(**env_kwargs(cfg, **extra))
