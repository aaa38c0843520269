"""The family-agnostic training and evaluation pipeline behind ``train.py`` and ``evaluate.py``.

``apex-train`` / ``python train.py`` and ``apex-evaluate`` / ``python evaluate.py`` parse the
same few options for every family, find the experiment's family (:func:`agents.families.family_of`)
and hand the typed config to that family's ``train`` / ``evaluate``.  Overrides use the one
syntax of the suite (``--set key=value ...``, :mod:`leo_env.core.overrides`); a bad key or value
prints one line naming it (and the closest valid key) and exits with status 2.

``--backend serial|process|ray``, ``--workers N`` and ``--address ADDR`` (a Ray cluster) set
the parallel map (:func:`leo_env.parallel.pmap`) of every section of the family's config that
has a ``backend`` key (the downlink family: ``agent.labels`` for oracle labels and DAgger,
``evaluate`` for the evaluation episodes), as if given with ``--set``; explicit ``--set`` values
of those keys win.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.families import Family, family_of, get_family
from agents.trust import UntrustedModelError
from leo_env.core.overrides import OverrideError, add_set_argument

__all__ = ["load", "train", "evaluate", "main_train", "main_evaluate", "parallel_sections", "parallel_overrides"]

BACKENDS = ("serial", "process", "ray")


def parallel_sections(cfg: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the config sections that carry a parallel-map ``backend`` key."""
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        return []
    names = {f.name for f in dataclasses.fields(cfg)}
    out = [prefix.rstrip(".")] if "backend" in names and prefix else []
    for f in dataclasses.fields(cfg):
        out += parallel_sections(getattr(cfg, f.name), f"{prefix}{f.name}.")
    return out


