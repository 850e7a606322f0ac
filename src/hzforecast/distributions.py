"""Distributions for scenario assumptions.

A scenario says "GDP grows 8–8.5% a year", not "8.25%". Each uncertain
assumption is one of the distributions below; the engine draws it once per
path (parameter uncertainty) through its quantile function, so that plain
Monte Carlo, antithetic pairs, quasi-Monte Carlo and rank-correlated draws all
go through one door: ``ppf(u)`` for uniforms ``u`` in (0, 1).

All are pydantic models (frozen, unknown fields rejected) tagged by ``dist``:

============  =====================================  =======================================
``dist``      fields                                 meaning
============  =====================================  =======================================
fixed         value                                  no uncertainty
uniform       low, high                              every value in [low, high] equally likely
triangular    low, mode, high                        peak at mode
normal        mean, sd, [low], [high]                optionally truncated to [low, high]
lognormal     mu, sigma, [low], [high]               exp(N(mu, sigma²)), optionally truncated
pert          low, mode, high, [lamb = 4]            Beta-PERT (Vose 2008)
studentt      df, loc, scale, [low], [high]          a fitted drift's posterior (t)
empirical     values, [source]                       each value equally likely (outcomes seen)
============  =====================================  =======================================

Quantiles come from :mod:`scipy.stats` (``uniform``, ``triang``, ``truncnorm``,
``lognorm``, ``beta``); we do not re-implement them. The empirical distribution's quantile
is the inverse of its step CDF (``numpy.quantile(..., method="inverted_cdf")``): every draw
is one of the values seen, so outcomes that bunch on a plan's floor stay on it.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

__all__ = [
    "Distribution",
    "Empirical",
    "Fixed",
    "LogNormal",
    "Normal",
    "Pert",
    "StudentT",
    "Triangular",
    "Uniform",
]

Finite = Annotated[float, Strict(), Field(allow_inf_nan=False)]


class _Dist(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @property
    def is_fixed(self) -> bool:
        return False

    def _frozen(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function evaluated at uniforms ``u`` in (0, 1)."""
        return np.asarray(self._frozen().ppf(u), dtype=float)

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        return np.asarray(self._frozen().cdf(x), dtype=float)

    def median(self) -> float:
        return float(self.ppf(np.array([0.5]))[0])

    def mean(self) -> float:
        return float(self._frozen().mean())

    def quantile(self, q: float) -> float:
        return float(self.ppf(np.array([q]))[0])

    def support(self) -> tuple[float, float]:
        lo, hi = self._frozen().support()
        return float(lo), float(hi)

    def describe(self, *, lang: str = "en") -> str:
        d = {k: v for k, v in self.model_dump().items() if k != "dist" and v is not None}
        if lang == "zh":
            name = _ZH_NAMES.get(self.dist, self.dist)  # type: ignore[attr-defined]
            fields = ",".join(f"{_ZH_FIELDS.get(k, k)} {v:g}" for k, v in d.items())
            return f"{name}({fields})"
        fields = ", ".join(f"{k}={v:g}" for k, v in d.items())
        return f"{self.dist}({fields})"  # type: ignore[attr-defined]


#: Distribution and field names in Chinese (for the Chinese tables and reports).
_ZH_NAMES = {
    "fixed": "固定值", "uniform": "均匀分布", "triangular": "三角分布", "normal": "正态分布",
    "lognormal": "对数正态分布", "pert": "PERT分布", "studentt": "t分布", "empirical": "经验分布",
}  # fmt: skip
_ZH_FIELDS = {
    "value": "值", "low": "下限", "high": "上限", "mode": "众数", "mean": "均值", "sd": "标准差",
    "mu": "μ", "sigma": "σ", "lamb": "λ", "df": "自由度", "loc": "位置", "scale": "尺度",
}  # fmt: skip

#: The most extreme uniforms the engine can draw (53-bit floats in (0, 1)).
_EXTREME_U = np.array([2.0**-53, 0.5, 1.0 - 2.0**-53])


def _check_finite(dist) -> None:
    """Every value the engine can draw, and the mean, must be finite floats: ``mu = 1000``
    would give a log-normal whose every draw is ``inf``."""
    import warnings

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            q = dist.ppf(_EXTREME_U)
            m = dist.mean()
        except (OverflowError, ValueError, ZeroDivisionError):
            q, m = np.full(3, np.inf), math.inf
    if not (np.all(np.isfinite(q)) and math.isfinite(m)):
        fields = ", ".join(
            f"{k}={v:g}" for k, v in dist.model_dump().items() if k != "dist" and v is not None
        )
        raise ValueError(
            f"{dist.dist}({fields}): its draws or its mean are beyond the range of a float "
            f"(quantiles {q[0]:g}, {q[1]:g}, {q[2]:g}; mean {m:g})"
        )


