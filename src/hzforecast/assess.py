r"""Reachability of targets: P(reach) with its Monte Carlo error, required vs anticipated growth.

For every target, :func:`assess` reports

* **P(in year)** — the probability that the target holds in its year;
* **P(by year)** — that it holds in at least one year from the start up to its year;
* their **Monte Carlo standard error** and a 95% **Wilson interval**;
* the **required growth** — the CAGR from the start (the last observation) to the
  threshold, :math:`(K/x_0)^{1/(T-t_0)} - 1` — and the **anticipated growth**, the
  median over paths of each path's CAGR to the target year;
* their **ratio** and a **progress status** after the Open SDG / Statistics Canada
  progress method: on track (ratio ≥ 0.95), needs acceleration (0.60 ≤ ratio < 0.95),
  far off (0 ≤ ratio < 0.60), regressing (ratio < 0), or achieved (the start already
  meets the target);
* the quantiles of the target-year value and of the gap to the threshold;
* the distribution of the first year in which the target is reached.

For a target group, the joint probability that all its targets are met (each in
its year, and each by its year).

Estimators
----------
The indicator estimator counts the paths that meet a target. Where the model
allows it (a level, share, growth or CAGR target on a simulated indicator with
volatility σ > 0), ``smoothing=True`` (the default) integrates the indicator's
shocks analytically: given a path's parameter draws, the target-year value is
normal on the log (logit) scale with known mean and standard deviation
σ·√(T−t0), so each path contributes :math:`\Phi((\text{mean}_T - c)/(\sigma\sqrt{T-t_0}))`
instead of 0 or 1 (conditional Monte Carlo; unbiased, never a larger variance). P(by year) mixes two
unbiased estimators with the variance-minimising weight: P(in year) plus the paths
that reached the target earlier and miss it in T (last shock integrated), and
sequential conditioning on not meeting the target year by year (Glasserman & Staum,
2001), which is smooth in the random numbers and so suits QMC (docs/methods.md has the
formulas). Group probabilities and first-year distributions use the indicator
estimator.

Standard errors: plain MC, the sample standard deviation over paths / √N;
antithetic, over the N/2 pair means; randomised QMC, over the independent
scramblings (replicates) / √R. The 95% interval is Wilson's score interval with
the effective sample size :math:`n_\text{eff} = \hat p(1-\hat p)/\text{SE}^2`. A
zero count of the indicator estimator is reported as "< 1/N", never as 0.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import numpy as np
from scipy import special

from ._rng import as_seed_sequence, describe_seed
from ._scales import cagr
from .distributions import Fixed, Triangular, Uniform
from .simulate import (
    BLOCK,
    DEFAULT_CHUNK,
    DRIFT,
    RUNMAX,
    BlockLayout,
    IndicatorPlan,
    Model,
    Paths,
    SimulationError,
    _layout,
    _log_value,
    _progress_bar,
    add_derived,
    compile_model,
    paths_blocks,
    run_blocks,
    to_natural,
)
from .spec import Study, Target

__all__ = [
    "SAMPLE_MAX",
    "Assessment",
    "Estimate",
    "GroupResult",
    "TargetResult",
    "assess",
    "compare_scenarios",
    "path_outcomes",
    "progress_status",
]

#: Quantile statistics (anticipated growth, value and gap quantiles) use the first
#: SAMPLE_MAX paths (all paths when N is smaller); probabilities use all paths.
SAMPLE_MAX = 1 << 16
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
Z95 = 1.959963984540054

#: An estimator with no spread whose mean is within this many standard errors of the
#: reference estimator is exact; farther away, its values were rounded (underflow).
EXACT_Z = 5.0

#: Progress thresholds of the Open SDG / Statistics Canada method on the ratio
#: anticipated growth / required growth.
ON_TRACK, FAR_OFF = 0.95, 0.60


def progress_status(required: float, anticipated: float, *, achieved: bool = False) -> str:
    """Open SDG / Statistics Canada progress category.

    ``ratio = anticipated / required``: ≥ 0.95 on track, ≥ 0.60 needs acceleration,
    ≥ 0 far off, < 0 regressing. ``achieved`` when the start already meets the target
    (then no growth is required and the ratio is not defined).
    """
    if achieved:
        return "achieved"
    if not (math.isfinite(required) and math.isfinite(anticipated)) or required == 0:
        return "unknown"
    r = anticipated / required
    if r >= ON_TRACK:
        return "on track"
    if r >= FAR_OFF:
        return "needs acceleration"
    if r >= 0:
        return "far off"
    return "regressing"


# ----------------------------------------------------------------------------- estimates


def wilson_interval(p: float, n_eff: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``p`` from ``n_eff`` effective trials."""
    if n_eff <= 0 or not math.isfinite(n_eff):
        return (p, p)
    denom = 1 + z * z / n_eff
    centre = (p + z * z / (2 * n_eff)) / denom
    half = z * math.sqrt(max(0.0, p * (1 - p)) / n_eff + z * z / (4 * n_eff * n_eff)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo probability with its error.

    Attributes
    ----------
    value : float
        Point estimate.
    se : float
        Monte Carlo standard error.
    low, high : float
        95% Wilson interval (with the effective sample size).
    n : int
        Paths.
    n_eff : float
        Effective sample size p(1−p)/SE² (``n`` for the plain indicator estimator).
    count : int or None
        Paths meeting the target (indicator estimator), or None when smoothed.
    estimator : str
        ``"indicator"``, ``"smoothed"`` or ``"exact"`` (an observed year).
    """

    value: float
    se: float
    low: float
    high: float
    n: int
    n_eff: float
    count: int | None
    estimator: str

    @property
    def bound(self) -> str | None:
        """``"<"`` when no path met it, or every path's conditional probability rounded to 0
        (report < 1/N: the run cannot tell the value from 0); ``">"`` when all did."""
        if self.estimator == "exact":
            return None
        if self.value == 0.0 or (self.estimator == "indicator" and self.count == 0):
            return "<"
        if self.value == 1.0 or (self.estimator == "indicator" and self.count == self.n):
            return ">"
        return None

    def text(self, digits: int = 3) -> str:
        if self.estimator == "exact":
            return f"{self.value:.0f} (observed)"
        if self.bound == "<":
            return f"< {1 / self.n:.1g}"
        if self.bound == ">":
            return f"> {1 - 1 / self.n:.{max(digits, int(math.log10(self.n)) + 1)}g}"
        return f"{_probability_text(self.value, digits)} ± " + (
            f"{self.se:.{digits}f}" if self.se >= 10**-digits / 2 else f"{self.se:.1e}"
        )

    def __str__(self) -> str:
        return self.text()

    def __float__(self) -> float:
        return float(self.value)


def _probability_text(v: float, digits: int) -> str:
    """A probability to ``digits`` decimals, with enough significant figures that a small
    but positive one never reads as 0 and one just short of 1 never as 1."""
    half = 0.5 * 10**-digits
    if 0.0 < v < half:
        return f"{v:.2g}"
    if 1.0 - half < v < 1.0:
        return f"{v:.{math.ceil(-math.log10(1.0 - v)) + 1}f}"
    return f"{v:.{digits}f}"


def _estimate(acc: _Acc, n: int, method: str, rep_means=None, smoothed=False) -> Estimate:
    count = acc.count
    if method == "qmc":
        value = float(np.mean(rep_means))
        se = float(np.std(rep_means, ddof=1) / math.sqrt(len(rep_means)))
    else:
        value = acc.s1 / n
        se = math.sqrt(acc.m2 / (acc.nu - 1) / acc.nu) if acc.nu > 1 else float("nan")
    # every path contributes a probability in [0, 1], so the mean is in [0, 1] up to the
    # rounding of the sums: this only removes that rounding (a few ulp)
    value = min(max(value, 0.0), 1.0)
    if (not smoothed and (count == 0 or count == n)) or value in (0.0, 1.0):
        # no spread to measure (no path met it, all did, or every path's conditional
        # probability rounded to 0 or 1): report the binomial (Wilson) bound for N trials
        se = 0.0
        n_eff = float(n)
    elif se > 0:
        n_eff = value * (1 - value) / (se * se) if 0 < value < 1 else float(n)
    elif smoothed:
        n_eff = float("inf")  # every path gives the same exact conditional probability
    else:
        n_eff = float(n)
    low, high = wilson_interval(value, n_eff) if math.isfinite(n_eff) else (value, value)
    return Estimate(
        value=value,
        se=se,
        low=low,
        high=high,
        n=n,
        n_eff=n_eff,
        count=None if smoothed else count,
        estimator="smoothed" if smoothed else "indicator",
    )


def _exact(met: bool, n: int) -> Estimate:
    v = 1.0 if met else 0.0
    return Estimate(v, 0.0, v, v, n, float("inf"), None, "exact")


# ----------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class _TargetPlan:
    target: Target
    unit: str
    assessable: bool
    reason: str | None = None
    observed: bool | None = None  # met/missed from an observation
    observed_value: float | None = None
    ind: str | None = None
    transform: str = "log"
    t_index: int = 0
    w0: int = 0  # first grid index of the by-year window
    base_index: int | None = None  # cagr base
    anchor: int = 0
    c_lo: float = -np.inf  # thresholds on the measure scale
    c_hi: float = np.inf
    smooth: IndicatorPlan | None = None
    # the path's shocks can be recovered from its states to ~1e-4 (for _survival_by)
    survival: bool = False
    # the growth parameter's distribution, where P(by year) may integrate it out
    # (for _growth_integrated_by)
    growth_dist: object | None = None
    start_value: float | None = None  # natural units, for the required growth
    start_year: int | None = None
    start_kind: str = "observed"  # observed | corrected | assumed

    @property
    def param_cond(self) -> bool:
        return self.growth_dist is not None


def _threshold(t: Target, transform: str, measure: str):
    def f(v):
        if measure in ("growth", "cagr"):
            return math.log1p(v)
        return math.log(v) if transform == "log" else math.log(v / (1 - v))

    if t.comparator == ">=":
        return f(t.value), np.inf
    if t.comparator == "<=":
        return -np.inf, f(t.value)
    return f(t.value), f(t.high)


def _plan_targets(study: Study, model: Model, targets, *, strict: bool) -> list[_TargetPlan]:
    plans = []
    years = model.years
    for t in targets:
        ind = study.indicator(t.indicator)
        unit = ind.unit

        def no(reason, t=t, unit=unit):
            if strict:
                raise SimulationError(f"target {t.id!r}: {reason}")
            return _TargetPlan(t, unit, False, reason)

        # evaluate from observations where the target year is observed
        hist = ind.history(corrections=model.corrections_mode == "use")
        if t.measure == "level" and t.year in hist:
            plans.append(
                _TargetPlan(
                    t,
                    unit,
                    True,
                    observed=bool(t.met_by(hist[t.year])),
                    observed_value=hist[t.year],
                    ind=ind.id,
                )
            )
            continue
        if t.measure in ("growth", "cagr"):
            b = t.year - 1 if t.measure == "growth" else t.base_year
            if b is not None and t.year in hist and b in hist:
                g = (hist[t.year] / hist[b]) ** (1 / (t.year - b)) - 1
                plans.append(
                    _TargetPlan(
                        t, unit, True, observed=bool(t.met_by(g)), observed_value=g, ind=ind.id
                    )
                )
                continue
        plan = model.plan(t.indicator)
        if plan is None:
            plans.append(no(f"{t.indicator!r} is not modelled by scenario {model.scenario_id!r}"))
            continue
        if not years[0] <= t.year <= years[-1]:
            plans.append(
                no(f"year {t.year} is outside the scenario's years {years[0]}–{years[-1]}")
            )
            continue
        T = int(t.year - years[0])
        transform = model.transform_of(t.indicator)
        anchor = _anchor_of(model, t.indicator)
        if _is_index(model, t.indicator) and t.measure == "level":
            plans.append(
                no(
                    f"{t.indicator!r} has no observed or assumed starting level "
                    f"(simulated as an index), so a level target cannot be assessed"
                )
            )
            continue
        if T <= anchor:
            plans.append(no(f"year {t.year} is not after the start {years[anchor]}"))
            continue
        base_index = None
        if t.measure == "level":
            w0 = anchor + 1
        elif t.measure == "growth":
            w0 = anchor + 1
        else:
            if t.base_year is None:
                base_index = anchor
            else:
                base_index = int(t.base_year - years[0])
                if base_index < anchor:
                    plans.append(no(f"base_year {t.base_year} is before the start {years[anchor]}"))
                    continue
            w0 = base_index + 1
        c_lo, c_hi = _threshold(t, transform, t.measure)
        smooth = None
        if isinstance(plan, IndicatorPlan) and plan.sigma > 0 and T > anchor:
            if t.measure == "level" or transform == "log":
                smooth = plan
        start_value, start_kind = _start_of(plan, model)
        survival = False
        if smooth is not None:
            # the conditioning estimator reads each year's shock back from the states as
            # (Δ state - drift) / σ: its rounding error, eps·|state| / σ, must be small
            y0 = start_value if start_value is not None else 1.0
            y0 = math.log(y0) if transform == "log" else math.log(y0 / (1 - y0))
            scale = max([1.0, abs(y0)] + [abs(c) for c in (c_lo, c_hi) if math.isfinite(c)])
            survival = smooth.sigma >= 1e4 * float(np.finfo(model.dtype).eps) * scale
        # a one-sided level target on an indicator whose drift is one per-path parameter,
        # constant over the window and drawn on its own (outside the rank correlation)
        param_cond = (
            smooth is not None
            and t.measure == "level"
            and t.comparator != "between"
            and not smooth.trends
            and not isinstance(model.params[smooth.growth_param].dist, Fixed)
            and smooth.growth_param not in model.copula_params
        )
        plans.append(
            _TargetPlan(
                t,
                unit,
                True,
                ind=t.indicator,
                transform=transform,
                t_index=T,
                w0=w0,
                base_index=base_index,
                anchor=anchor,
                c_lo=c_lo,
                c_hi=c_hi,
                smooth=smooth,
                survival=survival,
                growth_dist=model.params[smooth.growth_param].dist if param_cond else None,
                start_value=start_value,
                start_year=int(years[anchor]),
                start_kind=start_kind,
            )
        )
    return plans


def _anchor_of(model: Model, ind: str) -> int:
    plan = model.plan(ind)
    if isinstance(plan, IndicatorPlan):
        return plan.anchor
    return max(_anchor_of(model, p) for p in plan.parts)


def _is_index(model: Model, ind: str) -> bool:
    plan = model.plan(ind)
    if isinstance(plan, IndicatorPlan):
        return plan.is_index
    return any(_is_index(model, p) for p in plan.parts)


def _start_of(plan, model) -> tuple[float | None, str]:
    if isinstance(plan, IndicatorPlan):
        if plan.start_param is not None:
            return model.params[plan.start_param].dist.median(), "assumed"
        return plan.start_value, "corrected" if plan.corrected else "observed"
    return None, "derived"


# ----------------------------------------------------------------------------- per block


def _drift_at(plan: IndicatorPlan, drift, t: int):
    """Per-path drift (or one float) of the step into grid year t (log or logit scale)."""
    pidx = plan.growth_param
    for start, p in plan.trends:
        if t >= start:
            pidx = p
    return drift(pidx)


def _measure(p: _TargetPlan, s: np.ndarray, logv, t: int) -> np.ndarray:
    m = p.target.measure
    if m == "level":
        return s[t]
    if m == "growth":
        return logv[t] - logv[t - 1]
    return (logv[t] - logv[p.base_index]) / (t - p.base_index)


def _meets(p: _TargetPlan, x: np.ndarray) -> np.ndarray:
    if p.target.comparator == ">=":
        return x >= p.c_lo
    if p.target.comparator == "<=":
        return x <= p.c_hi
    return (x >= p.c_lo) & (x <= p.c_hi)


def _drift_sum(plan: IndicatorPlan, drift, t0: int, t1: int):
    """Per-path sum of the drifts of the steps into grid years t0+1 … t1."""
    segments = [(plan.anchor + 1, plan.growth_param), *plan.trends]
    total = 0.0
    for i, (start, pidx) in enumerate(segments):
        end = segments[i + 1][0] - 1 if i + 1 < len(segments) else t1
        lo, hi = max(start, t0 + 1), min(end, t1)
        if hi >= lo:
            total = total + (hi - lo + 1) * drift(pidx)
    return total


def _drift_lookup(plan: IndicatorPlan, theta: np.ndarray, states=None):
    """pidx -> drift: the kernel's per-block values where present (a float for a fixed
    growth), else computed from the parameter draws."""

    def drift(pidx):
        d = states.get((DRIFT, pidx)) if states is not None else None
        return plan.drift(theta[pidx]) if d is None else d

    return drift


def _band_prob(comparator: str, mean, sd, lo, hi):
    """P(lo <= mean + sd·ε <= hi) for the comparator's open ends, ε standard normal.

    A tiny sd sends the z-scores to ±inf, where ndtr is exactly 0 or 1."""
    with np.errstate(over="ignore", divide="ignore"):
        if comparator == ">=":
            return special.ndtr((mean - lo) / sd)
        if comparator == "<=":
            return special.ndtr((hi - mean) / sd)
        return special.ndtr((hi - mean) / sd) - special.ndtr((lo - mean) / sd)


def _smoothed_prob(p: _TargetPlan, s, theta, states=None):
    """P(in year | parameters) per path (one float broadcast when they are fixed).

    Given a path's parameter draws, the target-year state is normal: every shock of the
    indicator is integrated exactly.
    """
    plan = p.smooth
    drift = _drift_lookup(plan, theta, states)
    T = p.t_index
    sig = plan.sigma
    off = plan.offsets
    m = p.target.measure
    c_lo, c_hi = p.c_lo, p.c_hi
    cmp = p.target.comparator
    if m == "level":
        a = plan.anchor
        if plan.start_param is not None:
            x0 = theta[plan.start_param]
            y0 = np.log(x0) if plan.transform == "log" else special.logit(x0)
        else:
            x0 = plan.start_value
            y0 = math.log(x0) if plan.transform == "log" else math.log(x0 / (1 - x0))
        mean_full = y0 + _drift_sum(plan, drift, a, T) + (off[T] - off[a])
        full = _band_prob(cmp, mean_full, sig * math.sqrt(T - a), c_lo, c_hi)
    elif m == "growth":
        full = _band_prob(cmp, _drift_at(plan, drift, T) + (off[T] - off[T - 1]), sig, c_lo, c_hi)
    else:
        b = p.base_index
        k = T - b
        mean_full = _drift_sum(plan, drift, b, T) + (off[T] - off[b])
        full = _band_prob(cmp, mean_full, sig * math.sqrt(k), c_lo * k, c_hi * k)
    return np.broadcast_to(np.asarray(full, dtype=float), (s.shape[1],))


def _step_event(p: _TargetPlan, prev, base, d, t: int):
    """The target's event in grid year t as ``lo <= mean + σ·w <= hi`` for the year's
    standard normal shock w, given the state ``prev`` of year t-1, the CAGR base state
    ``base`` and the step's drift ``d``: (mean, lo, hi) on the transformed scale."""
    m = p.target.measure
    if m == "growth":  # the event is on the step itself, whatever the path
        return d, p.c_lo, p.c_hi
    if m == "cagr":
        k = t - p.base_index
        return prev + d - base, p.c_lo * k, p.c_hi * k
    return prev + d, p.c_lo, p.c_hi


