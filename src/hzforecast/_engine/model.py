"""A study and one of its scenarios compiled for simulation: the :class:`Model`.

:func:`compile_model` runs named steps: pick the scenario, place every indicator on a
yearly grid (:func:`_anchors`, :func:`_grid`), order the rows of the state buffer
(correlated indicators first), build one :class:`IndicatorPlan` per simulated indicator
with its per-path parameters (:func:`_indicator_plan`), the derived indicators
(:func:`_derived_plans`), and the two correlation factors (:func:`_shock_factor`,
:func:`_copula`). The study's consistency rules are the ones
:func:`hzforecast.spec.check_simulable` applies when a study is read; they are applied
again here because a scenario changed by a lever (``model_copy``) is not re-validated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from .._scales import transform_of_kind
from .._words import Bilingual
from ..spec import Assumption, Indicator, Scenario, Study, anchor_year, check_simulable

__all__ = [
    "PRECISIONS",
    "CorrectionUsed",
    "DerivedPlan",
    "IndicatorPlan",
    "Model",
    "ParamSpec",
    "SimulationError",
    "compile_model",
]

#: Floating-point type of the simulated states, by ``precision``.
PRECISIONS = {"single": np.float32, "double": np.float64}


class SimulationError(ValueError):
    """A study/scenario that cannot be simulated as asked."""


@dataclass(frozen=True)
class ParamSpec:
    """One per-path parameter draw."""

    name: str  # "gdp.growth", "rd_share.start", "mengniu_output.trend_2022", "gdp.volatility"
    indicator: str
    role: Literal["growth", "start", "trend", "volatility"]
    dist: object
    assumed: bool = True


@dataclass(frozen=True)
class CorrectionUsed:
    """A study's corrected reading the simulation started from instead of the stated figure."""

    indicator: str
    year: int
    stated: float
    used: float
    unit: str
    rationale: str

    def short(self, lang: str = "en") -> str:
        if lang == "zh":
            return (
                f"{self.indicator} {self.year}年:采用{self.used:g}{self.unit}(原文{self.stated:g})"
            )
        return (
            f"{self.indicator} {self.year}: {self.used:g} {self.unit} for the stated "
            f"{self.stated:g}"
        )

    def __str__(self) -> str:
        return (
            f"{self.indicator} {self.year}: started from the alternative {self.used:g} "
            f"{self.unit} instead of the stated {self.stated:g} (assumed: {self.rationale})"
        )


@dataclass(frozen=True)
class IndicatorPlan:
    """How one indicator is simulated: its row in the state buffer, its start and drifts."""

    id: str
    transform: Literal["log", "logit"]
    row: int  # row in the shock array
    anchor: int  # grid index of the starting value
    start_value: float | None  # natural units, fixed start (observation), or None
    start_param: int | None  # index into params for an assumed start
    start_assumed: bool
    is_index: bool  # no observation and no start: an index (start 1)
    growth_param: int
    sigma: float
    trends: tuple[tuple[int, int], ...]  # (grid index from which, param index)
    offsets: np.ndarray  # additive offsets on the transformed scale, by grid index
    corrected: bool = False  # the start is a corrected reading of the stated figure
    rate_growth: bool = True  # growth draws are rates g (drift ln(1+g)), not log drifts
    sigma_param: int | None = None  # a per-path volatility draw (volatility_df), or None
    walk: float = 0.0  # the growth's yearly walk (sd of the drift's change) at σ = sigma
    growth_median: float = 0.0  # the growth distribution's median (centre of the scaling)

    @property
    def per_path_sigma(self) -> bool:
        return self.sigma_param is not None

    def drift(self, g):
        """Per-path drift on the transformed scale from a growth draw."""
        return np.log1p(g) if self.transform == "log" and self.rate_growth else g

    @cached_property
    def has_offsets(self) -> bool:
        return bool(np.any(self.offsets))

    @property
    def drift_params(self) -> tuple[int, ...]:
        """The parameters whose draws set this indicator's drift: growth, then trends."""
        return (self.growth_param, *(p for _, p in self.trends))


@dataclass(frozen=True)
class DerivedPlan:
    """An indicator computed path by path from two others: scale · a · b or scale · a / b."""

    id: str
    op: str
    parts: tuple[str, str]
    log_scale: float


@dataclass(frozen=True)
class CommonPlan:
    """The scenario's common yearly shock: C = sd·Z − size·1{U < p}, added to each row's
    log growth with its loading (``loadings`` by row)."""

    sd: float
    bad_probability: float
    bad_size: float
    loadings: np.ndarray  # (K,), by row


