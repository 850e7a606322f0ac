"""The engine: processes, reproducibility, chunk and executor invariance, correlation."""

import math
import pickle
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import stats

import hzforecast as hz
from hzforecast._engine import bridge_matrix, compile_model
from hzforecast._engine import log_value as _log_value
from hzforecast._engine import ppf as _ppf
from hzforecast.distributions import LogNormal, Normal, Pert, Triangular, Uniform
from hzforecast.simulate import BLOCK, SimulationError

from .conftest import make


def test_shapes_and_metadata(jiaozuo):
    p = hz.simulate(jiaozuo, scenario="baseline", n_paths=5000, rng=3)
    assert list(p.years) == list(range(2018, 2026))
    assert p["gdp"].shape == (5000, 8)
    assert p.params["gdp.growth"].shape == (5000,)
    assert p.n_paths == 5000 and p.method == "mc" and p.seed["entropy"] == 3
    assert set(p.indicators) >= {"gdp", "rd_share", "rd_spending", "mengniu_output"}
    # the observed start is the first column; the corrected GDP is used and said so
    assert np.all(p["gdp"][:, 0] == 141.95)
    assert np.all(p["mengniu_output"][:, 0] == 108.9)
    [c] = p.model.corrections  # what was used, as data
    assert (c.indicator, c.year, c.stated, c.used) == ("gdp", 2018, 14195.0, 141.95)


def test_corrections_ignore_starts_from_stated(jiaozuo):
    p = hz.simulate(jiaozuo, scenario="baseline", n_paths=100, rng=3, corrections="ignore")
    assert np.all(p["gdp"][:, 0] == 14195.0) and p.model.corrections == ()


def test_same_seed_same_numbers_and_different_seeds_differ(jiaozuo):
    a = hz.simulate(jiaozuo, scenario="baseline", n_paths=3000, rng=11)
    b = hz.simulate(jiaozuo, scenario="baseline", n_paths=3000, rng=11)
    c = hz.simulate(jiaozuo, scenario="baseline", n_paths=3000, rng=12)
    assert_array_equal(a["gdp"], b["gdp"])
    assert not np.array_equal(a["gdp"], c["gdp"])


def test_generator_is_spawned_not_reused(jiaozuo):
    g = np.random.default_rng(5)
    a = hz.simulate(jiaozuo, scenario="baseline", n_paths=100, rng=g)
    b = hz.simulate(jiaozuo, scenario="baseline", n_paths=100, rng=g)
    assert not np.array_equal(a["gdp"], b["gdp"])
    seq = np.random.SeedSequence(**{k: v for k, v in a.seed.items()})
    again = hz.simulate(jiaozuo, scenario="baseline", n_paths=100, rng=seq)
    assert_array_equal(a["gdp"], again["gdp"])


@pytest.mark.parametrize("method", ["mc", "antithetic", "qmc"])
def test_chunk_size_does_not_change_numbers(jiaozuo, method):
    n = 4 * BLOCK if method != "qmc" else 2**15
    a = hz.simulate(
        jiaozuo, scenario="pessimistic", n_paths=n, rng=9, method=method, chunk_size=BLOCK
    )
    b = hz.simulate(
        jiaozuo, scenario="pessimistic", n_paths=n, rng=9, method=method, chunk_size=16 * BLOCK
    )
    for k in a.states:
        assert_array_equal(a.states[k], b.states[k])


def test_executors_give_identical_numbers(jiaozuo):
    serial = hz.simulate(jiaozuo, scenario="baseline", n_paths=3 * BLOCK + 17, rng=4)
    with ThreadPoolExecutor(2) as ex:
        threads = hz.simulate(
            jiaozuo,
            scenario="baseline",
            n_paths=3 * BLOCK + 17,
            rng=4,
            executor=ex,
            chunk_size=BLOCK,
        )
    with ProcessPoolExecutor(2) as ex:
        procs = hz.simulate(
            jiaozuo,
            scenario="baseline",
            n_paths=3 * BLOCK + 17,
            rng=4,
            executor=ex,
            chunk_size=BLOCK,
        )
    for k in serial.states:
        assert_array_equal(serial.states[k], threads.states[k])
        assert_array_equal(serial.states[k], procs.states[k])


def test_paths_pickle(jiaozuo):
    p = hz.simulate(jiaozuo, scenario="baseline", n_paths=200, rng=1)
    q = pickle.loads(pickle.dumps(p))
    assert_array_equal(p["gdp"], q["gdp"])


