r"""Growth learned from sparse, irregular history — with honest uncertainty.

A planner's history is tiny: GDP for 2004 and 2018 only, incomes for 2008 and 2018, one
cluster figure. Standard tools fail here (statsmodels' ETS fits two points exactly and
returns a zero-width interval; ARIMA and ETS need regular years). :func:`fit` uses a model
that works from one observation (with a prior) to long series: a random walk on the log
(shares: logit) scale whose drift itself wanders, with a Normal–Inverse-Gamma prior, so
that both the growth and the volatility are uncertain and irregular gaps are exact
(:mod:`hzforecast._fitting.bayes` has the formulas; docs/fitting.md the derivation and the
evidence).

**Priors.** Where the series has a *reference class* — provinces' GDP, R&D intensity,
budget revenue … — :meth:`GrowthPrior.from_reference` estimates the prior from it by
empirical Bayes (:mod:`hzforecast.reference`), so a sparse series shrinks toward what
regions like it did, not toward zero. Without one, :data:`DEFAULT_PRIOR` is nearly flat in
the drift (a steadily growing series keeps its growth) and sets the volatility and the drift's
wander from a calibration on sparse windows of real annual data (``benchmarks/calibrate.py``;
only the numbers are shipped). :meth:`GrowthPrior.from_plan` centres the drift on a plan's
range instead, with a stated strength. A result says where its σ comes from and flags data
that disagree with the prior.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ._fitting import (
    CANDIDATES,
    DEFAULT_LONG_PRIOR_PARAMS,
    DEFAULT_PRIOR_PARAMS,
    LONG_MAX_DRIFT_WALK,
    MIN_REGULAR,
    N_ORIGINS,
    CandidateError,
    FitResult,
    GrowthPrior,
    InsufficientDataError,
    SampleFitResult,
    as_series,
    cuts,
    fit_bayes,
    own_drift_walk,
)

__all__ = [
    "DEFAULT_LONG_PRIOR",
    "DEFAULT_PRIOR",
    "MIN_REGULAR",
    "FitResult",
    "GrowthPrior",
    "InsufficientDataError",
    "SampleFitResult",
    "fit",
]

#: The default prior for a sparse series with no reference class (see the module docstring).
DEFAULT_PRIOR = GrowthPrior(
    **DEFAULT_PRIOR_PARAMS,
    source="default for sparse series: calibrated on sparse windows of M3 yearly (even half) "
    "and of Chinese provinces (origins to 2013)",
)
#: What DEFAULT_PRIOR becomes for a long regular series (at least MIN_REGULAR yearly values):
#: the drift walk q is then the series' own (at most 0.03), the drift shrunk toward zero with
#: the weight of ten years — chosen on the full histories of the even M3 yearly series
#: (benchmarks/bench_m3.py, choose_long_prior).
DEFAULT_LONG_PRIOR = GrowthPrior(
    **DEFAULT_LONG_PRIOR_PARAMS,
    drift_walk=LONG_MAX_DRIFT_WALK,
    source="default for long regular series: calibrated on full histories of M3 yearly "
    "(even half); drift walk estimated from the series",
)


def _check_history(name, years, values, kind, unsorted):
    if len(years) == 0:
        raise InsufficientDataError(f"history: {name!r} has no observations")
    if np.any(~np.isfinite(values)):
        bad = years[~np.isfinite(values)][0]
        raise ValueError(f"history: value for {bad} is not finite")
    uniq, counts = np.unique(years, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(f"history: duplicate year {uniq[counts > 1][0]}")
    if np.any(np.diff(years) < 0):
        if unsorted == "raise":
            raise ValueError("history: years are not in increasing order")
        order = np.argsort(years)
        years, values = years[order], values[order]
    if kind == "level" and np.any(values <= 0):
        bad = years[values <= 0][0]
        raise ValueError(
            f"history: a level must be positive for the log model; "
            f"{bad} is {values[years == bad][0]}"
        )
    if kind == "share" and np.any((values <= 0) | (values >= 1)):
        bad = years[(values <= 0) | (values >= 1)][0]
        raise ValueError(f"history: a share must lie in (0, 1); {bad} is {values[years == bad][0]}")
    return years, values


def fit(
    history,
    *,
    model: Literal["bayes-growth", "auto", "ets-damped", "uc-llt", "theta"] = "bayes-growth",
    prior: GrowthPrior | None = None,
    kind: Literal["level", "share"] | None = None,
    window: int | None = None,
    unsorted: Literal["sort", "raise"] = "sort",
    rng=0,
) -> FitResult | SampleFitResult:
    """Fit a growth model to an indicator's history.

    Parameters
    ----------
    history : pandas.Series or Indicator
        Values indexed by year (gaps allowed), or a study indicator (its corrected
        readings are used where the study carries them).
    model : {"bayes-growth", "auto", "ets-damped", "uc-llt", "theta"}
        ``"bayes-growth"`` (the default): the Bayesian growth model (module notes) — a
        :class:`FitResult`. ``"auto"``: for a regular series of at least 10 years, the
        statsmodels candidates compete by rolling-origin CRPS and replace bayes-growth only
        when clearly better — experimental (docs, fitting page). The others ask for one
        candidate by name and give a :class:`SampleFitResult`.
    prior : GrowthPrior, optional
        Default :data:`DEFAULT_PRIOR`. With a prior that has ``kappa0 > 0`` one observation
        suffices (the 蒙牛 cluster's 108.9亿).
    kind : {"level", "share"}, optional
        For a Series: ``"share"`` fits on the logit scale (values in (0, 1)); default
        ``"level"``. An Indicator brings its own kind.
    window : int, optional
        Use only observations from the last ``window`` years.
    unsorted : {"sort", "raise"}
        Years out of order are sorted (default) or refused.
    rng : int, SeedSequence or Generator
        Seed of the statsmodels candidates' simulations (the Bayesian fit is closed-form);
        the default 0 makes the same data give the same fit.

    Returns
    -------
    FitResult or SampleFitResult

    Raises
    ------
    InsufficientDataError
        Too few observations for the prior given.
    ValueError
        Non-positive levels, shares outside (0, 1), duplicate years, NaN.

    Examples
    --------
    >>> import pandas as pd, hzforecast as hz
    >>> res = hz.fit(pd.Series({2008: 13593.0, 2018: 32345.0}, name="urban_income"))
    >>> res.forecast(2).columns.tolist()[:3]
    ['year', 'mean', 'median']
    """
    from ._rng import as_seed_sequence

    models = ("auto", "bayes-growth", "ets-damped", "uc-llt", "theta")
    if model not in models:
        raise ValueError(f"model: expected one of {list(models)}, got {model!r}")
    if unsorted not in ("sort", "raise"):
        raise ValueError(f"unsorted: expected 'sort' or 'raise', got {unsorted!r}")
    prior = DEFAULT_PRIOR if prior is None else prior
    if not isinstance(prior, GrowthPrior):
        raise TypeError(f"prior: expected a GrowthPrior, got {type(prior).__name__}")
    name, years, values, ind_kind = as_series(history)
    if ind_kind is not None:
        if ind_kind == "rate":
            raise ValueError(f"history: {name!r} is a rate; growth models need a level or share")
        own = "share" if ind_kind == "share" else "level"
        if kind is not None and kind != own:
            raise ValueError(f"kind: the indicator is a {ind_kind!r}, got kind={kind!r}")
        kind = own
    kind = kind or "level"
    if kind not in ("level", "share"):
        raise ValueError(f"kind: expected 'level' or 'share', got {kind!r}")
    years, values = _check_history(name, years, values, kind, unsorted)
    notes = []
    if window is not None:
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"window: must be a positive number of years, got {window!r}")
        keep = years >= years[-1] - window
        notes.append(
            f"window: {int((~keep).sum())} observation(s) before {years[-1] - window} left out"
        )
        years, values = years[keep], values[keep]
    regular = len(years) >= 2 and bool(np.all(np.diff(years) == 1))
    seq = as_seed_sequence(rng)
    if model in ("ets-damped", "uc-llt", "theta") or (
        model == "auto" and regular and len(years) >= MIN_REGULAR
    ):
        return _fit_candidates(name, kind, years, values, model, prior, notes, regular, seq)
    if len(years) < 2 and prior.kappa0 == 0:
        raise InsufficientDataError(
            f"history: {name!r} has one observation ({years[0]}); a growth rate needs two, or a "
            f"prior for the drift (e.g. GrowthPrior.from_plan(0.08, 0.085))"
        )
    if prior is DEFAULT_PRIOR and regular and len(years) >= MIN_REGULAR:
        prior = _long_prior(years, values, kind)
        notes.append(
            f"{len(years)} regular yearly values: the long-series default prior, with the drift "
            f"walk estimated from the series (q = {prior.drift_walk:.3g})"
        )
    return fit_bayes(name, years, values, kind, prior, window, notes)


def _long_prior(years, values, kind) -> GrowthPrior:
    from dataclasses import replace

    from ._scales import to_scale

    z = to_scale(values, "log" if kind == "level" else "logit")
    q = own_drift_walk(z, years, DEFAULT_LONG_PRIOR, LONG_MAX_DRIFT_WALK)
    return replace(DEFAULT_LONG_PRIOR, drift_walk=q)


def _fit_candidates(name, kind, years, values, model, prior, notes, regular, seq):
    """statsmodels candidates, or the rolling-origin choice among all four ("auto")."""
    from dataclasses import replace

    from scipy import stats

    from . import scores

    if not regular or len(years) < MIN_REGULAR:
        raise InsufficientDataError(
            f"history: {model!r} needs a regular annual series of at least {MIN_REGULAR} "
            f"years, {name!r} has {len(years)} observation(s)"
            f"{'' if regular else ' with gaps'}"
        )
    transform = "log" if kind == "level" else "logit"

    def build(method, yrs, vals, child):
        if method == "bayes-growth":
            return fit_bayes(name, yrs, vals, kind, prior, None, [])
        res = SampleFitResult(name, transform, yrs, vals, method, child, tuple(notes))
        res.samples(1)  # fit now: a collapse or failure surfaces here
        return res

    if model != "auto":
        return build(model, years, values, seq)
    h = 3
    origins = cuts(len(years), horizon=h, min_train=MIN_REGULAR - 3, last=N_ORIGINS)
    children = seq.spawn(len(origins) * len(CANDIDATES) + 1)
    scores_by, paired, refused = {}, {}, []
    u = (np.arange(500) + 0.5) / 500
    for ci, method in enumerate(CANDIDATES):
        crps = []
        try:
            for j, cut in enumerate(origins):
                res = build(method, years[:cut], values[:cut], children[ci * len(origins) + j])
                scale = np.mean(np.abs(np.diff(values[:cut])))
                for k in range(h):
                    actual = values[cut + k]
                    if method == "bayes-growth":
                        loc, sc, df = res.predictive(k + 1)
                        sample = res.back(loc + sc * stats.t.ppf(u, df))
                    else:
                        sample = res.back(res.samples(h)[:, k])
                    crps.append(float(scores.crps_sample(actual, sample)) / scale)
        except (CandidateError, InsufficientDataError, ValueError) as exc:
            refused.append(f"{method} refused ({exc})")
            continue
        scores_by[method] = float(np.mean(crps))
        paired[method] = np.asarray(crps)
    best = _clear_winner(paired, scores_by)
    table = ", ".join(f"{k} {v:.3f}" for k, v in sorted(scores_by.items(), key=lambda kv: kv[1]))
    note = (
        f"auto: {best} chosen by rolling-origin CRPS over the last {len(origins)} origins, "
        f"1–{h} years ahead (scaled; lower is better; a candidate must beat bayes-growth by "
        f"three standard errors of the paired differences and by 20%): {table}"
    )
    chosen = build(best, years, values, children[-1])
    extra = (note, *refused)
    if isinstance(chosen, FitResult):
        return replace(chosen, notes=(*notes, *chosen.notes, *extra))
    return replace(chosen, notes=(*chosen.notes, *extra), _cache={})


def _clear_winner(paired: dict, scores_by: dict) -> str:
    """A candidate replaces the calibrated bayes-growth model only when it beats it clearly:
    its mean paired CRPS difference is more than three standard errors below zero and its
    mean CRPS 20% lower. With a few origins the plain minimum picks noise (on held-out M3
    series it chose overconfident models and covered 66% at 80%)."""
    if "bayes-growth" not in paired:
        return "bayes-growth"
    base = paired["bayes-growth"]
    clear = {}
    for m, v in paired.items():
        d = v - base
        if m != "bayes-growth" and len(d) > 2:
            se = d.std(ddof=1) / np.sqrt(len(d))
            if d.mean() < -3 * se and scores_by[m] < 0.8 * scores_by["bayes-growth"]:
                clear[m] = scores_by[m]
    return min(clear, key=clear.get) if clear else "bayes-growth"
