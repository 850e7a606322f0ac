r"""Per-path estimators of a target's probabilities, one block at a time.

Each function takes a target's :class:`~.plans.TargetPlan` and a block's states, parameter
draws and drifts, and returns one number per path whose mean over paths is an unbiased
estimate of a probability:

* :func:`smoothed_prob` — P(in year | the path's parameters): every shock of the indicator
  integrated exactly (conditional Monte Carlo);
* :func:`last_prob` — P(in year | the path up to the year before), for the paths given;
* :func:`survival_by` — P(reached in some year of the window | parameters), by sequential
  conditioning (Glasserman & Staum 2001);
* :func:`growth_integrated_by` — P(reached by the year | the path's shocks and start), the
  growth parameter integrated out.

docs/methods.md has the formulas; tests/test_assess.py checks each against a plain loop.
"""

from __future__ import annotations

import math

import numpy as np

from .._engine import IndicatorPlan, growth_cdf
from .._lazy import special
from .._scales import to_scale
from .plans import TargetPlan

__all__ = [
    "band_prob",
    "growth_integrated_by",
    "last_prob",
    "measure",
    "meets",
    "smoothed_prob",
    "survival_by",
]


def _drift_at(plan: IndicatorPlan, drifts: dict, t: int):
    """Per-path drift (or one float) of the step into grid year t (log or logit scale)."""
    pidx = plan.growth_param
    for start, p in plan.trends:
        if t >= start:
            pidx = p
    return drifts[pidx]


def _drift_sum(plan: IndicatorPlan, drifts: dict, t0: int, t1: int):
    """Per-path sum of the drifts of the steps into grid years t0+1 … t1."""
    segments = [(plan.anchor + 1, plan.growth_param), *plan.trends]
    total = 0.0
    for i, (start, pidx) in enumerate(segments):
        end = segments[i + 1][0] - 1 if i + 1 < len(segments) else t1
        lo, hi = max(start, t0 + 1), min(end, t1)
        if hi >= lo:
            total = total + (hi - lo + 1) * drifts[pidx]
    return total


def measure(p: TargetPlan, s: np.ndarray, logv, t: int) -> np.ndarray:
    """The target's measure in grid year t: the state, a log growth, or — for a CAGR target —
    the log growth since the base per year of the target's whole span, so that in an earlier
    year it says whether the level the CAGR implies for the target year is already reached
    (one good year does not meet a seven-year CAGR)."""
    m = p.target.measure
    if m == "level":
        return s[t]
    if m == "growth":
        return logv[t] - logv[t - 1]
    return (logv[t] - logv[p.base_index]) / (p.t_index - p.base_index)


def meets(p: TargetPlan, x: np.ndarray) -> np.ndarray:
    """Whether measured values meet the target (on the measure scale)."""
    if p.cmp == ">=":
        return x >= p.c_lo
    if p.cmp == "<=":
        return x <= p.c_hi
    return (x >= p.c_lo) & (x <= p.c_hi)


def band_prob(comparator: str, mean, sd, lo, hi):
    """P(lo <= mean + sd·ε <= hi) for the comparator's open ends, ε standard normal.

    A tiny sd sends the z-scores to ±inf, where ndtr is exactly 0 or 1."""
    with np.errstate(over="ignore", divide="ignore"):
        if comparator == ">=":
            return special.ndtr((mean - lo) / sd)
        if comparator == "<=":
            return special.ndtr((hi - mean) / sd)
        return special.ndtr((hi - mean) / sd) - special.ndtr((lo - mean) / sd)


def _walk_var(k: int) -> float:
    """Σ_{j=1}^{k} j²: the growth walk's variance of a sum of k years' drifts, per τ²."""
    return k * (k + 1) * (2 * k + 1) / 6


def smoothed_prob(
    p: TargetPlan, n: int, theta: np.ndarray, drifts: dict, sigmas: dict, walks: dict
) -> np.ndarray:
    """P(in year | parameters) per path (one float broadcast when they are fixed).

    Given a path's parameter draws, the target-year state is normal: every shock of the
    indicator — and every step of a walking growth — is integrated exactly.
    """
    plan = p.smooth
    T = p.t_index
    sig = sigmas[plan.id]
    tau = walks[plan.id]
    off = plan.offsets
    m = p.target.measure
    c_lo, c_hi = p.c_lo, p.c_hi
    cmp = p.cmp
    a = plan.anchor
    if m == "level":
        if plan.start_param is not None:
            x0 = theta[plan.start_param]
        else:
            x0 = plan.start_value
        y0 = to_scale(x0, plan.transform)
        mean_full = y0 + _drift_sum(plan, drifts, a, T) + (off[T] - off[a])
        sd = (
            sig * math.sqrt(T - a)
            if not plan.walk
            else np.sqrt(sig * sig * (T - a) + tau * tau * _walk_var(T - a))
        )
        full = band_prob(cmp, mean_full, sd, c_lo, c_hi)
    elif m == "growth":
        sd = sig if not plan.walk else np.sqrt(sig * sig + tau * tau * (T - a))
        full = band_prob(cmp, _drift_at(plan, drifts, T) + (off[T] - off[T - 1]), sd, c_lo, c_hi)
    else:
        b = p.base_index
        k = T - b
        mean_full = _drift_sum(plan, drifts, b, T) + (off[T] - off[b])
        sd = (
            sig * math.sqrt(k)
            if not plan.walk
            else np.sqrt(sig * sig * k + tau * tau * ((b - a + 1) * k * k + _walk_var(k - 1)))
        )
        full = band_prob(cmp, mean_full, sd, c_lo * k, c_hi * k)
    return np.broadcast_to(np.asarray(full, dtype=float), (n,))


