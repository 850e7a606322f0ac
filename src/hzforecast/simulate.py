r"""Monte Carlo simulation of a study's indicators under a scenario.

Processes
---------
Each indicator with an assumption in the scenario follows one of two processes on
a yearly grid from the scenario's ``base_year`` to its ``end_year``:

*Levels and counts* (GDP, cluster output, patents) grow log-normally:

.. math:: \ln X_{t+1} = \ln X_t + \mu + \sigma\,\varepsilon_{t+1},\qquad \mu = \ln(1+g),

where the growth ``g`` is drawn once per path from the assumption (parameter
uncertainty: a plan's "8%—8.5%" is a range, not a number) and ``ε`` are standard
normal shocks, correlated between indicators through the scenario's
``shock_correlation`` (a Cholesky factor). ``g`` is the *median* yearly growth;
the mean growth is :math:`(1+g)e^{\sigma^2/2}-1`.

*Shares* (R&D share of GDP) walk on the logit scale, so they stay in (0, 1)
without clipping:

.. math:: \operatorname{logit} p_{t+1} = \operatorname{logit} p_t + d + \sigma\,\varepsilon_{t+1}.

*Derived indicators* (R&D spending = R&D share × GDP) are computed path by path
from their parts and are never simulated on their own.

*Typed shocks*: a ``dip`` lowers the level by ``depth`` in its year and recovers
linearly in log terms over ``recovery_years``; a ``trend_change`` replaces the
drift from its year on with a new per-path draw.

``volatility = 0`` gives deterministic paths given the parameter draw.

Methods
-------
``"mc"``
    Plain Monte Carlo.
``"antithetic"``
    Each path's uniforms ``u`` and normals ``z`` are mirrored (``1-u``, ``-z``)
    in a partner path; the standard error comes from the pair means.
``"qmc"``
    Randomised quasi-Monte Carlo: ``n_replicates`` independently scrambled
    Sobol' sequences (:class:`scipy.stats.qmc.Sobol`) of ``n_paths /
    n_replicates`` points each, the error estimated from the spread between
    replicates. ``n_paths`` must be a power of two.

Reproducibility
---------------
Paths are generated in fixed blocks of :data:`BLOCK` paths, each with its own
child of the seed (``SeedSequence.spawn``); QMC blocks are fixed ranges of a
replicate's sequence. Chunks and workers handle whole blocks, so the same
``rng`` gives identical numbers for any ``chunk_size`` or executor.
"""

from __future__ import annotations

import math
import threading
import warnings
import zlib
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Literal

import numpy as np
from scipy import special
from scipy.linalg.blas import dtrmm, strmm

from ._rng import as_seed_sequence, describe_seed, make_generator, standard_normals
from .distributions import Fixed, Normal, Triangular, Uniform
from .spec import Scenario, Study

__all__ = ["BLOCK", "Paths", "SimulationError", "compile_model", "simulate"]

#: Paths per block: the unit of randomness. Chunks are whole numbers of blocks.
BLOCK = 32768
#: Floating-point type of the simulated states, by ``precision`` (see :func:`simulate`).
PRECISIONS = {"single": np.float32, "double": np.float64}
#: Default chunk size (paths held in memory at once in streaming runs).
DEFAULT_CHUNK = 16 * BLOCK

Method = Literal["mc", "antithetic", "qmc"]
METHODS = ("mc", "antithetic", "qmc")


class SimulationError(ValueError):
    """A study/scenario that cannot be simulated as asked."""


# ----------------------------------------------------------------------------- model


@dataclass(frozen=True)
class ParamSpec:
    """One per-path parameter draw."""

    name: str  # "gdp.growth", "rd_share.start", "mengniu_output.trend_2022"
    indicator: str
    role: str  # growth | start | trend
    dist: object
    assumed: bool = True


@dataclass(frozen=True)
class IndicatorPlan:
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

    def drift(self, g):
        """Per-path drift on the transformed scale from a growth draw."""
        return np.log1p(g) if self.transform == "log" and self.rate_growth else g

    @cached_property
    def has_offsets(self) -> bool:
        return bool(np.any(self.offsets))


@dataclass(frozen=True)
class DerivedPlan:
    id: str
    op: str
    parts: tuple[str, str]
    log_scale: float