def rtol_of(p):
    """How closely a path can follow exact arithmetic: double precision to rounding;
    single precision to two float32 roundings of the largest |state| per step."""
    if p.model.precision == "double":
        return 1e-12
    top = max(float(np.nanmax(np.abs(s))) for s in p.states.values())
    return 2 * p.model.n_steps * float(np.spacing(np.float32(top)))


@pytest.mark.parametrize("precision", ["single", "double"])
def test_derived_indicator_is_product_of_its_parts(jiaozuo, precision):
    p = hz.simulate(jiaozuo, scenario="baseline", n_paths=2000, rng=2, precision=precision)
    assert p.states["gdp"].dtype == {"single": np.float32, "double": np.float64}[precision]
    assert p["gdp"].dtype == np.float64
    np.testing.assert_allclose(p["rd_spending"], p["rd_share"] * p["gdp"], rtol=rtol_of(p))


def test_single_and_double_precision_agree(jiaozuo):
    """The same draws in both precisions: paths within single precision's rounding, and
    P(reach) within a few paths of each other (only paths within ~1e-6 of a bar move)."""
    kw = {"scenario": "baseline", "n_paths": 20_000, "rng": 5}
    a = hz.simulate(jiaozuo, **kw, precision="single")
    b = hz.simulate(jiaozuo, **kw, precision="double")
    for k in a.states:
        np.testing.assert_allclose(a[k], b[k], rtol=rtol_of(a))
    ra = hz.assess(jiaozuo, **kw, precision="single", smoothing=False)
    rb = hz.assess(jiaozuo, **kw, precision="double", smoothing=False)
    for x, y in zip(ra.targets, rb.targets, strict=True):
        if x.assessable:
            assert abs(x.p_in_year.value - y.p_in_year.value) <= 2 / kw["n_paths"], x.id


def test_shares_stay_inside_the_unit_interval(jiaozuo):
    p = hz.simulate(jiaozuo, scenario="optimistic", n_paths=5000, rng=2)
    for k in ("rd_share", "hightech_share", "sei_share"):
        assert np.all((p[k] > 0) & (p[k] < 1))


@pytest.mark.parametrize("precision", ["single", "double"])
def test_deterministic_paths_follow_the_growth_exactly(doc, precision):
    for a in doc["scenarios"][0]["assumptions"]:
        a["volatility"] = 0.0
    p = hz.simulate(make(doc), scenario="base", n_paths=10, rng=1, precision=precision)
    rtol = rtol_of(p)
    np.testing.assert_allclose(p["gdp"][0], 100 * 1.07 ** np.arange(6), rtol=rtol)
    logit = np.log(0.2 / 0.8) + 0.05 * np.arange(6)
    np.testing.assert_allclose(p["share"][0], 1 / (1 + np.exp(-logit)), rtol=rtol)


def test_dip_and_recovery(doc):
    a = doc["scenarios"][0]["assumptions"][0]
    a["volatility"] = 0.0
    a["shocks"] = [{"kind": "dip", "year": 2020, "depth": 0.1, "recovery_years": 2}]
    p = hz.simulate(make(doc), scenario="base", n_paths=4, rng=1, precision="double")
    trend = 100 * 1.07 ** np.arange(6)
    factor = np.array([1, 1, 0.9, 0.9**0.5, 1, 1])  # half the log loss recovered per year
    np.testing.assert_allclose(p["gdp"][0], trend * factor, rtol=1e-12)


def test_trend_change(doc):
    a = doc["scenarios"][0]["assumptions"][0]
    a["volatility"] = 0.0
    a["shocks"] = [
        {"kind": "trend_change", "year": 2021, "growth": {"dist": "fixed", "value": 0.02}}
    ]
    p = hz.simulate(make(doc), scenario="base", n_paths=4, rng=1, precision="double")
    expect = [100, 107, 107 * 1.07, 107 * 1.07 * 1.02, 107 * 1.07 * 1.02**2, 107 * 1.07 * 1.02**3]
    np.testing.assert_allclose(p["gdp"][0], expect, rtol=1e-12)
    assert "gdp.trend_2021" in p.params


def test_shock_correlation_is_applied(doc):
    doc["scenarios"][0]["shock_correlation"] = {
        "indicators": ["gdp", "share"],
        "matrix": [[1.0, 0.7], [0.7, 1.0]],
    }
    p = hz.simulate(make(doc), scenario="base", n_paths=40_000, rng=8)
    d1 = np.diff(p.states["gdp"], axis=1).ravel()
    d2 = np.diff(p.states["share"], axis=1).ravel()
    r = np.corrcoef(d1, d2)[0, 1]
    # standard error of a correlation estimate: (1 - r^2) / sqrt(n)
    assert abs(r - 0.7) < 4 * (1 - 0.49) / math.sqrt(d1.size)


