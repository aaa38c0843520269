"""``leo_env/PrimaryAssignment-v0``: predict a primary LEO system's cluster assignment (one step)."""

from __future__ import annotations

from typing import Any, cast

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from leo_env.envs.assignment._data import load_part
from leo_env.envs.assignment.params import PrimaryAssignmentParams
from oracles.assignment.objective import share_correct

__all__ = ["PrimaryAssignmentEnv", "observation_space", "epoch_observation"]

_R_SCALE_M = 1.0e7  # ECEF scale of the observation [m]
_ALT_SCALE_M = 2.0e6  # altitude scale [m]


def observation_space(n_clusters: int, n_max: int) -> spaces.Dict:
    """The observation space (see :class:`PrimaryAssignmentEnv`)."""
    return spaces.Dict(
        {
            "elev": spaces.Box(-90.0, 90.0, (n_clusters, n_max), np.float32),
            "elev_min": spaces.Box(-90.0, 90.0, (n_clusters, n_max), np.float32),
            "sat": spaces.Box(-1.0, 1.0, (n_max, 6), np.float32),
            "avail": spaces.MultiBinary(n_max),
        }
    )


def epoch_observation(data: Any, t: int) -> dict[str, np.ndarray]:
    """Observation of epoch ``t`` of a :class:`~leo_env.datasets.primary_assignment.PrimaryAssignmentData`."""
    m = data["sat_id"].shape[1]
    avail = np.arange(m) < data["n_avail"][t]
    lla = data["sat_lla"][t]
    sat = np.concatenate(
        [
            data["sat_ecef"][t] / _R_SCALE_M,
            (lla[:, :1] / 90.0),
            (lla[:, 1:2] / 180.0),
            np.clip(lla[:, 2:3] / _ALT_SCALE_M, 0.0, 1.0),
        ],
        axis=1,
    ).astype(np.float32)
    sat[~avail] = 0.0
    return {
        "elev": data["elev_cluster"][t].astype(np.float32),
        "elev_min": data["elev_min"][t].astype(np.float32),
        "sat": sat,
        "avail": avail.astype(np.int8),
    }