@dataclass(frozen=True)
class Model:
    """A study and scenario compiled for simulation (internal, picklable)."""

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
    corrections: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    corrections_mode: str = "use"
    precision: str = "single"

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
        matrix carries their volatilities), sigma for the others (drawn ready-scaled)."""
        out = self.row_sigmas.copy()
        out[list(self.shock_rows)] = 1.0
        return out

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
        m = self.row_sigmas[:c, None] * self.shock_factor
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
        """Uniform dimensions per path (parameters + shocks)."""
        return len(self.params) + self.n_shocks * self.n_steps

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

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.indicators) + tuple(d.id for d in self.derived)


def _growth_to_drift(dist, kind: str, where: str):
    """Check a growth distribution can be mapped to a drift."""
    if kind == "share":
        return
    lo, _ = dist.support()
    if not lo > -1:
        raise SimulationError(
            f"{where}: growth must stay above -100% for a level (log drift ln(1+g)); "
            f"the distribution's support starts at {lo} — truncate it (e.g. normal with low=-0.5)"
        )


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
        Floating-point type of the states in the kernel (see :func:`simulate`).
    """
    if corrections not in ("use", "ignore"):
        raise ValueError(f"corrections: expected 'use' or 'ignore', got {corrections!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected 'single' or 'double', got {precision!r}")
    if isinstance(scenario, str):
        try:
            sc = study.scenario(scenario)
        except KeyError as exc:
            raise SimulationError(str(exc.args[0])) from None
    else:
        sc = scenario
    ind_by_id = {i.id: i for i in study.indicators}
    for i, a in enumerate(sc.assumptions):
        if a.indicator not in ind_by_id:
            raise SimulationError(
                f"scenarios[{sc.id}].assumptions[{i}].indicator: unknown indicator {a.indicator!r}"
            )

    # anchors: last observation at or before base_year, else the assumed start
    anchors: dict[str, int] = {}
    for a in sc.assumptions:
        ind = ind_by_id[a.indicator]
        obs = [o for o in ind.observations if o.year <= sc.end_year]
        if a.start is not None:
            if ind.observations:
                raise SimulationError(
                    f"scenario {sc.id!r}: assumption for {a.indicator!r} gives a start, but the "
                    f"indicator is observed (last {ind.observations[-1].year}); drop the start"
                )
            anchors[a.indicator] = a.start_year or sc.base_year
        elif obs:
            before = [o for o in obs if o.year <= sc.base_year]
            anchors[a.indicator] = (before[-1] if before else obs[0]).year
        else:
            anchors[a.indicator] = sc.base_year
        if anchors[a.indicator] >= sc.end_year:
            raise SimulationError(
                f"scenario {sc.id!r}: {a.indicator!r} starts in {anchors[a.indicator]}, not before "
                f"the scenario's end_year {sc.end_year}"
            )
    first = min([sc.base_year, *anchors.values()])
    years = np.arange(first, sc.end_year + 1)

    params: list[ParamSpec] = []
    plans: list[IndicatorPlan] = []
    used_corrections: list[str] = []
    notes: list[str] = []
    # rows of the state buffer: indicators with correlated shocks first (the kernel mixes
    # that leading block only), then the others in the scenario's order
    linked = list(sc.shock_correlation.indicators) if sc.shock_correlation is not None else []
    order = linked + [a.indicator for a in sc.assumptions if a.indicator not in linked]
    row_of = {ind: r for r, ind in enumerate(order)}
    for a in sc.assumptions:
        row = row_of[a.indicator]
        ind = ind_by_id[a.indicator]
        where = f"scenario {sc.id!r}, assumption for {a.indicator!r}"
        if a.growth_scale == "rate":
            _growth_to_drift(a.growth, ind.kind, where)
        anchor = anchors[a.indicator] - first
        growth_idx = len(params)
        params.append(
            ParamSpec(
                f"{a.indicator}.growth",
                a.indicator,
                "growth",
                a.growth,
                assumed=a.status == "assumed",
            )
        )
        start_param = None
        start_value = None
        is_index = False
        corrected = False
        if a.start is not None:
            start_param = len(params)
            params.append(ParamSpec(f"{a.indicator}.start", a.indicator, "start", a.start))
        else:
            o = ind.observation(anchors[a.indicator])
            if o is not None:
                start_value = o.value
                if o.correction is not None and corrections == "use":
                    start_value = o.correction.value
                    corrected = True
                    used_corrections.append(
                        f"{a.indicator} {o.year}: started from the alternative "
                        f"{o.correction.value:g} {ind.unit} instead of the stated {o.value:g} "
                        f"(assumed: {o.correction.rationale})"
                    )
            else:
                start_value = 1.0
                is_index = True
                notes.append(
                    f"{a.indicator}: no observed or assumed level; simulated as an index "
                    f"({years[anchor]} = 1), so only growth targets can be assessed"
                )
        if ind.kind == "share" and start_value is not None and not 0 < start_value < 1:
            raise SimulationError(f"{where}: start {start_value} is not a share in (0, 1)")
        trends = []
        offsets = np.zeros(len(years))
        for s in a.shocks:
            k = int(s.year - first)
            if k <= anchor:
                raise SimulationError(
                    f"{where}: shock in {s.year} is not after the start {years[anchor]}"
                )
            if s.kind == "trend_change":
                if a.growth_scale == "rate":
                    _growth_to_drift(s.growth, ind.kind, f"{where}, trend change in {s.year}")
                trends.append((k, len(params)))
                params.append(
                    ParamSpec(f"{a.indicator}.trend_{s.year}", a.indicator, "trend", s.growth)
                )
            else:
                drop = math.log1p(-s.depth)
                if s.recovery_years == 0:
                    offsets[k:] += drop
                else:
                    for j in range(s.recovery_years + 1):
                        if k + j < len(years):
                            offsets[k + j] += drop * (1 - j / s.recovery_years)
        plans.append(
            IndicatorPlan(
                id=a.indicator,
                transform="logit" if ind.kind == "share" else "log",
                row=row,
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
            )
        )

    derived = _derived_plans(study, {p.id for p in plans})

    shock_factor, shock_rows = None, ()
    if sc.shock_correlation is not None:
        rows = {p.id: p.row for p in plans}
        shock_rows = tuple(rows[i] for i in sc.shock_correlation.indicators)
        shock_factor = _cholesky(
            sc.shock_correlation.as_array(), f"scenario {sc.id!r}: shock_correlation"
        )

    copula_factor, copula_params = None, ()
    if sc.parameter_correlation is not None:
        growth_index = {params[pl.growth_param].indicator: pl.growth_param for pl in plans}
        copula_params = tuple(growth_index[i] for i in sc.parameter_correlation.indicators)
        rank = sc.parameter_correlation.as_array()
        pearson = 2 * np.sin(np.pi * rank / 6)  # Spearman -> Pearson for a Gaussian copula
        np.fill_diagonal(pearson, 1.0)
        copula_factor = _cholesky(pearson, f"scenario {sc.id!r}: parameter_correlation")

    return Model(
        study_id=study.id,
        scenario_id=sc.id,
        years=years,
        indicators=tuple(plans),
        derived=tuple(derived),
        params=tuple(params),
        shock_factor=shock_factor,
        copula_factor=copula_factor,
        shock_rows=shock_rows,
        copula_params=copula_params,
        corrections=tuple(used_corrections),
        notes=tuple(notes),
        corrections_mode=corrections,
        precision=precision,
    )


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


