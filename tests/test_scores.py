"""Scores against published values and independent computations (numerical integration)."""

import numpy as np
import pytest
from scipy import integrate, stats

from hzforecast import scores as sc


def crps_by_integration(dist, y):
    """∫ (F(x) − 1{x ≥ y})² dx, split at y (a second implementation of the CRPS)."""
    lo, hi = dist.support()
    a = integrate.quad(lambda x: dist.cdf(x) ** 2, lo, y, limit=200)[0]
    b = integrate.quad(lambda x: (1 - dist.cdf(x)) ** 2, y, hi, limit=200)[0]
    return a + b


def test_crps_normal_published_value():
    # scoringRules::crps_norm(0, 0, 1) = 2*dnorm(0) - 1/sqrt(pi) = 0.2336949773 (Gneiting & Raftery)
    assert sc.crps_normal(0.0, 0.0, 1.0) == pytest.approx(0.2336949773, abs=1e-10)


@pytest.mark.parametrize(("y", "mu", "sigma"), [(1.3, 0.2, 0.7), (-2.0, 1.0, 3.0)])
def test_crps_normal_by_integration(y, mu, sigma):
    assert sc.crps_normal(y, mu, sigma) == pytest.approx(
        crps_by_integration(stats.norm(mu, sigma), y), rel=1e-7
    )


@pytest.mark.parametrize(
    ("y", "mu", "sigma"), [(1.0, 0.0, 0.5), (150.0, np.log(140), 0.1), (0.2, 0.3, 1.2)]
)
def test_crps_lognormal_by_integration(y, mu, sigma):
    d = stats.lognorm(s=sigma, scale=np.exp(mu))
    assert sc.crps_lognormal(y, mu, sigma) == pytest.approx(crps_by_integration(d, y), rel=1e-6)


@pytest.mark.parametrize(
    ("y", "df", "loc", "scale"), [(0.0, 3.0, 0.0, 1.0), (2.5, 5.0, 1.0, 2.0), (-1.0, 1.5, 0.5, 0.3)]
)
def test_crps_t_by_integration(y, df, loc, scale):
    d = stats.t(df, loc, scale)
    assert sc.crps_t(y, df, loc, scale) == pytest.approx(crps_by_integration(d, y), rel=1e-6)


def test_crps_t_tends_to_normal():
    assert sc.crps_t(0.7, 1e7, 0.1, 1.3) == pytest.approx(sc.crps_normal(0.7, 0.1, 1.3), rel=1e-6)


def test_crps_sample_is_the_empirical_crps():
    x = np.array([3.0, -1.0, 0.5, 2.0])
    y = 0.7
    brute = np.mean(np.abs(x - y)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :]))
    assert sc.crps_sample(y, x) == pytest.approx(brute, rel=1e-12)


def test_crps_sample_converges_to_closed_form():
    q = stats.norm.ppf((np.arange(20000) + 0.5) / 20000, 1.0, 2.0)
    assert sc.crps_sample(0.3, q) == pytest.approx(sc.crps_normal(0.3, 1.0, 2.0), rel=1e-4)


def test_smape_and_mase_by_hand():
    a, f = np.array([100.0, 110.0]), np.array([90.0, 120.0])
    assert sc.smape(a, f) == pytest.approx((200 * 10 / 190 + 200 * 10 / 230) / 2)
    x = np.array([1.0, 3.0, 4.0, 8.0])  # naive in-sample MAE = (2 + 1 + 4) / 3
    assert sc.mase([10.0, 12.0], [11.0, 9.0], x) == pytest.approx(2.0 / (7 / 3))


def test_interval_scores_by_hand():
    y, lo, hi = np.array([1.0, 5.0, 12.0]), np.array([0.0, 6.0, 8.0]), np.array([2.0, 9.0, 10.0])
    assert sc.coverage(y, lo, hi) == pytest.approx(1 / 3)
    alpha = 0.2
    expect = np.mean([2.0, 3.0 + 2 / alpha * 1.0, 2.0 + 2 / alpha * 2.0])
    assert sc.winkler(y, lo, hi, level=80) == pytest.approx(expect)


def test_brier_and_pit():
    assert sc.brier([0.9, 0.2], [1, 0]) == pytest.approx((0.01 + 0.04) / 2)
    h = sc.pit_histogram(np.linspace(0.005, 0.995, 100), bins=10)
    np.testing.assert_allclose(h, 0.1)


@pytest.mark.parametrize(
    ("fn", "args", "match"),
    [
        (sc.smape, ([0.0], [0.0]), "undefined where both are 0"),
        (sc.smape, ([1.0, 2.0], [1.0]), "does not match"),
        (sc.mase, ([1.0], [1.0], [2.0, 2.0, 2.0]), "constant series"),
        (sc.brier, ([1.2], [1]), r"prob: must lie in \[0, 1\]"),
        (sc.brier, ([0.5], [2]), "outcome: must be 0 or 1"),
        (sc.crps_t, (0.0, 1.0), "needs df > 1"),
        (sc.crps_lognormal, (-1.0, 0.0, 1.0), "y: must be positive"),
        (sc.winkler, ([1.0], [0.0], [2.0]), None),
    ],
)
def test_score_errors(fn, args, match):
    if match is None:
        with pytest.raises(TypeError):
            fn(*args)
        return
    with pytest.raises(ValueError, match=match):
        fn(*args)
