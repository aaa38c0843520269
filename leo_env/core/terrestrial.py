"""Terrestrial part of an integrated LEO-5G cell: node layouts, C-band path loss, compatibility.

Transmitters are indexed ``0 = LEO`` (Ka band), ``1 = BS`` and ``2.. = TSTs`` (C band).
Receivers ("ground devices", GDs) carry a type: mobile terminals (MT, C band only), dual-mode
IoT devices (Ka from the LEO or C from the BS/TSTs), and the BS and TSTs themselves as backhaul
receivers of the LEO (Ka).  Coordinates are local east/north metres around the cell centre.

Every function is array in, array out, and random draws go through an explicit
:class:`numpy.random.Generator`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from leo_env.core.channel import SPEED_OF_LIGHT, db_to_linear

__all__ = [
    "TX_LEO",
    "TX_BS",
    "BAND_KA",
    "BAND_C",
    "DEV_MT",
    "DEV_IOT",
    "DEV_BS",
    "DEV_TST",
    "TerrestrialLayout",
    "disc_points",
    "terrestrial_layout",
    "transmitter_bands",
    "compatibility",
    "cband_gain",
]

TX_LEO = 0
"""Index of the LEO satellite among the transmitters."""
TX_BS = 1
"""Index of the base station among the transmitters (TSTs follow)."""
BAND_KA = 0
"""Band id of the Ka band (LEO links)."""
BAND_C = 1
"""Band id of the C band (BS/TST access links)."""
DEV_MT = 0
"""Receiver type: mobile terminal (C band only)."""
DEV_IOT = 1
"""Receiver type: dual-mode IoT device (Ka from the LEO or C from the BS/TSTs)."""
DEV_BS = 2
"""Receiver type: the base station receiving LEO backhaul (Ka)."""
DEV_TST = 3
"""Receiver type: a terrestrial-satellite terminal receiving LEO backhaul (Ka)."""


class TerrestrialLayout(NamedTuple):
    """Positions of the terrestrial nodes.

    Attributes
    ----------
    tx_xy_m : ndarray, shape (1 + n_tst, 2)
        BS (row 0) and TSTs [m].
    dev_xy_m : ndarray, shape (K, 2)
        Receivers [m]: the MTs and IoT devices, then the BS and TSTs as backhaul receivers.
    dev_type : ndarray of int, shape (K,)
        ``DEV_MT``, ``DEV_IOT``, ``DEV_BS`` or ``DEV_TST``.
    """

    tx_xy_m: np.ndarray
    dev_xy_m: np.ndarray
    dev_type: np.ndarray


def disc_points(
    rng: np.random.Generator,
    n: int,
    radius_m: float,
    avoid_xy_m: np.ndarray | None = None,
    min_dist_m: float = 0.0,
) -> np.ndarray:
    """``n`` points uniform in a disc of ``radius_m`` around the origin, shape (n, 2) [m].

    Points closer than ``min_dist_m`` to any row of ``avoid_xy_m`` are redrawn (rejection
    sampling, so the result stays uniform on the allowed region).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not (np.isfinite(radius_m) and radius_m > 0):
        raise ValueError(f"radius_m must be a finite number > 0, got {radius_m}")
    if not (np.isfinite(min_dist_m) and 0 <= min_dist_m < radius_m):
        raise ValueError(f"min_dist_m must be in [0, radius_m), got {min_dist_m}")
    out = np.empty((n, 2))
    filled = 0
    for _ in range(1000):
        if filled == n:
            break
        m = 2 * (n - filled) + 8
        r = radius_m * np.sqrt(rng.random(m))
        a = 2.0 * np.pi * rng.random(m)
        pts = np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
        if avoid_xy_m is not None and len(avoid_xy_m) and min_dist_m > 0:
            d = np.linalg.norm(pts[:, None, :] - np.asarray(avoid_xy_m)[None, :, :], axis=2)
            pts = pts[(d >= min_dist_m).all(axis=1)]
        take = min(len(pts), n - filled)
        out[filled : filled + take] = pts[:take]
        filled += take
    if filled < n:
        raise ValueError("disc_points: min_dist_m leaves no room in the disc")
    return out