# ----------------------------------------------------------------------------- kernel


def _ppf(dist, u: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Quantile function, closed form for the common cases (checked against scipy in tests).

    With ``out``, the result is written there (fixed and uniform without temporaries)."""
    if out is None:
        out = np.empty(u.shape)
    if isinstance(dist, Fixed):
        out.fill(dist.value)
        return out
    if isinstance(dist, Uniform):
        np.multiply(u, dist.high - dist.low, out=out)
        out += dist.low
        return out
    out[...] = _ppf_other(dist, u)
    return out


def _ppf_other(dist, u: np.ndarray) -> np.ndarray:
    if isinstance(dist, Triangular):
        a, c, b = dist.low, dist.mode, dist.high
        # below the mode: a + sqrt(u (b-a)(c-a)); above: b - sqrt((1-u)(b-a)(b-c)).
        # Blended arithmetically with m = 1 above the mode (SIMD passes; numpy's masked
        # ufuncs and np.where are several times slower per element)
        A, B = (b - a) * (c - a), (b - a) * (b - c)
        m = np.greater_equal(u, (c - a) / (b - a), out=np.empty(u.shape))
        x = np.multiply(u, A)
        t = np.multiply(u, -(A + B))  # m·((1-u)B - uA) = m·(B - u(A+B))
        t += B
        t *= m
        x += t
        np.sqrt(x, out=x)
        np.multiply(m, -2.0, out=t)  # sign 1 - 2m
        t += 1.0
        x *= t
        m *= b - a  # base a + m(b - a)
        m += a
        x += m
        return x
    if isinstance(dist, Normal) and dist.low is None and dist.high is None:
        return dist.mean_ + dist.sd * special.ndtri(u)
    return dist.ppf(u)


def _uniform_to_params(model: Model, u: np.ndarray, zc: np.ndarray | None = None) -> np.ndarray:
    """Uniforms (P, n) -> parameter draws (P, n), through the rank-correlation copula.

    The copula's parameters are normal scores: ``zc`` when drawn as normals (plain and
    antithetic Monte Carlo), else ``ndtri`` of their uniforms (QMC). ``u`` is overwritten.
    """
    if model.copula_factor is not None:
        rows = list(model.copula_params)
        if zc is None:
            zc = special.ndtri(u[rows])
        u[rows] = special.ndtr(model.copula_factor @ zc)
    out = _buffer("theta", u.shape)
    for i, p in enumerate(model.params):
        _ppf(p.dist, u[i], out=out[i])
    return out


def _stream(seq: np.random.SeedSequence, *key: int) -> np.random.Generator:
    """The generator of one named stream under ``seq``: a child with spawn key ``key``.

    Streams are keyed by block and by the name of what they drive (an indicator's
    shocks, a parameter), so scenarios that model different sets of indicators
    still share their common random numbers.
    """
    child = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, *key))
    return make_generator(child)


def _name_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


_WORKSPACE = threading.local()


def _buffer(name: str, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
    """A scratch array reused from block to block in this thread.

    Fresh multi-megabyte arrays cost page faults on every block; reusing them keeps
    the kernel in cache. Results that outlive a block are copied out of these.
    """
    bufs = getattr(_WORKSPACE, "bufs", None)
    if bufs is None:
        bufs = _WORKSPACE.bufs = {}
    arr = bufs.get(name)
    if arr is None or arr.shape != shape or arr.dtype != dtype:
        arr = bufs[name] = np.empty(shape, dtype=dtype)
    return arr


def _draw_block(model: Model, method: str, source, block_index: int, n: int):
    """Uniforms for the parameters (P, n), and the state buffer (H+1, K, n) whose years
    1…H hold the normal shocks (the kernel turns them into states in place).

    Indicator k's shocks are its own stream's normals in year order, whatever the
    layout, so the numbers do not depend on how many indicators a scenario models.
    """
    p, k, h = len(model.params), model.n_shocks, model.n_steps
    big = _buffer("states", (h + 1, k, n), model.dtype)
    z = big[1:]
    if method == "qmc":
        # (n, D): parameters first, then the shocks' Brownian-bridge coordinates level by
        # level — every indicator's total over the horizon, then its midpoints, … — so the
        # Sobol' points' best dimensions drive what the targets depend on most
        pts = source
        u = np.ascontiguousarray(pts[:, :p].T)
        xi = special.ndtri(pts[:, p:]).T.astype(model.dtype, order="C")  # (H·K, n), by level
        np.matmul(bridge_matrix(h).astype(model.dtype), xi.reshape(h, k * n), out=z.reshape(h, -1))
        z *= model.shock_scale[:, None].astype(model.dtype)
        return u, big, None
    seq = source
    m = n // 2 if method == "antithetic" else n
    u = _buffer("u", (p, n))
    copula = {j: i for i, j in enumerate(model.copula_params)}
    zc = _buffer("zc", (len(copula), n)) if copula else None
    for j, par in enumerate(model.params):
        if j in copula:  # normal scores for the copula, drawn directly
            _stream(seq, block_index, 1, _name_key(par.name)).standard_normal(out=zc[copula[j], :m])
        elif isinstance(par.dist, Fixed):
            u[j, :m] = 0.5  # a fixed value needs no randomness
        else:
            _stream(seq, block_index, 1, _name_key(par.name)).random(out=u[j, :m])
    # the same shocks (single-precision Box–Muller normals) whatever the precision of
    # the states, so "single" and "double" differ only by the rounding of the states
    q = (m + 1) // 2
    work = tuple(_buffer(f"draw{i}", (h, q), np.float32) for i in range(3))
    for plan in model.indicators:
        bitgen = _stream(seq, block_index, 0, _name_key(plan.id)).bit_generator
        standard_normals(bitgen, z[:, plan.row, :m], work, scale=model.shock_scale[plan.row])
    if method == "antithetic":
        np.negative(z[:, :, :m], out=z[:, :, m:])
        np.subtract(1.0, u[:, :m], out=u[:, m:])
        if zc is not None:
            np.negative(zc[:, :m], out=zc[:, m:])
    return u, big, zc


def _simulate_states(
    model: Model,
    u: np.ndarray,
    big: np.ndarray,
    derived: bool = True,
    zc: np.ndarray | None = None,
    track_max: bool = False,
):
    """The kernel: transformed states (n_years, n) per indicator, and parameter draws.

    States are ln X for levels and derived indicators and logit p for shares;
    years before an indicator's start are NaN. ``big`` (H+1, K, n) holds the normal
    shocks in years 1…H (as :func:`_draw_block` leaves them) and is turned into the
    states in place.

    Arrays are laid out (year, indicator, path): one year of every indicator is a
    contiguous slab, so the correlation, the drift and the step from the previous year
    are done slab by slab, while the slab is hot. The shocks are drawn straight into the
    state buffer, so no second array of that size is touched; rows without correlated
    shocks are drawn ready-scaled by their volatility, and the correlated rows lead the
    buffer, so the mixing (one small matrix product with the volatilities folded in)
    touches only them.
    """
    n = u.shape[1]
    theta = _uniform_to_params(model, u, zc)
    drifts = _drifts(model, theta)
    k, h = model.n_shocks, model.n_steps
    plans = model.indicators
    dt = model.dtype
    fixed = all(np.ndim(drifts[p.growth_param]) == 0 and not p.trends for p in plans)
    mu = _buffer("mu", (k, 1 if fixed else n), dt)  # a column when no drift varies by path
    changes: dict[int, list] = {}
    late = [p for p in plans if p.anchor]
    for plan in plans:
        mu[plan.row] = drifts[plan.growth_param]
        for start, pidx in plan.trends:
            changes.setdefault(start - 1, []).append((plan, pidx))
        if plan.start_param is not None:
            x0 = theta[plan.start_param]
            big[0, plan.row] = np.log(x0) if plan.transform == "log" else special.logit(x0)
        else:
            x0 = plan.start_value
            big[0, plan.row] = math.log(x0) if plan.transform == "log" else math.log(x0 / (1 - x0))
    run = _buffer("runmax", (h + 1, k, n), dt) if track_max else None
    mix, lower = model.kernel_mix or (None, False)
    c = 0 if mix is None else mix.shape[0]  # correlated rows 0…c-1
    trmm = strmm if dt == np.float32 else dtrmm
    slab = _buffer("slab", (c, n), dt) if mix is not None and not lower else None
    for t in range(h):
        for plan, pidx in changes.get(t, ()):
            mu[plan.row] = drifts[pidx]
        x = big[t + 1]
        if lower:
            # in place: xᵀ ← xᵀ Mᵀ with M lower-triangular (half the work of a matmul)
            trmm(1.0, mix, x[:c].T, side=1, lower=1, trans_a=1, overwrite_b=1)
        elif mix is not None:  # a semi-definite factor from the eigen-decomposition
            np.matmul(mix, x[:c], out=slab)
            x[:c] = slab
        x += mu
        for plan in late:
            if t < plan.anchor:
                x[plan.row] = 0.0
        x += big[t]
        if run is not None:
            # running maximum from the first simulated year, while the slab is in cache
            if t:
                np.maximum(run[t], x, out=run[t + 1])
            else:
                run[1] = x
    states: dict = {}
    for plan in plans:
        s = big[:, plan.row]
        if plan.has_offsets:
            s += plan.offsets[:, None]
        if plan.anchor:
            s[: plan.anchor] = np.nan
        states[plan.id] = s
    if run is not None:  # valid where nothing moves the path after the loop
        for plan in plans:
            if not plan.anchor and not plan.has_offsets:
                states[(RUNMAX, plan.id)] = run[1:, plan.row]
    for pidx, d in drifts.items():
        states[(DRIFT, pidx)] = d
    if derived:
        add_derived(model, states)
    return states, theta


def _drifts(model: Model, theta: np.ndarray) -> dict:
    """Per-path drift of every growth and trend parameter (a float when it is fixed).

    Computed once per block and shared by the kernel and the assessment."""
    out = {}
    for plan in model.indicators:
        for pidx in (plan.growth_param, *(p for _, p in plan.trends)):
            dist = model.params[pidx].dist
            if isinstance(dist, Fixed):
                out[pidx] = float(plan.drift(np.float64(dist.value)))
            else:
                out[pidx] = plan.drift(theta[pidx])
    return out


def add_derived(model: Model, states: dict, only=None) -> dict:
    """Compute derived indicators path by path from their parts (in log space)."""
    for d in model.derived:
        if (only is not None and d.id not in only) or d.id in states:
            continue
        la = _log_value(states[d.parts[0]], model.transform_of(d.parts[0]))
        lb = _log_value(states[d.parts[1]], model.transform_of(d.parts[1]))
        s = la + lb if d.op == "product" else la - lb
        if d.log_scale:
            s += d.log_scale
        states[d.id] = s
    return states


def _log_value(s: np.ndarray, transform: str) -> np.ndarray:
    """ln X from a transformed state; for a share, ln p = min(s, 0) − log1p(e^−|s|).

    That is ``-logaddexp(0, -s)`` written out (exact for any s, ±inf and NaN included),
    at half its cost: numpy's logaddexp handles two general arguments."""
    if transform == "log":
        return s
    t = np.abs(s)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    out = np.minimum(s, 0.0)
    out -= t
    return out


