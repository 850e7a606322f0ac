"""Random number handling (SPEC 7).

Every stochastic public function takes ``rng``: an int, a
:class:`numpy.random.SeedSequence`, a :class:`numpy.random.Generator` or None.
:func:`as_seed_sequence` turns it into a ``SeedSequence``; a Generator is spawned
from, never drawn from directly. Independent streams (blocks of paths,
scramblings, workers) are children of that sequence from
:meth:`SeedSequence.spawn`, so results do not depend on how the work is split.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_seed_sequence", "describe_seed", "make_generator"]


def as_seed_sequence(rng) -> np.random.SeedSequence:
    """Turn ``rng`` into a :class:`~numpy.random.SeedSequence`.

    Parameters
    ----------
    rng : None, int, SeedSequence or Generator
        ``None`` takes fresh entropy from the OS (recorded in the result);
        an ``int`` >= 0 seeds; a ``Generator`` is spawned from (its own stream
        advances, so two calls with the same Generator give different numbers).
    """
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        seq = rng.bit_generator.seed_seq
        if not isinstance(seq, np.random.SeedSequence):
            raise TypeError("rng: the Generator's bit generator has no SeedSequence to spawn from")
        return seq.spawn(1)[0]
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        raise TypeError(
            "rng: expected None, an int, a numpy SeedSequence or Generator, "
            f"got {type(rng).__name__}"
        )
    if rng < 0:
        raise ValueError(f"rng: a seed must be non-negative, got {rng}")
    return np.random.SeedSequence(int(rng))


def make_generator(seq: np.random.SeedSequence) -> np.random.Generator:
    """The Generator used for one block: SFC64, which draws normals fastest here."""
    return np.random.Generator(np.random.SFC64(seq))


def describe_seed(seq: np.random.SeedSequence) -> dict:
    """What reproduces the run: the entropy and the spawn key."""
    return {"entropy": seq.entropy, "spawn_key": tuple(seq.spawn_key)}