@pytest.mark.parametrize("method", ["mc", "qmc"])
@pytest.mark.parametrize("rho", [0.7, 1.0])  # 1.0: semi-definite, factored by eigh, not Cholesky
def test_correlated_shocks_with_an_independent_indicator_listed_first(doc, method, rho):
    """The kernel mixes only the correlated rows (moved to the front of its buffer) and
    draws the others ready-scaled: every increment keeps its volatility, the correlated
    pair its correlation, the independent indicator none."""
    doc["indicators"].append(
        {
            "id": "rev",
            "name_zh": "收入",
            "name_en": "Revenue",
            "unit": "亿元",
            "kind": "level",
            "observations": [{"year": 2018, "value": 50.0, "source": "src", "text": "50亿元"}],
        }
    )
    sc = doc["scenarios"][0]
    sc["assumptions"].insert(
        0,
        {
            "indicator": "rev",
            "growth": {"dist": "fixed", "value": 0.03},
            "volatility": 0.2,
            "rationale": "test",
        },
    )
    sc["shock_correlation"] = {
        "indicators": ["share", "gdp"],
        "matrix": [[1.0, rho], [rho, 1.0]],
    }
    p = hz.simulate(make(doc), scenario="base", n_paths=2**15, rng=8, method=method)
    inc = {i: np.diff(p.states[i].astype(np.float64), axis=1).ravel() for i in p.indicators}
    n = inc["gdp"].size
    for ind, sigma in (("rev", 0.2), ("gdp", 0.05), ("share", 0.1)):
        # relative standard error of a sample standard deviation: 1/sqrt(2n)
        assert abs(inc[ind].std() / sigma - 1) < 4 / math.sqrt(2 * n), ind
    r = np.corrcoef(inc["gdp"], inc["share"])[0, 1]
    if rho == 1.0:
        assert r > 1 - 1e-6  # the same shock, up to the states' rounding
    else:
        assert abs(r - rho) < 4 * (1 - rho**2) / math.sqrt(n)
    for other in ("gdp", "share"):
        assert abs(np.corrcoef(inc["rev"], inc[other])[0, 1]) < 4 / math.sqrt(n)


def test_kernel_refuses_correlated_rows_that_do_not_lead(jiaozuo):
    from dataclasses import replace

    model = compile_model(jiaozuo, "baseline")
    assert model.shock_rows == (0, 1, 2, 3)  # gdp, revenue, investment, 蒙牛 moved first
    with pytest.raises(SimulationError, match=r"shock_rows: .* must lead .* got \(1, 2, 3, 4\)"):
        _ = replace(model, shock_rows=(1, 2, 3, 4)).kernel_mix


def test_parameter_rank_correlation(doc):
    sc = doc["scenarios"][0]
    sc["assumptions"][0]["growth"] = {"dist": "uniform", "low": 0.05, "high": 0.09}
    sc["assumptions"][1]["growth"] = {"dist": "triangular", "low": 0.0, "mode": 0.02, "high": 0.1}
    sc["parameter_correlation"] = {
        "indicators": ["gdp", "share"],
        "matrix": [[1.0, 0.5], [0.5, 1.0]],
    }
    p = hz.simulate(make(doc), scenario="base", n_paths=40_000, rng=8)
    rho = stats.spearmanr(p.params["gdp.growth"], p.params["share.growth"]).statistic
    # the Gaussian copula is built to give this Spearman correlation; SE ~ (1 - r^2)/sqrt(n)
    assert abs(rho - 0.5) < 4 * 0.75 / math.sqrt(40_000)
    # marginals are untouched by the copula
    assert stats.kstest(p.params["gdp.growth"], stats.uniform(0.05, 0.04).cdf).pvalue > 1e-3


def test_antithetic_pairs_mirror(doc):
    doc["scenarios"][0]["assumptions"][0]["growth"] = {"dist": "uniform", "low": 0.0, "high": 0.1}
    p = hz.simulate(
        make(doc), scenario="base", n_paths=BLOCK, rng=1, method="antithetic", precision="double"
    )
    g = p.params["gdp.growth"]
    half = BLOCK // 2
    np.testing.assert_allclose(g[:half] + g[half:], 0.1, rtol=1e-12)
    inc = np.diff(p.states["gdp"], axis=1) - np.log1p(g)[:, None]
    np.testing.assert_allclose(inc[:half], -inc[half:], atol=1e-12)


