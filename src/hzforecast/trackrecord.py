r"""The track record of plans: how often announced growth targets were met, and by how much.

A plan says "GDP will grow 8%"; a planner reads it as met when the published outcome reaches
the lower end. Carried forward as a forecast, the plan is met half the time by construction.
What happened is different: China's provinces announced yearly targets for GDP, budget revenue,
fixed-asset investment and incomes in their government work reports, and in 2015–2018 met
them about half the time for GDP (many landing exactly on the floor), four times in five for
budget revenue, less than half the time for investment — and in some years almost all missed
together. :func:`load` (``hz.reference.plans()``) gives that record; :class:`TrackRecord`
describes it and fits a model of the outcome relative to the target's lower end.

The model
---------
For one indicator, the gap (percentage points) between the outcome and the target's lower
end is

.. math:: d_{it} = a + \beta\,\mathrm{ambition}_{it} + u_t + e_{it},

where *ambition* is the target's lower end minus the province's outcome the year before (what
the target asks beyond last year's pace), :math:`u_t` a year effect shared by all provinces,
and :math:`e_{it}` the rest. :math:`\beta` is kept only if it is distinguishable from 0 in the
training data (:math:`|t| \ge 2`): ambition predicts GDP outcomes strongly and budget revenue
not at all.
The distribution of :math:`u_t + e_{it}` is not assumed normal — outcomes bunch on the floor —
but taken as the empirical distribution of the training residuals, so

.. math:: P(\text{met}) = \frac{\#\{j : \hat a + \hat\beta\,\mathrm{ambition} + r_j \ge 0\} +
   \tfrac12}{n + 1}

(the ½ keeps a probability estimated from n cases off 0 and 1). The year effects are
estimated by the method of moments (the variance of the year means less their sampling
variance), and give a scenario its common shock (:meth:`TrackRecord.common_shock`).

Validation is leave-one-year-out (:meth:`TrackRecord.loyo`): fit on three years, predict the
fourth from its targets and the previous year's outcomes, score with the Brier score against
climatology (the training years' hit rate) and against the plan read as a forecast.
docs/trackrecord.md has the tables.

Sources: each province's 政府工作报告, the 主要预期目标 sentence quoted (``quote_target``,
``source_target``), the outcome from the next year's report or the NBS
(``actual_basis``); nothing after the 2019 reports (the outcomes of 2018).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from .distributions import Empirical

__all__ = ["INDICATORS", "TrackRecord", "TrackRecordModel", "load"]

#: Indicator names accepted, and the name the record uses.
INDICATORS = {
    "gdp_growth": "地区生产总值增长",
    "budget_revenue": "一般公共预算收入",
    "fixed_asset_investment": "固定资产投资",
    "urban_income": "城镇居民人均可支配收入",
    "rural_income": "农村居民人均可支配收入",
    "income": "居民人均可支配收入(全体)",
}

#: Target types with a numeric lower end (the rest are qualitative).
NUMERIC_TYPES = ("point", "about", "at_least", "range")

#: Outcomes within this many percentage points above the floor "landed on the target" (the
#: figures are published to 0.1 pp).
ON_FLOOR_PP = 0.1

#: |t| of the ambition slope needed for it to enter the model.
T_KEEP = 2.0

SOURCE = (
    "provincial 政府工作报告 2015–2018 (主要预期目标 quoted), outcomes from the next year's "
    "report or the NBS; shipped as china-provincial-plans-2015-2018.csv (docs/reference.md)"
)


def load():
    """The provinces' announced yearly growth targets 2015–2018 with their outcomes."""
    import pandas as pd

    root = resources.files("hzforecast") / "data" / "reference"
    with root.joinpath("china-provincial-plans-2015-2018.csv").open(encoding="utf-8") as fh:
        plans = pd.read_csv(fh, dtype={"province": str, "indicator": str, "target_type": str})
    with root.joinpath("china-provinces-macro-to-2018.csv").open(encoding="utf-8") as fh:
        macro = pd.read_csv(fh, dtype={"region": str, "indicator": str})
    return TrackRecord(plans, macro)


