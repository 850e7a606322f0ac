"""What an assessment returns: per target, per group, and for the whole run.

Results are frozen dataclasses built with keywords. What a number rests on travels as
fields — the start (year, value, observed / corrected / assumed), the corrections used
(:class:`~hzforecast._engine.CorrectionUsed`), the assumptions (:class:`AssumptionUsed`),
the Monte Carlo settings and the seed — never as prose other code parses back.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import numpy as np

from .._engine import CorrectionUsed
from ..spec import Assumption, Study, Target, TargetGroup
from .montecarlo import Estimate

__all__ = [
    "AT_RISK",
    "FAR_OFF",
    "LIKELY",
    "ON_TRACK",
    "PROBABLE",
    "Assessment",
    "AssumptionUsed",
    "GroupResult",
    "TargetResult",
    "paired_difference",
    "probability_status",
    "progress_status",
]

#: Progress thresholds of the Open SDG / Statistics Canada method on the ratio
#: anticipated growth / required growth.
ON_TRACK, FAR_OFF = 0.95, 0.60

#: The status of a target from the probability that it holds in its year: likely at or above
#: LIKELY, probable (more likely than not) at or above PROBABLE, at risk at or above AT_RISK,
#: else unlikely.
LIKELY, PROBABLE, AT_RISK = 0.8, 0.5, 0.2


def paired_difference(a, b) -> tuple[float, float]:
    """P(in year) of ``a`` minus that of ``b`` (two results of one target or group under two
    scenarios run with the same ``rng``, method and paths), and its Monte Carlo standard error.

    Common random numbers pair the runs batch by batch (plain and antithetic Monte Carlo:
    batches of 1,024 paths holding the same draws; QMC: the same scramblings), so the error
    is that of the batches' differences — far below √(SE_a² + SE_b²) when the scenarios
    share most of their randomness."""
    pa, pb = a.batches, b.batches
    if pa is None or pb is None:
        raise ValueError("paired_difference: both results need their batches (simulated targets)")
    (sa, na), (sb, nb) = pa, pb
    if na.shape != nb.shape or not np.array_equal(na, nb):
        raise ValueError(
            "paired_difference: the two results were not run on the same paths (give both "
            "scenarios the same rng, method and n_paths)"
        )
    n = float(na.sum())
    d = float(sa.sum() - sb.sum()) / n
    k = na.size
    if k < 2:
        return d, math.nan
    resid = (sa - sb) - d * na
    var = k / (k - 1) * float(np.sum(resid**2)) / n**2
    return d, math.sqrt(var)


def probability_status(p: float) -> str:
    """The status a probability of meeting a target gives it (docs/methods.md)."""
    if not math.isfinite(p):
        return "unknown"
    if p >= LIKELY:
        return "likely"
    if p >= PROBABLE:
        return "probable"
    if p >= AT_RISK:
        return "at risk"
    return "unlikely"


def progress_status(required: float, anticipated: float, *, achieved: bool = False) -> str:
    """Open SDG / Statistics Canada progress category.

    ``ratio = anticipated / required``: ≥ 0.95 on track, ≥ 0.60 needs acceleration,
    ≥ 0 far off, < 0 regressing. ``achieved`` when the start already meets the target
    (then no growth is required and the ratio is not defined).
    """
    if achieved:
        return "achieved"
    if not (math.isfinite(required) and math.isfinite(anticipated)) or required == 0:
        return "unknown"
    r = anticipated / required
    if r >= ON_TRACK:
        return "on track"
    if r >= FAR_OFF:
        return "needs acceleration"
    if r >= 0:
        return "far off"
    return "regressing"


@dataclass(frozen=True)
class AssumptionUsed:
    """One scenario assumption a result rests on, as data."""

    indicator: str
    growth: object  # a Distribution
    volatility: float
    start: object | None
    shocks: tuple
    status: str
    rationale: str | None
    source: str | None

    @classmethod
    def of(cls, a: Assumption) -> AssumptionUsed:
        return cls(
            a.indicator,
            a.growth,
            float(a.volatility),
            a.start,
            tuple(a.shocks),
            a.status,
            a.rationale,
            a.source,
        )

    @property
    def assumed(self) -> bool:
        return self.status == "assumed"

    def __str__(self) -> str:
        return self.text()

    def text(self, lang: str = "en") -> str:
        """The assumption in a line, in ``lang`` (the rationale is the study's own words)."""
        zh = lang == "zh"
        w = (
            {"growth": "增速", "volatility": "波动率", "start": "起点", "assumed": "假设",
             "stated": "原文", "dip": "骤降", "trend_change": "趋势变化"}
            if zh
            else {}
        )  # fmt: skip
        bits = [
            f"{w.get('growth', 'growth')} {self.growth.describe(lang=lang)}",
            f"{w.get('volatility', 'volatility')} {self.volatility:g}",
        ]
        if self.start is not None:
            bits.append(f"{w.get('start', 'start')} {self.start.describe(lang=lang)}")
        bits += [f"{w.get(s.kind, s.kind)} {s.year}" for s in self.shocks]
        why = f" — {self.rationale}" if self.rationale else ""
        sep = ",".join if zh else ", ".join
        return f"{self.indicator}: {sep(bits)} [{w.get(self.status, self.status)}]{why}"


@dataclass(frozen=True)
class TargetResult:
    """The assessment of one target.

    Attributes
    ----------
    target : Target
    unit : str
    assessable : bool
    reason : str or None
        Why it is not assessable, or how it was evaluated.
    p_in_year, p_by_year : Estimate or None
        P(the target holds in its year); P(it holds in some year up to it).
    required_growth : float
        The CAGR from the start to the threshold (a share: the change a year, in percentage
        points as a fraction — 0.002 is 0.2 pp a year; see ``growth_unit``).
    anticipated_growth : float
        The median over paths of each path's CAGR to the target year (a share: of its change
        a year; for a growth or CAGR target, the median of the measure itself).
    growth_unit : {"rate", "pp"}
        ``"rate"``: growth rates; ``"pp"``: a share's change in percentage points a year.
    ratio, progress : float, str
        anticipated / required and the Open SDG / Statistics Canada progress category
        (see :func:`progress_status`). The target's :attr:`status` comes from its probability.
    start_year, start_value, start_kind :
        Where the simulation of the target's indicator starts, and whether that start is
        ``"observed"``, ``"corrected"``, ``"assumed"`` or ``"derived"``.
    first_year : dict
        Year → P(first reached that year), and ``"not reached"``.
    by_year_curve : dict
        Year → P(reached by that year).
    value_quantiles, gap_quantiles : dict
        Quantiles of the target-year value and of its gap to the threshold.
    observed_value : float or None
        The observed value, for a target evaluated from an observation.
    """

    target: Target
    unit: str
    assessable: bool
    reason: str | None = None
    p_in_year: Estimate | None = None
    p_by_year: Estimate | None = None
    required_growth: float = np.nan
    anticipated_growth: float = np.nan
    ratio: float = np.nan
    progress: str = "not assessable"
    start_year: int | None = None
    start_value: float | None = None
    start_kind: str | None = None
    first_year: dict = field(default_factory=dict)
    by_year_curve: dict = field(default_factory=dict)
    value_quantiles: dict = field(default_factory=dict)
    gap_quantiles: dict = field(default_factory=dict)
    observed_value: float | None = None
    growth_unit: str = "rate"
    # P(in year)'s per-batch sums and paths (QMC: per replicate), for paired comparisons
    batches: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.target.id

    def __repr__(self) -> str:
        t = self.target
        head = f"<TargetResult {t.id}: {t.describe(self.unit if t.measure == 'level' else '')}"
        head += f" in {t.year}"
        if not self.assessable:
            return f"{head} — not assessable: {self.reason}>"
        return (
            f"{head} — P(in year) {self.p_in_year.text()}, P(by year) {self.p_by_year.text()}, "
            f"{self.status}>"
        )

    def _repr_html_(self) -> str:
        from html import escape

        return f"<code>{escape(repr(self))}</code>"

    @property
    def status(self) -> str:
        """From the probability that the target holds in its year: ``likely`` (≥ 0.8),
        ``probable`` (≥ 0.5), ``at risk`` (≥ 0.2), ``unlikely``; ``met`` / ``missed`` when it
        was evaluated from an observation; ``not assessable``."""
        if not self.assessable or self.p_in_year is None:
            return "not assessable"
        if self.observed_value is not None:
            return "met" if self.p_in_year.value == 1.0 else "missed"
        return probability_status(self.p_in_year.value)


@dataclass(frozen=True)
class GroupResult:
    """The probability that a group's rule holds (every target met, at least k of them, or a
    weighted score reached: ``group.rule``) in the targets' years, and by them.

    ``p_all_in_year`` / ``p_all_by_year`` keep their names for every rule."""

    group_id: str
    targets: tuple[str, ...]
    assessable: bool
    reason: str | None
    p_all_in_year: Estimate | None
    p_all_by_year: Estimate | None
    group: TargetGroup | None = None
    batches: tuple | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        rule = self.group.describe() if self.group is not None else "all met"
        head = f"<GroupResult {self.group_id} ({rule})"
        if not self.assessable:
            return f"{head} — not assessable: {self.reason}>"
        return (
            f"{head} — P(in year) {self.p_all_in_year.text()}, P(by year) "
            f"{self.p_all_by_year.text()}, {self.status}>"
        )

    @property
    def status(self) -> str:
        """From the probability that the rule holds, as for a target."""
        if not self.assessable or self.p_all_in_year is None:
            return "not assessable"
        return probability_status(self.p_all_in_year.value)


@dataclass(frozen=True, eq=False)
class Assessment:
    """P(reach) for every target of a study under one scenario.

    Render with ``str()``, ``to_frame()`` or in a notebook; the Monte Carlo
    settings (method, N, seed) and what the numbers rest on (``corrections``,
    ``assumptions``, ``notes``) travel with the numbers.
    """

    study_id: str
    scenario_id: str
    method: str
    n_paths: int
    n_replicates: int
    seed: dict
    smoothing: bool
    targets: tuple[TargetResult, ...]
    groups: tuple[GroupResult, ...]
    corrections: tuple[CorrectionUsed, ...]
    notes: tuple[str, ...]
    assumptions: tuple[AssumptionUsed, ...]
    scenario_name_zh: str | None = None
    scenario_name_en: str | None = None
    # runs of doubling size when assess(..., target_se=...) was asked: paths, the largest SE,
    # and every target's P and SE (for plot.convergence)
    convergence: tuple = ()

    @property
    def assumed(self) -> tuple[str, ...]:
        """The assumptions as text, one line each."""
        return tuple(str(a) for a in self.assumptions)

    def __getitem__(self, target_id: str) -> TargetResult:
        for r in self.targets:
            if r.target.id == target_id:
                return r
        raise KeyError(
            f"target: {target_id!r} was not assessed (have {[r.id for r in self.targets]})"
        )

    def group(self, group_id: str) -> GroupResult:
        for g in self.groups:
            if g.group_id == group_id:
                return g
        raise KeyError(f"group: {group_id!r} was not assessed")

    def save(self, path):
        """Write the assessment to ``path`` as versioned, strict JSON (atomically); read it back
        with :func:`hzforecast.load_assessment`."""
        from .persist import save

        return save(self, path)

    def to_csv(self, path, *, bom: bool = True):
        """:meth:`to_frame` as CSV (UTF-8 with a byte-order mark, so that Excel shows Chinese;
        ``bom=False`` without), written atomically."""
        from .._files import atomic_write

        text = self.to_frame().to_csv(index=False, float_format="%.10g", lineterminator="\n")
        atomic_write(path, ("\ufeff" if bom else "") + text)

    def to_excel(self, path):
        """An .xlsx workbook (the optional extra ``hzforecast[excel]``, openpyxl): the results,
        the assumptions, and a sheet of what the numbers rest on (study, scenario, method,
        paths, seed, corrections, notes). Written to a temporary file and renamed."""
        import os
        import tempfile

        import pandas as pd

        try:
            import openpyxl  # noqa: F401
        except ImportError:
            raise ImportError(
                "to_excel: needs openpyxl — pip install 'hzforecast[excel]'"
            ) from None
        about = pd.DataFrame(
            {
                "item": ["study", "scenario", "method", "paths", "seed", "smoothing"]
                + ["correction"] * len(self.corrections)
                + ["note"] * len(self.notes),
                "value": [self.study_id, self.scenario_id, self.method, self.n_paths,
                          str(self.seed), self.smoothing]
                + [str(c) for c in self.corrections]
                + [str(n) for n in self.notes],
            }
        )  # fmt: skip
        assumed = pd.DataFrame(
            [
                {
                    "indicator": u.indicator,
                    "growth": u.growth.describe(),
                    "volatility": u.volatility,
                    "start": None if u.start is None else u.start.describe(),
                    "status": u.status,
                    "rationale": u.rationale,
                    "source": u.source,
                }
                for u in self.assumptions
            ]
        )
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=folder)
        os.close(fd)
        try:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                self.to_frame().to_excel(xw, sheet_name="results", index=False)
                assumed.to_excel(xw, sheet_name="assumptions", index=False)
                about.to_excel(xw, sheet_name="about", index=False)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return path

    def to_frame(self):
        """One row per target, then one per group, with every reported number."""
        import pandas as pd

        rows = []
        for r in self.targets:
            t = r.target
            row = {
                "kind": "target",
                "id": t.id,
                "indicator": t.indicator,
                "year": t.year,
                "measure": t.measure,
                "threshold": t.describe(r.unit if t.measure == "level" else ""),
                "status": t.status,
                "assessable": r.assessable,
                "reason": r.reason,
            }
            row.update(_estimate_columns(r.p_in_year, r.p_by_year))
            row.update(
                required_growth=r.required_growth,
                anticipated_growth=r.anticipated_growth,
                ratio=r.ratio,
                progress=r.progress,
                start_year=r.start_year,
                start_value=r.start_value,
                start_kind=r.start_kind,
            )
            rows.append(row)
        for g in self.groups:
            row = {
                "kind": "group",
                "id": g.group_id,
                "indicator": "",
                "year": np.nan,
                "measure": "all of " + ",".join(g.targets),
                "threshold": "",
                "status": "",
                "assessable": g.assessable,
                "reason": g.reason,
            }
            row.update(_estimate_columns(g.p_all_in_year, g.p_all_by_year))
            rows.append(row)
        return pd.DataFrame(rows)

    def table(self, lang: str = "en", *, width: int = 100) -> str:
        """A text table at most ``width`` display cells wide (the command line's output)."""
        from .table import text_table

        return text_table(self, lang, width=width)

    def __str__(self) -> str:
        return self.table()

    def to_html(self, lang: str = "en") -> str:
        """An HTML table (``lang`` "en", the default, or "zh")."""
        from .table import html_table

        return html_table(self, lang)

    def _repr_html_(self) -> str:
        return self.to_html()


def _estimate_columns(p_in: Estimate | None, p_by: Estimate | None) -> dict:
    row = {}
    for name, e in (("p_in_year", p_in), ("p_by_year", p_by)):
        row[name] = e.value if e else np.nan
        row[f"{name}_se"] = e.se if e else np.nan
        row[f"{name}_low"] = e.low if e else np.nan
        row[f"{name}_high"] = e.high if e else np.nan
        row[f"{name}_text"] = e.text() if e else ""
    return row


def assumptions_of(study: Study, scenario_id: str) -> tuple[AssumptionUsed, ...]:
    return tuple(AssumptionUsed.of(a) for a in study.scenario(scenario_id).assumptions)


def target_not_assessable(t: Target, unit: str, reason: str) -> TargetResult:
    return TargetResult(target=t, unit=unit, assessable=False, reason=reason)
