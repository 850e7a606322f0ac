"""Plots for notebooks and reports (matplotlib, an optional extra: ``hzforecast[plot]``).

Every function takes ``ax=None`` (a new figure when omitted) and returns the Axes.
matplotlib is imported only when a plot is drawn.

Chinese labels (``lang="zh"``) need a CJK font. :func:`cjk_font` looks for an installed one
(Noto Sans/Serif CJK, Source Han, WenQuanYi, SimHei, Microsoft YaHei, PingFang, …); on Debian
or Ubuntu ``apt-get install fonts-noto-cjk`` provides one. Without any, plots fall back to
English labels and say so with a warning, rather than drawing boxes. English labels
never need a CJK glyph: units are given in their English reading (亿元 → "10^8 yuan",
see :data:`hzforecast.figures.UNITS`), so English figures draw on any machine.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._scales import cagr, to_scale, transform_of_kind

__all__ = [
    "cjk_font",
    "convergence",
    "fan_chart",
    "prim_tradeoff",
    "prob_by_year",
    "reliability_diagram",
    "scenario_comparison",
    "tornado_plot",
]

_CJK_NAMES = (
    "Noto Sans CJK",
    "Noto Serif CJK",
    "Source Han Sans",
    "Source Han Serif",
    "WenQuanYi",
    "SimHei",
    "SimSun",
    "Microsoft YaHei",
    "PingFang",
    "Hiragino Sans GB",
    "AR PL",
    "Droid Sans Fallback",
    "Heiti",
    "STHeiti",
)
_TEXT = {
    "en": {
        "year": "year",
        "p_by": "P(reached by year)",
        "p_in": "P(in year)",
        "target": "target",
        "required": "required path",
        "history": "observed",
        "median": "median",
        "scenario": "scenario",
        "swing": "change in P(reach)",
        "paths": "paths",
        "at_p10": "assumption at its 10th percentile",
        "at_p90": "assumption at its 90th percentile",
        "as_assumed": "as assumed",
        "no_effect": "no effect",
        "coverage": "coverage",
        "density": "density",
        "predicted": "predicted probability",
        "observed_freq": "observed frequency",
        "ideal": "perfectly calibrated",
    },
    "zh": {
        "year": "年份",
        "p_by": "截至当年达成概率",
        "p_in": "当年达成概率",
        "target": "目标",
        "required": "所需路径",
        "history": "实际值",
        "median": "中位数",
        "scenario": "情景",
        "swing": "达成概率变化",
        "paths": "路径数",
        "at_p10": "假设取第10百分位",
        "at_p90": "假设取第90百分位",
        "as_assumed": "按原假设",
        "no_effect": "无影响",
        "coverage": "覆盖率",
        "density": "密度",
        "predicted": "预测概率",
        "observed_freq": "实际频率",
        "ideal": "完全校准",
    },
}


def cjk_font() -> str | None:
    """The family name of an installed font that has Chinese characters, or None."""
    from matplotlib import font_manager

    names = sorted({f.name for f in font_manager.fontManager.ttflist})
    for want in _CJK_NAMES:
        found = [name for name in names if name.startswith(want)]
        if found:
            return min(found, key=_simplified_first)
    return None


def _simplified_first(name: str) -> int:
    """Simplified Chinese cuts first; Japanese, Korean and traditional (TC, HK) cuts last —
    their glyphs for the same characters follow other standards."""
    last = name.rsplit(" ", 1)[-1]
    if last in ("SC", "CN"):
        return 0
    if last in ("JP", "KR", "TC", "HK", "TW"):
        return 2
    return 1


def _setup(lang: str):
    """(pyplot, labels, lang actually used)."""
    if lang not in _TEXT:
        raise ValueError(f"lang: expected 'en' or 'zh', got {lang!r}")
    import matplotlib.pyplot as plt

    if lang == "zh" and cjk_font() is None:
        # Python's default filter shows this once per call site, not once per figure
        warnings.warn(
            "no CJK font found (install one, e.g. Debian's fonts-noto-cjk): "
            "plots use English labels",
            stacklevel=3,
        )
        lang = "en"
    return plt, _TEXT[lang], lang


def _use_cjk(ax, lang: str) -> None:
    """Chinese text in this figure only: every text of the figure, and the tick labels it
    will draw, get the CJK font first and matplotlib's default after it (for glyphs the CJK
    font lacks, such as the minus sign). matplotlib's global rcParams are left alone."""
    if lang != "zh":
        return
    from matplotlib.text import Text

    family = [cjk_font(), "DejaVu Sans"]
    fig = ax.figure
    for text in fig.findobj(Text):
        text.set_fontfamily(family)
    for a in fig.axes:
        a.tick_params(labelfontfamily=family)


