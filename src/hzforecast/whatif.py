"""What would it take? Goal seek, one-at-a-time sensitivity (tornado) and stress analysis.

All three re-run the assessment with **common random numbers** (the same ``rng``):
paths differ only where the lever does, so P(reach) moves smoothly and monotonically
with a growth lever, and differences between runs are not noise.

*Levers* name a scenario assumption: ``"<indicator>.growth"`` shifts every draw of the
indicator's growth by a constant (the default lever for a target is its own indicator's
growth), ``"<indicator>.volatility"`` sets σ, ``"<indicator>.start"`` shifts an assumed
starting value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._progress import progress_bar
from ._rng import as_seed_sequence
from .assess import assess, path_outcomes
from .distributions import Fixed, shifted
from .simulate import SimulationError, simulate
from .spec import MAX_VOLATILITY, MIN_VOLATILITY, Study

__all__ = ["GoalSeekResult", "apply_lever", "required_growth", "stress", "tornado"]


def _parse_lever(study: Study, scenario: str, lever: str):
    try:
        sc = study.scenario(scenario)
    except KeyError as exc:
        raise SimulationError(str(exc.args[0])) from None
    if not isinstance(lever, str) or "." not in lever:
        raise ValueError(
            f"lever: expected '<indicator>.growth', '.volatility' or '.start', got {lever!r}"
        )
    ind, what = lever.rsplit(".", 1)
    a = sc.assumption(ind)
    if a is None:
        have = [f"{x.indicator}.growth" for x in sc.assumptions]
        raise ValueError(
            f"lever: scenario {scenario!r} has no assumption for {ind!r} "
            f"(levers: {have[:6]}{' …' if len(have) > 6 else ''})"
        )
    if what not in ("growth", "volatility", "start"):
        raise ValueError(f"lever: {lever!r} — expected .growth, .volatility or .start")
    if what == "start" and a.start is None:
        raise ValueError(f"lever: {ind!r} has an observed start; only an assumed start moves")
    return sc, a, what


def apply_lever(study: Study, scenario: str, lever: str, value: float) -> Study:
    """A copy of the study whose scenario has the lever moved (growth/start: shifted by
    ``value``; volatility: set to ``value``)."""
    sc, a, what = _parse_lever(study, scenario, lever)
    if what == "growth":
        new = a.model_copy(update={"growth": shifted(a.growth, value)})
    elif what == "start":
        new = a.model_copy(update={"start": shifted(a.start, value)})
    else:
        if not 0 <= value <= MAX_VOLATILITY:
            raise ValueError(
                f"lever: {lever} is σ of the yearly shock on the log scale, between 0 and "
                f"{MAX_VOLATILITY:g}; got {value:g} (for a volatility lever, search values "
                f"in [0, {MAX_VOLATILITY:g}], not shifts)"
            )
        new = a.model_copy(update={"volatility": float(value)})
    assumptions = tuple(new if x.indicator == a.indicator else x for x in sc.assumptions)
    new_sc = sc.model_copy(update={"assumptions": assumptions})
    scenarios = tuple(new_sc if s.id == sc.id else s for s in study.scenarios)
    return study.model_copy(update={"scenarios": scenarios})


def _lever_value(study, scenario, lever, x):
    """What the lever means at shift/value x: mean growth, σ, or mean start."""
    _, a, what = _parse_lever(study, scenario, lever)
    if what == "growth":
        return a.growth.mean() + x
    if what == "start":
        return a.start.mean() + x
    return x


@dataclass(frozen=True)
class GoalSeekResult:
    """The lever value at which P(reach) equals the requested probability.

    Attributes
    ----------
    target, lever, probability : the question
    value : float
        The lever's value (mean growth of the shifted assumption, σ, or mean start).
    shift : float
        The change from the scenario as given (growth, start) or the value (volatility).
    se : float
        Monte Carlo error of ``value`` (delta method: SE of P / slope of P).
    bracket : (float, float)
        Lever values between which P crosses the requested probability.
    p_at_value : float
        P(reach) at the answer.
    baseline_value, baseline_p : the scenario as given
    required_cagr : float
        The deterministic answer: the growth that reaches the threshold exactly.
    evaluations : int
        Simulations of the study it took.
    """

    target: str
    lever: str
    probability: float
    value: float
    shift: float
    se: float
    bracket: tuple[float, float]
    p_at_value: float
    baseline_value: float
    baseline_p: float
    required_cagr: float
    evaluations: int
    n_paths: int
    method: str
    scenario: str = ""

    def __repr__(self) -> str:
        return f"<GoalSeekResult {self}>"

    def __str__(self) -> str:
        name = self.lever.rsplit(".", 1)[1]
        pct = name in ("growth",)
        fmt = (lambda v: f"{v:.3%}") if pct else (lambda v: f"{v:.5g}")
        err = f"{self.se * 100:.2g} percentage points" if pct else f"{self.se:.2g}"
        return (
            f"{self.target}: P(reach) = {self.probability:.0%} needs {self.lever} = "
            f"{fmt(self.value)} (Monte Carlo error {err}), against {fmt(self.baseline_value)}"
            f" in scenario {self.scenario!r} (P = {self.baseline_p:.3f}); bracket "
            f"[{fmt(self.bracket[0])}, "
            f"{fmt(self.bracket[1])}]; reaching the threshold exactly takes "
            f"{self.required_cagr:.2%} a year; {self.evaluations} simulations of "
            f"{self.n_paths:,} paths ({self.method})"
        )


def required_growth(
    study: Study,
    target: str,
    *,
    probability: float = 0.8,
    lever: str | None = None,
    scenario: str | None = None,
    n_paths: int = 2**14,
    rng=0,
    method: str = "qmc",
    search: tuple[float, float] | None = None,
    xtol: float = 1e-6,
    max_evaluations: int = 40,
    executor=None,
    progress: bool | None = None,
) -> GoalSeekResult:
    """The value of a lever at which P(target reached in its year) equals ``probability``.

    Root finding (Brent) on P(lever) estimated with common random numbers, so P is a
    smooth, monotone function of a growth lever and the answer is reproducible.

    Parameters
    ----------
    target : str
        A target id of the study.
    probability : float in (0, 1)
    lever : str, optional
        Default ``"<target's indicator>.growth"``: a shift added to every growth draw.
    search : (float, float), optional
        Shifts (growth, start; default ±0.5) or values (volatility; default from the
        smallest simulable volatility, or 0 if the scenario's is 0, to the largest) to
        search between.

    Raises
    ------
    ValueError
        Unknown lever, a probability outside (0, 1), a lever that does not move P, or a
        probability no lever value in ``search`` reaches (the message gives the best found).
    """
    scenario = study.scenario_id(scenario)
    from scipy import optimize

    if not (isinstance(probability, int | float) and 0 < probability < 1):
        raise ValueError(f"probability: must be in (0, 1), got {probability!r}")
    t = study.target(target) if isinstance(target, str) else target
    lever = lever or f"{t.indicator}.growth"
    _parse_lever(study, scenario, lever)
    if search is None:
        if lever.endswith(".volatility"):
            own = study.scenario(scenario).assumption(lever.rsplit(".", 1)[0]).volatility
            search = (0.0 if own == 0 else min(MIN_VOLATILITY, own), MAX_VOLATILITY)
        else:
            search = (-0.5, 0.5)
    if not search[0] < search[1]:
        raise ValueError(f"search: need low < high, got {search}")
    seq = as_seed_sequence(rng)  # once: every run below reuses it (common random numbers)
    count = 0
    cache = {}
    bar = progress_bar(None, progress, f"goal seek {t.id}", unit="run")

    def p_of(x):
        nonlocal count
        x = float(x)
        if x not in cache:
            if bar is not None:
                bar.update(1)
            s = apply_lever(study, scenario, lever, x)
            res = assess(
                s,
                [t.id],
                scenario=scenario,
                n_paths=n_paths,
                rng=seq,
                method=method,
                progress=False,
                executor=executor,
            )
            count += 1
            cache[x] = res[t.id]
        return cache[x]

    x_base = (
        0.0
        if not lever.endswith(".volatility")
        else study.scenario(scenario).assumption(lever.rsplit(".", 1)[0]).volatility
    )
    base = p_of(x_base)
    lo, hi = search
    if not lo <= x_base <= hi:
        raise ValueError(f"search: must contain the scenario's own value {x_base}, got {search}")

    def f(x):
        return p_of(x).p_in_year.value - probability

    # a Newton step from the scenario as given finds a short bracket in a few runs
    bracket = _find_bracket(f, x_base, lo, hi, xtol)
    if bracket is None:
        p_lo, p_hi = p_of(lo).p_in_year.value, p_of(hi).p_in_year.value
        if abs(p_hi - p_lo) < 1e-12:
            raise ValueError(
                f"lever: {lever} does not move P({t.id}) between {lo} and {hi} "
                f"(P = {p_lo:.4g} at both ends)"
            )
        best = lo if abs(p_lo - probability) < abs(p_hi - probability) else hi
        raise ValueError(
            f"probability: no {lever} in [{lo}, {hi}] gives P({t.id}) = {probability}; the "
            f"closest is P = {p_of(best).p_in_year.value:.4f} at "
            f"{_lever_value(study, scenario, lever, best):.4g}"
        )
    f_lo, f_hi = f(bracket[0]), f(bracket[1])
    root = optimize.brentq(f, bracket[0], bracket[1], xtol=xtol, maxiter=max_evaluations)
    # the Monte Carlo error of the root: SE(P) / |dP/dx|, the slope from a central difference
    h = max(1e-4, 10 * xtol)
    slope = (p_of(root + h).p_in_year.value - p_of(root - h).p_in_year.value) / (2 * h)
    at = p_of(root).p_in_year
    se = at.se / abs(slope) if slope else float("inf")
    # the final bracket: the closest evaluated points on either side of the root
    xs = sorted(cache)
    below = [x for x in xs if (cache[x].p_in_year.value - probability) * (f_lo) > 0]
    above = [x for x in xs if (cache[x].p_in_year.value - probability) * (f_hi) > 0]
    b = (max(below) if below else lo, min(above) if above else hi)
    b = (min(b), max(b))
    if bar is not None:
        bar.close()
    return GoalSeekResult(
        target=t.id,
        lever=lever,
        probability=float(probability),
        value=_lever_value(study, scenario, lever, root),
        shift=float(root),
        se=float(se),
        bracket=(
            _lever_value(study, scenario, lever, b[0]),
            _lever_value(study, scenario, lever, b[1]),
        ),
        p_at_value=at.value,
        baseline_value=_lever_value(
            study,
            scenario,
            lever,
            0.0
            if not lever.endswith(".volatility")
            else study.scenario(scenario).assumption(lever.rsplit(".", 1)[0]).volatility,
        ),
        baseline_p=base.p_in_year.value,
        required_cagr=base.required_growth,
        evaluations=count,
        n_paths=n_paths,
        method=method,
        scenario=scenario,
    )


def _find_bracket(f, x0, lo, hi, xtol):
    """Points a < b in [lo, hi] with f(a), f(b) of opposite signs, or None."""
    f0 = f(x0)
    if f0 == 0:
        return (x0, x0 + xtol) if x0 + xtol <= hi else (x0 - xtol, x0)
    h = 1e-3 * (hi - lo)
    slope = (f(min(x0 + h, hi)) - f(max(x0 - h, lo))) / (min(x0 + h, hi) - max(x0 - h, lo))
    step = -f0 / slope if slope else (hi - lo) / 4
    if not np.isfinite(step) or step == 0:
        step = (hi - lo) / 4
    x_prev, f_prev = x0, f0
    for _ in range(12):
        x = min(max(x_prev + step, lo), hi)
        fx = f(x)
        if fx == 0 or np.sign(fx) != np.sign(f_prev):
            return (min(x_prev, x), max(x_prev, x))
        if x in (lo, hi):
            return None
        x_prev, f_prev = x, fx
        step *= 1.5
    return None


def _uncertain(study: Study, scenario: str):
    sc = study.scenario(scenario)
    out = []
    for a in sc.assumptions:
        if not a.growth.is_fixed:
            out.append((f"{a.indicator}.growth", a, "growth"))
        if a.start is not None and not a.start.is_fixed:
            out.append((f"{a.indicator}.start", a, "start"))
    return out


def _fix(study, scenario, a, what, value):
    sc = study.scenario(scenario)
    new = a.model_copy(update={what: Fixed(value=float(value))})
    assumptions = tuple(new if x.indicator == a.indicator else x for x in sc.assumptions)
    scenarios = tuple(
        sc.model_copy(update={"assumptions": assumptions}) if s.id == sc.id else s
        for s in study.scenarios
    )
    return study.model_copy(update={"scenarios": scenarios})


def tornado(
    study: Study,
    targets=None,
    *,
    scenario: str | None = None,
    n_paths: int = 2**14,
    rng=0,
    method: str = "qmc",
    quantiles=(0.1, 0.9),
    executor=None,
    progress: bool | None = None,
):
    """One-at-a-time sensitivity of P(reach): each uncertain assumption fixed at its 10th
    and 90th percentiles while **the others stay as distributed** (common random numbers).

    ``targets`` may name target groups too: a group's row is its joint probability (its
    rule: all met, at least k, a weighted score) as each assumption moves — what a group's
    members do together, which no member's swing shows.

    Returns
    -------
    pandas.DataFrame
        One row per target (or group: ``kind``) and assumption: ``p_low``, ``p_high`` (P with
        the assumption at the low/high quantile), ``swing = p_high − p_low``, ``p_base``, the
        two assumption values; sorted by target, then by the size of the swing. An assumption
        that does not move a target has a swing of exactly 0 (common random numbers).
    """
    scenario = study.scenario_id(scenario)
    import pandas as pd

    seq = as_seed_sequence(rng)  # once: every run below reuses it (common random numbers)

    # targets and groups may be named together; a group's members are simulated with it
    names = [targets] if isinstance(targets, str) else (None if targets is None else list(targets))
    group_ids = {g.id for g in study.groups}
    groups = [x for x in names or () if x in group_ids]
    wanted = None
    if names is not None:
        wanted = [x for x in names if x not in group_ids]
        for g in groups:
            wanted += [t for t in study.group(g).targets if t not in wanted]

    def run(s, which, grp):
        return assess(
            s,
            which,
            groups=grp,
            scenario=scenario,
            n_paths=n_paths,
            rng=seq,
            method=method,
            progress=False,
            executor=executor,
        )

    base = run(study, wanted, groups if names is not None else None)
    shown = set(names) if names is not None else None
    ids = [
        r.id
        for r in base.targets
        if r.assessable and r.p_in_year.estimator != "exact" and (shown is None or r.id in shown)
    ]
    gids = [g.group_id for g in base.groups if g.assessable]
    run_ids = [r.id for r in base.targets if r.assessable]
    rows = []
    inputs = list(_uncertain(study, scenario))
    bar = progress_bar(2 * len(inputs), progress, "tornado", unit="run")
    for name, a, what in inputs:
        dist = getattr(a, what)
        qlo, qhi = dist.quantile(quantiles[0]), dist.quantile(quantiles[1])
        res_lo = run(_fix(study, scenario, a, what, qlo), run_ids, gids)
        res_hi = run(_fix(study, scenario, a, what, qhi), run_ids, gids)
        if bar is not None:
            bar.update(2)
        items = [(tid, "target", lambda r, k=tid: r[k].p_in_year) for tid in ids] + [
            (gid, "group", lambda r, k=gid: r.group(k).p_all_in_year) for gid in gids
        ]
        for key, kind, get in items:
            lo, hi = get(res_lo).value, get(res_hi).value
            rows.append(
                {
                    "target": key,
                    "kind": kind,
                    "assumption": name,
                    "low_value": qlo,
                    "high_value": qhi,
                    "p_low": lo,
                    "p_high": hi,
                    "swing": hi - lo,
                    "p_base": get(base).value,
                }
            )
    if bar is not None:
        bar.close()
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["abs_swing"] = df["swing"].abs()
    df = df.sort_values(["target", "abs_swing"], ascending=[True, False]).drop(columns="abs_swing")
    return df.reset_index(drop=True)


def stress(
    study: Study,
    target: str,
    *,
    assumption: str,
    band=(0.0, 0.1),
    scenario: str | None = None,
    n_paths: int = 2**16,
    rng=0,
    executor=None,
):
    """P(reach) given that an assumption's draw lies in a quantile band (as @RISK's stress
    analysis): e.g. ``assumption="gdp.growth", band=(0, 0.1)`` — GDP growth in its lowest
    decile. Plain Monte Carlo paths; each contributes its probability of meeting the
    target given its parameters (shocks integrated where possible), and the standard
    error is that of the mean over the paths in the band.

    Returns
    -------
    dict
        ``p`` (conditional P(in year)), ``se``, ``n`` (paths in the band), ``p_all``, and the
        band's lever values.
    """
    scenario = study.scenario_id(scenario)
    lo_q, hi_q = band
    if not 0 <= lo_q < hi_q <= 1:
        raise ValueError(f"band: need 0 <= low < high <= 1, got {band}")
    paths = simulate(
        study, scenario=scenario, n_paths=n_paths, rng=rng, progress=False, executor=executor
    )
    if assumption not in paths.params:
        raise ValueError(
            f"assumption: {assumption!r} is not a drawn parameter of scenario "
            f"{scenario!r} (have {sorted(paths.params)})"
        )
    v = path_outcomes(paths, study, target)
    x = paths.params[assumption]
    lo, hi = np.quantile(x, [lo_q, hi_q])
    m = (x >= lo) & (x <= hi)
    n = int(m.sum())
    if n < 2:
        raise ValueError(f"band: only {n} path(s) fall in the band; use more paths")
    p = float(v[m].mean())
    se = float(v[m].std(ddof=1) / math.sqrt(n))
    return {
        "target": target,
        "assumption": assumption,
        "band": tuple(band),
        "values": (float(lo), float(hi)),
        "p": p,
        "se": se,
        "n": n,
        "p_all": float(v.mean()),
        "se_all": float(v.std(ddof=1) / math.sqrt(len(v))),
    }
