"""One block's statistics: for every target and group, the sums the estimates need.

:func:`block_stats` is the function the engine applies to every block (in a worker, when
there is an executor); it returns a :class:`BlockStats` — small typed records, sent back and
folded in block order by :class:`~.accumulate.Accumulator`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._engine import BlockState, Model, add_derived, log_value
from .._scales import from_scale
from .estimators import (
    growth_integrated_by,
    last_prob,
    measure,
    meets,
    smoothed_prob,
    survival_by,
)
from .montecarlo import Sums, accumulate, co_moments
from .plans import GroupPlan, TargetPlan, derived_needed

__all__ = ["SAMPLE_MAX", "BlockStats", "GroupBlock", "TargetBlock", "block_stats"]

#: Quantile statistics (anticipated growth, value and gap quantiles) use the first
#: SAMPLE_MAX paths (all paths when N is smaller); probabilities use all paths.
SAMPLE_MAX = 1 << 16


@dataclass
class TargetBlock:
    """One target over one block."""

    p_in: Sums
    p_by: Sums
    by_alternatives: tuple[Sums, ...]  # further unbiased estimators of P(by year)
    by_comoments: np.ndarray | None  # co-moments of (p_by, *alternatives) over the block
    by_counts: np.ndarray  # paths that reached the target by each year of its window
    replicate: int
    n: int
    values: np.ndarray | None  # target-year values (natural units) of the first paths
    growths: np.ndarray | None  # their CAGR from the start
    batches: np.ndarray | None = None  # P(in)'s per-path values summed over batches of paths


#: Paths per batch (antithetic: pairs × 2) of the per-batch sums that paired comparisons of
#: scenarios use (common random numbers: batch j of every scenario holds the same draws).
BATCH = 1024


def batch_sums(v: np.ndarray, method: str) -> np.ndarray | None:
    """The sums of per-path values over consecutive batches of :data:`BATCH` paths (for
    antithetic pairs, of :data:`BATCH` / 2 pairs, each pair whole); None under QMC, whose
    replicates serve instead."""
    if method == "qmc":
        return None
    v = np.asarray(v, dtype=np.float64)
    if method == "antithetic":
        m = v.size // 2
        v = v[:m] + v[m:]
        step = BATCH // 2
    else:
        step = BATCH
    return np.add.reduceat(v, np.arange(0, v.size, step)) if v.size else np.zeros(0)


@dataclass
class GroupBlock:
    """One target group over one block."""

    p_in: Sums
    p_by: Sums
    replicate: int
    n: int
    batches: np.ndarray | None = None


@dataclass
class BlockStats:
    """A block's statistics: one entry per target plan and per group plan (None where the
    target is not simulated)."""

    targets: list[TargetBlock | None]
    groups: list[GroupBlock | None]


class _BlockCache:
    """Per-block values shared by the targets of one indicator."""

    def __init__(self, state: BlockState):
        self.state = state
        self.logv: dict = {}
        self.run: dict = {}

    def log_value(self, ind, transform):
        if ind not in self.logv:
            self.logv[ind] = log_value(self.state.states[ind], transform)
        return self.logv[ind]

    def running(self, ind, w0, kind):
        """Running max (kind "max") or min of the state from grid index w0 on."""
        pre = self.state.running_max.get(ind) if kind == "max" and w0 == 1 else None
        if pre is not None:  # computed in the kernel while the year's slab was in cache
            return pre
        key = (ind, w0, kind)
        if key not in self.run:
            s = self.state.states[ind]
            r = np.empty_like(s[w0:])
            r[0] = s[w0]
            op = np.maximum if kind == "max" else np.minimum
            for t in range(1, r.shape[0]):
                op(r[t - 1], s[w0 + t], out=r[t])
            self.run[key] = r
        return self.run[key]


def _reached(p: TargetPlan, s, logv, cache: _BlockCache, n: int):
    """(met in year T, met by year T, met before T or None, counts by year, value in T)."""
    T, t = p.t_index, p.target
    if t.measure == "level" and p.cmp != "between":
        # reached by year t <=> the running max (min) since the start crosses the bar
        kind = "max" if p.cmp == ">=" else "min"
        run = cache.running(p.ind, p.w0, kind)
        c = p.c_lo if kind == "max" else p.c_hi
        cmp = np.greater_equal if kind == "max" else np.less_equal
        m_T = s[T]
        hit_T = cmp(m_T, c)
        hits = cmp(run[: T - p.w0 + 1], c)
        by_counts = np.count_nonzero(hits, axis=1).astype(np.int64)
        return hit_T, hits[-1], (hits[-2] if T > p.w0 else None), by_counts, m_T
    reached = np.zeros(n, dtype=bool)
    counts = []
    for yr in range(p.w0, T):
        reached |= meets(p, measure(p, s, logv, yr))
        counts.append(int(np.count_nonzero(reached)))
    before = reached.copy() if T > p.w0 else None
    m_T = measure(p, s, logv, T)
    hit_T = meets(p, m_T)
    reached |= hit_T
    counts.append(int(np.count_nonzero(reached)))
    return hit_T, reached, before, np.array(counts, dtype=np.int64), m_T


def _target_block(p: TargetPlan, state: BlockState, cache: _BlockCache, method: str, keep: int):
    """The statistics of one target over one block, and its per-path in/by values (for
    the groups)."""
    s = state.states[p.ind]
    n = state.n
    t = p.target
    logv = cache.log_value(p.ind, p.transform) if t.measure != "level" else None
    hit_T, reached, before, by_counts, m_T = _reached(p, s, logv, cache, n)
    c_in = int(np.count_nonzero(hit_T))
    c_by = int(by_counts[-1])
    alternatives: tuple[Sums, ...] = ()
    comoments = None
    excess = None  # v_by - v_in (>= 0), for a smoothed by-year estimate
    v_in = None
    if p.smooth is not None:
        v_in = smoothed_prob(p, n, state.theta, state.drifts, state.sigmas, state.walks)
        if before is None:  # one year in the window: "by" and "in" are the same event
            v_by = v_in
        else:
            # unbiased estimators of P(by), mixed in the accumulator: P(in) plus the paths
            # that reached it before T and miss it in T (last shock integrated); sequential
            # conditioning over every year of the window; and the growth parameter
            # integrated out given the shocks
            idx = np.flatnonzero(before)
            if p.smooth.walk:  # the last step's drift is not known given the parameters:
                # the paths that reached it before T and miss it in T, counted
                excess = (~hit_T[idx]).astype(np.float64)
            else:
                excess = 1.0 - last_prob(p, s, state.drifts, state.sigmas, idx)
            v_by = np.array(v_in)
            v_by[idx] += excess
            others = []
            if p.survival:
                others.append(survival_by(p, s, state.drifts, state.sigmas))
            if p.param_cond:
                others.append(growth_integrated_by(p, s, state.drifts))
            if others:
                alternatives = tuple(accumulate(v, method, c_by) for v in others)
                comoments = co_moments([v_by, *others], method)
        sums_in = accumulate(v_in, method, c_in)
        sums_by = accumulate(v_by, method, c_by)
    else:
        sums_in = accumulate(hit_T, method, c_in)
        sums_by = accumulate(reached, method, c_by)
    if excess is not None:
        # the sum as P(in)'s sum plus the non-negative excess: floating-point addition is
        # monotone, so P(by year) >= P(in year) holds to the last bit
        sums_by.s1 = sums_in.s1 + float(np.sum(excess))
    values = growths = None
    if keep:
        values, growths = _sample(p, s, m_T, keep)
    batches = batch_sums(v_in if v_in is not None else hit_T, method)
    stats = TargetBlock(
        sums_in,
        sums_by,
        alternatives,
        comoments,
        by_counts,
        state.block.replicate,
        n,
        values,
        growths,
        batches,
    )
    return stats, hit_T, reached, v_in


def _sample(p: TargetPlan, s, m_T, keep: int):
    """Target-year values and growths of the first ``keep`` paths (for quantiles)."""
    if p.target.measure != "level":
        with np.errstate(over="ignore"):
            x = np.expm1(m_T[:keep])
        return x, x
    x = from_scale(m_T[:keep], p.transform)  # beyond float range: shown as inf
    if p.start_kind == "derived" or p.t_index == p.anchor:
        return x, np.full(keep, np.nan)
    lv = log_value(s[[p.anchor, p.t_index], :keep], p.transform)
    with np.errstate(over="ignore"):
        g = np.expm1((lv[1] - lv[0]) / (p.t_index - p.anchor))
    return x, g


def block_stats(
    plans: list[TargetPlan],
    groups: list[GroupPlan],
    model: Model,
    method: str,
    state: BlockState,
) -> BlockStats:
    """Every target's and group's statistics over one block."""
    need = derived_needed(model, plans)
    if need:
        add_derived(model, state.states, only=need)
    cache = _BlockCache(state)
    n = state.n
    keep = max(0, min(n, SAMPLE_MAX - state.block.first))
    in_groups = {m.target.id for g in groups for m in g.members}
    out_t: list[TargetBlock | None] = []
    reached_in, reached_by, smooth_in = {}, {}, {}
    for p in plans:
        if not p.simulated:
            out_t.append(None)
            continue
        stats, hit_T, reached, v_in = _target_block(p, state, cache, method, keep)
        out_t.append(stats)
        if p.target.id in in_groups:
            reached_in[p.target.id] = hit_T
            reached_by[p.target.id] = reached
            smooth_in[p.target.id] = v_in
    out_g = [
        _group_block(g, reached_in, reached_by, smooth_in, method, state) if g.assessable else None
        for g in groups
    ]
    return BlockStats(out_t, out_g)


def _group_block(g: GroupPlan, reached_in, reached_by, smooth_in, method, state: BlockState):
    n = state.n
    rows_in, rows_by, rows_p = [], [], []
    for m in g.members:
        if m.observed is not None:  # evaluated from an observation: met or not, every path
            rows_in.append(np.full(n, bool(m.observed)))
            rows_by.append(rows_in[-1])
            if g.product:
                rows_p.append(np.full(n, float(bool(m.observed))))
            continue
        rows_in.append(reached_in[m.target.id])
        rows_by.append(reached_by[m.target.id])
        if g.product:
            rows_p.append(smooth_in[m.target.id])
    rule_in = rule_holds(g.group, np.array(rows_in))
    rule_by = rule_holds(g.group, np.array(rows_by))
    ci, cb = int(np.count_nonzero(rule_in)), int(np.count_nonzero(rule_by))
    if g.product:
        # P(met by) = P(met in) + P(met by, not in): unbiased (the members are monotone: met
        # in the year implies met by it), and >= the in-year value path by path; the sum as
        # P(met in)'s plus the excess, so the order holds to the bit
        prob = rule_probability(g.group, np.array(rows_p))
        extra = rule_by & ~rule_in
        g_in = accumulate(prob, method, ci)
        g_by = accumulate(prob + extra, method, cb)
        g_by.s1 = g_in.s1 + float(np.count_nonzero(extra))
    else:
        g_in = accumulate(rule_in, method, ci)
        g_by = accumulate(rule_by, method, cb)
    batches = batch_sums(prob if g.product else rule_in, method)
    return GroupBlock(g_in, g_by, state.block.replicate, n, batches)


def rule_holds(group, met: np.ndarray) -> np.ndarray:
    """Per path, whether the group's rule holds, from its members' met flags (m, n)."""
    if group.rule == "all":
        return np.logical_and.reduce(met, axis=0)
    if group.rule == "at_least":
        return np.count_nonzero(met, axis=0) >= group.k
    w = np.asarray(group.weights, dtype=float)
    return _score_reaches(w @ met.astype(float), group)


def _score_reaches(score, group):
    # a relative tolerance for the rounding of the weights' sum (0.2 + 0.1 ≥ 0.3)
    total = math.fsum(group.weights)
    return score >= group.threshold - 1e-9 * total


def rule_probability(group, p: np.ndarray) -> np.ndarray:
    """Per path, P(the rule holds) from the members' probabilities (m, n), the members being
    independent: a product (all), a Poisson-binomial tail (at least k), or the distribution of
    the weighted score built member by member (score)."""
    m, n = p.shape
    if group.rule == "all":
        return np.prod(p, axis=0)
    if group.rule == "at_least":
        # dist[j] = P(j of the members so far met), member by member
        dist = np.zeros((m + 1, n))
        dist[0] = 1.0
        for i in range(m):
            dist[1 : i + 2] = dist[1 : i + 2] * (1 - p[i]) + dist[: i + 1] * p[i]
            dist[0] *= 1 - p[i]
        return dist[group.k :].sum(axis=0)
    # score: the distribution over the distinct partial sums
    sums = {0.0: np.ones(n)}
    for i, w in enumerate(group.weights):
        nxt: dict = {}
        for s_, q in sums.items():
            for key, f in ((s_, 1 - p[i]), (round(s_ + w, 12), p[i])):
                nxt[key] = nxt[key] + q * f if key in nxt else q * f
        sums = nxt
    out = np.zeros(n)
    for s_, q in sums.items():
        if _score_reaches(s_, group):
            out += q
    return out
