"""Fig. 9 of DV-MOSS: the selected satellites over a pass.

``python -m benchmarks.multiorbit_fig9 --out results/multiorbit_fig9.json``

Plays ``MultiOrbitSelect-v0`` (``dvmoss-paper``, one seed) for ``n_slots`` slots with the
DV-MOSS policy and records, per slot, the candidates (constellation ids, distance to the UE
centre), the served ones, the sum rate, and the sum rate of k-nearest with DV-MOSS's ``k`` on the
same slot.  Counts the slots where DV-MOSS leaves out a candidate nearer to the UE centre than
one it serves ("nearest is not best", the paper's observation), and draws the figure (PNG next
to the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from leo_env.envs.multiorbit.env import MultiOrbitSelectEnv
from leo_env.envs.multiorbit.policies import DvMossSelectPolicy
from oracles.multiorbit import baselines as B

__all__ = ["main", "run"]


def run(cone_deg: float, seed: int, n_slots: int) -> dict[str, Any]:
    """Play one episode with DV-MOSS; per-slot records."""
    env = MultiOrbitSelectEnv(cone_deg=cone_deg, n_slots=n_slots, visibility_horizon_s=0.0)
    pol = DvMossSelectPolicy(seed=seed)
    obs, _ = env.reset(seed=seed)
    pol.reset(env)
    slots = []
    done = False
    while not done:
        inst = env.instance
        t0 = time.perf_counter()
        act = pol.act(obs, env)
        t_dv = time.perf_counter() - t0
        chosen = env.subset_from_action(act)
        kn = B.k_nearest(inst, len(chosen))
        obs, _, done, _, info = env.step(act)
        rng_m = inst.centre_range_m
        skipped_nearer = [
            int(c)
            for c in range(inst.n_sats)
            if c not in chosen and rng_m[c] < max(rng_m[list(chosen)])
        ]
        slots.append(
            {
                "t_s": info["t_s"],
                "candidates": inst.sat_id.tolist(),
                "centre_range_km": (rng_m / 1e3).round(1).tolist(),
                "selected": [int(inst.sat_id[c]) for c in chosen],
                "skipped_nearer": [int(inst.sat_id[c]) for c in skipped_nearer],
                "sum_rate_mbps": info["sum_rate_mbps"],
                "k_nearest_sum_rate_mbps": kn.sum_rate_mbps,
                "n_switched": info["n_switched"],
                "time_s": t_dv,
            }
        )
    return {"cone_deg": cone_deg, "seed": seed, "slots": slots}


def draw(res: dict[str, Any], path: Path) -> None:
    """Selected / visible satellites over time and the sum rates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    slots = res["slots"]
    ids = sorted({s for sl in slots for s in sl["candidates"]})
    row = {s: i for i, s in enumerate(ids)}
    fig, (ax1, ax2) = plt.subplots(
        2, 1, figsize=(9, 7), sharex=True, gridspec_kw={"height_ratios": [2, 1]}
    )
    for sl in slots:
        t = sl["t_s"] / 60.0
        for s in sl["candidates"]:
            sel = s in sl["selected"]
            ax1.plot(
                t,
                row[s],
                "s" if sel else "o",
                ms=5 if sel else 3,
                color="tab:blue" if sel else "lightgray",
            )
    ax1.set_yticks(range(len(ids)), [str(s) for s in ids], fontsize=6)
    ax1.set_ylabel("satellite (constellation id)")
    ax1.set_title(
        f"DV-MOSS: served (blue) and visible (grey) satellites, theta = "
        f"{res['cone_deg']:g} deg, seed {res['seed']}"
    )
    t = [sl["t_s"] / 60.0 for sl in slots]
    ax2.plot(t, [sl["sum_rate_mbps"] for sl in slots], label="DV-MOSS")
    ax2.plot(t, [sl["k_nearest_sum_rate_mbps"] for sl in slots], label="k-nearest (same k)")
    ax2.set_xlabel("time [min]")
    ax2.set_ylabel("sum rate [Mbit/s]")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cone", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--slots", type=int, default=60)
    ap.add_argument("--out", type=Path, default=Path("results/multiorbit_fig9.json"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    res = run(args.cone, args.seed, args.slots)
    sl = res["slots"]
    summary = {
        "slots": len(sl),
        "n_selected": [len(s["selected"]) for s in sl],
        "slots_skipping_a_nearer_candidate": int(sum(bool(s["skipped_nearer"]) for s in sl)),
        "mean_sum_rate_mbps": float(np.mean([s["sum_rate_mbps"] for s in sl])),
        "mean_k_nearest_sum_rate_mbps": float(np.mean([s["k_nearest_sum_rate_mbps"] for s in sl])),
        "switches_per_slot": float(np.mean([s["n_switched"] for s in sl[1:]]))
        if len(sl) > 1
        else 0.0,
        "dv_time_s_median": float(np.median([s["time_s"] for s in sl])),
    }
    res["summary"] = summary
    res["wall_s"] = time.perf_counter() - t0
    print(json.dumps(summary))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(res, fh, indent=1)
    os.replace(tmp, args.out)
    png = args.out.with_suffix(".png")
    draw(res, png)
    print(f"wrote {args.out} and {png}")


if __name__ == "__main__":
    main()
