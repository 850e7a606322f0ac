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
instead of 0 or 1 (conditional Monte Carlo; unbiased, never a larger variance). P(by year)
mixes up to three unbiased estimators with the variance-minimising weights: P(in year) plus
the paths that reached the target earlier and miss it in T (last shock integrated),
sequential conditioning on not meeting the target year by year (Glasserman & Staum, 2001),
and the growth parameter integrated out given the path's shocks (docs/methods.md has the
formulas). P(by year) ≥ P(in year) holds to the last bit. Group probabilities and
first-year distributions use the indicator estimator, or the product of the members'
smoothed probabilities where their shocks are independent.

Standard errors: plain MC, the sample standard deviation over paths / √N;
antithetic, over the N/2 pair means; randomised QMC, over the independent
scramblings (replicates) / √R. The 95% interval is Wilson's score interval with
the effective sample size :math:`n_\text{eff} = \hat p(1-\hat p)/\text{SE}^2`. A
probability the run cannot tell from 0 is reported as "< 1/N", never as 0.

The machinery lives in the private package :mod:`hzforecast._assess`; this module is its
public front.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import Executor
from functools import partial
from typing import Literal

import numpy as np

from ._assess import (
    Accumulator,
    Assessment,
    AssumptionUsed,
    Estimate,
    GroupResult,
    TargetResult,
    block_stats,
    derived_needed,
    measure,
    meets,
    paired_difference,
    plan_run,
    plan_targets,
    progress_status,
    smoothed_prob,
)
from ._engine import (
    BlockLayout,
    SimulationError,
    add_derived,
    check_memory,
    compile_model,
    layout_for,
    log_value,
    run_blocks,
)
from ._progress import progress_bar
from ._rng import as_seed_sequence, describe_seed
from .simulate import Paths
from .spec import Study, Target

__all__ = [
    "MIN_PATHS",
    "Assessment",
    "AssumptionUsed",
    "Estimate",
    "GroupResult",
    "TargetResult",
    "assess",
    "compare_scenarios",
    "load_assessment",
    "paired_difference",
    "path_outcomes",
    "progress_status",
]

#: The fewest paths an assessment takes: below this a Monte Carlo standard error is itself
#: too uncertain to report (one path has none at all).
MIN_PATHS = 100

#: Defaults of the arguments that only apply when ``assess`` simulates (streaming mode).
_STREAMING_DEFAULTS = {
    "scenario": None,
    "n_paths": 100_000,
    "rng": None,
    "method": "mc",
    "n_replicates": 16,
    "chunk_size": None,
    "corrections": "use",
    "precision": "single",
    "executor": None,
}


def _check_enough_paths(n: int) -> None:
    if n < MIN_PATHS:
        raise ValueError(
            f"n_paths: at least {MIN_PATHS} paths are needed for a probability and its Monte "
            f"Carlo error to mean anything, got {n}"
        )


