"""The assessment table, once: a row model and one label table (English and Chinese), drawn
as terminal text, notebook or report HTML, and Markdown.

:func:`rows` turns an :class:`~.results.Assessment` into :class:`Row` records — the only
place that decides what the table says. :func:`text_table` fits a terminal (100 columns by
default, measured in display cells: a Chinese character takes two), :func:`html_table` and
:func:`markdown_table` draw the same rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from .._study_text import check_lang, display_width, md, wrap
from .._words import say
from ..spec import Target

__all__ = ["LABELS", "Row", "html_table", "markdown_table", "rows", "text_table", "threshold_text"]

#: Every word the tables use, in English and in Chinese.
LABELS = {
    "en": {
        "target": "target",
        "year": "year",
        "threshold": "threshold",
        "src": "src",
        "source": "source",
        "start": "start",
        "required": "needs",
        "anticipated": "expects",
        "required_long": "required growth",
        "anticipated_long": "anticipated growth",
        "p_in": "P(in year)",
        "p_by": "P(by year)",
        "status": "status",
        "progress": "progress (Open SDG)",
        "stated": "stated",
        "assumed": "assumed",
        "stated_short": "S",
        "assumed_short": "A",
        "start_short": {"observed": "o", "corrected": "c", "assumed": "a", "derived": "d"},
        "group": "group",
        "all_met": "all met",
        "scenario": "Scenario",
        "paths": "paths",
        "seed": "seed",
        "replicates": "scramblings",
        "methods": {
            "mc": "Monte Carlo",
            "antithetic": "antithetic pairs",
            "qmc": "quasi-Monte Carlo",
        },
        "growth": "growth",
        "cagr": "CAGR",
        "corrections": "Corrections used (assumed)",
        "note": "Note",
        "legend": (
            "src: the target S stated in the source or A assumed; its start o observed, "
            "c a corrected reading, a assumed. needs: the growth a year that reaches the target "
            "from the start; expects: the scenario's median. P(in year): the target holds in its "
            "year; P(by year): in some year up to it; ± Monte Carlo standard error. status: "
            "likely P ≥ 0.8, probable 0.5–0.8, at risk 0.2–0.5, unlikely < 0.2. A range marked * "
            "is met at its lower end (the planners' reading); a share's growth is in percentage "
            "points a year. The scenario's assumptions are listed with the result."
        ),
        "corr": "corr.",
        "assumed_start": "assumed",
    },
    "zh": {
        "target": "目标",
        "year": "年份",
        "threshold": "阈值",
        "src": "来源",
        "source": "来源",
        "start": "起点",
        "required": "所需增速",
        "anticipated": "预期增速",
        "required_long": "所需年均增速",
        "anticipated_long": "情景预期增速",
        "p_in": "当年达成",
        "p_by": "截至当年",
        "status": "状态",
        "progress": "进度(Open SDG)",
        "stated": "原文",
        "assumed": "假设",
        "stated_short": "原",
        "assumed_short": "设",
        "start_short": {"observed": "观", "corrected": "修", "assumed": "假", "derived": "派"},
        "group": "目标组",
        "all_met": "全部达成",
        "scenario": "情景",
        "paths": "条路径",
        "seed": "随机种子",
        "replicates": "组随机化",
        "methods": {"mc": "蒙特卡洛", "antithetic": "对偶变量", "qmc": "拟蒙特卡洛"},
        "growth": "增速",
        "cagr": "年均增速",
        "corrections": "采用的修正值(假设)",
        "note": "说明",
        "legend": (
            "来源:目标为原文所述(原)或分析假设(设);起点为观测值(观)、修正值(修)或假设值"
            "(假)。所需增速:自起点达到目标所需的年均增速;预期增速:情景的中位数。当年达成:"
            "目标年份达到目标的概率;截至当年:在目标年份及之前任一年达到的概率;± 为蒙特卡洛"
            "标准误。状态:很可能 P ≥ 0.8,较可能 0.5–0.8,有风险 0.2–0.5,不太可能 < 0.2。标 * 的"
            "区间目标以达到下限为完成(规划考核口径);比重的增速以每年百分点计。情景假设随结果列出。"
        ),
        "corr": "修正",
        "assumed_start": "假设",
    },
}

#: Status (from the probability) and progress categories: a short label (terminal) and a
#: full one, by language.
STATUS = {
    "likely": {"en": ("likely", "likely (P ≥ 0.8)"), "zh": ("很可能", "很可能(P ≥ 0.8)")},
    "probable": {
        "en": ("probable", "more likely than not (0.5 ≤ P < 0.8)"),
        "zh": ("较可能", "较可能(0.5 ≤ P < 0.8)"),
    },
    "at risk": {
        "en": ("at risk", "at risk (0.2 ≤ P < 0.5)"),
        "zh": ("有风险", "有风险(0.2 ≤ P < 0.5)"),
    },
    "unlikely": {"en": ("unlikely", "unlikely (P < 0.2)"), "zh": ("不太可能", "不太可能(P < 0.2)")},
    "on track": {"en": ("on track", "on track"), "zh": ("进度正常", "进度正常")},
    "needs acceleration": {"en": ("speed up", "needs acceleration"), "zh": ("需加速", "需加速")},
    "far off": {"en": ("far off", "far off"), "zh": ("差距较大", "差距较大")},
    "regressing": {"en": ("regressing", "regressing"), "zh": ("倒退", "倒退")},
    "achieved": {"en": ("achieved", "achieved"), "zh": ("已实现", "已实现")},
    "met at assumed start": {
        "en": ("start met*", "met at assumed start"),
        "zh": ("起点达标*", "假设起点已达标"),
    },
    "met": {"en": ("met", "met"), "zh": ("已达成", "已达成")},
    "missed": {"en": ("missed", "missed"), "zh": ("未达成", "未达成")},
    "not assessable": {"en": ("n/a", "not assessable"), "zh": ("无法评估", "无法评估")},
    "unknown": {"en": ("unknown", "unknown"), "zh": ("未知", "未知")},
}


def status_text(code: str, lang: str, *, short: bool = False) -> str:
    pair = STATUS.get(code, {}).get(lang)
    return code if pair is None else pair[0 if short else 1]


def growth_text(x: float | None, unit: str, lang: str = "en", *, compact: bool = False) -> str:
    """A growth rate as a percentage, or a share's change a year in percentage points
    (``compact``: "+0.20pp", the legend says a year)."""
    if unit != "pp":
        return pct(x)
    if x is None or not math.isfinite(x):
        return "—"
    if compact:
        return f"{x * 100:+.2f}pp"
    return f"{x * 100:+.2f} pp/yr" if lang == "en" else f"{x * 100:+.2f}个百分点/年"


def rule_text(group, lang: str = "en") -> str:
    """What a group's rule asks for, in words."""
    if group is None or group.rule == "all":
        return LABELS[lang]["all_met"]
    n = len(group.targets)
    if group.rule == "at_least":
        return f"≥ {group.k} of {n} met" if lang == "en" else f"{n}项中至少{group.k}项达成"
    total = math.fsum(group.weights)
    if lang == "en":
        return f"score ≥ {group.threshold:g} of {total:g}"
    return f"得分 ≥ {group.threshold:g}(满分{total:g})"


def pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x * 100:.{digits}f}%"


def threshold_text(t: Target, unit: str, lang: str = "en") -> str:
    """The target as a reader reads it: ">= 120亿元", "growth 8%–8.5%", "年均增速 ≥ 7.5%"."""
    tx = LABELS[check_lang(lang)]

    def fmt(v):
        if t.measure in ("growth", "cagr") or unit == "%":
            return f"{v * 100:.4g}%"
        return f"{v:.6g}{unit}"

    what = {"level": "", "growth": f"{tx['growth']} ", "cagr": f"{tx['cagr']} "}[t.measure]
    if t.comparator == "between":
        plan = "*" if t.reading == "plan" else ""  # a range met at its lower end
        return f"{what}{fmt(t.value)}–{fmt(t.high)}{plan}"
    cmp = t.comparator if lang == "en" else {">=": "≥", "<=": "≤"}[t.comparator]
    return f"{what}{cmp} {fmt(t.value)}"


@dataclass(frozen=True)
class Row:
    """One line of the assessment table, in one language."""

    kind: str  # "target" or "group"
    id: str
    name: str  # the target's or group's name in the language (the id where there is none)
    year: str
    threshold: str
    source: str  # stated / assumed, in words
    source_code: str  # "stated" or "assumed"
    start: str
    start_code: str  # observed / corrected / assumed / derived, or ""
    required: str
    anticipated: str
    required_compact: str  # a share's pp a year as "+0.20pp", for the terminal
    anticipated_compact: str
    p_in: str
    p_by: str
    p_in_compact: str
    p_by_compact: str
    status: str  # the full label (from the probability)
    status_short: str
    status_code: str
    progress: str  # the Open SDG progress label (from required vs anticipated growth)
    reason: str  # why it is not assessable (else "")
    tooltip: str  # the quote or the rationale


