"""Scenario inspection: a summary table and a figure (cells, ground tracks, visibility timeline).

Command line (:mod:`leo_env.scenario.__main__`)::

    python -m leo_env.scenario describe <preset-or-yaml> [--seed N] [--plot out.png]
        [--json out.json] [--set key=value ...]

The statistics themselves (:func:`summarise`, :func:`nominal_capacity_bits`) live next to the
:class:`~leo_env.scenario.Scenario` container and are re-exported here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from leo_env.scenario.scenario import Scenario, nominal_capacity_bits, summarise

__all__ = ["summarise", "nominal_capacity_bits", "plot_scenario", "format_summary"]


def format_summary(summary: dict[str, Any]) -> str:
    """The summary of :func:`summarise` as aligned text lines."""
    lines = []
    for section, val in summary.items():
        if isinstance(val, dict):
            lines.append(f"{section}:")
            for k, x in val.items():
                xs = f"{x:.4g}" if isinstance(x, float) else str(x)
                lines.append(f"    {k:<34} {xs}")
        else:
            lines.append(f"{section:<38} {val}")
    return "\n".join(lines)


def plot_scenario(sc: Scenario, path: str) -> None:
    """Write a PNG: cells and ground tracks on a lat/lon map, and the visibility timeline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from leo_env.core.frames import ecef_to_geodetic

    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2), gridspec_kw={"width_ratios": [1.3, 1.2, 1.0]})
    ax = axes[0]
    if sc.sat_ecef is not None and sc.cell_latlon_deg is not None:
        lat, lon, _ = ecef_to_geodetic(sc.sat_ecef)
        cl = sc.cell_latlon_deg
        pad = (
            12.0
            if sc.kind == "synthetic"
            else max(3.0, 0.3 * float(np.ptp(cl[:, 0]) + np.ptp(cl[:, 1])))
        )
        box = (
            cl[:, 1].min() - pad,
            cl[:, 1].max() + pad,
            cl[:, 0].min() - pad,
            cl[:, 0].max() + pad,
        )
        step = max(1, sc.S // 60)
        for s in range(0, sc.S, step):
            lo = np.where(np.abs(np.diff(lon[:, s], prepend=lon[0, s])) > 90, np.nan, lon[:, s])
            ax.plot(lo, lat[:, s], lw=0.6, alpha=0.6)
            ax.plot(lon[0, s], lat[0, s], "k.", ms=2)
        ax.scatter(
            cl[:, 1],
            cl[:, 0],
            s=max(2, 300 / np.sqrt(sc.C)),
            c="tab:red",
            marker="s",
            label="cells",
        )
        ax.set_xlim(box[0], box[1])
        ax.set_ylim(box[2], box[3])
        ax.set_xlabel("longitude [deg]")
        ax.set_ylabel("latitude [deg]")
        ax.set_title(
            f"{sc.name}: cells and ground tracks ({f'every {step}-th sat' if step > 1 else 'all sats'})"
        )
        ax.legend(loc="upper right")
    vis = sc.v.sum(axis=0)
    im = axes[1].imshow(vis, aspect="auto", origin="lower", cmap="viridis", interpolation="nearest")
    fig.colorbar(im, ax=axes[1], label="satellites visible for the whole slot")
    axes[1].set_xlabel("slow slot k")
    axes[1].set_ylabel("cell c")
    axes[1].set_title("visibility timeline")
    order = np.argsort(-sc.v.sum(axis=(1, 2)))[: min(sc.S, 40)]
    axes[2].imshow(
        sc.v[order].any(axis=1),
        aspect="auto",
        origin="lower",
        cmap="Greys",
        interpolation="nearest",
    )
    axes[2].set_xlabel("slow slot k")
    axes[2].set_ylabel("satellite (most visible first)")
    axes[2].set_title("satellite serves some cell")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


_format = format_summary  # former private name (scripts/demo.py)
