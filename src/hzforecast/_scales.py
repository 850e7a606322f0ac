"""The scales growth is modelled on, and the compound growth rate, written once.

Levels and counts grow on the log scale, shares on the log-odds (logit) scale. Every module
that moves a value to or from its modelling scale, or computes a compound annual growth
rate, uses these functions.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from ._lazy import special

__all__ = ["Transform", "cagr", "from_scale", "to_scale", "transform_of_kind"]

Transform = Literal["log", "logit"]


def transform_of_kind(kind: str) -> Transform:
    """``"logit"`` for a share, ``"log"`` for a level or a count."""
    return "logit" if kind == "share" else "log"


def to_scale(x, transform: Transform):
    """ln x (``"log"``) or logit x = ln(x / (1 − x)) (``"logit"``); floats stay floats."""
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        x = float(x)
        return math.log(x) if transform == "log" else math.log(x / (1.0 - x))
    x = np.asarray(x, dtype=float)
    return np.log(x) if transform == "log" else special.logit(x)


def from_scale(z, transform: Transform):
    """exp z or expit z = 1 / (1 + e^−z): back to the natural scale (float64)."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore"):
        return np.exp(z) if transform == "log" else special.expit(z)


def cagr(x0: float, x1: float, years: float) -> float:
    """Compound annual growth rate from ``x0`` to ``x1`` over ``years`` years:
    (x1/x0)^(1/years) − 1, computed in logs so that extreme ratios (a level observed at
    5e-324) give a finite answer wherever one exists.

    Raises
    ------
    ValueError
        ``years`` not positive, or a value not positive.
    """
    if not years > 0:
        raise ValueError(f"years: must be positive, got {years}")
    if not (x0 > 0 and x1 > 0):
        raise ValueError(f"x0 and x1: must be positive, got {x0} and {x1}")
    r = (math.log(x1) - math.log(x0)) / years
    return math.expm1(r) if r < 709.0 else math.inf
