"""DV-MOSS demonstrations on ``MultiOrbitSelect-v0`` slots (behaviour-cloning labels).

One task per episode seed (plain data in, arrays out, so :func:`leo_env.parallel.pmap` runs
it on any backend): the selection env is reset with the seed and played for ``n_slots`` slots
with DV-MOSS (Markov approximation + JUBPA); every slot records the observation, DV-MOSS's
serving subset and association, its objective and solve time, every subset the Markov chain
solved with its objective, the soft target ``soft_selected`` (each candidate's inclusion
probability under the Markov approximation's distribution ``p_f ∝ exp(beta Phi_f)`` over the
explored subsets, with the chain's own ``beta``), and -- for the Wolpertinger
critic -- ``n_perturb`` perturbed associations (DV-MOSS's with a share of the UEs moved to
another candidate in their cone or left unserved, and the largest-gain association) scored by
the association env's own allocator (:func:`oracles.multiorbit.jubpa.allocate_for_association`).

Label sets are cached in ``.npz`` shards of consecutive seeds (written atomically), reused by any
config that shares them.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["label_episode", "generate_labels", "LABEL_KEYS", "perturbed_associations"]

MAX_EXPLORED = 200
"""Explored subsets kept per slot (DV-MOSS solves about 60 at 60 degrees)."""

LABEL_KEYS = (
    "sat", "gain", "visible", "mask", "context", "selected", "soft_selected", "explored", "explored_objective",
    "assoc", "objective",
    "assoc_objective", "dv_time_s", "critic_assoc", "critic_objective", "seed", "slot",
)
"""Arrays of a label set (first axis: slots)."""


def perturbed_associations(
    visible: np.ndarray, assoc: np.ndarray, rng: np.random.Generator, n: int
) -> np.ndarray:
    """``n`` associations near ``assoc``: a random share of UEs re-drawn among their options.

    Parameters
    ----------
    visible : (S, U) bool
        Cone visibility of the slot's candidates.
    assoc : (U,) int
        Reference association (candidate per UE, -1 unserved).
    rng : numpy.random.Generator
        Source of the draws.
    n : int
        Number of associations returned (shares 5 %-50 % spread over them).

    Returns
    -------
    (n, U) int
        Candidate per UE (-1: unserved), every choice inside the UE's cone.
    """
    s, u = visible.shape
    out = np.repeat(np.asarray(assoc, dtype=np.int64)[None, :], n, axis=0)
    shares = np.linspace(0.05, 0.5, max(n, 1))
    for i in range(n):
        moved = rng.random(u) < shares[i]
        for ue in np.flatnonzero(moved):
            opts = np.flatnonzero(visible[:, ue])
            choices = np.concatenate([opts, [-1]]) if rng.random() < 0.1 else opts
            if choices.size:
                out[i, ue] = int(rng.choice(choices))
    return out


def label_episode(env_kwargs: dict[str, Any], reset_seed: int, n_perturb: int) -> dict[str, np.ndarray]:
    """DV-MOSS played on one episode of ``MultiOrbitSelect-v0`` (see the module docstring).

    Parameters
    ----------
    env_kwargs : dict
        :class:`~leo_env.envs.multiorbit.params.SelectEnvParams` fields (``n_slots`` included).
    reset_seed : int
        Seed of ``env.reset``.
    n_perturb : int
        Perturbed associations scored per slot for the critic (0: none).

    Returns
    -------
    dict of arrays
        :data:`LABEL_KEYS`, first axis = the episode's slots.
    """
    from leo_env.envs.multiorbit.env import MultiOrbitSelectEnv
    from leo_env.envs.multiorbit.params import AssocEnvParams
    from oracles.multiorbit import baselines as B
    from oracles.multiorbit.jubpa import allocate_for_association

    env = MultiOrbitSelectEnv(**env_kwargs)
    obs, _ = env.reset(seed=int(reset_seed))
    rng = np.random.default_rng([int(reset_seed), 7])
    rows: dict[str, list[Any]] = {k: [] for k in LABEL_KEYS}
    s_max = int(env.env_params.max_candidates)
    rounds = int(AssocEnvParams().jubpa_rounds)  # the association env's allocator
    done = False
    k = 0
    while not done:
        inst = env.instance
        t0 = time.perf_counter()
        sol = B.dv_moss(inst, seed=int(reset_seed) * 1_000_003 + k + 1)
        dt = time.perf_counter() - t0
        sel = np.zeros(s_max, dtype=np.float32)
        sel[list(sol.selected)] = 1.0
        subs = sol.info["explored_subsets"][:MAX_EXPLORED]
        vals = np.asarray(sol.info["explored_objectives"][:MAX_EXPLORED], dtype=np.float64)
        explored = np.zeros((MAX_EXPLORED, s_max), dtype=np.uint8)
        for j, sub in enumerate(subs):
            explored[j, list(sub)] = 1
        ex_obj = np.full(MAX_EXPLORED, np.nan)
        ex_obj[: vals.size] = vals
        w = np.exp(float(sol.info["beta"]) * (vals - vals.max()))
        soft = (w[:, None] * explored[: vals.size]).sum(axis=0) / w.sum()
        assoc = np.asarray(sol.assoc, dtype=np.int64)
        ref = allocate_for_association(inst, assoc, max_rounds=rounds).objective_mbps
        g = np.where(inst.visible, inst.gain.mean(axis=2), -1.0)
        best_gain = np.where(g.max(axis=0) > 0, g.argmax(axis=0), -1)
        cands = [best_gain[None, :]]
        if n_perturb > 1:
            cands.append(perturbed_associations(inst.visible, assoc, rng, n_perturb - 1))
        ca = np.concatenate(cands, axis=0)[:n_perturb] if n_perturb > 0 else np.zeros((0, assoc.size), np.int64)
        co = np.array([allocate_for_association(inst, a, max_rounds=rounds).objective_mbps for a in ca])
        for key in ("sat", "gain", "visible", "mask", "context"):
            rows[key].append(np.asarray(obs[key], dtype=np.float32))
        rows["sat"][-1][:, 6] = 0.0  # history column: meaningless for independent slots
        rows["selected"].append(sel)
        rows["soft_selected"].append(soft.astype(np.float32))
        rows["explored"].append(explored)
        rows["explored_objective"].append(ex_obj)
        rows["assoc"].append(assoc)
        rows["objective"].append(sol.objective_mbps)
        rows["assoc_objective"].append(ref)
        rows["dv_time_s"].append(dt)
        rows["critic_assoc"].append(ca.astype(np.int64))
        rows["critic_objective"].append(co.astype(np.float64))
        rows["seed"].append(int(reset_seed))
        rows["slot"].append(k)
        obs, _, done, _, _ = env.step(env.action_for_subset(sol.selected))
        k += 1
    return {key: np.stack([np.asarray(v) for v in vals]) for key, vals in rows.items()}


def _key(env_kwargs: dict[str, Any], seeds: list[int], n_perturb: int) -> str:
    doc = json.dumps({"env": env_kwargs, "seeds": seeds, "n_perturb": n_perturb, "v": 2}, sort_keys=True)
    return hashlib.sha256(doc.encode()).hexdigest()[:16]


def generate_labels(
    env_kwargs: dict[str, Any],
    seeds: list[int],
    n_perturb: int,
    cache_dir: str | os.PathLike[str],
    *,
    backend: str = "process",
    workers: int = 2,
    shard: int = 50,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Labels of every seed, cached per shard of ``shard`` consecutive seeds.

    A shard file is named by a hash of (env, its seeds, ``n_perturb``) and written atomically,
    so an interrupted run resumes at the first missing shard and a config with fewer (or more)
    seeds reuses the shards it shares with an earlier one.

    Returns
    -------
    dict of arrays
        :data:`LABEL_KEYS` concatenated over seeds and slots.
    """
    from leo_env.io import atomic_write
    from leo_env.parallel import pmap

    root = Path(cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    parts: list[dict[str, np.ndarray]] = []
    for i in range(0, len(seeds), shard):
        chunk = [int(s) for s in seeds[i : i + shard]]
        f = root / f"labels_{_key(env_kwargs, chunk, n_perturb)}.npz"
        if f.exists():
            with np.load(f) as z:
                parts.append({k: z[k] for k in LABEL_KEYS})
            continue
        res = pmap(label_episode, [(env_kwargs, s, n_perturb) for s in chunk], backend=backend,
                   workers=workers, desc=f"DV-MOSS labels {i}/{len(seeds)}", progress=progress)
        part = {k: np.concatenate([r[k] for r in res]) for k in LABEL_KEYS}

        def write(tmp: str, part: dict[str, np.ndarray] = part) -> None:
            np.savez(tmp, **part)  # type: ignore[arg-type]

        atomic_write(f, write)
        parts.append(part)
    return {k: np.concatenate([p[k] for p in parts]) for k in LABEL_KEYS}