#: The gap models of the shipped record, as :func:`write_builtin_models` computed them, so that
#: reading a study that uses the record needs neither pandas nor the CSV (tests recompute them).
MODELS_FILE = "trackrecord-models.json"


@lru_cache(maxsize=16)
def builtin_model(indicator: str) -> TrackRecordModel:
    """The shipped record's gap model of an indicator (all years)."""
    import json

    name = indicator_name(indicator)
    f = resources.files("hzforecast") / "data" / "reference" / MODELS_FILE
    if f.is_file():
        entry = json.loads(f.read_text(encoding="utf-8"))["models"].get(name)
        if entry is not None:
            return TrackRecordModel(
                **{
                    **entry,
                    "years": tuple(entry["years"]),
                    "residuals": tuple(entry["residuals"]),
                    "gaps": tuple(entry["gaps"]),
                    "gap_years": tuple(entry["gap_years"]),
                    "year_means": {int(k): v for k, v in entry["year_means"].items()},
                }
            )
    return load().fit(name)


def write_builtin_models(path=None) -> str:
    """Regenerate the shipped gap models (a maintainer's step after the record changes)."""
    import dataclasses
    import json
    from pathlib import Path

    from ._files import atomic_write

    record = load()
    models = {}
    for alias in INDICATORS:
        try:
            models[INDICATORS[alias]] = dataclasses.asdict(record.fit(alias))
        except ValueError:
            continue  # too few targets with outcomes
    target = Path(path) if path else Path(__file__).parent / "data" / "reference" / MODELS_FILE
    text = json.dumps({"source": SOURCE, "models": models}, ensure_ascii=False, indent=1)
    atomic_write(target, text + "\n")
    return str(target)


def indicator_name(indicator: str) -> str:
    """The record's name of an indicator given by alias or by name."""
    if indicator in INDICATORS:
        return INDICATORS[indicator]
    if indicator in INDICATORS.values():
        return indicator
    raise KeyError(
        f"indicator: unknown {indicator!r} (known: "
        + ", ".join(f"{k} = {v}" for k, v in INDICATORS.items())
        + ")"
    )