@dataclass(frozen=True)
class Model:
    """A study and scenario compiled for simulation (picklable, sent to workers)."""

    study_id: str
    scenario_id: str
    years: np.ndarray
    indicators: tuple[IndicatorPlan, ...]
    derived: tuple[DerivedPlan, ...]
    params: tuple[ParamSpec, ...]
    shock_factor: np.ndarray | None  # Cholesky factor over shock_rows, or None
    copula_factor: np.ndarray | None  # Cholesky factor over copula_params, or None
    shock_rows: tuple[int, ...] = ()  # shock rows that are correlated
    copula_params: tuple[int, ...] = ()  # parameters linked by the rank correlation
    corrections: tuple[CorrectionUsed, ...] = ()
    notes: tuple[str, ...] = ()
    corrections_mode: str = "use"
    precision: str = "single"
    common: CommonPlan | None = None

    @property
    def dtype(self):
        """Floating-point type of the states in the kernel."""
        return PRECISIONS[self.precision]

    @cached_property
    def row_sigmas(self) -> np.ndarray:
        """Volatility of each row of the state buffer."""
        out = np.empty(len(self.indicators))
        for p in self.indicators:
            out[p.row] = p.sigma
        return out

    @cached_property
    def shock_scale(self) -> np.ndarray:
        """Scale of the normals drawn for each row: 1 for the correlated rows (the mixing
        matrix carries their volatilities) and for rows whose volatility is drawn per path
        (scaled in the kernel), sigma for the others (drawn ready-scaled)."""
        out = self.row_sigmas.copy()
        out[list(self.shock_rows)] = 1.0
        for p in self.indicators:
            if p.per_path_sigma:
                out[p.row] = 1.0
        return out

    @property
    def walk_rows(self) -> tuple[IndicatorPlan, ...]:
        """The indicators whose growth walks, in row order."""
        return tuple(sorted((p for p in self.indicators if p.walk > 0), key=lambda p: p.row))

    @cached_property
    def kernel_mix(self):
        """diag(sigma) · L over the leading correlated rows, in the kernel's type: (matrix,
        lower-triangular?), Fortran order for BLAS; or None without correlation."""
        if self.shock_factor is None:
            return None
        c = len(self.shock_rows)
        if self.shock_rows != tuple(range(c)):  # compile_model puts them first
            raise SimulationError(
                f"shock_rows: the correlated indicators must lead the state buffer "
                f"(rows 0…{c - 1}), got {self.shock_rows}"
            )
        sig = self.row_sigmas.copy()
        for p in self.indicators:
            if p.per_path_sigma:
                sig[p.row] = 1.0  # scaled per path after the mixing
        m = sig[:c, None] * self.shock_factor
        lower = not np.any(np.triu(m, 1))
        return np.asfortranarray(m, dtype=self.dtype), lower

    def shock_correlation_matrix(self) -> np.ndarray:
        """Correlation of the yearly shocks between shock rows (K x K)."""
        k = len(self.indicators)
        full = np.eye(k)
        if self.shock_factor is not None:
            rows = list(self.shock_rows)
            full[np.ix_(rows, rows)] = self.shock_factor @ self.shock_factor.T
        return full

    @property
    def n_years(self) -> int:
        return len(self.years)

    @property
    def n_steps(self) -> int:
        return len(self.years) - 1

    @property
    def n_shocks(self) -> int:
        return len(self.indicators)

    @property
    def dimension(self) -> int:
        """Uniform dimensions per path (parameters, shocks, the walking growths' steps, and the
        common shock's normal and bad-year uniform)."""
        common = 0 if self.common is None else 2
        return len(self.params) + (self.n_shocks + len(self.walk_rows) + common) * self.n_steps

    def plan(self, indicator: str) -> IndicatorPlan | DerivedPlan | None:
        for p in self.indicators:
            if p.id == indicator:
                return p
        for d in self.derived:
            if d.id == indicator:
                return d
        return None

    def transform_of(self, indicator: str) -> str:
        p = self.plan(indicator)
        if p is None:
            raise KeyError(indicator)
        return p.transform if isinstance(p, IndicatorPlan) else "log"

    def anchor_of(self, indicator: str) -> int:
        """Grid index from which an indicator (derived: all its parts) is simulated."""
        p = self.plan(indicator)
        if isinstance(p, IndicatorPlan):
            return p.anchor
        return max(self.anchor_of(q) for q in p.parts)

    def is_index(self, indicator: str) -> bool:
        """Whether an indicator (or a part of it) is simulated as an index (no level)."""
        p = self.plan(indicator)
        if isinstance(p, IndicatorPlan):
            return p.is_index
        return any(self.is_index(q) for q in p.parts)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.indicators) + tuple(d.id for d in self.derived)


# ----------------------------------------------------------------------------- compile


