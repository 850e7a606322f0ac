"""Figures as Chinese planning documents write them.

Development plans and news articles state numbers with a unit of magnitude
(元, 万元 = 10^4 元, 亿元 = 10^8 元), a qualifier (以上 "or more", 左右 "about",
余 "more than") and growth phrased as multiples (增长35倍). This module turns such
text into a :class:`Figure` that keeps the value, the unit, the qualifier *as
meaning* and the text it came from, and converts between units.

Growth multiples need care: "增长N倍" (grew N-fold) means the value became
``N + 1`` times as large, while "增长到N倍" / "是N倍" means it became ``N`` times
as large. :func:`parse_figure` records which reading applies in
:attr:`Figure.kind`.

Examples
--------
>>> from hzforecast.figures import parse_figure, convert
>>> f = parse_figure("108.9亿元")
>>> f.value, f.unit, f.qualifier
(108.9, '亿元', 'exact')
>>> convert(5000, "万元", "亿元")
0.5
>>> parse_figure("7.5%以上").qualifier
'at_least'
>>> parse_figure("增长35倍").factor
36.0
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

__all__ = [
    "MONEY_UNITS",
    "UNITS",
    "Figure",
    "FigureError",
    "convert",
    "parse_figure",
]

Qualifier = Literal["exact", "at_least", "at_most", "about", "more_than", "less_than"]

#: Money units and their size in 元.
MONEY_UNITS: dict[str, float] = {"元": 1.0, "万元": 1e4, "亿元": 1e8}

#: Every unit a study may use, with its English reading.
UNITS: dict[str, str] = {
    "元": "yuan",
    "万元": "10^4 yuan",
    "亿元": "10^8 yuan",
    "%": "percent",
    "件": "items (patents)",
    "项": "items",
    "个": "units",
    "家": "enterprises/institutions",
    "人": "persons",
    "万人": "10^4 persons",
    "km²": "square kilometres",
    "km": "kilometres",
    "年": "years",
    "倍": "times",
    "件/万人": "items per 10^4 persons",
    "index": "index (dimensionless)",
}

_UNIT_ALIASES = {
    "平方公里": "km²",
    "平方千米": "km²",
    "公里": "km",
    "千米": "km",
    "亿": "亿元",
    "万": "万元",
}

_QUALIFIER_SUFFIX = {
    "以上": "at_least",
    "以下": "at_most",
    "左右": "about",
    "上下": "about",
    "多": "more_than",
}
_QUALIFIER_PREFIX = {
    "超过": "more_than",
    "超": "more_than",
    "逾": "more_than",
    "不低于": "at_least",
    "不少于": "at_least",
    "至少": "at_least",
    "不超过": "at_most",
    "不到": "less_than",
    "约": "about",
    "近": "less_than",
}

_NUM = r"(?P<num>[0-9]+(?:\.[0-9]+)?)"
_RANGE_SEP = r"\s*(?:%\s*)?(?:—|–|-|－|~|～|至|到)\s*"


class FigureError(ValueError):
    """A text that is not a figure this module can read."""


@dataclass(frozen=True)
class Figure:
    """A number as a source wrote it.

    Attributes
    ----------
    value : float
        The number in :attr:`unit` (for a range, the lower end).
    unit : str
        Unit as written, normalised (亿 → 亿元, 平方公里 → km²); ``""`` if none.
    qualifier : str
        ``exact``, ``at_least`` (以上, 不低于), ``at_most`` (以下), ``about`` (左右),
        ``more_than`` (余, 多, 超过), ``less_than`` (不到, 近).
    text : str
        The text parsed.
    high : float or None
        Upper end of a range such as "8%—8.5%".
    kind : str
        ``number``, ``range``, ``multiple_increase`` (增长N倍: became N+1 times) or
        ``multiple_of`` (增长到N倍, 是N倍: became N times).
    """

    value: float
    unit: str
    qualifier: Qualifier
    text: str
    high: float | None = None
    kind: Literal["number", "range", "multiple_increase", "multiple_of"] = "number"

    @property
    def factor(self) -> float:
        """For a multiple, the ratio new / old (增长35倍 → 36)."""
        if self.kind == "multiple_increase":
            return self.value + 1.0
        if self.kind == "multiple_of":
            return self.value
        raise FigureError(f"figure {self.text!r} is not a multiple (kind={self.kind!r})")

    def to(self, unit: str) -> float:
        """The value converted to ``unit`` (see :func:`convert`)."""
        return convert(self.value, self.unit, unit)

    def as_fraction(self) -> float:
        """A percentage as a fraction (2.8% → 0.028)."""
        if self.unit != "%":
            raise FigureError(f"figure {self.text!r} is not a percentage (unit {self.unit!r})")
        return self.value / 100.0

    @property
    def high_fraction(self) -> float | None:
        return None if self.high is None else self.high / 100.0


def _check_unit(unit: str, text: str) -> str:
    if unit and unit not in UNITS:
        raise FigureError(f"text: {text!r} has unit {unit!r}, which is not one of {sorted(UNITS)}")
    return unit


def _normalise_unit(unit: str) -> str:
    unit = unit.strip()
    return _UNIT_ALIASES.get(unit, unit)


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert ``value`` between money units (元, 万元, 亿元) or return it unchanged.

    Parameters
    ----------
    value : float
    from_unit, to_unit : str
        Units; money units convert by powers of ten, any other unit only to itself.

    Raises
    ------
    ValueError
        If the units are not convertible into each other.

    Examples
    --------
    >>> convert(1.5, "亿元", "万元")
    15000.0
    """
    from_unit, to_unit = _normalise_unit(from_unit), _normalise_unit(to_unit)
    if from_unit == to_unit:
        return float(value)
    if from_unit in MONEY_UNITS and to_unit in MONEY_UNITS:
        # Divide by the exact ratio of powers of ten so that 5000 万元 gives 0.5 亿元 exactly.
        exp_from = round(math.log10(MONEY_UNITS[from_unit]))
        exp_to = round(math.log10(MONEY_UNITS[to_unit]))
        # decimal arithmetic: 141.95亿元 is exactly 14195000000元, not 14194999999.999998
        return float(Decimal(repr(float(value))).scaleb(exp_from - exp_to))
    raise ValueError(f"unit: cannot convert from {from_unit!r} to {to_unit!r}")