class TrackRecord:
    """Announced targets and their outcomes (one row per province, year and indicator).

    ``frame`` has every row of the file plus ``kind`` (the target type without its
    qualifier), ``gap`` (outcome − lower end, pp), ``met`` (gap ≥ 0), ``previous`` (the
    province's outcome the year before: the record's own, else the NBS panel's for GDP and
    budget revenue), ``ambition`` (lower end − previous) and ``usable`` (a numeric target with
    an outcome)."""

    def __init__(self, plans, macro=None):
        import pandas as pd

        d = plans.copy()
        d["kind"] = d["target_type"].fillna("none").str.split("(").str[0].str.strip()
        d["usable"] = d["kind"].isin(NUMERIC_TYPES) & d["target_low"].notna() & d["actual"].notna()
        d["gap"] = np.where(d["usable"], (d["actual"] - d["target_low"]).round(6), np.nan)
        d["met"] = np.where(d["usable"], d["gap"] >= 0, np.nan)
        own = d.set_index(["province", "indicator", "year"])["actual"]
        own = own[~own.index.duplicated()]
        prev = []
        for r in d.itertuples():
            v = own.get((r.province, r.indicator, r.year - 1), np.nan)
            if (v is None or not np.isfinite(v)) and macro is not None:
                v = _panel_growth(macro, r.province, r.indicator, r.year - 1)
            prev.append(v)
        d["previous"] = pd.array(prev, dtype="Float64").astype(float)
        d["ambition"] = d["target_low"] - d["previous"]
        self.frame = d

    # ------------------------------------------------------------------ describing

    def usable(self, indicator: str | None = None):
        d = self.frame[self.frame["usable"]]
        if indicator is not None:
            d = d[d["indicator"] == indicator_name(indicator)]
        return d

    def describe(self, by=("indicator", "year")):
        """Hit rates, the share landing on the floor, and gap quantiles (pp) by ``by`` (any of
        ``indicator``, ``year``, ``kind``); an ``all`` row per indicator when ``year`` is in it.
        """
        import pandas as pd

        d = self.usable()
        by = list(by)

        def summary(g):
            gap = g["gap"].to_numpy()
            q = np.quantile(gap, [0.1, 0.25, 0.5, 0.75, 0.9], method="inverted_cdf")
            return pd.Series(
                {
                    "n": len(g),
                    "hit_rate": float(np.mean(gap >= 0)),
                    "on_floor": float(np.mean((gap >= 0) & (gap <= ON_FLOOR_PP + 1e-9))),
                    "gap_q10": q[0],
                    "gap_q25": q[1],
                    "gap_median": q[2],
                    "gap_q75": q[3],
                    "gap_q90": q[4],
                    "gap_mean": float(np.mean(gap)),
                }
            )

        out = d.groupby(by, sort=True).apply(summary, include_groups=False)
        if "year" in by and by[0] == "indicator" and len(by) == 2:
            total = d.groupby("indicator").apply(summary, include_groups=False)
            total.index = pd.MultiIndex.from_tuples([(i, "all") for i in total.index], names=by)
            out.index = pd.MultiIndex.from_tuples([(i, str(y)) for i, y in out.index], names=by)
            out = pd.concat([out, total]).sort_index(kind="stable")
        out["n"] = out["n"].astype(int)
        return out

    def year_effects(self, indicator: str):
        """The year means of the gap and their spread beyond sampling noise:
        ``(table, tau)`` with ``tau`` the method-of-moments standard deviation (pp) of the
        year effect (``Var(year means) − mean(s²_t / n_t)``; 0 when that is negative)."""
        import pandas as pd

        d = self.usable(indicator)
        g = d.groupby("year")["gap"]
        tab = pd.DataFrame(
            {
                "n": g.size(),
                "mean_gap": g.mean(),
                "hit_rate": g.apply(lambda s: float(np.mean(s >= 0))),
            }
        )
        tab["effect"] = tab["mean_gap"] - d["gap"].mean()
        return tab, _tau_of(d)

    # ------------------------------------------------------------------ the model

    def fit(self, indicator: str, *, exclude_years=()) -> TrackRecordModel:
        """The gap model for one indicator, fitted on every year but ``exclude_years``."""
        name = indicator_name(indicator)
        d = self.usable(name)
        d = d[~d["year"].isin(list(exclude_years))]
        if len(d) < 10:
            raise ValueError(
                f"indicator: {name!r} has {len(d)} usable targets with outcomes in the years "
                "fitted; at least 10 are needed"
            )
        gaps = d["gap"].to_numpy(dtype=float)
        amb = d["ambition"].to_numpy(dtype=float)
        ok = np.isfinite(amb)
        slope, slope_se = 0.0, math.nan
        intercept = float(np.mean(gaps))
        resid = gaps - intercept
        mean_amb = float(np.mean(amb[ok])) if ok.any() else 0.0
        if ok.sum() >= 10:
            b0, b1, se1 = _simple_ols(amb[ok] - mean_amb, gaps[ok])
            slope_se = se1
            if abs(b1 / se1) >= T_KEEP:
                slope, intercept = b1, b0
                # rows without a known ambition are placed at the mean ambition
                resid = gaps - intercept - slope * np.where(ok, amb - mean_amb, 0.0)
        tau = _tau_of(d)
        return TrackRecordModel(
            indicator=name,
            n=len(d),
            years=tuple(sorted(int(y) for y in d["year"].unique())),
            provinces=int(d["province"].nunique()),
            intercept=intercept,
            slope=slope,
            slope_se=slope_se,
            mean_ambition=mean_amb,
            residuals=tuple(float(r) for r in resid),
            gaps=tuple(float(g) for g in gaps),
            gap_years=tuple(int(y) for y in d["year"]),
            hit_rate=float(np.mean(gaps >= 0)),
            tau=tau,
            year_means={int(y): float(v) for y, v in d.groupby("year")["gap"].mean().items()},
        )

    # ------------------------------------------------------------------ validation

    def loyo(self, indicator: str):
        """Leave one year out: for each year, fit on the others and predict every province's
        P(met) that year from its target and the previous year's outcome. One row per target,
        with ``p_model``, ``p_climatology`` (the training years' hit rate) and ``p_plan``
        (the plan read as a forecast: the outcome centred on the target — ½ for a point
        target; for a range, the chance a uniform draw over it plus a normal error with the
        training gaps' spread reaches its lower end)."""
        from scipy import special

        d = self.usable(indicator).copy()
        out = []
        for y in sorted(d["year"].unique()):
            m = self.fit(indicator, exclude_years=(y,))
            test = d[d["year"] == y].copy()
            sd = float(np.std(m.gaps, ddof=1))
            test["p_model"] = [
                m.p_meet(a if np.isfinite(a) else None) for a in test["ambition"].to_numpy()
            ]
            test["p_climatology"] = m.hit_rate
            width = (test["target_high"] - test["target_low"]).fillna(0.0).to_numpy()
            u = (np.arange(200) + 0.5) / 200
            test["p_plan"] = [
                float(np.mean(special.ndtr(w * u / sd))) if w > 0 else 0.5 for w in width
            ]
            out.append(test)
        import pandas as pd

        return pd.concat(out)

    def brier(self, indicators=("gdp_growth", "budget_revenue", "fixed_asset_investment")):
        """Brier scores of the leave-one-year-out predictions, by indicator and held-out year
        and pooled (``year = "all"``)."""
        import pandas as pd

        rows = []
        for ind in indicators:
            f = self.loyo(ind)
            for y, g in [*((str(y), g) for y, g in f.groupby("year")), ("all", f)]:
                met = g["met"].to_numpy(dtype=float)
                rows.append(
                    {
                        "indicator": indicator_name(ind),
                        "year": y,
                        "n": len(g),
                        "hit_rate": float(met.mean()),
                        "model": _brier(g["p_model"], met),
                        "climatology": _brier(g["p_climatology"], met),
                        "plan": _brier(g["p_plan"], met),
                    }
                )
        return pd.DataFrame(rows).set_index(["indicator", "year"])

    def reliability(self, indicators=("gdp_growth", "budget_revenue"), bins=5):
        """The leave-one-year-out predictions binned by predicted probability: mean predicted,
        observed frequency (with its binomial standard error) and count per bin."""
        import pandas as pd

        f = pd.concat([self.loyo(i) for i in indicators])
        edges = np.linspace(0, 1, bins + 1)
        f["bin"] = pd.cut(f["p_model"], edges, include_lowest=True)
        g = f.groupby("bin", observed=True)
        tab = pd.DataFrame(
            {"n": g.size(), "predicted": g["p_model"].mean(), "observed": g["met"].mean()}
        )
        tab["observed_se"] = np.sqrt(tab["observed"] * (1 - tab["observed"]) / tab["n"])
        return tab

    def common_shock(self, indicators) -> dict:
        """A scenario's common shock learned from the year effects: ``sd = 0.01`` (one
        percentage point of log growth) and each indicator's loading its year-effect standard
        deviation in pp; no bad year (four years cannot show how rare one is). ``indicators``
        maps the scenario's indicator ids to the record's names."""
        loads = {k: round(self.year_effects(v)[1], 4) for k, v in indicators.items()}
        return {
            "sd": 0.01,
            "loadings": loads,
            "status": "assumed",
            "rationale": (
                "year effects of the provinces' target outcomes 2015–2018 (method of moments, "
                "pp): " + ", ".join(f"{k} {v:g}" for k, v in loads.items())
            ),
        }

    def __repr__(self) -> str:
        u = self.usable()
        return (
            f"<TrackRecord: {len(self.frame)} targets, {len(u)} numeric with outcomes, "
            f"{u['province'].nunique()} provinces, {u['year'].min()}–{u['year'].max()}>"
        )


