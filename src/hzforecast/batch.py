"""Batch forecasts of many series from a long table (``series, year, value``).

:func:`forecast_table` fits :func:`hzforecast.fit` to every series and returns one row
per series and forecast year with the mean, median, interval bounds, requested
quantiles and — where a target (``series, year, threshold``) is given — the
probability of reaching it. The command ``hzforecast forecast FILE.csv`` wraps it.

Reading is exact: :func:`read_long_csv` takes every field as written. A series named
``NA``, ``null`` or ``nan`` is a series of that name (pandas would drop it as missing), a row
with more fields than the header is refused with its line number (an unquoted ``1,234``
is two fields, not a thousands separator), and a number must be a plain decimal — a quoted
``"1,234"`` with thousands separators is read as 1234.
"""

from __future__ import annotations

import csv
import io
import math
import re

import numpy as np

from ._files import read_capped
from .fit import GrowthPrior, fit

__all__ = ["forecast_table", "read_long_csv", "read_targets_csv"]

#: A CSV file of series may be at most this large.
MAX_CSV_BYTES = 64 * 1024 * 1024

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_YEAR = re.compile(r"^[+-]?\d+$")


def _number(text: str, where: str) -> float:
    t = text.strip()
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    if not _NUMBER.match(t):
        raise ValueError(f"{where}: expected a number, got {text!r}")
    v = float(t)
    if not math.isfinite(v):
        raise ValueError(f"{where}: {text!r} is beyond the range of a number")
    return v


def _year(text: str, where: str) -> int:
    t = text.strip()
    if not _YEAR.match(t):
        raise ValueError(f"{where}: expected a whole year, got {text!r}")
    return int(t)


def _read_table(path, value: str):
    """Read ``series,year,<value>`` exactly: every row has the header's number of fields,
    years are whole numbers, values plain finite numbers; nothing is guessed to be missing."""
    import pandas as pd

    name = str(path)
    try:
        raw = read_capped(path, MAX_CSV_BYTES)
    except OSError as exc:
        raise ValueError(f"{name}: cannot read ({exc.strerror})") from None
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    try:
        text = raw.decode("utf-8-sig")  # a BOM (as Excel writes) is not part of the header
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{name}: empty file; expected a header series,year,{value}")
        header = [h.strip() for h in header]
        need = ["series", "year", value]
        missing = [c for c in need if c not in header]
        if missing:
            raise ValueError(f"{name}: missing column(s) {missing}; expected {need}, got {header}")
        cols = [header.index(c) for c in need]
        rows = []
        for fields in reader:
            line = reader.line_num
            if not fields:
                continue  # a blank line
            if len(fields) != len(header):
                raise ValueError(
                    f"{name}: line {line}: {len(fields)} fields, the header has {len(header)}"
                    ' — a number with a thousands separator must be quoted ("1,234")'
                    if len(fields) > len(header)
                    else f"{name}: line {line}: {len(fields)} fields, the header has {len(header)}"
                )
            s, y, v = (fields[c] for c in cols)
            if not s.strip():
                raise ValueError(f"{name}: line {line}, column 'series': empty series name")
            rows.append(
                (
                    s,
                    _year(y, f"{name}: line {line}, column 'year'"),
                    _number(v, f"{name}: line {line}, column {value!r}"),
                    line,
                )
            )
    except csv.Error as exc:
        raise ValueError(f"{name}: line {reader.line_num}: not valid CSV ({exc})") from None
    df = pd.DataFrame(rows, columns=["series", "year", value, "line"])
    return df.astype({"series": object, "year": np.int64, value: np.float64, "line": np.int64})