def test_brownian_bridge_matrix():
    """h = 4 by hand: W4 = 2ξ0, W2 = W4/2 + ξ1, W1 = W2/2 + ξ2/√2, W3 = (W2 + W4)/2 + ξ3/√2."""

    r = 1 / math.sqrt(2)
    want = np.array([[0.5, 0.5, r, 0], [0.5, 0.5, -r, 0], [0.5, -0.5, 0, r], [0.5, -0.5, 0, -r]])
    np.testing.assert_allclose(bridge_matrix(4), want, atol=1e-15)
    for h in range(1, 13):
        a = bridge_matrix(h)
        # orthogonal: the increments are independent standard normals
        np.testing.assert_allclose(a @ a.T, np.eye(h), atol=1e-14)
        # the first coordinate alone sets the total
        np.testing.assert_allclose(a.sum(axis=0), [math.sqrt(h)] + [0] * (h - 1), atol=1e-14)


def test_qmc_yearly_steps_are_independent_with_their_volatility(doc):
    p = hz.simulate(make(doc), scenario="base", n_paths=2**15, rng=2, method="qmc")
    steps = np.diff(p.states["gdp"].astype(np.float64), axis=1)  # (n, 5): years 2019…2023
    n = steps.shape[0]
    np.testing.assert_allclose(steps.std(axis=0) / 0.05, 1.0, atol=4 / math.sqrt(2 * n))
    c = np.corrcoef(steps.T)
    assert np.abs(c - np.eye(5)).max() < 4 / math.sqrt(n)


def test_qmc_marginals_are_uniform(doc):
    doc["scenarios"][0]["assumptions"][0]["growth"] = {"dist": "uniform", "low": 0.0, "high": 0.1}
    p = hz.simulate(make(doc), scenario="base", n_paths=2**14, rng=1, method="qmc", n_replicates=4)
    g = p.params["gdp.growth"]
    # scrambled Sobol' points stratify: each replicate's mean is very close to 0.05
    for r in range(4):
        assert abs(g[r * 4096 : (r + 1) * 4096].mean() - 0.05) < 1e-4


@pytest.mark.parametrize(
    "dist",
    [
        Uniform(low=0.08, high=0.085),
        Triangular(low=0.02, mode=0.07, high=0.12),
        Triangular(low=0.0, mode=0.0, high=0.1),
        Triangular(low=0.0, mode=0.1, high=0.1),
        Normal(mean=0.05, sd=0.02),
        Normal(mean=0.05, sd=0.02, low=0.0),
        LogNormal(mu=-3.0, sigma=0.5, high=0.2),
        Pert(low=0.0, mode=0.03, high=0.1),
    ],
)
def test_fast_quantiles_match_scipy(dist):
    u = np.linspace(0.0005, 0.9995, 999)
    np.testing.assert_allclose(_ppf(dist, u), dist._frozen().ppf(u), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_of_a_share_matches_logaddexp(dtype):
    """ln p from logit p, written out for speed, against numpy's logaddexp (in double)."""
    s = np.array(
        [-np.inf, -1e30, -200.0, -30.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 30.0, 200.0, 1e30, np.inf],
        dtype=dtype,
    )
    s = np.concatenate([s, np.linspace(-20, 20, 401, dtype=dtype)])
    want = -np.logaddexp(0.0, -s.astype(np.float64))
    got = _log_value(s.copy(), "logit")
    assert got.dtype == dtype
    # to a few ulp; below the type's smallest normal (e^-200 in float32) it may flush to 0
    fi = np.finfo(dtype)
    np.testing.assert_allclose(got, want, rtol=4 * fi.eps, atol=fi.tiny)
    assert np.isnan(_log_value(np.array([np.nan], dtype=dtype), "logit")).all()


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_paths": 0}, ValueError, r"n_paths: must be at least 1, got 0"),
        ({"n_paths": 2.5}, TypeError, r"n_paths: expected an int, got float"),
        (
            {"n_paths": 1000, "method": "qmc"},
            ValueError,
            r"n_paths: randomised QMC needs a power of two, got 1000 \(nearest: 512 or 1024\)",
        ),
        (
            {"n_paths": 1001, "method": "antithetic"},
            ValueError,
            r"antithetic pairs need an even number of paths, got 1001",
        ),
        ({"method": "sobol"}, ValueError, r"method: expected one of \['mc', 'antithetic', 'qmc'\]"),
        (
            {"scenario": "nope"},
            SimulationError,
            r"scenario: unknown id 'nope' \(known: "
            r"\['baseline', 'optimistic', 'pessimistic', 'reference', 'track-record'\]\)",
        ),
        ({"chunk_size": 1000}, ValueError, rf"chunk_size: must be a positive multiple of {BLOCK}"),
        ({"rng": -1}, ValueError, r"rng: a seed must be non-negative, got -1"),
        (
            {"rng": "seed"},
            TypeError,
            r"rng: expected None, an int, a numpy SeedSequence or "
            r"Generator, got str",
        ),
        ({"corrections": "maybe"}, ValueError, r"corrections: expected 'use' or 'ignore'"),
        (
            {"n_paths": 4096, "method": "qmc", "n_replicates": 3},
            ValueError,
            r"n_replicates: must be a power of two >= 2, got 3",
        ),
    ],
)
def test_bad_arguments(jiaozuo, kwargs, exc, match):
    args = {"scenario": "baseline", "n_paths": 100, "rng": 1}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        hz.simulate(jiaozuo, **args)


