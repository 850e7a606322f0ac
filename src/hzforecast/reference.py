r"""Reference classes: how regions like yours actually grew.

A planner's own history is a handful of figures; the regions around it have long, official
series. A *reference class* is such a panel — one indicator, many regions, many years — and
hzforecast learns from it how fast that kind of indicator grows, how much it wobbles and how
much its growth moves, then uses that as the prior for a sparse series (shrinking it toward
what regions like it did, not toward zero).

Built in (:func:`load`): ``"china-provinces"``, China's 31 provinces up to 2018 — R&D
intensity and spending, invention patents, high-tech industry revenue and firms, technology
contracts, R&D personnel, public budget and science spending (2010–2018), GDP, GDP per head,
real growth, budget and tax revenue (2000–2018); docs/reference.md gives the sources, the
licence, the definitions and the known breaks. Nothing after 2018 is shipped: that is the
vantage point of the 2019 plans the library assesses.

Your own panel: :func:`from_frame` or :func:`from_csv` (columns ``indicator, region, year,
value``), validated like a study.

Priors by empirical Bayes
-------------------------
:func:`prior` fits the growth model of :mod:`hzforecast.fit` to every region of the class at
once and chooses the Normal–Inverse-Gamma hyperparameters — where the current drift centres
(m0), how much it varies between regions relative to the shocks (κ0), the distribution of
σ² (a0, b0) and how much growth wanders (q) — by maximising the marginal likelihood of all
regions' yearly increments (type-II maximum likelihood; each region's marginal likelihood
is closed-form). Levels are modelled on the log scale, shares on the logit scale.
:meth:`Panel.fit` then fits every region with that prior: partial pooling, each series
shrunk toward its class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ._fitting import GrowthPrior, fit_bayes, log_marginal_many
from ._scales import to_scale, transform_of_kind

__all__ = [
    "BUILTIN",
    "Panel",
    "PanelError",
    "builtin_prior",
    "builtin_priors",
    "from_csv",
    "from_frame",
    "load",
    "plans",
    "prior",
    "write_builtin_priors",
]

#: Built-in panels: name → (data files, indicator tables, source).
BUILTIN = {
    "china-provinces": (
        ("china-provinces-to-2018.csv", "china-provinces-macro-to-2018.csv"),
        ("china-provinces-indicators.csv", "china-provinces-macro-indicators.csv"),
        "China Statistical Yearbooks (science and technology; public budget) via the "
        "MIT-licensed R package techme (Hu Huaping); NBS provincial annual data "
        "(data.stats.gov.cn), revised figures; years 2000–2018 (docs/reference.md)",
    ),
}

#: The smallest drift walk q a reference-class prior gets (calibrated: docs/fitting.md).
DRIFT_WALK_FLOOR = 0.9

#: Units a panel's values may have (for a share: percent or a fraction).
PANEL_UNITS = {"亿元", "万元", "元", "个", "件", "人年", "人", "%", "fraction", "index", "家", "项"}
KINDS = ("level", "share", "rate")


class PanelError(ValueError):
    """A reference panel that is not valid (the message names the row and the problem)."""


@dataclass(frozen=True, eq=False)
class Panel:
    """A reference class: indicators observed for many regions over many years.

    Attributes
    ----------
    name : str
    data : pandas.DataFrame
        ``indicator, region, year, value`` — shares as fractions (a panel given in percent
        is converted on reading, and says so in ``indicators.unit``).
    indicators : pandas.DataFrame
        One row per indicator: ``unit``, ``kind`` (level, share, rate), ``description``,
        ``first_year``, ``last_year``, ``regions``.
    source : str
    """

    name: str
    data: object
    indicators: object
    source: str

    def _indicator(self, indicator: str):
        if indicator not in set(self.indicators["indicator"]):
            raise KeyError(
                f"indicator: {indicator!r} is not in panel {self.name!r} (have "
                f"{sorted(self.indicators['indicator'])})"
            )
        return self.indicators.set_index("indicator").loc[indicator]

    def kind(self, indicator: str) -> str:
        return str(self._indicator(indicator)["kind"])

    def regions(self, indicator: str) -> list[str]:
        d = self.data
        return sorted(set(d.loc[d.indicator == indicator, "region"]))

    def series(self, indicator: str, region: str, *, until: int | None = None):
        """One region's series as a pandas Series indexed by year (ends at ``until``)."""
        self._indicator(indicator)
        d = self.data
        rows = d[(d.indicator == indicator) & (d.region == region)]
        if rows.empty:
            raise KeyError(
                f"region: {region!r} has no {indicator!r} in panel {self.name!r} (have "
                f"{self.regions(indicator)[:6]} …)"
            )
        s = rows.set_index("year")["value"].sort_index()
        if until is not None:
            s = s[s.index <= until]
        s.name = f"{indicator}:{region}"
        return s

    def _growth_table(self, indicator: str, *, until=None, regions=None, exclude=()):
        """(region, years, z) on the modelling scale, for the growth model."""
        kind = self.kind(indicator)
        if kind == "rate":
            raise PanelError(
                f"{indicator!r} is a rate (a growth index); growth models need a level or a share"
            )
        transform = transform_of_kind(kind)
        out = []
        for r in regions if regions is not None else self.regions(indicator):
            if r in exclude or r == "全国":
                continue
            s = self.series(indicator, r, until=until)
            if len(s) >= 2:
                out.append((r, s.index.to_numpy(int), to_scale(s.to_numpy(float), transform)))
        return out, kind

    def describe(self, indicator: str, periods=None):
        """How the indicator grew and wobbled across regions, period by period.

        For each period and region: the mean yearly growth (log scale; logit for a share),
        shown as a rate, and the year-to-year volatility (the standard deviation of the
        yearly log changes); then their spread across regions (10%, 50%, 90%).

        Returns
        -------
        pandas.DataFrame
            One row per period: ``period, regions, growth_p10, growth_median, growth_p90,
            volatility_p10, volatility_median, volatility_p90``.
        """
        import pandas as pd

        rows, kind = self._growth_table(indicator)
        years = sorted({int(y) for _, ys, _ in rows for y in ys})
        if periods is None:
            periods = _default_periods(years[0], years[-1])
        out = []
        for lo, hi in periods:
            g, v = [], []
            for _, ys, z in rows:
                m = (ys >= lo) & (ys <= hi)
                if m.sum() < 2:
                    continue
                yy, zz = ys[m], z[m]
                gaps = np.diff(yy)
                d = np.diff(zz) / gaps
                g.append(float((zz[-1] - zz[0]) / (yy[-1] - yy[0])))
                yearly = d[gaps == 1]
                if yearly.size >= 3:
                    v.append(float(np.std(yearly, ddof=1)))
            if not g:
                continue
            rate = (lambda x: math.expm1(x)) if kind != "share" else (lambda x: x)
            gq = np.quantile(g, [0.1, 0.5, 0.9])
            vq = np.quantile(v, [0.1, 0.5, 0.9]) if v else [np.nan] * 3
            out.append(
                {
                    "period": f"{lo}–{hi}",
                    "regions": len(g),
                    "growth_p10": rate(gq[0]),
                    "growth_median": rate(gq[1]),
                    "growth_p90": rate(gq[2]),
                    "volatility_p10": vq[0],
                    "volatility_median": vq[1],
                    "volatility_p90": vq[2],
                }
            )
        return pd.DataFrame(out)

    def prior(self, indicator: str, **kwargs) -> GrowthPrior:
        """The reference-class prior for ``indicator`` (see :func:`prior`)."""
        return prior(self, indicator, **kwargs)

    def fit(self, indicator: str, *, until: int | None = None, regions=None) -> dict:
        """Every region fitted with the class's own empirical-Bayes prior: partial pooling,
        each series shrunk toward the class rather than toward zero.

        Returns
        -------
        dict of str -> FitResult
        """
        p = prior(self, indicator, until=until, regions=regions)
        rows, kind = self._growth_table(indicator, until=until, regions=regions)
        out = {}
        for r, _, _ in rows:
            s = self.series(indicator, r, until=until)
            out[r] = fit_bayes(s.name, s.index.to_numpy(int), s.to_numpy(float), kind, p, None, [])
        return out

    def __repr__(self) -> str:
        return (
            f"Panel({self.name!r}: {len(self.indicators)} indicators, "
            f"{self.data.region.nunique()} regions, {self.data.year.min()}–{self.data.year.max()})"
        )

    def _repr_html_(self) -> str:
        return (
            f"<p><b>Reference panel</b> <code>{self.name}</code>: {self.source}</p>"
            + self.indicators.to_html(index=False)
        )