def _last_prob(p: _TargetPlan, s, theta, states, where) -> np.ndarray:
    """P(in year | path to T-1) for the paths ``where`` (an index array) selects."""
    plan = p.smooth
    drift = _drift_lookup(plan, theta, states)
    T = p.t_index
    off = plan.offsets
    d = _drift_at(plan, drift, T) + (off[T] - off[T - 1])
    if np.ndim(d):
        d = d[where]
    base = s[p.base_index][where] if p.target.measure == "cagr" else 0.0
    mean, lo, hi = _step_event(p, s[T - 1][where], base, d, T)
    mean = mean + np.zeros(len(where))  # a growth event's mean can be one float
    return _band_prob(p.target.comparator, mean, plan.sigma, lo, hi)


def _survival_by(p: _TargetPlan, s, theta, states=None) -> np.ndarray:
    """P(reached in some year w0…T | parameters) per path, by sequential conditioning.

    Year by year, the chance ``q_t`` that the target is met in year t given the path so
    far is integrated exactly (the state is normal given year t-1), and the path is
    carried on *conditioned on not meeting it*: the year's shock ``w`` (recovered from
    the simulated path, so the draws are the same) is mapped through its uniform
    ``u = Φ(w)`` into the normal restricted to the complement of the meeting interval.
    The estimate is ``1 - Π_t (1 - q_t)``: unbiased for P(by year) (the product is the
    likelihood of the conditioned path; Glasserman & Staum, 2001, for barrier options)
    and a smooth function of the random numbers, which plain Monte Carlo rewards with a
    smaller variance and randomised QMC with a much smaller one.
    """
    plan = p.smooth
    drift = _drift_lookup(plan, theta, states)
    T, w0 = p.t_index, p.w0
    sig = plan.sigma
    off = plan.offsets
    m = p.target.measure
    cmp = p.target.comparator
    n = s.shape[1]
    reached = np.zeros(n)  # P(reached by t | parameters), by r += (1 - r) q: exact for tiny q
    y = np.asarray(s[w0 - 1], dtype=np.float64)  # the path (conditioned from w0 on)
    base = np.asarray(s[p.base_index], dtype=np.float64) if m == "cagr" else 0.0
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        for t in range(w0, T + 1):
            d = _drift_at(plan, drift, t) + (off[t] - off[t - 1])
            mean, lo, hi = _step_event(p, y, base, d, t)
            # the meeting interval of the year's standard normal shock is [a, b]; q its
            # probability, fa = P(w < a), gb = P(w > b)
            if cmp == ">=":
                a = (lo - mean) / sig
                q = special.ndtr(-a)
                fa, gb = 1.0 - q, 0.0
            elif cmp == "<=":
                b = (hi - mean) / sig
                q = special.ndtr(b)
                fa, gb = 0.0, 1.0 - q
            else:
                a, b = (lo - mean) / sig, (hi - mean) / sig
                fa, gb = special.ndtr(a), special.ndtr(-b)
                q = np.maximum(1.0 - fa - gb, 0.0)
            reached += (1.0 - reached) * q
            if t == T or m == "growth":
                continue
            # the path's own shock in year t, and its uniform, carried into the normal
            # restricted to (-inf, a) ∪ (b, inf)
            w = (np.asarray(s[t], dtype=np.float64) - np.asarray(s[t - 1]) - d) / sig
            u = special.ndtr(w)
            if cmp == ">=":
                w_new = special.ndtri(u * fa)
            elif cmp == "<=":
                w_new = -special.ndtri((1.0 - u) * gb)
            else:
                v = u * (fa + gb)
                w_new = np.where(
                    v < fa,
                    special.ndtri(np.minimum(v, fa)),
                    -special.ndtri(np.maximum(fa + gb - v, 0.0)),
                )
            y = mean + base + sig * w_new if m == "cagr" else mean + sig * w_new
    return reached