def compile_model(
    study: Study,
    scenario: str | Scenario,
    *,
    corrections: Literal["use", "ignore"] = "use",
    precision: Literal["single", "double"] = "single",
) -> Model:
    """Turn a study and one of its scenarios into a :class:`Model`.

    Parameters
    ----------
    corrections : {"use", "ignore"}
        ``"use"`` starts from a corrected alternative where the study carries one
        (e.g. GDP 141.95亿 for the printed 14195亿); ``"ignore"`` starts from the
        figure as stated. Either way the result lists what was used.
    precision : {"single", "double"}
        Floating-point type of the states in the kernel.
    """
    if corrections not in ("use", "ignore"):
        raise ValueError(f"corrections: expected 'use' or 'ignore', got {corrections!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected 'single' or 'double', got {precision!r}")
    sc = _scenario(study, scenario)
    ind_by_id = _checked_indicators(study, sc)
    anchors = {a.indicator: anchor_year(sc, a, ind_by_id[a.indicator]) for a in sc.assumptions}
    years = np.arange(min([sc.base_year, *anchors.values()]), sc.end_year + 1)
    row_of = _row_order(sc)
    params: list[ParamSpec] = []
    plans: list[IndicatorPlan] = []
    used: list[CorrectionUsed] = []
    notes: list[str] = []
    for a in sc.assumptions:
        plan, correction, note = _indicator_plan(
            a, ind_by_id[a.indicator], anchors[a.indicator], years, row_of, params, corrections
        )
        plans.append(plan)
        used += [correction] if correction is not None else []
        notes += [note] if note is not None else []
    shock_factor, shock_rows = _shock_factor(sc, plans)
    copula_factor, copula_params = _copula(sc, plans, params)
    common = None
    if sc.common_shock is not None:
        cs = sc.common_shock
        loadings = np.zeros(len(plans))
        for p in plans:
            loadings[p.row] = cs.loading(p.id)
        common = CommonPlan(
            float(cs.sd), float(cs.bad_year_probability), float(cs.bad_year_size), loadings
        )
    return Model(
        study_id=study.id,
        scenario_id=sc.id,
        years=years,
        indicators=tuple(plans),
        derived=tuple(_derived_plans(study, {p.id for p in plans})),
        params=tuple(params),
        shock_factor=shock_factor,
        copula_factor=copula_factor,
        shock_rows=shock_rows,
        copula_params=copula_params,
        corrections=tuple(used),
        notes=tuple(notes),
        corrections_mode=corrections,
        precision=precision,
        common=common,
    )


def _scenario(study: Study, scenario: str | Scenario) -> Scenario:
    if not isinstance(scenario, str):
        return scenario
    try:
        return study.scenario(scenario)
    except KeyError as exc:
        raise SimulationError(str(exc.args[0])) from None


def _checked_indicators(study: Study, sc: Scenario) -> dict[str, Indicator]:
    """The study's indicators by id, after the consistency rules of every assumption."""
    ind_by_id = {i.id: i for i in study.indicators}
    for j, a in enumerate(sc.assumptions):
        where = f"scenario {sc.id!r}, assumptions[{j}]"
        if a.indicator not in ind_by_id:
            raise SimulationError(f"{where}.indicator: unknown indicator {a.indicator!r}")
        try:
            check_simulable(sc, a, ind_by_id[a.indicator], where)
        except ValueError as exc:
            raise SimulationError(str(exc)) from None
    return ind_by_id


def _row_order(sc: Scenario) -> dict[str, int]:
    """Rows of the state buffer: indicators with correlated shocks first (the kernel mixes
    that leading block only), then the others in the scenario's order."""
    linked = list(sc.shock_correlation.indicators) if sc.shock_correlation is not None else []
    order = linked + [a.indicator for a in sc.assumptions if a.indicator not in linked]
    return {ind: r for r, ind in enumerate(order)}


