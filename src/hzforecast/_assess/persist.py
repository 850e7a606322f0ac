"""Saving an assessment and reading it back: versioned, strict JSON (never pickle).

The file says what it is (``"format": "hzforecast-assessment"``, ``"version": 1``) and which
hzforecast wrote it; every number is kept at full precision, a number that is not finite (NaN:
"not computed") is written as ``null``; the targets, groups, assumptions and corrections travel
with the numbers. A file of another format or a later version is refused with a clear error.
Paired comparisons (:func:`paired_difference`) need the per-batch sums, which are not saved.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path

import numpy as np

from .._engine import CorrectionUsed
from .._words import Bilingual
from ..spec import Target, TargetGroup
from .montecarlo import Estimate
from .results import Assessment, AssumptionUsed, GroupResult, TargetResult

__all__ = ["FORMAT", "VERSION", "assessment_from_dict", "assessment_to_dict", "load", "save"]

FORMAT = "hzforecast-assessment"
VERSION = 1
MAX_BYTES = 50 * 2**20


def _plain(v):
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _num(v) -> float:
    return math.nan if v is None else float(v)


def _estimate(e: Estimate | None):
    return None if e is None else {f.name: getattr(e, f.name) for f in fields(Estimate)}


def _estimate_back(d) -> Estimate | None:
    if d is None:
        return None
    return Estimate(
        value=_num(d["value"]), se=_num(d["se"]), low=_num(d["low"]), high=_num(d["high"]),
        n=int(d["n"]), n_eff=_num(d["n_eff"]), count=d["count"], estimator=d["estimator"],
    )  # fmt: skip


def _reason(r):
    if r is None:
        return None
    return {"en": str(r), "zh": r.zh} if isinstance(r, Bilingual) else {"en": str(r)}


def _reason_back(d):
    if d is None:
        return None
    return Bilingual(d["en"], d.get("zh"))


def _keyed(d: dict, key) -> dict:
    return {key(k): _num(v) for k, v in d.items()}


def _year_or_text(k: str):
    return int(k) if k.lstrip("-").isdigit() else k


def assessment_to_dict(a: Assessment) -> dict:
    from .. import __version__

    targets = []
    for r in a.targets:
        targets.append(
            {
                "target": r.target.model_dump(mode="json", by_alias=True),
                "unit": r.unit,
                "assessable": r.assessable,
                "reason": _reason(r.reason),
                "p_in_year": _estimate(r.p_in_year),
                "p_by_year": _estimate(r.p_by_year),
                "required_growth": r.required_growth,
                "anticipated_growth": r.anticipated_growth,
                "ratio": r.ratio,
                "progress": r.progress,
                "start_year": r.start_year,
                "start_value": r.start_value,
                "start_kind": r.start_kind,
                "first_year": r.first_year,
                "by_year_curve": r.by_year_curve,
                "value_quantiles": r.value_quantiles,
                "gap_quantiles": r.gap_quantiles,
                "observed_value": r.observed_value,
                "growth_unit": r.growth_unit,
            }
        )
    groups = [
        {
            "group_id": g.group_id,
            "targets": list(g.targets),
            "assessable": g.assessable,
            "reason": _reason(g.reason),
            "p_all_in_year": _estimate(g.p_all_in_year),
            "p_all_by_year": _estimate(g.p_all_by_year),
            "group": None if g.group is None else g.group.model_dump(mode="json"),
        }
        for g in a.groups
    ]
    assumptions = [
        {
            "indicator": u.indicator,
            "growth": u.growth.model_dump(mode="json", by_alias=True),
            "volatility": u.volatility,
            "start": None if u.start is None else u.start.model_dump(mode="json", by_alias=True),
            "shocks": [s.model_dump(mode="json", by_alias=True) for s in u.shocks],
            "status": u.status,
            "rationale": u.rationale,
            "source": u.source,
        }
        for u in a.assumptions
    ]
    return _plain(
        {
            "format": FORMAT,
            "version": VERSION,
            "hzforecast": __version__,
            "study_id": a.study_id,
            "scenario_id": a.scenario_id,
            "scenario_name_zh": a.scenario_name_zh,
            "scenario_name_en": a.scenario_name_en,
            "method": a.method,
            "n_paths": a.n_paths,
            "n_replicates": a.n_replicates,
            "seed": a.seed,
            "smoothing": a.smoothing,
            "targets": targets,
            "groups": groups,
            "corrections": [{f.name: getattr(c, f.name) for f in fields(c)} for c in a.corrections],
            "notes": [_reason(n) for n in a.notes],
            "assumptions": assumptions,
            "convergence": list(a.convergence),
        }
    )


def assessment_from_dict(d: dict) -> Assessment:
    from pydantic import TypeAdapter

    from ..distributions import Distribution
    from ..spec import Shock

    if not isinstance(d, dict) or d.get("format") != FORMAT:
        got = d.get("format") if isinstance(d, dict) else type(d).__name__
        raise ValueError(f"format: expected {FORMAT!r}, got {got!r}")
    if d.get("version") != VERSION:
        raise ValueError(
            f"version: this hzforecast reads assessment files of version {VERSION}, got "
            f"{d.get('version')!r} (written by hzforecast {d.get('hzforecast')})"
        )
    dist = TypeAdapter(Distribution)
    targets = tuple(
        TargetResult(
            target=Target.model_validate(t["target"]),
            unit=t["unit"],
            assessable=t["assessable"],
            reason=_reason_back(t["reason"]),
            p_in_year=_estimate_back(t["p_in_year"]),
            p_by_year=_estimate_back(t["p_by_year"]),
            required_growth=_num(t["required_growth"]),
            anticipated_growth=_num(t["anticipated_growth"]),
            ratio=_num(t["ratio"]),
            progress=t["progress"],
            start_year=t["start_year"],
            start_value=t["start_value"],
            start_kind=t["start_kind"],
            first_year=_keyed(t["first_year"], _year_or_text),
            by_year_curve=_keyed(t["by_year_curve"], int),
            value_quantiles=_keyed(t["value_quantiles"], float),
            gap_quantiles=_keyed(t["gap_quantiles"], float),
            observed_value=t["observed_value"],
            growth_unit=t["growth_unit"],
        )
        for t in d["targets"]
    )
    groups = tuple(
        GroupResult(
            group_id=g["group_id"],
            targets=tuple(g["targets"]),
            assessable=g["assessable"],
            reason=_reason_back(g["reason"]),
            p_all_in_year=_estimate_back(g["p_all_in_year"]),
            p_all_by_year=_estimate_back(g["p_all_by_year"]),
            group=None if g["group"] is None else TargetGroup.model_validate(g["group"]),
        )
        for g in d["groups"]
    )
    assumptions = tuple(
        AssumptionUsed(
            u["indicator"],
            dist.validate_python(u["growth"]),
            float(u["volatility"]),
            None if u["start"] is None else dist.validate_python(u["start"]),
            tuple(Shock.model_validate(s) for s in u["shocks"]),
            u["status"],
            u["rationale"],
            u["source"],
        )
        for u in d["assumptions"]
    )
    return Assessment(
        study_id=d["study_id"],
        scenario_id=d["scenario_id"],
        method=d["method"],
        n_paths=int(d["n_paths"]),
        n_replicates=int(d["n_replicates"]),
        seed=d["seed"],
        smoothing=bool(d["smoothing"]),
        targets=targets,
        groups=groups,
        corrections=tuple(CorrectionUsed(**c) for c in d["corrections"]),
        notes=tuple(_reason_back(n) for n in d["notes"]),
        assumptions=assumptions,
        scenario_name_zh=d.get("scenario_name_zh"),
        scenario_name_en=d.get("scenario_name_en"),
        convergence=tuple(d.get("convergence", ())),
    )


def save(a: Assessment, path) -> Path:
    """Write ``a`` to ``path`` as JSON, atomically (a failed write leaves no partial file)."""
    from .._files import atomic_write

    path = Path(path)
    text = json.dumps(assessment_to_dict(a), ensure_ascii=False, indent=1, allow_nan=False)
    atomic_write(path, text + "\n")
    return path


def load(path) -> Assessment:
    """An assessment saved by :meth:`Assessment.save` (strict JSON; bad files name the
    problem)."""
    from .._files import read_capped

    path = Path(path)
    raw = read_capped(path, MAX_BYTES)

    def refuse(token):
        raise ValueError(f"JSON constant {token} is not allowed")

    try:
        d = json.loads(raw.decode("utf-8"), parse_constant=refuse)
        return assessment_from_dict(d)
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        what = f"missing field {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
        raise ValueError(f"{path}: not a readable hzforecast assessment: {what}") from None