def to_natural(s: np.ndarray, transform: str) -> np.ndarray:
    """Natural values (float64) from transformed states."""
    s = np.asarray(s, dtype=np.float64)
    return np.exp(s) if transform == "log" else special.expit(s)


# ----------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class BlockLayout:
    """How N paths split into blocks (and QMC replicates)."""

    n_paths: int
    method: str
    n_replicates: int  # 1 unless qmc
    block: int

    def blocks(self) -> list[tuple[int, int, int, int]]:
        """(block index, replicate, first path, n paths) for every block, in order."""
        out = []
        per_rep = self.n_paths // self.n_replicates
        idx = 0
        for r in range(self.n_replicates):
            for off in range(0, per_rep, self.block):
                n = min(self.block, per_rep - off)
                out.append((idx, r, r * per_rep + off, n))
                idx += 1
        return out


def _layout(n_paths, method, n_replicates) -> BlockLayout:
    if isinstance(n_paths, bool) or not isinstance(n_paths, int | np.integer):
        raise TypeError(f"n_paths: expected an int, got {type(n_paths).__name__}")
    if n_paths < 1:
        raise ValueError(f"n_paths: must be at least 1, got {n_paths}")
    if method not in METHODS:
        raise ValueError(f"method: expected one of {list(METHODS)}, got {method!r}")
    if method == "antithetic" and n_paths % 2:
        raise ValueError(f"n_paths: antithetic pairs need an even number of paths, got {n_paths}")
    if method == "qmc":
        if n_paths & (n_paths - 1):
            raise ValueError(
                f"n_paths: randomised QMC needs a power of two, got {n_paths} "
                f"(nearest: {1 << (n_paths.bit_length() - 1)} or {1 << n_paths.bit_length()})"
            )
        if (
            not isinstance(n_replicates, int)
            or n_replicates < 2
            or n_replicates & (n_replicates - 1)
        ):
            raise ValueError(f"n_replicates: must be a power of two >= 2, got {n_replicates}")
        if n_paths // n_replicates < 2:
            raise ValueError(
                f"n_paths: {n_paths} paths give fewer than 2 points per replicate "
                f"({n_replicates} replicates)"
            )
        return BlockLayout(int(n_paths), method, n_replicates, BLOCK)
    return BlockLayout(int(n_paths), method, 1, BLOCK)


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


