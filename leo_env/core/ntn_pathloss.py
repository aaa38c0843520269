"""Path loss in the QuaDRiGa format ``PL = A log10(d) + B + C log10(f_c)`` (free space by default).

QuaDRiGa's scenario tables write the mean path loss of a scenario as

    PL [dB] = A * log10(d / 1 m) + B + C * log10(f_c / 1 GHz),

with the distance ``d`` in metres and the carrier frequency ``f_c`` in GHz.  Free space is
``A = 20``, ``B = 32.45``, ``C = 20``: ``20 log10(4 pi d f / c)`` with ``d`` in metres and ``f`` in
GHz gives exactly ``20 log10(d) + 20 log10(f_GHz) + 32.448`` (the textbook 32.45 dB constant).

Only free space is preset: the DV-MOSS paper (the multiorbit family) cites QuaDRiGa's tables
without saying which scenario it used, so other rows are entered by the user as
:class:`PathLossModel` objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["PathLossModel", "FREE_SPACE", "pathloss_db", "pathloss_gain"]


@dataclass(frozen=True)
class PathLossModel:
    """Coefficients of ``PL = a log10(d_m) + b + c log10(f_GHz)`` [dB].

    Attributes
    ----------
    a : float
        Distance exponent term, finite, >= 0 [dB per decade of metres].
    b : float
        Constant term, finite [dB].
    c : float
        Frequency term, finite, >= 0 [dB per decade of GHz].
    name : str
        Label used in reports.
    """

    a: float = 20.0
    b: float = 32.45
    c: float = 20.0
    name: str = "free-space"

    def __post_init__(self) -> None:
        for field in ("a", "b", "c"):
            value = getattr(self, field)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{field} must be a finite number, got {value!r}")
        if self.a < 0:
            raise ValueError(f"a must be >= 0, got {self.a}")
        if self.c < 0:
            raise ValueError(f"c must be >= 0, got {self.c}")


#: Free-space path loss in QuaDRiGa form (d in m, f in GHz).
FREE_SPACE = PathLossModel()


def pathloss_db(
    distance_m: ArrayLike, freq_hz: float, model: PathLossModel = FREE_SPACE
) -> np.ndarray:
    """Mean path loss [dB] of the model at the given distances.

    Parameters
    ----------
    distance_m : array_like
        Link distances, finite and > 0 [m].
    freq_hz : float
        Carrier frequency, finite and > 0 [Hz].
    model : PathLossModel, optional
        Coefficients (free space by default).

    Returns
    -------
    ndarray
        Path loss [dB], same shape as ``distance_m``.
    """
    d = np.asarray(distance_m, dtype=float)
    if not np.all(np.isfinite(d)) or np.any(d <= 0):
        raise ValueError("distance_m must be finite and > 0")
    if not math.isfinite(freq_hz) or freq_hz <= 0:
        raise ValueError(f"freq_hz must be finite and > 0, got {freq_hz}")
    return model.a * np.log10(d) + model.b + model.c * math.log10(freq_hz / 1e9)


def pathloss_gain(
    distance_m: ArrayLike, freq_hz: float, model: PathLossModel = FREE_SPACE
) -> np.ndarray:
    """Linear channel power gain ``10^(-PL/10)`` (no antenna gains), same shape as ``distance_m``."""
    return np.power(10.0, -pathloss_db(distance_m, freq_hz, model) / 10.0)