def _tau_of(d) -> float:
    """The year effect's standard deviation by the method of moments (0 when the year means
    vary no more than their sampling noise)."""
    g = d.groupby("year")["gap"]
    means = g.mean()
    if len(means) < 2:
        return 0.0
    var_means = float(np.var(means, ddof=1))
    noise = float(np.mean(g.var(ddof=1) / g.size()))
    return math.sqrt(max(var_means - noise, 0.0))


def _simple_ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Intercept, slope and the slope's standard error of y on x by least squares (the
    closed form of a simple regression; tests check it against statsmodels' OLS)."""
    n = x.size
    xm, ym = float(np.mean(x)), float(np.mean(y))
    sxx = float(np.sum((x - xm) ** 2))
    b1 = float(np.sum((x - xm) * (y - ym))) / sxx
    b0 = ym - b1 * xm
    resid = y - b0 - b1 * x
    s2 = float(np.sum(resid**2)) / (n - 2)
    return b0, b1, math.sqrt(s2 / sxx)


def _brier(p, met) -> float:
    p = np.asarray(p, dtype=float)
    return float(np.mean((p - met) ** 2))


def _panel_growth(macro, province, indicator, year) -> float:
    """A province's growth (pp) in ``year`` from the NBS panel, where the record has none."""
    m = macro[macro["region"] == province]
    if indicator == INDICATORS["gdp_growth"]:
        v = m[(m["indicator"] == "gdp_real_index") & (m["year"] == year)]["value"]
        return float(v.iloc[0]) - 100.0 if len(v) else np.nan
    if indicator == INDICATORS["budget_revenue"]:
        s = m[m["indicator"] == "budget_revenue"].set_index("year")["value"]
        if year in s.index and year - 1 in s.index:
            return 100.0 * (float(s[year]) / float(s[year - 1]) - 1.0)
    return np.nan


