"""Plots (drawn off-screen) and the HTML/Markdown report."""

import contextlib
import os
import re
import warnings
from html.parser import HTMLParser

import numpy as np
import pytest

import hzforecast as hz
from hzforecast.cli import main

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from hzforecast import plot  # noqa: E402


def chinese_figures():
    """Chinese figures need a CJK font; without one they use English labels and warn."""
    if plot.cjk_font() is not None:
        return contextlib.nullcontext()
    return pytest.warns(UserWarning, match="no CJK font found")


CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def runs(jiaozuo):
    paths = hz.simulate(jiaozuo, scenario="baseline", n_paths=4096, rng=1)
    _table, results = hz.compare_scenarios(jiaozuo, n_paths=8192, rng=1)
    return paths, results


def test_fan_chart_draws_bands_history_target_and_required_path(jiaozuo, runs):
    paths, _ = runs
    ax = plot.fan_chart(paths, "mengniu_output", study=jiaozuo, target="mengniu-2019")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "target >= 120 10^8 yuan" in labels
    assert ax.get_ylabel() == "10^8 yuan"
    # English figures need no CJK glyph (they draw on machines without a CJK font)
    texts = [*labels, ax.get_ylabel(), ax.get_title(), ax.get_xlabel()]
    assert not [t for t in texts if CJK.search(t)]
    assert any("required path (10.2%/yr)" in lbl for lbl in labels)
    # the median line is the paths' median
    median = next(ln for ln in ax.get_lines() if ln.get_label() == "median")
    np.testing.assert_allclose(median.get_ydata(), np.median(paths["mengniu_output"], axis=0))
    plt.close("all")


def test_plots_return_axes_and_accept_an_axes(jiaozuo, runs):
    _paths, results = runs
    _fig, axs = plt.subplots(2, 3)
    assert plot.prob_by_year(results["baseline"], "profile-2025-hte", ax=axs[0, 0]) is axs[0, 0]
    assert plot.scenario_comparison(results, ax=axs[0, 1]) is axs[0, 1]
    tor = hz.tornado(jiaozuo, ["mengniu-2019"], n_paths=2**11, rng=1)
    assert plot.tornado_plot(tor, "mengniu-2019", ax=axs[0, 2]) is axs[0, 2]
    rng = np.random.default_rng(0)
    pr = hz.prim(rng.random((500, 2)), (rng.random(500) < 0.3).astype(float))
    assert plot.prim_tradeoff(pr, ax=axs[1, 0], chosen=3) is axs[1, 0]
    p = rng.random(300)
    assert (
        plot.reliability_diagram(p, (rng.random(300) < p).astype(float), ax=axs[1, 1]) is axs[1, 1]
    )
    plt.close("all")


def test_plot_errors(runs):
    paths, results = runs
    with pytest.raises(ValueError, match=r"indicator: 'nope' is not in these paths"):
        plot.fan_chart(paths, "nope")
    with pytest.raises(ValueError, match=r"lang: expected 'en' or 'zh', got 'fr'"):
        plot.fan_chart(paths, "gdp", lang="fr")
    with pytest.raises(ValueError, match=r"target: 'mingren-2019' has no by-year probabilities"):
        plot.prob_by_year(results["baseline"], "mingren-2019")


