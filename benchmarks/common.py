"""Helpers shared by the benchmarks: timing, machine description, synthetic studies."""

from __future__ import annotations

import os
import platform
import time

import numpy as np

import hzforecast as hz


def best_of(fn, repeat: int = 3) -> float:
    """Best wall-clock time of ``repeat`` runs (the least disturbed one)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def machine() -> str:
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(
            f"{i['internal_api']} {i.get('version', '')} ({i.get('architecture', '')})"
            for i in threadpool_info()
        )
    except Exception:  # pragma: no cover - informative only
        blas = "?"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, BLAS {blas}"
    )


def draw_reference(n_numbers: int, repeat: int = 3) -> float:
    """Time for numpy's default generator (PCG64) to fill a preallocated array with normals."""
    out = np.empty(n_numbers)
    gen = np.random.default_rng(12345)
    gen.standard_normal(out=out)  # touch the pages once
    return best_of(lambda: gen.standard_normal(out=out), repeat)


def synthetic_study(
    k: int = 10, years: int = 7, *, uncertain: bool = True, correlated: bool = True
) -> hz.Study:
    """K level indicators over ``years`` years, one final-year target each."""
    base = 2018
    inds, targets, assumptions = [], [], []
    for i in range(k):
        iid = f"x{i}"
        inds.append(
            {
                "id": iid,
                "name_zh": iid,
                "name_en": iid,
                "unit": "亿元",
                "kind": "level",
                "observations": [{"year": base, "value": 100.0 + i, "source": "s"}],
            }
        )
        g = 0.05 + 0.005 * i
        growth = (
            {"dist": "uniform", "low": g - 0.01, "high": g + 0.01}
            if uncertain
            else {"dist": "fixed", "value": g}
        )
        assumptions.append(
            {
                "indicator": iid,
                "growth": growth,
                "volatility": 0.05 + 0.005 * i,
                "rationale": "benchmark",
            }
        )
        targets.append(
            {
                "id": f"t{i}",
                "indicator": iid,
                "year": base + years,
                "comparator": ">=",
                "value": (100.0 + i) * (1 + g) ** years,
                "status": "assumed",
                "rationale": "benchmark",
            }
        )
    scenario = {
        "id": "s",
        "name_zh": "s",
        "name_en": "s",
        "base_year": base,
        "end_year": base + years,
        "assumptions": assumptions,
    }
    if correlated:
        rho = 0.3
        m = [[1.0 if a == b else rho for b in range(k)] for a in range(k)]
        scenario["shock_correlation"] = {"indicators": [f"x{i}" for i in range(k)], "matrix": m}
    doc = {
        "id": "synthetic",
        "name_zh": "合成",
        "name_en": "synthetic",
        "sources": [{"id": "s", "title": "synthetic", "date": "2020-01-01", "kind": "assumption"}],
        "indicators": inds,
        "targets": targets,
        "scenarios": [scenario],
    }
    return hz.io.study_from_dict(doc)
