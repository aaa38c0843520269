"""The assignment family (GSL) in the shared pipeline: ``train.py`` / ``evaluate.py`` route here.

``python train.py --config configs/experiments/gsl_gsl.yaml`` trains that model (resumable: a
second call continues from the run's last checkpoint); ``python evaluate.py --config
configs/experiments/gsl_gsl.yaml --policies configs/experiments/gsl_mlp3.yaml,...`` writes the
top-1..top-5 tables of every listed model next to the two reference rules (HE without
priorities, and the true rule, which must score 100 %).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.families import Family

__all__ = ["FAMILY"]


def _load(path: Any, overrides: Any) -> Any:
    from agents.assignment.config import load_config

    return load_config(path, [o for o in overrides if o.split("=", 1)[0].strip() != "family"])


def _train(cfg: Any, resume: Any = None, progress: bool | None = None, trust: bool = False) -> Path:
    from agents.assignment.training import train

    train(cfg, progress=progress is not False)
    return Path(cfg.run_path)


def _evaluate(cfg: Any, policies: list[str], progress: bool = True, trust: bool = False) -> dict[str, Any]:
    from agents.assignment.config import load_config
    from agents.assignment.training import evaluate

    cfgs = [cfg, *(load_config(p) for p in policies if p.endswith((".yaml", ".yml")))]
    out = Path(cfg.results_dir) / cfg.dataset
    rows = evaluate(cfgs, out_dir=out, progress=progress)
    md = (out / "results.md").read_text() if (out / "results.md").exists() else ""
    return {"rows": rows, "markdown": md, "out": str(out.resolve())}


FAMILY = Family(
    name="assignment",
    load_config=_load,
    train=_train,
    evaluate=_evaluate,
    policies=("HE without priorities", "HE with true priorities"),
    env_ids=("leo_env/PrimaryAssignment-v0",),
    description="GSL: learn a primary system's hidden cluster -> satellite assignment (supervised)",
)
