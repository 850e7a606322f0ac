"""Hostile input: the study reader's only outcomes are a valid study or a StudyFileError.

Generated and mutated documents (hypothesis), mutated file text, and hand-made hostile cases
(huge numbers, deep nesting, huge arrays, Unicode oddities). The number of generated inputs
tried per run is FUZZ_EXAMPLES per test; docs/robustness.md records it.
"""

import copy
import json
import random
from collections import Counter

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hzforecast as hz
from hzforecast.io import MAX_FILE_BYTES, StudyFileError, _parse, dumps_study, study_from_dict

FUZZ_EXAMPLES = 300
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

KEYS = [
    "id",
    "name_zh",
    "name_en",
    "sources",
    "indicators",
    "targets",
    "scenarios",
    "groups",
    "claims",
    "year",
    "value",
    "unit",
    "kind",
    "observations",
    "growth",
    "dist",
    "low",
    "high",
    "matrix",
    "indicators",
    "volatility",
    "date",
    "status",
    "comparator",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(["亿元", "%", "level", "share", "stated", ">=", "2019-01-01", "uniform"])
)
json_values = st.recursive(
    scalars,
    lambda c: (
        st.lists(c, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), c, max_size=5)
    ),
    max_leaves=30,
)


def outcome(raw):
    try:
        return study_from_dict(raw)
    except StudyFileError as exc:
        assert str(exc), "an error must say something"
        return exc


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8))
def test_generated_documents(raw):
    outcome(raw)


BASE = hz.load_study("jiaozuo-2019").to_dict()


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


ALL_PATHS = [p for p in _paths(BASE) if p]


def _mutate(doc, path, action, value):
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if action == "replace":
        parent[key] = value
    elif action == "delete":
        del parent[key]
    elif action == "duplicate" and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))
    elif action == "extra" and isinstance(parent[key], dict):
        parent[key]["unexpected_field"] = value
    return doc


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(ALL_PATHS),
            st.sampled_from(["replace", "delete", "duplicate", "extra"]),
            json_values,
        ),
        min_size=1,
        max_size=3,
    )
)
def test_mutated_jiaozuo_study(mutations):
    doc = copy.deepcopy(BASE)
    for path, action, value in mutations:
        try:
            doc = _mutate(doc, path, action, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    outcome(doc)


TEXT = {
    fmt: dumps_study(hz.load_study("jiaozuo-2019"), fmt).encode("utf-8") for fmt in ("toml", "json")
}


@FUZZ
@given(st.sampled_from(["toml", "json"]), st.integers(0, 2**32 - 1), st.integers(1, 8))
def test_mutated_file_text(fmt, seed, n_flips):
    rnd = random.Random(seed)
    data = bytearray(TEXT[fmt])
    for _ in range(n_flips):
        i = rnd.randrange(len(data))
        choice = rnd.random()
        if choice < 0.4:
            data[i] = rnd.randrange(256)
        elif choice < 0.7:
            del data[i : i + rnd.randrange(1, 40)]
        else:
            data[i:i] = rnd.choice([b"[", b"{", b'"', b"=", b"1e999", b"\x00", b"\xff", b"]]"])
    try:
        _parse(bytes(data), "<fuzz>", fmt)
    except StudyFileError:
        pass


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ('{"id": "x", "value": 1' + "0" * 5000 + "}", "json"),  # a 5,000-digit integer
        ('{"id": 1e400}', "json"),  # overflows to infinity
        ("[" * 100_000 + "]" * 100_000, "json"),  # deep nesting
        ("a = " + "[" * 10_000 + "]" * 10_000, "toml"),
        ('{"id": "\\ud800"}', "json"),  # a lone surrogate
        ('id = "x\\u0000y"', "toml"),  # NUL
        ('{"id": "\u202etxt.exe"}', "json"),  # right-to-left override
        ('{"' + "k" * 100_000 + '": 1}', "json"),
    ],
)
def test_hostile_documents(text, fmt):
    with pytest.raises(StudyFileError):
        _parse(text.encode("utf-8", "surrogatepass"), "<hostile>", fmt)


def test_huge_arrays_are_bounded(tmp_path):
    doc = copy.deepcopy(BASE)
    obs = doc["indicators"][0]["observations"][0]
    doc["indicators"][0]["observations"] = [dict(obs, year=1949 + (i % 150)) for i in range(600)]
    with pytest.raises(StudyFileError, match=r"observations: Tuple should have at most 500 items"):
        study_from_dict(doc)
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"id": "x", "pad": "x" * (MAX_FILE_BYTES + 10)}), encoding="utf-8")
    with pytest.raises(StudyFileError, match=r"larger than the limit of 5,242,880 bytes"):
        hz.load_study(big)


def test_big_integers_for_floats_are_errors_not_crashes():
    doc = copy.deepcopy(BASE)
    doc["indicators"][0]["observations"][0]["value"] = 10**400
    del doc["indicators"][0]["observations"][0]["text"]
    with pytest.raises(StudyFileError):
        study_from_dict(doc)
    toml_text = tomli_w.dumps({"id": 10**400})
    with pytest.raises(StudyFileError):
        _parse(toml_text.encode(), "<toml>", "toml")


# ----------------------------------------------------------------------------- the harness


def test_mutated_real_files_load_and_run_cleanly():
    """A derandomised sample of the fuzz harness (``make fuzz`` runs 2,000 per category): no
    traceback, no hang, nothing silently wrong."""
    from .fuzzing import CATEGORIES, run

    counts, failures = run(cases_per_category=12, seed=20190128)
    assert failures == []
    assert all(sum(counts[c].values()) == 12 for c in CATEGORIES)
    # the mutations reach both ends: some studies load and run, some are refused
    total = sum((counts[c] for c in CATEGORIES), start=Counter())
    assert total["accepted"] > 0 and total["clean error"] > 0


def test_a_unit_slip_in_a_series_is_flagged(tmp_path):
    """The harness's silent-wrong check is not vacuous: GDP 2004 typed ×100 is flagged."""
    from .fuzzing import check_unit_slip, write

    doc = hz.load_study("jiaozuo-2019").to_dict()
    obs = doc["indicators"][0]["observations"][0]
    obs["value"] *= 100
    del obs["text"]
    study = hz.load_study(write(doc, tmp_path, "slip"))
    assert check_unit_slip(study, (("indicators", 0, "observations", 0, "value"), 100.0)) is None

    # and the check does fire when the audit says nothing (a study whose audit is emptied)
    class Quiet:
        findings = ()

    quiet = study.model_copy()
    object.__setattr__(quiet, "audit", lambda: Quiet())
    assert "passed the audit" in check_unit_slip(
        quiet, (("indicators", 0, "observations", 0, "value"), 100.0)
    )
