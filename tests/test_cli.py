"""The command line: show, audit, run; one clear line and a non-zero exit on bad input."""

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import hzforecast as hz
from hzforecast.cli import main

TOY = str(
    __import__("pathlib").Path(__file__).resolve().parents[1] / "examples" / "xinxiang-toy.toml"
)


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_show(capsys):
    code, out, _ = run(capsys, "show", "jiaozuo-2019")
    assert code == 0
    assert "14195亿元" in out and "[alternative 141.95亿元, assumed]" in out
    assert "“蒙牛产业集群产值首次突破百亿元大关,达到108.9亿元。” (article)" in out
    code, out, _ = run(capsys, "show", "jiaozuo-2019", "--lang", "zh")
    assert "地区生产总值" in out


def test_audit(capsys):
    code, out, _ = run(capsys, "audit", "jiaozuo-2019")
    # an ERROR finding exits 1 (the article's 14195亿元), as a linter does
    assert code == 1 and "ERROR multiple-mismatch: [gdp]" in out and "141.95" in out
    code, out, _ = run(capsys, "audit", TOY)
    assert code == 0 and "ERROR" not in out


def test_run_table(capsys):
    code, out, _ = run(
        capsys,
        "run",
        "jiaozuo-2019",
        "--scenario",
        "baseline",
        "--paths",
        "4096",
        "--seed",
        "1",
        "--no-progress",
    )
    assert code == 0
    assert "Scenario 'baseline' (Baseline (the plan)): 4,096 paths, Monte Carlo, seed 1" in out
    assert "mengniu-2019" in out and "Audit of 'jiaozuo-2019'" in out


def test_run_csv_and_json_agree(capsys):
    args = [
        "run",
        "jiaozuo-2019",
        "--scenario",
        "pessimistic",
        "--paths",
        "8192",
        "--seed",
        "2",
        "--method",
        "qmc",
        "--no-progress",
    ]
    _, out_csv, _ = run(capsys, *args, "--format", "csv")
    _, out_json, _ = run(capsys, *args, "--format", "json")
    from io import StringIO

    assert out_csv.startswith("\ufeff")  # Excel reads the Chinese
    frame = pd.read_csv(StringIO(out_csv[1:]))
    data = json.loads(out_json, parse_constant=_refuse)
    rows = data["results"][0]["targets"]
    assert data["results"][0]["method"] == "qmc"
    m = frame.set_index("id").loc["mengniu-2019"]
    j = next(r for r in rows if r["id"] == "mengniu-2019")
    assert m.p_in_year == pytest.approx(j["p_in_year"], rel=1e-9)  # CSV: 10 digits
    assert set(frame.scenario) == {"pessimistic"} and set(frame.seed) == {2}


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["run", "jiaozuo-2019", "--scenario", "worst"], "scenario: unknown id 'worst'"),
        (["run", "jiaozuo-2019", "--paths", "0"], "--paths: must be at least 1, got 0"),
        (["run", "jiaozuo-2019", "--seed", "-3"], "argument --seed: must be non-negative"),
        (["show", "no-such-study"], "no-such-study: no such file, and not a built-in study"),
    ],
)
def test_errors_are_one_line(capsys, argv, match):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert match in err
    assert len(err.strip().splitlines()) == 1


def test_invalid_file_lists_problems(capsys, tmp_path):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"id": "x"}), encoding="utf-8")
    code, _, err = run(capsys, "audit", str(p))
    assert code == 2
    first = err.splitlines()[0]
    assert first.startswith(f"hzforecast: error: {p}: ") and "more problem(s)" in first


