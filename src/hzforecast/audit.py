"""Audit: do a study's figures add up?

Sources make mistakes — the Jiaozuo article prints a 2018 GDP of 14195亿元 in the
same sentence that says it grew 35-fold from 3.9亿元 — and so do people typing them in
(7 for 7%, 万元 for 亿元). :func:`audit` checks a study's figures against each other and
returns :class:`Finding` objects; it never changes the study. Corrections live in the study
as marked alternatives (:class:`~hzforecast.spec.Correction`) next to the figure as stated.

The audit is a list of small checks (:data:`CHECKS`), each a function from a study to its
findings.

Checks
------
``multiple-mismatch`` / ``multiple-ok``
    A stated multiple (增长N倍) against the levels it relates. On a mismatch,
    readings of the later figure shifted by powers of ten that would fit are
    suggested, and a carried correction is checked.
``correction``
    A stated figure carries a corrected alternative (reported, never applied silently).
``unit-jump``
    Two observations whose growth is implausible but becomes ordinary when one of them is
    read in another unit (×100 for a percentage, ×10⁴ for 万/亿, ×10⁸ for 元/亿): the likely
    slip is named.
``implausible-history``
    A historical CAGR above :data:`IMPLAUSIBLE_CAGR` over several years.
``history-vs-plan``
    The historical CAGR against a growth target of the plan.
``per-capita``
    A per-capita figure against its total: the implied population (or employment).
``series-break``
    Two observations of an indicator under different statistical definitions.
``part-of``
    A part larger than its whole is an error; otherwise its share is reported.
``target-met`` / ``target-missed``
    A target whose year is observed is evaluated, not forecast.
``target-already-met``
    The last observation already meets a later target.
``target-implausible``
    The required CAGR exceeds :data:`IMPLAUSIBLE_CAGR`.
``target-unit``
    A level target that needs an absurd growth (or decline) from the last observation,
    and an ordinary one if the target or the observation were in another unit.
``no-baseline``
    A level target on an indicator with no observation: scenarios must assume
    a starting level, or the target cannot be assessed.
``implausible-assumption``
    A scenario's median growth above :data:`IMPLAUSIBLE_CAGR` a year, or a volatility
    above :data:`IMPLAUSIBLE_VOLATILITY` (study validation refuses outright nonsense;
    these are merely implausible).
``assumption-vs-history``
    A scenario's median growth far (more than :data:`HISTORY_GAP` a year) from the
    indicator's own history.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ._scales import cagr
from ._words import Bilingual, say
from .spec import Study, Target

#: The reading of a figure, in Chinese.
_LABEL_ZH = {"stated": "原文", "alternative": "修正"}

__all__ = [
    "CHECKS",
    "HISTORY_GAP",
    "IMPLAUSIBLE_CAGR",
    "IMPLAUSIBLE_VOLATILITY",
    "AuditResult",
    "Finding",
    "audit",
    "required_cagr",
]

#: A sustained growth rate above this (50% a year) is flagged as implausible.
IMPLAUSIBLE_CAGR = 0.5
#: A yearly volatility above this (log scale) is flagged: Chinese provincial indicators
#: swing by at most about 0.25 a year (docs/reference.md).
IMPLAUSIBLE_VOLATILITY = 0.3
#: A scenario growth this far from the indicator's history (in growth a year) is reported.
HISTORY_GAP = 0.15
#: Relative tolerance for a stated multiple: 增长35倍 is a rounded figure.
MULTIPLE_RTOL = 0.05
#: Unit slips the audit recognises: the factor, and what it usually means.
UNIT_SLIPS = {
    100.0: "a percentage typed as a number",
    1e4: "万 for 亿 (or 元 for 万)",
    1e8: "元 for 亿",
}
#: A growth rate that is ordinary for a regional indicator (for the unit-slip checks).
ORDINARY = (-0.2, 0.4)

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    """One audit finding.

    Attributes
    ----------
    severity : {"error", "warning", "info"}
    code : str
        Machine-readable kind of finding (see the module docstring).
    indicator : str or None
    message : str
    numbers : dict
        The figures behind the message.
    """

    severity: Severity
    code: str
    indicator: str | None
    message: str
    numbers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class AuditResult:
    """The findings of :func:`audit`, errors first."""

    study_id: str
    findings: tuple[Finding, ...]

    def __len__(self) -> int:
        return len(self.findings)

    def __iter__(self):
        return iter(self.findings)

    def by_code(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.code == code]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "severity": f.severity,
                    "code": f.code,
                    "indicator": f.indicator,
                    "message": f.message,
                    "numbers": dict(f.numbers),
                }
                for f in self.findings
            ],
            columns=["severity", "code", "indicator", "message", "numbers"],
        )

    def __str__(self) -> str:
        return self.text()

    def text(self, lang: str = "en", *, width: int = 100) -> str:
        """The findings as terminal text, wrapped to ``width`` display cells, in ``lang``
        (a finding's message in Chinese where it carries one)."""
        from ._study_text import check_lang, wrap

        zh = check_lang(lang) == "zh"
        if not self.findings:
            return (
                f"审核“{self.study_id}”:无发现。"
                if zh
                else f"Audit of {self.study_id!r}: no findings."
            )
        counts = {
            s: sum(f.severity == s for f in self.findings) for s in ("error", "warning", "info")
        }
        head = (
            f"审核“{self.study_id}”:{counts['error']} 个错误,{counts['warning']} 个警告,"
            f"{counts['info']} 条提示"
            if zh
            else f"Audit of {self.study_id!r}: {counts['error']} error(s), "
            f"{counts['warning']} warning(s), {counts['info']} note(s)"
        )
        tags = (
            {"error": "错误", "warning": "警告", "info": "提示"}
            if zh
            else {"error": "ERROR", "warning": "WARN ", "info": "info "}
        )
        lines = wrap(head, width)
        for f in self.findings:
            who = f"[{f.indicator}] " if f.indicator else ""
            lines += wrap(
                f"  {tags[f.severity]} {f.code}: {who}{say(f.message, lang)}", width, "      "
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from html import escape

        colours = {"error": "#b00020", "warning": "#a15c00", "info": "#555"}
        rows = "".join(
            f"<tr><td style='color:{colours[f.severity]};font-weight:bold'>{f.severity}</td>"
            f"<td>{escape(f.code)}</td><td>{escape(f.indicator or '')}</td>"
            f"<td style='text-align:left'>{escape(f.message)}</td></tr>"
            for f in self.findings
        )
        return (
            f"<p><b>Audit of {escape(self.study_id)}</b></p><table><thead><tr><th>severity"
            f"</th><th>code</th><th>indicator</th><th>message</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


def required_cagr(x0: float, threshold: float, years: float) -> float:
    """CAGR needed to go from ``x0`` to ``threshold`` in ``years`` years: (K/x0)^(1/T) − 1."""
    if years <= 0:
        raise ValueError(f"years: must be positive, got {years}")
    if x0 <= 0 or threshold <= 0:
        raise ValueError(f"x0 and threshold: must be positive, got {x0} and {threshold}")
    return cagr(x0, threshold, years)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _readings(obs):
    yield "stated", obs.value
    if obs.correction is not None:
        yield "alternative", obs.correction.value


def _ordinary(g: float) -> bool:
    return ORDINARY[0] <= g <= ORDINARY[1]


def _unit_slip(x0: float, x1: float, years: float) -> tuple[float, float] | None:
    """(factor, growth) when x0 → x1 is an absurd growth that one of :data:`UNIT_SLIPS`
    makes ordinary (the factor divides x1 when > 1, multiplies it when < 1)."""
    g = cagr(x0, x1, years)
    if -0.5 <= g <= 1.0:
        return None
    for factor in UNIT_SLIPS:
        f = factor if x1 > x0 else 1 / factor
        g_fixed = cagr(x0, x1 / f, years)
        if _ordinary(g_fixed):
            return f, g_fixed
    return None


# ----------------------------------------------------------------------------- checks


def check_corrections(study: Study) -> list[Finding]:
    """Corrections carried in the study are reported, never applied silently."""
    out = []
    for i in study.indicators:
        for o in i.observations:
            if o.correction is not None:
                out.append(
                    Finding(
                        "warning",
                        "correction",
                        i.id,
                        Bilingual(
                            f"{o.year}: the source states {o.text or _fmt(o.value)} "
                            f"({_fmt(o.value)} {i.unit}); the study carries the alternative "
                            f"{_fmt(o.correction.value)} {i.unit} (assumed: "
                            f"{o.correction.rationale})",
                            f"{o.year}年:原文为{o.text or _fmt(o.value)};研究采用修正值"
                            f"{_fmt(o.correction.value)}{i.unit}(假设:{o.correction.rationale})",
                        ),
                        {"year": o.year, "stated": o.value, "alternative": o.correction.value},
                    )
                )
    return out


def check_claims(study: Study) -> list[Finding]:
    """Stated multiples, per-capita figures and parts of wholes against the figures."""
    ind = {i.id: i for i in study.indicators}
    out = []
    for c in study.claims:
        indicator = ind[c.indicator]
        if c.kind == "multiple":
            out.extend(_check_multiple(c, indicator))
            continue
        a, b = indicator.observation(c.year), ind[c.other].observation(c.year)
        code = "per-capita" if c.kind == "per_capita" else "part-of"
        if c.kind == "part_of" and a is not None and b is None:
            out.extend(_part_bounds_whole(study, c, a, ind[c.other]))
            continue
        if a is None or b is None:
            out.append(
                Finding(
                    "warning",
                    code,
                    c.indicator,
                    f"claim {c.id}: no observation of both figures in {c.year}",
                )
            )
        elif c.kind == "per_capita":
            out.append(_per_capita(c, a, b, ind[c.other].unit))
        else:
            out.append(_part_of(c, a, b, indicator.unit))
    return out


def _part_bounds_whole(study: Study, c, a, whole) -> list[Finding]:
    """Only the part is observed: the whole is at least as large, and a target on the whole
    at or below the part is already met by the part alone."""
    out = [
        Finding(
            "info",
            "part-of",
            whole.id,
            Bilingual(
                f"claim {c.id}: {whole.id} is at least {_fmt(a.value)} {whole.unit} in {c.year} "
                f"(its part {c.indicator}); it has no observation of its own",
                f"关系 {c.id}:{c.year}年{whole.id}至少为{_fmt(a.value)}{whole.unit}(其组成部分"
                f"{c.indicator});它本身没有观测值",
            ),
            {"year": c.year, "lower_bound": a.value, "part": c.indicator},
        )
    ]
    for t in study.targets:
        if (
            t.indicator == whole.id
            and t.measure == "level"
            and t.judged == ">="
            and t.year >= c.year
            and a.value >= t.value
        ):
            out.append(
                Finding(
                    "info",
                    "target-already-met",
                    whole.id,
                    Bilingual(
                        f"target {t.id} ({t.describe(whole.unit)} in {t.year}) is already met "
                        f"in {c.year} by the part {c.indicator} alone ({_fmt(a.value)} "
                        f"{whole.unit})",
                        f"目标 {t.id}({t.year}年{t.describe(whole.unit, lang='zh')})在{c.year}"
                        "年仅凭其组成"
                        f"部分{c.indicator}({_fmt(a.value)}{whole.unit})即已达到",
                    ),
                    {"target": t.id, "year": c.year, "part_value": a.value},
                )
            )
    return out


def _per_capita(c, a, b, unit) -> Finding:
    pop = b.value / a.value * c.value
    qual = " (at least)" if b.qualifier in ("more_than", "at_least") else ""
    who = "employees" if c.per == "employees" else "people"
    what = "employment" if c.per == "employees" else "a population"
    return Finding(
        "info",
        "per-capita",
        c.indicator,
        Bilingual(
            f"{_fmt(b.value)} {unit} of {c.other} at {_fmt(a.value)} per "
            f"{_fmt(c.value)} {who} implies {what} of about {pop:,.0f}{qual} "
            f"({pop / 1e4:.3g}万人) in {c.year}",
            f"{c.other} {_fmt(b.value)}{unit}、每{_fmt(c.value)}"
            f"{'名从业人员' if c.per == 'employees' else '人'}{_fmt(a.value)},意味着{c.year}年"
            f"{'从业人员' if c.per == 'employees' else '人口'}约{pop / 1e4:.3g}万人"
            f"{'(至少)' if qual else ''}",
        ),
        {"total": b.value, "per_capita": a.value, "per": c.value, "population": pop,
         "of": c.per},
    )  # fmt: skip


def check_series_breaks(study: Study) -> list[Finding]:
    """Observations of one indicator under different statistical definitions: growth measured
    between them mixes the definitions."""
    out = []
    for i in study.indicators:
        obs = sorted(i.observations, key=lambda o: o.year)
        for a, b in itertools.pairwise(obs):
            if a.definition == b.definition:
                continue
            da = a.definition or "the indicator's definition"
            db = b.definition or "the indicator's definition"
            out.append(
                Finding(
                    "warning",
                    "series-break",
                    i.id,
                    Bilingual(
                        f"{a.year} follows {da}, {b.year} {db}: growth between them mixes two "
                        f"definitions (a CAGR of {_cagr_text(a.value, b.value, b.year - a.year)} "
                        "overstates or understates the change)",
                        f"{a.year}年口径为{da},{b.year}年为{db}:两者之间的增长混合了两种统计"
                        f"口径(年均增速{_cagr_text(a.value, b.value, b.year - a.year)}会高估或"
                        "低估实际变化)",
                    ),
                    {"from_year": a.year, "to_year": b.year, "from": da, "to": db},
                )
            )
    return out


def _cagr_text(a: float, b: float, years: int) -> str:
    if a > 0 and b > 0 and years > 0:
        return f"{cagr(a, b, years):.1%}"
    return "—"


def _part_of(c, a, b, unit) -> Finding:
    share = a.value / b.value
    numbers = {"part": a.value, "whole": b.value, "share": share}
    if share > 1 + 1e-12:
        return Finding(
            "error",
            "part-of",
            c.indicator,
            f"{c.indicator} ({_fmt(a.value)}) exceeds {c.other} ({_fmt(b.value)}) in "
            f"{c.year}, of which it is stated to be a part",
            numbers,
        )
    return Finding(
        "info",
        "part-of",
        c.indicator,
        Bilingual(
            f"{c.indicator} is {share:.1%} of {c.other} in {c.year} "
            f"({_fmt(a.value)} of {_fmt(b.value)} {unit})",
            f"{c.year}年{c.indicator}占{c.other}的{share:.1%}({_fmt(a.value)}/{_fmt(b.value)}"
            f"{unit})",
        ),
        numbers,
    )


def check_history(study: Study) -> list[Finding]:
    """Implausible sustained growth, and the history against the plan's growth targets."""
    growth_targets: dict[str, list[Target]] = {}
    for t in study.targets:
        if t.measure == "growth":
            growth_targets.setdefault(t.indicator, []).append(t)
    out = []
    for i in study.indicators:
        if i.kind not in ("level", "count") or len(i.observations) < 2:
            continue
        first, last = i.observations[0], i.observations[-1]
        span = last.year - first.year
        for label, x1 in _readings(last):
            if first.value <= 0 or x1 <= 0:
                continue
            g = cagr(first.value, x1, span)
            if g > IMPLAUSIBLE_CAGR and span >= 5:
                out.append(
                    Finding(
                        "warning",
                        "implausible-history",
                        i.id,
                        Bilingual(
                            f"{first.year}→{last.year} using the {label} figure {_fmt(x1)}: "
                            f"{g:.1%} a year for {span} years",
                            f"{first.year}→{last.year}年(采用{_LABEL_ZH.get(label, label)}数值"
                            f"{_fmt(x1)}):连续{span}年年均增长{g:.1%}",
                        ),
                        {"from": first.value, "to": x1, "years": span, "cagr": g, "reading": label},
                    )
                )
            for t in growth_targets.get(i.id, []):
                if t.year <= last.year:
                    continue
                out.append(
                    Finding(
                        "info",
                        "history-vs-plan",
                        i.id,
                        Bilingual(
                            f"history {first.year}→{last.year} ({label} figure) grew "
                            f"{g:.1%} a year; target {t.id} asks {t.describe()} in {t.year}",
                            f"历史{first.year}→{last.year}年({_LABEL_ZH.get(label, label)}数值)年均"
                            f"增长{g:.1%};目标 {t.id} 要求{t.year}年{t.describe(lang='zh')}",
                        ),
                        {"history_cagr": g, "target": t.id, "reading": label},
                    )
                )
    return out


def check_unit_jumps(study: Study) -> list[Finding]:
    """Consecutive observations whose growth is absurd in one unit and ordinary in another."""
    out = []
    for i in study.indicators:
        if i.kind not in ("level", "count"):
            continue
        obs = [o for o in i.observations if o.value > 0]
        for a, b in itertools.pairwise(obs):
            if b.correction is not None:  # the study already reads this figure differently
                continue
            slip = _unit_slip(a.value, b.value, b.year - a.year)
            if slip is None:
                continue
            factor, g_fixed = slip
            big = factor if factor > 1 else 1 / factor
            word = "larger" if factor > 1 else "smaller"
            out.append(
                Finding(
                    "error",
                    "unit-jump",
                    i.id,
                    f"{a.year}→{b.year}: {_fmt(a.value)} → {_fmt(b.value)} {i.unit} is "
                    f"{cagr(a.value, b.value, b.year - a.year):+.0%} a year; the {b.year} figure "
                    f"is about {big:g} times {word} than its history allows — "
                    f"{UNIT_SLIPS[big]}? Read as {_fmt(b.value / factor)} it grows "
                    f"{g_fixed:+.1%} a year",
                    {"from": a.value, "to": b.value, "factor": factor, "cagr_if_fixed": g_fixed},
                )
            )
    return out


def check_targets(study: Study) -> list[Finding]:
    """Each target against the observations: evaluated, already met, implausible, a unit
    slip, or without a baseline."""
    ind = {i.id: i for i in study.indicators}
    out = []
    for t in study.targets:
        out.extend(_check_target(t, ind[t.indicator], study))
    return out


def check_assumptions(study: Study) -> list[Finding]:
    """Scenario assumptions that are implausible, or far from the indicator's history."""
    out = []
    for sc in study.scenarios:
        years = sc.end_year - sc.base_year
        for a in sc.assumptions:
            ind = study.indicator(a.indicator)
            where = f"scenario {sc.id!r}"
            if a.volatility > IMPLAUSIBLE_VOLATILITY:
                out.append(
                    Finding(
                        "warning",
                        "implausible-assumption",
                        ind.id,
                        f"{where}: volatility {a.volatility:g} is a yearly swing of about "
                        f"±{a.volatility:.0%}; Chinese provincial indicators swing by at most "
                        f"about 25% — if {a.volatility:g} was meant as a percentage, write "
                        f"{a.volatility / 100:g}",
                        {"scenario": sc.id, "volatility": a.volatility},
                    )
                )
            if ind.kind == "share" or a.growth_scale != "rate":
                continue
            g = a.growth.median()
            if g > IMPLAUSIBLE_CAGR:
                out.append(
                    Finding(
                        "warning",
                        "implausible-assumption",
                        ind.id,
                        f"{where}: a median growth of {g:.0%} a year multiplies {ind.id} by "
                        f"{(1 + g) ** years:,.3g} in {years} years — if {g:g} was meant as a "
                        f"percentage, write {g / 100:g}",
                        {"scenario": sc.id, "growth": g},
                    )
                )
            hist = [o for o in ind.observations if o.value > 0 and o.year <= sc.base_year]
            if len(hist) >= 2:
                h = cagr(hist[0].value, _corrected(hist[-1]), hist[-1].year - hist[0].year)
                if abs(g - h) > HISTORY_GAP:
                    out.append(
                        Finding(
                            "info",
                            "assumption-vs-history",
                            ind.id,
                            Bilingual(
                                f"{where} assumes {g:.1%} a year (median); the history "
                                f"{hist[0].year}→{hist[-1].year} grew {h:.1%} a year",
                                f"{where}假设年增长{g:.1%}(中位数);历史{hist[0].year}→"
                                f"{hist[-1].year}年年均增长{h:.1%}",
                            ),
                            {"scenario": sc.id, "growth": g, "history_cagr": h},
                        )
                    )
    return out


def _corrected(o) -> float:
    return o.correction.value if o.correction is not None else o.value


#: The audit's checks, in order. Each takes a study and returns its findings.
CHECKS: tuple[Callable[[Study], list[Finding]], ...] = (
    check_corrections,
    check_claims,
    check_series_breaks,
    check_unit_jumps,
    check_history,
    check_targets,
    check_assumptions,
)


def audit(study: Study) -> AuditResult:
    """Check a study's figures against each other.

    Parameters
    ----------
    study : Study

    Returns
    -------
    AuditResult
        Findings sorted by severity (errors first), then in the order of :data:`CHECKS`.

    Examples
    --------
    >>> import hzforecast as hz
    >>> res = hz.audit(hz.load_study("jiaozuo-2019"))
    >>> f = res.by_code("multiple-mismatch")[0]
    >>> f.indicator, f.numbers["suggested"]
    ('gdp', 141.95)
    """
    out = [f for check in CHECKS for f in check(study)]
    order = {"error": 0, "warning": 1, "info": 2}
    out.sort(key=lambda f: order[f.severity])
    return AuditResult(study.id, tuple(out))


def _check_multiple(c, indicator):
    a = indicator.observation(c.from_year)
    b = indicator.observation(c.to_year)
    text = c.text or f"×{_fmt(c.value)}"
    if a is None or b is None:
        return [
            Finding(
                "warning",
                "multiple-unchecked",
                indicator.id,
                f"claim {c.id} ({text}): no observations in both {c.from_year} and {c.to_year}",
            )
        ]
    factor = b.value / a.value
    expected = c.value
    numbers = {"from": a.value, "to": b.value, "implied_factor": factor, "stated_factor": expected}
    if math.isclose(factor, expected, rel_tol=MULTIPLE_RTOL):
        return [
            Finding(
                "info",
                "multiple-ok",
                indicator.id,
                Bilingual(
                    f"{text} from {c.from_year} to {c.to_year}: {_fmt(a.value)} → "
                    f"{_fmt(b.value)} {indicator.unit} is ×{factor:.3g}, consistent with "
                    f"×{_fmt(expected)}",
                    f"{c.from_year}—{c.to_year}年{text}:{_fmt(a.value)} → {_fmt(b.value)}"
                    f"{indicator.unit}为×{factor:.3g},与×{_fmt(expected)}一致",
                ),
                numbers,
            )
        ]
    # suggest a reading of the later figure shifted by a power of ten (a lost decimal point)
    suggestions = []
    for k in range(-6, 7):
        if k == 0:
            continue
        cand = b.value * 10.0**k
        if math.isclose(cand / a.value, expected, rel_tol=MULTIPLE_RTOL):
            suggestions.append(round(cand, 10))
    alt = b.correction.value if b.correction is not None else None
    msg = (
        f"{text} from {c.from_year} to {c.to_year} means ×{_fmt(expected)}, but "
        f"{_fmt(a.value)} → {_fmt(b.value)} {indicator.unit} (as stated) is ×{factor:.4g}"
    )
    if suggestions:
        msg += (
            f"; {_fmt(suggestions[0])} {indicator.unit} would fit (×{suggestions[0] / a.value:.3g})"
        )
        numbers["suggested"] = suggestions[0]
    if alt is not None:
        ok = math.isclose(alt / a.value, expected, rel_tol=MULTIPLE_RTOL)
        msg += (
            f"; the study's alternative {_fmt(alt)} {indicator.unit} "
            f"{'fits' if ok else 'does not fit either'}"
        )
        numbers["alternative"] = alt
        numbers["alternative_fits"] = ok
    zh = (
        f"{c.from_year}—{c.to_year}年{text}意味着×{_fmt(expected)},但{_fmt(a.value)} → "
        f"{_fmt(b.value)}{indicator.unit}(原文)为×{factor:.4g}"
    )
    if suggestions:
        zh += f";若为{_fmt(suggestions[0])}{indicator.unit}则相符(×{suggestions[0] / a.value:.3g})"
    if alt is not None:
        zh += f";研究采用的修正值{_fmt(alt)}{indicator.unit}{'相符' if ok else '也不相符'}"
    return [Finding("error", "multiple-mismatch", indicator.id, Bilingual(msg, zh), numbers)]


def _check_target(t: Target, indicator, study):
    unit = indicator.unit if t.measure == "level" else ""
    what = f"target {t.id} ({t.describe(unit)} in {t.year})"
    what_zh = f"目标 {t.id}({t.year}年{t.describe(unit, lang='zh')})"
    obs = indicator.observations
    if t.measure == "level" and not obs and indicator.derived is None:
        return [_no_baseline(t, indicator, study, what, what_zh)]
    if t.measure != "level" or not obs:
        if t.measure in ("growth", "cagr") and obs:
            return _evaluate_growth_target(t, indicator, what)
        return []
    # an observed target year is evaluated, not forecast
    o = indicator.observation(t.year)
    if o is not None:
        met = bool(t.met_by(o.value))
        return [
            Finding(
                "info",
                "target-met" if met else "target-missed",
                indicator.id,
                f"{what}: observed {_fmt(o.value)} in {t.year}: {'met' if met else 'missed'} "
                f"(evaluated from the observation, not forecast)",
                {"target": t.id, "observed": o.value, "met": met},
            )
        ]
    last = obs[-1]
    if last.year >= t.year:
        return []
    years = t.year - last.year
    out = []
    for label, x0 in _readings(last):
        if x0 > 0 and t.value > 0 and indicator.kind in ("level", "count"):
            slip = _unit_slip(x0, t.value, years)
            if slip is not None:
                factor, g_fixed = slip
                out.append(
                    Finding(
                        "error",
                        "target-unit",
                        indicator.id,
                        f"{what}: from the {label} {last.year} figure {_fmt(x0)} it needs "
                        f"{cagr(x0, t.value, years):+.0%} a year; with the target "
                        f"{'divided' if factor > 1 else 'multiplied'} by "
                        f"{max(factor, 1 / factor):g} ({UNIT_SLIPS[max(factor, 1 / factor)]}?) "
                        f"it would need {g_fixed:+.1%} — check the units of both",
                        {"target": t.id, "factor": factor, "from": x0},
                    )
                )
                continue
        if bool(t.met_by(x0)) and t.judged == ">=":
            out.append(
                Finding(
                    "info",
                    "target-already-met",
                    indicator.id,
                    f"{what}: already met by the {label} {last.year} figure {_fmt(x0)}",
                    {"target": t.id, "last": x0},
                )
            )
            continue
        if t.judged in (">=", "between") and x0 > 0 and t.value > 0:
            req = required_cagr(x0, t.value, years)
            if req > IMPLAUSIBLE_CAGR:
                out.append(
                    Finding(
                        "warning",
                        "target-implausible",
                        indicator.id,
                        f"{what}: needs {req:.1%} a year from the {label} {last.year} figure "
                        f"{_fmt(x0)}",
                        {"target": t.id, "required_cagr": req, "from": x0},
                    )
                )
    return out


def _no_baseline(t, indicator, study, what, what_zh) -> Finding:
    has_start = any(
        (a := sc.assumption(indicator.id)) is not None and a.start is not None
        for sc in study.scenarios
    )
    if has_start:
        msg = Bilingual(
            f"{what}: no observed level; scenarios assume a starting level, so the "
            f"answer rests on that assumption",
            f"{what_zh}:没有观测值;情景假设了起点,结论取决于该假设",
        )
    else:
        msg = Bilingual(
            f"{what}: no observed level and no scenario assumes one; it cannot be assessed "
            f"until a starting level is supplied",
            f"{what_zh}:没有观测值,也没有情景假设起点;补充起点之前无法评估",
        )
    return Finding("warning", "no-baseline", indicator.id, msg, {"target": t.id})


def _evaluate_growth_target(t, indicator, what):
    hist = indicator.history()
    base = t.base_year if t.measure == "cagr" else t.year - 1
    if base is None or t.year not in hist or base not in hist:
        return []
    g = cagr(hist[base], hist[t.year], t.year - base)
    met = bool(t.met_by(g))
    return [
        Finding(
            "info",
            "target-met" if met else "target-missed",
            indicator.id,
            f"{what}: observed {g:.2%} — {'met' if met else 'missed'} (evaluated from the "
            f"observations, not forecast)",
            {"target": t.id, "observed": g, "met": met},
        )
    ]