def assess(
    paths_or_study: Paths | Study,
    targets=None,
    *,
    groups=None,
    scenario: str | None = None,
    n_paths: int | None = None,
    rng=None,
    method: Literal["mc", "antithetic", "qmc"] | None = None,
    n_replicates: int | None = None,
    smoothing: bool = True,
    chunk_size: int | None = None,
    corrections: Literal["use", "ignore"] | None = None,
    precision: Literal["single", "double"] | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
    study: Study | None = None,
    target_se: float | None = None,
    max_paths: int = 2**24,
) -> Assessment:
    """P(reach) of targets, from simulated paths or streaming from a study.

    Parameters
    ----------
    paths_or_study : Paths or Study
        Paths from :func:`hzforecast.simulate` (then pass ``study=`` too), or a
        study: then paths are simulated block by block and only running sums are
        kept (assess-only mode; memory does not grow with ``n_paths``).
    targets : list of str or Target, optional
        Default: every target of the study; those the scenario cannot assess are
        reported with the reason. Named targets that cannot be assessed are an error.
    groups : list of str, optional
        Target groups for joint probabilities (default: every group whose targets
        are all assessed).
    scenario, n_paths, rng, method, n_replicates, chunk_size, corrections, precision, \
    executor
        As in :func:`hzforecast.simulate`, for a study (defaults: 100,000 paths, ``"mc"``,
        16 replicates, ``corrections="use"``, single precision). Paths already carry these:
        passing any of them with paths is an error, not silently ignored.
    smoothing : bool
        Integrate shocks analytically where possible (see module notes).
    progress : bool or None
        A progress bar for long runs (None: only on a terminal or in a notebook).
    target_se : float, optional
        Stop when precise enough: run with ``n_paths``, then twice as many, and so on, until
        every reported probability (in and by the year, targets and groups) has a Monte Carlo
        standard error of at most ``target_se``, or ``max_paths`` is reached (a note says
        so). Each run is a complete run of its size, so the answer is the one a single run of
        the final size gives — whatever the executor. The runs are kept in
        :attr:`Assessment.convergence` (paths, the largest SE, every P and SE) for
        :func:`hzforecast.plot.convergence`.
    max_paths : int
        The most paths ``target_se`` may use (default 2²⁴ ≈ 16.8 million).

    Returns
    -------
    Assessment

    Raises
    ------
    TypeError
        Streaming arguments passed with paths, or a wrong type.
    ValueError
        Fewer than :data:`MIN_PATHS` paths; an unknown scenario, target or group.

    Examples
    --------
    >>> import hzforecast as hz
    >>> study = hz.load_study("jiaozuo-2019")
    >>> res = hz.assess(study, ["mengniu-2019"], scenario="baseline", n_paths=2**14, rng=7)
    >>> 0.2 < res["mengniu-2019"].p_in_year.value < 0.4
    True
    """
    streaming = {
        "scenario": scenario,
        "n_paths": n_paths,
        "rng": rng,
        "method": method,
        "n_replicates": n_replicates,
        "chunk_size": chunk_size,
        "corrections": corrections,
        "precision": precision,
        "executor": executor,
    }
    if isinstance(paths_or_study, Paths):
        given = sorted(k for k, v in streaming.items() if v is not None)
        if given:
            p = paths_or_study
            raise TypeError(
                f"assess(paths, ...): {', '.join(given)} do not apply to paths already "
                f"simulated ({p.n_paths:,} paths, {p.method}, scenario {p.scenario_id!r}); "
                f"simulate again, or pass the study to assess to simulate as it goes"
            )
        return _assess_paths(paths_or_study, targets, groups, smoothing, study)
    if not isinstance(paths_or_study, Study):
        raise TypeError(
            f"paths_or_study: expected Paths or Study, got {type(paths_or_study).__name__}"
        )
    if study is not None:
        raise TypeError("study: pass it only with paths (the first argument is the study)")
    args = {k: (_STREAMING_DEFAULTS[k] if v is None else v) for k, v in streaming.items()}
    if target_se is None:
        return _assess_streaming(paths_or_study, targets, groups, smoothing, progress, **args)
    return _until_precise(paths_or_study, targets, groups, smoothing, progress, target_se,
                          max_paths, args)  # fmt: skip


def load_assessment(path) -> Assessment:
    """An assessment saved with :meth:`Assessment.save` (versioned, strict JSON)."""
    from ._assess import load_assessment as load

    return load(path)


def _largest_se(res: Assessment) -> float:
    ses = [
        e.se
        for r in res.targets
        if r.assessable and r.p_in_year.estimator != "exact"
        for e in (r.p_in_year, r.p_by_year)
    ] + [e.se for g in res.groups if g.assessable for e in (g.p_all_in_year, g.p_all_by_year)]
    return max(ses, default=0.0)


