"""scipy.special, imported when first used rather than with hzforecast.

``import scipy.special`` costs about 0.2 s (it brings scipy's array-API layer with it), a
third of ``import hzforecast``; a notebook that only loads a study should not pay it. The
proxy imports the module on its first attribute access and then keeps each attribute it has
looked up, so later calls cost an ordinary attribute lookup.
"""

from __future__ import annotations

import importlib


class LazyModule:
    """A module imported on first use (``special = LazyModule("scipy.special")``)."""

    def __init__(self, name: str):
        self.__dict__["_name"] = name

    def __getattr__(self, attr: str):
        value = getattr(importlib.import_module(self.__dict__["_name"]), attr)
        self.__dict__[attr] = value  # found by ordinary lookup from now on
        return value

    def __repr__(self) -> str:
        return f"<lazily imported module {self.__dict__['_name']!r}>"


special = LazyModule("scipy.special")