def _check_mode(low, mode, high):
    if not (low <= mode <= high and high > low):
        raise ValueError(
            f"need low <= mode <= high with low < high, got low={low}, mode={mode}, high={high}"
        )


class Fixed(_Dist):
    """A known value: ``{dist = "fixed", value = 0.08}``."""

    dist: Literal["fixed"] = "fixed"
    value: Finite

    @property
    def is_fixed(self) -> bool:
        return True

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=float)

    def cdf(self, x):
        return np.asarray(np.asarray(x) >= self.value, dtype=float)

    def mean(self) -> float:
        return self.value

    def support(self) -> tuple[float, float]:
        return self.value, self.value


class Uniform(_Dist):
    """Every value in ``[low, high]`` equally likely: a plan's "8%—8.5%"."""

    dist: Literal["uniform"] = "uniform"
    low: Finite
    high: Finite

    @model_validator(mode="after")
    def _check(self):
        if not self.high > self.low:
            raise ValueError(f"high: must be greater than low ({self.low}), got {self.high}")
        _check_finite(self)
        return self

    def _frozen(self):
        from scipy import stats

        return stats.uniform(loc=self.low, scale=self.high - self.low)

    # closed forms (no scipy.stats object: reading a study stays fast)
    def ppf(self, u):
        return self.low + np.asarray(u, dtype=float) * (self.high - self.low)

    def cdf(self, x):
        return np.clip((np.asarray(x, dtype=float) - self.low) / (self.high - self.low), 0, 1)

    def mean(self) -> float:
        return (self.low + self.high) / 2

    def support(self) -> tuple[float, float]:
        return float(self.low), float(self.high)


class Triangular(_Dist):
    """Triangular on ``[low, high]`` with its peak at ``mode``."""

    dist: Literal["triangular"] = "triangular"
    low: Finite
    mode: Finite
    high: Finite

    @model_validator(mode="after")
    def _check(self):
        _check_mode(self.low, self.mode, self.high)
        _check_finite(self)
        return self

    def _frozen(self):
        from scipy import stats

        scale = self.high - self.low
        return stats.triang(c=(self.mode - self.low) / scale, loc=self.low, scale=scale)

    # closed forms (tests/test_distributions.py checks them against scipy.stats.triang)
    def ppf(self, u):
        a, c, b = self.low, self.mode, self.high
        u = np.asarray(u, dtype=float)
        fc = (c - a) / (b - a)
        with np.errstate(invalid="ignore"):
            lo = a + np.sqrt(u * (b - a) * (c - a))
            hi = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(u < fc, lo, hi)

    def cdf(self, x):
        a, c, b = self.low, self.mode, self.high
        x = np.clip(np.asarray(x, dtype=float), a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            below = (x - a) ** 2 / ((b - a) * (c - a)) if c > a else np.zeros_like(x)
            above = 1 - (b - x) ** 2 / ((b - a) * (b - c)) if b > c else np.ones_like(x)
        return np.where(x < c, below, above)

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def support(self) -> tuple[float, float]:
        return float(self.low), float(self.high)


def _check_truncation(low, high, what):
    if low is not None and high is not None and not high > low:
        raise ValueError(f"{what}: truncation high must be greater than low, got [{low}, {high}]")


class Normal(_Dist):
    """Normal with mean ``mean`` and standard deviation ``sd``, optionally truncated."""

    dist: Literal["normal"] = "normal"
    mean_: Finite = Field(alias="mean")
    sd: Finite = Field(gt=0)
    low: Finite | None = None
    high: Finite | None = None

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True
    )

    @model_validator(mode="after")
    def _check(self):
        from scipy import special

        _check_truncation(self.low, self.high, "normal")
        a = -math.inf if self.low is None else (self.low - self.mean_) / self.sd
        b = math.inf if self.high is None else (self.high - self.mean_) / self.sd
        if special.ndtr(b) - special.ndtr(a) < 1e-12:
            raise ValueError(
                f"normal: truncation [{self.low}, {self.high}] leaves no probability mass "
                f"for mean={self.mean_}, sd={self.sd}"
            )
        _check_finite(self)
        return self

    def _frozen(self):
        from scipy import stats

        if self.low is None and self.high is None:
            return stats.norm(loc=self.mean_, scale=self.sd)
        a = -np.inf if self.low is None else (self.low - self.mean_) / self.sd
        b = np.inf if self.high is None else (self.high - self.mean_) / self.sd
        return stats.truncnorm(a, b, loc=self.mean_, scale=self.sd)

    def _untruncated(self) -> bool:
        return self.low is None and self.high is None

    def ppf(self, u):
        if not self._untruncated():
            return super().ppf(u)
        from scipy import special

        return self.mean_ + self.sd * special.ndtri(np.asarray(u, dtype=float))

    def cdf(self, x):
        if not self._untruncated():
            return super().cdf(x)
        from scipy import special

        return special.ndtr((np.asarray(x, dtype=float) - self.mean_) / self.sd)

    def mean(self) -> float:
        return self.mean_ if self._untruncated() else super().mean()

    def support(self) -> tuple[float, float]:
        if self._untruncated():
            return -math.inf, math.inf
        return super().support()