def _step_event(p: TargetPlan, prev, base, d, t: int):
    """The target's event in grid year t as ``lo <= mean + σ·w <= hi`` for the year's
    standard normal shock w, given the state ``prev`` of year t-1, the CAGR base state
    ``base`` and the step's drift ``d``: (mean, lo, hi) on the transformed scale."""
    m = p.target.measure
    if m == "growth":  # the event is on the step itself, whatever the path
        return d, p.c_lo, p.c_hi
    if m == "cagr":  # the level the target year's CAGR implies, reached in year t
        k = p.t_index - p.base_index
        return prev + d - base, p.c_lo * k, p.c_hi * k
    return prev + d, p.c_lo, p.c_hi


def last_prob(p: TargetPlan, s, drifts: dict, sigmas: dict, where) -> np.ndarray:
    """P(in year | path to T-1) for the paths ``where`` (an index array) selects (a growth
    that does not walk: the step's drift is known given the parameters)."""
    plan = p.smooth
    T = p.t_index
    sig = sigmas[plan.id]
    if np.ndim(sig):
        sig = sig[where]
    off = plan.offsets
    d = _drift_at(plan, drifts, T) + (off[T] - off[T - 1])
    if np.ndim(d):
        d = d[where]
    base = s[p.base_index][where] if p.target.measure == "cagr" else 0.0
    mean, lo, hi = _step_event(p, s[T - 1][where], base, d, T)
    mean = mean + np.zeros(len(where))  # a growth event's mean can be one float
    return band_prob(p.cmp, mean, sig, lo, hi)


def survival_by(p: TargetPlan, s, drifts: dict, sigmas: dict) -> np.ndarray:
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
    T, w0 = p.t_index, p.w0
    sig = sigmas[plan.id]
    off = plan.offsets
    m = p.target.measure
    cmp = p.cmp
    n = s.shape[1]
    reached = np.zeros(n)  # P(reached by t | parameters), by r += (1 - r) q: exact for tiny q
    y = np.asarray(s[w0 - 1], dtype=np.float64)  # the path (conditioned from w0 on)
    base = np.asarray(s[p.base_index], dtype=np.float64) if m == "cagr" else 0.0
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        for t in range(w0, T + 1):
            d = _drift_at(plan, drifts, t) + (off[t] - off[t - 1])
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


def growth_integrated_by(p: TargetPlan, s, drifts: dict) -> np.ndarray:
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
    d = drifts[plan.growth_param]
    a, T, w0 = plan.anchor, p.t_index, p.w0
    steps = np.arange(w0 - a, T - a + 1, dtype=np.float64)[:, None]
    if p.cmp == ">=":
        slack = np.min((p.c_lo - np.asarray(s[w0 : T + 1], dtype=np.float64)) / steps, axis=0)
    else:
        slack = np.max((p.c_hi - np.asarray(s[w0 : T + 1], dtype=np.float64)) / steps, axis=0)
    d_star = d + slack
    with np.errstate(over="ignore"):
        g_star = np.expm1(d_star) if plan.transform == "log" and plan.rate_growth else d_star
    cdf = growth_cdf(p.growth_dist, g_star)
    return 1.0 - cdf if p.cmp == ">=" else cdf


def probability_given_parameters(
    plans: list[TargetPlan], model, theta: np.ndarray, group=None
) -> np.ndarray:
    """P(the targets in ``plans`` met in their years | each column of parameters ``theta``):
    every target (or, given a ``group``, the group's rule: at least k, a weighted score),
    exact, every shock integrated (the targets' shocks must be independent). For global
    sensitivity analysis, where each column is one design point."""
    from .._engine import drifts, path_sigmas, path_walks
    from .blockstats import rule_probability

    sig = path_sigmas(model, theta)
    d = drifts(model, theta, sig)
    w = path_walks(model, sig)
    n = theta.shape[1]
    probs = np.array(
        [
            np.full(n, 1.0 if plan.observed else 0.0)
            if plan.observed is not None
            else smoothed_prob(plan, n, theta, d, sig, w)
            for plan in plans
        ]
    )
    if group is None:
        return np.prod(probs, axis=0)
    return rule_probability(group, probs)
