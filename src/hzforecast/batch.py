"""Batch forecasts of many series from a long table (``series, year, value``).

:func:`forecast_table` fits :func:`hzforecast.fit` to every series and returns one row
per series and forecast year with the mean, median, interval bounds, requested
quantiles and — where a target (``series, year, threshold``) is given — the
probability of reaching it. The command ``hzforecast forecast FILE.csv`` wraps it.
"""

from __future__ import annotations

import numpy as np

from .fit import GrowthPrior, fit

__all__ = ["forecast_table", "read_long_csv", "read_targets_csv"]


def _need_columns(df, need, name):
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(
            f"{name}: missing column(s) {missing}; expected {need}, got {list(df.columns)}"
        )


def _numeric(df, col, name, *, integer=False):
    import pandas as pd

    vals = pd.to_numeric(df[col], errors="coerce")
    bad = vals.isna() & df[col].notna() | df[col].isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"{name}: row {i + 2}, column {col!r}: expected a number, got {df[col].iloc[i]!r}"
        )
    if integer and np.any(vals != np.round(vals)):
        i = int(np.flatnonzero((vals != np.round(vals)).to_numpy())[0])
        raise ValueError(
            f"{name}: row {i + 2}, column {col!r}: expected a whole year, got {df[col].iloc[i]!r}"
        )
    return vals.astype(int) if integer else vals.astype(float)


def _read_table(path, value: str):
    """Read ``series,year,<value>``: columns present, years whole, values numbers."""
    import pandas as pd

    name = str(path)
    try:
        df = pd.read_csv(path, dtype={"series": str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{name}: cannot read as CSV ({exc})") from None
    cols = ["series", "year", value]
    _need_columns(df, cols, name)
    df = df[cols].copy()
    df["year"] = _numeric(df, "year", name, integer=True)
    df[value] = _numeric(df, value, name)
    return df


def read_long_csv(path) -> object:
    """Read and check ``series,year,value`` (a header row, one observation per line)."""
    df = _read_table(path, "value")
    dup = df.duplicated(["series", "year"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(
            f"{path}: row {i + 2}: duplicate year {df.year.iloc[i]} for series "
            f"{df.series.iloc[i]!r}"
        )
    return df


def read_targets_csv(path) -> object:
    """Read and check ``series,year,threshold``."""
    return _read_table(path, "threshold")


def _forecast_chunk(items, horizon, levels, quantiles, tmap, prior):
    """Fit and forecast a list of (name, years, values): the unit of parallel work."""
    import pandas as pd

    frames = []
    for name, years, values in items:
        s = pd.Series(values, index=years, name=str(name))
        try:
            res = fit(s, model="bayes-growth", prior=prior)
        except ValueError as exc:  # InsufficientDataError is a ValueError too
            raise ValueError(f"series {name!r}: {exc}") from None
        f = res.forecast(horizon, levels=levels, quantiles=quantiles)
        f.insert(0, "series", str(name))
        if tmap:
            f["p_reach"] = [
                res.prob_reach(tmap[(str(name), int(y))], int(y))
                if (str(name), int(y)) in tmap
                else np.nan
                for y in f["year"]
            ]
        f["n_obs"] = len(res.years)
        f["method"] = res.method
        frames.append(f)
    return frames


def forecast_table(
    data,
    *,
    horizon: int,
    levels=(80, 95),
    quantiles=None,
    targets=None,
    prior: GrowthPrior | None = None,
    executor=None,
    chunk_series: int = 500,
):
    """Forecast every series of a long table.

    Parameters
    ----------
    data : pandas.DataFrame
        Columns ``series, year, value``.
    horizon : int
        Years after each series' last observation.
    levels : tuple of float
        Interval levels (``lower_80``, ``upper_80``, …).
    quantiles : list of str or float, optional
        Extra quantiles, each a column ``q`` + the number as given (``q0.05``).
    targets : pandas.DataFrame, optional
        Columns ``series, year, threshold``: adds ``p_reach`` = P(value ≥ threshold).
    executor : concurrent.futures.Executor, optional
        Fits chunks of ``chunk_series`` series in parallel; the table is identical.

    Returns
    -------
    pandas.DataFrame
        One row per series and year: ``series, year, mean, median, lower_*, upper_*,
        q*, p_reach``, plus ``n_obs`` and ``method``.
    """
    import pandas as pd

    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon: must be a whole number >= 1, got {horizon!r}")
    tmap = {}
    if targets is not None:
        for s, y, k in targets[["series", "year", "threshold"]].itertuples(index=False):
            tmap[(str(s), int(y))] = float(k)
    items = [
        (name, g["year"].to_numpy(int), g["value"].to_numpy(float))
        for name, g in data.groupby("series", sort=False)
    ]
    chunks = [items[i : i + chunk_series] for i in range(0, len(items), chunk_series)]
    if executor is None:
        parts = [_forecast_chunk(c, horizon, levels, quantiles, tmap, prior) for c in chunks]
    else:
        futures = [
            executor.submit(_forecast_chunk, c, horizon, levels, quantiles, tmap, prior)
            for c in chunks
        ]
        parts = [f.result() for f in futures]
    frames = [f for part in parts for f in part]
    if not frames:
        raise ValueError("data: no series")
    out = pd.concat(frames, ignore_index=True)
    if tmap:
        have = set(zip(out["series"], out["year"].astype(int), strict=True))
        missing = [k for k in tmap if k not in have]
        if missing:
            s, y = missing[0]
            raise ValueError(
                f"targets: series {s!r} year {y} is not among the forecasts "
                f"(unknown series, or outside the horizon)"
            )
    return out
