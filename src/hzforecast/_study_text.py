"""A study for people: its figures as a pandas frame, terminal text and notebook HTML.

Every figure is shown with the sentence it came from; alternatives the study carries are
marked as assumed.
"""

from __future__ import annotations

from html import escape

from .spec import Study

__all__ = [
    "LANGS",
    "check_lang",
    "display_width",
    "format_value",
    "md",
    "study_frame",
    "study_html",
    "study_summary",
    "wrap",
]

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


def md(text) -> str:
    """Text from a study made inert in Markdown: HTML and Markdown syntax escaped, line
    breaks joined, table bars escaped (the HTML report escapes the same text as HTML)."""
    s = " ".join(str(text).split())
    s = escape(s, quote=False)  # < > & : no raw HTML reaches a Markdown renderer
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s)


# every cell and item starts after "| " or "- ", so only inline syntax needs escaping:
# emphasis, code, links and images (brackets), strike-through, table bars
_MD_SPECIAL = set("\\`*_[]|~")


def display_width(s: str) -> int:
    """Columns a string takes in a terminal: CJK (wide and full-width) characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def wrap(text: str, width: int, indent: str = "") -> list[str]:
    """Text wrapped to ``width`` display cells: at spaces, and between any two Chinese
    characters (which need no space to break)."""
    lines: list[str] = []
    line, last_break = "", -1
    for ch in text:
        line += ch
        if ch == " " or display_width(ch) == 2:
            last_break = len(line)
        if display_width(line) > width:
            cut = last_break if 0 < last_break < len(line) else len(line) - 1
            lines.append(line[:cut].rstrip())
            line = indent + line[cut:].lstrip()
            last_break = -1
    if line.strip():
        lines.append(line)
    return lines