def parallel_overrides(
    config: str | Path | None, overrides: Sequence[str], backend: str | None = None, workers: int | None = None,
    address: str | None = None,
) -> list[str]:
    """``--set`` items that apply ``--backend/--workers/--address`` to every parallel section.

    Keys the user already set explicitly are left alone.  Raises :class:`OverrideError` when a
    flag is given but the family's config has no section with a ``backend`` key.
    """
    flags = {"backend": backend, "workers": workers, "address": address}
    given = {k: v for k, v in flags.items() if v is not None}
    if not given:
        return []
    if backend is not None and backend not in BACKENDS:
        raise OverrideError(f"--backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if workers is not None and int(workers) < 1:
        raise OverrideError(f"--workers must be >= 1, got {workers}")
    return _parallel(config, overrides, given)[0]


def _parallel(config: str | Path | None, overrides: Sequence[str], given: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(``--set`` items, the config's parallel sections) for the flags in ``given``."""
    _, cfg = load(config, overrides)
    sections = parallel_sections(cfg)
    if not sections:
        raise OverrideError(
            "--backend/--workers/--address: this experiment's config has no section with a 'backend' key"
        )
    explicit = {o.split("=", 1)[0].strip() for o in overrides}
    extra = []
    for sec in sections:
        names = {f.name for f in dataclasses.fields(_select(cfg, sec))}
        for k, v in given.items():
            if k in names and f"{sec}.{k}" not in explicit:
                extra.append(f"{sec}.{k}={v}")
    return extra, sections


def _select(cfg: Any, path: str) -> Any:
    for part in path.split("."):
        cfg = getattr(cfg, part)
    return cfg


def load(config: str | Path | None, overrides: Sequence[str] = ()) -> tuple[Family, Any]:
    """The experiment's family and its typed config."""
    fam = get_family(family_of(config, overrides))
    return fam, fam.load_config(config, [o for o in overrides if o.split("=", 1)[0].strip() != "family"])


def train(config: str | Path | None, overrides: Sequence[str] = (), *, resume: str | Path | None = None,
          progress: bool | None = None, trust: bool = False) -> Path:
    """Train an experiment (or resume a run folder); returns the run folder.

    ``trust`` loads a checkpoint whose SHA-256 is not the one the run recorded (tensors only).
    """
    if resume is not None:
        config = Path(resume) / "config.yaml"
    fam, cfg = load(config, overrides)
    return fam.train(cfg, resume=resume, progress=progress, trust=trust)


def evaluate(config: str | Path | None, policies: Sequence[str] | None = None, overrides: Sequence[str] = (),
             *, train_first: bool = False, progress: bool = True, trust: bool = False) -> dict[str, Any]:
    """Evaluate policies (default: the config's ``evaluate.policies``) on paired held-out seeds.

    ``trust`` loads model files whose SHA-256 no run folder recorded (tensors only, never pickles).
    """
    fam, cfg = load(config, overrides)
    names = list(policies) if policies else list(getattr(getattr(cfg, "evaluate", None), "policies", []))
    if train_first:
        names.append(str(fam.train(cfg, progress=None if progress else False)))
    return fam.evaluate(cfg, names, progress=progress, trust=trust)


def _run(fn: Any) -> int:
    try:
        fn()
    except (OverrideError, FileNotFoundError, UntrustedModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _common_flags(ap: argparse.ArgumentParser, trust_help: str) -> None:
    ap.add_argument("--no-progress", action="store_true", help="hide progress bars")
    ap.add_argument("--trust", action="store_true", help=trust_help)
    g = ap.add_argument_group("parallel map (every config section with a 'backend' key; docs/scaling.md)")
    g.add_argument("--backend", choices=BACKENDS, help="serial, process (this machine) or ray (a cluster)")
    g.add_argument("--workers", type=int, metavar="N", help="worker processes / Ray CPUs")
    g.add_argument("--address", metavar="ADDR", help="Ray cluster to join (auto, ray://host:10001)")


def _with_parallel(
    config: str | Path | None, overrides: Sequence[str], args: argparse.Namespace, section: str | None = None
) -> list[str]:
    extra = parallel_overrides(config, overrides, args.backend, args.workers, args.address)
    if section and extra:
        sections = _parallel(config, overrides, {"backend": "serial"})[1]
        if section not in sections:
            print(f"note: this family's '{section}' section has no backend key; --backend/--workers/--address "
                  f"apply to {', '.join(sections)} only", file=sys.stderr)
    return [*overrides, *extra]


def _parse(ap: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace | None:
    """Parsed arguments, or None (after printing the help) when there are none."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        ap.print_help()
        return None
    return ap.parse_args(argv)


def main_train(argv: list[str] | None = None) -> int:
    """``apex-train`` / ``python train.py``."""
    ap = argparse.ArgumentParser(
        prog="train.py", description="Train a learning agent on an experiment of any family.",
        epilog="Example: python train.py --config configs/experiments/demo.yaml --set train.total_timesteps=4000",
    )
    ap.add_argument("--config", help="experiment YAML (configs/experiments/<name>.yaml)")
    add_set_argument(ap)
    ap.add_argument("--resume", metavar="RUN_DIR", help="continue a run folder from its latest checkpoint")
    _common_flags(ap, "resume from a checkpoint whose SHA-256 the run did not record (docs/architecture.md)")
    args = _parse(ap, argv)
    if args is None:
        return 2
    if not args.config and not args.resume:
        ap.error("give --config or --resume")
    progress = False if args.no_progress else None
    config = Path(args.resume) / "config.yaml" if args.resume else args.config

    def go() -> None:
        train(args.config, _with_parallel(config, args.set, args), resume=args.resume, progress=progress,
              trust=args.trust)

    return _run(go)


def main_evaluate(argv: list[str] | None = None) -> int:
    """``apex-evaluate`` / ``python evaluate.py``."""
    ap = argparse.ArgumentParser(
        prog="evaluate.py",
        description="Paired evaluation of policies (baselines, oracles, trained agents) on held-out seeds.",
        epilog="Example: python evaluate.py --config configs/experiments/demo.yaml --policies b0,b1,b2,runs/<run>",
    )
    ap.add_argument("--config", help="experiment YAML (its family, env and evaluate sections are used)")
    ap.add_argument("--policies", help="comma-separated: built-in baselines, run folders or model zips")
    ap.add_argument("--seeds", type=int, help="paired held-out seeds (evaluate.seeds)")
    ap.add_argument("--out", help="output folder (evaluate.out)")
    ap.add_argument("--prediction-error", help="downlink: comma-separated levels (evaluate.prediction_errors)")
    ap.add_argument("--decode", help="downlink: agent decodings argmax,search (evaluate.decode)")
    add_set_argument(ap, "evaluate.seeds=10")
    ap.add_argument("--train", action="store_true", help="train the config's agent first and evaluate it too")
    _common_flags(ap, "load model files whose SHA-256 no run folder recorded (tensors only)")
    args = _parse(ap, argv)
    if args is None:
        return 2
    extra = list(args.set)
    if args.seeds is not None:
        extra.append(f"evaluate.seeds={args.seeds}")
    if args.out:
        extra.append(f"evaluate.out={args.out}")
    if args.prediction_error:
        extra.append(f"evaluate.prediction_errors=[{args.prediction_error}]")
    if args.decode:
        extra.append(f"evaluate.decode=[{args.decode}]")
    policies = [p.strip() for p in args.policies.split(",") if p.strip()] if args.policies else None

    def go() -> None:
        out = evaluate(args.config, policies, _with_parallel(args.config, extra, args, "evaluate"), train_first=args.train,
                       progress=not args.no_progress, trust=args.trust)
        print()
        print(out["markdown"])
        if out.get("out"):
            print(f"results: {out['out']} (results.json, results.md, results.csv, *.png)")

    return _run(go)