def _default_periods(first: int, last: int):
    """About five-year periods ending at the last year."""
    out, hi = [], last
    while hi - first >= 3:
        lo = max(first, hi - 5)
        out.append((lo, hi))
        hi = lo
    return out[::-1]


# ----------------------------------------------------------------------------- reading


def load(name: str = "china-provinces") -> Panel:
    """A built-in reference panel by name (:data:`BUILTIN`)."""
    import pandas as pd

    if name not in BUILTIN:
        raise KeyError(f"panel: unknown {name!r} (built-in: {sorted(BUILTIN)})")
    data_files, meta_files, source = BUILTIN[name]
    root = resources.files("hzforecast") / "data" / "reference"
    frames = []
    for f in data_files:
        with root.joinpath(f).open(encoding="utf-8") as fh:
            frames.append(pd.read_csv(fh, dtype={"region": str, "indicator": str}))
    metas = []
    for f in meta_files:
        with root.joinpath(f).open(encoding="utf-8") as fh:
            metas.append(pd.read_csv(fh))
    meta = pd.concat(metas, ignore_index=True)
    return from_frame(
        pd.concat(frames, ignore_index=True), indicators=meta, name=name, source=source
    )


def plans():
    """The track record of plans: China's provinces' announced yearly growth targets
    2015–2018 with their outcomes (:class:`hzforecast.trackrecord.TrackRecord`)."""
    from .trackrecord import load as load_plans

    return load_plans()