def _growth_cdf(dist, x: np.ndarray) -> np.ndarray:
    """CDF of a growth distribution (closed form for uniform and triangular)."""
    if isinstance(dist, Uniform):
        return np.clip((x - dist.low) / (dist.high - dist.low), 0.0, 1.0)
    if isinstance(dist, Triangular):
        a, c, b = dist.low, dist.mode, dist.high
        x = np.clip(x, a, b)
        below = (x - a) ** 2 / ((b - a) * (c - a)) if c > a else np.zeros_like(x)
        above = 1.0 - (b - x) ** 2 / ((b - a) * (b - c)) if b > c else np.ones_like(x)
        return np.where(x < c, below, above)
    return np.asarray(dist.cdf(x), dtype=np.float64)


def _growth_integrated_by(p: _TargetPlan, s, theta, states=None) -> np.ndarray:
    """P(reached in some year w0…T | the path's shocks and start) per path, the growth
    parameter integrated out exactly.

    A path's state in year t is s_t = y0 + (t - a)·d + S_t with S_t its shocks to date and
    d its drift. With every shock held and the drift D free instead, the target
    (``>= c``) is met by year T iff D >= d + min_t (c - s_t)/(t - a) =: D*, so the chance
    is P(D >= D*) = 1 - F(g*) for the growth parameter's distribution F and the growth g*
    whose drift is D* (``<=``: D <= the max, F(g*)). Unbiased for P(by year): it averages
    the indicator over the growth parameter given the rest, which is independent of it
    (the plan requires the parameter to be outside the rank correlation). A smooth
    function of the shocks and the start, so randomised QMC no longer has to resolve the
    parameter's interaction with the start.
    """
    plan = p.smooth
    d = _drift_lookup(plan, theta, states)(plan.growth_param)
    a, T, w0 = plan.anchor, p.t_index, p.w0
    steps = np.arange(w0 - a, T - a + 1, dtype=np.float64)[:, None]
    if p.target.comparator == ">=":
        slack = np.min((p.c_lo - np.asarray(s[w0 : T + 1], dtype=np.float64)) / steps, axis=0)
    else:
        slack = np.max((p.c_hi - np.asarray(s[w0 : T + 1], dtype=np.float64)) / steps, axis=0)
    d_star = d + slack
    with np.errstate(over="ignore"):
        g_star = np.expm1(d_star) if plan.transform == "log" and plan.rate_growth else d_star
    cdf = _growth_cdf(p.growth_dist, g_star)
    return 1.0 - cdf if p.target.comparator == ">=" else cdf