class LogNormal(_Dist):
    """``exp(N(mu, sigma²))``, optionally truncated to ``[low, high]`` (both > 0)."""

    dist: Literal["lognormal"] = "lognormal"
    mu: Finite
    sigma: Finite = Field(gt=0)
    low: Finite | None = Field(default=None, gt=0)
    high: Finite | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _check(self):
        _check_truncation(self.low, self.high, "lognormal")
        _check_finite(self)
        return self

    def _frozen(self):
        from scipy import stats

        base = stats.lognorm(s=self.sigma, scale=math.exp(self.mu))
        if self.low is None and self.high is None:
            return base
        return _Truncated(base, self.low, self.high)


class Pert(_Dist):
    """Beta-PERT on ``[low, high]`` with mode ``mode`` and shape ``lamb`` (default 4).

    Notes
    -----
    Beta(α, β) on [low, high] with α = 1 + λ(mode − low)/(high − low) and
    β = 1 + λ(high − mode)/(high − low); the mean is (low + λ·mode + high)/(λ + 2).
    """

    dist: Literal["pert"] = "pert"
    low: Finite
    mode: Finite
    high: Finite
    lamb: Finite = Field(default=4.0, gt=0)

    @model_validator(mode="after")
    def _check(self):
        _check_mode(self.low, self.mode, self.high)
        _check_finite(self)
        return self

    def _frozen(self):
        from scipy import stats

        r = self.high - self.low
        a = 1 + self.lamb * (self.mode - self.low) / r
        b = 1 + self.lamb * (self.high - self.mode) / r
        return stats.beta(a, b, loc=self.low, scale=r)


class StudentT(_Dist):
    """Student-t with ``df`` degrees of freedom, location ``loc`` and scale ``scale``,
    optionally truncated to ``[low, high]`` (the posterior of a fitted drift)."""

    dist: Literal["studentt"] = "studentt"
    df: Finite = Field(gt=0)
    loc: Finite
    scale: Finite = Field(gt=0)
    low: Finite | None = None
    high: Finite | None = None

    @model_validator(mode="after")
    def _check(self):
        _check_truncation(self.low, self.high, "studentt")
        _check_finite(self)
        return self

    def _frozen(self):
        from scipy import stats

        base = stats.t(self.df, loc=self.loc, scale=self.scale)
        if self.low is None and self.high is None:
            return base
        return _Truncated(base, self.low, self.high)

    def _untruncated(self) -> bool:
        return self.low is None and self.high is None

    def ppf(self, u):
        if not self._untruncated():
            return super().ppf(u)
        from scipy import special

        return self.loc + self.scale * special.stdtrit(self.df, np.asarray(u, dtype=float))

    def cdf(self, x):
        if not self._untruncated():
            return super().cdf(x)
        from scipy import special

        return special.stdtr(self.df, (np.asarray(x, dtype=float) - self.loc) / self.scale)

    def mean(self) -> float:
        if not self._untruncated():
            return super().mean()
        return self.loc if self.df > 1 else math.nan

    def support(self) -> tuple[float, float]:
        if self._untruncated():
            return -math.inf, math.inf
        return super().support()


