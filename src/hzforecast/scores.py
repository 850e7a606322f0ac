r"""Scores for point, interval and probabilistic forecasts.

Point: :func:`smape` (M3 convention, in %), :func:`mase`. Interval: :func:`coverage`,
:func:`winkler`. Probabilistic: the continuous ranked probability score — closed form
for normal, log-normal and Student-t predictives (:func:`crps_normal`,
:func:`crps_lognormal`, :func:`crps_t`) and the sorted-sample estimator for paths
(:func:`crps_sample`) — the :func:`brier` score of a threshold event and the
probability integral transform (:func:`pit_histogram`).

The CRPS of a predictive CDF F at outcome y is :math:`\int (F(x) - \mathbb 1\{x \ge
y\})^2\,dx`; lower is better, and it has the unit of y.

References
----------
Gneiting, T. & Raftery, A. E. (2007). Strictly proper scoring rules, prediction, and
estimation. *JASA* 102(477).
Jordan, A., Krüger, F. & Lerch, S. (2019). Evaluating probabilistic forecasts with
scoringRules. *Journal of Statistical Software* 90(12).
Baran, S. & Lerch, S. (2015). Log-normal distribution based ensemble model output
statistics models. *QJRMS* 141.
Makridakis, S. & Hibon, M. (2000). The M3-Competition. *IJF* 16(4) (sMAPE).
Hyndman, R. J. & Koehler, A. B. (2006). Another look at measures of forecast accuracy.
*IJF* 22(4) (MASE).
"""

from __future__ import annotations

import numpy as np

from ._lazy import special

__all__ = [
    "brier",
    "coverage",
    "crps_lognormal",
    "crps_normal",
    "crps_sample",
    "crps_t",
    "mase",
    "pit_histogram",
    "smape",
    "winkler",
]


def _arr(x, name):
    a = np.asarray(x, dtype=float)
    if a.size and not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: values must be finite")
    return a


def smape(actual, forecast) -> float:
    r"""Symmetric MAPE in percent: mean of :math:`200|a-f|/(|a|+|f|)` (the M3 definition)."""
    a, f = _arr(actual, "actual"), _arr(forecast, "forecast")
    if a.shape != f.shape:
        raise ValueError(f"forecast: shape {f.shape} does not match actual {a.shape}")
    denom = np.abs(a) + np.abs(f)
    if np.any(denom == 0):
        raise ValueError("actual, forecast: sMAPE is undefined where both are 0")
    return float(np.mean(200.0 * np.abs(a - f) / denom))


def mase(actual, forecast, insample, *, m: int = 1) -> float:
    """Mean absolute scaled error: MAE / in-sample MAE of the seasonal naive (lag ``m``)."""
    a, f, x = _arr(actual, "actual"), _arr(forecast, "forecast"), _arr(insample, "insample")
    if len(x) <= m:
        raise ValueError(f"insample: needs more than m={m} values, got {len(x)}")
    scale = np.mean(np.abs(x[m:] - x[:-m]))
    if scale == 0:
        raise ValueError("insample: constant series, MASE is undefined")
    return float(np.mean(np.abs(a - f)) / scale)


def coverage(actual, lower, upper) -> float:
    """Share of outcomes inside [lower, upper]."""
    a, lo, hi = _arr(actual, "actual"), _arr(lower, "lower"), _arr(upper, "upper")
    return float(np.mean((a >= lo) & (a <= hi)))


def winkler(actual, lower, upper, *, level: float) -> float:
    """Interval (Winkler) score of central intervals at ``level`` (e.g. 80), averaged.

    (u − l) + (2/α)(l − y)·1{y < l} + (2/α)(y − u)·1{y > u}, α = 1 − level/100.
    """
    if not 0 < level < 100:
        raise ValueError(f"level: must be in (0, 100), got {level}")
    a, lo, hi = _arr(actual, "actual"), _arr(lower, "lower"), _arr(upper, "upper")
    alpha = 1 - level / 100
    s = (hi - lo) + (2 / alpha) * np.maximum(lo - a, 0) + (2 / alpha) * np.maximum(a - hi, 0)
    return float(np.mean(s))


