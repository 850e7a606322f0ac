"""Validation: every bad input gets a clear error naming file, field, expectation and value."""

import json
import math

import pytest
import tomli_w

import hzforecast as hz
from hzforecast.io import StudyFileError

from .conftest import make


def write(tmp_path, doc, fmt="toml"):
    path = tmp_path / f"study.{fmt}"
    if fmt == "toml":
        path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    else:
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_minimal_study_is_valid(doc):
    s = make(doc)
    assert s.indicator("gdp").observations[0].value == 100.0
    assert s.target("share-2023").status == "assumed"


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_negative_level(tmp_path, doc, fmt):
    doc["indicators"][0]["observations"][0].update(value=-5.0, text=None)
    del doc["indicators"][0]["observations"][0]["text"]
    path = write(tmp_path, doc, fmt)
    with pytest.raises(
        StudyFileError,
        match=r"study\.(toml|json): indicators\[0\]: "
        r"observations\[0\] \(year 2018\)\.value: level indicator value must be "
        r"positive, got -5\.0",
    ):
        hz.load_study(path)


def test_share_of_100_percent_or_more(tmp_path, doc):
    doc["indicators"][1]["observations"][0] = {"year": 2018, "value": 1.2, "source": "src"}
    with pytest.raises(
        StudyFileError,
        match=r"indicators\[1\]: observations\[0\] \(year 2018\)"
        r"\.value: share indicator value must be a fraction strictly between 0 "
        r"and 1, got 1\.2 \(120%\)",
    ):
        hz.load_study(write(tmp_path, doc))
    doc["indicators"][1]["observations"][0]["value"] = 1.0
    with pytest.raises(StudyFileError, match=r"got 1\.0 \(100%\)"):
        hz.load_study(write(tmp_path, doc))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_inf(tmp_path, doc, bad):
    doc["indicators"][0]["observations"][0]["value"] = bad
    del doc["indicators"][0]["observations"][0]["text"]
    with pytest.raises(
        StudyFileError,
        match=r"indicators\[0\]\.observations\[0\]\.value: "
        r"Input should be a finite number",
    ):
        hz.load_study(write(tmp_path, doc))


def test_nan_in_json_is_rejected_at_parse(tmp_path, doc):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc).replace('"value": 100.0', '"value": NaN'), encoding="utf-8")
    with pytest.raises(StudyFileError, match=r"s\.json: JSON constant NaN is not allowed"):
        hz.load_study(path)


def test_unknown_unit(tmp_path, doc):
    doc["indicators"][0]["unit"] = "千元"
    with pytest.raises(
        StudyFileError,
        match=r"indicators\[0\]\.unit: unknown unit '千元'; "
        r"expected one of",
    ):
        hz.load_study(write(tmp_path, doc))


@pytest.mark.parametrize("year", [1948, 2101])
def test_year_out_of_range(tmp_path, doc, year):
    doc["indicators"][0]["observations"][0]["year"] = year
    with pytest.raises(
        StudyFileError,
        match=r"indicators\[0\]\.observations\[0\]\.year: Input "
        rf"should be (greater|less) than or equal to (1949|2100), got {year}",
    ):
        hz.load_study(write(tmp_path, doc))


def test_year_as_string_is_not_coerced(tmp_path, doc):
    doc["indicators"][0]["observations"][0]["year"] = "2018"
    with pytest.raises(
        StudyFileError,
        match=r"observations\[0\]\.year: Input should be a valid "
        r"integer, got '2018'",
    ):
        hz.load_study(write(tmp_path, doc))


def test_value_as_string_is_not_coerced(doc):
    doc["indicators"][0]["observations"][0]["value"] = "100"
    with pytest.raises(StudyFileError, match=r"value: Input should be a valid number, got '100'"):
        make(doc)


@pytest.mark.parametrize("section", ["sources", "indicators", "targets", "scenarios"])
def test_duplicate_ids(doc, section):
    doc[section].append(dict(doc[section][0]))
    with pytest.raises(StudyFileError, match=rf"{section}: duplicate id"):
        make(doc)


