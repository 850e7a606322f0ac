"""The golden test: every published number of the built-in study and the toy example, to the bit.

``tests/golden/golden.json`` was written by ``tests/golden/make_golden.py`` from the code as it
stood; refactorings must leave every number identical. A deliberate change of numbers
regenerates the file in the same commit and says which numbers changed and why.
"""

import json
from pathlib import Path

import pytest

import hzforecast as hz

from .golden.make_golden import FILE, assessment_numbers, paths_numbers, runs

GOLDEN = json.loads(Path(FILE).read_text())
RUNS = list(runs())


def _diff(a, b, where=""):
    """The first place two nested structures differ (for a readable failure)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{where}/{k}: only in {'golden' if k in a else 'now'}"
            d = _diff(a[k], b[k], f"{where}/{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = _diff(x, y, f"{where}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{where}: golden {a!r}, now {b!r}"


@pytest.mark.parametrize("key,study,kw", RUNS, ids=[k for k, _, _ in RUNS])
def test_assessment_numbers_unchanged(key, study, kw):
    now = assessment_numbers(hz.assess(study, **kw))
    assert _diff(GOLDEN["assess"][key], now) is None, _diff(GOLDEN["assess"][key], now)


def test_every_run_is_pinned():
    assert sorted(GOLDEN["assess"]) == sorted(k for k, _, _ in RUNS)


@pytest.mark.parametrize("scenario", sorted(GOLDEN["paths"]))
def test_paths_unchanged(jiaozuo, scenario):
    now = paths_numbers(jiaozuo, scenario, 20190128)
    assert _diff(GOLDEN["paths"][scenario], now) is None, _diff(GOLDEN["paths"][scenario], now)
