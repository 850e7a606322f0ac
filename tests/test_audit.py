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
    found = {f.indicator: f for f in jiaozuo.audit().by_code("part-of")}
    f = found["innovation_fund"]
    assert f.severity == "info" and f.numbers["share"] == pytest.approx(1 / 3)
    # only the part observed: the whole is at least the part, and a target the part meets is met
    bound = found["food_cluster_output"]
    assert bound.numbers["lower_bound"] == 108.9
    met = [
        f
        for f in jiaozuo.audit().by_code("target-already-met")
        if f.indicator == "food_cluster_output"
    ]
    assert [f.numbers["target"] for f in met] == ["food-cluster-100"]


def test_part_larger_than_whole_is_an_error(jiaozuo):
    d = jiaozuo.to_dict()
    for ind in d["indicators"]:
        if ind["id"] == "innovation_fund":
            ind["observations"][0]["value"] = 2.0
            del ind["observations"][0]["text"]
    found = {f.indicator: f for f in hz.io.study_from_dict(d).audit().by_code("part-of")}
    assert found["innovation_fund"].severity == "error"


def test_targets_without_baseline_are_named(jiaozuo):
    ids = {f.numbers["target"] for f in jiaozuo.audit().by_code("no-baseline")}
    assert {"mingren-2019", "equipment-cluster-100", "rd-share-2019"} <= ids


def test_target_in_observed_year_is_evaluated(doc):
    doc["indicators"][0]["observations"].append({"year": 2020, "value": 120.0, "source": "src"})
    doc["scenarios"][0]["base_year"] = 2020  # else the study is refused: 2020 would be ignored
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


# ---------------------------------------------------------------- slips of the hand (issue 12)


def test_percent_for_fraction_growth_is_refused_naming_the_slip(doc):
    doc["scenarios"][0]["assumptions"][0]["growth"] = {"dist": "uniform", "low": 7, "high": 9}
    with pytest.raises(
        hz.StudyFileError,
        match=r"assumptions\[0\]\.growth: a median of 8 means \+800% a year, every year, beyond "
        r"the limits of −75% and \+300% a year; growth rates are fractions — did you mean "
        r"0\.08 \(8%\)\?",
    ):
        make(doc)


def test_a_share_drift_typed_as_percent_is_refused(doc):
    doc["scenarios"][0]["assumptions"][1]["growth"] = {"dist": "fixed", "value": 5.0}
    with pytest.raises(hz.StudyFileError, match=r"log-odds scale, beyond the limit of ±ln 4"):
        make(doc)


def test_volatility_typed_as_percent_is_refused(doc):
    doc["scenarios"][0]["assumptions"][0]["volatility"] = 3
    with pytest.raises(
        hz.StudyFileError,
        match=r"volatility: 3 is a yearly shock of ±300% on the log scale, above the limit of 1; "
        r"volatilities are fractions — did you mean 0\.03 \(3%\)\?",
    ):
        make(doc)


def test_implausible_but_possible_assumptions_are_audit_warnings(doc):
    doc["scenarios"][0]["assumptions"][0].update(
        growth={"dist": "fixed", "value": 0.8}, volatility=0.4
    )
    found = {(f.code, f.severity) for f in make(doc).audit()}
    assert ("implausible-assumption", "warning") in found
    msgs = [f.message for f in make(doc).audit().by_code("implausible-assumption")]
    assert any("multiplies gdp by 18.9 in 5 years" in m and "write 0.008" in m for m in msgs)
    assert any("volatility 0.4 is a yearly swing of about ±40%" in m for m in msgs)


def test_gdp_typed_in_wan_yuan_is_an_audit_error(doc):
    """The slip the new-user trial made: a 2018 GDP typed in 万元 into an 亿元 indicator was
    reported 'achieved' at −83% a year, with no finding."""
    doc["indicators"][0]["observations"] = [
        {"year": 2010, "value": 60.0, "source": "src"},
        {"year": 2018, "value": 1_000_000.0, "source": "src"},
    ]
    res = make(doc).audit()
    [jump] = res.by_code("unit-jump")
    assert jump.severity == "error" and jump.numbers["factor"] == 1e4
    assert "万 for 亿" in jump.message and "Read as 100 it grows +6.6% a year" in jump.message
    [t] = res.by_code("target-unit")
    assert t.severity == "error" and t.numbers["target"] == "gdp-2023"
    assert res.by_code("target-already-met") == []  # not reported as simply met


def test_a_target_typed_in_the_wrong_unit(doc):
    doc["targets"][0]["value"] = 1_400_000.0  # 140亿元 typed in 万元
    del doc["targets"][0]["quote"]
    doc["targets"][0].update(status="assumed", rationale="t", source=None)
    del doc["targets"][0]["source"]
    [t] = make(doc).audit().by_code("target-unit")
    assert t.numbers["factor"] == 1e4 and "would need +7.0%" in t.message


def test_ordinary_fast_growth_is_not_a_unit_slip(doc):
    doc["indicators"][0]["observations"] = [
        {"year": 2008, "value": 10.0, "source": "src"},
        {"year": 2018, "value": 100.0, "source": "src"},  # ×10 in 10 years: +26% a year
    ]
    assert make(doc).audit().by_code("unit-jump") == []


def test_assumption_far_from_history_is_noted(doc):
    doc["indicators"][0]["observations"] = [
        {"year": 2008, "value": 50.0, "source": "src"},
        {"year": 2018, "value": 100.0, "source": "src"},  # +7.2% a year
    ]
    doc["scenarios"][0]["assumptions"][0]["growth"] = {"dist": "fixed", "value": 0.3}
    [f] = make(doc).audit().by_code("assumption-vs-history")
    assert f.numbers["history_cagr"] == pytest.approx(2 ** (1 / 10) - 1)
    assert f.numbers["growth"] == 0.3


def test_audit_is_a_list_of_small_checks(jiaozuo):
    from hzforecast.audit import CHECKS

    together = [f for check in CHECKS for f in check(jiaozuo)]
    assert sorted(map(repr, together)) == sorted(map(repr, jiaozuo.audit().findings))
