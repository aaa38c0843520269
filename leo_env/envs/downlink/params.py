"""The one parameter object of the downlink environments (scalar and vector).

:class:`DownlinkParams` holds every *data* argument of
:class:`~leo_env.envs.downlink.env.DownlinkEnv` and
:class:`~leo_env.envs.downlink.vector.DownlinkVectorEnv`: ``gym.make(id, **kwargs)``,
``gym.make_vec``, the experiment YAML (``agents`` builds it from the ``env`` section) and the
benchmarks all go through :meth:`DownlinkParams.build`, which validates once.  Objects that
are not data (a ready ``Scenario``, a ``ScenarioConfig`` object, a callable predictor or
allocator) are *hooks*: separate keyword arguments of the environments.

>>> p = DownlinkParams.build(preset="toy", prediction_error=0.2)
>>> p.preset, p.prediction_error, p.history
('toy', 0.2, 4)
>>> DownlinkParams.build(history=0)
Traceback (most recent call last):
...
ValueError: DownlinkParams.history = 0 is out of range: allowed [1, 64] (slots of demand history)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DownlinkParams", "PREDICTOR_NAMES", "ORACLE_PREDICTORS", "MASK_MODES", "ALLOCATOR_NAMES"]

PREDICTOR_NAMES = ("noisy-truth", "naive", "ewma")
"""Built-in demand predictors (a callable is also accepted, as a hook)."""

ORACLE_PREDICTORS = frozenset({"noisy-truth"})
"""Predictors that read the realised demand of the forecast slot (a *noisy oracle*): their
forecasts carry future information by design (APEX's controlled-error protocol); the causal
ones (``naive``, ``ewma``, a learned callable) use only the demand already revealed."""

MASK_MODES = ("full", "basic")
ALLOCATOR_NAMES = ("p1", "cvx", "equal")
RENDER_MODES = ("rgb_array", "ansi")
INVALID_ACTIONS = ("repair", "penalize", "raise")
SEED_SPLITS = ("train", "eval")


def _rng(lo: float, hi: float, what: str) -> dict[str, Any]:
    return {"range": (lo, hi), "what": what}


@dataclass(frozen=True)
class DownlinkParams:
    """Data parameters of the downlink environments, validated on construction.

    Attributes
    ----------
    preset : str or None
        Scenario preset name or YAML path (``toy``, ``medium``, ``stress``, ...; None:
        ``medium`` unless a ``config`` or ``scenario`` hook is given).
    overrides : tuple of str
        Dotted scenario overrides (``("demand.scale=1.5",)``).
    scenario_seed : int or None
        Every episode uses this scenario seed (fixed-scenario mode), in [0, 2**31).
    seed_split : {"train", "eval"}
        Range the per-episode scenario seeds are drawn from (disjoint ranges).
    n_scenarios : int or None
        Draw only from the first ``n_scenarios`` seeds of the split, in [1, 2**30].
    n_candidates : int or None
        Candidate list length per cell, in [1, 64] (None: ``min(S, 8)``).
    history : int
        Slots of demand history in the observation, in [1, 64].
    lookahead : int
        Slots of look-ahead (forecasts, candidate geometry of ``k+1 .. k+lookahead``), in [0, 64].
    predictor : {"ewma", "naive", "noisy-truth"}
        Demand predictor, causal by default (``ewma``; ``naive`` is the last value).
        ``noisy-truth`` is a *noisy oracle*: the realised demand of the forecast slot times a
        unit-mean error factor (APEX's 5/10/20 % protocol); it must be asked for explicitly.
        A learned predictor is passed as a callable hook instead.
    prediction_error : float
        Relative standard deviation of the multiplicative forecast error, in [0, 10].
    ewma_alpha : float
        Smoothing factor of the EWMA predictor, in (0, 1].
    mask_mode : {"full", "basic"}
        ``full``: budget-safe masks (DP over visibility); ``basic``: visibility only.
    allocator : {"p1", "cvx", "equal"}
        Inner P1 allocator (a callable is accepted as a hook instead).
    invalid_action : {"repair", "penalize", "raise"}
        What an invalid (out of range or masked) cell action does: ``repair`` (default) keeps
        the current satellite when allowed, else the strongest allowed candidate, and counts it;
        ``penalize`` repairs and subtracts ``invalid_penalty`` per repaired cell from the reward;
        ``raise`` raises ``ValueError`` naming the cells.
    invalid_penalty : float
        Reward penalty per repaired cell under ``invalid_action="penalize"``, in [0, 1e6].
    render_mode : {"rgb_array", "ansi"} or None
        Gymnasium render mode.
    cache_size : int
        Scenarios kept in the LRU cache, in [1, 100000].
    cache_mb : float
        Memory bound of the scenario cache [MiB], in (0, 1e6].
    """

    preset: str | None = None
    overrides: tuple[str, ...] = ()
    scenario_seed: int | None = field(default=None, metadata=_rng(0, 2**31 - 1, "scenario seed"))
    seed_split: str = field(default="train", metadata={"choices": SEED_SPLITS})
    n_scenarios: int | None = field(default=None, metadata=_rng(1, 2**30, "scenarios"))
    n_candidates: int | None = field(default=None, metadata=_rng(1, 64, "candidates per cell"))
    history: int = field(default=4, metadata=_rng(1, 64, "slots of demand history"))
    lookahead: int = field(default=0, metadata=_rng(0, 64, "slots of look-ahead"))
    predictor: str = field(default="ewma", metadata={"choices": PREDICTOR_NAMES})
    prediction_error: float = field(default=0.1, metadata=_rng(0.0, 10.0, "relative error"))
    ewma_alpha: float = field(default=0.3, metadata=_rng(1e-9, 1.0, "EWMA factor"))
    mask_mode: str = field(default="full", metadata={"choices": MASK_MODES})
    allocator: str = field(default="p1", metadata={"choices": ALLOCATOR_NAMES})
    invalid_action: str = field(default="repair", metadata={"choices": INVALID_ACTIONS})
    invalid_penalty: float = field(default=1.0, metadata=_rng(0.0, 1e6, "reward per repaired cell"))
    render_mode: str | None = field(default=None, metadata={"choices": RENDER_MODES})
    cache_size: int = field(default=64, metadata=_rng(1, 100_000, "cached scenarios"))
    cache_mb: float = field(default=1024.0, metadata=_rng(1e-6, 1e6, "MiB"))

    def __post_init__(self) -> None:
        if isinstance(self.overrides, str) or not all(isinstance(o, str) for o in self.overrides):
            raise ValueError(
                f"DownlinkParams.overrides must be a list of 'key=value' strings, got {self.overrides!r}"
            )
        object.__setattr__(self, "overrides", tuple(self.overrides))
        if self.preset is not None and not isinstance(self.preset, str):
            raise ValueError(f"DownlinkParams.preset must be a preset name or path, got {self.preset!r}")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None or f.name in ("preset", "overrides"):
                continue
            if "choices" in f.metadata and value not in f.metadata["choices"]:
                raise ValueError(
                    f"DownlinkParams.{f.name} = {value!r} is not allowed: choose one of "
                    f"{', '.join(f.metadata['choices'])}"
                )
            if "range" in f.metadata:
                lo, hi = f.metadata["range"]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"DownlinkParams.{f.name} must be a number, got {value!r}")
                if not (math.isfinite(value) and lo <= value <= hi):
                    raise ValueError(
                        f"DownlinkParams.{f.name} = {value!r} is out of range: allowed "
                        f"[{lo:g}, {hi:g}] ({f.metadata['what']})"
                    )

    @property
    def oracle_predictor(self) -> bool:
        """True when the forecasts read realised demand (a noisy oracle, not a causal predictor)."""
        return self.predictor in ORACLE_PREDICTORS

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Names of every parameter."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def build(cls, params: DownlinkParams | Mapping[str, Any] | None = None, **kwargs: Any) -> DownlinkParams:
        """Parameters from an existing object or mapping, updated by keyword arguments.

        Unknown names raise ``TypeError`` naming the closest valid one; lists become tuples.
        """
        base: dict[str, Any] = {}
        if isinstance(params, DownlinkParams):
            base = dataclasses.asdict(params)
        elif params is not None:
            base = dict(params)
        base.update(kwargs)
        names = cls.field_names()
        unknown = [k for k in base if k not in names]
        if unknown:
            import difflib

            # Python's own wording ("unexpected keyword argument 'x'"): wrappers such as TorchRL's
            # GymEnv retry without an optional argument (frameskip) when they read it
            hints = [
                f"unexpected keyword argument {k!r}"
                + (f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(k, names, 1)) else "")
                for k in unknown
            ]
            raise TypeError(f"DownlinkParams got {'; '.join(hints)}: not downlink environment parameters")
        if base.get("overrides") is None:
            base.pop("overrides", None)
        elif isinstance(base["overrides"], Mapping):
            base["overrides"] = tuple(f"{k}={v}" for k, v in base["overrides"].items())
        else:
            base["overrides"] = tuple(base["overrides"])
        return cls(**base)


def resolve_params(
    preset: str | None, params: DownlinkParams | Mapping[str, Any] | None, kwargs: dict[str, Any]
) -> tuple[DownlinkParams, Any, Any]:
    """Split environment keyword arguments into :class:`DownlinkParams` and the two hooks.

    ``predictor`` and ``allocator`` may be callables (a learned forecaster, a custom allocator):
    those are hooks, returned separately; every other keyword is a parameter.

    Returns
    -------
    params : DownlinkParams
    predictor_hook : callable or None
    allocator_hook : callable or None
    """
    kw = dict(kwargs)
    predictor_hook = kw.pop("predictor") if callable(kw.get("predictor")) else None
    allocator_hook = kw.pop("allocator") if callable(kw.get("allocator")) else None
    if preset is not None:
        kw["preset"] = preset
    if predictor_hook is not None:
        kw["predictor"] = "naive"  # a callable predictor is causal by contract
    return DownlinkParams.build(params, **kw), predictor_hook, allocator_hook