def rows(a, lang: str = "en") -> list[Row]:
    """The table's rows for an assessment, in ``lang``."""
    tx = LABELS[check_lang(lang)]
    out = []
    for r in a.targets:
        t = r.target
        name = (t.name_zh if lang == "zh" else t.name_en) or t.id
        start = ""
        if r.start_kind in ("corrected", "assumed"):
            start = tx["corr"] if r.start_kind == "corrected" else tx["assumed_start"]
        elif r.start_year is not None:
            start = str(r.start_year)
        ok = r.assessable
        out.append(
            Row(
                kind="target",
                id=t.id,
                name=name,
                year=str(t.year),
                threshold=threshold_text(t, r.unit if t.measure == "level" else "", lang),
                source=tx[t.status],
                source_code=t.status,
                start=start if ok else "",
                start_code=(r.start_kind or "") if ok else "",
                required=growth_text(r.required_growth, r.growth_unit, lang) if ok else "",
                anticipated=growth_text(r.anticipated_growth, r.growth_unit, lang) if ok else "",
                required_compact=growth_text(r.required_growth, r.growth_unit, compact=True)
                if ok
                else "",
                anticipated_compact=growth_text(r.anticipated_growth, r.growth_unit, compact=True)
                if ok
                else "",
                p_in=r.p_in_year.text() if ok else "—",
                p_by=r.p_by_year.text() if ok else "—",
                p_in_compact=r.p_in_year.text(compact=True) if ok else "—",
                p_by_compact=r.p_by_year.text(compact=True) if ok else "—",
                status=status_text(r.status, lang),
                status_short=status_text(r.status, lang, short=True),
                status_code=r.status,
                progress=status_text(r.progress, lang) if ok and r.observed_value is None else "",
                reason="" if ok else say(r.reason, lang),
                tooltip=t.quote or t.rationale or "",
            )
        )
    for g in a.groups:
        ok = g.assessable
        out.append(
            Row(
                kind="group",
                id=g.group_id,
                name=((g.group.name_zh if lang == "zh" else g.group.name_en) if g.group else None)
                or g.group_id,
                year="",
                threshold=rule_text(g.group, lang),
                source="",
                source_code="",
                start="",
                start_code="",
                required="",
                anticipated="",
                required_compact="",
                anticipated_compact="",
                p_in=g.p_all_in_year.text() if ok else "—",
                p_by=g.p_all_by_year.text() if ok else "—",
                p_in_compact=g.p_all_in_year.text(compact=True) if ok else "—",
                p_by_compact=g.p_all_by_year.text(compact=True) if ok else "—",
                status=status_text(g.status, lang),
                status_short=status_text(g.status, lang, short=True),
                status_code=g.status,
                progress="",
                reason="" if ok else say(g.reason, lang),
                tooltip="",
            )
        )
    return out


def header(a, lang: str = "en") -> str:
    """What was run: scenario, paths, method, seed — in plain words."""
    tx = LABELS[check_lang(lang)]
    name = getattr(a, "scenario_name_zh" if lang == "zh" else "scenario_name_en", None)
    scen = f"{a.scenario_id!r}" + (f" ({name})" if name else "")
    method = tx["methods"].get(a.method, a.method)
    if a.method == "qmc":
        method += f", {a.n_replicates} {tx['replicates']}"
    if lang == "zh":
        return (
            f"{tx['scenario']} {scen}:{a.n_paths:,} {tx['paths']},{method},"
            f"{tx['seed']} {a.seed['entropy']}"
        )
    return f"{tx['scenario']} {scen}: {a.n_paths:,} {tx['paths']}, {method}, {tx['seed']} " + str(
        a.seed["entropy"]
    )


# ----------------------------------------------------------------------------- text


def _pad(s: str, w: int, right: bool = False) -> str:
    gap = " " * (w - display_width(s))
    return gap + s if right else s + gap


def _cut(s: str, w: int) -> str:
    """``s`` in at most ``w`` display cells, an ellipsis marking a cut."""
    if display_width(s) <= w:
        return s
    out = ""
    for ch in s:
        if display_width(out + ch) > w - 1:
            break
        out += ch
    return out + "…"


