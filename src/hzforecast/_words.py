"""Messages in two languages: English text that carries its Chinese with it.

A result's reason ("'mingren_output' is not modelled by scenario 'baseline'") is made where
the fact is known, in the engine or the assessment, and shown much later by a table in either
language. :class:`Bilingual` *is* the English string — code that reads it as text keeps
working — and :func:`say` picks the language; no one parses English back.
"""

from __future__ import annotations

__all__ = ["Bilingual", "say"]


class Bilingual(str):
    """English text (it is the ``str``) with its Chinese beside it."""

    zh: str

    def __new__(cls, en: str, zh: str | None = None):
        obj = super().__new__(cls, en)
        obj.zh = en if zh is None else zh
        return obj

    def __getnewargs__(self):  # pickles (to worker processes) with its Chinese
        return (str(self), self.zh)

    def text(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else str(self)


def say(text, lang: str = "en") -> str:
    """``text`` in ``lang`` when it carries a translation, else as it is."""
    if isinstance(text, Bilingual):
        return text.text(lang)
    return "" if text is None else str(text)
