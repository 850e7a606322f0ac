"""Tables of a study for people: pandas frames, terminal text and notebook HTML."""

from __future__ import annotations

from html import escape

from .spec import Study

__all__ = ["format_value", "study_frame", "study_html", "study_summary"]

LANGS = ("en", "zh")


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang: expected one of {list(LANGS)}, got {lang!r}")
    return lang


def format_value(value: float, unit: str, kind: str = "level") -> str:
    """A value in its unit as a person reads it (a share as %)."""
    if kind == "share" or unit == "%":
        return f"{value * 100:.4g}%"
    if abs(value) >= 1e4 and unit in ("元",):
        return f"{value:,.0f}{unit}"
    return f"{value:.6g}{unit}"


def study_frame(study: Study, what: str = "observations"):
    import pandas as pd

    if what == "observations":
        rows = []
        for i in study.indicators:
            for o in i.observations:
                rows.append(
                    {
                        "indicator": i.id,
                        "name_zh": i.name_zh,
                        "name_en": i.name_en,
                        "year": o.year,
                        "value": o.value,
                        "unit": i.unit,
                        "kind": i.kind,
                        "text": o.text,
                        "qualifier": o.qualifier,
                        "source": o.source,
                        "quote": o.quote,
                        "alternative": o.correction.value if o.correction else None,
                    }
                )
        return pd.DataFrame(rows)
    if what == "targets":
        groups = {}
        for g in study.groups:
            for tid in g.targets:
                groups.setdefault(tid, []).append(g.id)
        rows = []
        for t in study.targets:
            ind = study.indicator(t.indicator)
            rows.append(
                {
                    "target": t.id,
                    "indicator": t.indicator,
                    "year": t.year,
                    "measure": t.measure,
                    "comparator": t.comparator,
                    "value": t.value,
                    "high": t.high,
                    "unit": ind.unit if t.measure == "level" else "growth",
                    "status": t.status,
                    "text": t.text,
                    "source": t.source,
                    "quote": t.quote,
                    "rationale": t.rationale,
                    "groups": ",".join(groups.get(t.id, [])),
                }
            )
        return pd.DataFrame(rows)
    raise ValueError(f"what: expected 'observations' or 'targets', got {what!r}")


def study_summary(study: Study, lang: str = "en") -> str:
    check_lang(lang)
    name = study.name_zh if lang == "zh" else study.name_en
    lines = [f"{name} [{study.id}]"]
    lines.append("Indicators:" if lang == "en" else "指标:")
    for i in study.indicators:
        iname = i.name_zh if lang == "zh" else i.name_en
        if i.derived is not None:
            op = " × " if i.derived.op == "product" else " / "
            lines.append(f"  {i.id:<30} {iname} = {op.join(i.derived.of)}")
            continue
        if not i.observations:
            lines.append(f"  {i.id:<30} {iname}: (no observation)")
            continue
        for o in i.observations:
            alt = (
                f"  [alternative {format_value(o.correction.value, i.unit, i.kind)}, assumed]"
                if o.correction
                else ""
            )
            shown = o.text or format_value(o.value, i.unit, i.kind)
            lines.append(f"  {i.id:<30} {o.year}: {shown}{alt}")
            if o.quote:
                lines.append(f"  {'':<30}   “{o.quote}” ({o.source})")
    lines.append("Targets:" if lang == "en" else "目标:")
    for t in study.targets:
        ind = study.indicator(t.indicator)
        unit = ind.unit if t.measure == "level" else ""
        tname = (t.name_zh if lang == "zh" else t.name_en) or t.id
        tag = "stated" if t.status == "stated" else "ASSUMED"
        lines.append(f"  {t.id:<36} {t.year} {t.describe(unit):<22} [{tag}] {tname}")
        if t.quote:
            lines.append(f"  {'':<36}   “{t.quote}” ({t.source})")
        if t.rationale:
            lines.append(f"  {'':<36}   why: {t.rationale}")
    for g in study.groups:
        gname = g.name_zh if lang == "zh" else g.name_en
        lines.append(f"Group {g.id} [{g.status}]: {gname} = all of {', '.join(g.targets)}")
    if study.scenarios:
        lines.append("Scenarios: " + ", ".join(f"{s.id} ({s.status})" for s in study.scenarios))
    return "\n".join(lines)


