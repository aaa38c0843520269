"""Rendering of the downlink environment: a matplotlib map (``rgb_array``) and a text table (``ansi``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from leo_env.scenario import Scenario

__all__ = ["rgb_array", "ansi", "frame_extent"]


def _sat_latlon(sc: Scenario, k: int) -> np.ndarray | None:
    """Sub-satellite points (S, 2) [deg] at the start of slot ``k``, or None without positions."""
    if sc.sat_ecef is None:
        return None
    from leo_env.core.frames import ecef_to_geodetic

    t = min(k * sc.M, sc.sat_ecef.shape[0] - 1)
    lat, lon, _ = ecef_to_geodetic(sc.sat_ecef[t])
    return np.stack([np.asarray(lat), np.asarray(lon)], axis=-1)


def frame_extent(sc: Scenario) -> tuple[tuple[float, float], tuple[float, float]]:
    """Fixed map extent of an episode: ((lat_lo, lat_hi), (lon_lo, lon_hi)) [deg].

    Covers every cell and every satellite at every slot in which it is visible to some cell (so
    the serving satellites stay inside the frame of every slot), padded by 15 % (at least 0.5
    deg).  The same extent for every frame keeps a recorded episode from jumping.  Longitudes are
    not unwrapped: an area crossing the antimeridian gets a frame spanning the globe.
    """
    pts = [sc.cell_latlon_deg if sc.cell_latlon_deg is not None else np.zeros((sc.C, 2))]
    if sc.sat_ecef is not None:
        seen = np.asarray(sc.v.any(axis=1), dtype=bool)  # (S, K): visible to some cell in slot k
        for k in range(sc.K):
            if seen[:, k].any():
                ll = _sat_latlon(sc, k)
                if ll is not None:
                    pts.append(ll[seen[:, k]])
    allp = np.concatenate(pts, axis=0)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    pad = np.maximum(0.5, 0.15 * (hi - lo))
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]), float(hi[1] + pad[1]))


def rgb_array(sc: Scenario, st: Any, last: dict[str, Any], width_px: int = 800) -> np.ndarray:
    """One frame, (H, W, 3) uint8: the sky on the left, the cells on the right.

    Left: sub-satellite points (red: visible to some cell in this slot, grey: not) with a line
    from every cell to its serving satellite, on a fixed extent (:func:`frame_extent`) that keeps
    every visible satellite of the episode inside the frame.  Right: the cells (which can be a
    small patch next to the satellites' footprint), coloured by the last slot's served share
    ``xi``, each labelled with its serving satellite, and the slot's handover count.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    k_played = int(last.get("slot", max(int(st.k[0]) - 1, 0)))
    k_geom = min(k_played, sc.K - 1)
    cells = sc.cell_latlon_deg if sc.cell_latlon_deg is not None else np.zeros((sc.C, 2))
    sats = _sat_latlon(sc, k_played)
    assoc = np.asarray(last.get("assoc", st.cur[0]))
    xi = np.asarray(last.get("xi", np.full(sc.C, np.nan)), dtype=float)
    dpi = 100
    fig = Figure(figsize=(width_px / dpi, 0.45 * width_px / dpi), dpi=dpi, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    sky, ground = fig.subplots(1, 2, width_ratios=[1.0, 1.15])
    if sats is not None:
        vis_any = sc.v[:, :, k_geom].any(axis=1)
        for c in np.nonzero(assoc >= 0)[0]:
            s = int(assoc[c])
            sky.plot([cells[c, 1], sats[s, 1]], [cells[c, 0], sats[s, 0]], lw=0.6, color="0.6", zorder=1)
        sky.scatter(sats[~vis_any, 1], sats[~vis_any, 0], marker="^", s=14, color="0.8", zorder=2)
        sky.scatter(sats[vis_any, 1], sats[vis_any, 0], marker="^", s=36, color="tab:red", zorder=3,
                    label="satellite (visible)")
        if sc.S <= 40:
            for si in np.nonzero(vis_any)[0]:
                sky.annotate(str(si), (sats[si, 1], sats[si, 0]), fontsize=6, xytext=(3, 3),
                             textcoords="offset points")
    sky.scatter(cells[:, 1], cells[:, 0], marker="s", s=10, color="tab:blue", zorder=4, label="cells")
    (lat_lo, lat_hi), (lon_lo, lon_hi) = frame_extent(sc)
    sky.set_xlim(lon_lo, lon_hi)
    sky.set_ylim(lat_lo, lat_hi)
    sky.set_xlabel("longitude [deg]")
    sky.set_ylabel("latitude [deg]")
    sky.set_title(f"{sc.name} seed {sc.seed}: slot {k_played + 1 if last else 0}/{sc.K}", fontsize=9)
    sky.legend(loc="upper right", fontsize=6)
    colour = np.where(np.isnan(xi), 1.0, xi)
    sca = ground.scatter(cells[:, 1], cells[:, 0], c=colour, cmap="viridis", vmin=0.0, vmax=1.0,
                         s=max(20.0, 2400.0 / max(sc.C, 1)), marker="s")
    if sc.C <= 60:
        for ci in range(sc.C):
            label = f"s{int(assoc[ci])}" if assoc[ci] >= 0 else "-"
            ground.annotate(label, (cells[ci, 1], cells[ci, 0]), fontsize=6, ha="center", va="center",
                            color="w" if colour[ci] < 0.6 else "k")
    span = np.maximum(cells.max(axis=0) - cells.min(axis=0), 1e-3)
    ground.set_xlim(cells[:, 1].min() - 0.15 * span[1], cells[:, 1].max() + 0.15 * span[1])
    ground.set_ylim(cells[:, 0].min() - 0.15 * span[0], cells[:, 0].max() + 0.15 * span[0])
    ho = int(np.sum(last["handovers"])) if "handovers" in last else 0
    ground.set_title(f"cells: served share xi, serving satellite; handovers this slot {ho}", fontsize=8)
    ground.set_xlabel("longitude [deg]")
    fig.colorbar(sca, ax=ground, label="xi (served share)")
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


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