@dataclass
class _Acc:
    """One estimate over a block: the sum of path values and the spread of its units.

    Units are paths (plain MC, QMC) or antithetic pairs; ``mean_u`` and ``m2`` are their
    mean and sum of squared deviations, merged across blocks with Chan et al.'s
    pairwise update (stable, and in block order, so reproducible to the bit).
    """

    s1: float = 0.0  # sum over paths
    mean_u: float = 0.0
    m2: float = 0.0
    nu: int = 0
    count: int = 0


def _units(v: np.ndarray, method: str) -> np.ndarray:
    """The independent units of a block, in double precision: its paths, or (antithetic)
    the means of each path and its mirror in the block's second half."""
    v = np.asarray(v, dtype=np.float64)
    if method != "antithetic":
        return v
    half = v.shape[0] // 2
    return 0.5 * (v[:half] + v[half:])


def _accumulate(v: np.ndarray, method: str, count: int) -> _Acc:
    """Sums for the standard error: per path (mc, qmc) or per antithetic pair."""
    n = v.shape[0]
    if v.dtype == bool:
        if method == "antithetic":
            half = n // 2
            both = int(np.count_nonzero(v[:half] & v[half:]))
            # pair means are 0, 1/2 or 1: sum of squares = both + (one only) / 4
            sq = both + 0.25 * (count - 2 * both)
            mean = 0.5 * count / half
            return _Acc(float(count), mean, max(0.0, sq - half * mean * mean), half, count)
        mean = count / n
        return _Acc(float(count), mean, count * (1.0 - mean), n, count)
    if v.ndim == 1 and v.strides == (0,):  # one value for every path (fixed parameters)
        x = float(v[0]) if n else 0.0
        nu = n // 2 if method == "antithetic" else n
        return _Acc(x * n, x, 0.0, nu, count)
    w = _units(v, method)
    mean = float(w.mean())
    d = w - mean
    np.square(d, out=d)
    # numpy's pairwise sum, not BLAS's dot: its result does not depend on the arrays'
    # alignment in memory, so the numbers are the same for any chunking or executor
    return _Acc(float(np.sum(v, dtype=np.float64)), mean, float(d.sum()), w.shape[0], count)


def _co_moments(vs: list, method: str) -> np.ndarray:
    """The matrix of co-moments of several estimators over a block's units (paths, or
    antithetic pairs): sums of (a - mean a)(b - mean b); the diagonal is each one's sum
    of squared deviations, as in :func:`_accumulate`."""
    centred = []
    for v in vs:
        u = _units(v, method)
        centred.append(u - u.mean())
    k = len(vs)
    out = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            out[i, j] = out[j, i] = float((centred[i] * centred[j]).sum())
    return out


def _merge(a: _Acc, b: _Acc) -> _Acc:
    n = a.nu + b.nu
    if n == 0:
        return a
    delta = b.mean_u - a.mean_u
    mean = a.mean_u + delta * b.nu / n
    m2 = a.m2 + b.m2 + delta * delta * a.nu * b.nu / n
    return _Acc(a.s1 + b.s1, mean, m2, n, a.count + b.count)


class _BlockCache:
    """Per-block values shared by the targets of one indicator."""

    def __init__(self, states):
        self.states = states
        self.logv: dict = {}
        self.run: dict = {}

    def log_value(self, ind, transform):
        if ind not in self.logv:
            self.logv[ind] = _log_value(self.states[ind], transform)
        return self.logv[ind]

    def running(self, ind, w0, kind):
        """Running max (kind "max") or min of the state from grid index w0 on."""
        key = (ind, w0, kind)
        pre = self.states.get((RUNMAX, ind)) if kind == "max" and w0 == 1 else None
        if pre is not None:  # computed in the kernel while the year's slab was in cache
            return pre
        if key not in self.run:
            s = self.states[ind]
            r = np.empty_like(s[w0:])
            r[0] = s[w0]
            op = np.maximum if kind == "max" else np.minimum
            for t in range(1, r.shape[0]):
                op(r[t - 1], s[w0 + t], out=r[t])
            self.run[key] = r
        return self.run[key]


def _derived_needed(model, plans) -> set:
    need = set()
    by_id = {d.id: d for d in model.derived}
    stack = [p.ind for p in plans if p.assessable and p.ind in by_id]
    while stack:
        i = stack.pop()
        if i in need:
            continue
        need.add(i)
        stack.extend(part for part in by_id[i].parts if part in by_id)
    return need


