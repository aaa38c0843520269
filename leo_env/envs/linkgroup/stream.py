"""Task-stream wrapper: the task switches every ``update_interval`` slots on a schedule."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from leo_env.scenario import linkgroup as lg

__all__ = ["LinkGroupTaskStream"]


class LinkGroupTaskStream(gym.Wrapper):
    """Drive a ``LinkGroupSched`` env through a :class:`~leo_env.scenario.linkgroup.TaskStream`.

    The wrapper counts the slots played (steps); at every reset it installs the task in force at
    the current global slot (:meth:`TaskStream.task_at`), so with episodes played to their
    deadline the task changes exactly at ``change_slots`` (``update_interval`` must be a multiple
    of ``T``).  The env's ``info`` reports ``task_id``, ``task_changed`` and ``event``; the
    wrapper adds ``global_slot``.

    Parameters
    ----------
    env : gym.Env
        A ``LinkGroupSched-v0`` env.
    n_changes : int
        Number of task changes.
    update_interval : int
        Slots between changes (200 in the paper).
    schedule : str or tuple of str
        ``"cycle"`` (departure, arrival, burst, shock, ...), ``"random"`` or explicit events.
    stream_seed : int
        Seed of the stream's events.
    """

    def __init__(self, env: gym.Env, n_changes: int = 3, update_interval: int = 200,
                 schedule: str | tuple[str, ...] = "cycle", stream_seed: int = 0) -> None:
        super().__init__(env)
        u = env.unwrapped
        self.stream = lg.make_task_stream(u.cfg, np.random.default_rng(stream_seed), n_changes,
                                          update_interval, schedule)
        self.global_slot = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Install the task in force at the current global slot, then reset."""
        self.env.unwrapped.set_task(self.stream.task_at(self.global_slot))
        obs, info = self.env.reset(seed=seed, options=options)
        info["global_slot"] = self.global_slot
        return obs, info

    def step(self, action: Any):
        """Step and count the slot."""
        obs, r, term, trunc, info = self.env.step(action)
        info["global_slot"] = self.global_slot
        self.global_slot += 1
        return obs, r, term, trunc, info

    def sample_tasks(self, n: int, rng: np.random.Generator | None = None) -> list[lg.Task]:
        """Tasks for meta-training (delegates to the env)."""
        return self.env.unwrapped.sample_tasks(n, rng)

    def set_task(self, task: lg.Task) -> None:
        """Switch the task now (outside the schedule, e.g. for meta-training)."""
        self.env.unwrapped.set_task(task)