def text_table(a, lang: str = "en", *, width: int = 100) -> str:
    """The assessment as terminal text at most ``width`` display cells wide: targets' ids
    are shortened with "…" when they must be (the full id is listed below), reasons and the
    legend are wrapped below the table."""
    tx = LABELS[check_lang(lang)]
    rs = rows(a, lang)
    cols = [
        ("id", tx["target"], False),
        ("year", tx["year"], False),
        ("threshold", tx["threshold"], False),
        ("src", tx["src"], False),
        ("required_compact", tx["required"], True),
        ("anticipated_compact", tx["anticipated"], True),
        ("p_in_compact", tx["p_in"], True),
        ("p_by_compact", tx["p_by"], True),
        ("status", tx["status"], False),
    ]
    notes: list[str] = []

    def cell(r: Row, key: str) -> str:
        if key == "src":
            if not r.source_code:
                return ""
            return tx[f"{r.source_code}_short"] + tx["start_short"].get(r.start_code, "")
        if key == "status":
            if r.reason:
                notes.append(r.reason)
                return f"[{len(notes)}]"
            return r.status_short
        if key == "id" and r.kind == "group":
            return f"{tx['group']} {r.id}"
        return getattr(r, key)

    grid = [[cell(r, k) for k, _, _ in cols] for r in rs]
    widths = [
        max(display_width(h), *(display_width(row[i]) for row in grid))
        for i, (_, h, _) in enumerate(cols)
    ]
    # two spaces between columns if that fits, else one; then shorten the thresholds, then
    # the target ids (never the numbers) by what is still over
    natural = widths
    for sep in (2, 1):
        widths = list(natural)
        over = sum(widths) + sep * (len(cols) - 1) - width
        for i, floor in ((2, 14), (0, 16)):
            cut = max(0, min(over, widths[i] - floor))
            widths[i] -= cut
            over -= cut
        if over <= 0:
            break
    shortened = []
    lines = [_cut(header(a, lang), width)]
    lines.append(
        (" " * sep)
        .join(_pad(h, w, right) for (_, h, right), w in zip(cols, widths, strict=True))
        .rstrip()
    )
    lines.append((" " * sep).join("-" * w for w in widths))
    for row in grid:
        shown = [_cut(v, w) for v, w in zip(row, widths, strict=True)]
        if shown[0] != row[0]:
            shortened.append(f"{shown[0]} = {row[0]}")
        lines.append(
            (" " * sep)
            .join(
                _pad(v, w, right) for v, w, (_, _, right) in zip(shown, widths, cols, strict=True)
            )
            .rstrip()
        )
    for k, note in enumerate(notes, 1):
        lines += wrap(f"[{k}] {note}", width, "    ")
    for s in shortened:
        lines += wrap(s, width, "    ")
    if a.corrections:
        lines += wrap(
            f"{tx['corrections']}: " + "; ".join(c.short(lang) for c in a.corrections), width
        )
    for note in a.notes:
        lines += wrap(f"{tx['note']}: {say(note, lang)}", width)
    lines += wrap(tx["legend"], width)
    return "\n".join(lines)


# ----------------------------------------------------------------------------- html


_COLOURS = {
    "likely": "#1b7a1b",
    "probable": "#4a7a1b",
    "at risk": "#a15c00",
    "unlikely": "#b00020",
    "on track": "#1b7a1b",
    "achieved": "#1b7a1b",
    "met": "#1b7a1b",
    "needs acceleration": "#a15c00",
    "met at assumed start": "#a15c00",
    "far off": "#b00020",
    "regressing": "#b00020",
    "missed": "#b00020",
}