class PrimaryAssignmentEnv(gym.Env[dict[str, np.ndarray], np.ndarray]):
    """Predict which primary satellite serves each cell cluster at one handover epoch.

    A secondary LEO operator must protect a primary system's users, so it predicts the primary's
    hidden assignment (highest elevation with a hidden cluster priority order,
    :mod:`leo_env.core.assignment`) from public satellite positions.  Each episode is one epoch
    of the primary-assignment dataset (:mod:`leo_env.datasets.primary_assignment`), drawn
    uniformly from the chosen part of the chronological split: a contextual bandit.

    ## Action space

    ``MultiDiscrete([M] * N)``: for every cluster ``n`` the rank index of a satellite in the
    epoch's ranked list (``M = n_max = 40``, ``N`` clusters).  Indices at or beyond the number of
    available satellites are legal but always wrong; :meth:`action_masks` gives the valid ones
    (``N * M`` booleans, cluster by cluster, for MaskablePPO).

    ## Observation space (``Dict``)

    | key | shape | range | meaning |
    |---|---|---|---|
    | ``elev`` | (N, M) | [-90, 90] | elevation of satellite ``m`` at the centre of cluster ``n`` [deg], 0 padding |
    | ``elev_min`` | (N, M) | [-90, 90] | minimum elevation over the cluster's cells [deg], -90 padding |
    | ``sat`` | (M, 6) | [-1, 1] | ECEF / 1e7 m, latitude / 90, longitude / 180, altitude / 2e6 m; 0 padding |
    | ``avail`` | (M,) | {0, 1} | satellite ``m`` is in the ranked list |

    ## Reward

    The share of clusters given their true satellite, in [0, 1]
    (:func:`oracles.assignment.objective.share_correct`).

    ## Episode end

    Terminated after the single step; never truncated.

    ## Info (same keys at reset and step)

    ``epoch_index`` (int, index in the dataset), ``true_assignment`` ((N,) int64, the labels),
    ``n_avail`` (int), ``correct`` ((N,) bool; all False at reset).

    ## Arguments

    The fields of :class:`~leo_env.envs.assignment.params.PrimaryAssignmentParams` as keyword
    arguments (``dataset``, ``data_root``, ``duration_s``, ``part``, ``val_fraction``,
    ``test_fraction``), or ``params=`` an instance.

    ## Version history

    * v0: first version.

    ## Example

    >>> import gymnasium as gym
    >>> from leo_env.envs.assignment import ENV_SPECS
    >>> for spec in ENV_SPECS:
    ...     if spec["id"] not in gym.registry:
    ...         gym.register(**spec)
    >>> env = gym.make("leo_env/PrimaryAssignment-v0", duration_s=3600.0)  # doctest: +SKIP
    >>> obs, info = env.reset(seed=0)  # doctest: +SKIP
    >>> _, reward, terminated, _, info = env.step(info["true_assignment"])  # doctest: +SKIP
    >>> reward, terminated  # doctest: +SKIP
    (1.0, True)
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, params: PrimaryAssignmentParams | None = None, **kwargs: Any) -> None:
        if params is not None and kwargs:
            raise ValueError("give either params or keyword arguments, not both")
        self.params = params if params is not None else PrimaryAssignmentParams(**kwargs)
        self.data, self.epochs = load_part(self.params)
        self.n_clusters = int(self.data.config.n_clusters)
        self.n_max = int(self.data.config.n_max)
        self.observation_space = cast(
            spaces.Space[dict[str, np.ndarray]], observation_space(self.n_clusters, self.n_max)
        )
        self.action_space = spaces.MultiDiscrete(np.full(self.n_clusters, self.n_max))
        self.priority = self.data.priority  # hidden priorities (read by the oracle policy only)
        self.epoch_index = int(self.epochs[0])

    @property
    def min_elevation_deg(self) -> float:
        """The primary's minimum elevation [deg]."""
        return float(self.data.config.min_elevation_deg)

    @property
    def true_assignment(self) -> np.ndarray:
        """Labels of the current epoch, shape (N,)."""
        return self.data["label"][self.epoch_index].astype(np.int64)

    def action_masks(self) -> np.ndarray:
        """Valid actions: satellites in the ranked list, for every cluster, shape (N * M,)."""
        avail = np.arange(self.n_max) < self.data["n_avail"][self.epoch_index]
        return np.tile(avail, self.n_clusters)

    def _info(self, correct: np.ndarray) -> dict[str, Any]:
        return {
            "epoch_index": self.epoch_index,
            "true_assignment": self.true_assignment,
            "n_avail": int(self.data["n_avail"][self.epoch_index]),
            "correct": correct,
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Draw an epoch; ``options={"epoch_index": t}`` picks one."""
        super().reset(seed=seed)
        if options and "epoch_index" in options:
            t = int(options["epoch_index"])
            if not 0 <= t < self.data.n_epochs:
                raise ValueError(f"epoch_index must be in [0, {self.data.n_epochs}), got {t}")
            self.epoch_index = t
        else:
            self.epoch_index = int(self.epochs[self.np_random.integers(len(self.epochs))])
        obs = epoch_observation(self.data, self.epoch_index)
        return obs, self._info(np.zeros(self.n_clusters, dtype=bool))

    def step(
        self, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """Score the predicted satellite of every cluster; the episode ends."""
        a = np.asarray(action, dtype=np.int64).reshape(-1)
        if a.shape != (self.n_clusters,):
            raise ValueError(f"action must have shape ({self.n_clusters},), got {a.shape}")
        if a.min() < 0 or a.max() >= self.n_max:
            raise ValueError(f"action entries must be in [0, {self.n_max}), got {a}")
        label = self.true_assignment
        reward = share_correct(a, label)
        obs = epoch_observation(self.data, self.epoch_index)
        return obs, reward, True, False, self._info(a == label)
