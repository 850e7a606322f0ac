"""Backtests and batch forecasts: the rows, the scores and the command."""

import io
import json
import math

import numpy as np
import pandas as pd
import pytest

import hzforecast as hz
from hzforecast import scores
from hzforecast.batch import forecast_table
from hzforecast.cli import main


def simulated_series(rng, n=25, mu=0.04, sigma=0.08):
    y = np.log(100.0) + np.cumsum(mu + sigma * rng.standard_normal(n))
    return pd.Series(np.exp(y), index=np.arange(2000, 2000 + n))


def test_backtest_rows_and_summary_are_consistent():
    rng = np.random.default_rng(2)
    data = {f"s{i}": simulated_series(rng) for i in range(5)}
    bt = hz.backtest(data, horizon=3, origins="rolling", min_train=10)
    f = bt.frame
    # every origin from 10 observations to n - 3, three horizons, five series
    assert len(f) == 5 * (25 - 3 - 10 + 1) * 3
    s = bt.summary()
    assert s["smape"] == pytest.approx(f["smape"].mean())
    assert s["coverage_80"] == pytest.approx(f["in_80"].mean())
    last = f[f.h == 3]
    assert s["brier"] == pytest.approx(scores.brier(last.p_event, last.event))
    assert np.all((f.pit >= 0) & (f.pit <= 1))
    assert bt.pit_histogram().sum() == pytest.approx(1.0)


def test_backtest_crps_is_the_log_scale_crps_by_integration():
    """The row's CRPS is that of the fitted Student-t on the log scale, scaled by the mean
    absolute change of the log training data (checked by numerical integration)."""
    from scipy import stats

    from .test_scores import crps_by_integration

    s = simulated_series(np.random.default_rng(4), n=14)
    bt = hz.backtest({"s": s}, horizon=2, origins="last", min_train=10)
    row = bt.frame.iloc[1]
    train = s.iloc[:12]
    res = hz.fit(train, model="bayes-growth")
    loc, sc_, df = res.predictive(np.array([2]))
    z = np.log(train.to_numpy())
    want = crps_by_integration(stats.t(df, loc[0], sc_[0]), math.log(s.iloc[13]))
    assert row.h == 2
    assert row.crps_scaled == pytest.approx(want / np.mean(np.abs(np.diff(z))), rel=1e-6)


def test_backtest_is_calibrated_on_its_own_model():
    """Series drawn from a random walk with drift: intervals cover about as promised.

    With 60 series x 12 origins x 2 horizons (correlated within a series) we allow a wide
    band; the point is that coverage is near nominal, not 0.6 as for plug-in intervals."""
    rng = np.random.default_rng(7)
    data = {f"s{i}": simulated_series(rng, n=30, mu=0.0, sigma=0.04) for i in range(60)}
    s = hz.backtest(data, horizon=2, min_train=16).summary()
    assert 0.72 < s["coverage_80"] < 0.9
    assert 0.9 < s["coverage_95"] < 0.99


def test_backtest_last_origin_and_errors():
    s = simulated_series(np.random.default_rng(1), n=12)
    bt = hz.backtest(s, horizon=4, origins="last")
    assert list(bt.frame.origin.unique()) == [2007] and list(bt.frame.h) == [1, 2, 3, 4]
    with pytest.raises(ValueError, match=r"horizon: must be a whole number >= 1, got 0"):
        hz.backtest(s, horizon=0)
    with pytest.raises(ValueError, match=r"origins: expected 'rolling' or 'last'"):
        hz.backtest(s, horizon=2, origins="first")
    with pytest.raises(ValueError, match=r"no series is long enough"):
        hz.backtest(s.iloc[:3], horizon=2, min_train=2)


def test_forecast_table_matches_fit():
    data = pd.DataFrame(
        {
            "series": ["a", "a", "b", "b", "b"],
            "year": [2008, 2018, 2010, 2015, 2020],
            "value": [13593.0, 32345.0, 1.0, 1.5, 2.0],
        }
    )
    targets = pd.DataFrame({"series": ["b"], "year": [2022], "threshold": [2.4]})
    out = forecast_table(data, horizon=2, quantiles=["0.05"], targets=targets)
    assert list(out.columns) == [
        "series",
        "year",
        "mean",
        "median",
        "lower_80",
        "upper_80",
        "lower_95",
        "upper_95",
        "q0.05",
        "p_reach",
        "note",
        "n_obs",
        "method",
    ]
    rb = hz.fit(pd.Series({2010: 1.0, 2015: 1.5, 2020: 2.0}, name="b"))
    row = out[(out.series == "b") & (out.year == 2022)].iloc[0]
    assert row.p_reach == pytest.approx(rb.prob_reach(2.4, 2022))
    assert row["median"] == pytest.approx(float(rb.forecast(2)["median"].iloc[1]))
    assert math.isnan(out[(out.series == "a")].p_reach.iloc[0])