_MULTIPLE_RE = re.compile(
    r"^(?P<verb>增长|增加|提高|翻)?(?P<to>到|为|了)?" + _NUM + r"(?P<unit>倍|番)$"
)
_RANGE_RE = re.compile(
    r"^(?P<lo>[0-9]+(?:\.[0-9]+)?)"
    + _RANGE_SEP
    + r"(?P<hi>[0-9]+(?:\.[0-9]+)?)(?P<unit>%|[^\d\s]*)$"
)


def parse_figure(text: str) -> Figure:
    """Parse a figure written the Chinese way.

    Parameters
    ----------
    text : str
        For example ``"108.9亿元"``, ``"5000万元"``, ``"2.8%"``, ``"8%—8.5%"``,
        ``"7.5%以上"``, ``"20%左右"``, ``"1200余项"``, ``"增长35倍"``, ``"33平方公里"``.

    Returns
    -------
    Figure

    Raises
    ------
    FigureError
        If the text holds no single figure.

    Notes
    -----
    "余" between the number and the measure word (1200余项) and "多" mean *more than*;
    "以上" means *at least* (Chinese statistical usage includes the bound); "左右"
    means *about*. "增长N倍" is read as "became N+1 times as large"; "增长到N倍" as
    "became N times as large"; "翻N番" as "became 2^N times as large".
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected str, got {type(text).__name__}")
    s = text.strip().replace(",", "").replace("，", "").replace(" ", "")
    if not s:
        raise FigureError("text: empty string is not a figure")

    m = _MULTIPLE_RE.match(s)
    if m:
        n = _finite(m["num"], text)
        if m["unit"] == "番":  # 翻N番: doubled N times
            if n > 1000:
                raise FigureError(f"text: {text!r} doubles {n:g} times, beyond any figure")
            return Figure(2.0**n, "倍", "exact", text, kind="multiple_of")
        kind = (
            "multiple_of" if m["to"] in ("到", "为") or m["verb"] is None else "multiple_increase"
        )
        return Figure(n, "倍", "exact", text, kind=kind)

    qualifier: Qualifier = "exact"
    for prefix, q in _QUALIFIER_PREFIX.items():
        if s.startswith(prefix):
            s = s[len(prefix) :]
            qualifier = q  # type: ignore[assignment]
            break
    for suffix, q in _QUALIFIER_SUFFIX.items():
        if s.endswith(suffix) and len(s) > len(suffix):
            if qualifier != "exact":
                raise FigureError(f"text: {text!r} has two qualifiers")
            s = s[: -len(suffix)]
            qualifier = q  # type: ignore[assignment]
            break

    m = _RANGE_RE.match(s)
    if m:
        lo, hi = _finite(m["lo"], text), _finite(m["hi"], text)
        if hi < lo:
            raise FigureError(f"text: range {text!r} has its upper end below its lower end")
        unit = _check_unit(_normalise_unit(m["unit"]), text)
        return Figure(lo, unit, qualifier, text, high=hi, kind="range")

    m = re.match(_NUM + r"(?P<yu>余|多)?(?P<unit>.*)$", s)
    if not m or (m["unit"] and re.search(r"[0-9]", m["unit"])):
        raise FigureError(f"text: {text!r} is not a figure this parser reads")
    if m["yu"]:
        if qualifier != "exact":
            raise FigureError(f"text: {text!r} has two qualifiers")
        qualifier = "more_than"
    unit = _check_unit(_normalise_unit(m["unit"]), text)
    # measure words that only count things (项, 件, 个, 家) are kept as the unit
    return Figure(_finite(m["num"], text), unit, qualifier, text)


def _finite(digits: str, text: str) -> float:
    """The number written ``digits``, refused when it is beyond the range of a float."""
    v = float(digits)
    if not math.isfinite(v):
        raise FigureError(f"text: the number in {text[:40]!r} is too large")
    return v
