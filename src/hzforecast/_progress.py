"""Progress bars (tqdm) for the long runs: on a terminal or in a notebook, never in a pipe."""

from __future__ import annotations

__all__ = ["progress_bar"]


def progress_bar(total, progress, desc, unit="path"):
    """A tqdm bar for runs longer than about 2 s, or None.

    ``progress``: True shows it, False never, None only on a terminal or in a notebook (tqdm's
    ``auto`` picks the notebook widget; where ipywidgets are missing it falls back to text
    without a warning)."""
    if progress is False:
        return None
    import warnings

    from tqdm.auto import tqdm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TqdmWarning when a notebook lacks ipywidgets
        return tqdm(
            total=total,
            desc=desc,
            unit=unit,
            unit_scale=True,
            delay=2.0,
            disable=None if progress is None else not progress,
            leave=False,
        )
