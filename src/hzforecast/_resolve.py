"""Study files that ask for data instead of a distribution, resolved when they are read.

``growth = { from = "reference", panel = ..., indicator = ... }`` — the study indicator's own
history fitted with a reference class's empirical-Bayes prior (:mod:`hzforecast.reference`);
``growth = { from = "track-record", indicator = ..., target = ... }`` — what provinces that
announced such targets achieved (:mod:`hzforecast.trackrecord`). Either becomes an ordinary
assumption with what it rests on kept beside it (``reference`` / ``track_record``).
"""

from __future__ import annotations

import math

import numpy as np

from ._fitting import GrowthPrior, fit_bayes
from .reference import BUILTIN, PanelError, builtin_prior

__all__ = ["resolve_study"]


# ----------------------------------------------------------------------------- study files

_REF_KEYS = {"from", "panel", "indicator", "until"}
_FROM_REF = ("volatility", "volatility_df", "growth_walk", "growth_scale")


def resolve_study(raw: dict) -> dict:
    """A study document with every ``growth = { from = "reference", ... }`` resolved.

    Each such assumption's growth, volatility and growth walk become those of the study
    indicator's own history fitted with the reference class's empirical-Bayes prior (data up
    to ``until``, by default the scenario's base year), and ``reference`` records what they
    rest on. Only built-in panels can be named in a study file. Problems are ``ValueError``
    with the field's path."""
    if not isinstance(raw, dict) or not isinstance(raw.get("scenarios"), list):
        return raw
    listed = raw.get("indicators") if isinstance(raw.get("indicators"), list) else []
    indicators = {
        i["id"]: i for i in listed if isinstance(i, dict) and isinstance(i.get("id"), str)
    }
    targets = {
        t["id"]: t
        for t in (raw.get("targets") if isinstance(raw.get("targets"), list) else [])
        if isinstance(t, dict) and isinstance(t.get("id"), str)
    }
    out = dict(raw)
    out["scenarios"] = []
    cache: dict = {}
    for i, sc in enumerate(raw["scenarios"]):
        if not isinstance(sc, dict) or not isinstance(sc.get("assumptions"), list):
            out["scenarios"].append(sc)
            continue
        try:
            sc = _track_record(sc, targets, f"scenarios[{i}]", cache)
        except (TypeError, KeyError, AttributeError, IndexError):
            pass  # malformed: left for the study's validation to report field by field
        sc = dict(sc)
        new = []
        for j, a in enumerate(sc["assumptions"]):
            g = a.get("growth") if isinstance(a, dict) else None
            if isinstance(g, dict) and g.get("from") is not None and "track_record" not in a:
                where = f"scenarios[{i}].assumptions[{j}].growth"
                try:
                    a = _resolved(a, g, sc, indicators, where, cache)
                except (TypeError, KeyError, AttributeError, IndexError):
                    # a malformed document: left as it is, for the study's validation to
                    # report field by field
                    pass
            new.append(a)
        sc["assumptions"] = new
        out["scenarios"].append(sc)
    return out


def _track_record(sc: dict, targets: dict, where: str, cache: dict) -> dict:
    """The scenario with its growths from the plans' track record resolved
    (:func:`hzforecast.trackrecord.resolve_scenario`); the record is read once per study."""
    uses = any(
        isinstance(a, dict)
        and isinstance(a.get("growth"), dict)
        and a["growth"].get("from") == "track-record"
        for a in sc["assumptions"]
    )
    if not uses:
        return sc
    from .trackrecord import resolve_scenario

    return resolve_scenario(sc, targets, where)


def _resolved(a: dict, g: dict, sc: dict, indicators: dict, where: str, cache: dict) -> dict:
    if g.get("from") != "reference":
        raise ValueError(
            f"{where}.from: expected 'reference' or 'track-record', got {g.get('from')!r}"
        )
    extra = sorted(set(g) - _REF_KEYS)
    if extra or "panel" not in g or "indicator" not in g:
        raise ValueError(
            f"{where}: a growth from a reference class takes panel, indicator and optionally "
            f"until (got {sorted(g)})"
        )
    given = [k for k in _FROM_REF if k in a]
    if given:
        raise ValueError(
            f"{where}: {', '.join(given)} come(s) from the reference class too; drop "
            f"{'it' if len(given) == 1 else 'them'} from the assumption"
        )
    if g["panel"] not in BUILTIN:
        raise ValueError(f"{where}.panel: unknown {g['panel']!r} (built-in: {sorted(BUILTIN)})")
    ind = indicators.get(a.get("indicator")) if isinstance(a.get("indicator"), str) else None
    if ind is None:
        raise ValueError(f"{where}: the assumption's indicator {a.get('indicator')!r} is unknown")
    base = sc.get("base_year")
    until = g.get("until", base)
    if isinstance(until, bool) or not isinstance(until, int):
        raise ValueError(f"{where}.until: expected a year, got {until!r}")
    try:
        p = builtin_prior(g["panel"], g["indicator"], until)
    except (KeyError, PanelError) as exc:
        raise ValueError(f"{where}.indicator: {exc.args[0] if exc.args else exc}") from None
    kind = ind.get("kind")
    want = "share" if kind == "share" else "level"
    if p.provenance["kind"] != want:
        raise ValueError(
            f"{where}.indicator: {g['indicator']!r} is a {p.provenance['kind']} in panel "
            f"{g['panel']!r}; {a.get('indicator')!r} is a {kind}"
        )
    obs = sorted(
        (o["year"], (o.get("correction") or {}).get("value", o["value"]))
        for o in ind.get("observations", [])
        if isinstance(base, int) and o["year"] <= base
    )
    out = {k: v for k, v in a.items() if k != "growth"}
    growth, vol, df, walk, fitted = _growth_from(obs, want, p, a.get("indicator"))
    out.update(
        growth=growth,
        growth_scale="log" if want == "level" else "rate",
        volatility=vol,
        volatility_df=df,
        growth_walk=walk,
        status="assumed",
        reference={
            "panel": g["panel"],
            "indicator": g["indicator"],
            "until": until,
            "regions": len(p.provenance["regions"]),
            "years": list(p.provenance["years"]),
            "method": p.provenance["method"],
            "prior": p.describe(),
            "fitted_to": fitted,
        },
    )
    out.setdefault(
        "rationale",
        f"From the reference class {g['panel']}:{g['indicator']} ({fitted}); {p.describe()}",
    )
    return out


def _growth_from(obs, kind, p: GrowthPrior, name):
    """(growth, volatility, df, walk, what it was fitted to) from observations and a prior."""
    if obs:
        years = np.array([y for y, _ in obs])
        values = np.array([v for _, v in obs], dtype=float)
        a = fit_bayes(name, years, values, kind, p, None, []).to_assumption()
        fitted = (
            f"{len(obs)} observation(s) {years[0]}–{years[-1]} of the study's indicator"
            if len(obs) > 1
            else f"the study's one observation ({years[0]})"
        )
        growth = {"dist": "normal", "mean": a.growth.mean_, "sd": a.growth.sd}
        return growth, a.volatility, a.volatility_df, a.growth_walk, fitted
    s = math.sqrt(p.b0 / p.a0)
    growth = {"dist": "normal", "mean": p.mu0, "sd": s / math.sqrt(p.kappa0)}
    walk = math.sqrt(p.drift_walk) * s
    return growth, s, 2 * p.a0, walk, "no observation of the study's own: the class alone"
