"""Oracle labels for behaviour cloning: an expert's episodes replayed in the environment.

For every training scenario seed the P2 oracle solves the episode in hindsight
(:class:`leo_env.envs.downlink.policies.HindsightPolicy`, the same solver and options as B1 in the
evaluation; ``labels.expert: mpc`` instead re-solves P2 on the forecasts every slot, B2's
:class:`~leo_env.envs.downlink.policies.MPCPolicy`); the environment is then played with the oracle's choices, so every recorded
observation is exactly what the agent would see at that slot (forecasts, budgets, previous
association, masks), and the label of a slot is the candidate index per cell that selects the
oracle's satellite (B0's choice where the plan's satellite is not in the candidate list; such
fallbacks are counted).

Generation runs on :func:`leo_env.parallel.pmap` (``agent.labels.backend``: serial, a spawn
process pool, or Ray; ``train.py --backend/--workers/--address``), one task per shard of
``shard_size`` seeds, with a progress bar.  Every shard is written atomically
(``shard_00003.npz``) into a cache folder named by a fingerprint of the environment and oracle
configuration; a shard file is complete or absent, so an interrupted generation resumes by
skipping the shards on disk, and no seed is ever labelled twice.

Command line::

    python -m agents.labels --config configs/experiments/medium_b5.yaml [--set k=v ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
import warnings
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from agents.config import ROOT, EnvConfig, LabelConfig, env_key, load_experiment
from agents.envs import ObsLayout, make_env
from leo_env.core.overrides import add_set_argument
from leo_env.io import atomic_write, atomic_write_json
from leo_env.parallel import pmap

__all__ = [
    "LabelSet", "label_dir", "label_episode", "generate_labels", "load_labels", "make_expert", "run_shards", "write_shard",
    "shard_path", "FORMAT_VERSION",
]

FORMAT_VERSION = 1


@dataclass
class LabelSet:
    """Decision slots of oracle trajectories, one row per (scenario, slot).

    Attributes
    ----------
    obs : ndarray of float32, shape (N, D)
        Flat observations (:class:`agents.envs.ObsLayout` order).
    mask : ndarray of bool, shape (N, C * n)
        Action masks.
    label : ndarray of int64, shape (N, C)
        Oracle's candidate index per cell.
    reward : ndarray of float32, shape (N,)
        Environment reward of the slot (unscaled).
    seed : ndarray of int64, shape (N,)
        Scenario seed of the row's episode.
    slot : ndarray of int64, shape (N,)
        Slot index ``k``.
    fallbacks : int
        Cell decisions where the oracle's satellite was not a listed candidate.
    """

    obs: np.ndarray
    mask: np.ndarray
    label: np.ndarray
    reward: np.ndarray
    seed: np.ndarray
    slot: np.ndarray
    fallbacks: int = 0

    def __len__(self) -> int:
        return int(self.obs.shape[0])

    def returns(self, gamma: float, scale: float = 1.0) -> np.ndarray:
        """Discounted reward-to-go of every row within its episode, rewards times ``scale``."""
        out = np.zeros(len(self), dtype=np.float64)
        r = self.reward.astype(np.float64) * scale
        nxt = 0.0
        for i in range(len(self) - 1, -1, -1):
            last = i == len(self) - 1 or self.seed[i + 1] != self.seed[i] or self.slot[i + 1] != self.slot[i] + 1
            nxt = r[i] + (0.0 if last else gamma * nxt)
            out[i] = nxt
        return out.astype(np.float32)


def _fingerprint(env_cfg: EnvConfig, lab: LabelConfig) -> dict[str, Any]:
    env = env_key(env_cfg)
    oracle: dict[str, Any] = {"method": lab.method, "proxy": lab.proxy, "options": dict(lab.options)}
    if lab.expert != "hindsight":  # added later: hindsight caches keep their folder
        oracle.update(expert=lab.expert, window=lab.window)
    return {
        "version": FORMAT_VERSION,
        "env": env,
        "oracle": oracle,
        "shard_size": int(lab.shard_size),
        "first_seed": int(lab.first_seed),
    }


def label_dir(env_cfg: EnvConfig, lab: LabelConfig) -> Path:
    """Cache folder of a configuration: ``<cache_dir>/<preset>-<hash>``."""
    key = json.dumps(_fingerprint(env_cfg, lab), sort_keys=True, default=str)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    root = Path(lab.cache_dir)
    if not root.is_absolute():
        root = ROOT / root
    return root / f"{Path(env_cfg.preset).stem}-{digest}"


def label_episode(
    env: Any, scenario_seed: int, oracle: Any, satellite_ids: bool = True, behaviour: Any = None
) -> dict[str, np.ndarray]:
    """Replay one scenario with the oracle and record what the agent would see.

    Parameters
    ----------
    env : gymnasium.Env
        A downlink environment (possibly wrapped).
    scenario_seed : int
        Scenario seed (also the reset seed, which fixes the forecast error draws).
    oracle : leo_env.envs.downlink.policies.Policy
        The labelling policy (B1, or the re-planning hindsight expert of DAgger).
    satellite_ids : bool
        Record the candidates' satellite indices with the observations.
    behaviour : leo_env.envs.downlink.policies.Policy, optional
        Policy whose actions are played (DAgger: the learner); default: the oracle's.
        Rewards are those of the played actions.

    Returns
    -------
    dict
        Arrays ``obs``, ``mask``, ``label``, ``reward``, ``slot`` (one row per slot) and the
        scalars ``fallbacks`` and ``solve_time_s``.
    """
    u = env.unwrapped
    layout = ObsLayout.from_space(u.observation_space, ids=satellite_ids)
    obs, _ = env.reset(seed=int(scenario_seed), options={"scenario_seed": int(scenario_seed)})
    oracle.reset(env)
    if behaviour is not None:
        behaviour.reset(env)
    rows: dict[str, list[Any]] = {"obs": [], "mask": [], "label": [], "reward": [], "slot": []}
    done = False
    while not done:
        action = np.asarray(oracle.act(obs, env), dtype=np.int64)
        played = action if behaviour is None else np.asarray(behaviour.act(obs, env), dtype=np.int64)
        rows["obs"].append(layout.observe(env, obs))
        rows["mask"].append(u.action_masks())
        rows["label"].append(action)
        rows["slot"].append(u.k)
        obs, reward, term, trunc, _ = env.step(played)
        rows["reward"].append(reward)
        done = term or trunc
    return {
        "obs": np.stack(rows["obs"]).astype(np.float32),
        "mask": np.stack(rows["mask"]).astype(bool),
        "label": np.stack(rows["label"]).astype(np.int64),
        "reward": np.asarray(rows["reward"], dtype=np.float32),
        "slot": np.asarray(rows["slot"], dtype=np.int64),
        "fallbacks": np.array(oracle.stats.get("fallbacks", 0), dtype=np.int64),
        "solve_time_s": np.array(oracle.stats.get("solve_time_s", 0.0), dtype=np.float64),
    }


def shard_path(directory: Path, i: int) -> Path:
    """File of shard ``i`` in a cache folder."""
    return directory / f"shard_{i:05d}.npz"


def write_shard(path: Path, episodes: list[tuple[int, dict[str, np.ndarray]]]) -> None:
    """Write ``(seed, label_episode(...))`` pairs as one shard file, atomically."""
    arrays = {
        "obs": np.concatenate([e["obs"] for _, e in episodes]),
        "mask": np.concatenate([e["mask"] for _, e in episodes]),
        "label": np.concatenate([e["label"] for _, e in episodes]),
        "reward": np.concatenate([e["reward"] for _, e in episodes]),
        "slot": np.concatenate([e["slot"] for _, e in episodes]),
        "seed": np.concatenate([np.full(len(e["slot"]), s, dtype=np.int64) for s, e in episodes]),
        "fallbacks": np.array([int(e["fallbacks"]) for _, e in episodes], dtype=np.int64),
        "solve_time_s": np.array([float(e["solve_time_s"]) for _, e in episodes]),
        "seeds": np.array([s for s, _ in episodes], dtype=np.int64),
    }

    def _w(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **cast(dict[str, Any], arrays))

    atomic_write(path, _w)


def make_expert(lab: dict[str, Any], replan: bool = False) -> Any:
    """The labelling policy of a :class:`LabelConfig` (as a dict).

    ``replan``: the DAgger expert, which must answer from any state: the hindsight oracle
    becomes P2 on the realised arrivals re-solved from the current state every slot.
    """
    from leo_env.envs.downlink.policies import HindsightPolicy, MPCPolicy

    kw = {"method": lab["method"], "proxy": lab["proxy"], **dict(lab["options"])}
    if lab.get("expert", "hindsight") == "mpc":
        return MPCPolicy(window=lab.get("window"), arrivals="forecast", **kw)
    if replan:
        return MPCPolicy(arrivals="realised", **kw)
    return HindsightPolicy(**kw)


def _label_shard(env_cfg: dict[str, Any], lab: dict[str, Any], directory: str, shard: int, seeds: list[int]) -> dict[str, Any]:
    """Worker task: label ``seeds`` and write shard ``shard``; returns a small summary."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.perf_counter()
    cfg = EnvConfig(**env_cfg)
    env = make_env(cfg)
    oracle = make_expert(lab)
    episodes = [(s, label_episode(env, s, oracle, cfg.satellite_ids)) for s in seeds]
    write_shard(shard_path(Path(directory), shard), episodes)
    return {"shard": shard, "seeds": len(seeds), "time_s": time.perf_counter() - t0}


