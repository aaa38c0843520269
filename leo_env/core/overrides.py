"""One override syntax for every command line of the suite: ``--set key=value ...``.

Configs are plain YAML loaded into typed dataclasses with OmegaConf (structured configs);
command lines override any field with dotted ``key=value`` pairs (OmegaConf's dotlist syntax:
``--set agent.ppo.learning_rate=1e-4 env.preset=medium 'evaluate.prediction_errors=[0.1,0.2]'``).
Every CLI adds the option with :func:`add_set_argument` and merges with :func:`merge_overrides`,
which turns OmegaConf's multi-line errors into one :class:`OverrideError` line naming the bad
key and the closest valid one.  Interpolation resolvers that read the environment
(``${oc.env:...}``) are refused, so no environment variable can leak into a saved config.

>>> from omegaconf import OmegaConf
>>> schema = OmegaConf.create({"train": {"steps": 10}})
>>> OmegaConf.set_struct(schema, True)  # a dataclass type works the same way
>>> merge_overrides(schema, [], ["train.steps=20"])["train"]["steps"]
20
>>> merge_overrides(schema, [], ["train.step=20"])  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
...
leo_env.core.overrides.OverrideError: unknown key 'train.step' (did you mean 'train.steps'?) (--set)
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Sequence
from typing import Any, TypeVar

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

__all__ = [
    "OverrideError", "add_set_argument", "merge_overrides", "valid_keys", "check_no_env_resolvers", "refuse_resolvers",
]

T = TypeVar("T")



class OverrideError(ValueError):
    """A config file or ``--set`` override names an unknown key or a value of the wrong type."""


def add_set_argument(parser: argparse.ArgumentParser, help_example: str = "train.total_timesteps=5000") -> None:
    """Add the suite's ``--set KEY=VALUE ...`` option to ``parser`` (dest ``set``)."""
    parser.add_argument(
        "--set", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
        help=f"dotted overrides (OmegaConf dotlist), e.g. --set {help_example}",
    )


def valid_keys(cfg: Any, prefix: str = "") -> list[str]:
    """Every dotted key of a config (leaves and sections)."""
    out: list[str] = []
    if isinstance(cfg, DictConfig):
        for k in cfg.keys():
            key = prefix + str(k)
            out.append(key)
            child = cfg.get(k)
            if isinstance(child, DictConfig):
                out.extend(valid_keys(child, key + "."))
    return out


_RESOLVER_CALL = re.compile(r"\$\{\s*([A-Za-z_][\w.]*)\s*:")
"""``${name:...}``: a resolver call (``oc.env``, ``oc.decode``, ...), not a plain ``${a.b}`` reference."""


def refuse_resolvers(node: Any, path: str = "", error: type[ValueError] = OverrideError) -> None:
    """Refuse interpolation resolvers anywhere in a config tree (dicts, lists, strings).

    Resolvers such as ``oc.env`` read the process environment; the resolved value would then be
    stored in every saved configuration.  Plain references to other keys (``${time.K}``) stay
    allowed.  The error (``error``) names the field.
    """
    if isinstance(node, dict):
        for k, v in node.items():
            refuse_resolvers(v, f"{path}.{k}" if path else str(k), error)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            refuse_resolvers(v, f"{path}[{i}]", error)
    elif isinstance(node, str):
        m = _RESOLVER_CALL.search(node)
        if m:
            raise error(
                f"{path or 'config'} uses the interpolation resolver {m.group(1)!r}; resolvers "
                "(e.g. oc.env, which reads environment variables) are disabled: write the value itself"
            )


def check_no_env_resolvers(text: str, where: str) -> None:
    """Refuse resolver interpolations in raw text (a YAML file or an override), naming ``where``."""
    m = _RESOLVER_CALL.search(text)
    if m:
        raise OverrideError(
            f"{where}: the interpolation '${{{m.group(1)}:...}}' calls a resolver (e.g. oc.env reads "
            "the environment); write the value itself (configs are saved with every run)"
        )


def _key_of(exc: OmegaConfBaseException) -> str | None:
    key = getattr(exc, "full_key", None)
    if key:
        return str(key)
    m = re.search(r"[Kk]ey '([^']+)'", str(exc))
    return m.group(1) if m else None


def _explain(
    exc: OmegaConfBaseException, base: DictConfig, where: str, overrides: Sequence[str]
) -> OverrideError:
    key = _key_of(exc)
    if key is not None and any(o.split("=", 1)[0].strip() == key for o in overrides):
        where = "--set"
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    suffix = f" ({where})" if where else ""
    if isinstance(exc, ConfigKeyError) and key is not None:
        keys = valid_keys(base)
        close = difflib.get_close_matches(key, keys, n=1, cutoff=0.5)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return OverrideError(f"unknown key '{key}'{hint}{suffix}")
    first = re.sub(r"\s*Did you mean.*$", "", first)
    return OverrideError(f"{key + ': ' if key else ''}{first}{suffix}")


def merge_overrides(
    schema: type[T] | Any,
    layers: Sequence[Any],
    overrides: Sequence[str],
    *,
    where: str = "",
) -> T:
    """Merge YAML layers and ``key=value`` overrides onto a structured config; return the object.

    Parameters
    ----------
    schema : dataclass type or structured DictConfig
        The typed schema (unknown keys and wrong types are errors).
    layers : sequence
        DictConfigs or dicts merged in order (e.g. an agent preset, then the experiment file).
    overrides : sequence of str
        Dotted ``key=value`` assignments applied last.
    where : str
        Name of the source for error messages (a file name).

    Raises
    ------
    OverrideError
        One line naming the bad key (and the closest valid one) or the bad value.
    """
    base = schema if isinstance(schema, DictConfig) else OmegaConf.structured(schema)
    for item in overrides:
        if "=" not in item:
            raise OverrideError(f"override {item!r} is not of the form key=value")
        check_no_env_resolvers(item, "override")
    for layer in layers:
        tree = OmegaConf.to_container(layer, resolve=False) if isinstance(layer, DictConfig | ListConfig) else layer
        refuse_resolvers(tree, where)
    try:
        cli = OmegaConf.from_dotlist(list(overrides))
        merged = OmegaConf.merge(base, *layers, cli)
        return OmegaConf.to_object(merged)  # type: ignore[return-value]
    except OmegaConfBaseException as exc:
        raise _explain(exc, base, where, overrides) from None
