"""Closed forms against independent implementations (scipy distributions, quadrature)."""

import math

import numpy as np
import pytest
from scipy import stats

from hzforecast import closedform as cf
from hzforecast.distributions import Triangular, Uniform


def test_prob_level_matches_scipy_lognormal():
    # ln X_T ~ N(ln x0 + T ln(1+g), sigma^2 T): the survival function of scipy's lognorm
    x0, k, g, s, t = 108.9, 120.0, 0.07, 0.05, 1
    ref = stats.lognorm(s=s * math.sqrt(t), scale=x0 * (1 + g) ** t).sf(k)
    assert cf.prob_level(x0, k, growth=g, sigma=s, years=t) == pytest.approx(ref, rel=1e-12)
    assert cf.prob_level(x0, k, growth=g, sigma=s, years=t, comparator="<=") == pytest.approx(
        1 - ref, rel=1e-12
    )


def test_prob_share_matches_logit_normal():
    p0, k, d, s, t = 0.026, 0.03, 0.04, 0.05, 7
    z = stats.norm(loc=math.log(p0 / (1 - p0)) + d * t, scale=s * math.sqrt(t))
    assert cf.prob_share(p0, k, drift=d, sigma=s, years=t) == pytest.approx(
        z.sf(math.log(k / (1 - k))), rel=1e-12
    )


def test_required_drift_inverts_prob_level():
    for p in (0.05, 0.5, 0.8, 0.99):
        g = cf.required_drift(108.9, 120, sigma=0.05, years=3, probability=p)
        assert cf.prob_level(108.9, 120, growth=g, sigma=0.05, years=3) == pytest.approx(
            p, abs=1e-12
        )


def test_two_levels_independent_and_comonotone():
    a = cf.prob_level(100, 120, growth=0.05, sigma=0.1, years=4)
    b = cf.prob_level(50, 55, growth=0.03, sigma=0.05, years=4)
    both = cf.prob_two_levels(
        (100, 50), (120, 55), growth=(0.05, 0.03), sigma=(0.1, 0.05), years=(4, 4), rho=0.0
    )
    assert both == pytest.approx(a * b, abs=1e-6)
    # perfectly correlated shocks and identical standardised thresholds: P(both) = P(one)
    same = cf.prob_two_levels(
        (100, 100), (120, 120), growth=(0.05, 0.05), sigma=(0.1, 0.1), years=(4, 4), rho=1.0
    )
    assert same == pytest.approx(a, abs=1e-6)


def test_two_levels_against_monte_carlo():
    rng = np.random.default_rng(5)
    n = 400_000
    rho = 0.6
    z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=(n, 3))
    s1 = np.log(100) + 3 * np.log(1.05) + 0.1 * z[:, :, 0].sum(axis=1)
    s2 = np.log(50) + 3 * np.log(1.03) + 0.05 * z[:, :, 1].sum(axis=1)
    hit = (s1 >= np.log(115)) & (s2 >= np.log(54))
    p_mc = hit.mean()
    se = math.sqrt(p_mc * (1 - p_mc) / n)
    p = cf.prob_two_levels(
        (100, 50), (115, 54), growth=(0.05, 0.03), sigma=(0.1, 0.05), years=(3, 3), rho=rho
    )
    assert abs(p - p_mc) < 4 * se


def test_uncertain_growth_by_quadrature_equals_average():
    u = Uniform(low=0.08, high=0.085)
    p = cf.prob_level_uncertain_growth(141.95, 150, growth_dist=u, sigma=0.03, years=1)
    grid = np.linspace(0.08, 0.085, 20001)
    vals = [cf.prob_level(141.95, 150, growth=g, sigma=0.03, years=1) for g in grid]
    assert p == pytest.approx(np.trapezoid(vals, grid) / 0.005, rel=1e-7)
    tri = Triangular(low=0.02, mode=0.07, high=0.12)
    p2 = cf.prob_level_uncertain_growth(108.9, 120, growth_dist=tri, sigma=0.05, years=1)
    assert 0.2 < p2 < 0.4


def test_tiny_probabilities_are_numbers_not_zero():
    """z = -37.5 (P ≈ 5e-309, a subnormal float): a number, equal to exp(log Φ(z)), not 0."""
    from scipy.special import log_ndtr

    # ln(K / x0) = ln(1.01) + 37.5 · 0.01 for growth 1%, σ 1%, one year
    k = math.exp(math.log1p(0.01) + 37.5 * 0.01)
    p = cf.prob_level(1.0, k, growth=0.01, sigma=0.01, years=1)
    assert 0.0 < p < 1e-300
    assert p == pytest.approx(math.exp(log_ndtr(-37.5)), rel=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x0": -1.0}, r"x0: must be a positive finite number, got -1\.0"),
        ({"threshold": 0.0}, r"threshold: must be a positive finite number, got 0\.0"),
        ({"growth": -1.5}, r"growth: must be > -1 \(-100%\), got -1\.5"),
        ({"sigma": 0.0}, r"sigma: must be positive and finite, got 0\.0"),
        ({"years": 0}, r"years: must be a positive finite number, got 0"),
        ({"comparator": ">"}, r"comparator: expected '>=' or '<=', got '>'"),
    ],
)
def test_prob_level_errors(kwargs, match):
    args = {"x0": 100.0, "threshold": 120.0, "growth": 0.05, "sigma": 0.1, "years": 3}
    args.update(kwargs)
    x0, k = args.pop("x0"), args.pop("threshold")
    with pytest.raises(ValueError, match=match):
        cf.prob_level(x0, k, **args)