def _block_stats(plans, groups, model, method, states, theta, block):
    _, rep, first, n = block
    need = _derived_needed(model, plans)
    if need:
        add_derived(model, states, only=need)
    cache = _BlockCache(states)
    out_t = []
    reached_in: dict[str, np.ndarray] = {}
    reached_by: dict[str, np.ndarray] = {}
    smooth_in: dict[str, np.ndarray] = {}
    in_groups = {mp.target.id for _, members, _ in groups for mp in members}
    keep = max(0, min(n, SAMPLE_MAX - first))
    for p in plans:
        if not p.assessable or p.observed is not None:
            out_t.append(None)
            continue
        s = states[p.ind]
        T = p.t_index
        t = p.target
        logv = cache.log_value(p.ind, p.transform) if t.measure != "level" else None
        if t.measure == "level" and t.comparator != "between":
            # reached by year t <=> the running max (min) since the start crosses the bar
            kind = "max" if t.comparator == ">=" else "min"
            run = cache.running(p.ind, p.w0, kind)
            c = p.c_lo if kind == "max" else p.c_hi
            cmp = np.greater_equal if kind == "max" else np.less_equal
            m_T = s[T]
            hit_T = cmp(m_T, c)
            hits = cmp(run[: T - p.w0 + 1], c)
            by_counts = np.count_nonzero(hits, axis=1).astype(np.int64)
            acc_by = hits[-1]
            before = hits[-2] if T > p.w0 else None
        else:
            acc_by = np.zeros(n, dtype=bool)
            counts = []
            for yr in range(p.w0, T):
                acc_by |= _meets(p, _measure(p, s, logv, yr))
                counts.append(int(np.count_nonzero(acc_by)))
            before = acc_by.copy() if T > p.w0 else None
            m_T = _measure(p, s, logv, T)
            hit_T = _meets(p, m_T)
            acc_by |= hit_T
            counts.append(int(np.count_nonzero(acc_by)))
            by_counts = np.array(counts, dtype=np.int64)
        c_in = int(np.count_nonzero(hit_T))
        c_by = int(by_counts[-1])
        alt = None
        excess = None  # v_by - v_in (>= 0), for a smoothed by-year estimate
        if p.smooth is not None:
            v_in = _smoothed_prob(p, s, theta, states)
            if before is None:  # one year in the window: "by" and "in" are the same event
                v_by = v_in
            else:
                # unbiased estimators of P(by), combined in _finish: P(in) plus the
                # paths that reached it before T and miss it in T (last shock integrated);
                # sequential conditioning over every year of the window; and the growth
                # parameter integrated out given the shocks
                idx = np.flatnonzero(before)
                last = _last_prob(p, s, theta, states, idx)
                excess = 1.0 - last
                v_by = np.array(v_in)
                v_by[idx] += excess
                others = []
                if p.survival:
                    others.append(_survival_by(p, s, theta, states))
                if p.param_cond:
                    others.append(_growth_integrated_by(p, s, theta, states))
                if others:
                    vs = [v_by, *others]
                    alt = (
                        [_accumulate(v, method, c_by) for v in others],
                        _co_moments(vs, method),
                    )
        else:
            v_in, v_by = hit_T, acc_by
        sums_in = _accumulate(v_in, method, c_in)
        sums_by = _accumulate(v_by, method, c_by)
        if excess is not None:
            # the sum as P(in)'s sum plus the non-negative excess: floating-point addition
            # is monotone, so P(by year) >= P(in year) holds to the last bit
            sums_by.s1 = sums_in.s1 + float(np.sum(excess))
        stats = {
            "in": sums_in,
            "by": sums_by,
            "by_alt": alt,
            "by_counts": by_counts,
            "rep": rep,
            "n": n,
        }
        if keep:
            if t.measure == "level":
                with np.errstate(over="ignore"):  # beyond float range: shown as inf
                    x_T = to_natural(m_T[:keep], p.transform)
                if p.start_kind == "derived" or T == p.anchor:
                    g_T = np.full(keep, np.nan)
                else:
                    lv = _log_value(s[[p.anchor, T], :keep], p.transform)
                    with np.errstate(over="ignore"):
                        g_T = np.expm1((lv[1] - lv[0]) / (T - p.anchor))
            else:
                with np.errstate(over="ignore"):
                    x_T = g_T = np.expm1(m_T[:keep])
            stats["x_T"] = x_T
            stats["g_T"] = g_T
        out_t.append(stats)
        if t.id in in_groups:
            reached_in[t.id] = hit_T
            reached_by[t.id] = acc_by
            if p.smooth is not None:
                smooth_in[t.id] = v_in
    out_g = []
    for _group, member_plans, product in groups:
        if any(not mp.assessable for mp in member_plans):
            out_g.append(None)
            continue
        all_in = np.ones(n, dtype=bool)
        all_by = np.ones(n, dtype=bool)
        prod = np.ones(n) if product else None
        for mp in member_plans:
            if mp.observed is not None:
                if not mp.observed:
                    all_in[:] = False
                    all_by[:] = False
                    if prod is not None:
                        prod[:] = 0.0
                continue
            all_in &= reached_in[mp.target.id]
            all_by &= reached_by[mp.target.id]
            if prod is not None:
                prod *= smooth_in[mp.target.id]
        ci, cb = int(np.count_nonzero(all_in)), int(np.count_nonzero(all_by))
        if product:
            # P(all by) = P(all in) + P(all by, not all in): unbiased, and >= the in-year
            # value path by path
            v_by = prod + (all_by & ~all_in)
        g_in = _accumulate(prod if product else all_in, method, ci)
        g_by = _accumulate(v_by if product else all_by, method, cb)
        if product:  # as for a target: P(all by) >= P(all in) to the last bit
            g_by.s1 = g_in.s1 + float(np.count_nonzero(all_by & ~all_in))
        out_g.append(
            {
                "in": g_in,
                "by": g_by,
                "rep": rep,
                "n": n,
            }
        )
    return out_t, out_g


def _block_stats_fn(plans, groups, model, method, states, theta, block):
    return _block_stats(plans, groups, model, method, states, theta, block)


def _rep_means(accs, reps, ns, n_rep) -> np.ndarray:
    rep_s1 = np.zeros(n_rep)
    rep_n = np.zeros(n_rep)
    for acc, r, n in zip(accs, reps, ns, strict=True):
        rep_s1[r] += acc.s1
        rep_n[r] += n
    return rep_s1 / rep_n


def _combine(accs, reps, ns, method, n_total, n_rep, smoothed):
    total = _Acc()
    for acc in accs:
        total = _merge(total, acc)
    rep_means = _rep_means(accs, reps, ns, n_rep) if method == "qmc" else None
    return _estimate(total, n_total, method, rep_means, smoothed=smoothed)


def _min_variance_weights(
    cov: np.ndarray, means: np.ndarray | None = None, se: np.ndarray | None = None
) -> np.ndarray:
    """Weights w >= 0 with sum 1 minimising wᵀ·cov·w (a few estimators: active set).

    Without the sign constraint w ∝ cov⁻¹·1; an estimator whose weight comes out negative
    is dropped and the rest solved again. Two estimators reproduce the clipped λ of
    λ·A + (1-λ)·B, λ = (v_b - c)/(v_a + v_b - 2c).

    An estimator with no spread at all is exact and takes all the weight — unless its
    mean lies more than :data:`EXACT_Z` standard errors ``se`` from the first (reference)
    estimator's ``means``: then its values are not exact but rounded (every path's
    conditional probability underflowed to 0, say), and it is left out."""
    k = cov.shape[0]
    var = np.diag(cov)
    if var.min() <= 0.0:
        j = int(np.argmin(var))
        if means is None or abs(means[j] - means[0]) <= EXACT_Z * se[0]:
            w = np.zeros(k)  # exact: it takes all the weight
            w[j] = 1.0
            return w
        keep = [i for i in range(k) if i != j]
        w = np.zeros(k)
        w[keep] = _min_variance_weights(cov[np.ix_(keep, keep)], means[keep], se[keep])
        return w
    active = list(range(k))
    while True:
        sub = cov[np.ix_(active, active)]
        try:  # an exact solve: a variance of 1e-28 (an exact estimator's rounding) counts
            x = np.linalg.solve(sub, np.ones(len(active)))
        except np.linalg.LinAlgError:  # singular: estimators that are exactly collinear
            x = np.linalg.pinv(sub) @ np.ones(len(active))
        total = x.sum()
        if not (total > 0 and np.all(np.isfinite(x))):
            # degenerate (no spread to weigh): keep the first estimator of those left
            w = np.zeros(k)
            w[active[0]] = 1.0
            return w
        x = x / total
        if x.min() >= 0:  # a single estimator left has x = [1]
            w = np.zeros(k)
            w[active] = x
            return w
        del active[int(np.argmin(x))]


