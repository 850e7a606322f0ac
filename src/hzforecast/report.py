"""A report people can hand on: self-contained HTML and a Markdown summary.

:func:`write_report` assesses every scenario of a study and writes, into one folder,

* ``report.html`` — one self-contained file (figures embedded as PNG, styles inline):
  the reachability table per scenario, fan charts of the targets' indicators, P(reach)
  by scenario, the audit, every assumption (marked as assumed) and source, and the Monte
  Carlo settings and seed;
* ``summary.md`` — the same tables in Markdown.

The folder is checked before anything is simulated. A new report is assembled in a
temporary folder beside the destination and renamed into place when complete, so a failed
run leaves no half-written report. A folder holding a report carries a manifest
(``.hzforecast-report.json``); ``force=True`` replaces such a folder's files one by one,
each atomically, and refuses any other non-empty folder — it never deletes what a report
did not write. File names are fixed; nothing from the study decides where a file goes.
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import os
from html import escape
from pathlib import Path

from ._assess import html_table, markdown_table
from ._files import OutputFolder
from ._progress import progress_bar
from ._study_text import check_lang, md
from .assess import assess
from .spec import Study

__all__ = ["write_report"]

FILES = ("report.html", "summary.md")

_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",
 "Helvetica Neue",Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:0.6em 0 1.2em;font-size:0.88em}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f2f4f7} .assumed{color:#a15c00;font-weight:600} .stated{color:#1b5e20}
.error{color:#b00020;font-weight:700} .warning{color:#a15c00} .info{color:#555}
.on-track,.achieved,.met{color:#1b7a1b;font-weight:600}
.needs-acceleration{color:#a15c00;font-weight:600}
.far-off,.regressing,.missed{color:#b00020;font-weight:600}
img{max-width:100%} .small{font-size:0.85em;color:#555} code{background:#f5f5f5;padding:0 3px}
"""

