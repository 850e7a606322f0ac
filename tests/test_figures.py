"""Figures written the Chinese way: parse, qualify, convert."""

import pytest

from hzforecast.figures import FigureError, convert, parse_figure


@pytest.mark.parametrize(
    ("text", "value", "unit", "qualifier"),
    [
        ("108.9亿元", 108.9, "亿元", "exact"),
        ("5000万元", 5000.0, "万元", "exact"),
        ("1.5亿元", 1.5, "亿元", "exact"),
        ("2.8%", 2.8, "%", "exact"),
        ("7.5%以上", 7.5, "%", "at_least"),
        ("20%左右", 20.0, "%", "about"),
        ("1200余项", 1200.0, "项", "more_than"),
        ("80余项", 80.0, "项", "more_than"),
        ("33平方公里", 33.0, "km²", "exact"),
        ("110公里", 110.0, "km", "exact"),
        ("13593元", 13593.0, "元", "exact"),
        ("超亿元", None, None, None),
        ("超过10亿元", 10.0, "亿元", "more_than"),
        ("1,200件", 1200.0, "件", "exact"),
    ],
)
def test_parse_numbers(text, value, unit, qualifier):
    if value is None:
        with pytest.raises(FigureError, match="not a figure"):
            parse_figure(text)
        return
    f = parse_figure(text)
    assert f.value == value
    assert f.unit == unit
    assert f.qualifier == qualifier
    assert f.text == text
    assert f.kind == "number"


def test_range_keeps_both_ends():
    f = parse_figure("8%—8.5%")
    assert (f.value, f.high, f.unit, f.kind) == (8.0, 8.5, "%", "range")
    assert f.as_fraction() == 0.08
    assert f.high_fraction == 0.085
    assert parse_figure("8%-8.5%").high == 8.5
    assert parse_figure("8至10亿元").unit == "亿元"


def test_range_reversed_is_an_error():
    with pytest.raises(FigureError, match="upper end below"):
        parse_figure("9%—8%")


def test_multiples_mean_n_plus_one():
    # 增长35倍: the value became 36 times as large
    assert parse_figure("增长35倍").factor == 36.0
    assert parse_figure("增长了33倍").factor == 34.0
    # 增长到N倍 / N倍: N times as large
    assert parse_figure("增长到36倍").factor == 36.0
    assert parse_figure("36倍").factor == 36.0
    # 翻两番 is written with a digit here: 翻2番 = 4 times
    assert parse_figure("翻2番").factor == 4.0


def test_factor_of_a_plain_number_is_an_error():
    with pytest.raises(FigureError, match="not a multiple"):
        parse_figure("3.9亿元").factor


def test_percent_required_for_fraction():
    with pytest.raises(FigureError, match="not a percentage"):
        parse_figure("3.9亿元").as_fraction()


@pytest.mark.parametrize("text", ["", "   ", "亿元", "abc", "1.2.3亿元", "7.5%以上左右"])
def test_not_figures(text):
    with pytest.raises(FigureError):
        parse_figure(text)


def test_type_error():
    with pytest.raises(TypeError, match="expected str"):
        parse_figure(3.9)


def test_money_conversion_exact():
    assert convert(5000, "万元", "亿元") == 0.5
    assert convert(1.5, "亿元", "万元") == 15000.0
    assert convert(141.95, "亿元", "元") == 14195000000.0
    assert convert(13593, "元", "万元") == 1.3593
    assert parse_figure("5000万元").to("亿元") == 0.5
    assert convert(3.0, "亿", "万元") == 30000.0  # 亿 alone means 亿元


def test_conversion_between_unrelated_units_is_an_error():
    with pytest.raises(ValueError, match="cannot convert from '亿元' to '%'"):
        convert(1.0, "亿元", "%")
