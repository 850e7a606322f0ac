r"""Closed forms: exact answers for simple questions, and oracles for the engine's tests.

For log-normal growth with fixed drift :math:`\mu = \ln(1+g)` and volatility
:math:`\sigma`, :math:`\ln X_T \sim N(\ln x_0 + \mu T, \sigma^2 T)`, so

.. math:: P(X_T \ge K) = \Phi\!\left(\frac{\ln(x_0/K) + \mu T}{\sigma\sqrt{T}}\right).

A share on a logit random walk with drift :math:`d` has the same form on the logit
scale. Two such indicators whose yearly shocks have correlation :math:`\rho`
have jointly normal log levels with correlation
:math:`\rho\,\min(T_1,T_2)/\sqrt{T_1T_2}`, so the probability that both targets are
met is a bivariate normal orthant probability. When the growth is itself
uncertain (drawn once per path), the probability is the integral of the fixed-
growth formula over that distribution, computed here by adaptive quadrature.

Probabilities are computed with ``scipy.special.log_ndtr`` where they are tiny, so
they underflow to neither 0 nor NaN.
"""

from __future__ import annotations

import math

import numpy as np

from ._lazy import special

__all__ = [
    "prob_level",
    "prob_level_uncertain_growth",
    "prob_share",
    "prob_two_levels",
    "prob_two_levels_common_shock",
    "required_drift",
]


def _check_positive(name, value):
    if not (isinstance(value, int | float | np.floating) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name}: must be a positive finite number, got {value!r}")


def _z_level(x0, threshold, growth, sigma, years):
    _check_positive("x0", x0)
    _check_positive("threshold", threshold)
    _check_positive("years", years)
    if not growth > -1:
        raise ValueError(f"growth: must be > -1 (-100%), got {growth!r}")
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma: must be positive and finite, got {sigma!r}")
    return (math.log(x0 / threshold) + math.log1p(growth) * years) / (sigma * math.sqrt(years))


def prob_level(
    x0: float,
    threshold: float,
    *,
    growth: float,
    sigma: float,
    years: float,
    comparator: str = ">=",
) -> float:
    r"""P(X_T ≥ K) (or ≤) for log-normal growth with fixed growth and volatility.

    Parameters
    ----------
    x0 : float
        Level now (> 0).
    threshold : float
        K (> 0), same unit as ``x0``.
    growth : float
        Median yearly growth g (drift ln(1+g)).
    sigma : float
        Volatility of yearly log growth (> 0).
    years : float
        Horizon T (> 0).
    comparator : {">=", "<="}

    Returns
    -------
    float

    Examples
    --------
    The 蒙牛 cluster, 108.9亿 in 2018, at 7% with 5% shocks: z = (ln(120/108.9) − ln 1.07) / 0.05
    = 0.588, so P(≥ 120亿 in 2019) = 1 − Φ(0.588):

    >>> round(prob_level(108.9, 120, growth=0.07, sigma=0.05, years=1), 4)
    0.2782
    """
    z = _z_level(x0, threshold, growth, sigma, years)
    if comparator == ">=":
        return float(special.ndtr(z))
    if comparator == "<=":
        return float(special.ndtr(-z))
    raise ValueError(f"comparator: expected '>=' or '<=', got {comparator!r}")


def prob_share(
    p0: float, threshold: float, *, drift: float, sigma: float, years: float, comparator: str = ">="
) -> float:
    r"""P(p_T ≥ K) for a share on a logit random walk with drift ``drift`` per year."""
    for name, v in (("p0", p0), ("threshold", threshold)):
        if not 0 < v < 1:
            raise ValueError(f"{name}: must be a share in (0, 1), got {v!r}")
    _check_positive("years", years)
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma: must be positive and finite, got {sigma!r}")
    z = (special.logit(p0) - special.logit(threshold) + drift * years) / (sigma * math.sqrt(years))
    if comparator == ">=":
        return float(special.ndtr(z))
    if comparator == "<=":
        return float(special.ndtr(-z))
    raise ValueError(f"comparator: expected '>=' or '<=', got {comparator!r}")