def read_long_csv(path) -> object:
    """Read and check ``series,year,value`` (a header row, one observation per line)."""
    df = _read_table(path, "value")
    dup = df.duplicated(["series", "year"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(
            f"{path}: line {df.line.iloc[i]}: duplicate year {df.year.iloc[i]} for series "
            f"{df.series.iloc[i]!r}"
        )
    return df.drop(columns="line")


def read_targets_csv(path) -> object:
    """Read and check ``series,year,threshold``."""
    return _read_table(path, "threshold").drop(columns="line")


def _forecast_chunk(items, horizon, levels, quantiles, tmap, prior) -> dict:
    """Fit and forecast a list of (name, years, values): the unit of parallel work.

    Returns the chunk's table as columns (name → list of arrays, one per series), joined
    once by :func:`forecast_table`: thousands of small DataFrames cost more than the fits."""
    import pandas as pd

    cols: dict[str, list] = {}

    def add(part: dict):
        for k, v in part.items():
            cols.setdefault(k, []).append(np.asarray(v))

    for name, years, values in items:
        s = pd.Series(values, index=years, name=str(name))
        try:
            res = fit(s, model="bayes-growth", prior=prior)
        except ValueError as exc:  # InsufficientDataError is a ValueError too
            raise ValueError(f"series {name!r}: {exc}") from None
        mine = {y: k for (sn, y), k in tmap.items() if sn == str(name)}
        # far enough for every target of this series that lies after its last observation
        h = max([horizon] + [y - res.last_year for y in mine if y > res.last_year])
        try:
            f = res.forecast_columns(h, levels=levels, quantiles=quantiles)
        except ValueError as exc:
            raise ValueError(f"series {name!r}: {exc}") from None
        numeric = np.column_stack([v for k, v in f.items() if k not in ("year", "mean")])
        if not np.all(np.isfinite(numeric)):  # the mean may be undefined (NaN)
            raise ValueError(
                f"series {name!r}: its forecast leaves the range of a number within "
                f"{h} years; check its values and units"
            )
        past = sorted(y for y in mine if y <= res.last_year)
        if past:  # a target in an observed year is not forecast: one row says so
            row = {"series": [str(name)] * len(past), "year": past}
            row.update({k: np.full(len(past), np.nan) for k in f if k != "year"})
            row["p_reach"] = np.full(len(past), np.nan)
            row["note"] = [
                f"target not assessed: {y} is not after the last observation ({res.last_year})"
                for y in past
            ]
            row["n_obs"] = np.full(len(past), len(res.years))
            row["method"] = [res.method] * len(past)
            add(row)
        part = {"series": [str(name)] * h, **f}
        if tmap:
            p, notes = [], []
            for y in f["year"]:
                k = mine.get(int(y))
                if k is None:
                    p.append(np.nan)
                    notes.append("")
                    continue
                try:
                    p.append(res.prob_reach(k, int(y)))
                    notes.append("")
                except ValueError as exc:  # the threshold cannot be reached on this scale
                    p.append(np.nan)
                    notes.append(f"target not assessed: {exc}")
            part["p_reach"] = np.array(p, dtype=float)
            part["note"] = notes
        part["n_obs"] = np.full(h, len(res.years))
        part["method"] = [res.method] * h
        add(part)
    return cols


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
        Years after each series' last observation (a series with a later target is
        forecast far enough to reach it).
    levels : tuple of float
        Interval levels in percent (``lower_80``, ``upper_80``, …).
    quantiles : list of str or float, optional
        Extra quantiles, each a column ``q`` + the number as given (``q0.05``).
    targets : pandas.DataFrame, optional
        Columns ``series, year, threshold``: adds ``p_reach`` = P(value ≥ threshold) and a
        ``note`` column. A target that cannot be assessed (a year already observed, a
        threshold a level cannot take) gets NaN and its reason in ``note``; the rest of the
        batch goes on. A target on an unknown series is an error.
    executor : concurrent.futures.Executor, optional
        Fits chunks of ``chunk_series`` series in parallel; the table is identical.

    Returns
    -------
    pandas.DataFrame
        One row per series and year: ``series, year, mean, median, lower_*, upper_*,
        q*, p_reach, note``, plus ``n_obs`` and ``method``.
    """
    import pandas as pd

    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon: must be a whole number >= 1, got {horizon!r}")
    for lev in levels:
        if isinstance(lev, int | float) and not isinstance(lev, bool) and 0 < lev < 1:
            raise ValueError(
                f"levels: {lev:g} asks for a {lev:g}% interval; levels are percentages — did "
                f"you mean {lev * 100:g}?"
            )
    tmap = {}
    if targets is not None:
        for s, y, k in targets[["series", "year", "threshold"]].itertuples(index=False):
            tmap[(str(s), int(y))] = float(k)
    names = {str(n) for n in data["series"]}
    unknown = sorted({s for s, _ in tmap if s not in names})
    if unknown:
        raise ValueError(
            f"targets: series {unknown[0]!r} is not in the data (have {sorted(names)[:5]}"
            f"{' …' if len(names) > 5 else ''})"
        )
    items = [
        (name, g["year"].to_numpy(int), g["value"].to_numpy(float))
        for name, g in data.groupby("series", sort=False, dropna=False)
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
    parts = [p for p in parts if p]
    if not parts:
        raise ValueError("data: no series")
    out = {k: np.concatenate([a for p in parts for a in p[k]]) for k in parts[0]}
    out["year"] = out["year"].astype(np.int64)
    out["n_obs"] = out["n_obs"].astype(np.int64)
    return pd.DataFrame(out)
