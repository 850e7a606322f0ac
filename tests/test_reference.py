"""Reference classes: the shipped panels, validation, describe, and empirical-Bayes priors
checked against known truths (issue 14)."""

import math

import numpy as np
import pandas as pd
import pytest

import hzforecast as hz
from hzforecast import reference
from hzforecast._fitting import GrowthPrior


@pytest.fixture(scope="module")
def panel():
    return reference.load("china-provinces")


def test_the_built_in_panel(panel):
    inds = set(panel.indicators.indicator)
    assert {"gdp", "budget_revenue", "rd_intensity", "valid_invention_patents"} <= inds
    assert panel.data.year.max() == 2018  # the vantage point: nothing after 2018
    assert panel.kind("rd_intensity") == "share"
    henan = panel.series("rd_intensity", "河南")
    assert henan.loc[2018] == pytest.approx(0.0140)  # 1.40% read as a fraction
    assert panel.series("gdp", "河南").loc[2018] == pytest.approx(49935.9)
    assert len(panel.regions("gdp")) == 31
    with pytest.raises(KeyError, match=r"indicator: 'nope' is not in panel"):
        panel.series("nope", "河南")


def test_describe_against_a_direct_computation(panel):
    d = panel.describe("gdp", periods=[(2013, 2018)]).iloc[0]
    g = panel.data[(panel.data.indicator == "gdp") & (panel.data.year.between(2013, 2018))]
    wide = np.log(g.pivot(index="year", columns="region", values="value"))
    growth = np.expm1((wide.loc[2018] - wide.loc[2013]) / 5)
    vol = wide.diff().iloc[1:].std(ddof=1)
    assert d.regions == 31
    assert d.growth_median == pytest.approx(np.quantile(growth, 0.5), rel=1e-12)
    assert d.growth_p10 == pytest.approx(np.quantile(growth, 0.1), rel=1e-12)
    assert d.volatility_median == pytest.approx(np.quantile(vol, 0.5), rel=1e-12)
    # shares are described on the logit scale
    assert panel.describe("rd_intensity").iloc[-1].growth_median < 0.2


def _long(rows):
    return pd.DataFrame(rows, columns=["indicator", "region", "year", "value"])


META = {"x": {"unit": "亿元", "kind": "level"}, "s": {"unit": "%", "kind": "share"}}


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        (
            [("x", "a", 2018, 1.0), ("x", "a", 2018, 2.0)],
            r"row 2: a second value for 'x', 'a', 2018",
        ),
        ([("x", "a", 2018, 0.0)], r"row 1: 'x' is a level and must be positive, got 0\.0"),
        ([("s", "a", 2018, 120.0)], r"row 1: 's' is a share and must be a share in \(0, 1\)"),
        ([("x", "a", 2018, "n/a")], r"row 1: value 'n/a' is not a finite number"),
        ([("x", "a", 2018.5, 1.0)], r"row 1: year 2018\.5 is not a whole year"),
        ([("y", "a", 2018, 1.0)], r"indicator 'y' has no unit and kind"),
    ],
)
def test_a_users_panel_is_validated(rows, match):
    with pytest.raises(reference.PanelError, match=match):
        reference.from_frame(_long(rows), indicators=META, name="mine")


def test_unknown_units_and_kinds_are_refused():
    with pytest.raises(reference.PanelError, match=r"'x' has unknown unit 'furlongs'"):
        reference.from_frame(
            _long([("x", "a", 2018, 1.0)]), indicators={"x": {"unit": "furlongs", "kind": "level"}}
        )
    with pytest.raises(reference.PanelError, match=r"'x' kind must be one of"):
        reference.from_frame(
            _long([("x", "a", 2018, 1.0)]), indicators={"x": {"unit": "亿元", "kind": "stock"}}
        )