def terrestrial_layout(
    rng: np.random.Generator,
    n_mt: int,
    n_iot: int,
    *,
    n_tst: int = 2,
    cell_radius_m: float = 1000.0,
    tst_dist_m: tuple[float, float] = (300.0, 500.0),
    min_dist_m: float = 10.0,
) -> TerrestrialLayout:
    """Cell layout: BS, TSTs, MTs and IoT devices.

    BS at the cell centre, TSTs at a uniform distance in ``tst_dist_m`` and a uniform angle,
    MTs and IoT devices uniform in the cell disc (at least ``min_dist_m`` from every BS/TST).

    The receivers are ordered MTs, IoT devices, BS, TSTs.
    """
    if n_mt < 0 or n_iot < 0 or n_tst < 0:
        raise ValueError(f"n_mt, n_iot, n_tst must be >= 0, got {n_mt}, {n_iot}, {n_tst}")
    lo, hi = tst_dist_m
    if not (0 < lo <= hi < cell_radius_m):
        raise ValueError(f"tst_dist_m must satisfy 0 < lo <= hi < cell_radius_m, got {tst_dist_m}")
    r = rng.uniform(lo, hi, n_tst)
    a = rng.uniform(0.0, 2.0 * np.pi, n_tst)
    tx = np.vstack([np.zeros((1, 2)), np.stack([r * np.cos(a), r * np.sin(a)], axis=1)])
    dev = disc_points(rng, n_mt + n_iot, cell_radius_m, tx, min_dist_m)
    dev_xy = np.vstack([dev, tx])
    dev_type = np.concatenate(
        [
            np.full(n_mt, DEV_MT),
            np.full(n_iot, DEV_IOT),
            np.array([DEV_BS]),
            np.full(n_tst, DEV_TST),
        ]
    ).astype(np.int64)
    return TerrestrialLayout(tx, dev_xy, dev_type)


def transmitter_bands(n_tst: int) -> np.ndarray:
    """Band of every transmitter ``[LEO, BS, TST_1..n]``: Ka for the LEO, C for the others."""
    return np.array([BAND_KA] + [BAND_C] * (1 + n_tst), dtype=np.int64)


def compatibility(dev_type: np.ndarray, n_tst: int) -> np.ndarray:
    """Which transmitter may serve which receiver, shape (J, K) bool, J = 2 + n_tst.

    LEO -> {IoT, BS, TSTs}; BS -> {MT, IoT}; TST_i -> {MT, IoT}.
    """
    t = np.asarray(dev_type)
    if np.any((t < DEV_MT) | (t > DEV_TST)):
        raise ValueError("dev_type must hold DEV_MT, DEV_IOT, DEV_BS or DEV_TST")
    leo = (t == DEV_IOT) | (t == DEV_BS) | (t == DEV_TST)
    terr = (t == DEV_MT) | (t == DEV_IOT)
    return np.vstack([leo[None, :], np.repeat(terr[None, :], 1 + n_tst, axis=0)])


def cband_gain(
    distance_m: np.ndarray,
    *,
    freq_hz: float = 4e9,
    exponent: float = 2.0,
    g_tx_dbi: np.ndarray | float = 10.0,
    g_rx_dbi: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Terrestrial large-scale power gain ``G_t G_r (c / (4 pi d f))^alpha`` (linear).

    ``exponent = 2`` is free space; 2..3.5 models denser clutter.  Small-scale (Rayleigh)
    fading multiplies this gain.
    """
    d = np.asarray(distance_m, dtype=float)
    if np.any(~np.isfinite(d)) or np.any(d <= 0):
        raise ValueError("distance_m must be finite and > 0")
    if not (1.5 <= exponent <= 5.0):
        raise ValueError(f"exponent must be in [1.5, 5], got {exponent}")
    base = SPEED_OF_LIGHT / (4.0 * np.pi * d * freq_hz)
    return db_to_linear(np.asarray(g_tx_dbi) + np.asarray(g_rx_dbi)) * base**exponent