def _combine_many(accs, cross, reps, ns, method, n_total, n_rep):
    """Several unbiased estimators of one probability, mixed to minimise the variance.

    ``accs[i]`` are estimator i's block accumulators and ``cross[b]`` block b's matrix
    of co-moments. Covariances are between paths (plain MC, antithetic pairs), merged
    across blocks with Chan's update, or between QMC replicates. The weights are
    estimated from the same run, which biases the estimate by O(1/N) — far below its
    standard error.
    """
    k = len(accs)
    tot = [_Acc() for _ in range(k)]
    comoment = np.zeros((k, k))
    for b, block in enumerate(zip(*accs, strict=True)):
        if tot[0].nu and block[0].nu:  # Chan's update of the co-moments
            dm = np.array([block[i].mean_u - tot[i].mean_u for i in range(k)])
            comoment += np.outer(dm, dm) * tot[0].nu * block[0].nu / (tot[0].nu + block[0].nu)
        comoment += cross[b]
        tot = [_merge(tot[i], block[i]) for i in range(k)]
    means = np.array([t.s1 for t in tot]) / n_total
    if method == "qmc":
        rep = np.column_stack([_rep_means(a, reps, ns, n_rep) for a in accs])
        cov = np.cov(rep, rowvar=False)
        se = np.sqrt(np.diag(cov) / n_rep)
        w = _min_variance_weights(cov, means, se)
        return _estimate(tot[0], n_total, method, rep @ w, smoothed=True)
    nu = tot[0].nu
    se = np.sqrt(np.diag(comoment) / max(nu - 1, 1) / nu)
    w = _min_variance_weights(comoment, means, se)  # a common factor does not change w
    s1 = float(sum(wi * t.s1 for wi, t in zip(w, tot, strict=True)))
    m2 = float(w @ comoment @ w)
    mixed = _Acc(s1, s1 / n_total, max(m2, 0.0), tot[0].nu, tot[0].count)
    return _estimate(mixed, n_total, method, None, smoothed=True)


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class TargetResult:
    """The assessment of one target (see the module docstring for each field)."""

    target: Target
    unit: str
    assessable: bool
    reason: str | None
    p_in_year: Estimate | None
    p_by_year: Estimate | None
    required_growth: float
    anticipated_growth: float
    ratio: float
    progress: str
    start_year: int | None
    start_value: float | None
    start_kind: str | None
    first_year: dict = field(default_factory=dict)  # year -> P(first reached that year)
    by_year_curve: dict = field(default_factory=dict)  # year -> P(reached by that year)
    value_quantiles: dict = field(default_factory=dict)
    gap_quantiles: dict = field(default_factory=dict)
    observed_value: float | None = None

    @property
    def id(self) -> str:
        return self.target.id


@dataclass(frozen=True)
class GroupResult:
    """Joint probability that every target of a group is met."""

    group_id: str
    targets: tuple[str, ...]
    assessable: bool
    reason: str | None
    p_all_in_year: Estimate | None
    p_all_by_year: Estimate | None


@dataclass(frozen=True, eq=False)
class Assessment:
    """P(reach) for every target of a study under one scenario.

    Render with ``str()``, ``to_frame()`` or in a notebook; the Monte Carlo
    settings (method, N, seed) travel with the numbers.
    """

    study_id: str
    scenario_id: str
    method: str
    n_paths: int
    n_replicates: int
    seed: dict
    smoothing: bool
    targets: tuple[TargetResult, ...]
    groups: tuple[GroupResult, ...]
    corrections: tuple[str, ...]
    notes: tuple[str, ...]
    assumed: tuple[str, ...]

    def __getitem__(self, target_id: str) -> TargetResult:
        for r in self.targets:
            if r.target.id == target_id:
                return r
        raise KeyError(
            f"target: {target_id!r} was not assessed (have {[r.id for r in self.targets]})"
        )

    def group(self, group_id: str) -> GroupResult:
        for g in self.groups:
            if g.group_id == group_id:
                return g
        raise KeyError(f"group: {group_id!r} was not assessed")

    def to_frame(self):
        """One row per target, then one per group, with every reported number."""
        import pandas as pd

        rows = []
        for r in self.targets:
            t = r.target
            row = {
                "kind": "target",
                "id": t.id,
                "indicator": t.indicator,
                "year": t.year,
                "measure": t.measure,
                "threshold": t.describe(r.unit if t.measure == "level" else ""),
                "status": t.status,
                "assessable": r.assessable,
                "reason": r.reason,
            }
            for name in ("p_in_year", "p_by_year"):
                e = getattr(r, name)
                row[name] = e.value if e else np.nan
                row[f"{name}_se"] = e.se if e else np.nan
                row[f"{name}_low"] = e.low if e else np.nan
                row[f"{name}_high"] = e.high if e else np.nan
                row[f"{name}_text"] = e.text() if e else ""
            row.update(
                required_growth=r.required_growth,
                anticipated_growth=r.anticipated_growth,
                ratio=r.ratio,
                progress=r.progress,
                start_year=r.start_year,
                start_value=r.start_value,
                start_kind=r.start_kind,
            )
            rows.append(row)
        for g in self.groups:
            row = {
                "kind": "group",
                "id": g.group_id,
                "indicator": "",
                "year": np.nan,
                "measure": "all of " + ",".join(g.targets),
                "threshold": "",
                "status": "",
                "assessable": g.assessable,
                "reason": g.reason,
            }
            for name, e in (("p_in_year", g.p_all_in_year), ("p_by_year", g.p_all_by_year)):
                row[name] = e.value if e else np.nan
                row[f"{name}_se"] = e.se if e else np.nan
                row[f"{name}_low"] = e.low if e else np.nan
                row[f"{name}_high"] = e.high if e else np.nan
                row[f"{name}_text"] = e.text() if e else ""
            rows.append(row)
        return pd.DataFrame(rows)

    def table(self, lang: str = "en") -> str:
        """A fixed-width text table (the command line's output)."""
        from .report_tables import assessment_table

        return assessment_table(self, lang=lang)

    def __str__(self) -> str:
        return self.table()

    def to_html(self, lang: str = "en") -> str:
        """An HTML table (``lang`` "en", the default, or "zh")."""
        from .report_tables import assessment_html

        return assessment_html(self, lang=lang)

    def _repr_html_(self) -> str:
        return self.to_html()


def _growth_summaries(plan: _TargetPlan, g_T, x_T):
    t = plan.target
    q = np.array(QUANTILES)
    # sample quantiles (no interpolation), so values beyond float range stay inf, not NaN
    vals = np.quantile(x_T, q, method="inverted_cdf") if x_T.size else np.full(len(q), np.nan)
    if t.measure != "level":
        anticipated = float(vals[QUANTILES.index(0.5)])  # the growth itself
    elif g_T.size and not np.all(np.isnan(g_T)):
        anticipated = float(np.quantile(g_T, 0.5, method="inverted_cdf"))
    else:
        anticipated = np.nan
    if t.measure == "level":
        if plan.start_value is not None and plan.t_index > plan.anchor:
            k = t.value
            if t.comparator == "between":
                k = (
                    t.value
                    if plan.start_value < t.value
                    else (t.high if plan.start_value > t.high else plan.start_value)
                )
            years = plan.t_index - plan.anchor
            required = cagr(plan.start_value, k, years)
        else:
            required = np.nan
        gaps = vals / t.value - 1  # monotone in the value, so quantiles map over
    else:
        required = t.value  # the lower end of a band
        gaps = vals - t.value
    vq = dict(zip(QUANTILES, vals.tolist(), strict=True))
    gq = dict(zip(QUANTILES, gaps.tolist(), strict=True))
    return required, anticipated, vq, gq


