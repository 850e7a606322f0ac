"""What every fit shares: the observed history on its modelling scale, argument checks, and
the forecast table."""

from __future__ import annotations

import numpy as np

from .._scales import from_scale, to_scale

__all__ = [
    "MIN_REGULAR",
    "InsufficientDataError",
    "Scale",
    "as_series",
    "check_horizon",
    "check_levels",
    "check_quantiles",
]

#: Regular annual series at least this long get the statsmodels candidates under "auto".
MIN_REGULAR = 10


class Summary(str):
    """A multi-line text that shows as itself in a notebook (not as a quoted string)."""

    def __repr__(self) -> str:
        return str(self)


class InsufficientDataError(ValueError):
    """Too little data for the requested fit (the message says what is needed)."""


class Scale:
    """The observed history and the scale (log, logit) a fit works on."""

    years: np.ndarray
    values: np.ndarray
    transform: str

    @property
    def last_year(self) -> int:
        return int(self.years[-1])

    @property
    def last_value(self) -> float:
        return float(self.values[-1])

    def back(self, z):
        """From the modelling scale to the natural one."""
        return from_scale(z, self.transform)

    def to_z(self, x):
        """From the natural scale to the modelling one."""
        return to_scale(np.asarray(x, dtype=float), self.transform)

    def reach_horizon(self, threshold, year, comparator) -> int:
        """Check a prob_reach question; the horizon in years."""
        h = int(year) - self.last_year
        if h < 1:
            raise ValueError(
                f"year: must be after the last observation ({self.last_year}), got {year}"
            )
        check_horizon(h, self.last_year)
        if self.transform == "log" and not threshold > 0:
            raise ValueError(f"threshold: must be positive for a level, got {threshold}")
        if self.transform == "logit" and not 0 < threshold < 1:
            raise ValueError(f"threshold: must be a share in (0, 1), got {threshold}")
        if comparator not in (">=", "<="):
            raise ValueError(f"comparator: expected '>=' or '<=', got {comparator!r}")
        return h

    def table(self, horizon, levels, quantiles, mean, quantile):
        """The forecast table: ``quantile(p)`` gives the natural-scale p-quantile by year."""
        import pandas as pd

        return pd.DataFrame(self.columns(horizon, levels, quantiles, mean, quantile))

    def columns(self, horizon, levels, quantiles, mean, quantile) -> dict:
        """The forecast table's columns as arrays (:meth:`table` without pandas, for the
        batch forecast, which joins thousands of series)."""
        check_horizon(horizon, self.last_year)
        levels = check_levels(levels)
        quantiles = check_quantiles(quantiles)
        out = {
            "year": self.last_year + np.arange(1, horizon + 1),
            "mean": mean(),
            "median": quantile(0.5),
        }
        for lev in levels:
            a = (1 - lev / 100) / 2
            out[f"lower_{lev:g}"] = quantile(a)
            out[f"upper_{lev:g}"] = quantile(1 - a)
        for q, label in quantiles:
            out[label] = quantile(q)
        return out


def check_horizon(h, last_year: int):
    """A forecast horizon: a whole number of years that stays within the years a study may
    hold (up to :data:`hzforecast.spec.YEAR_MAX`, 2100)."""
    from ..spec import YEAR_MAX

    if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
        raise ValueError(f"horizon: must be a whole number >= 1, got {h!r}")
    if last_year + h > YEAR_MAX:
        raise ValueError(
            f"horizon: {h} years after {last_year} goes past {YEAR_MAX}, the last year "
            f"hzforecast models (at most {YEAR_MAX - last_year})"
        )


def check_levels(levels):
    out = []
    for lev in levels:
        if isinstance(lev, bool) or not isinstance(lev, int | float) or not 0 < lev < 100:
            raise ValueError(f"levels: each must be a percentage in (0, 100), got {lev!r}")
        out.append(lev)
    return out


def check_quantiles(quantiles):
    if quantiles is None:
        return []
    out = []
    for q in quantiles:
        if isinstance(q, str):
            label, value = f"q{q}", float(q)
        elif isinstance(q, int | float) and not isinstance(q, bool):
            label, value = f"q{q:g}", float(q)
        else:
            raise ValueError(f"quantiles: each must be a number in (0, 1), got {q!r}")
        if not 0 < value < 1:
            raise ValueError(f"quantiles: each must be in (0, 1), got {q!r}")
        out.append((value, label))
    return out


def as_series(history):
    """(name, years, values, kind) from a pandas Series indexed by year or an Indicator."""
    import pandas as pd

    from ..spec import Indicator

    if isinstance(history, Indicator):
        if history.derived is not None:
            raise ValueError(f"history: indicator {history.id!r} is derived; fit its parts")
        hist = history.history(corrections=True)
        years = np.array(sorted(hist), dtype=int)
        values = np.array([hist[y] for y in years], dtype=float)
        return history.id, years, values, history.kind
    if isinstance(history, pd.Series):
        idx = history.index
        try:
            years = np.asarray(idx, dtype=float)
        except (TypeError, ValueError):
            raise TypeError("history: the Series index must be years (integers)") from None
        if np.any(years != np.round(years)):
            raise ValueError(f"history: years must be whole numbers, got {list(idx)[:5]}")
        years = years.astype(int)
        values = np.asarray(history.to_numpy(), dtype=float)
        name = str(history.name) if history.name is not None else "series"
        return name, years, values, None
    raise TypeError(
        f"history: expected a pandas Series indexed by year or an Indicator, "
        f"got {type(history).__name__}"
    )
