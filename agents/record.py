"""Record one episode of any downlink policy as an animated GIF (the environment's map renderer).

One line, for a trained agent (its run folder) or a built-in baseline::

    python -m agents.record runs/<run> --out results/episode.gif
    python -m agents.record b2 --config configs/experiments/demo.yaml --out results/b2.gif
    python -m agents.record runs/<run> --search --seed 3 --fps 2 --out results/b5ls.gif

The episode is held-out scenario ``--seed`` of the evaluation split (the same scenario and
forecast errors as row ``--seed`` of ``evaluate.py``), played with the policy exactly as
``evaluate.py`` plays it.  Every frame is ``env.render()`` in ``rgb_array`` mode
(:func:`leo_env.envs.downlink.render.rgb_array`: the satellites with the serving links on a fixed
extent that keeps every visible satellite inside the frame, and the cells coloured by their
served share).  The GIF is written atomically with Pillow (installed with matplotlib); a
``.png`` output writes the frames side by side as a strip instead.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["record_episode", "main"]


def _spec_and_env(policy: str, config: str | None, search: bool, which: str, trust: bool) -> tuple[Any, Any]:
    """The policy spec and the evaluation environment config of ``policy``."""
    from agents import evaluation as ev

    if ev.is_factory(policy):
        if config is None:
            raise ValueError("--config is required for a pkg.module:factory policy")
        return ev.factory_spec(policy), load_config_env(config)
    if policy.lower() in {"b0", "b1", "b2", "random"}:
        from agents.config import load_experiment

        cfg = load_experiment(config)
        return ev.baseline_spec(policy, cfg.evaluate.b1, cfg.evaluate.b2), cfg.env
    path = Path(policy)
    if not path.exists():
        raise FileNotFoundError(f"policy {policy!r} is neither b0/b1/b2/random, pkg.module:factory nor a run folder")
    from agents.runs import model_file, run_config

    run_cfg = run_config(model_file(path, which))
    env_cfg = load_config_env(config) if config is not None else run_cfg.env
    delta_passes = (run_cfg.evaluate.search_delta, run_cfg.evaluate.search_passes) if search else None
    return ev.agent_spec(path, which=which, search=delta_passes, trust=trust), env_cfg


def load_config_env(config: str) -> Any:
    """The ``env`` section of an experiment config (the evaluation environment)."""
    from agents.config import load_experiment

    return load_experiment(config).env


def record_episode(
    policy: str,
    out: str | os.PathLike[str],
    *,
    config: str | None = None,
    seed: int = 0,
    fps: float = 4.0,
    search: bool = False,
    which: str = "best",
    trust: bool = False,
    prediction_error: float | None = None,
) -> dict[str, Any]:
    """Play held-out scenario ``seed`` with ``policy`` and write its frames to ``out``.

    Parameters
    ----------
    policy : str
        ``b0`` | ``b1`` | ``b2`` | ``random``, a run folder (or model zip) of a trained agent, or
        ``pkg.module:factory`` (a :class:`leo_env.policies.Policy` factory).
    out : path
        ``.gif`` (animated, looping) or ``.png`` (the frames side by side).
    config : str, optional
        Experiment config (required for baselines and factories; a run folder uses its own).
    seed : int
        Index of the held-out scenario (``>= 0``).
    fps : float
        Frames per second of the GIF (``> 0``).
    search : bool
        Decision-time local search on a trained agent (B5+LS), with the run's ``delta/passes``.
    which : {"best", "final", "latest"}
        Which model of a run folder.
    trust : bool
        Load a model whose SHA-256 no run recorded (tensors only).
    prediction_error : float, optional
        Forecast error level (default: the config's).

    Returns
    -------
    dict
        ``{"out", "frames", "utility", "handovers", "policy"}``.
    """
    from PIL import Image

    from agents.envs import make_env
    from leo_env.envs.downlink.tables import EVAL_SEED_RANGE
    from leo_env.io import atomic_write

    if int(seed) < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a finite number > 0, got {fps}")
    suffix = Path(out).suffix.lower()
    if suffix not in {".gif", ".png"}:
        raise ValueError(f"out must end in .gif or .png, got {str(out)!r}")
    spec, env_cfg = _spec_and_env(policy, config, search, which, trust)
    env_cfg = replace(env_cfg, **spec.env)
    if prediction_error is not None:
        env_cfg = replace(env_cfg, prediction_error=float(prediction_error))
    env = make_env(env_cfg, seed_split="eval", render_mode="rgb_array")
    pol = spec.make()
    obs, _ = env.reset(seed=int(seed), options={"scenario_seed": EVAL_SEED_RANGE[0] + int(seed)})
    pol.reset(env)
    frames = [np.asarray(env.render(), dtype=np.uint8)]
    utility, handovers, done = 0.0, 0, False
    while not done:
        obs, r, term, trunc, info = env.step(pol.act(obs, env))
        utility += float(r)
        handovers += int(np.sum(info["handovers"]))
        frames.append(np.asarray(env.render(), dtype=np.uint8))
        done = bool(term or trunc)
    images = [Image.fromarray(f) for f in frames]

    def write(tmp: str) -> None:
        if suffix == ".gif":
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                           duration=int(round(1000.0 / fps)), loop=0)
        else:
            strip = Image.new("RGB", (sum(i.width for i in images), max(i.height for i in images)), "white")
            x = 0
            for i in images:
                strip.paste(i, (x, 0))
                x += i.width
            strip.save(tmp, format="PNG")

    path = atomic_write(out, write)
    return {"out": str(path), "frames": len(frames), "utility": utility, "handovers": handovers,
            "policy": spec.label}


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m agents.record", description=__doc__.split("\n\n")[0])
    ap.add_argument("policy", help="b0 | b1 | b2 | random | run folder | pkg.module:factory")
    ap.add_argument("--out", required=True, help="output .gif (or .png strip)")
    ap.add_argument("--config", help="experiment YAML (baselines, factories; default for a run: its own)")
    ap.add_argument("--seed", type=int, default=0, help="held-out scenario index (default 0)")
    ap.add_argument("--fps", type=float, default=4.0)
    ap.add_argument("--search", action="store_true", help="decision-time local search (B5+LS)")
    ap.add_argument("--which", default="best", choices=["best", "final", "latest"])
    ap.add_argument("--prediction-error", type=float, default=None)
    ap.add_argument("--trust", action="store_true", help="load a model file no run recorded (tensors only)")
    args = ap.parse_args(argv)
    res = record_episode(args.policy, args.out, config=args.config, seed=args.seed, fps=args.fps,
                         search=args.search, which=args.which, trust=args.trust,
                         prediction_error=args.prediction_error)
    print(f"{res['policy']}: {res['frames']} frames, return {res['utility']:.2f}, "
          f"{res['handovers']} handovers -> {res['out']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