def _finish(study, model, plans, group_specs, per_block, layout, seed, smoothing, notes):
    method = layout.method
    n = layout.n_paths
    results = []
    for i, p in enumerate(plans):
        t = p.target
        if not p.assessable:
            results.append(
                TargetResult(
                    t,
                    p.unit,
                    False,
                    p.reason,
                    None,
                    None,
                    np.nan,
                    np.nan,
                    np.nan,
                    "not assessable",
                    None,
                    None,
                    None,
                )
            )
            continue
        if p.observed is not None:
            e = _exact(p.observed, n)
            results.append(
                TargetResult(
                    t,
                    p.unit,
                    True,
                    "evaluated from the observation, not forecast",
                    e,
                    e,
                    np.nan,
                    np.nan,
                    np.nan,
                    "met" if p.observed else "missed",
                    t.year,
                    p.observed_value,
                    "observed",
                    observed_value=p.observed_value,
                )
            )
            continue
        stats = [pb[0][i] for pb in per_block]
        reps = [s["rep"] for s in stats]
        ns = [s["n"] for s in stats]
        smoothed = p.smooth is not None
        e_in = _combine(
            [s["in"] for s in stats], reps, ns, method, n, layout.n_replicates, smoothed
        )
        if stats and stats[0]["by_alt"] is not None:
            k = len(stats[0]["by_alt"][0])
            e_by = _combine_many(
                [[s["by"] for s in stats]] + [[s["by_alt"][0][i] for s in stats] for i in range(k)],
                [s["by_alt"][1] for s in stats],
                reps,
                ns,
                method,
                n,
                layout.n_replicates,
            )
            if e_by.value < e_in.value:
                # the mixture dipped below P(in year) by Monte Carlo noise (the two are near
                # equal); the first estimator is >= the in-year one path by path, so it keeps
                # P(by year) >= P(in year) exactly
                e_by = _combine(
                    [s["by"] for s in stats], reps, ns, method, n, layout.n_replicates, smoothed
                )
        else:
            e_by = _combine(
                [s["by"] for s in stats], reps, ns, method, n, layout.n_replicates, smoothed
            )
        for e in (e_in, e_by):
            if not (math.isfinite(e.value) and math.isfinite(e.se)):
                raise SimulationError(
                    f"target {t.id!r}: the probability is not a number (NaN/inf); the scenario's "
                    f"parameters for {p.ind!r} overflow — check its growth, volatility and start"
                )
        by_counts = np.sum([s["by_counts"] for s in stats], axis=0)
        yrs = model.years[p.w0 : p.t_index + 1]
        curve = {int(y): float(c) / n for y, c in zip(yrs, by_counts, strict=True)}
        first = {}
        prev = 0
        for y, c in zip(yrs, by_counts, strict=True):
            first[int(y)] = float(c - prev) / n
            prev = c
        first["not reached"] = 1.0 - float(by_counts[-1]) / n
        x_T = np.concatenate([s["x_T"] for s in stats if "x_T" in s])
        g_T = np.concatenate([s["g_T"] for s in stats if "g_T" in s])
        required, anticipated, vq, gq = _growth_summaries(p, g_T, x_T)
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
        results.append(
            TargetResult(
                t,
                p.unit,
                True,
                None,
                e_in,
                e_by,
                float(required),
                float(anticipated),
                float(ratio),
                status,
                p.start_year,
                p.start_value,
                p.start_kind,
                first_year=first,
                by_year_curve=curve,
                value_quantiles=vq,
                gap_quantiles=gq,
            )
        )
    groups = []
    for j, (g, member_plans, product) in enumerate(group_specs):
        bad = [mp for mp in member_plans if not mp.assessable]
        if bad:
            groups.append(
                GroupResult(
                    g.id,
                    g.targets,
                    False,
                    f"target {bad[0].target.id!r} is not assessable: {bad[0].reason}",
                    None,
                    None,
                )
            )
            continue
        stats = [pb[1][j] for pb in per_block]
        reps = [s["rep"] for s in stats]
        ns = [s["n"] for s in stats]
        e_in = _combine([s["in"] for s in stats], reps, ns, method, n, layout.n_replicates, product)
        e_by = _combine([s["by"] for s in stats], reps, ns, method, n, layout.n_replicates, product)
        groups.append(GroupResult(g.id, g.targets, True, None, e_in, e_by))
    assumed = _assumed_list(study, model)
    return Assessment(
        study_id=study.id,
        scenario_id=model.scenario_id,
        method=method,
        n_paths=n,
        n_replicates=layout.n_replicates,
        seed=seed,
        smoothing=smoothing,
        targets=tuple(results),
        groups=tuple(groups),
        corrections=model.corrections,
        notes=tuple(notes),
        assumed=assumed,
    )


def _assumed_list(study: Study, model: Model) -> tuple[str, ...]:
    sc = study.scenario(model.scenario_id)
    out = []
    for a in sc.assumptions:
        bits = [f"growth {a.growth.describe()}", f"volatility {a.volatility:g}"]
        if a.start is not None:
            bits.append(f"start {a.start.describe()}")
        for s in a.shocks:
            bits.append(f"{s.kind} {s.year}")
        why = f" — {a.rationale}" if a.rationale else ""
        out.append(f"{a.indicator}: {', '.join(bits)} [{a.status}]{why}")
    return tuple(out)


def _select(study: Study, targets, groups):
    strict = targets is not None
    if targets is None:
        tlist = list(study.targets)
    else:
        if isinstance(targets, str | Target):
            targets = [targets]
        tlist = []
        for t in targets:
            if isinstance(t, Target):
                tlist.append(t)
            else:
                try:
                    tlist.append(study.target(t))
                except KeyError as exc:
                    raise SimulationError(str(exc.args[0])) from None
    if groups is None:
        ids = {t.id for t in tlist}
        glist = [g for g in study.groups if all(tid in ids for tid in g.targets)]
    else:
        glist = []
        for g in [groups] if isinstance(groups, str) else groups:
            try:
                glist.append(study.group(g))
            except KeyError as exc:
                raise SimulationError(str(exc.args[0])) from None
        have = {t.id for t in tlist}
        for g in glist:
            tlist.extend(study.target(tid) for tid in g.targets if tid not in have)
            have.update(g.targets)
    return tlist, glist, strict


