"""Scenario inspection: a summary table and a figure (cells, ground tracks, visibility timeline).

Command line::

    python -m leo_env.scenario describe <preset-or-yaml> [--seed N] [--plot out.png]
        [--json out.json] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from leo_env.io import atomic_write_json

if TYPE_CHECKING:
    from leo_env.scenario.scenario import Scenario

__all__ = ["summarise", "nominal_capacity_bits", "plot_scenario", "main"]


def nominal_capacity_bits(sc: Scenario) -> np.ndarray:
    """Bits per slow slot a satellite delivers when all its PRBs and power serve one cell.

    ``R[s, c, k] = M T_f N_PRB W log2(1 + g P_max / (N_PRB W N0))`` (zero where not visible);
    the separable proxy's ``rho`` and the coupled proxy's full-satellite rate.
    """
    snr = sc.g * (sc.P_max / sc.N_PRB)[:, None, None] / (sc.W_PRB * sc.N0)
    rate = sc.M * sc.T_f * sc.N_PRB[:, None, None] * sc.W_PRB * np.log2(1.0 + snr)
    return np.where(sc.v, rate, 0.0)


def summarise(sc: Scenario) -> dict[str, Any]:
    """Sizes and headline statistics of a scenario as plain data."""
    vis = sc.v.sum(axis=0)  # (C, K)
    D = sc.a.sum(axis=2)  # noqa: N806  (C, K) bits per slow slot
    slot_s = sc.M * sc.T_f
    R = nominal_capacity_bits(sc)  # noqa: N806
    # Satellite capacity per slot: its full-satellite rate towards the median of its visible cells.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: satellite out of view
        R_sat = np.nanmedian(np.where(sc.v, R, np.nan), axis=1)  # noqa: N806  (S, K)
    cap = np.nansum(R_sat, axis=0)  # (K,)
    load = D.sum(axis=0) / np.where(cap > 0, cap, np.nan)
    gdb = 10 * np.log10(sc.g[sc.v]) if sc.v.any() else np.array([np.nan])
    snr_db = gdb + 10 * np.log10(float(np.median(sc.P_max / sc.N_PRB)) / (sc.W_PRB * sc.N0))
    out: dict[str, Any] = {
        "name": sc.name,
        "kind": sc.kind,
        "seed": sc.seed,
        "sizes": {"S": sc.S, "C": sc.C, "K": sc.K, "M": sc.M},
        "timing": {"T_f_s": sc.T_f, "slow_slot_radio_s": slot_s, "geometry_T_s": sc.T_s},
        "resources": {
            "N_PRB": float(np.median(sc.N_PRB)),
            "P_max_W": float(np.median(sc.P_max)),
            "W_PRB_Hz": sc.W_PRB,
            "N0_W_per_Hz": sc.N0,
        },
        "utility": {"eps": sc.eps, "lambda_h": sc.lambda_h},
        "visible_per_cell_slot": {
            "min": int(vis.min()),
            "mean": float(vis.mean()),
            "max": int(vis.max()),
        },
        "handovers": {
            "min_needed_max": int(sc.min_handovers.max()),
            "min_needed_mean": float(sc.min_handovers.mean()),
            "budget_min": int(sc.H.min()),
            "budget_max": int(sc.H.max()),
        },
        "demand": {
            "mean_rate_Mbps_per_cell": float(D.mean() / slot_s / 1e6),
            "min_cell_rate_Mbps": float(D.mean(axis=1).min() / slot_s / 1e6),
            "max_cell_rate_Mbps": float(D.mean(axis=1).max() / slot_s / 1e6),
            "total_Mbps_mean": float(D.sum(axis=0).mean() / slot_s / 1e6),
            "zero_demand_share": float((D == 0).mean()),
        },
        "channel": {
            "gain_dB_visible_min": float(np.min(gdb)),
            "gain_dB_visible_max": float(np.max(gdb)),
            "snr_per_PRB_full_power_dB_median": float(np.median(snr_db)),
            "fading": sc.fading,
        },
        "load": {
            "definition": "demand / sum over satellites in view of full-satellite rate to their median cell",
            "mean": float(np.nanmean(load)),
            "max": float(np.nanmax(load)),
        },
    }
    return out


def _format(summary: dict[str, Any]) -> str:
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


def main(argv: list[str] | None = None) -> int:
    """``describe`` command line."""
    from leo_env.scenario.build import make_scenario

    p = argparse.ArgumentParser(
        prog="python -m leo_env.scenario",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("describe", help="print a scenario's summary and optionally plot it")
    d.add_argument("scenario", help="preset name or path to a YAML file")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--plot", metavar="PNG", help="write the figure here")
    d.add_argument("--json", metavar="FILE", help="write the summary as JSON here")
    d.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="dotted override, e.g. demand.mismatch_ratio=0.5 (repeatable)",
    )
    b = sub.add_parser("bench", help="time scenario builds for presets")
    b.add_argument(
        "presets",
        nargs="*",
        default=["toy", "medium", "stress", "europe-starlink", "europe-multishell"],
    )
    b.add_argument("--seeds", type=int, default=5)
    b.add_argument("--out", metavar="JSON")
    args = p.parse_args(argv)
    if args.cmd == "bench":
        from leo_env.scenario.bench import run

        run(args.presets, seeds=args.seeds, out=args.out)
        return 0
    sc = make_scenario(args.scenario, seed=args.seed, overrides=args.overrides)
    summary = summarise(sc)
    print(_format(summary))
    if args.json:
        atomic_write_json(args.json, summary)
    if args.plot:
        plot_scenario(sc, args.plot)
        print(f"figure written to {args.plot}")
    return 0