#: Key of a precomputed running maximum in a block's states: (RUNMAX, indicator id).
RUNMAX = "__runmax__"
#: Key of a parameter's per-path drift in a block's states: (DRIFT, parameter index).
DRIFT = "__drift__"


def run_block(
    model: Model, layout: BlockLayout, seeds, block, derived: bool = True, track_max: bool = False
):
    """Simulate one block: (states, theta). The arrays are scratch space: copy to keep."""
    idx, rep, first, n = block
    if layout.method == "qmc":
        if model.dimension > 21201:
            raise SimulationError(f"qmc: {model.dimension} dimensions exceed Sobol's 21201")
        eng = _sobol(model.dimension, seeds[rep])
        per_rep = layout.n_paths // layout.n_replicates
        offset = first - rep * per_rep
        if offset:
            eng.fast_forward(offset)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # balance warning for partial sequences
            pts = eng.random(n)
        u, big, zc = _draw_block(model, "qmc", pts, idx, n)
    else:
        u, big, zc = _draw_block(model, layout.method, seeds, idx, n)
    return _simulate_states(model, u, big, derived=derived, zc=zc, track_max=track_max)


def run_blocks(
    model: Model,
    layout: BlockLayout,
    seq,
    fn,
    *,
    chunk_size: int,
    executor: Executor | None = None,
    progress=None,
    derived: bool = True,
    track_max: bool = False,
):
    """Apply ``fn(states, theta, block)`` to every block; results in block order.

    Chunks of whole blocks go to ``executor`` (any ``concurrent.futures.Executor``)
    or run here; the numbers do not depend on either.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer):
        raise TypeError(f"chunk_size: expected an int, got {type(chunk_size).__name__}")
    if chunk_size < BLOCK or chunk_size % BLOCK:
        raise ValueError(
            f"chunk_size: must be a positive multiple of {BLOCK} paths, got {chunk_size}"
        )
    seeds = _block_seeds(seq, layout)
    blocks = layout.blocks()
    per = chunk_size // BLOCK
    chunks = [blocks[i : i + per] for i in range(0, len(blocks), per)]
    results = []
    if executor is None:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            for ch in chunks:
                results.extend(_run_chunk(model, layout, seeds, ch, fn, derived, track_max))
                if progress is not None:
                    progress.update(sum(b[3] for b in ch))
    else:
        futures = [
            executor.submit(_run_chunk, model, layout, seeds, ch, fn, derived, track_max)
            for ch in chunks
        ]
        for fut, ch in zip(futures, chunks, strict=True):
            results.extend(fut.result())
            if progress is not None:
                progress.update(sum(b[3] for b in ch))
    return results


def _run_chunk(model, layout, seeds, chunk, fn, derived=True, track_max=False):
    from threadpoolctl import threadpool_limits

    out = []
    with threadpool_limits(limits=1, user_api="blas"):
        for block in chunk:
            states, theta = run_block(
                model, layout, seeds, block, derived=derived, track_max=track_max
            )
            out.append(fn(states, theta, block))
    return out


# ----------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class Paths:
    """Simulated paths of a study under one scenario.

    Attributes
    ----------
    study_id, scenario_id : str
    years : ndarray of int, shape (n_years,)
    states : dict of str -> ndarray, shape (n_paths, n_years)
        Transformed values: ln X for levels, counts and derived indicators, logit p
        for shares; NaN before an indicator's start. float32 with ``precision="single"``
        (the default), float64 with ``"double"``; :attr:`values` are float64.
    params : dict of str -> ndarray, shape (n_paths,)
        Per-path parameter draws ("gdp.growth", "rd_share.start", ...).
    n_paths : int
    method : str
    n_replicates : int
        QMC replicates (1 otherwise). Paths of replicate r are rows
        ``r*n/R … (r+1)*n/R``.
    seed : dict
        The SeedSequence's entropy and spawn key: pass ``np.random.SeedSequence(**seed)``
        as ``rng`` to reproduce.
    model : Model
        The compiled study and scenario.

    Notes
    -----
    Antithetic partners are stored block by block: in each block of
    :data:`BLOCK` paths, path ``i`` of the first half pairs with path ``i + n/2``.
    """

    study_id: str
    scenario_id: str
    years: np.ndarray
    states: dict
    params: dict
    n_paths: int
    method: str
    n_replicates: int
    seed: dict
    model: Model = field(repr=False)

    @cached_property
    def values(self) -> dict:
        """Natural values (indicator unit; shares as fractions), shape (n_paths, n_years).

        An observed start is given back exactly (not as exp(log(x)))."""
        out = {k: to_natural(v, self.model.transform_of(k)) for k, v in self.states.items()}
        for plan in self.model.indicators:
            if plan.start_value is not None:
                out[plan.id][:, plan.anchor] = plan.start_value
        return out

    def __getitem__(self, indicator: str) -> np.ndarray:
        try:
            return self.values[indicator]
        except KeyError:
            raise KeyError(
                f"indicator: {indicator!r} is not in these paths (have {sorted(self.states)})"
            ) from None

    @property
    def indicators(self) -> tuple[str, ...]:
        return tuple(self.states)

    def quantiles(self, indicator: str, q=(0.05, 0.25, 0.5, 0.75, 0.95)):
        """Quantiles of an indicator by year as a DataFrame (rows: years)."""
        import pandas as pd

        x = self[indicator]
        qs = np.quantile(x, q, axis=0)
        return pd.DataFrame(
            qs.T, index=pd.Index(self.years, name="year"), columns=[f"q{v:g}" for v in q]
        )

    def to_frame(self, indicator: str | None = None, *, max_paths: int = 1000):
        """Long DataFrame (path, year, indicator, value) of the first ``max_paths`` paths."""
        import pandas as pd

        ids = [indicator] if indicator else list(self.states)
        frames = []
        m = min(self.n_paths, max_paths)
        for i in ids:
            x = self[i][:m]
            frames.append(
                pd.DataFrame(
                    {
                        "path": np.repeat(np.arange(m), len(self.years)),
                        "year": np.tile(self.years, m),
                        "indicator": i,
                        "value": x.ravel(),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def _repr_html_(self) -> str:
        from html import escape

        rows = []
        for k in self.states:
            q = np.nanpercentile(self[k][:, -1], [5, 50, 95])
            rows.append(
                f"<tr><td>{escape(k)}</td><td>{q[0]:.4g}</td><td>{q[1]:.4g}</td>"
                f"<td>{q[2]:.4g}</td></tr>"
            )
        return (
            f"<p><b>Paths</b> of <code>{escape(self.study_id)}</code>, scenario "
            f"<code>{escape(self.scenario_id)}</code>: {self.n_paths:,} paths "
            f"({escape(self.method)}), {self.years[0]}–{self.years[-1]}, seed entropy "
            f"{self.seed['entropy']}</p><table><tr><th>indicator</th><th>5%</th><th>median"
            f"</th><th>95%</th></tr>{''.join(rows)}</table>"
            f"<p style='font-size:0.85em'>quantiles in {self.years[-1]}</p>"
        )

    def __repr__(self) -> str:
        return (
            f"Paths(study={self.study_id!r}, scenario={self.scenario_id!r}, "
            f"n_paths={self.n_paths}, method={self.method!r}, years={self.years[0]}–"
            f"{self.years[-1]}, indicators={len(self.states)})"
        )


def _progress_bar(total, progress, desc):
    if progress is False:
        return None
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit="path",
        unit_scale=True,
        delay=2.0,
        disable=None if progress is None else not progress,
        leave=False,
    )


def _keep(states, theta, block):
    return {k: v.copy() for k, v in states.items() if isinstance(k, str)}, theta.copy()


def simulate(
    study: Study,
    *,
    scenario: str,
    n_paths: int = 100_000,
    rng=None,
    method: Method = "mc",
    n_replicates: int = 16,
    chunk_size: int = DEFAULT_CHUNK,
    corrections: Literal["use", "ignore"] = "use",
    precision: Literal["single", "double"] = "single",
    executor: Executor | None = None,
    progress: bool | None = None,
) -> Paths:
    """Simulate every indicator the scenario models, path by path.

    Parameters
    ----------
    study : Study
    scenario : str
        Id of one of the study's scenarios.
    n_paths : int
        Number of paths (a power of two for ``method="qmc"``; even for antithetic).
    rng : None, int, SeedSequence or Generator
        Seed; the same ``rng`` gives identical paths for any ``chunk_size`` or executor.
    method : {"mc", "antithetic", "qmc"}
    n_replicates : int
        Independent scramblings for ``"qmc"`` (a power of two, default 16).
    chunk_size : int
        Paths per task (a multiple of :data:`BLOCK`); bounds memory of workers.
    corrections : {"use", "ignore"}
        Start from a study's corrected alternatives (default) or from stated figures.
    precision : {"single", "double"}
        Floating-point type of the states while they are simulated. ``"single"``
        (default) carries a level to within 2·H float32 roundings of ln X — about 1e-6
        relative over a plan horizon, a thousand times finer than the Monte Carlo error
        of 10^6 paths — and is about 10% faster (the kernel is bound by memory traffic);
        ``"double"`` gives deterministic paths to 1e-15. Both draw the same normals.
        Results are float64 either way.
    executor : concurrent.futures.Executor, optional
        Runs chunks in parallel (a ProcessPoolExecutor or a Dask client's executor).
    progress : bool or None
        A progress bar for runs longer than ~2 s; ``None`` shows it only on a terminal.

    Returns
    -------
    Paths
        Arrays of shape (n_paths, n_years) per indicator. Memory is
        ``4 · n_paths · n_years`` bytes per indicator (8 in double precision): for 10^7 paths use
        :func:`hzforecast.assess` on the study, which keeps counts, not paths.

    Examples
    --------
    >>> import hzforecast as hz
    >>> study = hz.load_study("jiaozuo-2019")
    >>> paths = hz.simulate(study, scenario="baseline", n_paths=4096, rng=1)
    >>> paths["gdp"].shape
    (4096, 8)
    """
    seq = as_seed_sequence(rng)
    layout = _layout(n_paths, method, n_replicates)
    model = compile_model(study, scenario, corrections=corrections, precision=precision)
    bar = _progress_bar(n_paths, progress, f"simulate {scenario}")
    ids = model.ids
    states = {i: np.empty((n_paths, model.n_years), dtype=model.dtype) for i in ids}
    theta = np.empty((len(model.params), n_paths))

    def place(st, th, block):
        _, _, first, n = block
        for i in ids:
            states[i][first : first + n] = st[i].T
        theta[:, first : first + n] = th

    # serially, each block is written straight into the result (no second copy of the
    # paths); with an executor, blocks come back from the workers and are placed in order
    fn = _keep if executor is not None else place
    try:
        parts = run_blocks(
            model, layout, seq, fn, chunk_size=chunk_size, executor=executor, progress=bar
        )
    finally:
        if bar is not None:
            bar.close()
    if executor is not None:
        for (st, th), block in zip(parts, layout.blocks(), strict=True):
            place(st, th, block)
    params = {p.name: theta[j] for j, p in enumerate(model.params)}
    return Paths(
        study_id=study.id,
        scenario_id=model.scenario_id,
        years=model.years,
        states=states,
        params=params,
        n_paths=int(n_paths),
        method=method,
        n_replicates=layout.n_replicates,
        seed=describe_seed(seq),
        model=model,
    )


def paths_blocks(paths: Paths):
    """Iterate over a Paths result block by block, as the streaming run does."""
    layout = BlockLayout(paths.n_paths, paths.method, paths.n_replicates, BLOCK)
    names = [p.name for p in paths.model.params]
    for block in layout.blocks():
        _, _, first, n = block
        st = {k: v[first : first + n].T for k, v in paths.states.items()}
        th = np.array([paths.params[name][first : first + n] for name in names]).reshape(
            len(names), n
        )
        for pidx, d in _drifts(paths.model, th).items():  # as the kernel hands them over
            st[(DRIFT, pidx)] = d
        yield st, th, block