def assess(
    paths_or_study: Paths | Study,
    targets=None,
    *,
    groups=None,
    scenario: str | None = None,
    n_paths: int = 100_000,
    rng=None,
    method: str = "mc",
    n_replicates: int = 16,
    smoothing: bool = True,
    chunk_size: int = DEFAULT_CHUNK,
    corrections: Literal["use", "ignore"] = "use",
    precision: Literal["single", "double"] = "single",
    executor: Executor | None = None,
    progress: bool | None = None,
    study: Study | None = None,
) -> Assessment:
    """P(reach) of targets, from simulated paths or streaming from a study.

    Parameters
    ----------
    paths_or_study : Paths or Study
        Paths from :func:`hzforecast.simulate` (then pass ``study=`` too), or a
        study: then paths are simulated block by block and only running counts are
        kept (assess-only mode; memory does not grow with ``n_paths``).
    targets : list of str or Target, optional
        Default: every target of the study; those the scenario cannot assess are
        reported with the reason. Named targets that cannot be assessed are an error.
    groups : list of str, optional
        Target groups for joint probabilities (default: every group whose targets
        are all assessed).
    scenario, n_paths, rng, method, n_replicates, chunk_size, corrections, precision, \
    executor, progress
        As in :func:`hzforecast.simulate` (streaming mode only).
    smoothing : bool
        Integrate the last year's shock analytically where possible (see module notes).

    Returns
    -------
    Assessment

    Examples
    --------
    >>> import hzforecast as hz
    >>> study = hz.load_study("jiaozuo-2019")
    >>> res = hz.assess(study, ["mengniu-2019"], scenario="baseline", n_paths=2**14, rng=7)
    >>> 0.2 < res["mengniu-2019"].p_in_year.value < 0.4
    True
    """
    if isinstance(paths_or_study, Paths):
        paths = paths_or_study
        if study is None or study.id != paths.study_id:
            raise ValueError(f"study: pass the study the paths came from ({paths.study_id!r})")
        model = paths.model
        _check_enough_paths(paths.n_paths)
        layout = BlockLayout(paths.n_paths, paths.method, paths.n_replicates, BLOCK)
        plans, group_specs = _plans(study, model, targets, groups, smoothing, paths.method)
        per_block = [
            _block_stats(plans, group_specs, model, paths.method, st, th, block)
            for st, th, block in paths_blocks(paths)
        ]
        return _finish(
            study,
            model,
            plans,
            group_specs,
            per_block,
            layout,
            paths.seed,
            smoothing,
            list(model.notes),
        )
    if not isinstance(paths_or_study, Study):
        raise TypeError(
            f"paths_or_study: expected Paths or Study, got {type(paths_or_study).__name__}"
        )
    study = paths_or_study
    if scenario is None:
        raise ValueError(
            f"scenario: required when assessing a study (have {[s.id for s in study.scenarios]})"
        )
    seq = as_seed_sequence(rng)
    layout = _layout(n_paths, method, n_replicates)
    _check_enough_paths(n_paths)
    model = compile_model(study, scenario, corrections=corrections, precision=precision)
    plans, group_specs = _plans(study, model, targets, groups, smoothing, method)
    fn = partial(_block_stats_fn, plans, group_specs, model, method)
    bar = _progress_bar(n_paths, progress, f"assess {scenario}")
    try:
        per_block = run_blocks(
            model,
            layout,
            seq,
            fn,
            chunk_size=chunk_size,
            executor=executor,
            progress=bar,
            derived=False,
            track_max=True,
        )
    finally:
        if bar is not None:
            bar.close()
    return _finish(
        study,
        model,
        plans,
        group_specs,
        per_block,
        layout,
        describe_seed(seq),
        smoothing,
        list(model.notes),
    )


#: The fewest paths an assessment takes: below this a Monte Carlo standard error is itself
#: too uncertain to report (one path has none at all).
MIN_PATHS = 100


def _check_enough_paths(n: int) -> None:
    if n < MIN_PATHS:
        raise ValueError(
            f"n_paths: at least {MIN_PATHS} paths are needed for a probability and its Monte "
            f"Carlo error to mean anything, got {n}"
        )


def _plans(study, model, targets, groups, smoothing, method):
    """Target plans (without smoothing if asked) and the group specs, for either mode.

    Sequential conditioning for P(by year) costs a few special functions per path and
    year. It pays for rate targets (growth, CAGR), which paths often meet before their
    year, and under QMC, which needs a smooth integrand; for a level target under plain
    or antithetic Monte Carlo the other estimators are as good, so it is left out there,
    and under QMC too where the growth can be integrated out instead (measured on the
    Jiaozuo study: without it the QMC run took 27% less time and the work ratios of those
    four estimates rose 5–35%).
    """
    from dataclasses import replace

    tlist, glist, strict = _select(study, targets, groups)
    plans = _plan_targets(study, model, tlist, strict=strict)
    if not smoothing:
        plans = [_no_smooth(p) for p in plans]
    else:
        plans = [
            replace(p, survival=False)
            if p.survival and p.target.measure == "level" and (method != "qmc" or p.param_cond)
            else p
            for p in plans
        ]
    return plans, _group_specs(glist, plans, model)


def _no_smooth(p: _TargetPlan) -> _TargetPlan:
    if p.smooth is None:
        return p
    from dataclasses import replace

    return replace(p, smooth=None, survival=False, growth_dist=None)


def _group_specs(glist, plans, model):
    """(group, member plans, whether P(all in year) may be smoothed as a product).

    Given a path's parameters, targets on different indicators whose shocks are
    uncorrelated are independent, so P(all in year | parameters) is the product of
    the members' smoothed probabilities. Otherwise the indicator estimator is used.
    """
    by_id = {p.target.id: p for p in plans}
    corr = model.shock_correlation_matrix()
    out = []
    for g in glist:
        members = [by_id[tid] for tid in g.targets]
        live = [m for m in members if m.assessable and m.observed is None]
        rows = [model.plan(m.ind).row if m.smooth is not None else None for m in live]
        product = (
            all(m.assessable for m in members)
            and all(r is not None for r in rows)
            and len(set(rows)) == len(rows)
            and all(corr[a, b] == 0.0 for i, a in enumerate(rows) for b in rows[i + 1 :])
        )
        out.append((g, members, product))
    return out


def path_outcomes(
    paths: Paths, study: Study, target: str | Target, *, smooth: bool = True
) -> np.ndarray:
    """Per path, the probability that ``target`` holds in its year given that path's
    parameters (shocks integrated where the model allows; ``smooth=False``: whether the
    path itself meets it, 0/1) — the values whose mean is P(in year). Shape (n_paths,)."""
    t = study.target(target) if isinstance(target, str) else target
    [p] = _plan_targets(study, paths.model, [t], strict=True)
    out = np.empty(paths.n_paths)
    if p.observed is not None:
        out[:] = 1.0 if p.observed else 0.0
        return out
    need = _derived_needed(paths.model, [p])
    for st, th, (_, _, first, n) in paths_blocks(paths):
        if need:
            add_derived(paths.model, st, only=need)
        s = st[p.ind]
        if smooth and p.smooth is not None:
            out[first : first + n] = _smoothed_prob(p, s, th, st)
        else:
            logv = _log_value(s, p.transform) if t.measure != "level" else None
            out[first : first + n] = _meets(p, _measure(p, s, logv, p.t_index))
    return out


def compare_scenarios(study: Study, scenarios=None, targets=None, **kwargs):
    """P(reach) per target and scenario, side by side, with common random numbers.

    Every scenario is run with the same ``rng``; random streams are keyed by block
    and by the indicator or parameter they drive, so paths differ only where the
    scenarios do.

    Returns
    -------
    (pandas.DataFrame, dict of str -> Assessment)
        The frame has one row per target and, per scenario, ``P(in year)`` and its SE.
    """
    import pandas as pd

    if "scenario" in kwargs:
        raise TypeError("compare_scenarios: pass scenarios=[...], not scenario=")
    ids = [s.id for s in study.scenarios] if scenarios is None else list(scenarios)
    rng = kwargs.pop("rng", None)
    seq = as_seed_sequence(rng)
    out = {sid: assess(study, targets, scenario=sid, rng=seq, **kwargs) for sid in ids}
    rows = []
    first = out[ids[0]]
    for r in first.targets:
        row = {"target": r.id, "year": r.target.year, "status": r.target.status}
        for sid in ids:
            e = out[sid][r.id].p_in_year
            row[f"{sid}"] = e.value if e else np.nan
            row[f"{sid}_se"] = e.se if e else np.nan
        rows.append(row)
    return pd.DataFrame(rows), out
