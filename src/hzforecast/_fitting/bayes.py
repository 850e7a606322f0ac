r"""The Bayesian growth model: a random walk whose drift moves, with honest small-sample
uncertainty.

On the log scale (shares: the logit scale) a value moves year by year as

.. math::

    z_t = z_{t-1} + \mu_t + \varepsilon_t,\qquad \mu_t = \mu_{t-1} + \eta_t,\qquad
    \varepsilon_t \sim N(0, \sigma^2),\quad \eta_t \sim N(0, q\,\sigma^2):

growth :math:`\mu_t` is not fixed for ever — Chinese provinces slowed through the 2010s —
it wanders with a variance ``q`` times the shocks' (``drift_walk``). Observations may be
years apart: the increment over a gap of Δ years is a sum of Δ steps, so sparse and
irregular histories are exact, not interpolated. Given σ², every increment is Gaussian
with covariance σ²·Ω, Ω = diag(Δ) + q·A K Aᵀ (A maps years to gaps, K_{tt'} = T − max(t, t')
counts the drift changes two years share after the last observation T is reached).

**Prior.** A Normal–Inverse-Gamma prior on the *current* drift (at the last observation) and
on σ²: :math:`\mu_T \mid \sigma^2 \sim N(m_0, \sigma^2/\kappa_0)`,
:math:`\sigma^2 \sim IG(a_0, b_0)`. Because every covariance is σ² times a known matrix the
posterior is Normal–Inverse-Gamma again (generalised least squares):

.. math::

    \kappa_n = \kappa_0 + \Delta^\top\Omega^{-1}\Delta,\quad
    m_n = (\kappa_0 m_0 + \Delta^\top\Omega^{-1}D)/\kappa_n,\quad
    a_n = a_0 + \tfrac{k}{2},\quad
    b_n = b_0 + \tfrac12(D^\top\Omega^{-1}D + \kappa_0 m_0^2 - \kappa_n m_n^2)

for k increments D over gaps Δ. The predictive of the value h years after the last
observation is Student-t with :math:`2a_n` degrees of freedom, location
:math:`z_T + h m_n` and scale² :math:`(b_n/a_n)\,(h + h^2/\kappa_n + q\,h(h+1)(2h+1)/6)`:
the random walk with drift's :math:`\sigma^2(h + h^2/n)` plus a term for the drift that keeps
moving, which widens far horizons (cubically) where a fixed drift would be overconfident.

The marginal likelihood of the increments is closed too (:func:`log_marginal`), which is what
the empirical-Bayes reference-class priors (:mod:`hzforecast.reference`) maximise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .._lazy import special
from .base import Scale, Summary, check_horizon

__all__ = [
    "DEFAULT_LONG_PRIOR_PARAMS",
    "DEFAULT_PRIOR_PARAMS",
    "LONG_MAX_DRIFT_WALK",
    "FitResult",
    "GrowthPrior",
    "fit_bayes",
    "log_marginal",
    "log_marginal_many",
    "own_drift_walk",
    "posterior",
    "walk_sum",
]


@dataclass(frozen=True)
class GrowthPrior:
    """Normal–Inverse-Gamma prior on the current yearly log drift μ and the shock variance σ²,
    and how much the drift wanders.

    Parameters
    ----------
    mu0 : float
        Prior mean of the current drift (log scale: ``log1p(growth)``; a share: log-odds).
    kappa0 : float
        Strength of the drift prior, in years of (fixed-drift) data; 0: none — then two
        observations are needed.
    a0, b0 : float
        σ² ~ InverseGamma(a0, b0); the prior mean of σ² is b0/(a0 − 1).
    drift_walk : float
        q: the variance of the drift's yearly change, as a multiple of σ² (0: a fixed drift).
    source : str
        Where the numbers come from (shown with every fit).
    provenance : dict
        What a reference-class prior was estimated from (panel, indicator, regions, years,
        method), as data.
    """

    mu0: float = 0.0
    kappa0: float = 0.0
    a0: float = 1.0
    b0: float = 1.0
    drift_walk: float = 0.0
    source: str = "user"
    provenance: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        for name in ("mu0", "kappa0", "a0", "b0", "drift_walk"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
                raise ValueError(f"{name}: must be a finite number, got {v!r}")
        if self.kappa0 < 0:
            raise ValueError(f"kappa0: must be >= 0, got {self.kappa0}")
        if self.a0 <= 0 or self.b0 <= 0:
            raise ValueError(f"a0 and b0: must be > 0, got {self.a0} and {self.b0}")
        if self.drift_walk < 0:
            raise ValueError(f"drift_walk: must be >= 0, got {self.drift_walk}")

    @classmethod
    def from_plan(
        cls, low: float, high: float | None = None, *, strength: float = 10.0, **kwargs
    ) -> GrowthPrior:
        """A prior whose drift is centred on a plan's growth range.

        Parameters
        ----------
        low, high : float
            The plan's yearly growth (0.08, 0.085 for "8%—8.5%"; ``high`` defaults to ``low``).
        strength : float
            How many years of history the plan counts as (``kappa0``).
        """
        high = low if high is None else high
        if not (low > -1 and high >= low):
            raise ValueError(f"low, high: need -1 < low <= high, got {low}, {high}")
        mid = 0.5 * (math.log1p(low) + math.log1p(high))
        src = f"plan {low:.4g}–{high:.4g} (strength {strength:g} years)"
        base = {k: v for k, v in DEFAULT_PRIOR_PARAMS.items() if k not in ("mu0", "kappa0")}
        base.update(kwargs)
        return cls(mu0=mid, kappa0=strength, source=src, **base)

    @classmethod
    def from_reference(cls, panel, indicator: str, **kwargs) -> GrowthPrior:
        """A prior estimated from a reference class by empirical Bayes: see
        :func:`hzforecast.reference.prior`."""
        from ..reference import prior

        return prior(panel, indicator, **kwargs)

    @property
    def sigma(self) -> float:
        """Prior mean of σ² as a standard deviation (for a0 > 1)."""
        return math.sqrt(self.b0 / (self.a0 - 1)) if self.a0 > 1 else float("inf")

    def describe(self) -> str:
        g = math.expm1(self.mu0)
        return (
            f"{self.source}: drift {g:+.2%} a year (weight {self.kappa0:g} years), σ about "
            f"{self.sigma:.3f}, drift walk q = {self.drift_walk:g}"
        )


#: The default prior's numbers, chosen by ``benchmarks/calibrate.py --choose`` (choose_default)
#: on sparse windows of the even M3 yearly series and of the Chinese provincial panels (origins
#: to 2013, outcomes to 2018): a nearly flat drift prior (the weight of 0.1 year, so a steadily
#: growing series keeps its growth), σ about 8% a year with heavy tails (a0 = 2), and a drift
#: that wanders with a quarter of the shocks' variance a year. docs/fitting.md has the search.
DEFAULT_PRIOR_PARAMS = {"mu0": 0.0, "kappa0": 0.1, "a0": 2.0, "b0": 0.08**2, "drift_walk": 0.25}
#: The default for a long regular series (at least MIN_REGULAR yearly values), chosen on the
#: full histories of the even M3 yearly series (benchmarks/bench_m3.py, choose_long_prior):
#: the drift shrunk toward zero growth with the weight of 10 years and σ about 4% (a0 = 2);
#: the drift walk q is the series' own (its marginal likelihood's maximum, at most
#: LONG_MAX_DRIFT_WALK).
DEFAULT_LONG_PRIOR_PARAMS = {"mu0": 0.0, "kappa0": 10.0, "a0": 2.0, "b0": 0.04**2}
LONG_MAX_DRIFT_WALK = 0.03


def walk_sum(h) -> np.ndarray:
    """Σ_{k=1}^{h} k² = h(h+1)(2h+1)/6: the drift walk's contribution to the variance of the
    value h years on, in units of q·σ²."""
    h = np.asarray(h, dtype=float)
    return h * (h + 1) * (2 * h + 1) / 6


def _omega(years: np.ndarray, q: float) -> np.ndarray:
    """Ω: the covariance of the increments between observations, in units of σ²."""
    gaps = np.diff(years).astype(float)
    omega = np.diag(gaps)
    if q > 0:
        t = np.arange(years[0] + 1, years[-1] + 1)
        c = (years[-1] - t).astype(float)  # drift changes still to come after year t
        a = (t[None, :] > years[:-1, None]) & (t[None, :] <= years[1:, None])
        k = np.minimum(c[:, None], c[None, :])
        omega = omega + q * (a @ k @ a.T)
    return omega


@dataclass(frozen=True)
class _Posterior:
    kappa_n: float
    mu_n: float
    a_n: float
    b_n: float
    info: float  # Δᵀ Ω⁻¹ Δ: the data's information on the current drift, in years
    mu_data: float  # the data's own estimate of the current drift (GLS), NaN without data
    quad: float  # Dᵀ Ω⁻¹ D - info · mu_data²: the residual sum of squares in σ² units
    logdet: float  # log |Ω|


def posterior(z: np.ndarray, years: np.ndarray, prior: GrowthPrior) -> _Posterior:
    """The NIG update by the increments of z (modelling scale) between ``years``."""
    if len(years) < 2:
        return _Posterior(prior.kappa0, prior.mu0, prior.a0, prior.b0, 0.0, math.nan, 0.0, 0.0)
    d = np.diff(z)
    gaps = np.diff(years).astype(float)
    omega = _omega(years, prior.drift_walk)
    chol = np.linalg.cholesky(omega)
    solve = lambda v: _solve(chol, v)  # noqa: E731
    w_gap, w_d = solve(gaps), solve(d)
    info = float(gaps @ w_gap)
    cross = float(gaps @ w_d)
    dd = float(d @ w_d)
    mu_data = cross / info
    kappa_n = prior.kappa0 + info
    mu_n = (prior.kappa0 * prior.mu0 + cross) / kappa_n
    a_n = prior.a0 + 0.5 * len(d)
    b_n = prior.b0 + 0.5 * (dd + prior.kappa0 * prior.mu0**2 - kappa_n * mu_n**2)
    logdet = 2.0 * float(np.sum(np.log(np.diag(chol))))
    return _Posterior(kappa_n, mu_n, a_n, b_n, info, mu_data, dd - info * mu_data**2, logdet)


def _solve(chol: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Ω⁻¹ v from Ω's Cholesky factor."""
    from scipy.linalg import solve_triangular

    # the history was checked finite on entry; scipy's own check costs as much as the solve
    y = solve_triangular(chol, v, lower=True, check_finite=False)
    return solve_triangular(chol.T, y, lower=False, check_finite=False)


