"""Scalar environment ``leo_env/LinkGroupSched-v0``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from leo_env.core.linkgroups import (
    LinkGroupInstance,
    enumerate_groups,
    group_embedding,
    group_valid,
    link_view,
    slot_links,
)
from leo_env.envs.linkgroup.params import LinkGroupParams
from leo_env.scenario import linkgroup as lg
from oracles.linkgroup.objective import ObjectiveSpec, objective, served_mask

__all__ = ["LinkGroupSchedEnv", "log_bits_feature"]

RATE_UNIT_BITS = 1e3
"""Unit of the ``rates`` observation's log scale [bit]."""
RATE_DECADES = 6.0
"""Decades above the unit mapped onto [0, 1] (1 kbit .. 1 Gbit)."""


def log_bits_feature(bits: np.ndarray) -> np.ndarray:
    """``min(log10(1 + bits / 1 kbit) / 6, 1)`` of amounts ``bits`` [bit] >= 0 (``rates`` observation)."""
    return np.minimum(np.log10(1.0 + np.maximum(bits, 0.0) / RATE_UNIT_BITS) / RATE_DECADES, 1.0)


_log_bits = log_bits_feature


class LinkGroupSchedEnv(gym.Env[np.ndarray, Any]):
    """Link-group scheduling in an overloaded integrated LEO-5G cell (EMCL).

    One LEO satellite (Ka band), a base station and ``n_tst`` terrestrial-satellite terminals
    (C band) serve mobile terminals, dual-mode IoT devices and the BS/TSTs' backhaul within a
    deadline of ``T`` slots.  Every slot the agent activates one *link group* (at most one link
    per transmitter and per receiver, compatible links only, every SINR above its threshold).
    An episode is one deadline window; the objective (``oracles.linkgroup.objective``) is::

        F(d) = n_unserved(d)^2 + sum_k w_k ((D_k - min(d_k, D_k)) / D_k)^2

    (default form; ``served="linear"`` and ``data="raw"`` select the alternatives).

    ## Action space

    * ``mode="links"`` (default): ``MultiDiscrete([K + 1] * J)``; entry ``j`` is the receiver
      served by transmitter ``j`` (``0..K-1``) or ``K`` (idle).  Invalid picks are *repaired*
      and counted: an incompatible or absent receiver idles the transmitter, a receiver picked
      twice keeps its first transmitter, then links below their SINR threshold are dropped one at
      a time (lowest SINR margin first) until the group is valid.  ``action_masks()`` gives the
      concatenated per-transmitter masks (compatible, present, SINR-feasible alone; idle always).
    * ``mode="groups"``: ``Discrete(G)`` over every link group of the cell (row 0 = idle),
      ``action_masks()`` marks the groups valid in the current slot; an invalid group is repaired
      as above.  ``G`` grows like ``K^J``: refused above ``max_group_bytes``.
      ``group_embeddings()`` gives every group's binary link-activation vector (J K) for
      k-nearest-neighbour (Wolpertinger) mappings.

    ## Observation space

    ``Box(0, 1, (J K + 5 K + 1,), float32)``:

    | slice | content |
    |---|---|
    | ``[0, J K)`` | FSMC level / (N_L - 1) of every usable link in the current slot (0 elsewhere) |
    | ``[J K, J K + K)`` | delivered fraction ``min(d_k / D_k, 1)`` |
    | next ``K`` | ``D_min_k / D_k`` |
    | next ``K`` | ``w_k / max w`` |
    | next ``K`` | served flag |
    | next ``K`` | present flag |
    | last | ``t / T`` |

    With ``observation="rates"`` (not in the paper; the default ``"paper"`` is the table above)
    ``J K + 3 K`` entries follow, every amount ``x`` in bits shown as
    ``lg(x) = min(log10(1 + x / 1 kbit) / 6, 1)`` (1 kbit -> 0.05, 1 Gbit -> 1):

    | slice (after the ``J K + 5 K + 1`` above) | content |
    |---|---|
    | ``[0, J K)`` | ``lg`` of the bits link ``(j, k)`` would deliver alone in the current slot (0 where it is not valid alone) |
    | next ``K`` | ``lg(D_k)``, absolute demand (0 for absent receivers) |
    | next ``K`` | ``lg(D_k - min(d_k, D_k))``, remaining demand |
    | next ``K`` | ``lg(max(D_min_k - d_k, 0))``, bits still missing to be served |

    The task (device set, demand law, channel regime) is not observed.

    ## Reward

    ``r_t = F(d_{t-1}) - F(d_t)`` (>= 0), so the return is ``F(0) - F(d_T)``: maximising the
    return minimises the objective.

    ## Episode end

    Terminated after ``T`` steps (the deadline); never truncated.

    ## Info (same keys at reset and step)

    ``objective`` (F now), ``n_served``, ``delivered_bits`` (K,), ``repairs`` (this episode),
    ``step_repairs``, ``sinr`` (J,), ``slot``, ``task_id``, ``task_changed`` (the episode is the
    first of a new task), ``event``.

    ## Arguments

    Every field of :class:`~leo_env.envs.linkgroup.params.LinkGroupParams` (``preset``,
    ``mode``, ``served``, ``data``, ``layout_seed``, ``max_group_bytes``) and any
    :class:`~leo_env.scenario.linkgroup.LinkGroupConfig` field as an override (``T=5``).
    ``reset(options={"task": task})`` switches the task (also :meth:`set_task`).

    ## Version history

    * v0: first version; ``observation="rates"`` added later as an option (default unchanged).

    ## Example

    >>> import gymnasium as gym
    >>> import leo_env.envs.linkgroup as lgp
    >>> for spec in lgp.ENV_SPECS:
    ...     if spec["id"] not in gym.registry:
    ...         gym.register(**spec)
    >>> env = gym.make("leo_env/LinkGroupSched-v0", preset="small")
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, info["objective"] > 0
    ((82,), True)
    """

    metadata = {"render_modes": []}

    def __init__(self, params: LinkGroupParams | None = None, **kwargs: Any) -> None:
        self.params = LinkGroupParams.build(params, **kwargs)
        self.cfg = self.params.config()
        self.spec_obj = ObjectiveSpec(served=self.params.served, data=self.params.data)
        rng = np.random.default_rng(self.params.layout_seed)
        self.layout = lg.make_layout(self.cfg, rng)
        self.task: lg.Task = lg.base_task(self.cfg, rng)
        self._tables = lg.fsmc_tables(self.cfg)
        J, K = self.cfg.J, self.cfg.K  # noqa: N806
        self.groups: np.ndarray | None = None
        if self.params.mode == "groups":
            self.groups = enumerate_groups(self.layout.compat, self.params.max_group_bytes)
            self.action_space = spaces.Discrete(len(self.groups))
        else:
            self.action_space = spaces.MultiDiscrete(np.full(J, K + 1, dtype=np.int64))
        n_obs = J * K + 5 * K + 1 + (J * K + 3 * K if self.params.observation == "rates" else 0)
        self.observation_space = spaces.Box(0.0, 1.0, (n_obs,), np.float32)
        self._w_max = max(float(self.layout.weight.max()), 1e-12)
        self._task_changed = False
        self.instance: LinkGroupInstance | None = None
        self.levels: np.ndarray | None = None
        self.t = 0
        self.delivered = np.zeros(K)
        self.links = -np.ones((self.cfg.T, J), dtype=np.int64)

    # ----- task API -------------------------------------------------------------------------
    def set_task(self, task: lg.Task) -> None:
        """Use ``task`` from the next reset on (flags ``task_changed`` if the id differs)."""
        if task.active.shape != (self.cfg.n_dev,):
            raise ValueError(f"task.active must have shape ({self.cfg.n_dev},)")
        if task.task_id != self.task.task_id:
            self._task_changed = True
        self.task = task

    def sample_tasks(self, n: int, rng: np.random.Generator | None = None) -> list[lg.Task]:
        """``n`` meta-training tasks of this cell (:func:`leo_env.scenario.linkgroup.sample_tasks`)."""
        return lg.sample_tasks(self.cfg, self.np_random if rng is None else rng, n)

    # ----- gym API --------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Draw a new deadline window (demands and FSMC paths) of the current task."""
        super().reset(seed=seed)
        if options and "task" in options:
            self.set_task(options["task"])
        self.instance, self.levels = lg.build_instance(
            self.cfg, self.layout, self.task, self.np_random, self._tables
        )
        self._view = link_view(self.instance)
        self._valid = None if self.groups is None else group_valid(self.groups, self._view)
        self.t = 0
        self.delivered = np.zeros(self.cfg.K)
        self.links = -np.ones((self.cfg.T, self.cfg.J), dtype=np.int64)
        self.repairs = 0
        self._f = float(objective(self.instance, self.delivered, self.spec_obj))
        self.f0 = self._f
        self._changed_now = self._task_changed
        self._task_changed = False
        return self._obs(), self._info(np.zeros(self.cfg.J), 0)

    def step(self, action: Any):
        """Activate the (repaired) group of ``action`` in the current slot."""
        if self.instance is None:
            raise RuntimeError("call reset() before step()")
        if self.t >= self.cfg.T:
            raise RuntimeError("episode is over: call reset()")
        assign, n_rep = self.repair(self.decode(action))
        sinr, bits, _ = slot_links(self.instance, assign, self.t)
        on = assign >= 0
        np.add.at(self.delivered, assign[on], bits[on])
        self.links[self.t] = assign
        self.repairs += n_rep
        f_new = float(objective(self.instance, self.delivered, self.spec_obj))
        reward = self._f - f_new
        self._f = f_new
        self.t += 1
        terminated = self.t >= self.cfg.T
        return self._obs(), float(reward), terminated, False, self._info(sinr, n_rep)

    # ----- actions --------------------------------------------------------------------------
    def decode(self, action: Any) -> np.ndarray:
        """Assignment vector (J,) of an action (receiver or -1 per transmitter), unrepaired."""
        if self.groups is not None:
            a = int(np.asarray(action).reshape(()))
            if not 0 <= a < len(self.groups):
                raise ValueError(f"action must be in [0, {len(self.groups)}), got {a}")
            return self.groups[a].copy()
        a = np.asarray(action, dtype=np.int64).reshape(-1)
        if a.shape != (self.cfg.J,) or np.any((a < 0) | (a > self.cfg.K)):
            raise ValueError(f"action must have shape ({self.cfg.J},) with values in [0, {self.cfg.K}]")
        return np.where(a == self.cfg.K, -1, a)

    def encode(self, assign: np.ndarray) -> Any:
        """Action of an assignment vector (inverse of :meth:`decode` for valid groups)."""
        a = np.asarray(assign, dtype=np.int64)
        if self.groups is not None:
            if not hasattr(self, "_gindex"):
                self._gindex = {tuple(r): i for i, r in enumerate(self.groups.tolist())}
            return self._gindex[tuple(a.tolist())]
        return np.where(a < 0, self.cfg.K, a).astype(np.int64)

    def repair(self, assign: np.ndarray) -> tuple[np.ndarray, int]:
        """Make an assignment valid in the current slot; returns it and the links dropped."""
        inst = self.instance
        a = np.asarray(assign, dtype=np.int64).copy()
        n = 0
        usable = inst.usable
        for j in range(self.cfg.J):
            if a[j] >= 0 and (not usable[j, a[j]] or np.any(a[:j] == a[j])):
                a[j] = -1
                n += 1
        while True:
            sinr, _, ok = slot_links(inst, a, self.t)
            if ok.all():
                return a, n
            bad = np.flatnonzero(~ok)
            margin = sinr[bad] / np.maximum(inst.sinr_th[a[bad]], 1e-300)
            a[bad[int(np.argmin(margin))]] = -1
            n += 1

    def group_embeddings(self) -> np.ndarray:
        """Binary link-activation vector of every group, shape (G, J K) (``groups`` mode)."""
        if self.groups is None:
            raise ValueError("group_embeddings needs mode='groups'")
        return group_embedding(self.groups, self.cfg.K)

    def action_masks(self) -> np.ndarray:
        """Valid actions of the current slot (groups: (G,); links: concatenated (J (K+1),))."""
        t = min(self.t, self.cfg.T - 1)
        if self.groups is not None:
            return self._valid[:, t].copy()
        J = self.cfg.J  # noqa: N806
        alone = self._view.ok[np.arange(J), :, 1 << np.arange(J), t]  # (J, K)
        return np.concatenate([alone, np.ones((J, 1), dtype=bool)], axis=1).reshape(-1)

    # ----- observation / info -----------------------------------------------------------------
    def _obs(self) -> np.ndarray:
        inst = self.instance
        assert inst is not None and self.levels is not None, "reset() first"
        t = min(self.t, self.cfg.T - 1)
        lv = self.levels[:, :, t] / max(self.cfg.fsmc_levels - 1, 1)
        lv = np.where(inst.usable, lv, 0.0)
        dem = np.maximum(inst.demand_bits, 1e-300)
        frac = np.where(inst.active, np.minimum(self.delivered / dem, 1.0), 0.0)
        mfr = np.where(inst.active, inst.min_bits / dem, 0.0)
        served = served_mask(inst, self.delivered)
        parts = [lv.reshape(-1), frac, mfr, inst.weight / self._w_max, served, inst.active, [self.t / self.cfg.T]]
        if self.params.observation == "rates":
            J = self.cfg.J  # noqa: N806
            alone = 1 << np.arange(J)
            bits = np.where(self._view.ok[np.arange(J), :, alone, t], self._view.bits[np.arange(J), :, alone, t], 0.0)
            act = inst.active.astype(bool)
            rem = np.where(act, inst.demand_bits - np.minimum(self.delivered, inst.demand_bits), 0.0)
            rem_min = np.where(act, np.maximum(inst.min_bits - self.delivered, 0.0), 0.0)
            parts += [_log_bits(bits).reshape(-1), _log_bits(np.where(act, inst.demand_bits, 0.0)),
                      _log_bits(rem), _log_bits(rem_min)]
        obs = np.concatenate(parts)
        return np.clip(obs, 0.0, 1.0).astype(np.float32)

    def _info(self, sinr: np.ndarray, step_repairs: int) -> dict[str, Any]:
        return {
            "objective": self._f,
            "n_served": int(served_mask(self.instance, self.delivered).sum()),
            "delivered_bits": self.delivered.copy(),
            "repairs": int(self.repairs),
            "step_repairs": int(step_repairs),
            "sinr": np.asarray(sinr, dtype=float).copy(),
            "slot": int(self.t),
            "task_id": int(self.task.task_id),
            "task_changed": bool(self._changed_now),
            "event": self.task.event,
        }