def _indicator_plan(
    a: Assumption,
    ind: Indicator,
    anchor_yr: int,
    years: np.ndarray,
    row_of: dict[str, int],
    params: list[ParamSpec],
    corrections: str,
) -> tuple[IndicatorPlan, CorrectionUsed | None, str | None]:
    """One indicator's plan; its parameters are appended to ``params``."""
    first = int(years[0])
    anchor = anchor_yr - first
    growth_idx = len(params)
    params.append(
        ParamSpec(
            f"{a.indicator}.growth", a.indicator, "growth", a.growth, assumed=a.status == "assumed"
        )
    )
    start_param = start_value = correction = note = None
    is_index = corrected = False
    if a.start is not None:
        start_param = len(params)
        params.append(ParamSpec(f"{a.indicator}.start", a.indicator, "start", a.start))
    else:
        o = ind.observation(anchor_yr)
        if o is not None:
            start_value = o.value
            if o.correction is not None and corrections == "use":
                start_value = o.correction.value
                corrected = True
                correction = CorrectionUsed(
                    a.indicator, o.year, o.value, o.correction.value, ind.unit,
                    o.correction.rationale,
                )  # fmt: skip
        else:
            start_value = 1.0
            is_index = True
            note = Bilingual(
                f"{a.indicator}: no observed or assumed level; simulated as an index "
                f"({years[anchor]} = 1), so only growth targets can be assessed",
                f"{a.indicator}:没有观测或假设的水平,按增长指数模拟({years[anchor]}年 = 1),"
                "只能评估增速目标",
            )
    trends, offsets = _shocks(a, anchor, years, params)
    sigma_param = None
    if a.volatility_df is not None:
        from .quantiles import VolatilityDraw

        sigma_param = len(params)
        params.append(
            ParamSpec(
                f"{a.indicator}.volatility",
                a.indicator,
                "volatility",
                VolatilityDraw(a.volatility, a.volatility_df),
            )
        )
    plan = IndicatorPlan(
        id=a.indicator,
        transform=transform_of_kind(ind.kind),
        row=row_of[a.indicator],
        anchor=anchor,
        start_value=start_value,
        start_param=start_param,
        start_assumed=a.start is not None,
        is_index=is_index,
        growth_param=growth_idx,
        rate_growth=a.growth_scale == "rate",
        sigma=float(a.volatility),
        trends=tuple(sorted(trends)),
        offsets=offsets,
        corrected=corrected,
        sigma_param=sigma_param,
        walk=float(a.growth_walk),
        growth_median=a.growth.median() if sigma_param is not None else 0.0,
    )
    return plan, correction, note


def _shocks(a: Assumption, anchor: int, years: np.ndarray, params: list[ParamSpec]):
    """Trend changes (a new per-path drift from a year on) and dips (log offsets)."""
    first = int(years[0])
    trends = []
    offsets = np.zeros(len(years))
    for s in a.shocks:
        k = int(s.year - first)
        if s.kind == "trend_change":
            trends.append((k, len(params)))
            params.append(
                ParamSpec(f"{a.indicator}.trend_{s.year}", a.indicator, "trend", s.growth)
            )
            continue
        drop = math.log1p(-s.depth)
        if s.recovery_years == 0:
            offsets[k:] += drop
        else:
            for j in range(s.recovery_years + 1):
                if k + j < len(years):
                    offsets[k + j] += drop * (1 - j / s.recovery_years)
    return trends, offsets


def _derived_plans(study: Study, simulated: set[str]) -> list[DerivedPlan]:
    """Derived indicators whose parts are all available, in dependency order."""
    out: list[DerivedPlan] = []
    available = set(simulated)
    pending = [i for i in study.indicators if i.derived is not None]
    progress = True
    while pending and progress:
        progress = False
        for ind in list(pending):
            if all(p in available for p in ind.derived.of):
                out.append(
                    DerivedPlan(
                        ind.id, ind.derived.op, tuple(ind.derived.of), math.log(ind.derived.scale)
                    )
                )
                available.add(ind.id)
                pending.remove(ind)
                progress = True
    return out


def _shock_factor(sc: Scenario, plans: list[IndicatorPlan]):
    """The Cholesky factor of the shock correlation and the rows it covers."""
    if sc.shock_correlation is None:
        return None, ()
    rows = {p.id: p.row for p in plans}
    shock_rows = tuple(rows[i] for i in sc.shock_correlation.indicators)
    factor = _cholesky(sc.shock_correlation.as_array(), f"scenario {sc.id!r}: shock_correlation")
    return factor, shock_rows


def _copula(sc: Scenario, plans: list[IndicatorPlan], params: list[ParamSpec]):
    """The Gaussian copula's factor (Spearman → Pearson) and the growth parameters it links."""
    if sc.parameter_correlation is None:
        return None, ()
    growth_index = {params[pl.growth_param].indicator: pl.growth_param for pl in plans}
    copula_params = tuple(growth_index[i] for i in sc.parameter_correlation.indicators)
    rank = sc.parameter_correlation.as_array()
    pearson = 2 * np.sin(np.pi * rank / 6)  # Spearman -> Pearson for a Gaussian copula
    np.fill_diagonal(pearson, 1.0)
    factor = _cholesky(pearson, f"scenario {sc.id!r}: parameter_correlation")
    return factor, copula_params


def _cholesky(m: np.ndarray, where: str) -> np.ndarray:
    eig = np.linalg.eigvalsh(m)
    if eig[0] < -1e-10:
        raise SimulationError(
            f"{where}: not positive semi-definite (smallest eigenvalue {eig[0]:.6g})"
        )
    try:
        return np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        # semi-definite: factor through the eigen-decomposition (exact for PSD matrices)
        w, v = np.linalg.eigh(m)
        return v * np.sqrt(np.clip(w, 0, None))
