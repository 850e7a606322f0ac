"""The audit notices what does not add up, and says so with the numbers."""

import pytest

import hzforecast as hz
from hzforecast.audit import required_cagr

from .conftest import make


def test_gdp_multiple_flagged_with_likely_reading(jiaozuo):
    res = jiaozuo.audit()
    [f] = res.by_code("multiple-mismatch")
    assert f.severity == "error" and f.indicator == "gdp"
    assert f.numbers["stated_factor"] == 36.0  # 增长35倍 = 36 times
    assert f.numbers["implied_factor"] == pytest.approx(14195 / 3.9)
    assert f.numbers["suggested"] == 141.95
    assert f.numbers["alternative_fits"] is True
    assert "14195" in f.message and "141.95" in f.message


def test_budget_revenue_multiple_passes(jiaozuo):
    oks = {f.indicator: f for f in jiaozuo.audit().by_code("multiple-ok")}
    assert oks["budget_revenue"].numbers["implied_factor"] == pytest.approx(11.6 / 0.34)
    assert "budget_revenue" not in {
        f.indicator for f in jiaozuo.audit().by_code("multiple-mismatch")
    }


def test_per_capita_population(jiaozuo):
    [f] = jiaozuo.audit().by_code("per-capita")
    # 1200 patents at 336 per 10,000 people: 1200 / 336 * 10000
    assert f.numbers["population"] == pytest.approx(35714.2857, rel=1e-6)
    assert f.severity == "info" and "3.57万" in f.message


def test_implied_cagr_against_plan(jiaozuo):
    hp = [f for f in jiaozuo.audit().by_code("history-vs-plan") if f.indicator == "gdp"]
    cagrs = sorted({round(f.numbers["history_cagr"], 6) for f in hp})
    assert cagrs == [
        round((141.95 / 3.9) ** (1 / 14) - 1, 6),
        round((14195 / 3.9) ** (1 / 14) - 1, 6),
    ]
    implausible = jiaozuo.audit().by_code("implausible-history")
    assert [(f.indicator, f.numbers["reading"]) for f in implausible] == [("gdp", "stated")]


def test_part_of(jiaozuo):
    [f] = jiaozuo.audit().by_code("part-of")
    assert f.severity == "info" and f.numbers["share"] == pytest.approx(1 / 3)


def test_part_larger_than_whole_is_an_error(jiaozuo):
    d = jiaozuo.to_dict()
    for ind in d["indicators"]:
        if ind["id"] == "innovation_fund":
            ind["observations"][0]["value"] = 2.0
            del ind["observations"][0]["text"]
    [f] = hz.io.study_from_dict(d).audit().by_code("part-of")
    assert f.severity == "error"


def test_targets_without_baseline_are_named(jiaozuo):
    ids = {f.numbers["target"] for f in jiaozuo.audit().by_code("no-baseline")}
    assert {"mingren-2019", "new-materials-cluster", "rd-share-2019"} <= ids


def test_target_in_observed_year_is_evaluated(doc):
    doc["indicators"][0]["observations"].append({"year": 2020, "value": 120.0, "source": "src"})
    doc["targets"].append(
        {
            "id": "gdp-2020",
            "indicator": "gdp",
            "year": 2020,
            "comparator": ">=",
            "value": 115.0,
            "status": "assumed",
            "rationale": "t",
        }
    )
    doc["targets"].append(
        {
            "id": "gdp-2020-high",
            "indicator": "gdp",
            "year": 2020,
            "comparator": ">=",
            "value": 130.0,
            "status": "assumed",
            "rationale": "t",
        }
    )
    res = make(doc).audit()
    assert [f.numbers["target"] for f in res.by_code("target-met")] == ["gdp-2020"]
    assert [f.numbers["target"] for f in res.by_code("target-missed")] == ["gdp-2020-high"]


def test_target_already_met_and_implausible(doc):
    doc["targets"].append(
        {
            "id": "low",
            "indicator": "gdp",
            "year": 2023,
            "comparator": ">=",
            "value": 90.0,
            "status": "assumed",
            "rationale": "t",
        }
    )
    doc["targets"].append(
        {
            "id": "moon",
            "indicator": "gdp",
            "year": 2020,
            "comparator": ">=",
            "value": 1000.0,
            "status": "assumed",
            "rationale": "t",
        }
    )
    res = make(doc).audit()
    assert [f.numbers["target"] for f in res.by_code("target-already-met")] == ["low"]
    [f] = res.by_code("target-implausible")
    assert f.numbers["required_cagr"] == pytest.approx(10**0.5 - 1)


def test_required_cagr_closed_form():
    assert required_cagr(108.9, 120.0, 1) == pytest.approx(120 / 108.9 - 1)
    assert required_cagr(100, 200, 10) == pytest.approx(2**0.1 - 1)
    with pytest.raises(ValueError, match="years: must be positive, got 0"):
        required_cagr(1, 2, 0)


def test_audit_never_changes_the_study(jiaozuo):
    before = jiaozuo.model_dump()
    jiaozuo.audit()
    assert jiaozuo.model_dump() == before


def test_audit_renders(jiaozuo):
    res = jiaozuo.audit()
    text = str(res)
    assert text.splitlines()[1].lstrip().startswith("ERROR multiple-mismatch")
    frame = res.to_frame()
    assert list(frame.columns) == ["severity", "code", "indicator", "message", "numbers"]
    assert len(frame) == len(res)
    assert "<table>" in res._repr_html_()