def test_a_users_panel_from_csv(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("indicator,region,year,value\nx,NA,2017,1\nx,NA,2018,2\n", encoding="utf-8")
    panel = reference.from_csv(p, indicators=META)
    assert panel.regions("x") == ["NA"]  # a region named NA is a region, not a missing value


def _simulated_panel(seed, *, m0, kappa0, a0, b0, q, regions=300, years=15):
    """Regions drawn from the model itself: σ² ~ IG(a0, b0), the current drift
    ~ N(m0, σ²/κ0), and the drift walking backwards from it with variance qσ²."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(regions):
        s2 = b0 / rng.gamma(a0)
        mu_T = m0 + math.sqrt(s2 / kappa0) * rng.standard_normal()
        # drifts back in time from the last year: μ_{t-1} = μ_t - η_t
        mus = [mu_T]
        for _ in range(years - 2):
            mus.append(mus[-1] - math.sqrt(q * s2) * rng.standard_normal())
        mus = mus[::-1]
        z = np.cumsum([0.0] + [m + math.sqrt(s2) * rng.standard_normal() for m in mus])
        rows += [("x", f"r{r}", 2000 + t, float(np.exp(z[t]))) for t in range(years)]
    return reference.from_frame(_long(rows), indicators=META, name="sim")


def test_empirical_bayes_recovers_known_hyperparameters():
    truth = dict(m0=0.08, kappa0=4.0, a0=6.0, b0=6 * 0.03**2, q=0.5)
    p = reference.prior(_simulated_panel(11, **truth), "x", drift_walk_floor=0.0)
    assert p.mu0 == pytest.approx(truth["m0"], abs=0.01)
    assert p.kappa0 == pytest.approx(truth["kappa0"], rel=0.5)
    assert p.drift_walk == pytest.approx(truth["q"], rel=0.35)
    # the prior mean of σ² (b0 / (a0 - 1)) is well determined even where a0, b0 trade off
    assert p.b0 / (p.a0 - 1) == pytest.approx(truth["b0"] / (truth["a0"] - 1), rel=0.2)
    assert p.provenance["regions"] and p.provenance["years"] == (2000, 2014)


def test_prior_uses_nothing_after_until(panel):
    a = reference.prior(panel, "gdp", until=2013)
    assert a.provenance["years"] == (2000, 2013)
    trimmed = reference.from_frame(
        panel.data[panel.data.year <= 2013], indicators=panel.indicators, name="trimmed"
    )
    b = reference.prior(trimmed, "gdp")
    assert (a.mu0, a.kappa0, a.a0, a.b0) == pytest.approx((b.mu0, b.kappa0, b.a0, b.b0))


def test_the_drift_walk_floor(panel):
    p = reference.prior(panel, "rd_intensity")
    assert p.drift_walk >= reference.DRIFT_WALK_FLOOR
    assert p.provenance["drift_walk_ml"] < p.drift_walk  # the marginal likelihood's, lower


def test_partial_pooling_shrinks_toward_the_class(panel):
    fits = panel.fit("gdp", until=2013)
    p = reference.prior(panel, "gdp", until=2013)
    own = {r: np.log(panel.series("gdp", r, until=2013)).diff().iloc[-3:].mean() for r in fits}
    for r, f in fits.items():
        lo, hi = sorted((own[r], p.mu0))
        assert lo - 1e-9 <= f.mu_n <= hi + 1e-9 or abs(f.mu_n - p.mu0) < abs(own[r] - p.mu0), r


def test_jiaozuo_urban_income_with_its_reference_class(panel, jiaozuo):
    """Issue 14's done criterion: from its two points, the median 2019–2025 growth lies in the
    reference class's central range and P(2025 below 2018) < 0.05; the fit names its prior.
    The class is provinces' GDP per head (disposable income per head is not in the panel:
    the nearest per-head class, an assumption the docs state)."""
    prior = GrowthPrior.from_reference(panel, "gdp_per_capita")
    r = hz.fit(jiaozuo.indicator("urban_income"), prior=prior)
    recent = panel.describe("gdp_per_capita").iloc[-1]  # 2013–2018 across provinces
    f = r.forecast(7)
    growth = (f["median"].iloc[-1] / 32345.0) ** (1 / 7) - 1
    assert recent.growth_p10 <= growth <= recent.growth_p90
    assert r.prob_reach(32345.0, 2025, comparator="<=") < 0.05
    assert "reference class china-provinces:gdp_per_capita" in r.summary()


def test_jiaozuo_reference_scenario_is_resolved_with_provenance(jiaozuo, panel):
    sc = jiaozuo.scenario("reference")
    refs = {a.indicator: a for a in sc.assumptions if a.reference is not None}
    assert set(refs) == {"gdp", "budget_revenue", "rd_share", "invention_patents", "science_budget"}
    gdp = refs["gdp"]
    assert gdp.reference.panel == "china-provinces" and gdp.reference.indicator == "gdp"
    assert gdp.reference.until == 2018 and gdp.reference.regions == 31
    # a second computation: the zone's corrected history fitted with the class prior
    p = reference.prior(panel, "gdp", until=2018)
    want = hz.fit(jiaozuo.indicator("gdp"), prior=p).to_assumption()
    assert gdp.growth.mean_ == pytest.approx(want.growth.mean_, rel=1e-12)
    assert gdp.volatility == pytest.approx(want.volatility, rel=1e-12)
    assert gdp.volatility_df == pytest.approx(want.volatility_df, rel=1e-12)
    assert gdp.growth_walk == pytest.approx(want.growth_walk, rel=1e-12)
    assert refs["rd_share"].reference.fitted_to.startswith("no observation")


def test_a_written_study_with_reference_growth_reads_back(jiaozuo, tmp_path):
    back = hz.read_study(hz.write_study(jiaozuo, tmp_path / "j.toml"))
    assert back.scenario("reference") == jiaozuo.scenario("reference")


@pytest.mark.parametrize(
    ("growth", "extra", "match"),
    [
        ({"from": "reference", "panel": "nope", "indicator": "gdp"}, {}, r"panel: unknown 'nope'"),
        (
            {"from": "reference", "panel": "china-provinces", "indicator": "gpd"},
            {},
            r"growth\.indicator: indicator: 'gpd' is not in panel",
        ),
        (
            {"from": "reference", "panel": "china-provinces", "indicator": "gdp", "x": 1},
            {},
            r"takes panel, indicator and optionally until",
        ),
        (
            {"from": "reference", "panel": "china-provinces", "indicator": "gdp"},
            {"volatility": 0.05},
            r"volatility come\(s\) from the reference class too; drop it",
        ),
        (
            {"from": "reference", "panel": "china-provinces", "indicator": "rd_intensity"},
            {},
            r"'rd_intensity' is a share in panel 'china-provinces'; 'gdp' is a level",
        ),
        (
            {"from": "elsewhere"},
            {},
            r"growth\.from: expected 'reference' or 'track-record', got 'elsewhere'",
        ),
    ],
)
def test_reference_growth_errors_name_the_field(doc, growth, extra, match):
    from .conftest import make

    a = doc["scenarios"][0]["assumptions"][0]
    a.pop("volatility")
    a.update(growth=growth, **extra)
    with pytest.raises(hz.StudyFileError, match=r"scenarios\[0\]\.assumptions\[0\]\.growth"):
        make(doc)
    with pytest.raises(hz.StudyFileError, match=match):
        make(doc)


def test_reference_growth_plot(panel):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from hzforecast import plot

    ax = plot.reference_growth(panel, "gdp")
    median = ax.get_lines()[0].get_ydata()
    g = panel.data[(panel.data.indicator == "gdp") & (panel.data.year.isin([2017, 2018]))]
    wide = g.pivot(index="year", columns="region", values="value")
    assert median[-1] == pytest.approx(np.median(wide.loc[2018] / wide.loc[2017] - 1), rel=1e-9)
    with pytest.raises(ValueError, match="is a rate"):
        plot.reference_growth(panel, "gdp_real_index")


def test_shipped_priors_are_the_computed_ones():
    """Every prior shipped for reading study files fast equals a fresh estimate (the optimiser
    is deterministic; across machines BLAS may move the last digits)."""
    import dataclasses

    from hzforecast import reference

    fresh = reference.builtin_priors("china-provinces")
    shipped = reference._shipped_priors("china-provinces")
    assert sorted(shipped) == sorted(fresh)
    for key, p in fresh.items():
        s = shipped[key]
        for f in ("mu0", "kappa0", "a0", "b0", "drift_walk"):
            assert s[f] == pytest.approx(getattr(p, f), rel=1e-6, abs=1e-9), (key, f)
        assert s["provenance"]["regions"] == list(p.provenance["regions"])
        assert dataclasses.asdict(p).keys() == s.keys()