def test_unbounded_growth_for_a_level_is_refused_when_the_study_is_read(doc):
    doc["scenarios"][0]["assumptions"][0]["growth"] = {"dist": "normal", "mean": 0.05, "sd": 0.02}
    with pytest.raises(
        hz.StudyFileError,
        match=r"scenarios\[0\]\.assumptions\[0\]\.growth: growth must stay above -100% for a "
        r"level .* the distribution reaches -inf — truncate it",
    ):
        make(doc)


def test_a_trend_change_below_minus_100_percent_is_refused(doc):
    doc["scenarios"][0]["assumptions"][0]["shocks"] = [
        {
            "kind": "trend_change",
            "year": 2020,
            "growth": {"dist": "uniform", "low": -1.5, "high": 0},
        }
    ]
    with pytest.raises(hz.StudyFileError, match=r"assumptions\[0\]\.shocks\[0\]\.growth: growth"):
        make(doc)


def test_a_count_observed_at_zero_cannot_be_simulated(doc):
    doc["indicators"][0].update(kind="count", unit="件")
    doc["indicators"][0]["observations"] = [{"year": 2018, "value": 0.0, "source": "src"}]
    with pytest.raises(
        hz.StudyFileError,
        match=r"assumptions\[0\]: 'gdp' starts from 0 \(observed in 2018\); a count grows on "
        r"the log scale, which cannot start from zero",
    ):
        make(doc)


def test_a_base_year_that_would_ignore_later_data_is_refused(doc):
    doc["indicators"][0]["observations"].append({"year": 2020, "value": 120.0, "source": "src"})
    with pytest.raises(
        hz.StudyFileError,
        match=r"would start from 2018 and ignore its observation of 2020 — set the scenario's "
        r"base_year to 2020 or later \(it is 2018\)",
    ):
        make(doc)


def test_start_given_for_observed_indicator_is_refused(doc):
    doc["scenarios"][0]["assumptions"][0]["start"] = {"dist": "uniform", "low": 90.0, "high": 110.0}
    with pytest.raises(
        hz.StudyFileError,
        match=r"assumptions\[0\]\.start: 'gdp' is observed \(last in 2018\); an assumed start is "
        r"only for an indicator with no observation — drop the start",
    ):
        make(doc)


def test_parameter_correlation_that_breaks_psd_after_conversion(doc):
    # three growths with rank correlations near the PSD boundary
    doc["indicators"].append(
        {
            "id": "x",
            "name_zh": "x",
            "name_en": "x",
            "unit": "亿元",
            "kind": "level",
            "observations": [{"year": 2018, "value": 1.0, "source": "src"}],
        }
    )
    sc = doc["scenarios"][0]
    sc["assumptions"].append(
        {
            "indicator": "x",
            "growth": {"dist": "uniform", "low": 0.0, "high": 0.1},
            "volatility": 0.1,
            "rationale": "t",
        }
    )
    m = [[1.0, 0.999, 0.0], [0.999, 1.0, 0.0447], [0.0, 0.0447, 1.0]]
    sc["parameter_correlation"] = {"indicators": ["gdp", "share", "x"], "matrix": m}
    try:
        study = make(doc)
    except hz.StudyFileError:
        pytest.skip("rejected already as a rank-correlation matrix")
    with pytest.raises(SimulationError, match=r"parameter_correlation: not positive semi-definite"):
        hz.simulate(study, scenario="base", n_paths=10, rng=1)


@pytest.mark.parametrize("method", ["mc", "antithetic", "qmc"])
def test_same_seed_sequence_object_twice_gives_same_numbers(jiaozuo, method):
    seq = np.random.SeedSequence(42)
    a = hz.simulate(jiaozuo, scenario="baseline", n_paths=2**13, rng=seq, method=method)
    b = hz.simulate(jiaozuo, scenario="baseline", n_paths=2**13, rng=seq, method=method)
    assert_array_equal(a.states["gdp"], b.states["gdp"])