def _until_precise(study, targets, groups, smoothing, progress, target_se, max_paths, args):
    """Complete runs of doubling size until every SE reaches ``target_se`` (see assess)."""
    if isinstance(target_se, bool) or not (isinstance(target_se, int | float) and target_se > 0):
        raise ValueError(f"target_se: must be a positive number, got {target_se!r}")
    if isinstance(max_paths, bool) or not isinstance(max_paths, int) or max_paths < MIN_PATHS:
        raise ValueError(f"max_paths: must be a whole number >= {MIN_PATHS}, got {max_paths!r}")
    seq = as_seed_sequence(args.pop("rng"))  # every run from the same seed: nested, comparable
    n = args.pop("n_paths")
    history = []
    while True:
        res = _assess_streaming(study, targets, groups, smoothing, progress, rng=seq,
                                n_paths=n, **args)  # fmt: skip
        worst = _largest_se(res)
        history.append(
            {
                "n_paths": n,
                "largest_se": worst,
                **{f"{r.id}": r.p_in_year.value for r in res.targets if r.assessable},
                **{f"{r.id}_se": r.p_in_year.se for r in res.targets if r.assessable},
            }
        )
        if worst <= target_se or 2 * n > max_paths:
            break
        n *= 2
    note = (
        f"stopped at {n:,} paths: the largest Monte Carlo SE is {worst:.2g}"
        + (f" (target {target_se:g})" if worst <= target_se else
           f", above the target {target_se:g}: max_paths = {max_paths:,} reached")
    )  # fmt: skip
    return dataclasses.replace(res, notes=(*res.notes, note), convergence=tuple(history))


def _assess_paths(paths: Paths, targets, groups, smoothing, study) -> Assessment:
    if study is None or study.id != paths.study_id:
        raise ValueError(f"study: pass the study the paths came from ({paths.study_id!r})")
    _check_enough_paths(paths.n_paths)
    model = paths.model
    layout = BlockLayout(paths.n_paths, paths.method, paths.n_replicates)
    plans, group_plans = plan_run(
        study, model, targets, groups, smoothing=smoothing, method=paths.method
    )
    acc = Accumulator(plans, group_plans, layout)
    for state in paths.iter_blocks():
        acc.add(block_stats(plans, group_plans, model, paths.method, state))
    return acc.finish(study, model, seed=paths.seed, smoothing=smoothing)


def _assess_streaming(
    study: Study,
    targets,
    groups,
    smoothing,
    progress,
    *,
    scenario,
    n_paths,
    rng,
    method,
    n_replicates,
    chunk_size,
    corrections,
    precision,
    executor,
) -> Assessment:
    try:
        scenario = study.scenario_id(scenario)  # None: the study's default scenario
    except KeyError as exc:
        raise SimulationError(exc.args[0]) from None
    seq = as_seed_sequence(rng)
    layout = layout_for(n_paths, method, n_replicates)
    _check_enough_paths(n_paths)
    model = compile_model(study, scenario, corrections=corrections, precision=precision)
    plans, group_plans = plan_run(study, model, targets, groups, smoothing=smoothing, method=method)
    workers = getattr(executor, "_max_workers", 1) if executor is not None else 1
    check_memory(model, method=method, workers=workers, track_max=True, n_targets=len(plans))
    fn = partial(block_stats, plans, group_plans, model, method)
    acc = Accumulator(plans, group_plans, layout)
    bar = progress_bar(n_paths, progress, f"assess {scenario}")
    try:
        for stats in run_blocks(
            model,
            layout,
            seq,
            fn,
            chunk_size=chunk_size,
            executor=executor,
            progress=bar,
            derived=False,
            track_max=True,
        ):
            acc.add(stats)
    finally:
        if bar is not None:
            bar.close()
    return acc.finish(study, model, seed=describe_seed(seq), smoothing=smoothing)


def path_outcomes(
    paths: Paths, study: Study, target: str | Target, *, smooth: bool = True
) -> np.ndarray:
    """Per path, the probability that ``target`` holds in its year given that path's
    parameters (shocks integrated where the model allows; ``smooth=False``: whether the
    path itself meets it, 0/1) — the values whose mean is P(in year). Shape (n_paths,)."""
    t = study.target(target) if isinstance(target, str) else target
    [p] = plan_targets(study, paths.model, [t], strict=True)
    out = np.empty(paths.n_paths)
    if p.observed is not None:
        out[:] = 1.0 if p.observed else 0.0
        return out
    need = derived_needed(paths.model, [p])
    for state in paths.iter_blocks():
        first, n = state.block.first, state.block.n
        if need:
            add_derived(paths.model, state.states, only=need)
        s = state.states[p.ind]
        if smooth and p.smooth is not None:
            out[first : first + n] = smoothed_prob(
                p, n, state.theta, state.drifts, state.sigmas, state.walks
            )
        else:
            logv = log_value(s, p.transform) if t.measure != "level" else None
            out[first : first + n] = meets(p, measure(p, s, logv, p.t_index))
    return out


