"""Rolling origins: fit on the past, score on what came after — one routine for the
``auto`` model choice and for backtests."""

from __future__ import annotations

__all__ = ["cuts"]


def cuts(n: int, *, horizon: int, min_train: int = 2, last: int | None = None) -> list[int]:
    """Origins of a series of ``n`` regular observations, as the number of observations
    each is fitted on: every cut with at least ``min_train`` before it and ``horizon`` after
    (``last``: only the last that many, latest first)."""
    out = list(range(max(min_train, 1), n - horizon + 1))
    if last is not None:
        out = out[::-1][:last]
    return out