def crps_normal(y, mu, sigma):
    r"""CRPS of N(mu, sigma²) at y: σ[z(2Φ(z) − 1) + 2φ(z) − 1/√π], z = (y − μ)/σ."""
    from scipy import stats

    y, mu, sigma = np.asarray(y, float), np.asarray(mu, float), np.asarray(sigma, float)
    if np.any(sigma <= 0):
        raise ValueError("sigma: must be positive")
    z = (y - mu) / sigma
    return sigma * (z * (2 * special.ndtr(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))


def crps_lognormal(y, mu, sigma):
    r"""CRPS of exp(N(mu, sigma²)) at y > 0 (Baran & Lerch 2015):

    y(2Φ(z) − 1) − 2e^{μ+σ²/2}[Φ(z − σ) + Φ(σ/√2) − 1], z = (ln y − μ)/σ.
    """
    y, mu, sigma = np.asarray(y, float), np.asarray(mu, float), np.asarray(sigma, float)
    if np.any(sigma <= 0):
        raise ValueError("sigma: must be positive")
    if np.any(y <= 0):
        raise ValueError("y: must be positive for a log-normal predictive")
    z = (np.log(y) - mu) / sigma
    return y * (2 * special.ndtr(z) - 1) - 2 * np.exp(mu + sigma**2 / 2) * (
        special.ndtr(z - sigma) + special.ndtr(sigma / np.sqrt(2)) - 1
    )


def crps_t(y, df, loc=0.0, scale=1.0):
    r"""CRPS of a Student-t (df > 1) at y (Jordan, Krüger & Lerch 2019):

    scale·[z(2F(z) − 1) + 2f(z)(ν + z²)/(ν − 1) − 2√ν B(½, ν − ½) / ((ν − 1) B(½, ν/2)²)].
    """
    from scipy import stats

    y, df = np.asarray(y, float), np.asarray(df, float)
    loc, scale = np.asarray(loc, float), np.asarray(scale, float)
    if np.any(df <= 1):
        raise ValueError("df: the CRPS of a Student-t needs df > 1")
    if np.any(scale <= 0):
        raise ValueError("scale: must be positive")
    z = (y - loc) / scale
    f = stats.t.pdf(z, df)
    F = stats.t.cdf(z, df)
    last = (
        2 * np.sqrt(df) * special.beta(0.5, df - 0.5) / ((df - 1) * special.beta(0.5, df / 2) ** 2)
    )
    return scale * (z * (2 * F - 1) + 2 * f * (df + z**2) / (df - 1) - last)


def crps_sample(y, samples, axis: int = -1):
    r"""CRPS of an ensemble (paths) at y, from the sorted sample:

    (1/m)Σ|x_i − y| − (1/m²)Σ_i (2i − m − 1) x_(i)  (the exact CRPS of the empirical CDF).
    """
    x = np.sort(np.asarray(samples, float), axis=axis)
    x = np.moveaxis(x, axis, -1)
    m = x.shape[-1]
    if m < 1:
        raise ValueError("samples: need at least one")
    y = np.asarray(y, float)[..., None]
    term1 = np.mean(np.abs(x - y), axis=-1)
    i = np.arange(1, m + 1)
    term2 = np.sum((2 * i - m - 1) * x, axis=-1) / (m * m)
    return term1 - term2


def brier(prob, outcome) -> float:
    """Mean squared difference between the probability of an event and its 0/1 outcome."""
    p, o = _arr(prob, "prob"), _arr(outcome, "outcome")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("prob: must lie in [0, 1]")
    if not np.all((o == 0) | (o == 1)):
        raise ValueError("outcome: must be 0 or 1")
    return float(np.mean((p - o) ** 2))


def pit_histogram(pit, bins: int = 10) -> np.ndarray:
    """Relative frequencies of PIT values F(y) in ``bins`` equal bins (flat if calibrated)."""
    u = _arr(pit, "pit")
    if np.any((u < 0) | (u > 1)):
        raise ValueError("pit: values must lie in [0, 1]")
    counts, _ = np.histogram(u, bins=bins, range=(0.0, 1.0))
    return counts / max(len(u), 1)