def _axes(ax, plt, size=(7, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _unit(unit: str, lang: str) -> str:
    """A unit as labelled: as the study states it in Chinese, else its English reading
    (so English labels never need a CJK glyph: 亿元 -> "10^8 yuan")."""
    if lang == "zh" or not unit:
        return unit
    from .figures import UNITS

    return UNITS.get(unit, unit)


def _target_unit(ind, lang: str) -> str:
    """The unit glued to a target's number: "120亿元" in Chinese, "120 10^8 yuan" in English."""
    if ind is None or not ind.unit:
        return ""
    return ind.unit if lang == "zh" or ind.unit == "%" else " " + _unit(ind.unit, lang)


def _name(obj, lang):
    if obj is None:
        return ""
    return getattr(obj, "name_zh" if lang == "zh" else "name_en", None) or getattr(obj, "id", "")


def fan_chart(
    paths,
    indicator: str,
    *,
    study=None,
    target=None,
    ax=None,
    lang: str = "en",
    bands=((5, 95), (25, 75)),
    history: bool = True,
):
    """Percentile bands of an indicator by year, with its history, target and required path.

    Parameters
    ----------
    paths : Paths
    indicator : str
    study : Study, optional
        For the observed history and the names.
    target : str or Target, or a list of them, optional
        Marked at its year and threshold (a CAGR target at the level it implies); the
        required path (constant growth from the start to the threshold) is drawn as a line.
    """
    plt, tx, lang = _setup(lang)
    if indicator not in paths.states:
        raise ValueError(
            f"indicator: {indicator!r} is not in these paths (have {sorted(paths.states)})"
        )
    ax = _axes(ax, plt)
    x = paths[indicator]
    years = paths.years
    ok = ~np.all(np.isnan(x), axis=0)
    colour = "#1f5fa8"
    for (lo, hi), alpha in zip(bands, (0.18, 0.35), strict=False):
        q = np.nanpercentile(x[:, ok], [lo, hi], axis=0)
        ax.fill_between(years[ok], q[0], q[1], color=colour, alpha=alpha, lw=0, label=f"{lo}–{hi}%")
    ax.plot(years[ok], np.nanmedian(x[:, ok], axis=0), color=colour, lw=2, label=tx["median"])
    ind = None
    if study is not None:
        ind = study.indicator(indicator)
        if history and ind.observations:
            ys = [o.year for o in ind.observations]
            vs = [(o.correction.value if o.correction else o.value) for o in ind.observations]
            ax.plot(ys, vs, "o", color="black", ms=5, label=tx["history"])
    if target is not None:
        many = target if isinstance(target, list | tuple) else [target]
        marked = [study.target(t) if isinstance(t, str) else t for t in many]
        for k, t in enumerate(marked):
            if t.indicator != indicator:
                raise ValueError(f"target: {t.id!r} is on {t.indicator!r}, not {indicator!r}")
            _mark_target(ax, t, x, years, ok, ind, lang, tx, first=k == 0)
    unit = _unit(ind.unit, lang) if ind is not None else ""
    if ind is not None and ind.kind == "share":
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    title = _name(ind, lang) if ind is not None else indicator
    ax.set_title(f"{title} — {paths.scenario_id}")
    ax.set_xlabel(tx["year"])
    ax.set_ylabel(unit)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    _use_cjk(ax, lang)
    return ax


def _mark_target(ax, t, x, years, ok, ind, lang, tx, *, first: bool):
    """A level target as a star at its year and threshold; a CAGR target as the level it
    implies from its base year (the median there); a one-year growth target is not a level
    and is left to the tables. The required path from the start is drawn for each."""
    start = ok.argmax()
    if t.measure == "level":
        level, y0, x0 = t.value, years[start], np.nanmedian(x[:, start])
        label = f"{tx['target']} {t.describe(_target_unit(ind, lang))}"
    elif t.measure == "cagr":
        b = t.base_year if t.base_year is not None else int(years[start])
        if b not in years or t.year not in years:
            return
        j = int(np.flatnonzero(years == b)[0])
        x0, y0 = np.nanmedian(x[:, j]), b
        level = x0 * (1 + t.value) ** (t.year - b)
        label = f"{tx['target']} {t.describe(lang=lang)} {b}–{t.year}"
    else:
        return
    ax.plot([t.year], [level], marker="*", ms=16, color="#c0392b", ls="none", label=label)
    if t.year > y0 and x0 > 0 and level > 0:
        yy = np.arange(y0, t.year + 1)
        g = 1.0 + cagr(x0, level, t.year - y0)
        ax.plot(yy, x0 * g ** (yy - y0), ls="--", color="#c0392b", lw=1.2,
                label=f"{tx['required']} ({g - 1:.1%}/yr)" if first else None)  # fmt: skip


def prob_by_year(assessment, target: str, *, ax=None, lang: str = "en"):
    """P(reached by each year) for one target, with P(in its year) marked."""
    plt, tx, lang = _setup(lang)
    r = assessment[target]
    if not r.assessable or not r.by_year_curve:
        raise ValueError(
            f"target: {target!r} has no by-year probabilities ({r.reason or r.progress})"
        )
    ax = _axes(ax, plt)
    ys = list(r.by_year_curve)
    ax.step(ys, list(r.by_year_curve.values()), where="post", color="#1f5fa8", label=tx["p_by"])
    ax.errorbar(
        [r.target.year],
        [r.p_in_year.value],
        yerr=[[r.p_in_year.value - r.p_in_year.low], [r.p_in_year.high - r.p_in_year.value]],
        fmt="o",
        color="#c0392b",
        label=tx["p_in"],
    )
    ax.set_ylim(0, 1)
    ax.set_xlabel(tx["year"])
    ax.set_title(f"{target} — {assessment.scenario_id}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _use_cjk(ax, lang)
    return ax


def scenario_comparison(results: dict, *, targets=None, ax=None, lang: str = "en"):
    """P(in year) ± 2 SE per target (rows) and scenario (bars); ``results`` maps scenario
    ids to Assessments (as :func:`hzforecast.compare_scenarios` returns)."""
    plt, tx, lang = _setup(lang)
    if not results:
        raise ValueError("results: no assessments to compare")
    first = next(iter(results.values()))
    ids = targets or [r.id for r in first.targets if r.assessable]
    ax = _axes(ax, plt, size=(7, 0.45 * len(ids) + 1.5))
    h = 0.8 / len(results)
    for j, (sid, res) in enumerate(results.items()):
        vals = [res[t].p_in_year.value if res[t].assessable else np.nan for t in ids]
        err = [2 * res[t].p_in_year.se if res[t].assessable else 0 for t in ids]
        ax.barh(np.arange(len(ids)) + j * h, vals, height=h, xerr=err, label=sid)
    ax.set_yticks(np.arange(len(ids)) + h * (len(results) - 1) / 2, ids, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(tx["p_in"])
    ax.legend(title=tx["scenario"], fontsize=8)
    ax.grid(alpha=0.3, axis="x")
    _use_cjk(ax, lang)
    return ax


def tornado_plot(table, target: str, *, ax=None, lang: str = "en", top: int = 10):
    """Horizontal bars from P at each assumption's 10th to its 90th percentile."""
    plt, tx, lang = _setup(lang)
    df = table[table["target"] == target]
    if df.empty:
        raise ValueError(f"target: {target!r} is not in the tornado table")
    still = df[df["swing"].abs() <= 1e-12]  # no effect at all (common random numbers)
    df = df[df["swing"].abs() > 1e-12]
    df = df.reindex(df["swing"].abs().sort_values(ascending=False).index).head(top)
    ax = _axes(ax, plt, size=(7, 0.4 * max(len(df), 1) + 1.8))
    base = float((df if len(df) else still)["p_base"].iloc[0])
    for i, (_, r) in enumerate(df.iterrows()):
        ax.barh(i, r.p_low - base, left=base, color="#c0392b", alpha=0.7,
                label=tx["at_p10"] if i == 0 else None)  # fmt: skip
        ax.barh(i, r.p_high - base, left=base, color="#1f5fa8", alpha=0.7,
                label=tx["at_p90"] if i == 0 else None)  # fmt: skip
    ax.axvline(base, color="black", lw=1, label=f"{tx['as_assumed']} ({base:.3f})")
    ax.set_yticks(range(len(df)), list(df["assumption"]), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"P(reach) — {tx['swing']} (10th → 90th percentile)")
    ax.set_title(target)
    ax.grid(alpha=0.3, axis="x")
    ax.legend(loc="lower right", fontsize=7)
    if len(still):
        ax.text(
            0.0, -0.16 - 0.02 * min(len(df), 10),
            f"{tx['no_effect']}: " + ", ".join(still["assumption"]),
            transform=ax.transAxes, fontsize=7, color="#555",
        )  # fmt: skip
    _use_cjk(ax, lang)
    return ax


def prim_tradeoff(result, *, ax=None, lang: str = "en", chosen: int | None = None):
    """PRIM's peeling trajectory: coverage against density, the chosen box marked."""
    plt, tx, lang = _setup(lang)
    ax = _axes(ax, plt, size=(5, 4))
    cov = [b.coverage for b in result.trajectory]
    den = [b.density for b in result.trajectory]
    sc = ax.scatter(cov, den, c=[len(b.bounds) for b in result.trajectory], cmap="viridis", s=14)
    if chosen is not None:
        ax.scatter([cov[chosen]], [den[chosen]], s=120, facecolors="none", edgecolors="#c0392b")
    ax.set_xlabel(tx["coverage"])
    ax.set_ylabel(tx["density"])
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.figure.colorbar(sc, ax=ax, label="restricted inputs")
    ax.grid(alpha=0.3)
    _use_cjk(ax, lang)
    return ax


def convergence(assessment, targets=None, *, ax=None, lang: str = "en"):
    """P(in year) ± 2 SE against the number of paths, from an assessment run with
    ``target_se`` (its runs of doubling size): how the estimates settle."""
    plt, tx, lang = _setup(lang)
    hist = list(assessment.convergence)
    if not hist:
        raise ValueError(
            "assessment: no convergence record; run hz.assess(..., target_se=...) to get one"
        )
    ids = [k for k in hist[-1] if k not in ("n_paths", "largest_se") and not k.endswith("_se")]
    if targets is not None:
        ids = [t for t in ([targets] if isinstance(targets, str) else targets) if t in ids]
    ax = _axes(ax, plt, size=(7, 4))
    n = np.array([h["n_paths"] for h in hist], float)
    for tid in ids:
        p = np.array([h.get(tid, np.nan) for h in hist])
        se = np.array([h.get(f"{tid}_se", np.nan) for h in hist])
        line = ax.plot(n, p, marker="o", ms=3, lw=1, label=tid)[0]
        ax.fill_between(n, p - 2 * se, p + 2 * se, color=line.get_color(), alpha=0.15)
    ax.set_xscale("log", base=2)
    ax.set_xlabel(tx["paths"])
    ax.set_ylabel("P(in year) ± 2 SE")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    _use_cjk(ax, lang)
    return ax


def reliability_diagram(prob, outcome, *, bins: int = 10, ax=None, lang: str = "en"):
    """Observed frequency of an event against its predicted probability, by bin."""
    plt, tx, lang = _setup(lang)
    p = np.asarray(prob, float)
    o = np.asarray(outcome, float)
    if p.shape != o.shape:
        raise ValueError(f"outcome: shape {o.shape} does not match prob {p.shape}")
    ax = _axes(ax, plt, size=(4.5, 4.5))
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    xs, ys, ns = [], [], []
    for b in range(bins):
        m = idx == b
        if m.any():
            xs.append(p[m].mean())
            ys.append(o[m].mean())
            ns.append(int(m.sum()))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label=tx["ideal"])
    ax.plot(xs, ys, "o-", color="#1f5fa8")
    for x, y, n in zip(xs, ys, ns, strict=True):
        ax.annotate(str(n), (x, y), fontsize=7, xytext=(3, -8), textcoords="offset points")
    ax.set_xlabel(tx["predicted"])
    ax.set_ylabel(tx["observed_freq"])
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _use_cjk(ax, lang)
    return ax


def reference_growth(panel, indicator: str, *, ax=None, lang: str = "en"):
    """A reference class's yearly growth across its regions: the median and the 10–90% band
    by year (log changes shown as rates; a share's log-odds changes as they are)."""
    import numpy as np
    import pandas as pd

    plt, tx, lang = _setup(lang)
    d = panel.data[(panel.data.indicator == indicator) & (panel.data.region != "全国")]
    if d.empty:
        raise ValueError(f"indicator: {indicator!r} is not in panel {panel.name!r}")
    wide = d.pivot(index="year", columns="region", values="value").sort_index()
    kind = panel.kind(indicator)
    if kind == "rate":
        raise ValueError(f"indicator: {indicator!r} is a rate, not a level or a share")
    z = pd.DataFrame(to_scale(wide.to_numpy(), transform_of_kind(kind)), index=wide.index,
                     columns=wide.columns)  # fmt: skip
    step = z.diff().div(wide.index.to_series().diff(), axis=0).iloc[1:]
    g = np.expm1(step) if kind == "level" else step
    q = g.quantile([0.1, 0.5, 0.9], axis=1).T
    ax = _axes(ax, plt)
    ax.fill_between(q.index, q[0.1], q[0.9], color="#1f5fa8", alpha=0.2, label="10–90%")
    ax.plot(q.index, q[0.5], color="#1f5fa8", label=tx.get("median", "median"))
    ax.axhline(0, color="#888", lw=0.8)
    ax.set_xlabel(tx["year"])
    ax.set_ylabel("growth a year" if lang == "en" else "年增速")
    ax.set_title(f"{panel.name}: {indicator} ({len(wide.columns)} regions)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _use_cjk(ax, lang)
    return ax