_T = {
    "en": {
        "title": "Reachability of targets",
        "settings": "Monte Carlo settings",
        "table": "Targets",
        "audit": "Audit of the source",
        "assumptions": "Assumptions",
        "sources": "Sources",
        "figures": "Figures",
        "meaning": "A probability here is conditional on the scenario's assumptions listed "
        "below; ± is the Monte Carlo standard error only.",
    },
    "zh": {
        "title": "目标可达性评估",
        "settings": "蒙特卡洛设置",
        "table": "目标",
        "audit": "原文数据核查",
        "assumptions": "假设",
        "sources": "来源",
        "figures": "图表",
        "meaning": "此处概率以下列情景假设为条件;± 仅为蒙特卡洛误差。",
    },
}


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(size):
    """A figure of its own, drawn by Agg whatever pyplot's backend is (the report neither
    switches the backend nor leaves figures open in pyplot)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    return fig, fig.subplots()


def _figures(study, results, paths_by_scenario, lang):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return []
    from . import plot

    out = []
    first = next(iter(results))
    paths = paths_by_scenario[first]
    by_indicator: dict = {}
    for r in results[first].targets:  # every indicator with a target it can chart
        t = r.target
        if r.assessable and t.indicator in paths.states and t.measure in ("level", "cagr"):
            by_indicator.setdefault(t.indicator, []).append(t)
    scenario = study.scenario(first)
    sc_name = scenario.name_zh if lang == "zh" else scenario.name_en
    for ind_id, ts in by_indicator.items():
        ind = study.indicator(ind_id)
        fig, ax = _figure((7, 3.6))
        plot.fan_chart(paths, ind_id, study=study, target=ts, ax=ax, lang=lang)
        name = ind.name_zh if lang == "zh" else ind.name_en
        out.append((f"{name} — {sc_name}", _png(fig)))
    if len(results) > 1:
        fig, ax = _figure((7, 6))
        plot.scenario_comparison(results, ax=ax, lang=lang)
        out.append(("P(reach) by scenario", _png(fig)))
    return out


def _html(study, results, audit, figures, settings, lang):
    tx = _T[lang]
    name = study.name_zh if lang == "zh" else study.name_en
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head>',
        '<meta charset="utf-8">',
        f"<title>{escape(name)} — {tx['title']}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{escape(name)}: {tx['title']}</h1>",
        f"<p class='small'>{escape(tx['meaning'])}</p>",
        f"<h2>{tx['settings']}</h2><table>",
    ]
    for k, v in settings.items():
        parts.append(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>")
    parts.append("</table>")
    for sid, res in results.items():
        sc = study.scenario(sid)
        parts.append(
            f"<h2>{tx['table']} — {escape(sc.name_zh if lang == 'zh' else sc.name_en)} "
            f"(<code>{escape(sid)}</code>)</h2>"
        )
        parts.append(html_table(res, lang))
        if res.corrections:
            parts.append(
                "<p class='small'>" + "<br>".join(escape(str(c)) for c in res.corrections) + "</p>"
            )
        parts.append(f"<h3>{tx['assumptions']}</h3><ul>")
        for a in res.assumptions:
            parts.append(f"<li>{escape(a.text(lang))}</li>")
        parts.append("</ul>")
    if figures:
        parts.append(f"<h2>{tx['figures']}</h2>")
        for title, b64 in figures:
            parts.append(
                f"<figure><img alt='{escape(title)}' src='data:image/png;base64,{b64}'>"
                f"<figcaption class='small'>{escape(title)}</figcaption></figure>"
            )
    parts.append(f"<h2>{tx['audit']}</h2><table>")
    for f in audit.findings:
        parts.append(
            f"<tr><td class='{f.severity}'>{f.severity}</td><td>{escape(f.code)}</td>"
            f"<td>{escape(f.indicator or '')}</td><td>{escape(f.message)}</td></tr>"
        )
    parts.append(f"</table><h2>{tx['sources']}</h2><ul>")
    for s in study.sources:
        extra = f" — {escape(s.note)}" if s.note else ""
        parts.append(
            f"<li><b>{escape(s.id)}</b> ({s.kind}): {escape(s.title)}"
            f"{', ' + escape(s.author) if s.author else ''}, {s.date}{extra}</li>"
        )
    parts.append("</ul></body></html>")
    return "\n".join(parts)


def _markdown(study, results, audit, settings, lang):
    tx = _T[lang]
    name = study.name_zh if lang == "zh" else study.name_en
    lines = [f"# {md(name)}: {tx['title']}", "", tx["meaning"], "", f"## {tx['settings']}", ""]
    lines += [f"- {md(k)}: {md(v)}" for k, v in settings.items()]
    for sid, res in results.items():
        lines += ["", f"## {tx['table']} — {md(sid)}", ""]
        lines += markdown_table(res, lang)
        lines += ["", f"### {tx['assumptions']}", ""] + [f"- {md(a)}" for a in res.assumed]
        lines += [f"- {md(c)}" for c in res.corrections]
    lines += ["", f"## {tx['audit']}", ""]
    lines += [
        f"- **{f.severity}** {md(f.code)} \\[{md(f.indicator or '')}\\]: {md(f.message)}"
        for f in audit.findings
    ]
    lines += ["", f"## {tx['sources']}", ""]
    lines += [f"- {md(s.id)} ({s.kind}): {md(s.title)}, {s.date}" for s in study.sources]
    return "\n".join(lines) + "\n"


def write_report(
    study: Study,
    out: str | os.PathLike,
    *,
    scenarios=None,
    lang: str = "en",
    n_paths: int = 100_000,
    rng: int = 20190128,
    method: str = "mc",
    force: bool = False,
    progress: bool | None = None,
) -> Path:
    """Assess a study and write ``report.html`` and ``summary.md`` into the folder ``out``
    (a fan chart for every indicator with a level or CAGR target, every such target marked;
    ``progress``: a bar on a terminal or in a notebook).

    Raises
    ------
    FileExistsError
        ``out`` holds a report and ``force`` is false.
    hzforecast._files.OutputError
        ``out`` cannot be used: a file, a dangling link, a folder that cannot be written, a
        name the system refuses, or a non-empty folder that is not a report (a ValueError).
    ValueError
        Unknown scenario or language.
    """
    import numpy as np

    from .simulate import simulate

    check_lang(lang)
    folder = OutputFolder(out, FILES, force=force)  # before any work: a bad --out fails now
    ids = list(scenarios) if scenarios else [s.id for s in study.scenarios]
    if not ids:
        raise ValueError(f"study {study.id!r} has no scenarios to report")
    for sid in ids:
        study.scenario(sid)
    seq = np.random.SeedSequence(rng)
    bar = progress_bar(len(ids) * n_paths, progress, "report")
    results = {}
    for sid in ids:
        results[sid] = assess(
            study, scenario=sid, n_paths=n_paths, rng=seq, method=method, progress=False
        )
        if bar is not None:
            bar.update(n_paths)
    if bar is not None:
        bar.close()
    paths = {
        ids[0]: simulate(
            study, scenario=ids[0], n_paths=min(n_paths, 20_000), rng=seq, progress=False
        )
    }
    audit = study.audit()
    settings = {
        "study": study.id,
        "scenarios": ", ".join(ids),
        "paths per scenario": f"{n_paths:,}",
        "method": method,
        "seed": rng,
        "estimator": "shocks integrated analytically where the model allows (smoothing)",
        "fan charts": f"{min(n_paths, 20_000):,} kept paths of {ids[0]!r}",
        "written": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    figures = _figures(study, results, paths, lang)
    html = _html(study, results, audit, figures, settings, lang)
    md = _markdown(study, results, audit, settings, lang)
    from . import __version__

    return folder.write(
        {"report.html": html, "summary.md": md},
        {
            "written_by": "hzforecast",
            "version": __version__,
            "study": study.id,
            "written": settings["written"],
        },
    )