def test_console_script_runs():
    out = subprocess.run(
        [sys.executable, "-m", "hzforecast", "audit", "jiaozuo-2019"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1 and "multiple-mismatch" in out.stdout


def _refuse(token):
    raise ValueError(f"not JSON: {token}")


def test_json_output_is_strict_json_even_at_the_extremes(capsys, tmp_path):
    """Issue 12, item 9: a level observed at 5e-324 made --format json write Infinity (and a
    required growth of inf, where the true value is finite)."""
    from .conftest import base_doc, make

    doc = base_doc()
    doc["indicators"][0]["observations"][0].update(value=5e-324)
    del doc["indicators"][0]["observations"][0]["text"]
    path = tmp_path / "tiny.json"
    hz.write_study(make(doc), path)
    code, out, err = run(capsys, "run", str(path), "--paths", "4096", "--format", "json")
    assert code == 0, err
    data = json.loads(out, parse_constant=_refuse)  # NaN / Infinity would raise
    row = next(r for r in data["results"][0]["targets"] if r["id"] == "gdp-2023")
    # from 5e-324 to 140 in 5 years: exp((ln 140 - ln 5e-324) / 5) - 1, finite
    expected = math.expm1((math.log(140.0) - math.log(5e-324)) / 5)
    assert row["required_growth"] == pytest.approx(expected, rel=1e-12)


def _children(pid):
    """Process ids whose parent is ``pid`` (from /proc)."""
    import os

    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def _cli(*argv):
    return subprocess.Popen(
        [sys.executable, "-m", "hzforecast", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_ctrl_c_during_run_is_one_line_and_exit_130():
    import signal
    import time

    p = _cli("run", "jiaozuo-2019", "--paths", "50000000", "--no-progress")
    time.sleep(3)  # past start-up, into the simulation
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130
    assert err == "hzforecast: interrupted\n" and out == ""


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_a_killed_worker_is_one_line_and_exit_1():
    import os
    import signal
    import time

    p = _cli("run", "jiaozuo-2019", "--paths", "50000000", "--workers", "2", "--no-progress")
    deadline = time.monotonic() + 60
    workers = []
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = [c for c in _children(p.pid) if c != p.pid]
    assert workers, "no worker process started"
    time.sleep(1)
    os.kill(workers[-1], signal.SIGKILL)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 1 and out == ""
    assert err.startswith("hzforecast: error: a worker process died") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (
            ["run", "jiaozuo-2019", "--paths", "1"],
            "n_paths: at least 100 paths are needed for a probability and its Monte Carlo error",
        ),
        (
            [
                "sensitivity",
                "jiaozuo-2019",
                "--target",
                "mengniu-2019",
                "--method",
                "sobol",
                "--paths",
                "2",
            ],
            "n_base: at least 64 base points are needed",
        ),
    ],
)
def test_too_few_paths_are_refused_not_misdiagnosed(capsys, argv, match):
    """Issue 12, item 10: --paths 1 claimed the parameters overflow; 2-3 paths and 2 Sobol'
    base points gave meaningless numbers without a word."""
    code, _, err = run(capsys, *argv)
    assert code == 2 and match in err and err.count("\n") == 1


def test_no_arguments_prints_the_usage(capsys):
    code, out, _ = run(capsys)
    assert code == 0 and "usage: hzforecast" in out and "whatif" in out


@pytest.mark.parametrize(
    "args",
    [
        ("whatif", TOY, "--target", "gdp-2025", "--paths", "4096"),
        ("sensitivity", TOY, "--target", "gdp-2025", "--paths", "1024"),
        ("sensitivity", TOY, "--target", "plan-2025", "--paths", "1024"),
        ("discover", TOY, "--group", "plan-2025", "--paths", "4096"),
    ],
)
def test_levers_use_the_default_scenario(capsys, args):
    """A study without a 'baseline' scenario: the tools use its default and say so."""
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert "Scenario 'plan' (Plan) — the study's default" in out


def test_qmc_paths_are_rounded_up_with_a_note(capsys):
    code, out, err = run(
        capsys,
        "run",
        TOY,
        "--paths",
        "1000",
        "--method",
        "qmc",
        "--format",
        "json",
        "--no-progress",
    )
    assert code == 0 and "1,000 paths rounded up to 1,024" in err
    assert json.loads(out)["results"][0]["n_paths"] == 1024


def test_run_until_precise(capsys):
    """--target-se doubles the paths from --paths until every SE reaches it, and gives the
    numbers a single assess() run of the final size gives (the same seed)."""
    code, out, err = run(
        capsys, "run", TOY, "--paths", "1024", "--target-se", "0.004", "--format", "json",
        "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    res = json.loads(out)["results"][0]
    n = res["n_paths"]
    assert n > 1024 and n & (n - 1) == 0
    keys = ("p_in_year_se", "p_by_year_se")
    ses = [t[k] for t in res["targets"] if t["assessable"] for k in keys]
    assert max(ses) <= 0.004
    one = hz.assess(hz.load_study(TOY), n_paths=n, rng=np.random.SeedSequence(20190128),
                    progress=False)  # fmt: skip
    p = {t.id: t.p_in_year.value for t in one.targets if t.assessable}
    p.update({g.group_id: g.p_all_in_year.value for g in one.groups})
    assert {t["id"]: t["p_in_year"] for t in res["targets"] if t["assessable"]} == p


def test_run_target_se_must_be_a_standard_error(capsys):
    code, _, err = run(capsys, "run", TOY, "--target-se", "2")
    assert code == 2 and "--target-se" in err and "(0, 0.5)" in err


def test_report_on_a_study_without_a_baseline(capsys, tmp_path):
    """The new user's report on their own study (its only scenario is 'plan')."""
    out_dir = tmp_path / "rep"
    code, _, err = run(capsys, "report", TOY, "--out", str(out_dir), "--paths", "1024")
    assert code == 0, err
    summary = (out_dir / "summary.md").read_text(encoding="utf-8")
    assert "- scenarios: plan" in summary and "## Targets — plan" in summary
    assert "gdp-2025" in (out_dir / "report.html").read_text(encoding="utf-8")
