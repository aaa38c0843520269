"""The one parameter object of the link-group scheduling environments (scalar and vector).

>>> p = LinkGroupParams.build(preset="small", mode="groups", T=5)
>>> p.preset, p.mode, p.config().T
('small', 'groups', 5)
>>> LinkGroupParams.build(mode="beams")
Traceback (most recent call last):
...
ValueError: LinkGroupParams.mode = 'beams' is not allowed: one of ('links', 'groups')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leo_env.scenario.linkgroup import PRESETS, LinkGroupConfig, preset

__all__ = ["LinkGroupParams", "MODES", "OBSERVATIONS"]

MODES = ("links", "groups")
"""Action modes."""

OBSERVATIONS = ("paper", "rates")
"""Observation forms: the paper's state (FSMC levels, delivered fraction, ...) and the same with
each link's current rate and the receivers' absolute / remaining demands appended."""


@dataclass(frozen=True)
class LinkGroupParams:
    """Data parameters of ``LinkGroupSched-v0``, validated on construction.

    Attributes
    ----------
    preset : str
        Cell preset of :data:`leo_env.scenario.linkgroup.PRESETS` (``tiny``, ``small``, ``k20``,
        ``k30``, ``k50``, ``k100``).
    overrides : tuple of (str, value)
        Overrides of :class:`leo_env.scenario.linkgroup.LinkGroupConfig` fields (validated there);
        ``build`` collects unknown keyword arguments that are config fields into it.
    mode : {"links", "groups"}
        ``links``: MultiDiscrete, each transmitter picks a receiver or idles (repairs counted);
        ``groups``: Discrete over every link group, masked by ``action_masks()``.
    served : {"squared", "linear"}
        Served-count term of the objective.
    data : {"normalised", "raw"}
        Data-gap term of the objective.
    layout_seed : int
        Seed of the cell layout, priority weights and the base task, in [0, 2**31).
    max_group_bytes : int
        Largest group table ``groups`` mode may allocate [byte], in [1, 2**34].
    observation : {"paper", "rates"}
        ``paper`` (default): the paper's state (28), FSMC levels and per-receiver progress;
        ``rates``: the same vector with ``J K + 3 K`` entries appended (each link's rate alone in
        the current slot, each receiver's demand, remaining demand and remaining minimum, on a
        log scale; see the env's docstring).  Not in the paper.
    """

    preset: str = "k20"
    overrides: tuple[tuple[str, Any], ...] = ()
    mode: str = "links"
    served: str = "squared"
    data: str = "normalised"
    layout_seed: int = 0
    max_group_bytes: int = 256 * 2**20
    observation: str = "paper"

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"LinkGroupParams.preset = {self.preset!r} is not allowed: one of {tuple(PRESETS)}")
        for name, allowed in (("mode", MODES), ("served", ("squared", "linear")),
                              ("data", ("normalised", "raw")),
                              ("observation", OBSERVATIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"LinkGroupParams.{name} = {getattr(self, name)!r} is not allowed: one of {allowed}"
                )
        if not (isinstance(self.layout_seed, int) and 0 <= self.layout_seed < 2**31):
            raise ValueError(f"LinkGroupParams.layout_seed = {self.layout_seed!r} is out of range: allowed [0, 2**31)")
        if not (isinstance(self.max_group_bytes, int) and 1 <= self.max_group_bytes <= 2**34):
            raise ValueError(
                f"LinkGroupParams.max_group_bytes = {self.max_group_bytes!r} is out of range: allowed [1, 2**34]"
            )
        self.config()  # validates the overrides

    def config(self) -> LinkGroupConfig:
        """The cell configuration (preset + overrides)."""
        return preset(self.preset, **dict(self.overrides))

    @classmethod
    def build(cls, params: LinkGroupParams | Mapping[str, Any] | None = None, **kwargs: Any) -> LinkGroupParams:
        """Params from an object or mapping plus keyword arguments; config fields go to overrides."""
        base: dict[str, Any] = {}
        if isinstance(params, LinkGroupParams):
            base = dataclasses.asdict(params)
            base["overrides"] = tuple(params.overrides)
        elif params is not None:
            base = dict(params)
        base.update(kwargs)
        own = {f.name for f in dataclasses.fields(cls)}
        cfg_fields = {f.name for f in dataclasses.fields(LinkGroupConfig)}
        ov = dict(base.pop("overrides", ()) or ())
        for key in list(base):
            if key not in own:
                if key not in cfg_fields:
                    # Python's own wording: wrappers (TorchRL's GymEnv) retry without optional arguments on it
                    raise TypeError(f"LinkGroupParams got an unexpected keyword argument {key!r}")
                ov[key] = base.pop(key)
        return cls(**base, overrides=tuple(sorted(ov.items())))
