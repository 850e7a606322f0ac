"""The kernel: one block of paths, from random numbers to simulated states.

:func:`draw_block` fills the state buffer with a block's normal shocks and returns the
parameter uniforms; :func:`simulate_block` turns them into states in place and hands back a
:class:`BlockState` — the typed record every consumer of a block reads (the simulation that
keeps paths, the streaming assessment).

Random streams are keyed by the block and by the name of what they drive (an indicator's
shocks, a parameter), so scenarios that model different sets of indicators still share
their common random numbers, and a block's numbers do not depend on which worker runs it.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass

import numpy as np

from .._lazy import special
from .._rng import make_generator, standard_normals
from .._scales import to_scale
from ..distributions import Fixed
from .blocks import Block, bridge_matrix
from .model import Model
from .quantiles import ppf

__all__ = ["BlockState", "add_derived", "draw_block", "drifts", "log_value", "simulate_block"]


@dataclass
class BlockState:
    """One simulated block.

    Attributes
    ----------
    block : Block
        Which paths these are.
    states : dict of str -> ndarray, shape (n_years, n)
        Transformed states (ln X; logit p for shares) by indicator; NaN before an
        indicator's start. Views of scratch buffers: copy what must outlive the block.
    theta : ndarray, shape (n_params, n)
        Per-path parameter draws, in the order of ``model.params``.
    drifts : dict of int -> ndarray or float
        Per-path drift of every growth and trend parameter, by parameter index (one float
        when the parameter is fixed): the drift at the indicator's start.
    sigmas : dict of str -> ndarray or float
        Each indicator's volatility: per path where it is drawn (``volatility_df``), else
        one float.
    walks : dict of str -> ndarray or float
        Each walking growth's yearly step size (0.0 where the growth does not walk).
    running_max : dict of str -> ndarray, shape (n_years - 1, n)
        Running maximum of the state from grid year 1 on, for the indicators where it is
        valid (simulated from the grid's first year, no dips); computed in the kernel while
        each year's slab is in cache.
    """

    block: Block
    states: dict
    theta: np.ndarray
    drifts: dict
    running_max: dict
    sigmas: dict
    walks: dict

    @property
    def n(self) -> int:
        return self.block.n


# ----------------------------------------------------------------------------- workspace

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


def _stream(seq: np.random.SeedSequence, *key: int) -> np.random.Generator:
    """The generator of one named stream under ``seq``: a child with spawn key ``key``."""
    child = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, *key))
    return make_generator(child)


def _name_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


# ----------------------------------------------------------------------------- draws


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
        ppf(p.dist, u[i], out=out[i])
    return out


def draw_block(model: Model, method: str, source, block_index: int, n: int):
    """Uniforms for the parameters (P, n), and the state buffer (H+1, K, n) whose years
    1…H hold the normal shocks (the kernel turns them into states in place).

    ``source`` is the run's SeedSequence (plain and antithetic Monte Carlo) or the block's
    Sobol' points (QMC). Indicator k's shocks are its own stream's normals in year order,
    whatever the layout, so the numbers do not depend on how many indicators a scenario
    models.
    """
    p, k, h = len(model.params), model.n_shocks, model.n_steps
    big = _buffer("states", (h + 1, k, n), model.dtype)
    z = big[1:]
    walkers = model.walk_rows
    xi = _buffer("walk", (h, len(walkers), n), np.float32) if walkers else None
    if method == "qmc":
        # (n, D): parameters first, then the shocks' Brownian-bridge coordinates level by
        # level — every indicator's total over the horizon, then its midpoints, … — so the
        # Sobol' points' best dimensions drive what the targets depend on most
        pts = source
        u = np.ascontiguousarray(pts[:, :p].T)
        xi = special.ndtri(pts[:, p : p + h * k]).T.astype(model.dtype, order="C")  # (H·K, n)
        np.matmul(bridge_matrix(h).astype(model.dtype), xi.reshape(h, k * n), out=z.reshape(h, -1))
        z *= model.shock_scale[:, None].astype(model.dtype)
        walk = None
        w = len(walkers)
        if walkers:  # the walking growths' yearly steps, year by year
            walk = _buffer("walk", (h, w, n), np.float32)
            walk[...] = special.ndtri(pts[:, p + h * k : p + h * (k + w)]).T.reshape(h, w, n)
        common = None
        if model.common is not None:  # the common shock's normals, then its bad-year uniforms
            c0 = p + h * (k + w)
            common = _common_shock(
                model, special.ndtri(pts[:, c0 : c0 + h]).T, pts[:, c0 + h : c0 + 2 * h].T
            )
        return u, big, None, walk, common
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
    for j, plan in enumerate(walkers):
        bitgen = _stream(seq, block_index, 3, _name_key(plan.id)).bit_generator
        standard_normals(bitgen, xi[:, j, :m], work)
    common = None
    if model.common is not None:
        zc_, uc = np.empty((h, n)), np.empty((h, n))
        zc_[:, :m] = _stream(seq, block_index, 4, 0).standard_normal((h, m))
        uc[:, :m] = _stream(seq, block_index, 4, 1).random((h, m))
        if method == "antithetic":
            np.negative(zc_[:, :m], out=zc_[:, m:])
            np.subtract(1.0, uc[:, :m], out=uc[:, m:])
        common = _common_shock(model, zc_, uc)
    if method == "antithetic":
        np.negative(z[:, :, :m], out=z[:, :, m:])
        np.subtract(1.0, u[:, :m], out=u[:, m:])
        if zc is not None:
            np.negative(zc[:, :m], out=zc[:, m:])
        if xi is not None:
            np.negative(xi[:, :, :m], out=xi[:, :, m:])
    return u, big, zc, xi, common


def _common_shock(model: Model, z: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The common yearly shock (H, n): sd·Z − size·1{U < p}."""
    c = model.common
    out = (c.sd * z).astype(model.dtype)
    if c.bad_probability > 0:
        out -= (c.bad_size * (u < c.bad_probability)).astype(model.dtype)
    return out


# ----------------------------------------------------------------------------- kernel


def simulate_block(
    model: Model,
    block: Block,
    u: np.ndarray,
    big: np.ndarray,
    zc: np.ndarray | None = None,
    walk: np.ndarray | None = None,
    common: np.ndarray | None = None,
    *,
    derived: bool = True,
    track_max: bool = False,
) -> BlockState:
    """The kernel: transformed states (n_years, n) per indicator, and parameter draws.

    States are ln X for levels and derived indicators and logit p for shares;
    years before an indicator's start are NaN. ``big`` (H+1, K, n) holds the normal
    shocks in years 1…H (as :func:`draw_block` leaves them) and is turned into the
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
    sigmas = path_sigmas(model, theta)
    drift = drifts(model, theta, sigmas)
    walks = path_walks(model, sigmas)
    walkers = model.walk_rows
    k, h = model.n_shocks, model.n_steps
    plans = model.indicators
    dt = model.dtype
    per_path = [(p.row, sigmas[p.id].astype(dt)) for p in plans if p.per_path_sigma]
    fixed = not walkers and all(np.ndim(drift[p.growth_param]) == 0 and not p.trends for p in plans)
    mu = _buffer("mu", (k, 1 if fixed else n), dt)  # a column when no drift varies by path
    changes: dict[int, list] = {}
    late = [p for p in plans if p.anchor]
    for plan in plans:
        mu[plan.row] = drift[plan.growth_param]
        for start, pidx in plan.trends:
            changes.setdefault(start - 1, []).append((plan, pidx))
        x0 = plan.start_value if plan.start_param is None else theta[plan.start_param]
        big[0, plan.row] = to_scale(x0, plan.transform)
    run = _buffer("runmax", (h + 1, k, n), dt) if track_max else None
    mix, lower = model.kernel_mix or (None, False)
    c = 0 if mix is None else mix.shape[0]  # correlated rows 0…c-1
    trmm = None
    if mix is not None and lower:
        from scipy.linalg.blas import dtrmm, strmm  # (imported on first use: 0.1 s at start-up)

        trmm = strmm if dt == np.float32 else dtrmm
    slab = _buffer("slab", (c, n), dt) if mix is not None and not lower else None
    for t in range(h):
        for plan, pidx in changes.get(t, ()):
            mu[plan.row] = drift[pidx]
        for j, plan in enumerate(walkers):  # the growth walks, from the step after the start
            if t >= plan.anchor:
                mu[plan.row] += walks[plan.id] * walk[t, j]
        x = big[t + 1]
        if lower:
            # in place: xᵀ ← xᵀ Mᵀ with M lower-triangular (half the work of a matmul)
            trmm(1.0, mix, x[:c].T, side=1, lower=1, trans_a=1, overwrite_b=1)
        elif mix is not None:  # a semi-definite factor from the eigen-decomposition
            np.matmul(mix, x[:c], out=slab)
            x[:c] = slab
        for row, sig in per_path:  # volatilities drawn per path scale their shocks
            x[row] *= sig
        x += mu
        if common is not None:  # the year every indicator shares, with its loading
            x += model.common.loadings.astype(dt)[:, None] * common[t]
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
    running_max = {}
    if run is not None:  # valid where nothing moves the path after the loop
        for plan in plans:
            if not plan.anchor and not plan.has_offsets:
                running_max[plan.id] = run[1:, plan.row]
    if derived:
        add_derived(model, states)
    return BlockState(block, states, theta, drift, running_max, sigmas, walks)


def path_sigmas(model: Model, theta: np.ndarray) -> dict:
    """Each indicator's volatility: its per-path draw, or its one value."""
    return {p.id: theta[p.sigma_param] if p.per_path_sigma else p.sigma for p in model.indicators}


def path_walks(model: Model, sigmas: dict) -> dict:
    """Each indicator's yearly growth walk: scaled with the path's volatility where that is
    drawn (the Normal–Inverse-Gamma structure), else one value."""
    return {
        p.id: p.walk * (sigmas[p.id] / p.sigma) if p.per_path_sigma else p.walk
        for p in model.indicators
    }


def drifts(model: Model, theta: np.ndarray, sigmas: dict | None = None) -> dict:
    """Per-path drift of every growth and trend parameter (a float when it is fixed).

    Where the volatility is drawn per path, the growth's distance from its median scales
    with σ/s (the Normal–Inverse-Gamma posterior of a fitted model: the drift's spread is
    proportional to the shocks'). Computed once per block and shared by the kernel and the
    assessment."""
    out = {}
    for plan in model.indicators:
        for pidx in plan.drift_params:
            dist = model.params[pidx].dist
            if isinstance(dist, Fixed):
                out[pidx] = float(plan.drift(np.float64(dist.value)))
            else:
                out[pidx] = plan.drift(theta[pidx])
        if plan.per_path_sigma:
            sig = (sigmas or path_sigmas(model, theta))[plan.id]
            centre = float(plan.drift(np.float64(plan.growth_median)))
            d = out[plan.growth_param]
            out[plan.growth_param] = centre + (d - centre) * (sig / plan.sigma)
    return out


def add_derived(model: Model, states: dict, only=None) -> dict:
    """Compute derived indicators path by path from their parts (in log space)."""
    for d in model.derived:
        if (only is not None and d.id not in only) or d.id in states:
            continue
        la = log_value(states[d.parts[0]], model.transform_of(d.parts[0]))
        lb = log_value(states[d.parts[1]], model.transform_of(d.parts[1]))
        s = la + lb if d.op == "product" else la - lb
        if d.log_scale:
            s += d.log_scale
        states[d.id] = s
    return states


def log_value(s: np.ndarray, transform: str) -> np.ndarray:
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