def study_html(study: Study, lang: str = "en") -> str:
    check_lang(lang)
    rows = []
    for i in study.indicators:
        iname = i.name_zh if lang == "zh" else i.name_en
        for o in i.observations:
            alt = ""
            if o.correction:
                shown = format_value(o.correction.value, i.unit, i.kind)
                alt = f" <span style='color:#a15c00'>(alt. {shown}, assumed)</span>"
            figure = escape(o.text or format_value(o.value, i.unit, i.kind))
            rows.append(
                f"<tr><td>{escape(i.id)}</td><td>{escape(iname)}</td><td>{o.year}</td>"
                f"<td title='{escape(o.quote or '')}'>{figure}"
                f"{alt}</td><td>{escape(o.source)}</td></tr>"
            )
    trows = []
    for t in study.targets:
        ind = study.indicator(t.indicator)
        unit = ind.unit if t.measure == "level" else ""
        colour = "#333" if t.status == "stated" else "#a15c00"
        trows.append(
            f"<tr><td>{escape(t.id)}</td><td>{t.year}</td><td>{escape(t.describe(unit))}</td>"
            f"<td style='color:{colour}'>{t.status}</td>"
            f"<td title='{escape(t.quote or t.rationale or '')}'>"
            f"{escape(t.source or 'analyst')}</td></tr>"
        )
    return (
        f"<p><b>{escape(study.name_zh)} / {escape(study.name_en)}</b> "
        f"<code>{escape(study.id)}</code></p>"
        "<details open><summary>Observations (hover a figure for its sentence)</summary><table>"
        "<thead><tr><th>id</th><th>indicator</th><th>year</th><th>figure</th><th>source</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></details>"
        "<details open><summary>Targets</summary><table><thead><tr><th>id</th><th>year</th>"
        "<th>threshold</th><th>status</th><th>source</th></tr></thead>"
        f"<tbody>{''.join(trows)}</tbody></table></details>"
    )


def _pct(x: float, digits: int = 1) -> str:
    import math

    return "—" if x is None or not math.isfinite(x) else f"{x * 100:.{digits}f}%"


_STATUS_ZH = {
    "on track": "进度正常",
    "needs acceleration": "需加速",
    "far off": "差距较大",
    "regressing": "倒退",
    "achieved": "已实现",
    "met at assumed start": "假设起点已达标",
    "met": "已达成",
    "missed": "未达成",
    "not assessable": "无法评估",
    "unknown": "未知",
}


def _threshold_text(r) -> str:
    t = r.target
    return t.describe(r.unit if t.measure == "level" else "")


