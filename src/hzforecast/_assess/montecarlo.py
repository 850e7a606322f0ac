r"""Monte Carlo statistics: a probability's estimate and its standard error, block by block.

Per block, :func:`accumulate` reduces one estimator's per-path values to :class:`Sums` (the
sum over paths and the spread of its independent units — paths, or antithetic pairs).
Across blocks, :class:`ProbabilityAccumulator` merges them in block order (Chan et al.'s
pairwise update: stable, and reproducible to the bit whatever the chunking), keeping the
per-replicate sums QMC needs; :class:`MixtureAccumulator` does the same for several unbiased
estimators of one probability and mixes them with the variance-minimising weights.

Standard errors: plain MC, the sample standard deviation over paths / √N; antithetic, over
the N/2 pair means; randomised QMC, over the independent scramblings (replicates) / √R.
The 95% interval is Wilson's score interval with the effective sample size
:math:`n_\text{eff} = \hat p(1-\hat p)/\text{SE}^2`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "EXACT_Z",
    "Estimate",
    "MixtureAccumulator",
    "ProbabilityAccumulator",
    "Sums",
    "accumulate",
    "co_moments",
    "exact_estimate",
    "min_variance_weights",
    "wilson_interval",
]

Z95 = 1.959963984540054
#: An estimator with no spread whose mean is within this many standard errors of the
#: reference estimator is exact; farther away, its values were rounded (underflow).
EXACT_Z = 5.0


# ----------------------------------------------------------------------------- estimate


def wilson_interval(p: float, n_eff: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``p`` from ``n_eff`` effective trials."""
    if n_eff <= 0 or not math.isfinite(n_eff):
        return (p, p)
    denom = 1 + z * z / n_eff
    centre = (p + z * z / (2 * n_eff)) / denom
    half = z * math.sqrt(max(0.0, p * (1 - p)) / n_eff + z * z / (4 * n_eff * n_eff)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo probability with its error.

    Attributes
    ----------
    value : float
        Point estimate.
    se : float
        Monte Carlo standard error.
    low, high : float
        95% Wilson interval (with the effective sample size).
    n : int
        Paths.
    n_eff : float
        Effective sample size p(1−p)/SE² (``n`` for the plain indicator estimator).
    count : int or None
        Paths meeting the target (indicator estimator), or None when smoothed.
    estimator : str
        ``"indicator"``, ``"smoothed"`` or ``"exact"`` (an observed year).
    """

    value: float
    se: float
    low: float
    high: float
    n: int
    n_eff: float
    count: int | None
    estimator: str

    def __repr__(self) -> str:
        how = {"indicator": "counted", "smoothed": "smoothed", "exact": "exact"}.get(
            self.estimator, self.estimator
        )
        if self.estimator == "exact":
            return f"Estimate({self.value:g}, exact)"
        return (
            f"Estimate({self.text()}, 95% interval [{self.low:.4g}, {self.high:.4g}], {how}, "
            f"{self.n:,} paths)"
        )

    @property
    def bound(self) -> str | None:
        """``"<"`` when no path met it, or every path's conditional probability rounded to 0
        (report < 1/N: the run cannot tell the value from 0); ``">"`` when all did."""
        if self.estimator == "exact":
            return None
        if self.value == 0.0 or (self.estimator == "indicator" and self.count == 0):
            return "<"
        if self.value == 1.0 or (self.estimator == "indicator" and self.count == self.n):
            return ">"
        return None

    def text(self, digits: int = 3, *, compact: bool = False) -> str:
        """``0.291 ± 0.001``; a tiny error in scientific notation (``± 4.2e-07``, or
        ``± 4e-07`` when ``compact``); ``< 1/N`` or ``> 1 - 1/N`` for a bound."""
        if self.estimator == "exact":
            return f"{self.value:.0f} (observed)"
        if self.bound == "<":
            return f"< {1 / self.n:.1g}"
        if self.bound == ">":
            return f"> {1 - 1 / self.n:.{max(digits, int(math.log10(self.n)) + 1)}g}"
        tiny = f"{self.se:.0e}" if compact else f"{self.se:.1e}"
        return f"{probability_text(self.value, digits)} ± " + (
            f"{self.se:.{digits}f}" if self.se >= 10**-digits / 2 else tiny
        )

    def __str__(self) -> str:
        return self.text()

    def __float__(self) -> float:
        return float(self.value)


def probability_text(v: float, digits: int) -> str:
    """A probability to ``digits`` decimals, with enough significant figures that a small
    but positive one never reads as 0 and one just short of 1 never as 1."""
    half = 0.5 * 10**-digits
    if 0.0 < v < half:
        return f"{v:.2g}"
    if 1.0 - half < v < 1.0:
        return f"{v:.{math.ceil(-math.log10(1.0 - v)) + 1}f}"
    return f"{v:.{digits}f}"


def exact_estimate(met: bool, n: int) -> Estimate:
    """A target evaluated from an observation: 1 or 0, no error."""
    v = 1.0 if met else 0.0
    return Estimate(v, 0.0, v, v, n, float("inf"), None, "exact")


def _estimate(acc: Sums, n: int, method: str, rep_means=None, smoothed=False) -> Estimate:
    count = acc.count
    if method == "qmc":
        value = float(np.mean(rep_means))
        se = float(np.std(rep_means, ddof=1) / math.sqrt(len(rep_means)))
    else:
        value = acc.s1 / n
        se = math.sqrt(acc.m2 / (acc.nu - 1) / acc.nu) if acc.nu > 1 else float("nan")
    # every path contributes a probability in [0, 1], so the mean is in [0, 1] up to the
    # rounding of the sums: this only removes that rounding (a few ulp)
    value = min(max(value, 0.0), 1.0)
    if (not smoothed and (count == 0 or count == n)) or value in (0.0, 1.0):
        # no spread to measure (no path met it, all did, or every path's conditional
        # probability rounded to 0 or 1): report the binomial (Wilson) bound for N trials
        se = 0.0
        n_eff = float(n)
    elif se > 0:
        n_eff = value * (1 - value) / (se * se) if 0 < value < 1 else float(n)
    elif smoothed:
        n_eff = float("inf")  # every path gives the same exact conditional probability
    else:
        n_eff = float(n)
    low, high = wilson_interval(value, n_eff) if math.isfinite(n_eff) else (value, value)
    return Estimate(
        value=value,
        se=se,
        low=low,
        high=high,
        n=n,
        n_eff=n_eff,
        count=None if smoothed else count,
        estimator="smoothed" if smoothed else "indicator",
    )


# ----------------------------------------------------------------------------- sums


@dataclass
class Sums:
    """One estimate over a block: the sum of path values and the spread of its units.

    Units are paths (plain MC, QMC) or antithetic pairs; ``mean_u`` and ``m2`` are their
    mean and sum of squared deviations, merged across blocks with Chan et al.'s
    pairwise update (stable, and in block order, so reproducible to the bit).
    """

    s1: float = 0.0  # sum over paths
    mean_u: float = 0.0
    m2: float = 0.0
    nu: int = 0
    count: int = 0


def _units(v: np.ndarray, method: str) -> np.ndarray:
    """The independent units of a block, in double precision: its paths, or (antithetic)
    the means of each path and its mirror in the block's second half."""
    v = np.asarray(v, dtype=np.float64)
    if method != "antithetic":
        return v
    half = v.shape[0] // 2
    return 0.5 * (v[:half] + v[half:])


def accumulate(v: np.ndarray, method: str, count: int) -> Sums:
    """Sums for the standard error: per path (mc, qmc) or per antithetic pair."""
    n = v.shape[0]
    if v.dtype == bool:
        if method == "antithetic":
            half = n // 2
            both = int(np.count_nonzero(v[:half] & v[half:]))
            # pair means are 0, 1/2 or 1: sum of squares = both + (one only) / 4
            sq = both + 0.25 * (count - 2 * both)
            mean = 0.5 * count / half
            return Sums(float(count), mean, max(0.0, sq - half * mean * mean), half, count)
        mean = count / n
        return Sums(float(count), mean, count * (1.0 - mean), n, count)
    if v.ndim == 1 and v.strides == (0,):  # one value for every path (fixed parameters)
        x = float(v[0]) if n else 0.0
        nu = n // 2 if method == "antithetic" else n
        return Sums(x * n, x, 0.0, nu, count)
    w = _units(v, method)
    mean = float(w.mean())
    d = w - mean
    np.square(d, out=d)
    # numpy's pairwise sum, not BLAS's dot: its result does not depend on the arrays'
    # alignment in memory, so the numbers are the same for any chunking or executor
    return Sums(float(np.sum(v, dtype=np.float64)), mean, float(d.sum()), w.shape[0], count)


def co_moments(vs: list, method: str) -> np.ndarray:
    """The matrix of co-moments of several estimators over a block's units (paths, or
    antithetic pairs): sums of (a - mean a)(b - mean b); the diagonal is each one's sum
    of squared deviations, as in :func:`accumulate`."""
    centred = []
    for v in vs:
        u = _units(v, method)
        centred.append(u - u.mean())
    k = len(vs)
    out = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            out[i, j] = out[j, i] = float((centred[i] * centred[j]).sum())
    return out


def merge(a: Sums, b: Sums) -> Sums:
    """Two blocks' sums as one (Chan et al.'s pairwise update)."""
    n = a.nu + b.nu
    if n == 0:
        return a
    delta = b.mean_u - a.mean_u
    mean = a.mean_u + delta * b.nu / n
    m2 = a.m2 + b.m2 + delta * delta * a.nu * b.nu / n
    return Sums(a.s1 + b.s1, mean, m2, n, a.count + b.count)


# ----------------------------------------------------------------------------- accumulators


class ProbabilityAccumulator:
    """One probability from one estimator, folded block by block in block order."""

    def __init__(self, n_replicates: int):
        self.total = Sums()
        self.rep_s1 = np.zeros(n_replicates)
        self.rep_n = np.zeros(n_replicates)

    def add(self, sums: Sums, replicate: int, n: int) -> None:
        self.total = merge(self.total, sums)
        self.rep_s1[replicate] += sums.s1
        self.rep_n[replicate] += n

    def rep_means(self) -> np.ndarray:
        return self.rep_s1 / self.rep_n

    def estimate(self, n_total: int, method: str, *, smoothed: bool) -> Estimate:
        rep = self.rep_means() if method == "qmc" else None
        return _estimate(self.total, n_total, method, rep, smoothed=smoothed)


class MixtureAccumulator:
    """Several unbiased estimators of one probability, mixed to minimise the variance.

    Per block: each estimator's :class:`Sums` and the block's matrix of co-moments.
    Covariances are between paths (plain MC, antithetic pairs), merged across blocks with
    Chan's update, or between QMC replicates. The weights are estimated from the same run,
    which biases the estimate by O(1/N) — far below its standard error.
    """

    def __init__(self, k: int, n_replicates: int):
        self.parts = [ProbabilityAccumulator(n_replicates) for _ in range(k)]
        self.comoment = np.zeros((k, k))

    def add(self, sums: list[Sums], cross: np.ndarray, replicate: int, n: int) -> None:
        k = len(self.parts)
        tot = [p.total for p in self.parts]
        if tot[0].nu and sums[0].nu:  # Chan's update of the co-moments
            dm = np.array([sums[i].mean_u - tot[i].mean_u for i in range(k)])
            self.comoment += np.outer(dm, dm) * tot[0].nu * sums[0].nu / (tot[0].nu + sums[0].nu)
        self.comoment += cross
        for p, s in zip(self.parts, sums, strict=True):
            p.add(s, replicate, n)

    def estimate(self, n_total: int, method: str) -> Estimate:
        tot = [p.total for p in self.parts]
        means = np.array([t.s1 for t in tot]) / n_total
        if method == "qmc":
            rep = np.column_stack([p.rep_means() for p in self.parts])
            cov = np.cov(rep, rowvar=False)
            se = np.sqrt(np.diag(cov) / rep.shape[0])
            w = min_variance_weights(cov, means, se)
            return _estimate(tot[0], n_total, method, rep @ w, smoothed=True)
        nu = tot[0].nu
        se = np.sqrt(np.diag(self.comoment) / max(nu - 1, 1) / nu)
        w = min_variance_weights(self.comoment, means, se)  # a common factor does not change w
        s1 = float(sum(wi * t.s1 for wi, t in zip(w, tot, strict=True)))
        m2 = float(w @ self.comoment @ w)
        mixed = Sums(s1, s1 / n_total, max(m2, 0.0), tot[0].nu, tot[0].count)
        return _estimate(mixed, n_total, method, None, smoothed=True)


def min_variance_weights(
    cov: np.ndarray, means: np.ndarray | None = None, se: np.ndarray | None = None
) -> np.ndarray:
    """Weights w >= 0 with sum 1 minimising wᵀ·cov·w (a few estimators: active set).

    Without the sign constraint w ∝ cov⁻¹·1; an estimator whose weight comes out negative
    is dropped and the rest solved again. Two estimators reproduce the clipped λ of
    λ·A + (1-λ)·B, λ = (v_b - c)/(v_a + v_b - 2c).

    An estimator with no spread at all is exact and takes all the weight — unless its
    mean lies more than :data:`EXACT_Z` standard errors ``se`` from the first (reference)
    estimator's ``means``: then its values are not exact but rounded (every path's
    conditional probability underflowed to 0, say), and it is left out."""
    k = cov.shape[0]
    var = np.diag(cov)
    if var.min() <= 0.0:
        j = int(np.argmin(var))
        if means is None or abs(means[j] - means[0]) <= EXACT_Z * se[0]:
            w = np.zeros(k)  # exact: it takes all the weight
            w[j] = 1.0
            return w
        keep = [i for i in range(k) if i != j]
        w = np.zeros(k)
        w[keep] = min_variance_weights(cov[np.ix_(keep, keep)], means[keep], se[keep])
        return w
    active = list(range(k))
    while True:
        sub = cov[np.ix_(active, active)]
        try:  # an exact solve: a variance of 1e-28 (an exact estimator's rounding) counts
            x = np.linalg.solve(sub, np.ones(len(active)))
        except np.linalg.LinAlgError:  # singular: estimators that are exactly collinear
            x = np.linalg.pinv(sub) @ np.ones(len(active))
        total = x.sum()
        if not (total > 0 and np.all(np.isfinite(x))):
            # degenerate (no spread to weigh): keep the first estimator of those left
            w = np.zeros(k)
            w[active[0]] = 1.0
            return w
        x = x / total
        if x.min() >= 0:  # a single estimator left has x = [1]
            w = np.zeros(k)
            w[active] = x
            return w
        del active[int(np.argmin(x))]
