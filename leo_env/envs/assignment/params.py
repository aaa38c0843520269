"""Parameters of :class:`~leo_env.envs.assignment.env.PrimaryAssignmentEnv` (one frozen dataclass)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from leo_env.datasets.primary_assignment import PRESETS

__all__ = ["PrimaryAssignmentParams", "PARTS"]

PARTS = ("train", "val", "test", "all")
"""Parts of the chronological split an environment can draw its epochs from."""


@dataclass(frozen=True)
class PrimaryAssignmentParams:
    """Arguments of ``leo_env/PrimaryAssignment-v0`` (validated once, here).

    Attributes
    ----------
    dataset : str
        Preset of :data:`leo_env.datasets.primary_assignment.PRESETS` (generated on first use).
    data_root : str or None
        Cache root (None: ``$APEX_DATA_DIR`` or ``~/.cache/apex/datasets``).
    duration_s : float or None
        Shorten the preset's history to this span, in (0, preset duration] [s] (None: whole).
    part : str
        Epochs drawn from the chronological split's ``train`` (first 70 %), ``val`` (next
        15 %), ``test`` (last 15 %) or ``all``.
    val_fraction, test_fraction : float
        Shares of the chronological split, each in (0, 0.5).
    """

    dataset: str = "gsl-ci"
    data_root: str | None = None
    duration_s: float | None = None
    part: str = "test"
    val_fraction: float = 0.15
    test_fraction: float = 0.15

    def __post_init__(self) -> None:
        if self.dataset not in PRESETS:
            raise ValueError(f"dataset must be one of {sorted(PRESETS)}, got {self.dataset!r}")
        if self.duration_s is not None:
            full = PRESETS[self.dataset].duration_s
            d = self.duration_s
            if isinstance(d, bool) or not isinstance(d, int | float) or not math.isfinite(d):
                raise ValueError(f"duration_s must be a finite number or None, got {d!r}")
            if not 0.0 < d <= full:
                raise ValueError(f"duration_s must be in (0, {full}], got {d}")
        if self.part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}, got {self.part!r}")
        for f in ("val_fraction", "test_fraction"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 < v < 0.5:
                raise ValueError(f"{f} must be in (0, 0.5), got {v!r}")