def assessment_table(a, lang: str = "en") -> str:
    """Fixed-width table of an :class:`~hzforecast.assess.Assessment`."""
    check_lang(lang)
    head = (
        f"Scenario {a.scenario_id!r} — {a.n_paths:,} paths, method {a.method}"
        f"{f' ({a.n_replicates} scramblings)' if a.method == 'qmc' else ''}, "
        f"seed entropy {a.seed['entropy']}"
        f"{', shocks integrated analytically where possible' if a.smoothing else ''}"
    )
    cols = [
        "target",
        "year",
        "threshold",
        "src",
        "start",
        "required",
        "anticip.",
        "P(in year)",
        "P(by year)",
        "status",
    ]
    if lang == "zh":
        cols = [
            "目标",
            "年份",
            "阈值",
            "来源",
            "起点",
            "所需增速",
            "预期增速",
            "当年P",
            "截至当年P",
            "状态",
        ]
    rows = []
    for r in a.targets:
        t = r.target
        src = "stated" if t.status == "stated" else "ASSUMED"
        if lang == "zh":
            src = "原文" if t.status == "stated" else "假设"
        start = ""
        if (r.start_value is not None and r.start_kind != "observed") or r.start_kind == "assumed":
            start = {"corrected": "corr.", "assumed": "assumed"}.get(r.start_kind or "", "")
        elif r.start_year is not None:
            start = str(r.start_year)
        if not r.assessable:
            rows.append(
                [
                    t.id,
                    str(t.year),
                    _threshold_text(r),
                    src,
                    "",
                    "",
                    "",
                    "—",
                    "—",
                    (r.reason or "")[:70],
                ]
            )
            continue
        status = r.progress if lang == "en" else _STATUS_ZH.get(r.progress, r.progress)
        rows.append(
            [
                t.id,
                str(t.year),
                _threshold_text(r),
                src,
                start,
                _pct(r.required_growth),
                _pct(r.anticipated_growth),
                r.p_in_year.text(),
                r.p_by_year.text(),
                status,
            ]
        )
    for g in a.groups:
        label = f"group {g.group_id}" if lang == "en" else f"目标组 {g.group_id}"
        if not g.assessable:
            rows.append([label, "", "all met", "", "", "", "", "—", "—", (g.reason or "")[:70]])
        else:
            rows.append(
                [
                    label,
                    "",
                    "all met",
                    "",
                    "",
                    "",
                    "",
                    g.p_all_in_year.text(),
                    g.p_all_by_year.text(),
                    "",
                ]
            )
    widths = [max(_w(c), *(_w(row[i]) for row in rows)) for i, c in enumerate(cols)]
    lines = [head, "  ".join(_pad(c, w) for c, w in zip(cols, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip())
    if a.corrections:
        lines.append("Corrections used (assumed): " + "; ".join(c.short() for c in a.corrections))
    for note in a.notes:
        lines.append(f"Note: {note}")
    return "\n".join(lines)


def _w(s: str) -> int:
    """Display width: CJK characters take two columns."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, w: int) -> str:
    return s + " " * (w - _w(s))


def assessment_html(a, lang: str = "en") -> str:
    check_lang(lang)
    colours = {
        "on track": "#1b7a1b",
        "needs acceleration": "#a15c00",
        "far off": "#b00020",
        "regressing": "#b00020",
        "achieved": "#1b7a1b",
        "met": "#1b7a1b",
        "missed": "#b00020",
    }
    rows = []
    for r in a.targets:
        t = r.target
        tip = escape(t.quote or t.rationale or "")
        if not r.assessable:
            rows.append(
                f"<tr><td title='{tip}'>{escape(t.id)}</td><td>{t.year}</td>"
                f"<td>{escape(_threshold_text(r))}</td><td>{t.status}</td>"
                f"<td colspan='5' style='color:#777'>{escape(r.reason or '')}</td></tr>"
            )
            continue
        c = colours.get(r.progress, "#333")
        rows.append(
            f"<tr><td title='{tip}'>{escape(t.id)}</td><td>{t.year}</td>"
            f"<td>{escape(_threshold_text(r))}</td><td>{t.status}</td>"
            f"<td>{_pct(r.required_growth)}</td><td>{_pct(r.anticipated_growth)}</td>"
            f"<td>{escape(r.p_in_year.text())}</td><td>{escape(r.p_by_year.text())}</td>"
            f"<td style='color:{c};font-weight:bold'>{escape(r.progress)}</td></tr>"
        )
    for g in a.groups:
        if g.assessable:
            rows.append(
                f"<tr><td colspan='4'><b>group {escape(g.group_id)}</b> (all met)</td>"
                f"<td></td><td></td><td>{escape(g.p_all_in_year.text())}</td>"
                f"<td>{escape(g.p_all_by_year.text())}</td><td></td></tr>"
            )
    return (
        f"<p><b>{escape(a.study_id)}</b>, scenario <b>{escape(a.scenario_id)}</b>: "
        f"{a.n_paths:,} paths ({escape(a.method)}), seed entropy {a.seed['entropy']}</p>"
        "<table><thead><tr><th>target</th><th>year</th><th>threshold</th><th>source</th>"
        "<th>required growth</th><th>anticipated growth</th><th>P(in year) ± SE</th>"
        "<th>P(by year) ± SE</th><th>status</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