def test_forecast_command(tmp_path, capsys):
    f = tmp_path / "in.csv"
    f.write_text("series,year,value\ngdp,2004,3.9\ngdp,2018,141.95\n", encoding="utf-8")
    t = tmp_path / "t.csv"
    t.write_text("series,year,threshold\ngdp,2020,170\n", encoding="utf-8")
    assert (
        main(
            [
                "forecast",
                str(f),
                "--horizon",
                "3",
                "--quantiles",
                "0.05,0.95",
                "--targets",
                str(t),
                "--format",
                "json",
            ]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert [r["year"] for r in rows] == [2019, 2020, 2021]
    assert {"q0.05", "q0.95", "lower_80", "upper_95", "p_reach"} <= set(rows[0])
    assert rows[0]["p_reach"] is None and 0 < rows[1]["p_reach"] < 1


@pytest.mark.parametrize(
    ("content", "extra", "match"),
    [
        ("series,year,val\na,2018,1\n", [], r"missing column\(s\) \['value'\]"),
        ("series,year,value\na,2018,x\n", [], r"line 2, column 'value': expected a number, got"),
        ("series,year,value\na,2018.5,1\n", [], r"line 2, column 'year': expected a whole year"),
        (
            "series,year,value\na,2018,1\na,2018,2\n",
            [],
            r"line 3: duplicate year 2018 for series 'a'",
        ),
        (
            "series,year,value\na,2014,1\na,2015,1,234\n",
            [],
            r"line 3: 4 fields, the header has 3 — a number with a thousands separator must be "
            r"quoted",
        ),
        ("series,year,value\na,2018,nan\n", [], r"line 2, column 'value': expected a number"),
        ("series,year,value\na,2018,inf\n", [], r"line 2, column 'value': expected a number"),
        ("series,year,value\n,2018,1\n", [], r"line 2, column 'series': empty series name"),
        (
            "series,year,value\na,2018,1\na,2019,2\n",
            ["--levels", "0.8"],
            r"levels: 0\.8 asks for a 0\.8% interval; levels are percentages — did you mean 80\?",
        ),
        (
            "series,year,value\na,2018,1\na,2019,2\n",
            ["--horizon", "1000000000"],
            r"horizon: 1000000000 years after 2019 goes past 2100",
        ),
        (
            "series,year,value\na,2018,-1\na,2019,2\n",
            [],
            r"series 'a': history: a level must be "
            r"positive",
        ),
        (
            "series,year,value\na,2018,1\na,2019,2\n",
            ["--levels", "80,x"],
            r"--levels: expected comma-separated numbers, got 'x'",
        ),
    ],
)
def test_forecast_command_errors(tmp_path, capsys, content, extra, match):
    import re

    f = tmp_path / "in.csv"
    f.write_text(content, encoding="utf-8")
    args = ["forecast", str(f), "--horizon", "2", *extra]
    if "--horizon" in extra:
        args = ["forecast", str(f), *extra]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert re.search(match, err) and len(err.strip().splitlines()) == 1


def test_batch_forecast_with_an_executor_is_identical():
    from concurrent.futures import ProcessPoolExecutor

    rng = np.random.default_rng(3)
    rows = [
        (f"s{i}", 2000 + j, float(100 * np.exp(0.05 * j + 0.1 * rng.standard_normal())))
        for i in range(30)
        for j in range(8)
    ]
    data = pd.DataFrame(rows, columns=["series", "year", "value"])
    serial = forecast_table(data, horizon=3)
    with ProcessPoolExecutor(2) as ex:
        parallel = forecast_table(data, horizon=3, executor=ex, chunk_series=7)
    assert serial.equals(parallel)


def test_forecast_reads_exactly_what_the_file_says(tmp_path, capsys):
    """Issue 12, item 8: names pandas would take for missing values are names; a quoted
    thousands separator is a number; line numbers are the file's; output has a BOM, short
    numbers and whole years."""
    f = tmp_path / "in.csv"
    f.write_text(
        "\ufeffseries,year,value\n"
        "NA,2014,1\nNA,2018,2\nnull,2014,1\nnull,2018,2\nNone,2014,1\nNone,2018,2\n"
        'nan,2014,1\nnan,2018,2\n焦作,2014,"1,234.5"\n焦作,2018,"1,500"\n',
        encoding="utf-8",
    )
    assert main(["forecast", str(f), "--horizon", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("\ufeffseries,year,")
    table = pd.read_csv(io.StringIO(out[1:]), keep_default_na=False, dtype={"series": str})
    assert table["series"].tolist() == ["NA", "null", "None", "nan", "焦作"]
    assert table["year"].tolist() == [2019] * 5 and "2019.0" not in out
    median = out.splitlines()[-1].split(",")[3]
    assert len(median.replace(".", "").lstrip("0")) <= 10  # ten significant digits, not 17
    assert main(["forecast", str(f), "--horizon", "1", "--no-bom"]) == 0
    assert capsys.readouterr().out.startswith("series,")


def test_one_unassessable_target_does_not_abort_the_batch():
    data = pd.DataFrame(
        {"series": ["a", "a", "b", "b"], "year": [2010, 2018, 2010, 2018], "value": [1, 2, 1, 2.0]}
    )
    targets = pd.DataFrame(
        {"series": ["a", "b", "b"], "year": [2018, 2025, 2020], "threshold": [3.0, 4.0, 2.5]}
    )
    out = forecast_table(data, horizon=2, targets=targets)
    a = out[out.series == "a"]
    assert a.note.iloc[0] == "target not assessed: 2018 is not after the last observation (2018)"
    b = out[out.series == "b"]
    assert b.year.tolist() == list(range(2019, 2026))  # forecast out to the 2025 target
    p = b.set_index("year").p_reach
    rb = hz.fit(pd.Series({2010: 1.0, 2018: 2.0}, name="b"))
    assert p[2025] == pytest.approx(rb.prob_reach(4.0, 2025))
    assert p[2020] == pytest.approx(rb.prob_reach(2.5, 2020))
    with pytest.raises(ValueError, match=r"targets: series 'c' is not in the data"):
        forecast_table(data, horizon=2, targets=targets.assign(series="c"))
