r"""linkgroup family: how closely a learner copies the rollout teacher (imitation diagnostics).

For every run folder given (a learner trained with ``train.bc_teacher: rollout``, or any
learner), two measurements:

* **labels**: on the run's own BC samples (``memory.npz``: the states the warm start visited and
  the teacher's group there), the actor's greedy reading of ``mu`` per transmitter (the
  receiver with the largest ``mu`` if it is >= 0.5, else idle; the same rule as the
  categorical BC loss, whose idle logit is 0) against the teacher's link: share of
  (slot, transmitter) pairs that agree, and share of slots where all transmitters agree;
* **on-policy**: ``--windows`` held-out windows of fresh training-like tasks
  (``sample_tasks``), played by the learner (greedy Wolpertinger choice, no learning); at every
  visited state the teacher (``RolloutPolicy``, ``--samples`` paths) labels the same state:
  per-transmitter and exact agreement of the played group, and the final ``F`` of the
  learner's windows next to the teacher's own F on the same windows (same reset seeds).

::

    python -m benchmarks.linkgroup_student --runs runs/linkgroup/emcl_rollout_cat_k20,runs/linkgroup/emcl_rollout_rates_k20 \
        --windows 20 --out results/linkgroup/student_k20.json

Prints a table and writes JSON atomically.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["greedy_links", "main", "measure_run"]


def greedy_links(mu: np.ndarray) -> np.ndarray:
    """Assignment vectors (B, J) read from proto-actions ``mu`` (B, J, K): argmax if >= 0.5, else idle (-1)."""
    mu = np.asarray(mu)
    best = mu.argmax(axis=2)
    return np.where(mu.max(axis=2) >= 0.5, best, -1)


def _agree(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    eq = np.asarray(a) == np.asarray(b)
    return float(eq.mean()), float(eq.all(axis=1).mean())


def measure_run(run: str | Path, windows: int, samples: int, seed: int = 0, trust: bool = False) -> dict[str, Any]:
    """Both measurements of the module docstring for one run folder."""
    import torch

    from agents.linkgroup.config import load_config
    from agents.linkgroup.training import load_learner, make_env, window_seed
    from leo_env.envs.linkgroup.policies import RolloutPolicy
    from leo_env.scenario import linkgroup as lg

    torch.set_num_threads(1)
    run = Path(run)
    cfg = load_config(run / "config.yaml")
    learner = load_learner(cfg, trust)
    J, K = learner.J, learner.K  # noqa: N806
    out: dict[str, Any] = {"run": str(run), "name": cfg.name, "observation": cfg.env.observation,
                           "preset": cfg.env.preset}
    mem = run / "memory.npz"
    if mem.exists():
        with np.load(mem, allow_pickle=False) as z:
            if "bc_x" in z.files:
                x, y = z["bc_x"], z["bc_y"].reshape(-1, J, K)
                with torch.no_grad():
                    mu = learner.actor(torch.as_tensor(x))[0].numpy()
                teach = np.where(y.max(axis=2) > 0.5, y.argmax(axis=2), -1)
                per, exact = _agree(greedy_links(mu), teach)
                out["labels"] = {"n": int(len(x)), "per_transmitter": per, "exact": exact,
                                 "per_transmitter_by_tx": ((greedy_links(mu) == teach).mean(axis=0)).tolist()}
    env = make_env(cfg)
    teacher = RolloutPolicy(n_samples=samples, seed=window_seed(seed, 901))
    tasks = lg.sample_tasks(env.cfg, np.random.default_rng(window_seed(seed, 902)), windows)
    played, labels, f_student, f_teacher = [], [], [], []
    t_student: list[float] = []
    for w in range(windows):
        sd = window_seed(seed, 903, w)
        env.set_task(tasks[w])
        obs, _ = env.reset(seed=sd)
        teacher.reset(env)
        learner.recent.clear()
        learner.drop_pending()
        while True:
            labels.append(teacher.group(env))
            t0 = time.perf_counter()
            a = learner.act(obs, env, False)
            t_student.append(time.perf_counter() - t0)
            played.append(a)
            obs2, r, term, _, info = env.step(env.encode(a))
            learner.observe(obs, a, r, obs2, term)
            obs = obs2
            if term:
                f_student.append(float(info["objective"]))
                break
        env.set_task(tasks[w])
        obs, _ = env.reset(seed=sd)
        teacher.reset(env)
        while True:
            obs, _, term, _, info = env.step(teacher.act(obs, env))
            if term:
                f_teacher.append(float(info["objective"]))
                break
    per, exact = _agree(np.asarray(played), np.asarray(labels))
    out["on_policy"] = {"windows": windows, "slots": len(played), "per_transmitter": per, "exact": exact,
                        "mean_F": float(np.mean(f_student)), "teacher_mean_F": float(np.mean(f_teacher)),
                        "decision_ms": 1e3 * float(np.mean(t_student))}
    return out


def main(argv: list[str] | None = None) -> None:
    """Command-line entry (module docstring)."""
    from leo_env.io import atomic_write_json

    ap = argparse.ArgumentParser(prog="python -m benchmarks.linkgroup_student", description=__doc__.split("\n")[0])
    ap.add_argument("--runs", required=True, help="comma-separated run folders")
    ap.add_argument("--windows", type=int, default=20)
    ap.add_argument("--samples", type=int, default=16, help="sampled paths of the rollout teacher")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--trust", action="store_true")
    args = ap.parse_args(argv)
    if args.windows < 1 or args.samples < 1:
        raise SystemExit("--windows and --samples must be >= 1")
    rows = [measure_run(r, args.windows, args.samples, args.seed, args.trust) for r in args.runs.split(",") if r]
    print("| run | observation | labels: per-tx / exact | on-policy: per-tx / exact | mean F (teacher) | ms/slot |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        lab = r.get("labels")
        ls = "-" if lab is None else f"{100 * lab['per_transmitter']:.1f} / {100 * lab['exact']:.1f} % (n={lab['n']})"
        op = r["on_policy"]
        print(f"| {r['name']} | {r['observation']} | {ls} | {100 * op['per_transmitter']:.1f} / "
              f"{100 * op['exact']:.1f} % | {op['mean_F']:.2f} ({op['teacher_mean_F']:.2f}) | {op['decision_ms']:.2f} |")
    atomic_write_json(Path(args.out), {"windows": args.windows, "samples": args.samples, "seed": args.seed,
                                       "runs": rows})


if __name__ == "__main__":
    main()
