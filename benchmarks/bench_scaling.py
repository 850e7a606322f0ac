"""Scaling with paths, indicators and years; what-it-takes timings.

Time should grow linearly in each of paths, indicators and years: the tables give the time
per path × indicator × year relative to the smallest case (1.00 = perfectly linear).
Also: goal seek's number of simulations and time at 10^5 paths, and Sobol' indices' time
for the 2025 profile (12 inputs) at the default sample size.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import hzforecast as hz
from hzforecast.simulate import PRECISIONS

sys.path.insert(0, str(Path(__file__).parent))
from common import best_of, synthetic_study

#: Bytes per stored state in hz.simulate's default precision.
STATE_BYTES = np.dtype(PRECISIONS["single"]).itemsize


def _time(k, h, n, repeat):
    study = synthetic_study(k, h, uncertain=True)
    return best_of(
        lambda: hz.assess(study, scenario="s", n_paths=n, rng=1, progress=False, smoothing=False),
        repeat,
    )


def scaling(quick: bool, repeat: int) -> list[str]:
    base_n = 2**14 if quick else 250_000
    rows = []
    cases = [
        ("paths", [(10, 7, base_n * m) for m in (1, 2, 4)]),
        ("indicators", [(k, 7, base_n) for k in (5, 10, 20)]),
        ("years", [(10, h, base_n) for h in (5, 10, 20)]),
    ]
    for what, grid in cases:
        unit = None
        for k, h, n in grid:
            t = _time(k, h, n, repeat)
            per = t / (n * k * h)
            unit = unit or per
            rows.append(f"| {what} | {n:,} | {k} | {h} | {t:.3f} | {per / unit:.2f} |")
    return [
        "## Scaling (assess-only, counting estimator)",
        "",
        "| varied | paths | indicators | years | seconds | time per path·indicator·year, "
        "relative |",
        "|---|---|---|---|---|---|",
        *rows,
    ]


MEM_SCRIPT = """
import sys
sys.path.insert(0, {here!r})
from common import synthetic_study
import hzforecast as hz
k, h, n, mode = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
study = synthetic_study(k, h)
if mode == "simulate":
    p = hz.simulate(study, scenario="s", n_paths=n, rng=1, progress=False)
else:
    hz.assess(study, scenario="s", n_paths=n, rng=1, progress=False)
with open("/proc/self/status") as fh:
    print(next(int(x.split()[1]) * 1024 for x in fh if x.startswith("VmHWM")))
"""


def memory_scaling(quick: bool) -> list[str]:
    """Peak memory (VmHWM of a fresh process) of keeping paths vs assess-only."""
    import subprocess

    script = MEM_SCRIPT.format(here=str(Path(__file__).parent))

    def peak(k, h, n, mode):
        out = subprocess.run(
            [sys.executable, "-c", script, str(k), str(h), str(n), mode],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout.strip()) / 2**20

    base = 2**13 if quick else 200_000
    rows = []
    for k, h, n in [
        (10, 7, base),
        (10, 7, 2 * base),
        (10, 7, 4 * base),
        (20, 7, 2 * base),
        (10, 14, 2 * base),
    ]:
        sim, ass = peak(k, h, n, "simulate"), peak(k, h, n, "assess")
        data = n * k * (h + 1) * STATE_BYTES / 2**20
        rows.append(f"| {n:,} | {k} | {h} | {sim:.0f} | {data:.0f} | {ass:.0f} |")
    return [
        "## Memory (peak resident set of a fresh process, MiB)",
        "",
        "| paths | indicators | years | simulate (keeps paths) | of which the paths' "
        "values | assess-only |",
        "|---|---|---|---|---|---|",
        *rows,
    ]


def what_it_takes(quick: bool) -> list[str]:
    study = hz.load_study("jiaozuo-2019")
    n = 2**14 if quick else 2**17
    t = time.perf_counter()
    res = hz.required_growth(study, "mengniu-2019", probability=0.8, n_paths=n, rng=1)
    t_gs = time.perf_counter() - t
    t = time.perf_counter()
    s = hz.sobol_indices(study, "innovative-park-2025", n_base=2**10, rng=1)
    t_sobol = time.perf_counter() - t
    return [
        "## What it takes",
        "",
        f"Goal seek (蒙牛 120亿 at 80%): {res.evaluations} simulations of {n:,} paths, "
        f"{t_gs:.1f} s; answer {res.value:.3%} (Monte Carlo error {res.se:.1e}).",
        f"Sobol' indices of the 2025 profile, {len(s.names)} inputs, N = 1,024 base points "
        f"({1024 * (len(s.names) + 2):,} evaluations, 200 bootstrap resamples): "
        f"{t_sobol:.2f} s.",
    ]


def main(quick: bool = False) -> str:
    repeat = 1 if quick else 2
    return "\n".join(
        [*scaling(quick, repeat), "", *memory_scaling(quick), "", *what_it_takes(quick)]
    )


if __name__ == "__main__":
    print(main("--quick" in sys.argv))
