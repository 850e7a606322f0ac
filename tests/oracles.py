"""Second implementations the estimators are checked against.

:func:`yearly_rule` is the one plain-loop oracle: fresh paths of one indicator, simulated
year by year with numpy's own generator (not the engine's), and the target's rule applied
each year. Every by-year estimator test compares with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def yearly_rule(
    *,
    start: float,
    drift: Callable[[np.random.Generator, int], np.ndarray] | float,
    sigma: float,
    years: int,
    met: Callable[[int, np.ndarray], np.ndarray],
    by_year: bool = True,
    n: int = 400_000,
    seed: int = 99,
) -> tuple[float, float]:
    """P(the rule holds in some year 1…years) (``by_year``) or in the last year, and its
    binomial standard error, from ``n`` plain paths.

    ``start`` and the path are on the modelling scale (ln x or logit p); ``drift`` is a
    number or draws one per path; ``met(k, x)`` says which paths meet the target in year k.
    """
    rng = np.random.default_rng(seed)
    d = drift(rng, n) if callable(drift) else np.full(n, float(drift))
    x = np.full(n, float(start))
    hit = np.zeros(n, dtype=bool)
    for k in range(1, years + 1):
        x = x + d + sigma * rng.standard_normal(n)
        now = met(k, x)
        hit = hit | now if by_year else now
    p = float(hit.mean())
    return p, math.sqrt(p * (1 - p) / n)


def agrees(value: float, se: float, oracle: tuple[float, float], k: float = 4.0) -> bool:
    """Within ``k`` combined standard errors of the oracle."""
    p2, se2 = oracle
    return abs(value - p2) <= k * math.hypot(se, se2)
