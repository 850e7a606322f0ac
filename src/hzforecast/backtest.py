"""Backtesting: fit on the past, forecast, and score against what happened.

:func:`backtest` runs rolling-origin evaluation over one series or a collection:
for every origin (each year from ``min_train`` observations on, or only the last
``horizon`` years held out with ``origins="last"``) it fits :func:`hzforecast.fit`
on the data up to the origin, forecasts ``horizon`` years and scores the forecast
(sMAPE, MASE, interval coverage and Winkler score, CRPS, PIT, and the Brier score of
the event "at least ``event_ratio`` × the last observation ``horizon`` years on").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import scores
from ._fitting import cuts
from .fit import GrowthPrior, fit

__all__ = ["BacktestResult", "backtest"]


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """Per-forecast rows (``frame``) and their summary (``summary()``)."""

    frame: object  # pandas.DataFrame
    levels: tuple
    horizon: int
    event_ratio: float

    def summary(self) -> dict:
        f = self.frame
        out = {
            "forecasts": len(f),
            "series": f["series"].nunique(),
            "smape": float(f["smape"].mean()),
            "mase": float(f.groupby(["series", "origin"])["ae_scaled"].mean().mean()),
            "crps_scaled": float(f["crps_scaled"].mean()),
        }
        for lev in self.levels:
            out[f"coverage_{lev:g}"] = float(f[f"in_{lev:g}"].mean())
            out[f"winkler_scaled_{lev:g}"] = float(f[f"winkler_scaled_{lev:g}"].mean())
        ev = f[f["h"] == self.horizon]
        out["brier"] = float(scores.brier(ev["p_event"], ev["event"]))
        return out

    def pit_histogram(self, bins: int = 10):
        return scores.pit_histogram(self.frame["pit"], bins=bins)


def _collection(data):
    import pandas as pd

    if isinstance(data, pd.Series):
        return {str(data.name) if data.name is not None else "series": data}
    if isinstance(data, dict):
        return data
    if isinstance(data, pd.DataFrame):
        need = {"series", "year", "value"}
        if not need <= set(data.columns):
            raise ValueError(
                f"data: a DataFrame needs columns {sorted(need)}, got {list(data.columns)}"
            )
        return {k: g.set_index("year")["value"].sort_index() for k, g in data.groupby("series")}
    raise TypeError(
        f"data: expected a Series, a dict of Series or a long DataFrame, got {type(data).__name__}"
    )


def backtest(
    data,
    *,
    horizon: int,
    origins: str = "rolling",
    min_train: int = 2,
    prior: GrowthPrior | None = None,
    levels=(80, 95),
    event_ratio: float = 1.1,
    kind: str = "level",
) -> BacktestResult:
    """Rolling-origin evaluation of :func:`hzforecast.fit` (its ``bayes-growth`` model).

    Parameters
    ----------
    data : Series, dict of Series, or DataFrame (series, year, value)
    horizon : int
        Years ahead scored at each origin.
    origins : {"rolling", "last"}
        Every origin with ``min_train`` observations before it and ``horizon`` after, or
        only the last (the final ``horizon`` values held out, as in the M3 competition).
    levels : tuple of float
        Central interval levels scored (coverage and Winkler score).
    event_ratio : float
        The Brier score is for "value ``horizon`` years on ≥ event_ratio × last value".

    Returns
    -------
    BacktestResult
        ``frame`` has one row per series, origin and horizon; ``summary()`` averages.
        MASE and Winkler scores are scaled by the in-sample mean absolute change; the CRPS
        is that of the Student-t predictive on the model's scale (log for a level, logit
        for a share — in natural units a log-t predictive has no mean, so no finite CRPS),
        scaled by the in-sample mean absolute change on that scale.
    """
    import pandas as pd
    from scipy import stats

    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon: must be a whole number >= 1, got {horizon!r}")
    if origins not in ("rolling", "last"):
        raise ValueError(f"origins: expected 'rolling' or 'last', got {origins!r}")
    if isinstance(min_train, bool) or not isinstance(min_train, int) or min_train < 1:
        raise ValueError(f"min_train: must be a whole number >= 1, got {min_train!r}")
    rows = []
    for name, s in _collection(data).items():
        s = s.sort_index()
        n = len(s)
        starts = cuts(n, horizon=horizon, min_train=max(min_train, 2))
        if origins == "last":
            starts = starts[-1:]
        for o in starts:
            train, test = s.iloc[:o], s.iloc[o : o + horizon]
            res = fit(train, model="bayes-growth", prior=prior, kind=kind)
            x = train.to_numpy(dtype=float)
            scale = np.mean(np.abs(np.diff(x))) if len(x) > 1 else np.nan
            zx = res.to_z(x)
            zscale = np.mean(np.abs(np.diff(zx))) if len(x) > 1 else np.nan
            hs = (test.index.to_numpy() - res.last_year).astype(int)
            loc, sc, df = res.predictive(hs)
            for j, h in enumerate(hs):
                y = float(test.iloc[j])
                med = float(res.back(loc[j]))
                row = {
                    "series": name,
                    "origin": int(res.last_year),
                    "h": int(h),
                    "actual": y,
                    "median": med,
                    "smape": scores.smape([y], [med]),
                    "ae_scaled": abs(y - med) / scale if scale else np.nan,
                    # on the model's scale: a log-t predictive has no mean in natural units,
                    # so its CRPS there is infinite (a sample estimate of it just explodes)
                    "crps_scaled": float(scores.crps_t(float(res.to_z(y)), df, loc[j], sc[j]))
                    / zscale
                    if zscale
                    else np.nan,
                    "pit": float(res.cdf(y, h)),
                }
                for lev in levels:
                    a = (1 - lev / 100) / 2
                    lo = float(res.back(loc[j] + sc[j] * stats.t.ppf(a, df)))
                    hi = float(res.back(loc[j] + sc[j] * stats.t.ppf(1 - a, df)))
                    row[f"lower_{lev:g}"], row[f"upper_{lev:g}"] = lo, hi
                    row[f"in_{lev:g}"] = lo <= y <= hi
                    row[f"winkler_scaled_{lev:g}"] = (
                        scores.winkler([y], [lo], [hi], level=lev) / scale if scale else np.nan
                    )
                thr = event_ratio * float(x[-1])
                row["p_event"] = float(res.prob_reach(thr, res.last_year + int(h)))
                row["event"] = float(y >= thr)
                rows.append(row)
    if not rows:
        raise ValueError(
            f"data: no series is long enough for min_train={min_train} and horizon={horizon}"
        )
    return BacktestResult(pd.DataFrame(rows), tuple(levels), int(horizon), float(event_ratio))
