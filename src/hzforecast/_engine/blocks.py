"""Blocks: the unit of randomness, of memory and of parallel work.

N paths are made in fixed blocks of :data:`BLOCK` paths (QMC: fixed ranges of each
replicate's Sobol' sequence), each with its own random streams. Chunks of whole blocks go to
an executor or run here; :func:`run_blocks` yields each block's result in block order, so the
same ``rng`` gives the same numbers for any chunk size or executor, and a consumer can fold
results as they come — memory does not grow with the number of blocks.

Before a block is simulated, :func:`check_memory` estimates what it needs (and what kept paths
need) and refuses, with the estimate, what this machine cannot hold.
"""

from __future__ import annotations

import math
import os
import warnings
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import numpy as np

from .model import Model, SimulationError

__all__ = [
    "BLOCK",
    "DEFAULT_CHUNK",
    "METHODS",
    "Block",
    "BlockLayout",
    "bridge_matrix",
    "check_memory",
    "layout_for",
    "run_blocks",
]

#: Paths per block: the unit of randomness. Chunks are whole numbers of blocks.
BLOCK = 32768
#: Default chunk size (paths per task in streaming runs).
DEFAULT_CHUNK = 16 * BLOCK
METHODS = ("mc", "antithetic", "qmc")


class Block(NamedTuple):
    """One block: its index, its QMC replicate (0 otherwise), its first path and size."""

    index: int
    replicate: int
    first: int
    n: int


@dataclass(frozen=True)
class BlockLayout:
    """How N paths split into blocks (and QMC replicates)."""

    n_paths: int
    method: str
    n_replicates: int  # 1 unless qmc
    block: int = BLOCK

    @property
    def per_replicate(self) -> int:
        return self.n_paths // self.n_replicates

    @property
    def n_blocks(self) -> int:
        return self.n_replicates * -(-self.per_replicate // self.block)

    def blocks(self) -> Iterator[Block]:
        """Every block, in order — generated, never held as a list (10¹² paths are 3·10⁷
        blocks)."""
        per_rep = self.per_replicate
        idx = 0
        for r in range(self.n_replicates):
            for off in range(0, per_rep, self.block):
                yield Block(idx, r, r * per_rep + off, min(self.block, per_rep - off))
                idx += 1


def layout_for(n_paths, method: str, n_replicates: int) -> BlockLayout:
    """The block layout of a run, with its arguments checked."""
    if isinstance(n_paths, bool) or not isinstance(n_paths, int | np.integer):
        raise TypeError(f"n_paths: expected an int, got {type(n_paths).__name__}")
    if n_paths < 1:
        raise ValueError(f"n_paths: must be at least 1, got {n_paths}")
    if method not in METHODS:
        raise ValueError(f"method: expected one of {list(METHODS)}, got {method!r}")
    if method == "antithetic" and n_paths % 2:
        raise ValueError(f"n_paths: antithetic pairs need an even number of paths, got {n_paths}")
    if method != "qmc":
        return BlockLayout(int(n_paths), method, 1, BLOCK)
    if n_paths & (n_paths - 1):
        raise ValueError(
            f"n_paths: randomised QMC needs a power of two, got {n_paths} "
            f"(nearest: {1 << (n_paths.bit_length() - 1)} or {1 << n_paths.bit_length()})"
        )
    if not isinstance(n_replicates, int) or n_replicates < 2 or n_replicates & (n_replicates - 1):
        raise ValueError(f"n_replicates: must be a power of two >= 2, got {n_replicates}")
    if n_paths // n_replicates < 2:
        raise ValueError(
            f"n_paths: {n_paths} paths give fewer than 2 points per replicate "
            f"({n_replicates} replicates)"
        )
    return BlockLayout(int(n_paths), method, n_replicates, BLOCK)


def _block_seeds(seq: np.random.SeedSequence, layout: BlockLayout):
    """The root sequence (mc, antithetic) or one child per scrambling (qmc)."""
    if layout.method == "qmc":
        # children keyed explicitly (not seq.spawn, which advances the sequence's counter):
        # the same SeedSequence passed twice gives the same scramblings
        return [
            np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, r, 2))
            for r in range(layout.n_replicates)
        ]
    return seq


