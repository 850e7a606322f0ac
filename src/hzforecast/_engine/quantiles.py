"""Quantile functions and CDFs of the growth distributions, fast where the engine needs them.

The kernel turns uniforms into parameter draws through :func:`ppf`; the growth-integrated
by-year estimator needs :func:`growth_cdf`. Both have closed forms for the distributions
plans use most (fixed, uniform, triangular, an untruncated normal) and fall back to
:mod:`scipy.stats` otherwise. tests/test_simulate.py and tests/test_assess.py check them
against scipy.
"""

from __future__ import annotations

import numpy as np

from .._lazy import special
from ..distributions import Fixed, Normal, Triangular, Uniform

__all__ = ["VolatilityDraw", "growth_cdf", "ppf"]


class VolatilityDraw:
    """A path's volatility σ when it is uncertain: σ² = ν·s²/X with X ~ χ²_ν (a scaled
    inverse χ², the Normal–Inverse-Gamma posterior of σ²). σ rises with the uniform u."""

    is_fixed = False

    def __init__(self, scale: float, df: float):
        self.scale, self.df = float(scale), float(df)

    def ppf(self, u) -> np.ndarray:
        # P(X > x) = u: chdtri(ν, u) = 2·gammainccinv(ν/2, u), the same numbers 20% faster
        x = special.gammainccinv(0.5 * self.df, np.asarray(u, dtype=float))
        x *= 2.0
        return self.scale * np.sqrt(self.df / x)

    def median(self) -> float:
        return float(self.ppf(np.array([0.5]))[0])

    def quantile(self, q: float) -> float:
        return float(self.ppf(np.array([q]))[0])

    def describe(self) -> str:
        return f"volatility(scale={self.scale:g}, df={self.df:g})"

    def __eq__(self, other) -> bool:
        return isinstance(other, VolatilityDraw) and (self.scale, self.df) == (
            other.scale,
            other.df,
        )

    def __hash__(self) -> int:
        return hash((self.scale, self.df))


def ppf(dist, u: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Quantile function of ``dist`` at uniforms ``u``.

    With ``out``, the result is written there (fixed and uniform without temporaries)."""
    if out is None:
        out = np.empty(u.shape)
    if isinstance(dist, Fixed):
        out.fill(dist.value)
        return out
    if isinstance(dist, Uniform):
        np.multiply(u, dist.high - dist.low, out=out)
        out += dist.low
        return out
    out[...] = _ppf_other(dist, u)
    return out


def _ppf_other(dist, u: np.ndarray) -> np.ndarray:
    if isinstance(dist, Triangular):
        a, c, b = dist.low, dist.mode, dist.high
        # below the mode: a + sqrt(u (b-a)(c-a)); above: b - sqrt((1-u)(b-a)(b-c)).
        # Blended arithmetically with m = 1 above the mode (SIMD passes; numpy's masked
        # ufuncs and np.where are several times slower per element)
        A, B = (b - a) * (c - a), (b - a) * (b - c)
        m = np.greater_equal(u, (c - a) / (b - a), out=np.empty(u.shape))
        x = np.multiply(u, A)
        t = np.multiply(u, -(A + B))  # m·((1-u)B - uA) = m·(B - u(A+B))
        t += B
        t *= m
        x += t
        np.sqrt(x, out=x)
        np.multiply(m, -2.0, out=t)  # sign 1 - 2m
        t += 1.0
        x *= t
        m *= b - a  # base a + m(b - a)
        m += a
        x += m
        return x
    if isinstance(dist, Normal) and dist.low is None and dist.high is None:
        return dist.mean_ + dist.sd * special.ndtri(u)
    return dist.ppf(u)


def growth_cdf(dist, x: np.ndarray) -> np.ndarray:
    """CDF of a growth distribution (closed form for uniform and triangular)."""
    if isinstance(dist, Uniform):
        return np.clip((x - dist.low) / (dist.high - dist.low), 0.0, 1.0)
    if isinstance(dist, Triangular):
        a, c, b = dist.low, dist.mode, dist.high
        x = np.clip(x, a, b)
        below = (x - a) ** 2 / ((b - a) * (c - a)) if c > a else np.zeros_like(x)
        above = 1.0 - (b - x) ** 2 / ((b - a) * (b - c)) if b > c else np.ones_like(x)
        return np.where(x < c, below, above)
    return np.asarray(dist.cdf(x), dtype=np.float64)
