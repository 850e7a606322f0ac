"""Scenario discovery: under which conditions is a target (group) met? PRIM.

The Patient Rule Induction Method (Friedman & Fisher 1999), as EMA Workbench uses it
for scenario discovery (Bryant & Lempert 2010): starting from the box holding every
path, repeatedly **peel** the ``alpha`` share of paths off one side of one input —
the peel that leaves the highest share of successes (*density*) — until fewer than
``min_mass`` of the paths remain. Each step is a candidate box, with its *coverage*
(the share of all successes inside it) and *density*; the user picks one from the
trade-off curve, and it can be **pasted** (edges let out again while density does not
fall). Rules read in growth terms: "mean GDP growth ≥ 8.3% and … → 85% of such paths
meet the profile; these paths are 40% of all that meet it".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PrimBox", "PrimResult", "discover", "prim"]


@dataclass(frozen=True)
class PrimBox:
    """A box: per input (low, high) bounds; ``None`` where the input is unrestricted."""

    bounds: dict
    coverage: float
    density: float
    mass: float
    n: int


@dataclass(frozen=True, eq=False)
class PrimResult:
    names: tuple[str, ...]
    trajectory: tuple[PrimBox, ...]
    base_density: float
    n_success: int
    x: np.ndarray
    y: np.ndarray

    def __repr__(self) -> str:
        i = self.choose()
        which = (
            "the box with density ≥ 80% and the most coverage"
            if self.trajectory[i].density >= 0.8
            else "no box reaches a density of 80%; the last"
        )
        return (
            f"<PrimResult: {len(self.trajectory)} boxes over {len(self.names)} inputs, "
            f"{self.x.shape[0]:,} paths; {which} (step {i}): {self.rules(i)}>"
        )

    def _repr_html_(self) -> str:
        from html import escape

        i = self.choose()
        return f"<p>{escape(self.rules(i))} (step {i})</p>" + self.to_frame().to_html(
            index=False, float_format=lambda v: f"{v:.3f}"
        )

    def box(self, i: int = -1) -> PrimBox:
        return self.trajectory[i]

    def choose(self, min_density: float = 0.8) -> int:
        """Index of the box with the highest coverage among those with density ≥ the bar
        (the last box when none reaches it)."""
        ok = [i for i, b in enumerate(self.trajectory) if b.density >= min_density]
        if not ok:
            return len(self.trajectory) - 1
        return max(ok, key=lambda i: (self.trajectory[i].coverage, -i))

    def pruned(self, i: int = -1, *, tol: float = 0.01) -> PrimBox:
        """Box ``i`` without the restrictions that do not matter: one at a time, the
        restriction whose removal costs the least density is dropped while that costs less
        than ``tol`` (one percentage point) — peeling restricts inputs that merely happened to
        help a little, and a rule should name only those that decide."""
        b = self.trajectory[i]
        bounds = dict(b.bounds)
        total = self.y.sum()
        while bounds:
            dens = self.y[_inside(self.x, self.names, bounds)].mean()
            trials = []
            for name in bounds:
                rest = {k: v for k, v in bounds.items() if k != name}
                trials.append((dens - self.y[_inside(self.x, self.names, rest)].mean(), name))
            cost, name = min(trials)
            if cost >= tol:
                break
            del bounds[name]
        m = _inside(self.x, self.names, bounds)
        return PrimBox(
            bounds,
            float(self.y[m].sum() / total),
            float(self.y[m].mean()),
            float(m.mean()),
            int(m.sum()),
        )

    def rules(self, i: int = -1, *, box: PrimBox | None = None, what: str = "the target") -> str:
        """The box as a rule, in growth terms; box ``i`` is pruned of restrictions that do not
        matter (:meth:`pruned`) unless a ``box`` is given."""
        b = box or self.pruned(i)
        parts = []
        for name, (lo, hi) in b.bounds.items():
            fmt = _fmt_for(name)
            if np.isfinite(lo) and np.isfinite(hi):
                parts.append(f"{fmt(lo)} ≤ {name} ≤ {fmt(hi)}")
            elif np.isfinite(lo):
                parts.append(f"{name} ≥ {fmt(lo)}")
            elif np.isfinite(hi):
                parts.append(f"{name} ≤ {fmt(hi)}")
        cond = " and ".join(parts) if parts else "any inputs"
        return (
            f"{cond} → {b.density:.0%} of such paths meet {what}; these paths are "
            f"{b.coverage:.0%} of all that meet it ({b.mass:.0%} of all paths; "
            f"{self.base_density:.0%} meet it overall)"
        )

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "step": i,
                    "coverage": b.coverage,
                    "density": b.density,
                    "mass": b.mass,
                    "restricted": len(b.bounds),
                }
                for i, b in enumerate(self.trajectory)
            ]
        )


def _fmt_for(name: str):
    if name.endswith(".growth") or (name.endswith(".start") and "share" in name):
        return lambda v: f"{v:.2%}"
    return lambda v: f"{v:.4g}"


def _inside(x, names, bounds):
    m = np.ones(len(x), dtype=bool)
    for k, name in enumerate(names):
        b = bounds.get(name)
        if b is None:
            continue
        m &= (x[:, k] >= b[0]) & (x[:, k] <= b[1])
    return m


def prim(x, y, names=None, *, alpha: float = 0.05, min_mass: float = 0.05) -> PrimResult:
    """Peeling trajectory of PRIM for inputs ``x`` (n, d) and outcomes ``y`` (n,) in [0, 1]."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(
            f"x, y: expected x of shape (n, d) and y of shape (n,), got {x.shape} and {y.shape}"
        )
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha: must be in (0, 0.5), got {alpha}")
    if not 0 < min_mass < 1:
        raise ValueError(f"min_mass: must be in (0, 1), got {min_mass}")
    n, d = x.shape
    names = tuple(names or (f"x{i + 1}" for i in range(d)))
    if len(names) != d:
        raise ValueError(f"names: expected {d}, got {len(names)}")
    if n < 20:
        raise ValueError(f"x: PRIM needs at least 20 paths, got {n}")
    total = y.sum()
    if total == 0:
        raise ValueError("y: no path meets the target, there is nothing to discover")
    bounds: dict = {}
    m = np.ones(n, dtype=bool)
    traj = [PrimBox({}, 1.0, float(y.mean()), 1.0, n)]
    while m.sum() / n > min_mass:
        best = None
        for k, name in enumerate(names):
            col = x[m, k]
            lo_q, hi_q = np.quantile(col, [alpha, 1 - alpha])
            cur = bounds.get(name) or (-np.inf, np.inf)
            for cand in ((lo_q, cur[1]), (cur[0], hi_q)):
                mm = m & (x[:, k] >= cand[0]) & (x[:, k] <= cand[1])
                if mm.sum() == m.sum() or mm.sum() == 0:
                    continue
                dens = y[mm].mean()
                if best is None or dens > best[0]:
                    best = (dens, name, cand, mm)
        if best is None or best[3].sum() / n < min_mass:
            break
        dens, name, cand, mm = best
        bounds = {**bounds, name: cand}
        m = mm
        traj.append(
            PrimBox(
                dict(bounds),
                float(y[m].sum() / total),
                float(dens),
                float(m.sum() / n),
                int(m.sum()),
            )
        )
    return PrimResult(names, tuple(traj), float(y.mean()), round(float(total)), x, y)


def discover(
    study,
    group_or_target: str,
    *,
    scenario: str | None = None,
    n_paths: int = 2**15,
    rng=0,
    alpha: float = 0.05,
    min_mass: float = 0.05,
    executor=None,
) -> PrimResult:
    """PRIM over a scenario's per-path draws (growth, assumed starts) with "the target — or
    the group, by its rule — met in its year" as the outcome of each path."""
    scenario = study.scenario_id(scenario)
    from .assess import path_outcomes
    from .simulate import simulate

    paths = simulate(
        study, scenario=scenario, n_paths=n_paths, rng=rng, progress=False, executor=executor
    )
    if group_or_target in {g.id for g in study.groups}:
        from ._assess import rule_holds

        g = study.group(group_or_target)
        met = np.array([path_outcomes(paths, study, t, smooth=False) > 0.5 for t in g.targets])
        y = rule_holds(g, met)  # the group's own rule: all met, at least k, a weighted score
    else:
        y = path_outcomes(paths, study, group_or_target, smooth=False) > 0.5
    names = [p.name for p in paths.model.params if not p.dist.is_fixed]
    x = np.column_stack([paths.params[nm] for nm in names])
    return prim(x, y.astype(float), names, alpha=alpha, min_mass=min_mass)