@cache
def bridge_matrix(h: int) -> np.ndarray:
    """The Brownian-bridge construction of h unit steps: increments = A @ ξ for
    independent standard normals ξ, with A orthogonal (so the increments are
    independent standard normals too). ξ₀ sets the total (W_h = √h ξ₀), then each
    further ξ the midpoint of an interval whose ends are known, breadth first
    (Caflisch, Morokoff & Owen 1997: it concentrates a path's variance in ξ's first
    coordinates, which randomised QMC integrates best).
    """
    path = np.zeros((h + 1, h))  # W_0 … W_h as linear functions of ξ
    path[h, 0] = math.sqrt(h)
    queue, j = [(0, h)], 1
    while queue:
        lo, hi = queue.pop(0)
        if hi - lo < 2:
            continue
        mid = (lo + hi) // 2
        w_lo, w_hi = (hi - mid) / (hi - lo), (mid - lo) / (hi - lo)
        path[mid] = w_lo * path[lo] + w_hi * path[hi]
        path[mid, j] = math.sqrt((mid - lo) * (hi - mid) / (hi - lo))
        j += 1
        queue += [(lo, mid), (mid, hi)]
    return np.diff(path, axis=0)


def _sobol(dim: int, seed):
    from scipy.stats import qmc

    try:
        return qmc.Sobol(dim, scramble=True, rng=np.random.Generator(np.random.PCG64(seed)))
    except TypeError:  # scipy < 1.15
        return qmc.Sobol(dim, scramble=True, seed=np.random.Generator(np.random.PCG64(seed)))


# ----------------------------------------------------------------------------- memory


