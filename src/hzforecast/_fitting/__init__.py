"""Fitting (private): the Bayesian growth model, the statsmodels candidates, rolling origins.

:mod:`hzforecast.fit` is the public front; :mod:`hzforecast.reference` builds priors from
reference classes with :func:`log_marginal` and :func:`posterior`.
"""

from .base import (
    MIN_REGULAR,
    InsufficientDataError,
    Scale,
    as_series,
    check_horizon,
    check_levels,
    check_quantiles,
)
from .bayes import (
    DEFAULT_LONG_PRIOR_PARAMS,
    DEFAULT_PRIOR_PARAMS,
    LONG_MAX_DRIFT_WALK,
    FitResult,
    GrowthPrior,
    fit_bayes,
    log_marginal,
    log_marginal_many,
    own_drift_walk,
    posterior,
    walk_sum,
)
from .candidates import CANDIDATES, N_ORIGINS, CandidateError, SampleFitResult
from .origins import cuts

__all__ = [
    "CANDIDATES",
    "DEFAULT_LONG_PRIOR_PARAMS",
    "DEFAULT_PRIOR_PARAMS",
    "LONG_MAX_DRIFT_WALK",
    "MIN_REGULAR",
    "N_ORIGINS",
    "CandidateError",
    "FitResult",
    "GrowthPrior",
    "InsufficientDataError",
    "SampleFitResult",
    "Scale",
    "as_series",
    "check_horizon",
    "check_levels",
    "check_quantiles",
    "cuts",
    "fit_bayes",
    "log_marginal",
    "log_marginal_many",
    "own_drift_walk",
    "posterior",
    "walk_sum",
]
