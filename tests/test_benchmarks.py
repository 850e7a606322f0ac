"""The benchmark code runs (tiny sizes; its figures mean nothing here, only that it works).

``make bench`` runs the full sizes; this keeps the benchmark from breaking unnoticed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench_engine():
    sys.path.insert(0, str(BENCH))
    try:
        import bench_engine

        yield bench_engine
    finally:
        sys.path.remove(str(BENCH))


def test_engine_benchmark_runs_and_reports(bench_engine):
    res = bench_engine.main(quick=True)
    assert len(res["engine"]) == 8
    for row in res["engine"]:
        assert row["ratio"] > 0 and row["bound"] == 1.3
    p = res["parallel"]
    assert p["speedup"] > 0 and p["machine_speedup"] > 0
    assert 0 < p["speedup_range"][0] <= p["speedup"] <= p["speedup_range"][1]
    assert res["memory"]["peak_bytes"] > res["memory"]["baseline_bytes"] > 0
    q = res["qmc"]
    assert q["weakest"] in q["per_target"] and len(q["weakest_by_seed"]) == len(q["seeds"])
    assert q["min"] == min(q["per_target"].values())
    text = bench_engine.report(res)
    for heading in ("## Engine speed", "## Parallel speed-up", "## Memory", "## Randomised QMC"):
        assert heading in text


def test_startup_benchmark_runs():
    sys.path.insert(0, str(BENCH))
    try:
        import bench_startup
    finally:
        sys.path.remove(str(BENCH))
    text = bench_startup.main(quick=True)
    assert "| import hzforecast |" in text and "× numpy + pandas" in text
