"""statsmodels candidates for longer regular series, and selection by rolling origin.

For a regular annual series of at least :data:`MIN_REGULAR` points, ``fit(model="auto")``
compares four models by their out-of-sample CRPS at the last :data:`N_ORIGINS` origins
(never by in-sample fit):

* ``bayes-growth`` — the Bayesian random walk with drift of :mod:`hzforecast.fit`;
* ``ets-damped`` — exponential smoothing with a damped additive trend on the log scale
  (statsmodels ``ETSModel``);
* ``uc-llt`` — a local linear trend (statsmodels ``UnobservedComponents``) on the log scale;
* ``theta`` — statsmodels' Theta method on the log scale.

statsmodels' own intervals treat the estimated parameters as known. For ``ets-damped``
and ``uc-llt`` the predictive here adds their uncertainty: parameter vectors are drawn
from the asymptotic normal of the estimates (draws outside the parameter space are
redrawn), the model is re-smoothed with each, and future paths are simulated from it.
``theta`` has no simulator in statsmodels: its predictive is normal with statsmodels'
own interval width, *without* parameter uncertainty — the selection's proper score
penalises it where that is too narrow. A candidate whose predictive collapses (zero
spread one year ahead) is refused and the result notes it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .base import Scale, Summary, check_horizon

__all__ = ["CANDIDATES", "CandidateError", "SampleFitResult", "sample_candidate"]

N_ORIGINS = 8
N_PARAM_DRAWS = 20
N_REPETITIONS = 25
CANDIDATES = ("bayes-growth", "ets-damped", "uc-llt", "theta")


class CandidateError(ValueError):
    """A candidate model could not be fitted or collapsed."""


def _draw_params(mean, cov, gen, ok, n):
    """n parameter vectors from N(mean, cov), redrawing those outside the space (``ok``)."""
    cov = np.asarray(cov, float)
    if not np.all(np.isfinite(cov)):
        cov = np.zeros_like(cov)
    cov = 0.5 * (cov + cov.T)
    w, v = np.linalg.eigh(cov)
    root = v * np.sqrt(np.clip(w, 0, None))  # a square root of a PSD covariance
    out = []
    tries = 0
    while len(out) < n and tries < 50 * n:
        th = mean + root @ gen.standard_normal(len(mean))
        tries += 1
        if ok(th):
            out.append(th)
    while len(out) < n:  # the estimate itself when draws keep leaving the space
        out.append(np.asarray(mean, float))
    return out


def _simulate_with_parameter_draws(model, res, ok, horizon, gen, seq):
    """Paths (n, horizon) from ``model`` re-smoothed at parameter draws around ``res``; the
    repetitions of each draw come from their own child of ``seq``."""
    try:
        cov = np.asarray(res.cov_params())
    except Exception:  # statsmodels raises various errors for singular information
        cov = np.zeros((len(res.params), len(res.params)))
    sims = []
    draws = _draw_params(np.asarray(res.params), cov, gen, ok, N_PARAM_DRAWS)
    for th, child in zip(draws, seq.spawn(len(draws)), strict=True):
        s = model.smooth(th).simulate(
            horizon,
            anchor="end",
            repetitions=N_REPETITIONS,
            rng=np.random.default_rng(child),
        )
        sims.append(np.asarray(s).reshape(horizon, -1).T)
    return np.vstack(sims)


def _ets(z, horizon, gen, seq):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ETSModel(z, error="add", trend="add", damped_trend=True)
        res = model.fit(disp=False)
        names = list(res.param_names)
        i_a, i_b, i_phi = (
            names.index(k) for k in ("smoothing_level", "smoothing_trend", "damping_trend")
        )

        def ok(th):
            return 0 < th[i_a] < 1 and 0 < th[i_b] < th[i_a] and 0.8 <= th[i_phi] < 1

        return _simulate_with_parameter_draws(model, res, ok, horizon, gen, seq)


def _uc(z, horizon, gen, seq):
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = UnobservedComponents(z, "local linear trend")
        res = model.fit(disp=False)
        return _simulate_with_parameter_draws(
            model, res, lambda t: bool(np.all(t >= 0)), horizon, gen, seq
        )


def _theta(z, horizon, gen, seq):
    from scipy import stats
    from statsmodels.tsa.forecasting.theta import ThetaModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ThetaModel(z, period=1, deseasonalize=False).fit()
        point = np.asarray(res.forecast(horizon))
        iv = np.asarray(res.prediction_intervals(horizon, alpha=0.05))
    sd = (iv[:, 1] - point) / stats.norm.ppf(0.975)
    n = N_PARAM_DRAWS * N_REPETITIONS
    return point + sd * gen.standard_normal((n, horizon))


_SAMPLERS = {"ets-damped": _ets, "uc-llt": _uc, "theta": _theta}


def sample_candidate(name, z, horizon, seq: np.random.SeedSequence) -> np.ndarray:
    """Samples (n, horizon) of the transformed value from a statsmodels candidate: parameter
    draws from one child of ``seq``, each draw's repetitions from children of another (the
    same ``seq`` gives the same samples)."""
    a, b = (np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, i)) for i in (0, 1))
    gen = np.random.default_rng(a)
    try:
        samples = _SAMPLERS[name](np.asarray(z, float), horizon, gen, b)
    except (ValueError, np.linalg.LinAlgError, RuntimeError) as exc:
        raise CandidateError(f"{name}: could not be fitted ({exc})") from None
    if not np.all(np.isfinite(samples)):
        raise CandidateError(f"{name}: the predictive is not finite")
    if np.std(samples[:, 0]) <= 1e-9 * max(1.0, abs(float(z[-1]))):
        raise CandidateError(f"{name}: the predictive collapsed (zero spread one year ahead)")
    return samples


@dataclass(frozen=True, eq=False)
class SampleFitResult(Scale):
    """A fit whose predictive is a sample of paths (the statsmodels candidates)."""

    name: str
    transform: str
    years: np.ndarray
    values: np.ndarray
    method: str
    seed: np.random.SeedSequence
    notes: tuple[str, ...] = ()
    _cache: dict = field(default_factory=dict, repr=False)

    def _z(self):
        return self.to_z(self.values)

    def samples(self, horizon: int) -> np.ndarray:
        """Transformed predictive samples (n, horizon), the same for the same fit."""
        if horizon not in self._cache:
            self._cache[horizon] = sample_candidate(self.method, self._z(), horizon, self.seed)
        return self._cache[horizon]

    @property
    def growth(self) -> float:
        s = self.samples(1)[:, 0]
        return float(np.expm1(np.median(s) - self._z()[-1]))

    def forecast(self, horizon: int, *, levels=(80, 95), quantiles=None):
        check_horizon(horizon, self.last_year)
        x = self.back(self.samples(horizon))
        return self.table(
            horizon, levels, quantiles, lambda: x.mean(axis=0), lambda p: np.quantile(x, p, axis=0)
        )

    def prob_reach(self, threshold: float, year: int, *, comparator: str = ">=") -> float:
        h = self.reach_horizon(threshold, year, comparator)
        s = self.samples(h)[:, h - 1]
        zt = float(self.to_z(threshold))
        return float(np.mean(s >= zt) if comparator == ">=" else np.mean(s <= zt))

    def cdf(self, x, h):
        s = self.samples(int(h))[:, int(h) - 1]
        return float(np.mean(s <= float(self.to_z(x))))

    def summary(self) -> str:
        lines = [
            f"{self.method} fit of {self.name!r} on the {self.transform} scale: "
            f"{len(self.years)} observations {self.years[0]}–{self.years[-1]}"
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return Summary("\n".join(lines))

    def to_assumption(self, **kwargs):
        raise ValueError(
            f"to_assumption: only the bayes-growth fit carries a drift the engine "
            f"can draw; refit with model='bayes-growth' (this is {self.method!r})"
        )

    def __repr__(self) -> str:
        return f"SampleFitResult({self.name!r}, method={self.method!r}, n_obs={len(self.years)})"