def test_chinese_labels_or_a_warning(jiaozuo, runs, monkeypatch):
    paths, _ = runs
    if plot.cjk_font() is not None:
        ax = plot.fan_chart(paths, "gdp", lang="zh")
        assert ax.get_xlabel() == "年份"
    monkeypatch.setattr(plot, "cjk_font", lambda: None)
    for _ in range(2):  # every fallback warns (Python's filters decide what is shown)
        with pytest.warns(UserWarning, match="no CJK font found"):
            ax = plot.fan_chart(paths, "gdp", study=jiaozuo, lang="zh")
        assert ax.get_xlabel() == "year" and ax.get_ylabel() == "10^8 yuan"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # English figures never warn
        plot.fan_chart(paths, "gdp", lang="en")
    plt.close("all")


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.imgs, self.stack, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.imgs.append(dict(attrs))
        if tag not in ("meta", "img", "br", "link"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_report_is_self_contained_and_complete(jiaozuo, tmp_path):
    with chinese_figures():
        out = hz.report.write_report(jiaozuo, tmp_path / "rep", n_paths=8192, lang="zh")
    assert sorted(os.listdir(out)) == [".hzforecast-report.json", "report.html", "summary.md"]
    html = (out / "report.html").read_text(encoding="utf-8")
    p = _Collect()
    p.feed(html)
    p.close()
    assert p.stack == []  # every element closed
    assert p.imgs and all(i["src"].startswith("data:image/png;base64,") for i in p.imgs)
    assert "http://" not in html and "https://" not in html  # nothing fetched
    text = "".join(p.text)
    for needed in (
        "目标可达性评估",
        "mengniu-2019",
        "8,192",
        "20190128",
        "multiple-mismatch",
        "141.95",
        "假设",
        "王家鹏",
    ):
        assert needed in text
    md = (out / "summary.md").read_text(encoding="utf-8")
    assert "| mengniu-2019 | 2019 |" in md and "multiple-mismatch" in md


def test_report_never_overwrites_without_force_and_is_atomic(jiaozuo, tmp_path, monkeypatch):
    out = tmp_path / "rep"
    hz.report.write_report(jiaozuo, out, n_paths=8192, scenarios=["baseline"])
    before = (out / "report.html").read_bytes()
    with pytest.raises(FileExistsError, match=r"holds a report; pass --force"):
        hz.report.write_report(jiaozuo, out, n_paths=8192)

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(hz.report, "_markdown", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        hz.report.write_report(jiaozuo, out, n_paths=8192, force=True)
    assert (out / "report.html").read_bytes() == before  # the old report is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]  # no half-written folder


def test_report_command(tmp_path, capsys):
    out = tmp_path / "r"
    assert (
        main(
            [
                "report",
                "jiaozuo-2019",
                "--out",
                str(out),
                "--paths",
                "8192",
                "--scenario",
                "baseline",
            ]
        )
        == 0
    )
    assert (out / "report.html").exists()
    assert main(["report", "jiaozuo-2019", "--out", str(out), "--paths", "8192"]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert main(["report", "jiaozuo-2019", "--out", str(tmp_path / "no" / "such" / "dir")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["report", "jiaozuo-2019", "--out", str(out), "--lang", "fr"]) == 2


def test_results_render_in_notebooks(jiaozuo):
    import pandas as pd

    fit = hz.fit(pd.Series({2008: 13593.0, 2018: 32345.0}, name="urban_income"))
    html = fit._repr_html_()
    assert "bayes-growth" in html and "<table" in html and "2019" in html
    assert list(fit.to_frame().columns)[:2] == ["name", "method"]
    paths = hz.simulate(jiaozuo, scenario="baseline", n_paths=2048, rng=1)
    assert "mengniu_output" in paths._repr_html_()
    res = hz.assess(jiaozuo, scenario="baseline", n_paths=2048, rng=1)
    assert "mengniu-2019" in res._repr_html_() and "<table" in res.to_html(lang="zh")
    assert "<table>" in jiaozuo._repr_html_() and "<table>" in jiaozuo.audit()._repr_html_()


def test_report_paths_cannot_be_steered_by_the_study(jiaozuo, tmp_path):
    """Names and quotes are text, never paths: only the two fixed files appear, in --out."""
    evil = jiaozuo.model_copy(update={"name_en": "../../escaped", "name_zh": "/etc/passwd"})
    out = hz.report.write_report(evil, tmp_path / "r", n_paths=8192, scenarios=["baseline"])
    names = sorted(p.name for p in tmp_path.rglob("*"))
    assert names == [".hzforecast-report.json", "r", "report.html", "summary.md"]
    assert out == tmp_path / "r"


CHROMIUM = "/usr/bin/chromium"
#: .ci/run installs Debian's chromium and fonts-noto-cjk and sets this: there the browser test
#: must run, not skip
REQUIRE_BROWSER = os.environ.get("HZ_REQUIRE_BROWSER") == "1"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
]  # fmt: skip


def _chromium(args, tmp_path, timeout=120):
    import subprocess

    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    try:
        return subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        if REQUIRE_BROWSER:
            raise
        pytest.skip("chromium is installed but did not answer within two minutes")


def _ink(png):
    """The screenshot as an array, and a mask of its dark (text) pixels."""
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    return img, img.sum(axis=2) < 300


def _glyphs(mask):
    """Bounding boxes of the characters on one line: columns with ink, split at gaps."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = mask.any(axis=0)
    boxes, start = [], None
    for x, on in enumerate([*cols, False]):
        if on and start is None:
            start = x
        elif not on and start is not None:
            boxes.append((start, x))
            start = None
    return [mask[rows[0] : rows[-1] + 1, a:b] for a, b in boxes]


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not REQUIRE_BROWSER,
    reason="Debian's chromium is not installed",
)
def test_report_renders_in_a_real_browser(jiaozuo, tmp_path):
    """Headless Chromium loads the Chinese report; the test looks at the picture: the figures
    are drawn (the fan charts' blue is on the page), and the report's fonts draw Chinese as
    real glyphs — the characters of a line differ from each other, where a missing font draws
    the same empty box for each."""
    from hzforecast.report import _CSS

    with chinese_figures():
        out = hz.report.write_report(
            jiaozuo, tmp_path / "r", n_paths=8192, lang="zh", scenarios=["baseline"]
        )
    url = (out / "report.html").as_uri()
    dom = _chromium(["--dump-dom", url], tmp_path)
    if not dom.stdout.strip():
        if REQUIRE_BROWSER:
            pytest.fail(f"chromium could not start: {dom.stderr[-300:]}")
        pytest.skip(f"chromium is installed but could not start: {dom.stderr[-200:]}")
    assert "目标可达性评估" in dom.stdout and "mengniu-2019" in dom.stdout
    shot = tmp_path / "shot.png"
    _chromium(["--window-size=1200,6000", f"--screenshot={shot}", url], tmp_path)
    img, _ = _ink(shot)
    blue = np.abs(img - np.array([31, 95, 168])).sum(axis=2) < 40  # the fan charts' median
    assert blue.sum() > 2000, f"no figure drawn ({blue.sum()} blue pixels)"
    # the report's own fonts, on one line of Chinese from the study
    page = tmp_path / "glyphs.html"
    text = "焦作高新区目标可达性"
    page.write_text(
        f"<html><head><meta charset='utf-8'><style>{_CSS} body{{margin:20px}} "
        f"p{{font-size:72px;letter-spacing:24px;color:#000;margin:0}}</style></head>"
        f"<body><p>{text}</p></body></html>",
        encoding="utf-8",
    )
    line = tmp_path / "line.png"
    _chromium(["--window-size=1400,200", f"--screenshot={line}", page.as_uri()], tmp_path)
    _, mask = _ink(line)
    glyphs = [g for g in _glyphs(mask) if g.shape[1] > 10]
    assert len(glyphs) >= len(text) - 2, f"{len(glyphs)} characters drawn for {len(text)}"
    shapes = {(g.shape, g.tobytes()) for g in glyphs}
    assert len(shapes) >= len(glyphs) - 1, (
        "the characters are drawn as identical boxes (no CJK font)"
    )


def test_the_library_leaves_global_state_alone(jiaozuo, tmp_path):
    """No matplotlib backend switch, no rcParams change, no umask change (issue 13)."""
    import matplotlib

    backend = matplotlib.get_backend()
    rc = dict(matplotlib.rcParams)
    umask = os.umask(0o022)
    os.umask(umask)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a machine without a CJK font warns; not the point here
        hz.report.write_report(jiaozuo, tmp_path / "r", n_paths=4096, lang="zh")
        paths = hz.simulate(jiaozuo, scenario="baseline", n_paths=2048, rng=1)
        ax = plot.fan_chart(paths, "gdp", study=jiaozuo, lang="zh")
        import matplotlib.pyplot as plt

        plt.close(ax.figure)
    assert matplotlib.get_backend() == backend
    assert dict(matplotlib.rcParams) == rc
    now = os.umask(0o022)
    os.umask(now)
    assert now == umask


def test_convergence_plot_draws_every_target():
    import matplotlib

    matplotlib.use("Agg")
    from pathlib import Path

    from hzforecast import plot

    s = hz.load_study(Path(__file__).resolve().parents[1] / "examples" / "xinxiang-toy.toml")
    res = hz.assess(s, n_paths=1024, rng=1, smoothing=False, target_se=0.01)
    ax = plot.convergence(res)
    assert len(ax.lines) == sum(r.assessable for r in res.targets)
    assert list(ax.lines[0].get_xdata()) == [h["n_paths"] for h in res.convergence]
    with pytest.raises(ValueError, match="no convergence record"):
        plot.convergence(hz.assess(s, n_paths=1024, rng=1))


def test_the_cjk_font_picker_prefers_simplified_chinese():
    from hzforecast.plot import _simplified_first

    names = ["Noto Sans CJK HK", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC"]
    assert min(names, key=_simplified_first) == "Noto Sans CJK SC"
    assert min(["Noto Sans CJK HK", "Noto Sans CJK"], key=_simplified_first) == "Noto Sans CJK"


def test_report_charts_every_indicator_with_a_target(jiaozuo, tmp_path):
    """#16: a chart for every indicator with a level or CAGR target (not the first six),
    each target marked, captions with names."""
    from html import unescape

    out = hz.report.write_report(jiaozuo, tmp_path / "r", n_paths=4096, scenarios=["baseline"])
    html = (out / "report.html").read_text(encoding="utf-8")
    res = hz.assess(jiaozuo, scenario="baseline", n_paths=4096, rng=1)
    want = {
        r.target.indicator
        for r in res.targets
        if r.assessable and r.target.measure in ("level", "cagr")
    }
    captions = re.findall(r"<figcaption[^>]*>(.*?)</figcaption>", html)
    for ind in want:
        name = jiaozuo.indicator(ind).name_en
        assert any(unescape(c).startswith(name) for c in captions), name
    assert html.count("<img") >= len(want)
    # a CAGR target is marked on its indicator's fan chart
    import matplotlib

    matplotlib.use("Agg")
    paths = hz.simulate(jiaozuo, scenario="baseline", n_paths=2048, rng=1)
    ax = plot.fan_chart(paths, "gdp", study=jiaozuo, target=["profile-2025-gdp-cagr"])
    stars = [ln for ln in ax.lines if ln.get_marker() == "*"]
    assert len(stars) == 1 and stars[0].get_xdata()[0] == 2025
