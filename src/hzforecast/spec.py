"""Studies: sources, indicators, targets and scenarios, validated once at the edge.

A :class:`Study` is everything hzforecast knows about a place:

* :class:`Source` — where figures came from (an article, a report, or an
  *assumption* made by the analyst, which is a source too and says so);
* :class:`Indicator` — a quantity with its unit, its kind and its observed
  history (irregular years are normal), every observation with the source and
  the sentence it came from; a *derived* indicator is computed from two others;
* :class:`Target` — a threshold on a level, a year-on-year growth or a CAGR,
  ``stated`` (quoted from a source) or ``assumed`` (with a rationale);
  :class:`TargetGroup` — targets met only together;
* :class:`Scenario` — growth assumptions per indicator as distributions, shock
  volatilities, typed shocks and correlations.

All models are frozen pydantic models that reject unknown fields and do not
coerce types (a ``"2018"`` string is not a year). Values are stored in the
indicator's unit; a *share* is stored as a fraction in (0, 1) and shown as %;
growth rates are fractions (0.08 for 8%).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections import Counter
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

from .distributions import Distribution
from .figures import UNITS, FigureError, parse_figure

__all__ = [
    "Assumption",
    "Claim",
    "CommonShock",
    "Correction",
    "Correlation",
    "Derivation",
    "Indicator",
    "Observation",
    "ReferenceGrowth",
    "Scenario",
    "Shock",
    "Source",
    "Study",
    "Target",
    "TargetGroup",
    "TrackRecordGrowth",
]

YEAR_MIN, YEAR_MAX = 1949, 2100

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")]
Year = Annotated[int, Strict(), Field(ge=YEAR_MIN, le=YEAR_MAX)]
Finite = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Text = Annotated[str, Field(max_length=4000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]

#: Smallest non-zero yearly volatility an assumption may give (see :class:`Assumption`).
MIN_VOLATILITY = 1e-4
#: Largest yearly volatility (log or log-odds scale). A yearly shock of σ = 1 moves a level
#: by a factor e ≈ 2.7 in one year out of three; Chinese provincial indicators swing by at
#: most about 0.25 (docs/reference.md). Larger values are slips ("3" for 3%).
MAX_VOLATILITY = 1.0
#: Largest |median yearly log drift| an assumption may give: ln 4, i.e. growth between
#: −75% and +300% a year, every year (for a share, odds ×4 or ÷4 a year). Beyond it a
#: growth is nonsense for a plan's horizon — usually a percentage typed for a fraction.
MAX_DRIFT = math.log(4.0)


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _unique_ids(items, what: str) -> None:
    counts = Counter(item.id for item in items)
    dups = sorted(k for k, v in counts.items() if v > 1)
    if dups:
        raise ValueError(f"{what}: duplicate id {dups[0]!r}")


# ---------------------------------------------------------------------------- sources


class Source(_Spec):
    """Where figures come from.

    ``kind="assumption"`` marks figures the analyst assumed; they are reported
    as assumed wherever they are used.
    """

    id: Id
    title: Name
    date: _dt.date
    kind: Literal["article", "report", "assumption"]
    quote: Text | None = None
    author: Name | None = None
    url: Text | None = None
    date_precision: Literal["day", "month", "year"] = "day"
    note: Text | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date_text(cls, v):
        if not isinstance(v, (str, _dt.date)) or isinstance(v, _dt.datetime):
            raise ValueError(f"expected a date (YYYY-MM-DD), got {type(v).__name__} {v!r}")
        return v


# ---------------------------------------------------------------------------- indicators


class Correction(_Spec):
    """A marked alternative reading of a stated figure (the stated one is kept)."""

    value: Finite
    text: Name | None = None
    rationale: Text
    source: Id


class Observation(_Spec):
    """One observed value, in the indicator's unit (a share as a fraction).

    ``text`` is the figure as the source wrote it ("14195亿元"); when given, it is
    parsed and must agree with ``value`` and ``qualifier``. ``definition`` names the
    statistical definition the figure follows when it is not the indicator's current one
    (a series break: rural income before 2013 was 纯收入, net income, not disposable
    income); the audit reports growth measured across a change of definition.
    """

    year: Year
    value: Finite
    source: Id
    quote: Text | None = None
    text: Name | None = None
    qualifier: Literal["exact", "at_least", "at_most", "about", "more_than", "less_than"] = "exact"
    note: Text | None = None
    correction: Correction | None = None
    definition: Name | None = None


class Derivation(_Spec):
    """``value = scale · a · b`` (``op="product"``) or ``scale · a / b`` (``"ratio"``)."""

    op: Literal["product", "ratio"]
    of: tuple[Id, Id]
    scale: Finite = Field(default=1.0, gt=0)


_KIND_RULES = {
    "level": "must be positive",
    "share": "must be a fraction strictly between 0 and 1",
    "count": "must be non-negative",
    "rate": "must be finite",
}


def _check_kind_value(kind: str, value: float, where: str) -> None:
    ok = {
        "level": value > 0,
        "share": 0 < value < 1,
        "count": value >= 0,
        "rate": math.isfinite(value),
    }[kind]
    if not ok:
        extra = f" ({value * 100:g}%)" if kind == "share" else ""
        raise ValueError(
            f"{where}: {kind} indicator value {_KIND_RULES[kind]}, got {value!r}{extra}"
        )


class Indicator(_Spec):
    """A quantity tracked by the study.

    Parameters
    ----------
    id, name_zh, name_en : str
    unit : str
        One of :data:`hzforecast.figures.UNITS`; for ``kind="share"`` it must be ``"%"``
        (values are stored as fractions and shown as %).
    kind : {"level", "share", "count", "rate"}
        ``level`` a positive quantity (GDP); ``share`` a fraction in (0, 1);
        ``count`` a non-negative count (patents); ``rate`` any finite number.
    observations : list of Observation
        Sorted by year on reading; one per year.
    derived : Derivation, optional
        Computed path by path from two other indicators; never simulated on its own.
    """

    id: Id
    name_zh: Name
    name_en: Name
    unit: str
    kind: Literal["level", "share", "count", "rate"]
    observations: tuple[Observation, ...] = Field(default=(), max_length=500)
    derived: Derivation | None = None
    note: Text | None = None

    @field_validator("unit")
    @classmethod
    def _unit_known(cls, v: str) -> str:
        if v not in UNITS:
            raise ValueError(f"unknown unit {v!r}; expected one of {sorted(UNITS)}")
        return v

    @field_validator("observations")
    @classmethod
    def _sorted(cls, v):
        return tuple(sorted(v, key=lambda o: o.year))

    @model_validator(mode="after")
    def _check(self):
        if self.kind == "share" and self.unit != "%":
            raise ValueError(f"unit: a share indicator must use '%', got {self.unit!r}")
        years = Counter(o.year for o in self.observations)
        dups = sorted(y for y, c in years.items() if c > 1)
        if dups:
            raise ValueError(f"observations: duplicate year {dups[0]}")
        for i, obs in enumerate(self.observations):
            where = f"observations[{i}] (year {obs.year})"
            _check_kind_value(self.kind, obs.value, f"{where}.value")
            if obs.correction is not None:
                _check_kind_value(self.kind, obs.correction.value, f"{where}.correction.value")
            if obs.text is not None:
                self._check_text(obs.text, obs.value, obs.qualifier, where)
            if obs.correction is not None and obs.correction.text is not None:
                self._check_text(
                    obs.correction.text, obs.correction.value, None, f"{where}.correction"
                )
        if self.derived is not None and self.id in self.derived.of:
            raise ValueError(f"derived.of: indicator {self.id!r} cannot be derived from itself")
        return self

    def _check_text(self, text, value, qualifier, where):
        try:
            fig = parse_figure(text)
        except FigureError as exc:
            raise ValueError(f"{where}.text: {exc}") from None
        if fig.kind != "number":
            raise ValueError(f"{where}.text: {text!r} is not a single figure")
        if self.kind == "share" or (fig.unit == "%" and self.unit == "%"):
            expected = fig.as_fraction() if self.kind == "share" else fig.value
        elif fig.unit in ("", self.unit) or fig.unit in ("项", "件", "个", "家"):
            expected = fig.value
        else:
            try:
                expected = fig.to(self.unit)
            except ValueError:
                raise ValueError(
                    f"{where}.text: unit of {text!r} ({fig.unit}) does not convert to the "
                    f"indicator's unit {self.unit!r}"
                ) from None
        if not math.isclose(expected, value, rel_tol=1e-9, abs_tol=1e-12):
            raise ValueError(
                f"{where}.value: the text {text!r} reads as {expected:g} {self.unit}, "
                f"but value is {value!r}"
            )
        if qualifier is not None and fig.qualifier != qualifier:
            raise ValueError(
                f"{where}.qualifier: the text {text!r} reads as {fig.qualifier!r}, "
                f"but qualifier is {qualifier!r}"
            )

    # -- convenience -------------------------------------------------------
    def history(self, *, corrections: bool = False) -> dict[int, float]:
        """Observed values by year; with ``corrections=True`` corrected readings replace
        the stated figures they correct."""
        return {
            o.year: (o.correction.value if corrections and o.correction else o.value)
            for o in self.observations
        }

    def last_observation(self) -> Observation | None:
        return self.observations[-1] if self.observations else None

    def observation(self, year: int) -> Observation | None:
        for o in self.observations:
            if o.year == year:
                return o
        return None

    @property
    def modelled_in_log(self) -> bool:
        return self.kind in ("level", "count")


class Claim(_Spec):
    """A statement that relates figures, checked by :func:`hzforecast.audit.audit`.

    ``kind="multiple"``: ``indicator`` grew by ``text`` (增长35倍) from ``from_year``
    to ``to_year``; ``value`` is the factor new/old the text means (36).
    ``kind="part_of"``: ``indicator`` is part of ``other`` in ``year``.
    ``kind="per_capita"``: ``indicator`` is ``other`` per ``value`` people in ``year``
    (万人 figures: ``value = 10000``); the audit reports the implied population — of
    ``per = "residents"`` (default) or of ``"employees"`` (a zone's 万人有效发明专利拥有量 is
    per 10,000 employees).
    """

    id: Id
    kind: Literal["multiple", "part_of", "per_capita"]
    indicator: Id
    other: Id | None = None
    year: Year | None = None
    from_year: Year | None = None
    to_year: Year | None = None
    value: Finite | None = Field(default=None, gt=0)
    text: Name | None = None
    per: Literal["residents", "employees"] = "residents"
    source: Id
    quote: Text | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.per != "residents" and self.kind != "per_capita":
            raise ValueError(f"per: only meaningful for a per_capita claim, got {self.per!r}")
        if self.kind == "multiple":
            if self.from_year is None or self.to_year is None or self.value is None:
                raise ValueError("from_year, to_year and value: required for a multiple")
            if self.to_year <= self.from_year:
                raise ValueError(
                    f"to_year: must be after from_year {self.from_year}, got {self.to_year}"
                )
            if self.text is not None:
                try:
                    fig = parse_figure(self.text)
                    factor = fig.factor
                except FigureError as exc:
                    raise ValueError(f"text: {exc}") from None
                if not math.isclose(factor, self.value, rel_tol=1e-12):
                    raise ValueError(
                        f"value: the text {self.text!r} means a factor of {factor:g}, "
                        f"got {self.value}"
                    )
        else:
            if self.other is None or self.year is None:
                raise ValueError(f"other and year: required for a {self.kind} claim")
            if self.kind == "per_capita" and self.value is None:
                raise ValueError("value: required for per_capita (people per unit, e.g. 10000)")
        return self


# ---------------------------------------------------------------------------- targets

Comparator = Literal[">=", "<=", "between"]


class Target(_Spec):
    """A threshold an indicator should reach in ``year``.

    Parameters
    ----------
    measure : {"level", "growth", "cagr"}
        ``level``: the value itself (a share as a fraction); ``growth``: the
        year-on-year growth rate in ``year`` (0.075 for 7.5%); ``cagr``: the
        compound annual growth rate from ``base_year`` to ``year``.
    comparator : {">=", "<=", "between"}
    value : float
        The threshold (the lower end for ``between``), in the indicator's unit.
    high : float, optional
        Upper end for ``between``.
    reading : {"plan", "band"}
        How a range is judged. ``"plan"`` (the default) reads it as Chinese plan assessment
        does: "增长8%—8.5%" is met when the outcome reaches 8% — overshooting a range is not
        a failure. ``"band"`` requires the outcome inside the range. ("X%左右" and a bare
        "X%" are judged against X: write them as ``>=`` X.)
    precision : float, optional
        The outcome is judged as it is published, rounded to ``precision`` (0.001: a growth
        rate to 0.1 percentage point, as Chinese statistics publish it). A published
        "8.0%" meets an 8% target, so the threshold becomes ``value − precision/2`` (for
        ``<=``: ``value + precision/2``). None (default): the exact value is compared.
    status : {"stated", "assumed"}
        ``stated`` targets need ``source`` and ``quote``; ``assumed`` ones need
        ``rationale``.
    """

    id: Id
    indicator: Id
    year: Year
    measure: Literal["level", "growth", "cagr"] = "level"
    comparator: Comparator
    value: Finite
    high: Finite | None = None
    reading: Literal["plan", "band"] = "plan"
    precision: Finite | None = Field(default=None, gt=0)
    base_year: Year | None = None
    status: Literal["stated", "assumed"]
    name_zh: Name | None = None
    name_en: Name | None = None
    source: Id | None = None
    quote: Text | None = None
    text: Name | None = None
    rationale: Text | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.comparator == "between":
            if self.high is None:
                raise ValueError("high: required when comparator is 'between'")
            if not self.high > self.value:
                raise ValueError(
                    f"high: must be greater than value ({self.value}), got {self.high}"
                )
        elif self.high is not None:
            raise ValueError(f"high: only allowed with comparator 'between', got {self.high}")
        if self.measure in ("growth", "cagr"):
            for name in ("value", "high"):
                v = getattr(self, name)
                if v is None:
                    continue
                if v <= -1:
                    raise ValueError(f"{name}: a growth rate must be > -1 (-100%), got {v}")
                if abs(math.log1p(v)) > MAX_DRIFT:
                    hint = f" — did you mean {v / 100:g} ({v:g}%)?" if abs(v) >= 1 else ""
                    raise ValueError(
                        f"{name}: a growth target of {v:g} is {v:+.0%} a year, beyond the limits "
                        f"of −75% and +300%; growth rates are fractions{hint}"
                    )
        if self.precision is not None:
            scale = max(abs(self.value), abs(self.high or 0.0))
            room = (self.high - self.value) if self.high is not None else scale
            if not self.precision < max(room, 1e-300) or (
                self.measure != "level" and self.precision > 0.01
            ):
                raise ValueError(
                    f"precision: the rounding of the published figure must be finer than the "
                    f"target itself (below {room:g}"
                    + (", and at most 0.01 for a growth rate" if self.measure != "level" else "")
                    + f"), got {self.precision:g}"
                )
        if self.base_year is not None:
            if self.measure != "cagr":
                raise ValueError("base_year: only meaningful for measure 'cagr'")
            if self.base_year >= self.year:
                raise ValueError(
                    f"base_year: must be before year {self.year}, got {self.base_year}"
                )
        if self.status == "stated" and (self.source is None or self.quote is None):
            raise ValueError("source and quote: required for a stated target")
        if self.status == "assumed" and not self.rationale:
            raise ValueError("rationale: required for an assumed target")
        return self

    @property
    def judged(self) -> str:
        """The comparator the target is judged by: a range read the planners' way (``reading =
        "plan"``) is met at its lower end, so it is judged as ``>=``."""
        if self.comparator == "between" and self.reading == "plan":
            return ">="
        return self.comparator

    @property
    def bounds(self) -> tuple[float, float]:
        """The interval an outcome must fall in to meet the target, as it is judged (the
        reading and the publication ``precision`` applied): (low, high), ±inf when open."""
        half = 0.0 if self.precision is None else self.precision / 2
        if self.judged == ">=":
            return self.value - half, math.inf
        if self.judged == "<=":
            return -math.inf, self.value + half
        return self.value - half, self.high + half

    def met_by(self, x: np.ndarray | float) -> np.ndarray:
        """Whether measured values ``x`` meet the target, as it is judged."""
        x = np.asarray(x)
        lo, hi = self.bounds
        if self.judged == ">=":
            return x >= lo
        if self.judged == "<=":
            return x <= hi
        return (x >= lo) & (x <= hi)

    def describe(self, unit: str = "", *, lang: str = "en") -> str:
        def fmt(v):
            if self.measure in ("growth", "cagr") or unit == "%":
                return f"{v * 100:.4g}%"
            return f"{v:.6g}{unit}"

        words = (
            {"level": "", "growth": "增速", "cagr": "年均增速"}
            if lang == "zh"
            else {"level": "", "growth": "growth ", "cagr": "CAGR "}
        )
        what = words[self.measure]
        if self.comparator == "between":
            plan = "*" if self.reading == "plan" else ""
            return f"{what}{fmt(self.value)}–{fmt(self.high)}{plan}"
        return f"{what}{self.comparator} {fmt(self.value)}"


class TargetGroup(_Spec):
    """Targets judged together, the way an evaluation judges them.

    Parameters
    ----------
    rule : {"all", "at_least", "score"}
        ``"all"`` (default): met when every target is met. ``"at_least"``: met when at least
        ``k`` of them are. ``"score"``: each met target scores its weight (``weights``, in
        the order of ``targets``); met when the score reaches ``threshold`` — as a weighted
        evaluation system counts.
    """

    id: Id
    name_zh: Name
    name_en: Name
    targets: tuple[Id, ...] = Field(min_length=1, max_length=200)
    rule: Literal["all", "at_least", "score"] = "all"
    k: Annotated[int, Strict(), Field(ge=1)] | None = None
    weights: tuple[Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)], ...] | None = None
    threshold: Finite | None = None
    status: Literal["stated", "assumed"]
    source: Id | None = None
    quote: Text | None = None
    rationale: Text | None = None

    @model_validator(mode="after")
    def _check(self):
        if len(set(self.targets)) != len(self.targets):
            raise ValueError("targets: a target is listed twice")
        n = len(self.targets)
        if self.rule == "at_least":
            if self.k is None or self.k > n:
                raise ValueError(
                    f"k: rule 'at_least' needs k between 1 and the {n} targets, got {self.k}"
                )
        elif self.k is not None:
            raise ValueError(f"k: only meaningful with rule 'at_least', got {self.k}")
        if self.rule == "score":
            if self.weights is None or len(self.weights) != n:
                got = None if self.weights is None else len(self.weights)
                raise ValueError(
                    f"weights: rule 'score' needs one weight per target ({n}), got {got}"
                )
            total = math.fsum(self.weights)
            if self.threshold is None or not 0 < self.threshold <= total:
                raise ValueError(
                    f"threshold: rule 'score' needs a threshold above 0 and at most the total "
                    f"weight {total:g}, got {self.threshold}"
                )
        elif self.weights is not None or self.threshold is not None:
            raise ValueError("weights and threshold: only meaningful with rule 'score'")
        if self.status == "assumed" and not self.rationale:
            raise ValueError("rationale: required for an assumed group")
        return self

    @property
    def needed(self) -> int:
        """How many targets must be met (``all``: every one; ``score``: not a count)."""
        return len(self.targets) if self.rule == "all" else (self.k or 0)

    def describe(self) -> str:
        n = len(self.targets)
        if self.rule == "all":
            return f"all {n} met"
        if self.rule == "at_least":
            return f"at least {self.k} of {n} met"
        return f"score ≥ {self.threshold:g} of {math.fsum(self.weights):g}"


# ---------------------------------------------------------------------------- scenarios


class Shock(_Spec):
    """A typed shock to one indicator's path.

    ``kind="dip"``: in ``year`` the level falls by ``depth`` (0.1 → −10%) and the
    loss is recovered linearly (in log terms) over ``recovery_years`` (0: never).
    ``kind="trend_change"``: from ``year`` on the mean growth is ``growth``
    (drawn once per path) instead of the assumption's.
    """

    kind: Literal["dip", "trend_change"]
    year: Year
    depth: Finite | None = None
    recovery_years: Annotated[int, Strict(), Field(ge=0, le=100)] = 0
    growth: Distribution | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.kind == "dip":
            if self.depth is None or not 0 < self.depth < 1:
                raise ValueError(f"depth: a dip needs 0 < depth < 1, got {self.depth}")
            if self.growth is not None:
                raise ValueError("growth: not used by a dip")
        else:
            if self.growth is None:
                raise ValueError("growth: required for a trend_change")
            if self.depth is not None:
                raise ValueError("depth: not used by a trend_change")
        return self


class ReferenceGrowth(_Spec):
    """Where an assumption's growth came from when a study file asked for it from a reference
    class: ``growth = { from = "reference", panel = "china-provinces", indicator = "gdp" }``.
    Resolved when the study is read (:func:`hzforecast.io.load_study`): the study
    indicator's own history fitted with the class's empirical-Bayes prior; what it rests on
    is kept here."""

    panel: Name
    indicator: Name
    until: Year
    regions: Annotated[int, Strict(), Field(ge=1)]
    years: tuple[Year, Year]
    method: Text
    prior: Text
    fitted_to: Text


class TrackRecordGrowth(_Spec):
    """Where an assumption's growth came from when a study file asked for the track record of
    plans like it: ``growth = { from = "track-record", indicator = "gdp_growth", target =
    "gdp-growth-2019" }`` (:mod:`hzforecast.trackrecord`). Resolved when the study is read."""

    indicator: Name
    target: Id
    target_low: Finite
    targets: Annotated[int, Strict(), Field(ge=1)]
    provinces: Annotated[int, Strict(), Field(ge=1)]
    years: tuple[Year, Year]
    hit_rate: Finite = Field(ge=0, le=1)
    model: Text


class Assumption(_Spec):
    """How one indicator moves in a scenario.

    Parameters
    ----------
    indicator : str
    growth : Distribution
        Level/count indicators: the median annual growth rate g (0.08 = 8%), so the
        log drift is μ = ln(1 + g). Share indicators: the drift of the log-odds per
        year (for a small share, about its relative growth per year). Drawn once per
        path.
    growth_scale : {"rate", "log"}
        ``"log"``: ``growth`` is the log drift μ itself (as a fitted model gives it).
    volatility : float
        σ of the yearly shock on the log (share: log-odds) scale; 0 for a
        deterministic path, else at least :data:`MIN_VOLATILITY` (1e-4, 0.01% a year):
        smaller shocks are below the resolution of the simulated log-levels, so the
        results would depend on rounding rather than on the model. At most
        :data:`MAX_VOLATILITY`.
    volatility_df : float, optional
        The volatility is uncertain: each path draws σ² = ν·s²/χ²_ν with s = ``volatility``
        and ν = ``volatility_df`` (a scaled inverse χ², the posterior of a fitted model).
        The growth's spread around its median, and ``growth_walk``, then scale with each
        path's σ/s — the Normal–Inverse-Gamma structure of :meth:`FitResult.to_assumption`.
    growth_walk : float
        The growth itself wanders: the yearly standard deviation of the change in the log
        drift (0.005: growth moves by about ±0.5 percentage points a year), so far years are
        less certain than a fixed growth makes them. 0 (default): the growth drawn for a
        path holds for the whole horizon.
    start : Distribution, optional
        Starting value (indicator unit; share as a fraction) where none is observed.
        It is an assumption and is reported as such.
    start_year : int, optional
        Year ``start`` refers to (default: the scenario's ``base_year``).
    """

    indicator: Id
    growth: Distribution
    growth_scale: Literal["rate", "log"] = "rate"
    volatility: Finite = Field(ge=0)
    volatility_df: Finite | None = Field(default=None, gt=2, le=1e6)
    growth_walk: Finite = Field(default=0.0, ge=0, le=0.5)
    start: Distribution | None = None
    start_year: Year | None = None
    shocks: tuple[Shock, ...] = Field(default=(), max_length=50)
    status: Literal["stated", "assumed"] = "assumed"
    source: Id | None = None
    quote: Text | None = None
    rationale: Text | None = None
    reference: ReferenceGrowth | None = None
    track_record: TrackRecordGrowth | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.start_year is not None and self.start is None:
            raise ValueError("start_year: only meaningful with start")
        if self.volatility == 0 and (self.volatility_df is not None or self.growth_walk > 0):
            raise ValueError(
                "volatility: an uncertain volatility (volatility_df) or a walking growth "
                "(growth_walk) needs a volatility above 0, got 0"
            )
        if self.growth_walk > 0 and any(s.kind == "trend_change" for s in self.shocks):
            raise ValueError(
                "growth_walk: a growth that walks year by year cannot also change trend at a "
                "set year (a trend_change shock); use one or the other"
            )
        if self.volatility > MAX_VOLATILITY:
            raise ValueError(
                f"volatility: {self.volatility:g} is a yearly shock of ±{self.volatility:.0%} on "
                f"the log scale, above the limit of {MAX_VOLATILITY:g}; volatilities are "
                f"fractions — did you mean {self.volatility / 100:g} ({self.volatility:g}%)?"
            )
        if 0 < self.volatility < MIN_VOLATILITY:
            raise ValueError(
                f"volatility: expected 0 (deterministic) or at least {MIN_VOLATILITY:g} "
                f"(smaller shocks are below the resolution of the simulation), "
                f"got {self.volatility:g}"
            )
        if self.status == "stated" and (self.source is None or self.quote is None):
            raise ValueError("source and quote: required for a stated assumption")
        if self.status == "assumed" and not self.rationale:
            raise ValueError("rationale: required for an assumed assumption")
        return self


def _check_correlation_matrix(m: np.ndarray, names) -> None:
    k = len(names)
    if m.shape != (k, k):
        raise ValueError(
            f"matrix: expected {k}x{k} for indicators {list(names)}, got shape {m.shape}"
        )
    if not np.all(np.isfinite(m)):
        raise ValueError("matrix: entries must be finite")
    if not np.allclose(np.diag(m), 1.0, rtol=0, atol=1e-12):
        raise ValueError(f"matrix: diagonal must be 1, got {np.diag(m).tolist()}")
    if not np.allclose(m, m.T, rtol=0, atol=1e-12):
        i, j = np.unravel_index(np.argmax(np.abs(m - m.T)), m.shape)
        raise ValueError(f"matrix: not symmetric: [{i}][{j}]={m[i, j]} but [{j}][{i}]={m[j, i]}")
    if np.any(np.abs(m) > 1):
        raise ValueError("matrix: correlations must lie in [-1, 1]")
    eig = np.linalg.eigvalsh(m)
    if eig[0] < -1e-10:
        raise ValueError(f"matrix: not positive semi-definite (smallest eigenvalue {eig[0]:.6g})")


def anchor_year(sc: Scenario, a: Assumption, indicator: Indicator) -> int:
    """The year an indicator's simulation starts from in a scenario: an assumed start's year;
    else its last observation at or before the scenario's base year, or its first one if
    all are later; else the base year (an index)."""
    if a.start is not None:
        return a.start_year or sc.base_year
    obs = [o for o in indicator.observations if o.year <= sc.end_year]
    if obs:
        before = [o for o in obs if o.year <= sc.base_year]
        return (before[-1] if before else obs[0]).year
    return sc.base_year


def check_simulable(sc: Scenario, a: Assumption, indicator: Indicator, where: str) -> None:
    """What the engine needs of an assumption, checked when the study is read rather than
    when it is first simulated."""
    if a.start is not None and indicator.observations:
        raise ValueError(
            f"{where}.start: {a.indicator!r} is observed (last in "
            f"{indicator.observations[-1].year}); an assumed start is only for an indicator "
            f"with no observation — drop the start"
        )
    anchor = anchor_year(sc, a, indicator)
    if a.start is None and indicator.kind == "share" and indicator.observation(anchor) is None:
        raise ValueError(
            f"{where}.start: {a.indicator!r} is a share with no observation to start from in "
            f"{anchor}, so the scenario must assume where it starts (a share cannot be simulated "
            "as an index of its growth: it is bounded by 0 and 1) — add start = {dist = ..., "
            "low = ..., high = ...}"
        )
    if anchor >= sc.end_year:
        raise ValueError(
            f"{where}: {a.indicator!r} starts in {anchor}, not before the scenario's end_year "
            f"{sc.end_year}"
        )
    later = [o.year for o in indicator.observations if anchor < o.year <= sc.end_year]
    if later:
        raise ValueError(
            f"{where}: the simulation of {a.indicator!r} would start from {anchor} and ignore "
            f"its observation of {later[-1]} — set the scenario's base_year to {later[-1]} or "
            f"later (it is {sc.base_year})"
        )
    o = indicator.observation(anchor)
    if o is not None and indicator.kind in ("level", "count") and o.value <= 0:
        raise ValueError(
            f"{where}: {a.indicator!r} starts from {o.value:g} (observed in {anchor}); a "
            f"{indicator.kind} grows on the log scale, which cannot start from zero — model it "
            f"from a later year, or as an index of its growth"
        )
    if a.growth_scale == "rate" and indicator.kind != "share":
        dists = [("growth", a.growth)] + [
            (f"shocks[{k}].growth", s.growth)
            for k, s in enumerate(a.shocks)
            if s.kind == "trend_change"
        ]
        for name, dist in dists:
            lo = dist.support()[0]
            if not lo > -1:
                raise ValueError(
                    f"{where}.{name}: growth must stay above -100% for a level (its log drift "
                    f"is ln(1+g)); the distribution reaches {lo:g} — truncate it (for example "
                    f"a normal with low = -0.5)"
                )
    for k, s in enumerate(a.shocks):
        if s.year <= anchor:
            raise ValueError(
                f"{where}.shocks[{k}].year: must be after the start {anchor}, got {s.year}"
            )


def _check_growth_plausible(a: Assumption, kind: str, where: str) -> None:
    """A median yearly drift beyond ±ln 4 (:data:`MAX_DRIFT`) is refused, naming the slip."""
    med = a.growth.median()
    log_drift = a.growth_scale == "log" or kind == "share"
    drift = med if log_drift else (math.log1p(med) if med > -1 else -math.inf)
    if abs(drift) <= MAX_DRIFT:
        return
    if log_drift:
        scale = "log-odds" if kind == "share" else "log"
        what = f"a median drift of {med:g} a year on the {scale} scale"
        limit = f"beyond the limit of ±ln 4 = ±{MAX_DRIFT:.3f}"
    else:
        what = f"a median of {med:g} means {med:+.0%} a year, every year"
        limit = "beyond the limits of −75% and +300% a year"
    hint = (
        f"; growth rates are fractions — did you mean {med / 100:g} ({med:g}%)?"
        if abs(med) >= 1
        else ""
    )
    raise ValueError(f"{where}: {what}, {limit}{hint}")


class Correlation(_Spec):
    """A correlation matrix between indicators (symmetric, unit diagonal, PSD)."""

    indicators: tuple[Id, ...] = Field(min_length=2, max_length=200)
    matrix: tuple[tuple[Finite, ...], ...]

    @model_validator(mode="after")
    def _check(self):
        if len(set(self.indicators)) != len(self.indicators):
            raise ValueError("indicators: an indicator is listed twice")
        rows = {len(r) for r in self.matrix}
        if len(rows) > 1:
            raise ValueError("matrix: rows have different lengths")
        _check_correlation_matrix(np.array(self.matrix, dtype=float), self.indicators)
        return self

    def as_array(self) -> np.ndarray:
        return np.array(self.matrix, dtype=float)


class CommonShock(_Spec):
    """A yearly shock shared by every indicator of a scenario — the year that is bad (or good)
    for everything at once, which independent shocks leave out.

    In each simulated year every path draws ``C = sd·Z − bad_year_size·B`` with Z standard
    normal and B = 1 with probability ``bad_year_probability`` (a rare bad year), and each
    indicator's log growth that year (a share: its log-odds) moves by ``loading · C``.
    ``loadings`` maps indicator ids to their loading; an indicator not listed has loading 1.
    A 0 loading leaves an indicator out. Units are those of a log growth: ``sd = 0.01`` is
    about ±1 percentage point of growth.
    """

    sd: Finite = Field(ge=0, le=0.5)
    bad_year_probability: Finite = Field(default=0.0, ge=0, le=0.5)
    bad_year_size: Finite = Field(default=0.0, ge=0, le=1.0)
    loadings: dict[Id, Annotated[float, Strict(), Field(ge=-10, le=10, allow_inf_nan=False)]] = (
        Field(default_factory=dict, max_length=200)
    )
    status: Literal["stated", "assumed"] = "assumed"
    source: Id | None = None
    quote: Text | None = None
    rationale: Text | None = None

    @model_validator(mode="after")
    def _check(self):
        if (self.bad_year_probability > 0) != (self.bad_year_size > 0):
            raise ValueError(
                "bad_year_probability and bad_year_size: a bad year needs both above 0 "
                f"(got probability {self.bad_year_probability:g}, size {self.bad_year_size:g})"
            )
        if self.sd == 0 and self.bad_year_probability == 0:
            raise ValueError("sd: a common shock needs sd > 0 or a bad year, got neither")
        if self.status == "assumed" and not self.rationale:
            raise ValueError("rationale: required for an assumed common shock")
        if self.status == "stated" and (self.source is None or self.quote is None):
            raise ValueError("source and quote: required for a stated common shock")
        return self

    def loading(self, indicator: str) -> float:
        return float(self.loadings.get(indicator, 1.0))


class Scenario(_Spec):
    """A named set of growth assumptions, simulated from ``base_year`` to ``end_year``.

    ``shock_correlation`` correlates the yearly shocks of indicators (Gaussian,
    through a Cholesky factor); ``parameter_correlation`` is a *rank* correlation
    between the per-path growth draws (Gaussian copula).
    """

    id: Id
    name_zh: Name
    name_en: Name
    description: Text | None = None
    base_year: Year
    end_year: Year
    assumptions: tuple[Assumption, ...] = Field(min_length=1, max_length=1000)
    shock_correlation: Correlation | None = None
    parameter_correlation: Correlation | None = None
    common_shock: CommonShock | None = None
    status: Literal["stated", "assumed"] = "assumed"
    rationale: Text | None = None
    source: Id | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.end_year <= self.base_year:
            raise ValueError(
                f"end_year: must be after base_year {self.base_year}, got {self.end_year}"
            )
        seen = Counter(a.indicator for a in self.assumptions)
        dups = sorted(k for k, v in seen.items() if v > 1)
        if dups:
            raise ValueError(f"assumptions: indicator {dups[0]!r} has two assumptions")
        for i, a in enumerate(self.assumptions):
            for j, s in enumerate(a.shocks):
                if not self.base_year < s.year <= self.end_year:
                    raise ValueError(
                        f"assumptions[{i}].shocks[{j}].year: must be in "
                        f"({self.base_year}, {self.end_year}], got {s.year}"
                    )
        if self.common_shock is not None:
            for ind in self.common_shock.loadings:
                if ind not in seen:
                    raise ValueError(
                        f"common_shock.loadings: {ind!r} has no assumption in scenario {self.id!r}"
                    )
        for name in ("shock_correlation", "parameter_correlation"):
            corr = getattr(self, name)
            if corr is None:
                continue
            for ind in corr.indicators:
                if ind not in seen:
                    raise ValueError(
                        f"{name}.indicators: {ind!r} has no assumption in scenario {self.id!r}"
                    )
        return self

    def assumption(self, indicator: str) -> Assumption | None:
        for a in self.assumptions:
            if a.indicator == indicator:
                return a
        return None

    @property
    def years(self) -> np.ndarray:
        return np.arange(self.base_year, self.end_year + 1)


# ---------------------------------------------------------------------------- study


class Study(_Spec):
    """Everything known about a place: sources, indicators, targets and scenarios.

    Every cross-reference is checked: observation, target, group, assumption and
    correction sources; target and assumption indicators; group members;
    derived-indicator parts.
    """

    schema_version: Literal[1] = 1
    id: Id
    name_zh: Name
    name_en: Name
    description: Text | None = None
    sources: tuple[Source, ...] = Field(min_length=1, max_length=1000)
    indicators: tuple[Indicator, ...] = Field(min_length=1, max_length=1000)
    claims: tuple[Claim, ...] = Field(default=(), max_length=5000)
    targets: tuple[Target, ...] = Field(default=(), max_length=5000)
    groups: tuple[TargetGroup, ...] = Field(default=(), max_length=1000)
    scenarios: tuple[Scenario, ...] = Field(default=(), max_length=100)
    default_scenario: Id | None = None

    @model_validator(mode="after")
    def _cross_references(self):
        _unique_ids(self.sources, "sources")
        if self.default_scenario is not None and self.default_scenario not in {
            s.id for s in self.scenarios
        }:
            raise ValueError(
                f"default_scenario: unknown scenario {self.default_scenario!r} "
                f"(have {[s.id for s in self.scenarios]})"
            )
        _unique_ids(self.indicators, "indicators")
        _unique_ids(self.targets, "targets")
        _unique_ids(self.groups, "groups")
        _unique_ids(self.scenarios, "scenarios")
        src = {s.id: s for s in self.sources}
        ind = {i.id: i for i in self.indicators}
        tgt = {t.id for t in self.targets}

        def need_source(sid, where, kind=None):
            if sid is None:
                return
            if sid not in src:
                raise ValueError(f"{where}: unknown source {sid!r} (known: {sorted(src)})")
            if kind is not None and src[sid].kind != kind:
                raise ValueError(
                    f"{where}: source {sid!r} must be of kind {kind!r}, got {src[sid].kind!r}"
                )

        def need_indicator(iid, where):
            if iid not in ind:
                raise ValueError(f"{where}: unknown indicator {iid!r} (known: {sorted(ind)})")

        for i, indicator in enumerate(self.indicators):
            for j, o in enumerate(indicator.observations):
                need_source(o.source, f"indicators[{i}].observations[{j}].source")
                if o.correction is not None:
                    need_source(
                        o.correction.source,
                        f"indicators[{i}].observations[{j}].correction.source",
                        kind="assumption",
                    )
            if indicator.derived is not None:
                for k, part in enumerate(indicator.derived.of):
                    need_indicator(part, f"indicators[{i}].derived.of[{k}]")
        self._check_derivation_cycles(ind)
        _unique_ids(self.claims, "claims")
        for i, c in enumerate(self.claims):
            need_indicator(c.indicator, f"claims[{i}].indicator")
            if c.other is not None:
                need_indicator(c.other, f"claims[{i}].other")
            need_source(c.source, f"claims[{i}].source")
        for i, t in enumerate(self.targets):
            need_indicator(t.indicator, f"targets[{i}].indicator")
            need_source(t.source, f"targets[{i}].source")
            indicator = ind[t.indicator]
            if t.measure == "level":
                try:
                    _check_kind_value(indicator.kind, t.value, f"targets[{i}].value")
                    if t.high is not None:
                        _check_kind_value(indicator.kind, t.high, f"targets[{i}].high")
                except ValueError as exc:
                    raise ValueError(str(exc)) from None
                if indicator.kind == "count" and t.value <= 0:
                    raise ValueError(
                        f"targets[{i}].value: a count is simulated on the log scale and never "
                        f"reaches 0, so a target of {t.value:g} is met by every path ('>=') or by "
                        "none ('<='); state a positive threshold"
                    )
            if t.measure in ("growth", "cagr") and indicator.kind in ("rate",):
                raise ValueError(f"targets[{i}].measure: growth of a rate indicator is undefined")
        for i, g in enumerate(self.groups):
            need_source(g.source, f"groups[{i}].source")
            for k, tid in enumerate(g.targets):
                if tid not in tgt:
                    raise ValueError(f"groups[{i}].targets[{k}]: unknown target {tid!r}")
        for i, sc in enumerate(self.scenarios):
            need_source(sc.source, f"scenarios[{i}].source")
            if sc.common_shock is not None:
                need_source(sc.common_shock.source, f"scenarios[{i}].common_shock.source")
            for j, a in enumerate(sc.assumptions):
                where = f"scenarios[{i}].assumptions[{j}]"
                need_indicator(a.indicator, f"{where}.indicator")
                need_source(a.source, f"{where}.source")
                indicator = ind[a.indicator]
                if indicator.derived is not None:
                    raise ValueError(
                        f"{where}.indicator: {a.indicator!r} is derived from "
                        f"{list(indicator.derived.of)} and cannot have its own assumption"
                    )
                if indicator.kind == "rate":
                    raise ValueError(f"{where}.indicator: rate indicators are not simulated")
                _check_growth_plausible(a, indicator.kind, f"{where}.growth")
                if a.start is not None:
                    # the most extreme starts the engine can draw (uniforms 2^-53 and 1 - 2^-53)
                    lo, hi = (float(v) for v in a.start.ppf(np.array([2.0**-53, 1 - 2.0**-53])))
                    if indicator.kind == "share" and not (0 < lo and hi < 1):
                        raise ValueError(
                            f"{where}.start: a share's starting value must stay strictly between "
                            f"0 and 1 (a fraction: 0.2 for 20%); the distribution reaches "
                            f"[{lo:g}, {hi:g}]"
                        )
                    if indicator.kind in ("level", "count") and not lo > 0:
                        raise ValueError(
                            f"{where}.start: a {indicator.kind} is simulated on the log scale, so "
                            f"its starting value must stay above 0; the distribution reaches {lo:g}"
                        )
                check_simulable(sc, a, indicator, where)
        return self

    def _check_derivation_cycles(self, ind) -> None:
        state: dict[str, int] = {}

        def visit(iid, chain):
            if state.get(iid) == 2:
                return
            if state.get(iid) == 1:
                raise ValueError(f"indicators: derivation cycle {' -> '.join([*chain, iid])}")
            state[iid] = 1
            d = ind[iid].derived
            if d is not None:
                for part in d.of:
                    visit(part, [*chain, iid])
            state[iid] = 2

        for iid in ind:
            visit(iid, [])

    # -- look-ups ----------------------------------------------------------
    def indicator(self, id: str) -> Indicator:
        for i in self.indicators:
            if i.id == id:
                return i
        raise KeyError(f"indicator: unknown id {id!r} (known: {[i.id for i in self.indicators]})")

    def target(self, id: str) -> Target:
        for t in self.targets:
            if t.id == id:
                return t
        raise KeyError(f"target: unknown id {id!r} (known: {[t.id for t in self.targets]})")

    def group(self, id: str) -> TargetGroup:
        for g in self.groups:
            if g.id == id:
                return g
        raise KeyError(f"group: unknown id {id!r} (known: {[g.id for g in self.groups]})")

    @property
    def default_scenario_id(self) -> str:
        """The scenario a tool uses when none is named: ``default_scenario``, else the first."""
        if self.default_scenario is not None:
            return self.default_scenario
        if not self.scenarios:
            raise KeyError(f"scenario: study {self.id!r} has no scenarios")
        return self.scenarios[0].id

    def scenario_id(self, scenario: str | None) -> str:
        """``scenario`` checked, or the default scenario when it is None."""
        if scenario is None:
            return self.default_scenario_id
        self.scenario(scenario)
        return scenario

    def scenario(self, id: str) -> Scenario:
        for s in self.scenarios:
            if s.id == id:
                return s
        raise KeyError(f"scenario: unknown id {id!r} (known: {[s.id for s in self.scenarios]})")

    def source(self, id: str) -> Source:
        for s in self.sources:
            if s.id == id:
                return s
        raise KeyError(f"source: unknown id {id!r}")

    def audit(self):
        """Check the study's figures against each other; see :func:`hzforecast.audit.audit`."""
        from .audit import audit

        return audit(self)

    def to_frame(self, what: Literal["observations", "targets"] = "observations"):
        """The observations (or targets) as a pandas DataFrame, one row each, with sources."""
        from ._study_text import study_frame

        return study_frame(self, what)

    def summary(self, lang: str = "en") -> str:
        from ._study_text import study_summary

        return study_summary(self, lang=lang)

    def __str__(self) -> str:
        return (
            f"Study {self.id!r}: {len(self.indicators)} indicators, {len(self.targets)} "
            f"targets, {len(self.groups)} groups, {len(self.scenarios)} scenarios"
        )

    def _repr_html_(self) -> str:
        from ._study_text import study_html

        return study_html(self)

    def to_dict(self) -> dict:
        """Plain data (JSON types) for writing; ``Study.model_validate`` reads it back."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)
