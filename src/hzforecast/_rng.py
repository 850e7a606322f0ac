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

__all__ = ["as_seed_sequence", "describe_seed", "make_generator", "standard_normals"]


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
    """The Generator used for one stream: SFC64 (the fastest of numpy's bit generators)."""
    return np.random.Generator(np.random.SFC64(seq))


# u1 = (hi + 1/2)·2^-32 lies in (0, 1]; θ = lo·2π·2^-32 in [0, 2π]
_SCALE_U = np.float32(2.0**-32)
_SCALE_THETA = np.float32(2.0 * np.pi * 2.0**-32)


def standard_normals(
    bitgen: np.random.BitGenerator, out: np.ndarray, work=None, scale: float = 1.0
) -> None:
    """Fill ``out`` (rows, m) with independent standard normals by the Box–Muller transform
    (times ``scale``: the radius is scaled, at no extra cost).

    Each 64-bit word of ``bitgen`` gives one pair: its high half u1 = (hi + ½)·2⁻³²
    ∈ (0, 1], its low half θ = 2π·lo·2⁻³², and z = √(−2 ln u1)·(cos θ, sin θ) — the
    first of the pair goes to ``out[t, j]``, the second to ``out[t, q + j]`` with
    q = ⌈m/2⌉ (row t consumes q words, in order). The arithmetic is single precision,
    vectorised (numpy's SIMD log, sin and cos), so a normal costs about 0.6 of what
    numpy's double-precision ziggurat costs — the engine's shocks are most of its time.

    Why not numpy's ``standard_normal``: its ziggurat is a scalar loop with a branch per
    number; Box–Muller has no rejection, so it vectorises (PyTorch's CPU ``normal_`` and
    cuRAND draw normals the same way). What this costs: a normal's resolution is single
    precision's (relative 6e-8) — far below any Monte Carlo error here — and the largest
    |z| is √(2·33·ln 2) ≈ 6.76, since u1 ≥ 2⁻³³; P(|Z| > 6.76) = 1.4e-11 per shock.
    ``tests/test_normals.py`` checks the distribution, the pairing and a scalar float64
    implementation of the same transform.

    ``work`` is an optional triple of float32 arrays of shape (rows, ⌈m/2⌉) to reuse.
    """
    rows, m = out.shape
    q = (m + 1) // 2
    words = bitgen.random_raw(rows * q).view(np.uint32).reshape(rows, q, 2)
    if work is None:
        work = tuple(np.empty((rows, q), np.float32) for _ in range(3))
    r, c, s = work
    np.add(words[..., 1], 0.5, out=r, dtype=np.float32)  # hi (little-endian: index 1)
    np.multiply(r, _SCALE_U, out=r)
    np.log(r, out=r)
    np.multiply(r, np.float32(-2.0 * scale * scale), out=r)
    np.sqrt(r, out=r)  # the radius √(−2 ln u1), times scale
    theta = words[..., 0]  # lo
    np.multiply(theta, _SCALE_THETA, out=c, dtype=np.float32)
    np.sin(c, out=s)
    np.cos(c, out=c)
    np.multiply(r, c, out=out[:, :q])
    np.multiply(r[:, : m - q], s[:, : m - q], out=out[:, q:])


def describe_seed(seq: np.random.SeedSequence) -> dict:
    """What reproduces the run: the entropy and the spawn key."""
    return {"entropy": seq.entropy, "spawn_key": tuple(seq.spawn_key)}