def prob_two_levels(x0, thresholds, *, growth, sigma, years, rho: float) -> float:
    r"""P(X_{1,T_1} ≥ K_1 and X_{2,T_2} ≥ K_2) for two log-normal indicators.

    Parameters
    ----------
    x0, thresholds, growth, sigma, years : pair of float
        Per indicator.
    rho : float
        Correlation of the two indicators' yearly shocks (the same indicator at two
        horizons: ``rho=1``).
    """
    from scipy import stats

    z = [-_z_level(x0[i], thresholds[i], growth[i], sigma[i], years[i]) for i in range(2)]
    t1, t2 = years
    c = rho * min(t1, t2) / math.sqrt(t1 * t2)
    if not -1 <= c <= 1:
        raise ValueError(f"rho: must be in [-1, 1], got {rho!r}")
    # P(Y1 >= z1, Y2 >= z2) = P(-Y1 <= -z1, -Y2 <= -z2) for standard bivariate normal
    if c >= 1.0:
        return float(special.ndtr(-max(z)))
    if c <= -1.0:
        return float(max(0.0, special.ndtr(-z[0]) - special.ndtr(z[1])))
    mvn = stats.multivariate_normal(mean=[0.0, 0.0], cov=[[1.0, c], [c, 1.0]])
    return float(mvn.cdf([-z[0], -z[1]]))


def prob_two_levels_common_shock(
    x0,
    thresholds,
    *,
    growth,
    sigma,
    loadings,
    years: int,
    sd: float,
    bad_year_probability: float = 0.0,
    bad_year_size: float = 0.0,
) -> float:
    r"""P(X_{1,T} ≥ K_1 and X_{2,T} ≥ K_2) for two log-normal indicators sharing a common
    yearly shock :math:`C_t = s Z_t - d B_t` (:class:`~hzforecast.spec.CommonShock`), each
    with its own independent shocks and its loading :math:`\lambda_k` on :math:`C`.

    Given the number :math:`j \sim \mathrm{Binomial}(T, p)` of bad years, the log levels are
    bivariate normal with means :math:`\ln x_{0k} + T\mu_k - \lambda_k d j`, variances
    :math:`T(\sigma_k^2 + \lambda_k^2 s^2)` and covariance :math:`T\lambda_1\lambda_2 s^2`;
    the probability is the binomial mixture of the orthant probabilities.
    """
    from scipy import stats

    if not (isinstance(years, int) and years >= 1):
        raise ValueError(f"years: must be a whole number >= 1, got {years!r}")
    var = [years * (sigma[k] ** 2 + loadings[k] ** 2 * sd**2) for k in range(2)]
    cov = years * loadings[0] * loadings[1] * sd**2
    total = 0.0
    for j in range(years + 1):
        w = float(stats.binom.pmf(j, years, bad_year_probability))
        if w == 0.0:
            continue
        # P(Y_k >= ln K_k) = P(-Y_k <= -ln K_k): the lower orthant of the negated pair
        m = [
            math.log(x0[k]) + years * math.log1p(growth[k]) - loadings[k] * bad_year_size * j
            for k in range(2)
        ]
        mvn = stats.multivariate_normal(mean=[-m[0], -m[1]], cov=[[var[0], cov], [cov, var[1]]])
        total += w * float(mvn.cdf([-math.log(thresholds[0]), -math.log(thresholds[1])]))
    return total


def prob_level_uncertain_growth(
    x0, threshold, *, growth_dist, sigma, years, comparator: str = ">="
) -> float:
    r"""P(X_T ≥ K) when the yearly growth g is drawn once from ``growth_dist``.

    ``growth_dist`` is any distribution of :mod:`hzforecast.distributions`;
    the answer is :math:`\int_0^1 \Phi(z(g(u)))\,du` by adaptive quadrature.
    """
    from scipy import integrate

    def f(u):
        g = float(growth_dist.ppf(np.array([u]))[0])
        return prob_level(x0, threshold, growth=g, sigma=sigma, years=years, comparator=comparator)

    val, _ = integrate.quad(f, 0.0, 1.0, epsabs=1e-12, epsrel=1e-10, limit=200)
    return float(val)


def required_drift(
    x0: float, threshold: float, *, sigma: float, years: float, probability: float
) -> float:
    r"""The median growth g at which P(X_T ≥ K) equals ``probability``.

    Inverts :func:`prob_level`: :math:`\ln(1+g) = (\ln(K/x_0) + \sigma\sqrt{T}\,
    \Phi^{-1}(p)) / T`.
    """
    _check_positive("x0", x0)
    _check_positive("threshold", threshold)
    _check_positive("years", years)
    if not 0 < probability < 1:
        raise ValueError(f"probability: must be in (0, 1), got {probability!r}")
    mu = (math.log(threshold / x0) + sigma * math.sqrt(years) * special.ndtri(probability)) / years
    return math.expm1(mu)