def html_table(a, lang: str = "en") -> str:
    """The assessment as an HTML table (notebooks and the report): the target's name with
    its id, the quote or rationale on hover, the status in colour."""
    tx = LABELS[check_lang(lang)]
    heads = [
        tx["target"],
        tx["year"],
        tx["threshold"],
        tx["source"],
        tx["start"],
        tx["required_long"],
        tx["anticipated_long"],
        f"{tx['p_in']} ± SE",
        f"{tx['p_by']} ± SE",
        tx["status"],
        tx["progress"],
    ]
    out = [
        f"<p><b>{escape(a.study_id)}</b> — {escape(header(a, lang))}</p>",
        "<table class='hz-assessment'><thead><tr>",
        *(f"<th>{escape(h)}</th>" for h in heads),
        "</tr></thead><tbody>",
    ]
    for r in rows(a, lang):
        label = escape(r.name) if r.kind == "target" else f"<b>{escape(tx['group'])}</b>"
        ident = f"<br><code>{escape(r.id)}</code>"
        colour = _COLOURS.get(r.status_code, "#333")
        status = (
            f"<td style='color:#777'>{escape(r.reason)}</td>"
            if r.reason
            else f"<td class='{r.status_code.replace(' ', '-')}' "
            f"style='color:{colour};font-weight:bold'>{escape(r.status)}</td>"
        )
        cells = [r.year, r.threshold, r.source, r.start, r.required, r.anticipated, r.p_in, r.p_by]
        out.append(
            f"<tr><td title='{escape(r.tooltip)}'>{label}{ident}</td>"
            + "".join(f"<td>{escape(c)}</td>" for c in cells[:2])
            + f"<td class='{r.source_code}'>{escape(cells[2])}</td>"
            + "".join(f"<td>{escape(c)}</td>" for c in cells[3:])
            + status
            + f"<td>{escape(r.progress)}</td>"
            + "</tr>"
        )
    out.append("</tbody></table>")
    out.append(f"<p style='font-size:0.85em'>{escape(tx['legend'])}</p>")
    return "".join(out)


def markdown_table(a, lang: str = "en") -> list[str]:
    """The assessment as Markdown table lines (every cell escaped)."""
    tx = LABELS[check_lang(lang)]
    heads = [
        tx["target"],
        tx["year"],
        tx["threshold"],
        tx["source"],
        tx["required_long"],
        tx["anticipated_long"],
        f"{tx['p_in']} ± SE",
        f"{tx['p_by']} ± SE",
        tx["status"],
        tx["progress"],
    ]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for r in rows(a, lang):
        first = r.id if r.kind == "target" else f"{tx['group']}: {r.id}"
        cells = [
            first,
            r.year,
            r.threshold,
            r.source,
            r.required,
            r.anticipated,
            r.p_in,
            r.p_by,
            r.reason or r.status,
            r.progress,
        ]
        lines.append("| " + " | ".join(md(c) for c in cells) + " |")
    return lines


def comparison_table(results, lang: str = "en", *, width: int = 100) -> str:
    """Several scenarios side by side: each target's P(in year) ± SE per scenario (the
    scenarios were run with common random numbers, so the differences are the scenarios')."""
    tx = LABELS[check_lang(lang)]
    results = list(results)
    if not results:
        return ""
    first = rows(results[0], lang)
    per = [{r.id: r for r in rows(a, lang)} for a in results]
    heads = [tx["target"], tx["year"], tx["threshold"], *(a.scenario_id for a in results)]
    grid = []
    for r in first:
        name = r.id if r.kind == "target" else f"{tx['group']} {r.id}"
        cells = [name, r.year, r.threshold]
        for p in per:
            other = p.get(r.id)
            cells.append(other.p_in_compact if other is not None and not other.reason else "—")
        grid.append(cells)

    def fit(grid, sep):
        widths = [
            max(display_width(h), *(display_width(g[i]) for g in grid)) for i, h in enumerate(heads)
        ]
        over = sum(widths) + sep * (len(heads) - 1) - width
        for i, floor in ((2, 10), (0, 12)):
            cut = max(0, min(over, widths[i] - floor))
            widths[i] -= cut
            over -= cut
        return widths, over

    # narrower step by step until it fits: one space between columns, then "0.537±6e-05"
    sep = 2
    widths, over = fit(grid, sep)
    if over > 0:
        sep = 1
        widths, over = fit(grid, sep)
    if over > 0:
        grid = [[*g[:3], *(c.replace(" ± ", "±") for c in g[3:])] for g in grid]
        widths, over = fit(grid, sep)
    right = [False, False, False, *([True] * len(results))]

    def line(cells):
        return (
            (" " * sep)
            .join(_pad(_cut(c, w), w, r) for c, w, r in zip(cells, widths, right, strict=True))
            .rstrip()
        )

    title = (
        "P(in year) ± SE by scenario (common random numbers)"
        if lang == "en"
        else "各情景当年达成概率 ± 标准误(共同随机数)"
    )
    out = [title, line(heads), (" " * sep).join("-" * w for w in widths)]
    out += [line(g) for g in grid]
    return "\n".join(out)
