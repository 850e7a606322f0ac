"""Memory: the estimate a run is checked against, measured; and sizes that cannot fit are
refused before anything is allocated (issue 12)."""

import tracemalloc

import pytest

import hzforecast as hz
from hzforecast import _assess, _engine
from hzforecast._engine import kernel
from hzforecast._engine.blocks import BLOCK, block_bytes, layout_for

MiB = 2**20


@pytest.mark.parametrize(
    ("scenario", "method"),
    [("baseline", "mc"), ("baseline", "qmc"), ("reference", "mc"), ("track-record", "mc")],
)
def test_block_estimate_against_measured_peak(jiaozuo, scenario, method):
    """tracemalloc's peak over a run of full blocks (numpy reports its arrays to it), from an
    empty scratch space: the estimate is not below it by more than a quarter, nor above it by
    more than five times."""
    n = BLOCK if method == "mc" else 16 * BLOCK  # QMC: 16 scramblings of one block each
    model = _engine.compile_model(jiaozuo, scenario)
    plans, _ = _assess.plan_run(jiaozuo, model, None, None, smoothing=True, method=method)
    est = block_bytes(model, method=method, track_max=True, n_targets=len(plans))
    hz.assess(jiaozuo, scenario=scenario, n_paths=n, rng=1, method=method)  # imports, caches
    kernel._WORKSPACE.bufs = {}
    tracemalloc.start()
    try:
        hz.assess(jiaozuo, scenario=scenario, n_paths=n, rng=2, method=method)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        kernel._WORKSPACE.bufs = {}
    assert est >= 5 * MiB
    assert 0.2 <= peak / est <= 1.25, (peak / MiB, est / MiB)


def test_a_trillion_paths_kept_are_refused_before_allocating(jiaozuo):
    tracemalloc.start()
    try:
        with pytest.raises(hz.SimulationError, match=r"memory: keeping 1,000,000,000,000 paths"):
            hz.simulate(jiaozuo, scenario="baseline", n_paths=10**12, rng=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * MiB  # the refusal comes from the estimate, not from trying


def test_a_trillion_paths_stream_in_blocks():
    """An assessment of 10¹² paths streams: its blocks are generated one at a time, never held
    as a list (3·10⁷ of them)."""
    layout = layout_for(10**12, "mc", 1)
    assert layout.n_blocks == -(-(10**12) // BLOCK)
    tracemalloc.start()
    try:
        it = layout.blocks()
        first = [next(it) for _ in range(3)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [b.first for b in first] == [0, BLOCK, 2 * BLOCK]
    assert peak < 1 * MiB
