"""Rendering of the downlink environment: a matplotlib map (``rgb_array``) and a text table (``ansi``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from leo_env.scenario import Scenario

__all__ = ["rgb_array", "ansi"]


def _sat_latlon(sc: Scenario, k: int) -> np.ndarray | None:
    """Sub-satellite points (S, 2) [deg] at the start of slot ``k``, or None without positions."""
    if sc.sat_ecef is None:
        return None
    from leo_env.core.frames import ecef_to_geodetic

    t = min(k * sc.M, sc.sat_ecef.shape[0] - 1)
    lat, lon, _ = ecef_to_geodetic(sc.sat_ecef[t])
    return np.stack([np.asarray(lat), np.asarray(lon)], axis=-1)


def rgb_array(sc: Scenario, st: Any, last: dict[str, Any], width_px: int = 640) -> np.ndarray:
    """Map of cells (coloured by last ``xi``), satellites and the serving links, (H, W, 3) uint8."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    k_played = int(last.get("slot", max(int(st.k[0]) - 1, 0)))
    cells = sc.cell_latlon_deg if sc.cell_latlon_deg is not None else np.zeros((sc.C, 2))
    sats = _sat_latlon(sc, k_played)
    assoc = np.asarray(last.get("assoc", st.cur[0]))
    xi = np.asarray(last.get("xi", np.full(sc.C, np.nan)), dtype=float)
    dpi = 100
    fig = Figure(figsize=(width_px / dpi, 0.75 * width_px / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    if sats is not None:
        vis_any = sc.v[:, :, min(k_played, sc.K - 1)].any(axis=1)
        for c in np.nonzero(assoc >= 0)[0]:
            s = int(assoc[c])
            ax.plot(
                [cells[c, 1], sats[s, 1]], [cells[c, 0], sats[s, 0]], lw=0.6, color="0.6", zorder=1
            )
        ax.scatter(sats[~vis_any, 1], sats[~vis_any, 0], marker="^", s=18, color="0.8", zorder=2)
        ax.scatter(
            sats[vis_any, 1],
            sats[vis_any, 0],
            marker="^",
            s=36,
            color="tab:red",
            zorder=3,
            label="satellite (visible)",
        )
    colour = np.where(np.isnan(xi), 1.0, xi)
    sca = ax.scatter(
        cells[:, 1],
        cells[:, 0],
        c=colour,
        cmap="viridis",
        vmin=0.0,
        vmax=1.0,
        s=30,
        marker="s",
        zorder=4,
        label="cell",
    )
    fig.colorbar(sca, ax=ax, label="xi (served share)")
    lat_lo, lat_hi = cells[:, 0].min(), cells[:, 0].max()
    lon_lo, lon_hi = cells[:, 1].min(), cells[:, 1].max()
    pad_lat = max(0.5, 0.3 * (lat_hi - lat_lo))
    pad_lon = max(0.5, 0.3 * (lon_hi - lon_lo))
    ax.set_xlim(lon_lo - pad_lon, lon_hi + pad_lon)
    ax.set_ylim(lat_lo - pad_lat, lat_hi + pad_lat)
    ax.set_xlabel("longitude [deg]")
    ax.set_ylabel("latitude [deg]")
    ax.set_title(f"{sc.name} seed {sc.seed}: slot {k_played + 1 if last else 0}/{sc.K}")
    ax.legend(loc="upper right", fontsize=7)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    return img


def ansi(sc: Scenario, st: Any, last: dict[str, Any]) -> str:
    """Text table: one line per cell with serving satellite, budget, ``xi`` and handovers."""
    k = int(st.k[0])
    lines = [f"{sc.name} seed {sc.seed}  slot {k}/{sc.K}"]
    if last:
        lines[0] += (
            f"  utility {last['utility']:.3f}  handovers {int(np.sum(last['handovers']))}"
            f"  jain {last['jain']:.3f}  emergencies {last['emergencies_total']}"
        )
    lines.append(" cell  sat  budget    xi   ho")
    xi = np.asarray(last.get("xi", np.full(sc.C, np.nan)), dtype=float)
    ho = np.asarray(last.get("handovers_total", np.zeros(sc.C, dtype=int)))
    for c in range(sc.C):
        x = "   - " if np.isnan(xi[c]) else f"{xi[c]:5.2f}"
        lines.append(f"{c:5d} {int(st.cur[0, c]):4d} {int(st.budget[0, c]):7d} {x} {int(ho[c]):4d}")
    return "\n".join(lines) + "\n"