def test_duplicate_observation_year(doc):
    obs = doc["indicators"][0]["observations"]
    obs.append({"year": 2018, "value": 101.0, "source": "src"})
    with pytest.raises(StudyFileError, match=r"indicators\[0\]: observations: duplicate year 2018"):
        make(doc)


def test_unsorted_years_are_sorted(doc):
    obs = doc["indicators"][0]["observations"]
    obs.insert(0, {"year": 2019, "value": 107.0, "source": "src"})
    doc["scenarios"][0]["base_year"] = 2019  # (a scenario from 2018 would ignore 2019)
    s = make(doc)
    assert [o.year for o in s.indicator("gdp").observations] == [2018, 2019]


def test_target_on_unknown_indicator(doc):
    doc["targets"][0]["indicator"] = "gpd"
    with pytest.raises(
        StudyFileError,
        match=r"targets\[0\]\.indicator: unknown indicator 'gpd' "
        r"\(known: \['gdp', 'share'\]\)",
    ):
        make(doc)


def test_assumption_for_unknown_indicator(doc):
    doc["scenarios"][0]["assumptions"][0]["indicator"] = "fai"
    with pytest.raises(
        StudyFileError,
        match=r"scenarios\[0\]\.assumptions\[0\]\.indicator: "
        r"unknown indicator 'fai'",
    ):
        make(doc)


def test_unknown_source(doc):
    doc["indicators"][0]["observations"][0]["source"] = "nowhere"
    with pytest.raises(
        StudyFileError,
        match=r"indicators\[0\]\.observations\[0\]\.source: "
        r"unknown source 'nowhere'",
    ):
        make(doc)


def test_unknown_field_rejected(doc):
    doc["indicators"][0]["colour"] = "red"
    with pytest.raises(
        StudyFileError,
        match=r"indicators\[0\]\.colour: Extra inputs are not "
        r"permitted",
    ):
        make(doc)


def _corr(doc, matrix, ids=("gdp", "share")):
    doc["scenarios"][0]["shock_correlation"] = {"indicators": list(ids), "matrix": matrix}
    return doc


def test_correlation_not_symmetric(doc):
    with pytest.raises(
        StudyFileError,
        match=r"scenarios\[0\]\.shock_correlation: matrix: not "
        r"symmetric: \[0\]\[1\]=0\.5 but \[1\]\[0\]=0\.3",
    ):
        make(_corr(doc, [[1.0, 0.5], [0.3, 1.0]]))


