"""The command line: show, audit, run; one clear line and a non-zero exit on bad input."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from hzforecast.cli import main


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
    assert code == 0 and "ERROR multiple-mismatch: [gdp]" in out and "141.95" in out


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
    assert "Scenario 'baseline' — 4,096 paths, method mc, seed entropy 1" in out
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

    frame = pd.read_csv(StringIO(out_csv))
    data = json.loads(out_json)
    rows = data["results"][0]["targets"]
    assert data["results"][0]["method"] == "qmc"
    m = frame.set_index("id").loc["mengniu-2019"]
    j = next(r for r in rows if r["id"] == "mengniu-2019")
    assert m.p_in_year == pytest.approx(j["p_in_year"], rel=1e-12)
    assert set(frame.scenario) == {"pessimistic"} and set(frame.seed) == {2}


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["run", "jiaozuo-2019", "--scenario", "worst"], "scenario: unknown id 'worst'"),
        (["run", "jiaozuo-2019", "--paths", "0"], "--paths: must be at least 1, got 0"),
        (
            ["run", "jiaozuo-2019", "--paths", "1000", "--method", "qmc"],
            "--paths: --method qmc needs a power of two, got 1000",
        ),
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
        check=True,
    )
    assert "multiple-mismatch" in out.stdout