@dataclass(frozen=True)
class TrackRecordModel:
    """The gap model of one indicator (see the module's docstring)."""

    indicator: str
    n: int
    years: tuple[int, ...]
    provinces: int
    intercept: float
    slope: float  # pp of gap per pp of ambition (0 when not kept)
    slope_se: float
    mean_ambition: float
    residuals: tuple[float, ...]
    gaps: tuple[float, ...]
    gap_years: tuple[int, ...]
    hit_rate: float
    tau: float  # the year effect's standard deviation (pp)
    year_means: dict

    def _centre(self, ambition: float | None) -> float | None:
        if ambition is None or self.slope == 0.0:
            return None
        return self.intercept + self.slope * (ambition - self.mean_ambition)

    def p_meet(self, ambition: float | None = None) -> float:
        """P(the outcome reaches the target's lower end), smoothed (k + ½)/(n + 1)."""
        c = self._centre(ambition)
        d = np.asarray(self.gaps) if c is None else c + np.asarray(self.residuals)
        k = int(np.count_nonzero(d >= -1e-9))
        return (k + 0.5) / (len(d) + 1)

    def outcome(self, low: float, ambition: float | None = None):
        """The outcome's distribution for a target whose lower end is ``low`` (a fraction:
        0.08): an :class:`~hzforecast.distributions.Empirical` of growth rates, each the lower
        end plus one gap as the record has it (given an ambition, and the slope is kept: the
        fitted gap plus one residual). Year effects and the bunching on the floor stay in."""
        c = self._centre(ambition)
        d = np.asarray(self.gaps) if c is None else c + np.asarray(self.residuals)
        values = tuple(float(v) for v in np.round(low + d / 100.0, 10))
        return Empirical(
            values=values,
            source=(
                f"{self.indicator}: outcome − target, {self.n} provincial targets "
                f"{self.years[0]}–{self.years[-1]}"
            ),
        )

    def describe(self) -> str:
        amb = (
            f"gap {self.slope:+.2f} pp per pp of ambition (SE {self.slope_se:.2f})"
            if self.slope
            else "ambition not used (|t| < 2)"
        )
        return (
            f"{self.indicator}: {self.n} targets, {self.provinces} provinces, "
            f"{self.years[0]}–{self.years[-1]}; hit rate {self.hit_rate:.2f}; {amb}; "
            f"year effect sd {self.tau:.2f} pp"
        )


# ----------------------------------------------------------------------------- study files