def log_marginal_many(z: np.ndarray, years: np.ndarray, prior: GrowthPrior) -> np.ndarray:
    """:func:`log_marginal` of several series observed in the same ``years`` at once:
    ``z`` is (series, years). One Ω and one Cholesky factor serve them all."""
    z = np.atleast_2d(np.asarray(z, dtype=float))
    if len(years) < 2:
        return np.zeros(z.shape[0])
    d = np.diff(z, axis=1).T  # (k, R)
    gaps = np.diff(years).astype(float)
    chol = np.linalg.cholesky(_omega(years, prior.drift_walk))
    w_gap = _solve(chol, gaps)
    w_d = _solve(chol, d)
    info = float(gaps @ w_gap)
    cross = gaps @ w_d  # (R,)
    dd = np.einsum("ij,ij->j", d, w_d)
    kappa_n = prior.kappa0 + info
    mu_n = (prior.kappa0 * prior.mu0 + cross) / kappa_n
    k = len(years) - 1
    a_n = prior.a0 + 0.5 * k
    b_n = prior.b0 + 0.5 * (dd + prior.kappa0 * prior.mu0**2 - kappa_n * mu_n**2)
    logdet = 2.0 * float(np.sum(np.log(np.diag(chol))))
    return (
        -0.5 * k * math.log(2 * math.pi)
        - 0.5 * logdet
        + 0.5 * (math.log(prior.kappa0) - math.log(kappa_n))
        + prior.a0 * math.log(prior.b0)
        - a_n * np.log(b_n)
        + special.gammaln(a_n)
        - special.gammaln(prior.a0)
    )