def physical_memory() -> int | None:
    """Bytes of physical memory on this machine, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


#: A run may plan to use at most this fraction of physical memory.
MEMORY_FRACTION = 0.75


def block_bytes(model: Model, *, method: str, track_max: bool, n_targets: int = 0) -> int:
    """An estimate of the memory one block takes while it is simulated and assessed."""
    h1, k, p = model.n_years, model.n_shocks, len(model.params)
    item = np.dtype(model.dtype).itemsize
    states = h1 * k * BLOCK * item * (2 if track_max else 1)
    params = 3 * p * BLOCK * 8 + k * BLOCK * item
    draws = 3 * h1 * (BLOCK // 2) * 4
    if method == "qmc":
        draws += model.dimension * BLOCK * 8 + (h1 * k) * BLOCK * (8 + item)
    derived = len(model.derived) * h1 * BLOCK * 8
    # a walking growth's steps (float32) and a common shock's normals, uniforms and values
    extra = len(model.walk_rows) * h1 * BLOCK * 4 + (3 * h1 * BLOCK * 8 if model.common else 0)
    # each target's per-path sums and the value and growth samples kept for its quantiles (a
    # few vectors of a block), and one year-by-path scratch
    targets = n_targets * 4 * BLOCK * 8 + (h1 * BLOCK * 8 if n_targets else 0)
    return states + params + draws + derived + extra + targets


def check_memory(
    model: Model,
    *,
    method: str,
    workers: int = 1,
    keep_paths: int = 0,
    track_max: bool = False,
    n_targets: int = 0,
) -> int:
    """The bytes a run plans to use; :class:`SimulationError` with the estimate when that is
    more than :data:`MEMORY_FRACTION` of this machine's memory.

    ``keep_paths``: paths held in memory afterwards (``simulate``); ``workers``: blocks
    simulated at the same time."""
    per_block = block_bytes(model, method=method, track_max=track_max, n_targets=n_targets)
    kept = keep_paths * (model.n_years * len(model.ids) * np.dtype(model.dtype).itemsize)
    kept += keep_paths * len(model.params) * 8
    total = per_block * max(1, workers) + kept
    have = physical_memory()
    if have is not None and total > MEMORY_FRACTION * have:
        what = (
            f"keeping {keep_paths:,} paths of {len(model.ids)} indicators × {model.n_years} "
            f"years needs about {_gib(kept)}, and "
            if keep_paths
            else ""
        )
        raise SimulationError(
            f"memory: {what}each block of {BLOCK:,} paths ({model.n_shocks} indicators × "
            f"{model.n_years} years, {len(model.params)} parameters) about {_gib(per_block)}"
            f"{f' × {workers} workers' if workers > 1 else ''}: {_gib(total)} in all, more "
            f"than {MEMORY_FRACTION:.0%} of this machine's {_gib(have)}"
            f"{_KEEP_HINT if keep_paths else ''}"
        )
    return total


_KEEP_HINT = " — use hz.assess, which keeps counts, not paths, or fewer paths"


def _gib(b: float) -> str:
    return f"{b / 2**30:,.1f} GiB" if b >= 2**28 else f"{b / 2**20:,.0f} MiB"


# ----------------------------------------------------------------------------- running


def _simulate_one(model, layout, seeds, block, derived, track_max):
    from .kernel import draw_block, simulate_block

    if layout.method == "qmc":
        if model.dimension > 21201:
            raise SimulationError(f"qmc: {model.dimension} dimensions exceed Sobol's 21201")
        eng = _sobol(model.dimension, seeds[block.replicate])
        offset = block.first - block.replicate * layout.per_replicate
        if offset:
            eng.fast_forward(offset)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # balance warning for partial sequences
            pts = eng.random(block.n)
        drawn = draw_block(model, "qmc", pts, block.index, block.n)
    else:
        drawn = draw_block(model, layout.method, seeds, block.index, block.n)
    return simulate_block(model, block, *drawn, derived=derived, track_max=track_max)


def _run_chunk(model, layout, seeds, chunk, fn, derived=True, track_max=False):
    """Simulate a chunk of blocks and apply ``fn`` to each (runs in a worker)."""
    from threadpoolctl import threadpool_limits

    out = []
    with threadpool_limits(limits=1, user_api="blas"):
        for block in chunk:
            out.append(fn(_simulate_one(model, layout, seeds, block, derived, track_max)))
    return out


def _chunks(blocks: Iterator[Block], per: int) -> Iterator[list[Block]]:
    chunk: list[Block] = []
    for b in blocks:
        chunk.append(b)
        if len(chunk) == per:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_blocks(
    model: Model,
    layout: BlockLayout,
    seq: np.random.SeedSequence,
    fn,
    *,
    chunk_size: int | None = None,
    executor: Executor | None = None,
    progress=None,
    derived: bool = True,
    track_max: bool = False,
):
    """Yield ``fn(state)`` for every block's :class:`~.kernel.BlockState`, in block order.

    Chunks of whole blocks go to ``executor`` (any ``concurrent.futures.Executor``; at most a
    few chunks are in flight at a time) or run here; the numbers do not depend on either.
    ``fn`` must be picklable to go to a process pool; what it returns is what travels back.
    """
    workers = 1
    if executor is not None:
        workers = getattr(executor, "_max_workers", None) or os.cpu_count() or 2
    if chunk_size is None:  # to the work: about four chunks per worker, at most DEFAULT_CHUNK
        per = DEFAULT_CHUNK // BLOCK
        if executor is not None:
            per = max(1, min(per, -(-layout.n_blocks // (4 * workers))))
        chunk_size = per * BLOCK
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer):
        raise TypeError(f"chunk_size: expected an int, got {type(chunk_size).__name__}")
    if chunk_size < BLOCK or chunk_size % BLOCK:
        raise ValueError(
            f"chunk_size: must be a positive multiple of {BLOCK} paths, got {chunk_size}"
        )
    seeds = _block_seeds(seq, layout)
    chunks = _chunks(layout.blocks(), chunk_size // BLOCK)
    if executor is None:
        from threadpoolctl import threadpool_limits

        # block by block: a block's state lives in scratch buffers the next block reuses,
        # so it is handed over (and folded by the caller) before the next is simulated
        with threadpool_limits(limits=1, user_api="blas"):
            for ch in chunks:
                for block in ch:
                    yield fn(_simulate_one(model, layout, seeds, block, derived, track_max))
                if progress is not None:
                    progress.update(sum(b.n for b in ch))
        return
    pending: deque = deque()
    for ch in chunks:
        pending.append(
            (executor.submit(_run_chunk, model, layout, seeds, ch, fn, derived, track_max), ch)
        )
        if len(pending) >= 2 * workers:  # keep the workers busy, not the memory
            yield from _collect(pending.popleft(), progress)
    while pending:
        yield from _collect(pending.popleft(), progress)


def _collect(item, progress):
    fut, ch = item
    out = fut.result()
    if progress is not None:
        progress.update(sum(b.n for b in ch))
    return out
