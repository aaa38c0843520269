"""Family registry of the training/evaluation pipeline.

``train.py`` and ``evaluate.py`` know no family by name: an experiment YAML names its family
(``family: downlink``; downlink when absent) and :func:`get_family` loads that family's
:class:`Family` from a *string* entry point, so nothing of a family is imported before it is
used.  A family registers:

- ``load_config(path, overrides)``: its typed experiment config (one override syntax,
  :mod:`leo_env.core.overrides`);
- ``train(cfg, resume=None, progress=None) -> run folder``;
- ``evaluate(cfg, policies, progress=True) -> summary`` (paired seeds, statistics, tables,
  plots);
- ``policies``: the names of its built-in baselines and oracles (:class:`leo_env.policies.Policy`).

New families add a line to :data:`FAMILIES` (or call :func:`register_family`); see
``docs/architecture.md`` ("How to add a family").
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

__all__ = ["Family", "FAMILIES", "register_family", "get_family", "family_of", "load_family_config", "DEFAULT_FAMILY"]

DEFAULT_FAMILY = "downlink"

FAMILIES: dict[str, str] = {
    "downlink": "agents.downlink:FAMILY",
    "assignment": "agents.assignment.family:FAMILY",
    "lisl": "agents.lisl.family:FAMILY",
    "multiorbit": "agents.multiorbit.family:FAMILY",
    "linkgroup": "agents.linkgroup.family:FAMILY",
}
"""Family name -> ``"module:attribute"`` of its :class:`Family`."""


@dataclass(frozen=True)
class Family:
    """What a family plugs into the pipeline (see the module docstring)."""

    name: str
    load_config: Callable[[str | os.PathLike[str] | None, Sequence[str]], Any]
    train: Callable[..., Path]
    evaluate: Callable[..., dict[str, Any]]
    policies: tuple[str, ...] = ()
    env_ids: tuple[str, ...] = ()
    description: str = ""
    extras: dict[str, Any] = field(default_factory=dict)


def register_family(name: str, entry: str) -> None:
    """Register (or replace) a family's ``"module:attribute"`` entry point."""
    if ":" not in entry:
        raise ValueError(f"entry must be 'module:attribute', got {entry!r}")
    FAMILIES[name] = entry


def get_family(name: str) -> Family:
    """The registered :class:`Family` called ``name``."""
    if name not in FAMILIES:
        import difflib

        close = difflib.get_close_matches(name, list(FAMILIES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown family {name!r}{hint}; registered: {', '.join(sorted(FAMILIES))}")
    module, attr = FAMILIES[name].split(":")
    fam = getattr(importlib.import_module(module), attr)
    if not isinstance(fam, Family):
        raise TypeError(f"{FAMILIES[name]} is not a Family")
    return fam


def family_of(path: str | os.PathLike[str] | None, overrides: Sequence[str] = ()) -> str:
    """The family an experiment belongs to: ``family=`` override, else the file's ``family:``."""
    for item in overrides:
        key, _, value = item.partition("=")
        if key.strip() == "family":
            return value.strip()
    if path is None:
        return DEFAULT_FAMILY
    from agents.config import resolve_path

    p = resolve_path(path)
    if not p.exists():
        raise FileNotFoundError(f"experiment config {path} not found")
    data = OmegaConf.load(p)
    name = OmegaConf.select(data, "family", default=None) if hasattr(data, "keys") else None
    return str(name) if name else DEFAULT_FAMILY


def load_family_config(
    schema: type, path: str | os.PathLike[str] | None, overrides: Sequence[str] | None = ()
) -> Any:
    """Defaults of ``schema`` <- experiment YAML <- ``key=value`` overrides, one syntax for every family.

    The YAML's ``family:`` tag and any ``family=`` override are dropped (they only route to the
    family); unknown keys and bad values raise :class:`leo_env.core.overrides.OverrideError`
    naming the key (:func:`leo_env.core.overrides.merge_overrides`).  The family validates the
    returned object further itself.
    """
    from leo_env.core.overrides import merge_overrides

    layers: list[Any] = []
    where = ""
    if path is not None:
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"experiment config {path} not found")
        data = OmegaConf.to_container(OmegaConf.load(p), resolve=False)
        if not isinstance(data, dict):
            raise ValueError(f"{path}: an experiment config must be a mapping")
        data.pop("family", None)
        layers.append(data)
        where = str(p)
    ovs = [o for o in (overrides or ()) if o.split("=", 1)[0].strip() != "family"]
    return merge_overrides(schema, layers, ovs, where=where)