def log_marginal(z: np.ndarray, years: np.ndarray, prior: GrowthPrior) -> float:
    """log p(increments | prior): the marginal likelihood empirical Bayes maximises.

    (2π)^{-k/2} |Ω|^{-1/2} (κ0/κn)^{1/2} b0^{a0} Γ(an) / (Γ(a0) bn^{an}); needs κ0 > 0."""
    if len(years) < 2:
        return 0.0
    p = posterior(z, years, prior)
    k = len(years) - 1
    return float(
        -0.5 * k * math.log(2 * math.pi)
        - 0.5 * p.logdet
        + 0.5 * (math.log(prior.kappa0) - math.log(p.kappa_n))
        + prior.a0 * math.log(prior.b0)
        - p.a_n * math.log(p.b_n)
        + special.gammaln(p.a_n)
        - special.gammaln(prior.a0)
    )


@dataclass(frozen=True, eq=False)
class FitResult(Scale):
    """A fitted growth model: parameters, their uncertainty, the data, the prior and where each
    part of the answer comes from.

    Forecasts are on the natural scale; internally the model works on the log (shares:
    logit) scale, where the predictive is Student-t.

    Attributes
    ----------
    mu_n, kappa_n, a_n, b_n : float
        The posterior: current drift ~ t(2a_n, mu_n, b_n/(a_n κ_n)), σ² ~ IG(a_n, b_n).
    sigma_prior_share : float
        The share of σ²'s information that comes from the prior, a0/a_n: above 1/2 the
        volatility is mostly the prior's.
    conflict : dict or None
        Where the data disagree with the prior (the drift, or σ), the numbers that say so.
    """

    name: str
    transform: Literal["log", "logit"]
    years: np.ndarray
    values: np.ndarray
    prior: GrowthPrior
    method: str
    mu_n: float
    kappa_n: float
    a_n: float
    b_n: float
    data_drift: float = math.nan
    data_info: float = 0.0
    data_rss: float = 0.0
    window: int | None = None
    notes: tuple[str, ...] = ()
    conflict: dict | None = None

    # -- parameters --------------------------------------------------------
    @property
    def df(self) -> float:
        return 2.0 * self.a_n

    @property
    def q(self) -> float:
        return self.prior.drift_walk

    @property
    def drift(self) -> float:
        """Posterior mean of the current yearly drift μ (log or log-odds scale)."""
        return self.mu_n

    @property
    def drift_sd(self) -> float:
        """Posterior standard deviation of the current drift (Student-t, for df > 2)."""
        if self.df <= 2:
            return float("inf")
        return math.sqrt(self.b_n / (self.a_n * self.kappa_n) * self.df / (self.df - 2))

    @property
    def sigma(self) -> float:
        """Posterior mean of σ² as a standard deviation (for a_n > 1)."""
        return math.sqrt(self.b_n / (self.a_n - 1)) if self.a_n > 1 else float("inf")

    @property
    def sigma_scale(self) -> float:
        """s = sqrt(b_n / a_n): σ² ~ ν s² / χ²_ν with ν = 2a_n."""
        return math.sqrt(self.b_n / self.a_n)

    @property
    def sigma_prior_share(self) -> float:
        return self.prior.a0 / self.a_n

    @property
    def growth(self) -> float:
        """Median yearly growth exp(μ_n) − 1 (for a share: its log-odds drift)."""
        return math.expm1(self.mu_n) if self.transform == "log" else self.mu_n

    def params(self) -> dict:
        return {
            "growth": self.growth,
            "drift": self.drift,
            "drift_sd": self.drift_sd,
            "sigma": self.sigma,
            "df": self.df,
            "drift_walk": self.q,
            "kappa_n": self.kappa_n,
            "a_n": self.a_n,
            "b_n": self.b_n,
            "n_obs": len(self.years),
            "sigma_prior_share": self.sigma_prior_share,
            "conflict": bool(self.conflict),
            "window": self.window,
            "prior": self.prior.source,
        }

    # -- predictive --------------------------------------------------------
    def predictive(self, h) -> tuple[np.ndarray, np.ndarray, float]:
        """(location, scale, df) of the modelling-scale value h years after the last
        observation."""
        h = np.asarray(h, dtype=float)
        loc = float(self.to_z(self.last_value)) + self.mu_n * h
        var = h + h * h / self.kappa_n + self.q * walk_sum(h)
        return loc, np.sqrt(self.b_n / self.a_n * var), self.df

    def forecast(self, horizon: int, *, levels=(80, 95), quantiles=None):
        """Forecast table for years last+1 … last+horizon.

        Returns
        -------
        pandas.DataFrame
            ``year``, ``mean``, ``median``, ``lower_L``/``upper_L`` for each level, and
            ``q<p>`` for each requested quantile (``q0.05``). The mean of a log-t
            predictive does not exist; ``mean`` is that of the log-normal with the same
            location and variance (NaN when df ≤ 2).
        """
        import pandas as pd

        return pd.DataFrame(self.forecast_columns(horizon, levels=levels, quantiles=quantiles))

    def forecast_columns(self, horizon: int, *, levels=(80, 95), quantiles=None) -> dict:
        """:meth:`forecast`'s columns as a dict of arrays."""
        check_horizon(horizon, self.last_year)
        loc, scale, df = self.predictive(np.arange(1, horizon + 1))

        def mean():
            if self.transform == "logit":
                return _logit_t_mean(loc, scale, df)
            if df <= 2:
                return np.full(horizon, np.nan)
            with np.errstate(over="ignore"):
                return np.exp(loc + scale**2 * df / (df - 2) / 2)

        def quantile(p):
            return self.back(loc + scale * special.stdtrit(df, p))

        return self.columns(horizon, levels, quantiles, mean, quantile)

    def prob_reach(self, threshold: float, year: int, *, comparator: str = ">=") -> float:
        """P(value in ``year`` ≥ threshold) (or ≤) under the predictive."""
        h = self.reach_horizon(threshold, year, comparator)
        loc, scale, df = self.predictive(h)
        z = (float(self.to_z(threshold)) - float(loc)) / float(scale)
        return float(special.stdtr(df, -z) if comparator == ">=" else special.stdtr(df, z))

    def cdf(self, x, h):
        """Predictive CDF of the value h years ahead (natural scale)."""
        loc, scale, df = self.predictive(h)
        return special.stdtr(df, (self.to_z(x) - loc) / scale)

    def simulate(self, horizon: int, *, n_paths: int = 10_000, rng=None) -> np.ndarray:
        """Sample paths (n_paths, horizon + 1) from the posterior predictive.

        Each path draws σ² ~ IG(a_n, b_n), the current drift μ | σ² ~ N(μ_n, σ²/κ_n), then
        year by year a drift change (variance qσ²) and a shock (σ²); column 0 is the last
        observation.
        """
        from scipy import stats

        from .._rng import as_seed_sequence

        check_horizon(horizon, self.last_year)
        if isinstance(n_paths, bool) or not isinstance(n_paths, int) or n_paths < 1:
            raise ValueError(f"n_paths: must be a positive int, got {n_paths!r}")
        gen = np.random.default_rng(as_seed_sequence(rng))
        s2 = stats.invgamma.rvs(self.a_n, scale=self.b_n, size=n_paths, random_state=gen)
        sd = np.sqrt(s2)
        mu = self.mu_n + sd / math.sqrt(self.kappa_n) * gen.standard_normal(n_paths)
        walk = math.sqrt(self.q) * sd[:, None] * gen.standard_normal((n_paths, horizon))
        drifts = mu[:, None] + np.cumsum(walk, axis=1)
        steps = drifts + sd[:, None] * gen.standard_normal((n_paths, horizon))
        z0 = float(self.to_z(self.last_value))
        paths = np.empty((n_paths, horizon + 1))
        paths[:, 0] = z0
        paths[:, 1:] = z0 + np.cumsum(steps, axis=1)
        return self.back(paths)

    def to_assumption(self, *, rationale: str | None = None, indicator: str | None = None):
        """A scenario :class:`~hzforecast.spec.Assumption` the engine simulates exactly as
        this fit predicts: the drift Normal(μ_n, s²/κ_n) scaled per path with the path's
        volatility (the Normal–Inverse-Gamma posterior), the volatility uncertain
        (σ² ~ ν s²/χ²_ν, ν = 2a_n), and the drift walking (``growth_walk`` = √q·s, scaled
        per path like the drift)."""
        from ..distributions import Normal
        from ..spec import Assumption

        s = self.sigma_scale
        why = rationale or (
            f"fitted ({self.method}) to {len(self.years)} observations "
            f"{self.years[0]}–{self.years[-1]}; prior: {self.prior.source}"
        )
        return Assumption(
            indicator=indicator or self.name,
            growth=Normal(mean=self.mu_n, sd=s / math.sqrt(self.kappa_n)),
            growth_scale="log" if self.transform == "log" else "rate",
            volatility=s,
            volatility_df=self.df,
            growth_walk=math.sqrt(self.q) * s,
            rationale=why,
        )

    def summary(self) -> str:
        """What was fitted, the answer, and where its parts come from."""
        p = self.params()
        unit = "a year" if self.transform == "log" else "a year (log-odds)"
        lines = [
            f"{self.method} fit of {self.name!r} on the {self.transform} scale: "
            f"{len(self.years)} observations {self.years[0]}–{self.years[-1]}",
            f"  growth (median) {p['growth']:.2%} {unit}, drift {p['drift']:.4f} ± "
            f"{p['drift_sd']:.4f}, σ {p['sigma']:.4f}, Student-t df {p['df']:.1f}, drift "
            f"walk q = {self.q:g}",
            f"  prior: {self.prior.describe()}",
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return Summary("\n".join(lines))

    def __str__(self) -> str:
        return self.summary()

    def to_frame(self):
        """The fitted parameters as a one-row DataFrame."""
        import pandas as pd

        return pd.DataFrame([{"name": self.name, "method": self.method, **self.params()}])

    def _repr_html_(self) -> str:
        from html import escape

        p = self.params()
        rows = "".join(
            f"<tr><th>{escape(k)}</th><td>{escape(f'{v:.4g}' if isinstance(v, float) else str(v))}"
            f"</td></tr>"
            for k, v in p.items()
        )
        notes = "".join(f"<li>{escape(n)}</li>" for n in self.notes)
        fc = self.forecast(min(5, 2100 - self.last_year)).to_html(
            index=False, float_format=lambda v: f"{v:.4g}"
        )
        return (
            f"<p><b>{escape(self.method)}</b> fit of <code>{escape(self.name)}</code> "
            f"({self.transform} scale), {len(self.years)} observations "
            f"{self.years[0]}–{self.years[-1]}</p><table>{rows}</table>"
            f"{f'<ul>{notes}</ul>' if notes else ''}<p>Forecast:</p>{fc}"
        )

    def __repr__(self) -> str:
        return (
            f"FitResult({self.name!r}, method={self.method!r}, growth={self.growth:.4g}, "
            f"sigma={self.sigma:.4g}, df={self.df:.3g}, n_obs={len(self.years)})"
        )


def _logit_t_mean(loc, scale, df):
    """E[expit(T)] for T ~ t(df, loc, scale), averaged over 2000 predictive quantiles."""
    u = (np.arange(2000) + 0.5) / 2000
    q = special.stdtrit(df, u)  # the t quantiles (scipy.stats.t.ppf calls the same)
    locs, scales = np.atleast_1d(loc), np.atleast_1d(scale)
    return np.array([special.expit(m + s * q).mean() for m, s in zip(locs, scales, strict=True)])


#: A prior–data conflict is flagged beyond this many standard deviations (p ≈ 0.012).
CONFLICT_Z = 2.5


def _diagnose(post: _Posterior, prior: GrowthPrior, n_inc: int, transform: str):
    """Notes on where σ comes from, and a conflict between the data and the prior."""
    notes, conflict = [], {}
    share = prior.a0 / post.a_n
    if share > 0.5:
        notes.append(
            f"σ comes mostly from the prior ({share:.0%} of its weight: {n_inc} observed "
            f"growth rate(s)); the prior's σ is about {prior.sigma:.3f}"
        )
    if n_inc and prior.kappa0 > 0 and math.isfinite(post.mu_data):
        s = math.sqrt(post.b_n / post.a_n)
        sd = s * math.sqrt(1 / prior.kappa0 + 1 / post.info)
        z = (post.mu_data - prior.mu0) / sd
        if abs(z) > CONFLICT_Z:
            g = (lambda d: math.expm1(d)) if transform == "log" else (lambda d: d)
            conflict["drift"] = {
                "data": g(post.mu_data),
                "prior": g(prior.mu0),
                "z": z,
            }
            notes.append(
                f"the data disagree with the prior's drift: {g(post.mu_data):+.2%} a year "
                f"against the prior's {g(prior.mu0):+.2%} (z = {z:+.1f}); the fit sits between "
                f"them at {g(post.mu_n):+.2%} — check the prior fits this series"
            )
    if n_inc >= 3 and prior.a0 > 1:
        # the residual variance against the prior's: F(k-1, 2a0) under the prior
        f = (post.quad / (n_inc - 1)) / (prior.b0 / prior.a0)
        p_hi = float(special.fdtrc(n_inc - 1, 2 * prior.a0, f))  # F distribution's tails
        p_lo = float(special.fdtr(n_inc - 1, 2 * prior.a0, f))
        if min(p_hi, p_lo) < 0.01:
            data_sigma = math.sqrt(post.quad / (n_inc - 1))
            conflict["sigma"] = {"data": data_sigma, "prior": prior.sigma, "p": min(p_hi, p_lo)}
            notes.append(
                f"the data's volatility ({data_sigma:.3f}) disagrees with the prior's "
                f"({prior.sigma:.3f}; p = {min(p_hi, p_lo):.2g})"
            )
    return notes, (conflict or None)


def walk_log_marginal(z: np.ndarray, years: np.ndarray, prior: GrowthPrior):
    """:func:`log_marginal` as a function of the drift walk q (``prior.drift_walk`` is
    ignored), for an optimiser that evaluates it many times.

    Ω(q) = D + q·M (D the gaps, M = A K Aᵀ) is diagonalised once: with
    D^{-1/2} M D^{-1/2} = V Λ Vᵀ, Ω(q)⁻¹ = D^{-1/2} V (I + qΛ)⁻¹ Vᵀ D^{-1/2} and
    log|Ω(q)| = Σ log Δ + Σ log(1 + qλ), so an evaluation costs O(n) instead of a Cholesky
    factorisation (tests/test_fit.py checks it against :func:`log_marginal`)."""
    z = np.asarray(z, dtype=float)
    if len(years) < 2:
        return lambda q: 0.0
    d = np.diff(z)
    gaps = np.diff(years).astype(float)
    root = np.sqrt(gaps)
    m = _omega(years, 1.0) - np.diag(gaps)  # M: the drift walk's part of Ω, per unit q
    lam, v = np.linalg.eigh(m / root[:, None] / root[None, :])
    lam = np.maximum(lam, 0.0)  # M is positive semi-definite; rounding may dip below 0
    gt, dt = v.T @ (gaps / root), v.T @ (d / root)
    gt_gt, gt_dt, dt_dt = gt * gt, gt * dt, dt * dt
    log_gaps = float(np.sum(np.log(gaps)))
    k = len(d)
    a_n = prior.a0 + 0.5 * k
    const = (
        -0.5 * k * math.log(2 * math.pi)
        + 0.5 * math.log(prior.kappa0)
        + prior.a0 * math.log(prior.b0)
        + float(special.gammaln(a_n) - special.gammaln(prior.a0))
    )

    def log_marginal_q(q: float) -> float:
        one_q = 1.0 + q * lam
        info, cross, dd = (gt_gt / one_q).sum(), (gt_dt / one_q).sum(), (dt_dt / one_q).sum()
        kappa_n = prior.kappa0 + info
        mu_n = (prior.kappa0 * prior.mu0 + cross) / kappa_n
        b_n = prior.b0 + 0.5 * (dd + prior.kappa0 * prior.mu0**2 - kappa_n * mu_n**2)
        logdet = log_gaps + np.log(one_q).sum()
        return float(const - 0.5 * logdet - 0.5 * math.log(kappa_n) - a_n * math.log(b_n))

    return log_marginal_q


def own_drift_walk(z: np.ndarray, years: np.ndarray, prior: GrowthPrior, q_max: float) -> float:
    """q that maximises the series' own marginal likelihood under ``prior`` (in [1e-4, q_max])."""
    from scipy import optimize

    lm = walk_log_marginal(z, years, prior)
    r = optimize.minimize_scalar(
        lambda lq: -lm(math.exp(lq)),
        bounds=(math.log(1e-4), math.log(q_max)),
        method="bounded",
        options={"xatol": 1e-3},
    )
    return float(math.exp(r.x))


def fit_bayes(name, years, values, kind, prior: GrowthPrior, window, notes) -> FitResult:
    """The Bayesian growth fit of a checked history (see the module docstring)."""
    from .._scales import to_scale

    transform = "log" if kind == "level" else "logit"
    z = to_scale(values, transform)
    post = posterior(z, years, prior)
    more, conflict = _diagnose(post, prior, len(years) - 1, transform)
    if len(years) == 1:
        more.append("one observation: the drift is the prior's")
    return FitResult(
        name=name,
        transform=transform,
        years=years,
        values=values,
        prior=prior,
        method="bayes-growth",
        mu_n=post.mu_n,
        kappa_n=post.kappa_n,
        a_n=post.a_n,
        b_n=post.b_n,
        data_drift=post.mu_data,
        data_info=post.info,
        data_rss=post.quad,
        window=window,
        notes=tuple(notes) + tuple(more),
        conflict=conflict,
    )