def generate_labels(
    env_cfg: EnvConfig,
    lab: LabelConfig,
    *,
    progress: bool = True,
    max_shards: int | None = None,
) -> Path:
    """Label ``lab.n_seeds`` training scenarios (resuming from the shards already on disk).

    Parameters
    ----------
    env_cfg : EnvConfig
        Environment the agent trains on (observations are recorded from it).
    lab : LabelConfig
        Seeds, oracle, workers, shard size and cache folder.
    progress : bool
        Show a progress bar over shards.
    max_shards : int, optional
        Stop after this many new shards (tests simulate an interruption with it).

    Returns
    -------
    Path
        The cache folder (read it with :func:`load_labels`).
    """
    directory = label_dir(env_cfg, lab)
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write_json(directory / "manifest.json", _fingerprint(env_cfg, lab))
    seeds = list(range(lab.first_seed, lab.first_seed + lab.n_seeds))
    size = max(1, int(lab.shard_size))
    # shard i always covers the same seeds (first_seed + i*size ...), whatever n_seeds is
    shards = {
        i: [s for s in seeds if (s - lab.first_seed) // size == i]
        for i in sorted({(s - lab.first_seed) // size for s in seeds})
    }
    todo = [i for i in shards if shard_seeds_of(directory, i) != shards[i]]
    if max_shards is not None:
        todo = todo[: max(0, int(max_shards))]
    if not todo:
        return directory
    env_d, lab_d = asdict(env_cfg), asdict(lab)
    tasks = [(env_d, lab_d, str(directory), i, shards[i]) for i in todo]
    run_shards(_label_shard, tasks, lab.workers, f"oracle labels ({directory.name})", progress,
               backend=lab.backend, address=lab.address)
    return directory


def run_shards(
    fn: Any, tasks: list[tuple[Any, ...]], workers: int, desc: str, progress: bool = True,
    backend: str = "process", address: str | None = None,
) -> None:
    """Run ``fn(*task)`` for every task on ``backend`` (:func:`leo_env.parallel.pmap`).

    Each task writes its own shard atomically, so the results are on disk; a task that fails
    is retried once.  Workers are spawned (the parent may already run torch's OpenMP pool),
    pin their threads, and exit when the parent dies.
    """
    pmap(fn, tasks, backend=backend, workers=workers, address=address, retries=1, desc=desc, progress=progress)


SHARD_ERRORS = (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile)
"""What a truncated, empty or foreign ``.npz`` shard raises when read."""


def shard_seeds_of(directory: Path, i: int) -> list[int]:
    """Seeds of shard ``i``; a corrupt shard is named, removed and reported as empty (regenerated)."""
    path = shard_path(directory, i)
    try:
        with np.load(path) as z:
            return [int(s) for s in z["seeds"]]
    except FileNotFoundError:
        return []
    except SHARD_ERRORS as exc:
        warnings.warn(f"label shard {path} is unreadable ({type(exc).__name__}: {exc}); regenerating it",
                      RuntimeWarning, stacklevel=2)
        path.unlink(missing_ok=True)
        return []


def load_labels(directory: str | os.PathLike[str], seeds: list[int] | None = None) -> LabelSet:
    """Read the shards of a cache folder (in shard order); keep only ``seeds`` if given.

    Raises
    ------
    FileNotFoundError
        No shard in ``directory``.
    ValueError
        A seed appears in two shards (never happens with :func:`generate_labels`).
    """
    directory = Path(directory)
    files = sorted(directory.glob("shard_*.npz"))
    if not files:
        raise FileNotFoundError(f"no label shards in {directory}")
    keep = None if seeds is None else set(int(s) for s in seeds)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "mask", "label", "reward", "seed", "slot")}
    seen: set[int] = set()
    fallbacks = 0
    for f in files:
        try:
            z = np.load(f)
            shard_seeds = [int(s) for s in z["seeds"]]
        except SHARD_ERRORS as exc:
            raise ValueError(
                f"label shard {f} is unreadable ({type(exc).__name__}: {exc}); delete it and rerun "
                "(generate_labels regenerates missing shards)"
            ) from exc
        with z:
            dup = seen.intersection(shard_seeds)
            if dup:
                raise ValueError(f"seeds {sorted(dup)} labelled twice ({f.name})")
            seen.update(shard_seeds)
            sel = np.ones(len(z["seed"]), dtype=bool) if keep is None else np.isin(z["seed"], list(keep))
            for k in parts:
                parts[k].append(z[k][sel])
            fb = z["fallbacks"]
            fallbacks += int(fb[[keep is None or s in keep for s in shard_seeds]].sum())
    return LabelSet(**{k: np.concatenate(v) for k, v in parts.items()}, fallbacks=fallbacks)


def labels_for(env_cfg: EnvConfig, lab: LabelConfig, progress: bool = True) -> LabelSet:
    """Generate (or reuse) and load the labels of a configuration."""
    directory = generate_labels(env_cfg, lab, progress=progress)
    seeds = list(range(lab.first_seed, lab.first_seed + lab.n_seeds))
    return load_labels(directory, seeds)


def main(argv: list[str] | None = None) -> int:
    """``python -m agents.labels --config EXP.yaml [--set key=value ...]``."""
    ap = argparse.ArgumentParser(description="Generate oracle (B1) labels for behaviour cloning.")
    ap.add_argument("--config", required=True)
    add_set_argument(ap, "agent.labels.n_seeds=64")
    args = ap.parse_args(argv)
    cfg = load_experiment(args.config, args.set)
    t0 = time.perf_counter()
    ls = labels_for(cfg.env, cfg.agent.labels)
    print(f"{len(ls)} labelled slots from {len(np.unique(ls.seed))} scenarios in "
          f"{time.perf_counter() - t0:.1f} s ({ls.fallbacks} fallbacks) -> {label_dir(cfg.env, cfg.agent.labels)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
