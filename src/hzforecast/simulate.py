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
child of the seed (``SeedSequence``); QMC blocks are fixed ranges of a
replicate's sequence. Chunks and workers handle whole blocks, so the same
``rng`` gives identical numbers for any ``chunk_size`` or executor.

The machinery lives in the private package :mod:`hzforecast._engine`; this module is its
public front.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np

from ._engine import (
    BLOCK,
    METHODS,
    PRECISIONS,
    Block,
    BlockLayout,
    BlockState,
    Model,
    SimulationError,
    check_memory,
    compile_model,
    drifts,
    layout_for,
    path_sigmas,
    path_walks,
    run_blocks,
)
from ._progress import progress_bar
from ._rng import as_seed_sequence, describe_seed
from ._scales import from_scale
from .spec import Study

__all__ = ["BLOCK", "METHODS", "PRECISIONS", "Paths", "SimulationError", "simulate"]

Method = Literal["mc", "antithetic", "qmc"]


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
        out = {k: from_scale(v, self.model.transform_of(k)) for k, v in self.states.items()}
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

    def iter_blocks(self):
        """The paths block by block, as the streaming assessment sees them: one
        :class:`~hzforecast._engine.BlockState` per block of :data:`BLOCK` paths (views of
        these arrays; the drifts computed from the draws as the kernel computes them)."""
        layout = BlockLayout(self.n_paths, self.method, self.n_replicates, BLOCK)
        names = [p.name for p in self.model.params]
        for block in layout.blocks():
            sl = slice(block.first, block.first + block.n)
            st = {k: v[sl].T for k, v in self.states.items()}
            th = np.array([self.params[name][sl] for name in names]).reshape(len(names), block.n)
            sig = path_sigmas(self.model, th)
            yield BlockState(
                block, st, th, drifts(self.model, th, sig), {}, sig, path_walks(self.model, sig)
            )

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


def _copy_block(state: BlockState):
    """What a worker sends back for kept paths: copies of the states and draws."""
    return {k: v.copy() for k, v in state.states.items()}, state.theta.copy()


def simulate(
    study: Study,
    *,
    scenario: str | None = None,
    n_paths: int = 100_000,
    rng=None,
    method: Method = "mc",
    n_replicates: int = 16,
    chunk_size: int | None = None,
    corrections: Literal["use", "ignore"] = "use",
    precision: Literal["single", "double"] = "single",
    executor: Executor | None = None,
    progress: bool | None = None,
) -> Paths:
    """Simulate every indicator the scenario models, path by path.

    Parameters
    ----------
    study : Study
    scenario : str, optional
        Id of one of the study's scenarios; default: the study's ``default_scenario``, else
        its first.
    n_paths : int
        Number of paths (a power of two for ``method="qmc"``; even for antithetic).
    rng : None, int, SeedSequence or Generator
        Seed; the same ``rng`` gives identical paths for any ``chunk_size`` or executor.
    method : {"mc", "antithetic", "qmc"}
    n_replicates : int
        Independent scramblings for ``"qmc"`` (a power of two, default 16).
    chunk_size : int, optional
        Paths per task (a multiple of :data:`BLOCK`); bounds memory of workers. Default:
        about four tasks per worker of an executor, at most 16 blocks.
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
    layout = layout_for(n_paths, method, n_replicates)
    try:
        scenario = study.scenario_id(scenario)  # None: the study's default scenario
    except KeyError as exc:
        raise SimulationError(exc.args[0]) from None
    model = compile_model(study, scenario, corrections=corrections, precision=precision)
    workers = getattr(executor, "_max_workers", 1) if executor is not None else 1
    check_memory(model, method=method, workers=workers, keep_paths=int(n_paths))
    ids = model.ids
    states = {i: np.empty((n_paths, model.n_years), dtype=model.dtype) for i in ids}
    theta = np.empty((len(model.params), n_paths))

    def place(block: Block, st, th):
        for i in ids:
            states[i][block.first : block.first + block.n] = st[i].T
        theta[:, block.first : block.first + block.n] = th

    bar = progress_bar(n_paths, progress, f"simulate {scenario}")
    try:
        if executor is None:
            # each block is written straight into the result (no second copy of the paths)
            for state in run_blocks(
                model, layout, seq, lambda st: st, chunk_size=chunk_size, progress=bar
            ):
                place(state.block, state.states, state.theta)
        else:  # blocks come back from the workers as copies, in block order
            results = run_blocks(
                model,
                layout,
                seq,
                _copy_block,
                chunk_size=chunk_size,
                executor=executor,
                progress=bar,
            )
            for block, (st, th) in zip(layout.blocks(), results, strict=True):
                place(block, st, th)
    finally:
        if bar is not None:
            bar.close()
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