def test_correlation_not_psd_names_smallest_eigenvalue(doc):
    doc["indicators"].append(
        {"id": "x", "name_zh": "x", "name_en": "x", "unit": "亿元", "kind": "level"}
    )
    doc["scenarios"][0]["assumptions"].append(
        {
            "indicator": "x",
            "growth": {"dist": "fixed", "value": 0.0},
            "volatility": 0.1,
            "rationale": "t",
        }
    )
    m = [[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]
    with pytest.raises(
        StudyFileError,
        match=r"matrix: not positive semi-definite \(smallest "
        r"eigenvalue -0\.8",
    ):
        make(_corr(doc, m, ("gdp", "share", "x")))


def test_correlation_without_unit_diagonal(doc):
    with pytest.raises(StudyFileError, match=r"matrix: diagonal must be 1, got \[0\.9, 1\.0\]"):
        make(_corr(doc, [[0.9, 0.2], [0.2, 1.0]]))


def test_correlation_wrong_shape(doc):
    with pytest.raises(StudyFileError, match=r"matrix: expected 2x2"):
        make(_corr(doc, [[1.0, 0.2, 0.1], [0.2, 1.0, 0.1]]))


def test_correlation_on_indicator_without_assumption(doc):
    doc["scenarios"][0]["assumptions"].pop()
    with pytest.raises(
        StudyFileError,
        match=r"shock_correlation\.indicators: 'share' has no "
        r"assumption in scenario 'base'",
    ):
        make(_corr(doc, [[1.0, 0.2], [0.2, 1.0]]))


def test_stated_target_needs_quote(doc):
    del doc["targets"][0]["quote"]
    with pytest.raises(
        StudyFileError,
        match=r"targets\[0\]: source and quote: required for a "
        r"stated target",
    ):
        make(doc)


def test_assumed_target_needs_rationale(doc):
    del doc["targets"][1]["rationale"]
    with pytest.raises(StudyFileError, match=r"rationale: required for an assumed target"):
        make(doc)


def test_between_needs_high(doc):
    doc["targets"][0]["comparator"] = "between"
    with pytest.raises(StudyFileError, match=r"high: required when comparator is 'between'"):
        make(doc)


def test_share_target_outside_unit_interval(doc):
    doc["targets"][1]["value"] = 25.0  # a percentage written where a fraction is expected
    with pytest.raises(
        StudyFileError,
        match=r"targets\[1\]\.value: share indicator value must be "
        r"a fraction strictly between 0 and 1, got 25\.0 \(2500%\)",
    ):
        make(doc)


def test_text_must_agree_with_value(doc):
    doc["indicators"][0]["observations"][0]["text"] = "1000亿元"
    with pytest.raises(
        StudyFileError,
        match=r"observations\[0\] \(year 2018\)\.value: the text "
        r"'1000亿元' reads as 1000 亿元, but value is 100\.0",
    ):
        make(doc)


def test_text_converts_units(doc):
    doc["indicators"][0]["observations"][0]["text"] = "1000000万元"
    assert make(doc).indicator("gdp").observations[0].value == 100.0


def test_text_qualifier_must_be_recorded(doc):
    doc["indicators"][0]["observations"][0]["text"] = "100亿元以上"
    with pytest.raises(
        StudyFileError,
        match=r"qualifier: the text '100亿元以上' reads as "
        r"'at_least', but qualifier is 'exact'",
    ):
        make(doc)


def test_correction_source_must_be_an_assumption(doc):
    doc["indicators"][0]["observations"][0]["correction"] = {
        "value": 10.0,
        "rationale": "typo",
        "source": "src",
    }
    with pytest.raises(
        StudyFileError,
        match=r"correction\.source: source 'src' must be of kind "
        r"'assumption', got 'report'",
    ):
        make(doc)


def test_derived_cycle(doc):
    doc["indicators"].append(
        {
            "id": "a",
            "name_zh": "a",
            "name_en": "a",
            "unit": "亿元",
            "kind": "level",
            "derived": {"op": "product", "of": ["b", "gdp"]},
        }
    )
    doc["indicators"].append(
        {
            "id": "b",
            "name_zh": "b",
            "name_en": "b",
            "unit": "亿元",
            "kind": "level",
            "derived": {"op": "ratio", "of": ["a", "gdp"]},
        }
    )
    with pytest.raises(StudyFileError, match=r"indicators: derivation cycle a -> b -> a"):
        make(doc)


def test_derived_indicator_cannot_have_assumption(doc):
    doc["indicators"].append(
        {
            "id": "r",
            "name_zh": "r",
            "name_en": "r",
            "unit": "亿元",
            "kind": "level",
            "derived": {"op": "product", "of": ["share", "gdp"]},
        }
    )
    doc["scenarios"][0]["assumptions"].append(
        {
            "indicator": "r",
            "growth": {"dist": "fixed", "value": 0.0},
            "volatility": 0.1,
            "rationale": "t",
        }
    )
    with pytest.raises(
        StudyFileError,
        match=r"'r' is derived from \['share', 'gdp'\] and cannot "
        r"have its own assumption",
    ):
        make(doc)


def test_group_with_unknown_target(doc):
    doc["groups"] = [
        {
            "id": "g",
            "name_zh": "g",
            "name_en": "g",
            "targets": ["gdp-2023", "nope"],
            "status": "assumed",
            "rationale": "t",
        }
    ]
    with pytest.raises(StudyFileError, match=r"groups\[0\]\.targets\[1\]: unknown target 'nope'"):
        make(doc)


def test_distribution_errors(doc):
    a = doc["scenarios"][0]["assumptions"][0]
    a["growth"] = {"dist": "uniform", "low": 0.09, "high": 0.08}
    with pytest.raises(
        StudyFileError,
        match=r"assumptions\[0\]\.growth: high: must be greater "
        r"than low \(0\.09\), got 0\.08",
    ):
        make(doc)
    a["growth"] = {"dist": "triangular", "low": 0.0, "mode": 0.2, "high": 0.1}
    with pytest.raises(StudyFileError, match=r"need low <= mode <= high"):
        make(doc)
    a["growth"] = {"dist": "gamma", "k": 2}
    with pytest.raises(
        StudyFileError,
        match=r"growth: Input tag 'gamma' found using 'dist' does "
        r"not match any of the expected tags",
    ):
        make(doc)


def test_scenario_end_before_base(doc):
    doc["scenarios"][0]["end_year"] = 2017
    with pytest.raises(
        StudyFileError,
        match=r"scenarios\[0\]: end_year: must be after base_year "
        r"2018, got 2017",
    ):
        make(doc)


def test_assumed_start_for_a_share_must_be_a_share(doc):
    doc["indicators"][1]["observations"] = []
    doc["scenarios"][0]["assumptions"][1]["start"] = {"dist": "uniform", "low": 0.5, "high": 1.5}
    with pytest.raises(
        StudyFileError,
        match=r"assumptions\[1\]\.start: a share's starting value must stay strictly between 0 "
        r"and 1 .*reaches \[0\.5, 1\.5\]",
    ):
        make(doc)
    # the fuzz harness's find: a lower end below 0 was let through as if it were 1e-300
    doc["scenarios"][0]["assumptions"][1]["start"] = {"dist": "uniform", "low": -1.0, "high": 0.2}
    with pytest.raises(StudyFileError, match=r"reaches \[-1, 0\.2\]"):
        make(doc)


def test_a_count_target_of_zero_is_refused(doc):
    doc["indicators"][0]["kind"] = "count"
    doc["targets"][0]["value"] = 0.0
    doc["targets"][0].pop("quote")
    doc["targets"][0].update(status="assumed", rationale="t")
    with pytest.raises(StudyFileError, match=r"targets\[0\]\.value: a count .* never reaches 0"):
        make(doc)


def test_models_are_frozen(jiaozuo):
    with pytest.raises(Exception, match="frozen"):
        jiaozuo.indicators[0].unit = "元"


def test_date_must_be_a_date(doc):
    doc["sources"][0]["date"] = 20190101
    with pytest.raises(
        StudyFileError,
        match=r"sources\[0\]\.date: expected a date \(YYYY-MM-DD\), "
        r"got int 20190101",
    ):
        make(doc)


@pytest.mark.parametrize("sigma", [1e-38, 5e-5])
def test_volatility_below_the_resolution_is_refused(doc, sigma):
    doc["scenarios"][0]["assumptions"][0]["volatility"] = sigma
    with pytest.raises(StudyFileError, match=r"volatility: expected 0 .* or at least 0.0001"):
        make(doc)
    doc["scenarios"][0]["assumptions"][0]["volatility"] = 0.0  # deterministic is fine
    make(doc)


def test_growth_target_typed_as_percent_is_refused(doc):
    doc["targets"].append(
        {
            "id": "g",
            "indicator": "gdp",
            "year": 2020,
            "measure": "growth",
            "comparator": ">=",
            "value": 8.0,
            "status": "assumed",
            "rationale": "t",
        }
    )
    with pytest.raises(
        hz.StudyFileError,
        match=r"targets\[2\]: value: a growth target of 8 is \+800% a year, beyond the limits of "
        r"−75% and \+300%; growth rates are fractions — did you mean 0\.08 \(8%\)\?",
    ):
        make(doc)
