"""Time the orbit core: build and propagate a Walker shell to ECEF on a fast-slot time grid.

Default: starlink-1 (1,584 satellites) at K*M+1 = 601 times (K = 60 slow slots, M = 10 fast
slots, T_f = 1.5 s).  Usage::

    .venv/bin/python scripts/bench_orbit.py [--preset starlink-1] [--K 60] [--M 10]
        [--tf 1.5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import datetime

import numpy as np

from leo_env.core.frames import julian_dates, teme_to_ecef
from leo_env.core.orbit import (
    Constellation,
    kepler_eci,
    propagate_ecef,
    propagate_teme,
    walker_satrecs,
)


def _time(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="starlink-1", nargs="+")
    ap.add_argument("--K", type=int, default=60)
    ap.add_argument("--M", type=int, default=10)
    ap.add_argument("--tf", type=float, default=1.5, help="fast slot length [s]")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    presets = [args.preset] if isinstance(args.preset, str) else args.preset
    const = Constellation.from_presets(*presets)
    epoch = datetime(2024, 3, 1, 6, 0, 0)
    t = np.arange(args.K * args.M + 1) * args.tf
    jd, fr = julian_dates(epoch, t)
    print(f"{'+'.join(presets)}: N = {const.n_sats} satellites x T = {t.size} times")

    rows = []
    best, med, sats = _time(lambda: walker_satrecs(const, epoch), args.repeat)
    rows.append(("walker_satrecs (sgp4init)", best, med))
    best, med, r_teme = _time(lambda: propagate_teme(sats, epoch, t), args.repeat)  # type: ignore[arg-type]
    rows.append(("propagate_teme (SatrecArray)", best, med))
    best, med, _ = _time(lambda: teme_to_ecef(r_teme, jd, fr), args.repeat)
    rows.append(("teme_to_ecef (GMST rotation)", best, med))
    best, med, _ = _time(lambda: propagate_ecef(const, epoch, t), args.repeat)
    rows.append(("propagate_ecef sgp4, end to end", best, med))
    best, med, _ = _time(lambda: kepler_eci(const, t), args.repeat)
    rows.append(("kepler_eci", best, med))
    best, med, _ = _time(lambda: propagate_ecef(const, epoch, t, method="kepler"), args.repeat)
    rows.append(("propagate_ecef kepler, end to end", best, med))
    for name, b, m in rows:
        print(f"  {name:36s} best {b:7.3f} s   median {m:7.3f} s")


if __name__ == "__main__":
    main()
