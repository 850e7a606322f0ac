"""Distributions: the empirical distribution against numpy's quantile and direct counting."""

import numpy as np
import pytest
from pydantic import ValidationError

from hzforecast.distributions import Empirical, Fixed, shifted


def test_empirical_ppf_is_numpys_inverted_cdf():
    rng = np.random.default_rng(3)
    values = np.round(rng.normal(0.08, 0.01, 37), 3)  # ties, as rounded outcomes have
    d = Empirical(values=tuple(values.tolist()))
    u = rng.random(10_000)
    expect = np.array([np.quantile(values, q, method="inverted_cdf") for q in u])
    assert np.array_equal(d.ppf(u), expect)


def test_empirical_draws_every_value_with_its_frequency():
    d = Empirical(values=(0.07, 0.08, 0.08, 0.09))
    u = (np.arange(40_000) + 0.5) / 40_000  # a regular grid: each value's share exactly
    x = d.ppf(u)
    for v, share in ((0.07, 0.25), (0.08, 0.5), (0.09, 0.25)):
        assert np.count_nonzero(x == v) / u.size == share
    assert d.cdf(0.08) == 0.75 and d.cdf(0.0799) == 0.25 and d.cdf(0.1) == 1.0
    assert d.mean() == pytest.approx(0.08) and d.median() == 0.08


def test_empirical_refuses_one_value_and_non_finite():
    with pytest.raises(ValidationError, match="fixed distribution"):
        Empirical(values=(0.08, 0.08))
    with pytest.raises(ValidationError, match="values"):
        Empirical(values=(0.08, float("nan")))
    with pytest.raises(ValidationError, match="values"):
        Empirical(values=(0.08,))


def test_shifted_empirical_moves_every_value():
    d = shifted(Empirical(values=(0.07, 0.09), source="x"), 0.01)
    assert d.values == pytest.approx((0.08, 0.10)) and d.source == "x"
    assert shifted(Fixed(value=0.1), 0.01).value == pytest.approx(0.11)


@pytest.mark.parametrize(
    "dist",
    [
        {"dist": "uniform", "low": 0.05, "high": 0.12},
        {"dist": "triangular", "low": 0.0, "mode": 0.04, "high": 0.08},
        {"dist": "triangular", "low": 0.0, "mode": 0.0, "high": 0.08},
        {"dist": "triangular", "low": 0.0, "mode": 0.08, "high": 0.08},
        {"dist": "normal", "mean": 0.07, "sd": 0.02},
        {"dist": "studentt", "df": 5.0, "loc": 0.07, "scale": 0.02},
    ],
)
def test_closed_forms_against_scipy(dist):
    """The closed forms that keep scipy.stats out of reading a study, against scipy.stats."""
    from pydantic import TypeAdapter

    from hzforecast.distributions import Distribution

    d = TypeAdapter(Distribution).validate_python(dist)
    frozen = d._frozen()
    u = np.linspace(1e-9, 1 - 1e-9, 2001)
    np.testing.assert_allclose(d.ppf(u), frozen.ppf(u), rtol=1e-10, atol=1e-13)
    x = np.linspace(-0.1, 0.2, 2001)
    np.testing.assert_allclose(d.cdf(x), frozen.cdf(x), rtol=1e-10, atol=1e-13)
    assert d.mean() == pytest.approx(float(frozen.mean()), rel=1e-12)
    lo, hi = frozen.support()
    assert d.support() == (pytest.approx(lo), pytest.approx(hi))