class _Truncated:
    """A frozen scipy distribution truncated to [low, high] by inverting its cdf."""

    def __init__(self, base, low, high):
        self.base = base
        self.lo = 0.0 if low is None else float(base.cdf(low))
        self.hi = 1.0 if high is None else float(base.cdf(high))
        if self.hi - self.lo < 1e-12:
            raise ValueError(f"truncation [{low}, {high}] leaves no probability mass")
        self.low, self.high = low, high

    def ppf(self, u):
        return self.base.ppf(self.lo + np.asarray(u) * (self.hi - self.lo))

    def cdf(self, x):
        return np.clip((self.base.cdf(x) - self.lo) / (self.hi - self.lo), 0.0, 1.0)

    def mean(self):
        from scipy import integrate

        lo, hi = self.support()
        num = integrate.quad(lambda x: x * self.base.pdf(x), lo, hi)[0]
        return num / (self.hi - self.lo)

    def support(self):
        blo, bhi = self.base.support()
        lo = self.low if self.low is not None else float(blo)
        hi = self.high if self.high is not None else float(bhi)
        return lo, hi


class Empirical(_Dist):
    """Each of ``values`` equally likely: what comparable cases actually achieved
    (``{dist = "empirical", values = [0.081, 0.08, 0.075, ...]}``). ``source`` says where
    the values come from. At least 2 and at most 100,000 values."""

    dist: Literal["empirical"] = "empirical"
    values: tuple[Finite, ...] = Field(min_length=2, max_length=100_000)
    source: Annotated[str, Field(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _check(self):
        if min(self.values) == max(self.values):
            raise ValueError(
                f"values: all {len(self.values)} values are {self.values[0]:g}; "
                "use a fixed distribution for a known value"
            )
        return self

    @property
    def _sorted(self) -> np.ndarray:
        return np.sort(np.asarray(self.values, dtype=float))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        v = self._sorted
        # the smallest value whose step CDF reaches u (u in (0, 1))
        k = np.ceil(np.asarray(u, dtype=float) * v.size).astype(np.intp) - 1
        return v[np.clip(k, 0, v.size - 1)]

    def cdf(self, x):
        v = self._sorted
        return np.searchsorted(v, np.asarray(x, dtype=float), side="right") / v.size

    def mean(self) -> float:
        return float(np.mean(self.values))

    def support(self) -> tuple[float, float]:
        return float(min(self.values)), float(max(self.values))

    def describe(self, *, lang: str = "en") -> str:
        v = self._sorted
        q = np.quantile(v, [0.1, 0.5, 0.9], method="inverted_cdf")
        if lang == "zh":
            return (
                f"经验分布({v.size}个值,中位数 {q[1]:g},10–90% {q[0]:g}–{q[2]:g}"
                + (f";{self.source}" if self.source else "")
                + ")"
            )
        return (
            f"empirical({v.size} values, median {q[1]:g}, 10–90% {q[0]:g}–{q[2]:g}"
            + (f"; {self.source}" if self.source else "")
            + ")"
        )


Distribution = Annotated[
    Fixed | Uniform | Triangular | Normal | LogNormal | Pert | StudentT | Empirical,
    Field(discriminator="dist"),
]

#: Every distribution by its ``dist`` tag.
DISTRIBUTIONS: dict[str, type] = {
    cls.model_fields["dist"].default: cls
    for cls in (Fixed, Uniform, Triangular, Normal, LogNormal, Pert, StudentT, Empirical)
}


def shifted(dist, delta: float):
    """The distribution of X + delta (used by goal seek to move a growth assumption)."""
    if isinstance(dist, Fixed):
        return Fixed(value=dist.value + delta)
    if isinstance(dist, Uniform):
        return Uniform(low=dist.low + delta, high=dist.high + delta)
    if isinstance(dist, Triangular):
        return Triangular(low=dist.low + delta, mode=dist.mode + delta, high=dist.high + delta)
    if isinstance(dist, Pert):
        return Pert(
            low=dist.low + delta, mode=dist.mode + delta, high=dist.high + delta, lamb=dist.lamb
        )
    if isinstance(dist, Normal):
        return Normal(
            mean=dist.mean_ + delta,
            sd=dist.sd,
            low=None if dist.low is None else dist.low + delta,
            high=None if dist.high is None else dist.high + delta,
        )
    if isinstance(dist, Empirical):
        return Empirical(values=tuple(v + delta for v in dist.values), source=dist.source)
    if isinstance(dist, StudentT):
        return StudentT(
            df=dist.df,
            loc=dist.loc + delta,
            scale=dist.scale,
            low=None if dist.low is None else dist.low + delta,
            high=None if dist.high is None else dist.high + delta,
        )
    raise ValueError(
        f"lever: a {dist.dist} distribution cannot be shifted; use a location "
        "family (fixed, uniform, triangular, pert, normal, studentt, empirical)"
    )
