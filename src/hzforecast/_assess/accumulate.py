"""Folding blocks into an assessment: per-target and per-group accumulators.

An :class:`Accumulator` takes each block's :class:`~.blockstats.BlockStats` in block order
(:meth:`Accumulator.add`) and keeps only running sums — memory does not grow with the number
of blocks — then turns them into an :class:`~.results.Assessment` (:meth:`Accumulator.finish`).
"""

from __future__ import annotations

import math

import numpy as np

from .._engine import BlockLayout, Model, SimulationError
from .._scales import cagr
from .._words import Bilingual, say
from ..spec import Study
from .blockstats import BATCH, BlockStats, GroupBlock, TargetBlock
from .montecarlo import Estimate, MixtureAccumulator, ProbabilityAccumulator, exact_estimate
from .plans import GroupPlan, TargetPlan
from .results import (
    Assessment,
    GroupResult,
    TargetResult,
    assumptions_of,
    progress_status,
    target_not_assessable,
)

__all__ = ["QUANTILES", "Accumulator"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


class _TargetAccumulator:
    """One simulated target's running sums."""

    def __init__(self, plan: TargetPlan, n_replicates: int):
        self.plan = plan
        self.p_in = ProbabilityAccumulator(n_replicates)
        self.p_by: ProbabilityAccumulator | MixtureAccumulator | None = None
        self.n_replicates = n_replicates
        self.by_counts = None
        self.values: list[np.ndarray] = []
        self.growths: list[np.ndarray] = []
        self.batches: list[np.ndarray] = []
        self.batch_n: list[np.ndarray] = []

    def add(self, b: TargetBlock) -> None:
        self.p_in.add(b.p_in, b.replicate, b.n)
        if b.batches is not None:
            self.batches.append(b.batches)
            self.batch_n.append(_batch_sizes(b.batches.size, b.n))
        if self.p_by is None:
            k = 1 + len(b.by_alternatives)
            self.p_by = (
                MixtureAccumulator(k, self.n_replicates)
                if b.by_comoments is not None
                else ProbabilityAccumulator(self.n_replicates)
            )
        if isinstance(self.p_by, MixtureAccumulator):
            self.p_by.add([b.p_by, *b.by_alternatives], b.by_comoments, b.replicate, b.n)
        else:
            self.p_by.add(b.p_by, b.replicate, b.n)
        self.by_counts = (
            b.by_counts.copy() if self.by_counts is None else self.by_counts + b.by_counts
        )
        if b.values is not None:
            self.values.append(b.values)
            self.growths.append(b.growths)

    def estimates(self, n: int, method: str) -> tuple[Estimate, Estimate]:
        smoothed = self.plan.smooth is not None
        e_in = self.p_in.estimate(n, method, smoothed=smoothed)
        if isinstance(self.p_by, MixtureAccumulator):
            e_by = self.p_by.estimate(n, method)
            if e_by.value < e_in.value:
                # the mixture dipped below P(in year) by Monte Carlo noise (the two are
                # near equal); the first estimator is >= the in-year one path by path, so
                # it keeps P(by year) >= P(in year) exactly
                e_by = self.p_by.parts[0].estimate(n, method, smoothed=True)
        else:
            e_by = self.p_by.estimate(n, method, smoothed=smoothed)
        for e in (e_in, e_by):
            if not (math.isfinite(e.value) and math.isfinite(e.se)):
                raise SimulationError(
                    f"target {self.plan.target.id!r}: the probability is not a number "
                    f"(NaN/inf); the scenario's parameters for {self.plan.ind!r} overflow — "
                    f"check its growth, volatility and start"
                )
        return e_in, e_by

    def result(self, model: Model, n: int, method: str) -> TargetResult:
        p, t = self.plan, self.plan.target
        e_in, e_by = self.estimates(n, method)
        yrs = model.years[p.w0 : p.t_index + 1]
        curve = {int(y): float(c) / n for y, c in zip(yrs, self.by_counts, strict=True)}
        first = {}
        prev = 0
        for y, c in zip(yrs, self.by_counts, strict=True):
            first[int(y)] = float(c - prev) / n
            prev = c
        first["not reached"] = 1.0 - float(self.by_counts[-1]) / n
        required, anticipated, vq, gq, unit = _growth_summaries(
            p, np.concatenate(self.growths), np.concatenate(self.values)
        )
        # the start already meets the target: achieved if observed; if the start is
        # assumed, its median meeting the target says little, and the status says so
        meets_start = (
            t.measure == "level" and p.start_value is not None and bool(t.met_by(p.start_value))
        )
        ratio = anticipated / required if math.isfinite(required) and required != 0 else np.nan
        if meets_start and p.start_kind == "assumed":
            status = "met at assumed start"
        else:
            status = progress_status(required, anticipated, achieved=meets_start)
        return TargetResult(
            target=t,
            unit=p.unit,
            assessable=True,
            p_in_year=e_in,
            p_by_year=e_by,
            required_growth=float(required),
            anticipated_growth=float(anticipated),
            ratio=float(ratio),
            progress=status,
            start_year=p.start_year,
            start_value=p.start_value,
            start_kind=p.start_kind,
            first_year=first,
            by_year_curve=curve,
            value_quantiles=vq,
            gap_quantiles=gq,
            growth_unit=unit,
            batches=_paired(self.p_in, self.batches, self.batch_n, method),
        )


def _batch_sizes(k: int, n: int) -> np.ndarray:
    """Paths in each of a block's k batches (the last one holds the rest)."""
    size = np.full(k, BATCH, dtype=np.int64)
    if k:
        size[-1] = n - BATCH * (k - 1)
    return size


def _paired(acc, batches, sizes, method: str):
    """What a paired comparison needs: (sums, paths) per batch, or per QMC replicate."""
    if method == "qmc":
        return acc.rep_s1.copy(), acc.rep_n.copy()
    if not batches:
        return None
    return np.concatenate(batches), np.concatenate(sizes)


class _GroupAccumulator:
    def __init__(self, plan: GroupPlan, n_replicates: int):
        self.plan = plan
        self.p_in = ProbabilityAccumulator(n_replicates)
        self.p_by = ProbabilityAccumulator(n_replicates)
        self.batches: list[np.ndarray] = []
        self.batch_n: list[np.ndarray] = []

    def add(self, b: GroupBlock) -> None:
        self.p_in.add(b.p_in, b.replicate, b.n)
        self.p_by.add(b.p_by, b.replicate, b.n)
        if b.batches is not None:
            self.batches.append(b.batches)
            self.batch_n.append(_batch_sizes(b.batches.size, b.n))

    def result(self, n: int, method: str) -> GroupResult:
        g, product = self.plan.group, self.plan.product
        return GroupResult(
            group_id=g.id,
            targets=g.targets,
            assessable=True,
            reason=None,
            p_all_in_year=self.p_in.estimate(n, method, smoothed=product),
            p_all_by_year=self.p_by.estimate(n, method, smoothed=product),
            group=g,
            batches=_paired(self.p_in, self.batches, self.batch_n, method),
        )


class Accumulator:
    """A whole run's running sums: add every block's statistics in block order, then
    :meth:`finish`."""

    def __init__(self, plans: list[TargetPlan], groups: list[GroupPlan], layout: BlockLayout):
        self.plans, self.groups, self.layout = plans, groups, layout
        r = layout.n_replicates
        self.targets = [_TargetAccumulator(p, r) if p.simulated else None for p in plans]
        self.group_accs = [_GroupAccumulator(g, r) if g.assessable else None for g in groups]

    def add(self, stats: BlockStats) -> None:
        for acc, b in zip(self.targets, stats.targets, strict=True):
            if acc is not None:
                acc.add(b)
        for acc, b in zip(self.group_accs, stats.groups, strict=True):
            if acc is not None:
                acc.add(b)

    def finish(self, study: Study, model: Model, *, seed: dict, smoothing: bool) -> Assessment:
        n, method = self.layout.n_paths, self.layout.method
        results = []
        for p, acc in zip(self.plans, self.targets, strict=True):
            if not p.assessable:
                results.append(target_not_assessable(p.target, p.unit, p.reason))
            elif p.observed is not None:
                e = exact_estimate(p.observed, n)
                results.append(
                    TargetResult(
                        target=p.target,
                        unit=p.unit,
                        assessable=True,
                        reason=Bilingual(
                            "evaluated from the observation, not forecast", "依据观测值评估,非预测"
                        ),
                        p_in_year=e,
                        p_by_year=e,
                        progress="met" if p.observed else "missed",
                        start_year=p.target.year,
                        start_value=p.observed_value,
                        start_kind="observed",
                        observed_value=p.observed_value,
                    )
                )
            else:
                results.append(acc.result(model, n, method))
        groups = []
        for g, acc in zip(self.groups, self.group_accs, strict=True):
            if acc is None:
                bad = next(m for m in g.members if not m.assessable)
                groups.append(
                    GroupResult(
                        group_id=g.group.id,
                        targets=g.group.targets,
                        assessable=False,
                        reason=Bilingual(
                            f"target {bad.target.id!r} is not assessable: {bad.reason}",
                            f"目标“{bad.target.id}”无法评估:{say(bad.reason, 'zh')}",
                        ),
                        p_all_in_year=None,
                        p_all_by_year=None,
                        group=g.group,
                    )
                )
            else:
                groups.append(acc.result(n, method))
        return Assessment(
            study_id=study.id,
            scenario_id=model.scenario_id,
            method=method,
            n_paths=n,
            n_replicates=self.layout.n_replicates,
            seed=seed,
            smoothing=smoothing,
            targets=tuple(results),
            groups=tuple(groups),
            corrections=model.corrections,
            notes=tuple(model.notes),
            assumptions=assumptions_of(study, model.scenario_id),
            scenario_name_zh=study.scenario(model.scenario_id).name_zh,
            scenario_name_en=study.scenario(model.scenario_id).name_en,
        )


def _growth_summaries(plan: TargetPlan, g_T, x_T):
    """Required and anticipated growth, the quantiles of the value and the gap, and the unit
    of the growths: a share's level target is followed in percentage points a year, as
    planners do ("pp"), every other target in growth rates ("rate")."""
    t = plan.target
    q = np.array(QUANTILES)
    # sample quantiles (no interpolation), so values beyond float range stay inf, not NaN
    vals = np.quantile(x_T, q, method="inverted_cdf") if x_T.size else np.full(len(q), np.nan)
    pp = t.measure == "level" and plan.transform == "logit"
    years = plan.t_index - plan.anchor
    if t.measure != "level":
        anticipated = float(vals[QUANTILES.index(0.5)])  # the growth itself
    elif pp and plan.start_value is not None and years > 0:
        anticipated = (float(vals[QUANTILES.index(0.5)]) - plan.start_value) / years
    elif not pp and g_T.size and not np.all(np.isnan(g_T)):
        anticipated = float(np.quantile(g_T, 0.5, method="inverted_cdf"))
    else:
        anticipated = np.nan
    if t.measure == "level":
        lo, hi = t.bounds
        if plan.start_value is not None and years > 0:
            k = lo if t.judged == ">=" else hi
            if t.judged == "between":
                k = (
                    lo
                    if plan.start_value < lo
                    else (hi if plan.start_value > hi else plan.start_value)
                )
            if pp:
                required = (k - plan.start_value) / years
            else:
                required = cagr(plan.start_value, k, years)
        else:
            required = np.nan
        with np.errstate(over="ignore"):  # a value beyond float range: its gap is inf
            gaps = vals - t.value if pp else vals / t.value - 1  # monotone: quantiles map over
    else:
        lo, hi = t.bounds
        required = hi if t.judged == "<=" else lo  # a band: its lower end
        gaps = vals - t.value
    vq = dict(zip(QUANTILES, vals.tolist(), strict=True))
    gq = dict(zip(QUANTILES, gaps.tolist(), strict=True))
    return required, anticipated, vq, gq, "pp" if pp else "rate"