_TR_KEYS = {"from", "indicator", "target", "ambition"}  # ambition: pp above last year's outcome
_FROM_TR = ("volatility", "volatility_df", "growth_walk", "growth_scale", "start")


def resolve_scenario(sc: dict, targets: dict, where: str, record=None) -> dict:
    """A scenario with every ``growth = { from = "track-record", ... }`` resolved (see
    :func:`resolve_growth`), from ``record`` or, by default, the shipped record's models."""
    out = dict(sc)
    new = []
    for j, a in enumerate(sc["assumptions"]):
        g = a.get("growth") if isinstance(a, dict) else None
        if isinstance(g, dict) and g.get("from") == "track-record":
            a = resolve_growth(a, g, sc, targets, f"{where}.assumptions[{j}].growth", record)
        new.append(a)
    out["assumptions"] = new
    return out


def resolve_growth(a: dict, g: dict, sc: dict, targets: dict, where: str, record) -> dict:
    """One assumption's growth from the track record of targets like the study's: the
    target's lower end plus the gaps provinces achieved (an empirical distribution, year
    effects and bunching on the floor included), volatility 0 (the gaps are the whole
    one-year uncertainty), and where it came from in ``track_record``."""
    extra = sorted(set(g) - _TR_KEYS)
    if extra or "indicator" not in g or "target" not in g:
        raise ValueError(
            f"{where}: a growth from the track record takes indicator, target and optionally "
            f"ambition (got {sorted(g)})"
        )
    given = [k for k in _FROM_TR if k in a]
    if given:
        raise ValueError(
            f"{where}: {', '.join(given)} cannot be set with a growth from the track record "
            "(the gaps are the whole one-year uncertainty); drop "
            + ("it" if len(given) == 1 else "them")
        )
    try:
        name = indicator_name(g["indicator"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{where}.indicator: {exc.args[0]}") from None
    t = targets.get(g["target"]) if isinstance(g["target"], str) else None
    if t is None:
        raise ValueError(f"{where}.target: unknown target {g['target']!r}")
    if t.get("measure") != "growth" or t.get("indicator") != a.get("indicator"):
        raise ValueError(
            f"{where}.target: {g['target']!r} must be a growth target on "
            f"{a.get('indicator')!r} (got measure {t.get('measure', 'level')!r} on "
            f"{t.get('indicator')!r})"
        )
    base, end = sc.get("base_year"), sc.get("end_year")
    if not (isinstance(base, int) and t.get("year") == base + 1 == end):
        raise ValueError(
            f"{where}: the track record describes one year's outcome; the scenario must run "
            f"one year, from {t.get('year', 0) - 1} to the target's year {t.get('year')} "
            f"(it runs {base}–{end})"
        )
    low = t.get("value")
    if isinstance(low, bool) or not isinstance(low, int | float) or not math.isfinite(low):
        raise ValueError(f"{where}.target: the target's value is not a number ({low!r})")
    amb = g.get("ambition")
    if amb is not None and (isinstance(amb, bool) or not isinstance(amb, int | float)):
        raise ValueError(f"{where}.ambition: expected a number of percentage points, got {amb!r}")
    m = record.fit(name) if record is not None else builtin_model(name)
    dist = m.outcome(float(low), amb)
    out = {k: v for k, v in a.items() if k != "growth"}
    out.update(
        growth=dist.model_dump(),
        volatility=0.0,
        status="assumed",
        track_record={
            "indicator": name,
            "target": g["target"],
            "target_low": float(low),
            "targets": m.n,
            "provinces": m.provinces,
            "years": [m.years[0], m.years[-1]],
            "hit_rate": round(m.hit_rate, 4),
            "model": m.describe(),
        },
    )
    out.setdefault(
        "rationale",
        f"What provinces that announced such targets achieved: the target's lower end "
        f"{low:.4g} plus the outcome − target gaps of {m.n} provincial {name} targets "
        f"{m.years[0]}–{m.years[-1]} (hit rate {m.hit_rate:.2f}); {SOURCE}. Jiaozuo is a "
        "high-tech zone, not a province: using the provinces' record is an assumption.",
    )
    return out
