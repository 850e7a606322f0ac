"""Start-up: how long a user waits before the first number (``make bench``).

A planner runs ``hzforecast run jiaozuo-2019`` or opens a notebook with ``import hzforecast``.
Both are timed in fresh processes, side by side with what they cannot avoid — the interpreter
with numpy and pandas imported — in interleaved rounds (median and range), so the figures are
ratios to the floor on the same machine at the same moment.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import numpy, pandas": [sys.executable, "-c", "import numpy, pandas"],
    "import hzforecast": [sys.executable, "-c", "import hzforecast"],
    "load the Jiaozuo study": [
        sys.executable,
        "-c",
        "import hzforecast as hz; hz.load_study('jiaozuo-2019')",
    ],
    "hzforecast run jiaozuo-2019 --paths 100000 (5 scenarios)": [
        sys.executable,
        "-m",
        "hzforecast",
        "run",
        "jiaozuo-2019",
        "--paths",
        "100000",
        "--no-progress",
    ],
}


def _wall(cmd) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main(quick: bool = False) -> str:
    rounds = 1 if quick else 7
    cases = {k: v for k, v in CASES.items() if not (quick and "run" in v)}
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(rounds):
        for name, cmd in cases.items():
            times[name].append(_wall(cmd))
    floor = statistics.median(times["import numpy, pandas"])
    lines = [
        "## Start-up (fresh processes, wall clock)",
        "",
        f"Median of {rounds} interleaved rounds; ratio to importing numpy and pandas alone "
        "in the same rounds.",
        "",
        "| what | seconds (median) | range | × numpy + pandas |",
        "|---|---|---|---|",
    ]
    for name, ts in times.items():
        m = statistics.median(ts)
        lines.append(f"| {name} | {m:.2f} | {min(ts):.2f}–{max(ts):.2f} | {m / floor:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(main("--quick" in sys.argv))
