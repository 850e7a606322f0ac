"""The engine's normal generator: a vectorised single-precision Box–Muller transform.

Checked against a scalar double-precision implementation of the same transform (the bit
plumbing), against the normal distribution (bins, tails, moments; tolerances from the
sampling error), for the independence of the two members of a pair, and at the extreme
64-bit words (no infinity, the documented largest |z|).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from hzforecast._rng import standard_normals


def scalar_box_muller(words: np.ndarray, rows: int, m: int) -> np.ndarray:
    """The documented transform, one word at a time in double precision."""
    q = (m + 1) // 2
    out = np.empty((rows, m))
    for t in range(rows):
        for j in range(q):
            w = int(words[t * q + j])
            hi, lo = w >> 32, w & 0xFFFFFFFF
            r = math.sqrt(-2.0 * math.log((hi + 0.5) / 2.0**32))
            theta = 2.0 * math.pi * lo / 2.0**32
            out[t, j] = r * math.cos(theta)
            if q + j < m:
                out[t, q + j] = r * math.sin(theta)
    return out


@pytest.mark.parametrize("m", [1, 2, 11, 64])
def test_matches_scalar_double_precision_transform(m):
    rows = 3
    got = np.empty((rows, m), np.float32)
    standard_normals(np.random.SFC64(7), got)
    words = np.random.SFC64(7).random_raw(rows * ((m + 1) // 2))
    want = scalar_box_muller(words, rows, m)
    # single-precision arithmetic: u1 and θ rounded to 24 bits, log/sin/cos to a few ulp
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-5)


def test_same_shocks_in_either_precision_and_into_strided_views():
    a = np.empty((7, 1001), np.float32)
    standard_normals(np.random.SFC64(3), a)
    b = np.empty((7, 1001))
    standard_normals(np.random.SFC64(3), b)
    np.testing.assert_array_equal(b, a.astype(np.float64))
    big = np.zeros((7, 3, 1001), np.float32)  # the engine writes one indicator's rows
    work = tuple(np.empty((7, 501), np.float32) for _ in range(3))
    standard_normals(np.random.SFC64(3), big[:, 1, :], work)
    np.testing.assert_array_equal(big[:, 1], a)
    assert not big[:, 0].any() and not big[:, 2].any()


@pytest.fixture(scope="module")
def sample():
    out = np.empty((8, 2**18), np.float32)
    standard_normals(np.random.SFC64(2026), out)
    return out


def test_distribution_in_equiprobable_bins(sample):
    z = sample.ravel().astype(np.float64)
    bins = 64
    edges = stats.norm.ppf(np.arange(1, bins) / bins)
    counts = np.bincount(np.searchsorted(edges, z), minlength=bins)
    chi2 = ((counts - z.size / bins) ** 2 / (z.size / bins)).sum()
    assert stats.chi2.sf(chi2, bins - 1) > 1e-4, chi2


@pytest.mark.parametrize("c", [1.0, 2.0, 3.0, 4.0])
def test_tail_frequencies(sample, c):
    z = sample.ravel()
    n = z.size
    p = 2 * stats.norm.sf(c)
    se = math.sqrt(p * (1 - p) / n)
    assert abs(np.mean(np.abs(z) > c) - p) < 4 * se


def test_moments(sample):
    z = sample.ravel().astype(np.float64)
    n = z.size
    assert abs(z.mean()) < 4 / math.sqrt(n)
    assert abs(z.var() - 1) < 4 * math.sqrt(2 / n)
    # kurtosis: E z^4 = 3, var(z^4) = 105 - 9 = 96
    assert abs(np.mean(z**4) - 3) < 4 * math.sqrt(96 / n)


def test_the_two_members_of_a_pair_are_independent(sample):
    """z1 = r cos θ and z2 = r sin θ share a radius: uncorrelated, and so are their squares
    (a transform with a wrong angle or radius would correlate them)."""
    q = sample.shape[1] // 2
    z1 = sample[:, :q].ravel().astype(np.float64)
    z2 = sample[:, q:].ravel().astype(np.float64)
    tol = 4 / math.sqrt(z1.size)
    assert abs(np.corrcoef(z1, z2)[0, 1]) < tol
    assert abs(np.corrcoef(z1**2, z2**2)[0, 1]) < tol
    # neighbours along a row come from consecutive words
    assert abs(np.corrcoef(z1[:-1], z1[1:])[0, 1]) < tol


class _Words:
    """A bit generator stand-in that hands out chosen 64-bit words."""

    def __init__(self, words):
        self.words = np.asarray(words, dtype=np.uint64)

    def random_raw(self, size):
        assert size == self.words.size
        return self.words.copy()


def test_extreme_words_stay_finite_with_the_documented_largest_value():
    hi_min_lo_zero = 0  # u1 = 2^-33, θ = 0: the largest z
    hi_max = (2**32 - 1) << 32  # u1 rounds to 1: radius 0
    lo_max = 2**32 - 1  # θ rounds to 2π
    out = np.empty((1, 6), np.float32)
    standard_normals(_Words([hi_min_lo_zero, hi_max, lo_max]), out)
    assert np.isfinite(out).all()
    largest = math.sqrt(2 * 33 * math.log(2))  # the docstring's 6.76
    np.testing.assert_allclose(out[0, 0], largest, rtol=1e-6)
    assert out[0, 1] == 0.0 and out[0, 4] == 0.0
    assert np.abs(out).max() <= largest * (1 + 1e-6)