def compare_scenarios(
    study: Study,
    scenarios=None,
    targets=None,
    *,
    groups=None,
    n_paths: int = 100_000,
    rng=None,
    method: Literal["mc", "antithetic", "qmc"] = "mc",
    n_replicates: int = 16,
    smoothing: bool = True,
    chunk_size: int | None = None,
    corrections: Literal["use", "ignore"] = "use",
    precision: Literal["single", "double"] = "single",
    executor: Executor | None = None,
    progress: bool | None = None,
):
    """P(reach) per target and group and per scenario, side by side, with common random
    numbers, and each scenario's difference from the first with its error.

    Every scenario is run with the same ``rng``; random streams are keyed by block and by the
    indicator or parameter they drive, so paths differ only where the scenarios do — and the
    difference between two scenarios is measured far more precisely than either probability
    (its standard error comes from the paired batches: :func:`paired_difference`).

    Returns
    -------
    (pandas.DataFrame, dict of str -> Assessment)
        The frame has one row per target and per group (``kind``), and per scenario ``<id>``
        (P in the year), ``<id>_se``, ``<id>_by`` (P by the year), ``<id>_by_se`` and
        ``<id>_reason`` (why it is not assessable, or empty); for every scenario after the
        first, ``<id> - <first>`` and ``<id> - <first>_se``.
    """
    import pandas as pd

    ids = [s.id for s in study.scenarios] if scenarios is None else list(scenarios)
    seq = as_seed_sequence(rng)
    out = {
        sid: assess(
            study,
            targets,
            groups=groups,
            scenario=sid,
            n_paths=n_paths,
            rng=seq,
            method=method,
            n_replicates=n_replicates,
            smoothing=smoothing,
            chunk_size=chunk_size,
            corrections=corrections,
            precision=precision,
            executor=executor,
            progress=progress,
        )
        for sid in ids
    }
    rows = []
    first = out[ids[0]]
    items = [(r.id, "target", r.target.year, r.target.status) for r in first.targets] + [
        (g.group_id, "group", None, g.group.status if g.group is not None else "")
        for g in first.groups
    ]
    for key, kind, year, status in items:
        row = {"target": key, "year": year, "status": status, "kind": kind}
        got = {}
        for sid in ids:
            r = out[sid][key] if kind == "target" else out[sid].group(key)
            e_in = r.p_in_year if kind == "target" else r.p_all_in_year
            e_by = r.p_by_year if kind == "target" else r.p_all_by_year
            row[sid] = e_in.value if e_in else np.nan
            row[f"{sid}_se"] = e_in.se if e_in else np.nan
            row[f"{sid}_by"] = e_by.value if e_by else np.nan
            row[f"{sid}_by_se"] = e_by.se if e_by else np.nan
            row[f"{sid}_reason"] = "" if r.assessable else str(r.reason or "")
            got[sid] = r
        ref = ids[0]
        for sid in ids[1:]:
            a, b = got[sid], got[ref]
            d = se = np.nan
            if a.batches is not None and b.batches is not None:
                d, se = paired_difference(a, b)
            elif a.assessable and b.assessable:
                ea = a.p_in_year if kind == "target" else a.p_all_in_year
                eb = b.p_in_year if kind == "target" else b.p_all_in_year
                d, se = ea.value - eb.value, 0.0  # both evaluated from observations: exact
            row[f"{sid} - {ref}"] = d
            row[f"{sid} - {ref}_se"] = se
        rows.append(row)
    return pd.DataFrame(rows), out