def from_csv(path, *, indicators, name: str | None = None, source: str = "") -> Panel:
    """A panel from a long CSV file (``indicator, region, year, value``)."""
    import pandas as pd

    try:
        df = pd.read_csv(path, dtype={"indicator": str, "region": str}, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise PanelError(f"{path}: cannot read as CSV ({exc})") from None
    return from_frame(df, indicators=indicators, name=name or str(path), source=source or str(path))


def from_frame(df, *, indicators, name: str = "panel", source: str = "") -> Panel:
    """A panel from a long DataFrame (``indicator, region, year, value``), validated.

    Parameters
    ----------
    df : pandas.DataFrame
    indicators : pandas.DataFrame or dict
        Per indicator its ``unit`` and ``kind`` (``level``, ``share`` or ``rate``); a dict
        maps indicator → {"unit": ..., "kind": ...}. A share in ``%`` is converted to a
        fraction.

    Raises
    ------
    PanelError
        Missing columns, a duplicate (indicator, region, year), a non-positive level, a
        share outside (0, 1), a value that is not a finite number, an unknown unit or kind,
        or an indicator without metadata — naming the first offending row.
    """
    import pandas as pd

    need = ["indicator", "region", "year", "value"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise PanelError(f"{name}: missing column(s) {missing}; expected {need}")
    d = df[need].copy()
    meta = _metadata(indicators, name)
    unknown = sorted(set(d.indicator) - set(meta.indicator))
    if unknown:
        raise PanelError(f"{name}: indicator {unknown[0]!r} has no unit and kind in `indicators`")
    years = pd.to_numeric(d.year, errors="coerce")
    bad = years.isna() | (years != np.round(years))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise PanelError(f"{name}: row {i + 1}: year {_shown(d.year.iloc[i])} is not a whole year")
    values = pd.to_numeric(d.value, errors="coerce")
    bad = values.isna() | ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise PanelError(
            f"{name}: row {i + 1}: value {_shown(d.value.iloc[i])} is not a finite number"
        )
    d["year"] = years.astype(int)
    d["value"] = values.astype(float)
    dup = d.duplicated(["indicator", "region", "year"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise PanelError(
            f"{name}: row {i + 1}: a second value for {d.indicator.iloc[i]!r}, "
            f"{d.region.iloc[i]!r}, {d.year.iloc[i]}"
        )
    meta = meta.set_index("indicator")
    for ind, m in meta.iterrows():
        sel = d.indicator == ind
        if m["kind"] == "share" and m["unit"] == "%":
            d.loc[sel, "value"] = d.loc[sel, "value"] / 100.0
        v = d.loc[sel, "value"].to_numpy()
        ok = {"level": v > 0, "share": (v > 0) & (v < 1), "rate": np.isfinite(v)}[m["kind"]]
        if not ok.all():
            i = int(np.flatnonzero(sel.to_numpy())[np.flatnonzero(~ok)[0]])
            rule = {"level": "must be positive", "share": "must be a share in (0, 1)"}
            raise PanelError(
                f"{name}: row {i + 1}: {ind!r} is a {m['kind']} and {rule[m['kind']]}, got "
                f"{_shown(df.value.iloc[i])} ({d.region.iloc[i]}, {d.year.iloc[i]})"
            )
    meta = meta.reset_index()
    span = d.groupby("indicator").agg(
        first_year=("year", "min"), last_year=("year", "max"), regions=("region", "nunique")
    )
    cols = [c for c in ("indicator", "unit", "kind", "description") if c in meta.columns]
    meta = meta[cols].merge(span.reset_index(), on="indicator", how="left")
    d = d.sort_values(["indicator", "region", "year"], ignore_index=True)
    return Panel(name=name, data=d, indicators=meta, source=source)


def _shown(v) -> str:
    """A value as its reader wrote it: numpy scalars as plain numbers, text quoted."""
    if isinstance(v, np.generic):
        v = v.item()
    return repr(v)


def _metadata(indicators, name):
    import pandas as pd

    meta = (
        pd.DataFrame([{"indicator": k, **v} for k, v in indicators.items()])
        if isinstance(indicators, dict)
        else indicators.copy()
    )
    for col in ("indicator", "unit", "kind"):
        if col not in meta.columns:
            raise PanelError(f"{name}: indicators: missing column {col!r}")
    for _, m in meta.iterrows():
        if m["kind"] not in KINDS:
            raise PanelError(
                f"{name}: indicators: {m['indicator']!r} kind must be one of {list(KINDS)}, "
                f"got {m['kind']!r}"
            )
        if m["unit"] not in PANEL_UNITS:
            raise PanelError(
                f"{name}: indicators: {m['indicator']!r} has unknown unit {m['unit']!r} "
                f"(known: {sorted(PANEL_UNITS)})"
            )
    return meta


# ----------------------------------------------------------------------------- priors


def _grouped(rows):
    """Regions observed in the same years, stacked: [(years, Z)] (one Ω serves a group)."""
    groups: dict = {}
    for _, ys, z in rows:
        groups.setdefault(tuple(int(y) for y in ys), []).append(z)
    return [(np.array(k), np.vstack(v)) for k, v in groups.items()]


def _total_log_marginal(groups, params) -> float:
    m0, log_k0, log_a0, log_b0, log_q = params
    p = GrowthPrior(
        mu0=float(m0),
        kappa0=math.exp(log_k0),
        a0=math.exp(log_a0),
        b0=math.exp(log_b0),
        drift_walk=math.exp(log_q),
    )
    return float(sum(log_marginal_many(z, ys, p).sum() for ys, z in groups))


def prior(
    panel: Panel,
    indicator: str,
    *,
    until: int | None = None,
    regions=None,
    exclude=(),
    drift_walk: float | None = None,
    drift_walk_floor: float = DRIFT_WALK_FLOOR,
) -> GrowthPrior:
    """The empirical-Bayes prior of a reference class (see the module docstring).

    Parameters
    ----------
    panel : Panel
    indicator : str
    until : int, optional
        Use the regions' data up to this year only (a forecast made in ``until`` must not
        learn from later years).
    regions, exclude : list of str, optional
        The regions of the class (default: all but the national total), and any to leave
        out (the region being forecast, for an honest check).
    drift_walk : float, optional
        Hold q at this value instead of estimating it.
    drift_walk_floor : float
        q is at least this (:data:`DRIFT_WALK_FLOOR`): the marginal likelihood of the past
        says how much growth moved in-sample, and that is less than it moves out of sample
        (docs/fitting.md: rolling origins up to 2013 forecasting 2014–2018).

    Returns
    -------
    GrowthPrior
        With ``provenance``: panel, indicator, regions, years, the log marginal likelihood.
    """
    from scipy import optimize

    rows, kind = panel._growth_table(indicator, until=until, regions=regions, exclude=exclude)
    if len(rows) < 3:
        raise PanelError(
            f"{panel.name}: {indicator!r} has {len(rows)} region(s) with two observations or "
            f"more{f' up to {until}' if until else ''}; a reference class needs at least 3"
        )
    incs = np.concatenate([np.diff(z) / np.diff(ys) for _, ys, z in rows])
    recent = [np.diff(z)[-3:] / np.diff(ys)[-3:] for _, ys, z in rows]
    x0 = np.array(
        [
            float(np.median(np.concatenate(recent))),
            0.0,
            math.log(3.0),
            math.log(2.0 * max(float(np.var(incs)), 1e-6) / 2),
            math.log(0.05),
        ]
    )
    fixed_q = None if drift_walk is None else math.log(max(drift_walk, 1e-12))
    groups = _grouped(rows)

    def objective(x):
        params = x if fixed_q is None else np.append(x, fixed_q)
        try:
            return -_total_log_marginal(groups, params)
        except (ValueError, np.linalg.LinAlgError, OverflowError):
            return 1e300

    start = x0 if fixed_q is None else x0[:4]
    bounds = [(-2.0, 2.0), (math.log(1e-3), math.log(1e3)), (math.log(1.05), math.log(500.0)),
              (math.log(1e-10), math.log(10.0)), (math.log(1e-6), math.log(2.0))]  # fmt: skip
    res = optimize.minimize(objective, start, method="L-BFGS-B", bounds=bounds[: len(start)])
    x = res.x if fixed_q is None else np.append(res.x, fixed_q)
    used_years = sorted({int(y) for _, ys, _ in rows for y in ys})
    q_ml = math.exp(x[4])
    return GrowthPrior(
        mu0=float(x[0]),
        kappa0=math.exp(x[1]),
        a0=math.exp(x[2]),
        b0=math.exp(x[3]),
        drift_walk=q_ml if drift_walk is not None else max(q_ml, drift_walk_floor),
        source=f"reference class {panel.name}:{indicator} ({len(rows)} regions, "
        f"{used_years[0]}–{used_years[-1]}, empirical Bayes)",
        provenance={
            "panel": panel.name,
            "indicator": indicator,
            "kind": kind,
            "regions": [r for r, _, _ in rows],
            "years": (used_years[0], used_years[-1]),
            "method": "empirical Bayes: marginal likelihood of every region's increments",
            "log_marginal": -float(res.fun),
            "converged": bool(res.success),
            "drift_walk_ml": q_ml,
            "at_bounds": [
                name
                for name, v, (lo, hi) in zip(
                    ("mu0", "kappa0", "a0", "b0", "drift_walk"), x, bounds, strict=True
                )
                if math.isclose(v, lo, abs_tol=1e-6) or math.isclose(v, hi, abs_tol=1e-6)
            ],
            "drift_walk_floor": None if drift_walk is not None else drift_walk_floor,
        },
    )


#: The built-in panels' priors as of their last year, shipped so that reading a study does not
#: re-estimate them (half a second each); :func:`write_builtin_priors` regenerates the file and
#: tests/test_reference.py recomputes every entry and compares.
PRIORS_FILE = "priors-{name}.json"


@lru_cache(maxsize=256)
def builtin_prior(name: str, indicator: str, until: int) -> GrowthPrior:
    """A built-in panel's prior, as a study file's ``growth = { from = "reference" }`` uses
    it: the shipped one where there is one, else estimated (once per process: the shipped
    data never change)."""
    entry = _shipped_priors(name).get(f"{indicator}@{until}")
    if entry is not None:
        return GrowthPrior(**entry)
    return prior(_builtin_panel(name), indicator, until=until)


@lru_cache(maxsize=8)
def _shipped_priors(name: str) -> dict:
    import json

    f = resources.files("hzforecast") / "data" / "reference" / PRIORS_FILE.format(name=name)
    if not f.is_file():
        return {}
    return json.loads(f.read_text(encoding="utf-8"))["priors"]


def builtin_priors(name: str = "china-provinces") -> dict:
    """Every indicator's prior from a built-in panel as of its last year, computed now:
    ``{"indicator@year": GrowthPrior}`` (what :func:`write_builtin_priors` ships)."""
    panel = _builtin_panel(name)
    last = int(panel.data["year"].max())
    out = {}
    for ind in sorted(panel.indicators["indicator"]):
        try:
            out[f"{ind}@{last}"] = prior(panel, ind, until=last)
        except PanelError:
            continue
    return out


def write_builtin_priors(name: str = "china-provinces", path=None) -> str:
    """Regenerate the shipped priors of a built-in panel (a maintainer's step after the data
    change): ``python -c "from hzforecast import reference; reference.write_builtin_priors()"``.
    """
    import dataclasses
    import json
    from pathlib import Path

    from ._files import atomic_write

    entries = {}
    for key, p in builtin_priors(name).items():
        d = dataclasses.asdict(p)
        d["provenance"] = json.loads(json.dumps(p.provenance, default=list))
        entries[key] = d
    target = (
        Path(path)
        if path
        else Path(__file__).parent / "data" / "reference" / (PRIORS_FILE.format(name=name))
    )
    text = json.dumps({"panel": name, "priors": entries}, ensure_ascii=False, indent=1)
    atomic_write(target, text + "\n")
    return str(target)


@lru_cache(maxsize=8)
def _builtin_panel(name: str) -> Panel:
    return load(name)
