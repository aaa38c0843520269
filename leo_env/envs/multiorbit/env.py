"""``leo_env/MultiOrbitSelect-v0`` and ``leo_env/MultiOrbitAssoc-v0`` (DV-MOSS family)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np

from leo_env.core.cochannel import CochannelInstance
from leo_env.envs.episodes import EpisodeEnv
from leo_env.envs.episodes import resolve_params as _resolve
from leo_env.envs.multiorbit.core import AssocEpisode, SelectEpisode, assoc_spaces, select_spaces
from leo_env.envs.multiorbit.params import AssocEnvParams, SelectEnvParams
from oracles.multiorbit.solution import Solution

__all__ = ["MultiOrbitSelectEnv", "MultiOrbitAssocEnv", "resolve_params"]

P = TypeVar("P", SelectEnvParams, AssocEnvParams)


def resolve_params(
    cls: type[P], params: P | Mapping[str, Any] | None, kwargs: Mapping[str, Any]
) -> P:
    """Build the parameter object from ``params`` and/or keyword arguments (validated once)."""
    return _resolve(cls, params, kwargs)


class _MultiOrbitEnv(EpisodeEnv):
    metadata = {"render_modes": []}
    _ep: SelectEpisode | AssocEpisode

    @property
    def instance(self) -> CochannelInstance:
        """The current slot as a :class:`leo_env.core.cochannel.CochannelInstance`."""
        return self._ep.instance

    @property
    def last_solution(self) -> Solution | None:
        """The decision (and its scores) of the last step."""
        return self._ep.last

    @property
    def scenario_seed(self) -> int:
        """Seed of the current episode (UE drop, epoch, shadowing, fading)."""
        return self._ep.seed

    @property
    def slot(self) -> int:
        """Index of the slot the next step plays."""
        return self._ep.k



class MultiOrbitSelectEnv(_MultiOrbitEnv):
    """Which satellites of a multi-plane LEO shell serve a UE cluster, slot by slot (DV-MOSS).

    A controller serves ``U`` ground UEs (uniform in a disc) from the satellites of one Walker
    shell that lie in the UEs' zenith cones (elevation >= ``90 - cone_deg``).  Each step is a
    slot: the agent picks the serving subset (at most ``k_max = min(N_max, F)`` satellites); the
    environment assigns UEs, subcarriers and powers on that subset with JUBPA (the paper's
    block-coordinate method: UA and subcarrier matching games + power allocation,
    :func:`oracles.multiorbit.jubpa.jubpa`) and rewards the sum rate.

    ## Action space

    ``Box(-1, 1, (S_max,), float32)``: a score per candidate slot (``obs["mask"]`` marks real
    candidates; padded entries are ignored).  Served: the ``k_max`` highest-scored candidates
    with a positive score (ties: lower index); when no score is positive, the single best.

    ## Observation space

    ``Dict`` (``S_max = max_candidates``, candidates in increasing constellation index):

    | key | shape | content |
    |---|---|---|
    | ``sat`` | (S_max, 8) | per candidate: plane / planes, share of UEs seeing it, mean and max elevation / 90, mean and max SNR at 1 W [dB] / 30 over the UEs seeing it, served in the previous slot, remaining time in some UE's cone / ``visibility_horizon_s`` (sampled every slot) |
    | ``gain`` | (S_max, U) | SNR at 1 W [dB] / 30 of every (candidate, UE), 0 outside the cone |
    | ``visible`` | (S_max, U) | 1 where the candidate is in the UE's cone |
    | ``mask`` | (S_max,) | 1 for real candidates |
    | ``context`` | (3,) | slot / K, ``R_min / B``, ``k_max / S_max`` |

    All float32, features clipped to [-3, 3].

    ## Reward

    ``objective - lambda_switch * switched`` [Mbit/s]: the objective of
    :func:`oracles.multiorbit.objective.evaluate` (sum rate / 1e6 minus ``penalty_mbps`` per UE
    below its minimum rate, unserved included) and ``switched`` the satellites switched on or
    off since the previous slot (0 at the first slot).  With ``lambda_switch_mbps = 0`` (the
    paper) the slots are independent and the reward of the DV-MOSS policy equals the DV-MOSS
    objective.

    ## Episode end

    ``terminated`` after ``n_slots`` steps (the observation returned then is the last slot's);
    never ``truncated``.

    ## Info

    Same keys at reset (zeros) and every step: ``slot``, ``t_s``, ``sum_rate_mbps``,
    ``objective_mbps``, ``n_unmet``, ``n_selected``, ``n_switched``, ``n_candidates``,
    ``rounds`` (JUBPA rounds), ``invalid`` (always 0 here).

    ## Arguments

    The fields of :class:`~leo_env.envs.multiorbit.params.SelectEnvParams` as keyword
    arguments (or ``params=``): ``preset``, ``cone_deg``, ``n_ues``, ``n_sub``, ``n_max``,
    ``r_min_bps``, ``shadowing_sigma_db``, ``penalty_mbps``, ``lambda_switch_mbps``,
    ``n_slots``, ``slot_s``, ``max_candidates``, ``visibility_horizon_s``, ``inner``
    (``"jubpa"`` or ``"fast"``), ``jubpa_rounds``.

    ## Version history

    * v0: first version.

    ## Example

    >>> env = MultiOrbitSelectEnv(n_ues=8, n_sub=4, n_max=3, n_slots=2, max_candidates=16)
    >>> obs, info = env.reset(seed=0)
    >>> obs["gain"].shape
    (16, 8)
    >>> obs, reward, terminated, truncated, info = env.step(obs["mask"] * 2 - 1)
    >>> info["n_selected"] <= 3, terminated
    (True, False)
    """

    _ep: SelectEpisode

    def __init__(
        self, params: SelectEnvParams | Mapping[str, Any] | None = None, **kwargs: Any
    ) -> None:
        self.env_params = resolve_params(SelectEnvParams, params, kwargs)
        self.observation_space, self.action_space = select_spaces(self.env_params)
        self._ep = SelectEpisode(self.env_params)
        self._started = False

    def action_for_subset(self, subset: tuple[int, ...] | list[int]) -> np.ndarray:
        """The action that serves exactly ``subset`` (candidate indices of the current slot)."""
        return self._ep.action_for_subset(subset)

    def subset_from_action(self, action: np.ndarray) -> tuple[int, ...]:
        """The subset an action serves in the current slot."""
        return self._ep.subset_from_action(action)


class MultiOrbitAssocEnv(_MultiOrbitEnv):
    """Which satellite serves each UE, slot by slot; the env allocates subcarriers and power.

    The lower level of :class:`MultiOrbitSelectEnv`: the agent chooses every UE's serving
    satellite among the candidates in its zenith cone; the served set is the union of the
    choices (if it exceeds ``k_max = min(N_max, F)`` satellites, the ``k_max`` serving the most
    UEs are kept and the UEs of the others go unserved).  The environment then splits the
    subcarriers equally among the served satellites and runs JUBPA with the association held
    (greedy subcarrier start, BA matching game, power allocation:
    :func:`oracles.multiorbit.jubpa.allocate_for_association`).

    ## Action space

    ``MultiDiscrete([S_max + 1] * U)``: 0 = leave the UE unserved, ``i + 1`` = candidate ``i``.
    Choices of padded candidates or of satellites outside the UE's cone count as unserved
    (``info["invalid"]``).  :meth:`action_masks` gives the valid choices, flattened to
    ``(U * (S_max + 1),)`` (MaskablePPO's convention).

    ## Observation space

    ``Dict``: ``sat`` (S_max, 8) as in the selection env; ``gain`` (U, S_max) SNR at 1 W [dB] /
    30 (0 outside the cone); ``visible`` (U, S_max); ``prev`` (U, S_max) one-hot of the
    satellite that served the UE in the previous slot (if it is still a candidate);
    ``context`` (3,) as in the selection env.  All float32.

    ## Reward

    ``objective - lambda_switch * handovers`` [Mbit/s], ``handovers`` = UEs served in both
    slots by different satellites.  The objective is
    :func:`oracles.multiorbit.objective.evaluate` of the allocation.

    ## Episode end

    ``terminated`` after ``n_slots`` steps; never ``truncated``.

    ## Info

    The keys of the selection env (``rounds`` is 0, ``invalid`` counts invalid choices).

    ## Arguments

    The fields of :class:`~leo_env.envs.multiorbit.params.AssocEnvParams`.

    ## Version history

    * v0: first version.

    ## Example

    >>> env = MultiOrbitAssocEnv(n_ues=8, n_sub=4, n_max=3, n_slots=2, max_candidates=16)
    >>> obs, info = env.reset(seed=0)
    >>> env.action_masks().shape
    (136,)
    >>> obs, reward, terminated, truncated, info = env.step(obs["gain"].argmax(1) + 1)
    >>> info["invalid"]
    0.0
    """

    _ep: AssocEpisode

    def __init__(
        self, params: AssocEnvParams | Mapping[str, Any] | None = None, **kwargs: Any
    ) -> None:
        self.env_params = resolve_params(AssocEnvParams, params, kwargs)
        self.observation_space, self.action_space = assoc_spaces(self.env_params)
        self._ep = AssocEpisode(self.env_params)
        self._started = False

    def action_masks(self) -> np.ndarray:
        """Valid choices, shape (U * (S_max + 1),), bool."""
        return self._ep.action_masks()

    def action_for_assoc(self, assoc: np.ndarray) -> np.ndarray:
        """The action for an association (candidate per UE, -1: unserved)."""
        return self._ep.action_for_assoc(assoc)
