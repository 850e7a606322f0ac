"""The track record of plans: its figures against direct counts of the shipped file, the model's
probability against its closed form, leave-one-year-out against refits, and the track-record
scenario against the record's own hit rate."""

import csv
import math
from importlib import resources

import numpy as np
import pytest

import hzforecast as hz
from hzforecast import trackrecord as tr

from .conftest import make
from .test_assess import within


@pytest.fixture(scope="module")
def record():
    return hz.reference.plans()


def raw_rows():
    """The shipped file read with the csv module (a second reader)."""
    root = resources.files("hzforecast") / "data" / "reference"
    with root.joinpath("china-provincial-plans-2015-2018.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def direct_gaps(indicator):
    out = []
    for r in raw_rows():
        kind = r["target_type"].split("(")[0].strip()
        if (
            r["indicator"] == indicator
            and kind in tr.NUMERIC_TYPES
            and r["target_low"]
            and r["actual"]
        ):
            out.append((int(r["year"]), round(float(r["actual"]) - float(r["target_low"]), 6)))
    return out


def test_nothing_after_2018_and_every_target_quoted(record):
    rows = raw_rows()
    assert max(int(r["year"]) for r in rows) == 2018
    # every numeric target is quoted from its report (one row records that none was found)
    numeric = [r for r in rows if r["target_low"]]
    assert numeric and all(r["quote_target"] and r["source_target"] for r in numeric)
    assert len(record.frame) == len(rows)


@pytest.mark.parametrize("alias", ["gdp_growth", "budget_revenue", "fixed_asset_investment"])
def test_describe_against_direct_counts(record, alias):
    name = tr.INDICATORS[alias]
    gaps = direct_gaps(name)
    d = record.describe()
    for year in (2015, 2016, 2017, 2018, "all"):
        g = [x for y, x in gaps if year == "all" or y == year]
        row = d.loc[(name, str(year))]
        assert row["n"] == len(g)
        assert row["hit_rate"] == pytest.approx(sum(x >= 0 for x in g) / len(g))
        assert row["on_floor"] == pytest.approx(sum(0 <= x <= 0.1 for x in g) / len(g))
        assert row["gap_median"] == pytest.approx(np.quantile(g, 0.5, method="inverted_cdf"))


def test_p_meet_is_the_smoothed_share(record):
    m = record.fit("budget_revenue")
    g = [x for _, x in direct_gaps(tr.INDICATORS["budget_revenue"])]
    assert m.slope == 0.0  # ambition does not predict revenue outcomes (|t| < 2)
    assert m.p_meet() == pytest.approx((sum(x >= 0 for x in g) + 0.5) / (len(g) + 1))
    gdp = record.fit("gdp_growth")
    assert gdp.slope < 0 and abs(gdp.slope / gdp.slope_se) >= 2  # ambition: harder targets miss
    # a more ambitious target is less likely met
    assert gdp.p_meet(ambition=1.0) < gdp.p_meet(ambition=0.0) < gdp.p_meet(ambition=-1.0)


def test_year_effect_by_the_method_of_moments(record):
    g = direct_gaps(tr.INDICATORS["budget_revenue"])
    by = {y: [x for yy, x in g if yy == y] for y in (2015, 2016, 2017, 2018)}
    means = [np.mean(v) for v in by.values()]
    noise = np.mean([np.var(v, ddof=1) / len(v) for v in by.values()])
    want = math.sqrt(max(np.var(means, ddof=1) - noise, 0.0))
    assert record.year_effects("budget_revenue")[1] == pytest.approx(want)
    shock = record.common_shock({"rev": "budget_revenue", "gdp": "gdp_growth"})
    assert shock["loadings"]["rev"] == pytest.approx(round(want, 4))
    hz.CommonShock.model_validate(shock)  # a valid study field as it stands


def test_loyo_predicts_each_year_from_the_others(record):
    f = record.loyo("gdp_growth")
    assert sorted(f["year"].unique()) == [2015, 2016, 2017, 2018]
    row = f[f["year"] == 2017].iloc[0]
    m = record.fit("gdp_growth", exclude_years=(2017,))
    amb = row["ambition"]
    assert row["p_model"] == m.p_meet(amb if np.isfinite(amb) else None)
    assert row["p_climatology"] == m.hit_rate


def test_brier_as_documented(record):
    """docs/trackrecord.md: for GDP the model beats climatology and the plan read as a
    forecast; for budget revenue no predictor survives, so the model is climatology, and
    both beat the plan."""
    b = record.brier()
    gdp = b.loc[(tr.INDICATORS["gdp_growth"], "all")]
    rev = b.loc[(tr.INDICATORS["budget_revenue"], "all")]
    assert gdp["model"] < gdp["climatology"] and gdp["model"] < gdp["plan"]
    assert (
        rev["model"] == pytest.approx(rev["climatology"], abs=0.002) and rev["model"] < rev["plan"]
    )
    # the Brier score recomputed from the rows
    f = record.loyo("gdp_growth")
    assert gdp["model"] == pytest.approx(np.mean((f["p_model"] - f["met"].astype(float)) ** 2))


def test_track_record_scenario_reproduces_the_hit_rate(jiaozuo):
    """Each growth is the target's lower end plus a gap the record has; judged on the published
    figure (to 0.1 pp), P(met) is the record's hit rate."""
    res = hz.assess(jiaozuo, scenario="track-record", n_paths=2**15, rng=4)
    for tid, alias in (
        ("gdp-growth-2019", "gdp_growth"),
        ("budget-revenue-growth-2019", "budget_revenue"),
        ("fixed-asset-investment-growth-2019", "fixed_asset_investment"),
    ):
        g = [x for _, x in direct_gaps(tr.INDICATORS[alias])]
        within(res[tid].p_in_year, sum(x >= 0 for x in g) / len(g))
    a = jiaozuo.scenario("track-record").assumption("gdp")
    assert a.track_record.targets == len(direct_gaps(tr.INDICATORS["gdp_growth"]))
    assert a.status == "assumed" and "province" in a.rationale


def _tr_doc(doc, growth, **scenario):
    doc["targets"].append(
        {"id": "g-2019", "indicator": "gdp", "year": 2019, "measure": "growth",
         "comparator": ">=", "value": 0.07, "status": "assumed", "rationale": "t"}
    )  # fmt: skip
    sc = doc["scenarios"][0]
    sc.update({"end_year": 2019, **scenario})
    a = sc["assumptions"][0]
    a.pop("volatility")
    a["growth"] = growth
    return doc


@pytest.mark.parametrize(
    ("growth", "scenario", "match"),
    [
        ({"from": "track-record", "indicator": "gdp_growth"}, {}, "takes indicator, target"),
        ({"from": "track-record", "indicator": "nope", "target": "g-2019"}, {}, "unknown 'nope'"),
        ({"from": "track-record", "indicator": "gdp_growth", "target": "gdp-2023"}, {},
         "must be a growth target"),
        ({"from": "track-record", "indicator": "gdp_growth", "target": "g-2019"},
         {"end_year": 2023}, "must run one year"),
        ({"from": "track-record", "indicator": "gdp_growth", "target": "g-2019", "ambition": "x"},
         {}, "ambition: expected a number"),
    ],
)  # fmt: skip
def test_track_record_growth_errors_name_the_field(doc, growth, scenario, match):
    d = _tr_doc(doc, growth, **scenario)
    with pytest.raises(hz.StudyFileError, match=r"scenarios\[0\]\.assumptions\[0\]\.growth"):
        make(d)
    with pytest.raises(hz.StudyFileError, match=match):
        make(d)


def test_track_record_growth_refuses_its_own_volatility(doc):
    d = _tr_doc(doc, {"from": "track-record", "indicator": "gdp_growth", "target": "g-2019"})
    d["scenarios"][0]["assumptions"][0]["volatility"] = 0.03
    with pytest.raises(hz.StudyFileError, match="volatility cannot be set"):
        make(d)


def test_a_resolved_study_round_trips(tmp_path, jiaozuo):
    p = tmp_path / "j.toml"
    hz.write_study(jiaozuo, p)
    again = hz.load_study(p)
    assert again.scenario("track-record") == jiaozuo.scenario("track-record")


def test_simple_regression_against_statsmodels():
    import statsmodels.api as sm

    rng = np.random.default_rng(2)
    x = rng.normal(size=40)
    y = 0.3 - 0.6 * x + rng.normal(scale=0.5, size=40)
    b0, b1, se = tr._simple_ols(x, y)
    res = sm.OLS(y, sm.add_constant(x)).fit()
    assert (b0, b1, se) == pytest.approx((res.params[0], res.params[1], res.bse[1]), rel=1e-10)


def test_shipped_models_are_the_computed_ones(record):
    """The gap models shipped for reading study files fast equal a fresh fit of the record."""
    import dataclasses

    for alias in tr.INDICATORS:
        name = tr.INDICATORS[alias]
        try:
            fresh = record.fit(alias)
        except ValueError:
            continue
        shipped = tr.builtin_model(alias)
        a, b = dataclasses.asdict(shipped), dataclasses.asdict(fresh)
        for k in a:
            if isinstance(a[k], float) and math.isnan(a[k]):
                assert math.isnan(b[k]), (name, k)
            elif isinstance(a[k], str | int):
                assert a[k] == b[k], (name, k)
            else:
                assert a[k] == pytest.approx(b[k], rel=1e-12), (name, k)
