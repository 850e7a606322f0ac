r"""Global sensitivity: Sobol' indices with Saltelli sampling and Jansen estimators.

Sample → evaluate → analyze, as pure functions (SALib's shape):

>>> from hzforecast.sensitivity import sobol_sample, sobol_analyze, ishigami
>>> s = sobol_sample(3, n_base=2**12, rng=1)
>>> res = sobol_analyze(s, ishigami(s.points(bounds=[(-3.1416, 3.1416)] * 3)), rng=1)
>>> round(float(res.first[0]), 1), round(float(res.total[2]), 1)
(0.3, 0.2)

For N base points and d inputs the design has N(d + 2) rows: two independent
matrices A and B (a scrambled Sobol' sequence of dimension 2d) and, for each input i,
:math:`A_B^{(i)}` — A with column i taken from B. With V the variance of f over A and
B together,

.. math::

    S_i = \frac{V - \tfrac12\,\overline{(f(B) - f(A_B^{(i)}))^2}}{V},\qquad
    S_{T,i} = \frac{\tfrac12\,\overline{(f(A) - f(A_B^{(i)}))^2}}{V}

(Jansen 1999; Saltelli et al. 2010). Confidence intervals come from a bootstrap over
the N base rows. A :class:`SobolSample` carries its settings; analysing outputs of a
different length, or asking for another design, is an error — the known trap of
analysing a sample with settings it was not drawn with.

**Correlated inputs.** Sobol' indices are defined for independent inputs. For a
study, the scenario's rank correlation between growth draws is *dropped* for this
analysis (inputs are sampled independently from their marginals), and the result
says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._rng import as_seed_sequence, describe_seed

__all__ = [
    "SobolResult",
    "SobolSample",
    "ishigami",
    "sobol_analyze",
    "sobol_indices",
    "sobol_sample",
]


@dataclass(frozen=True, eq=False)
class SobolSample:
    """A Saltelli design in the unit cube: rows A, then B, then A_B^(1) … A_B^(d)."""

    names: tuple[str, ...]
    n_base: int
    uniforms: np.ndarray  # (n_base * (d + 2), d)
    seed: dict

    @property
    def d(self) -> int:
        return len(self.names)

    @property
    def n_rows(self) -> int:
        return self.n_base * (self.d + 2)

    def points(self, bounds=None) -> np.ndarray:
        """The design mapped to ``bounds`` [(low, high), …] (default: the unit cube)."""
        if bounds is None:
            return self.uniforms.copy()
        b = np.asarray(bounds, float)
        if b.shape != (self.d, 2):
            raise ValueError(f"bounds: expected {self.d} (low, high) pairs, got shape {b.shape}")
        return b[:, 0] + self.uniforms * (b[:, 1] - b[:, 0])


@dataclass(frozen=True, eq=False)
class SobolResult:
    """First-order and total indices with bootstrap confidence intervals."""

    names: tuple[str, ...]
    first: np.ndarray
    total: np.ndarray
    first_ci: np.ndarray  # (d, 2)
    total_ci: np.ndarray
    variance: float
    n_base: int
    note: str = ""

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(
            {
                "input": self.names,
                "first": self.first,
                "first_low": self.first_ci[:, 0],
                "first_high": self.first_ci[:, 1],
                "total": self.total,
                "total_low": self.total_ci[:, 0],
                "total_high": self.total_ci[:, 1],
            }
        ).sort_values("total", ascending=False, ignore_index=True)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False, float_format=lambda v: f"{v:.3f}")

    def __str__(self) -> str:
        lines = [f"Sobol' indices (Jansen; N = {self.n_base}, bootstrap 95% intervals)"]
        for _, r in self.to_frame().iterrows():
            lines.append(
                f"  {r.input:<32} first {r['first']:6.3f} [{r.first_low:6.3f}, "
                f"{r.first_high:6.3f}]  total {r.total:6.3f} [{r.total_low:6.3f}, "
                f"{r.total_high:6.3f}]"
            )
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)


def sobol_sample(names, n_base: int = 2**10, *, rng=None) -> SobolSample:
    """A Saltelli design for ``names`` (a list of input names, or their number).

    ``n_base`` must be a power of two (the base points are a scrambled Sobol' sequence).
    """
    from scipy.stats import qmc

    if isinstance(names, int):
        names = tuple(f"x{i + 1}" for i in range(names))
    names = tuple(names)
    d = len(names)
    if d < 1:
        raise ValueError("names: need at least one input")
    if (
        isinstance(n_base, bool)
        or not isinstance(n_base, int)
        or n_base < 2
        or n_base & (n_base - 1)
    ):
        raise ValueError(f"n_base: must be a power of two >= 2, got {n_base!r}")
    seq = as_seed_sequence(rng)
    eng = qmc.Sobol(2 * d, scramble=True, rng=np.random.Generator(np.random.PCG64(seq)))
    base = eng.random(n_base)
    a, b = base[:, :d], base[:, d:]
    blocks = [a, b]
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append(ab)
    return SobolSample(names, n_base, np.vstack(blocks), describe_seed(seq))


def _jansen(fa, fb, fab):
    v = np.var(np.concatenate([fa, fb]), ddof=1)
    if v == 0:
        return np.full(fab.shape[0], np.nan), np.full(fab.shape[0], np.nan), 0.0
    first = (v - 0.5 * np.mean((fb[None, :] - fab) ** 2, axis=1)) / v
    total = 0.5 * np.mean((fa[None, :] - fab) ** 2, axis=1) / v
    return first, total, v


def sobol_analyze(
    sample: SobolSample, y, *, n_boot: int = 200, level: float = 0.95, rng=None, note: str = ""
) -> SobolResult:
    """First and total Sobol' indices of outputs ``y`` evaluated on ``sample``'s rows.

    Raises
    ------
    ValueError
        If ``y`` does not have one value per row of the sample (N(d + 2)), or has NaN.
    """
    if not isinstance(sample, SobolSample):
        raise TypeError(
            f"sample: expected a SobolSample from sobol_sample, got {type(sample).__name__}"
        )
    y = np.asarray(y, float)
    if y.shape != (sample.n_rows,):
        raise ValueError(
            f"y: the sample was drawn with n_base={sample.n_base} and d={sample.d} inputs, so "
            f"it needs {sample.n_rows} outputs (N(d + 2)); got shape {y.shape}"
        )
    if not np.all(np.isfinite(y)):
        raise ValueError("y: outputs must be finite")
    n, d = sample.n_base, sample.d
    fa, fb = y[:n], y[n : 2 * n]
    fab = y[2 * n :].reshape(d, n)
    first, total, v = _jansen(fa, fb, fab)
    gen = np.random.default_rng(as_seed_sequence(rng))
    boots_f, boots_t = [], []
    for _ in range(n_boot):
        idx = gen.integers(0, n, n)
        f_, t_, _ = _jansen(fa[idx], fb[idx], fab[:, idx])
        boots_f.append(f_)
        boots_t.append(t_)
    a = (1 - level) / 2
    fci = np.quantile(np.array(boots_f), [a, 1 - a], axis=0).T
    tci = np.quantile(np.array(boots_t), [a, 1 - a], axis=0).T
    return SobolResult(sample.names, first, total, fci, tci, float(v), n, note)


def ishigami(x, a: float = 7.0, b: float = 0.1):
    """The Ishigami function; analytic indices (a=7, b=0.1): S = (0.3139, 0.4424, 0),
    S_T = (0.5576, 0.4424, 0.2437)."""
    x = np.asarray(x, float)
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


#: The fewest base points :func:`sobol_indices` takes.
MIN_BASE = 64


def sobol_indices(
    study,
    target: str,
    *,
    scenario: str | None = None,
    n_base: int = 2**10,
    rng=None,
    n_boot: int = 200,
    executor=None,
) -> SobolResult:
    """Sobol' indices of P(target met in its year | scenario inputs) over the scenario's
    uncertain inputs (growth and assumed-start draws). ``target`` may name a target group
    whose targets' shocks are uncorrelated: then the output is P(its rule holds | inputs) —
    every target met, at least k, or a weighted score reached.

    The output for one input vector is the exact probability given those inputs (every
    yearly shock integrated analytically), so the analysis has no shock noise; the
    target must be on a simulated indicator (not a derived one).
    """
    scenario = study.scenario_id(scenario)
    from ._assess import group_plans, plan_targets, probability_given_parameters
    from ._engine import compile_model, ppf

    if isinstance(n_base, int) and not isinstance(n_base, bool) and n_base < MIN_BASE:
        raise ValueError(
            f"n_base: at least {MIN_BASE} base points are needed for Sobol' indices to be "
            f"more than noise (2 gave a first-order index of -0.48), got {n_base}"
        )
    model = compile_model(study, scenario)
    group_ids = {g.id for g in study.groups}
    group = None
    if target in group_ids:
        g = study.group(target)
        members = [study.target(tid) for tid in g.targets]
        plans = plan_targets(study, model, members, strict=True)
        [gp] = group_plans([g], plans, model)
        if not gp.product:
            raise ValueError(
                f"group {target!r}: its targets' shocks are correlated (or not all "
                f"on simulated indicators), so P(its rule holds | inputs) is not exact"
            )
        group = g
    else:
        plans = plan_targets(study, model, [study.target(target)], strict=True)
    for plan in plans:
        if plan.smooth is None and plan.observed is None:
            raise ValueError(
                f"target {plan.target.id!r}: Sobol' indices need a target on a "
                f"simulated indicator with volatility > 0 (P given the inputs "
                f"must be exact)"
            )
    uncertain = [i for i, p in enumerate(model.params) if not p.dist.is_fixed]
    if not uncertain:
        raise ValueError(f"scenario {scenario!r} has no uncertain inputs")
    names = tuple(model.params[i].name for i in uncertain)
    sample = sobol_sample(names, n_base, rng=rng)
    u = sample.uniforms
    theta = np.empty((len(model.params), u.shape[0]))
    for j, p in enumerate(model.params):
        theta[j] = ppf(p.dist, np.full(u.shape[0], 0.5)) if p.dist.is_fixed else 0.0
    for col, j in enumerate(uncertain):
        theta[j] = ppf(model.params[j].dist, u[:, col])
    if executor is None:
        y = probability_given_parameters(plans, model, theta, group)
    else:  # rows are independent: evaluate chunks in parallel, concatenate in order
        step = max(1, -(-theta.shape[1] // 8))
        futures = [
            executor.submit(
                probability_given_parameters, plans, model, theta[:, i : i + step], group
            )
            for i in range(0, theta.shape[1], step)
        ]
        y = np.concatenate([f.result() for f in futures])
    note = (
        "inputs sampled independently: the scenario's rank correlation between growth "
        "draws is dropped for this analysis"
        if model.copula_factor is not None
        else ""
    )
    return sobol_analyze(sample, np.asarray(y, float), n_boot=n_boot, rng=rng, note=note)
