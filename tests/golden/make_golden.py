"""Regenerate the golden numbers: ``python tests/golden/make_golden.py``.

The golden test (tests/test_golden.py) pins every number hzforecast publishes for the built-in
study and the toy example — all scenarios, MC / antithetic / QMC, single and double precision,
two seeds — to the bit. Rerun this only on purpose, and say in the commit which numbers
changed and why.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FILE = HERE / "golden.json"

SEEDS = (20190128, 7)
N_PATHS = 2**16  # two blocks (MC, antithetic); 16 replicates of 4,096 (QMC)


def _num(x):
    """A float as exact text (repr round-trips), NaN and infinities spelled out."""
    if x is None:
        return None
    if isinstance(x, bool | str):
        return x
    x = float(x)
    if math.isnan(x):
        return "nan"
    return repr(x)


def _estimate(e):
    if e is None:
        return None
    return [_num(v) for v in (e.value, e.se, e.low, e.high, e.n_eff)] + [e.count, e.estimator]


def _target_numbers(r):
    return {
        "assessable": r.assessable,
        "p_in": _estimate(r.p_in_year),
        "p_by": _estimate(r.p_by_year),
        "required": _num(r.required_growth),
        "anticipated": _num(r.anticipated_growth),
        "ratio": _num(r.ratio),
        "progress": r.progress,
        "start": [r.start_year, _num(r.start_value), r.start_kind],
        "first": {str(k): _num(v) for k, v in r.first_year.items()},
        "curve": {str(k): _num(v) for k, v in r.by_year_curve.items()},
        "values": {str(k): _num(v) for k, v in r.value_quantiles.items()},
        "gaps": {str(k): _num(v) for k, v in r.gap_quantiles.items()},
    }


def assessment_numbers(res) -> dict:
    return {
        "targets": {r.id: _target_numbers(r) for r in res.targets},
        "groups": {
            g.group_id: [_estimate(g.p_all_in_year), _estimate(g.p_all_by_year)] for g in res.groups
        },
    }


def runs():
    """(key, study, kwargs) of every pinned run."""
    import hzforecast as hz

    jiaozuo = hz.load_study("jiaozuo-2019")
    toy = hz.load_study(ROOT / "examples" / "xinxiang-toy.toml")
    for study in (jiaozuo, toy):
        for sc in study.scenarios:
            for method in ("mc", "antithetic", "qmc"):
                for precision in ("single", "double"):
                    seeds = SEEDS if (method, precision) == ("mc", "single") else SEEDS[:1]
                    for seed in seeds:
                        key = f"{study.id}/{sc.id}/{method}/{precision}/{seed}"
                        yield (
                            key,
                            study,
                            dict(
                                scenario=sc.id,
                                n_paths=N_PATHS,
                                rng=seed,
                                method=method,
                                precision=precision,
                                progress=False,
                            ),
                        )


def paths_numbers(study, scenario, seed):
    import hzforecast as hz

    paths = hz.simulate(study, scenario=scenario, n_paths=4096, rng=seed, progress=False)
    out = {}
    for ind in paths.indicators:
        q = paths.quantiles(ind, q=(0.05, 0.5, 0.95))
        out[ind] = [[_num(v) for v in row] for row in q.to_numpy()]
    out["params"] = {k: [_num(np.mean(v)), _num(np.std(v))] for k, v in paths.params.items()}
    return out


def compute() -> dict:
    import hzforecast as hz

    out = {"assess": {}, "paths": {}}
    for key, study, kw in runs():
        out["assess"][key] = assessment_numbers(hz.assess(study, **kw))
    jiaozuo = hz.load_study("jiaozuo-2019")
    for sc in jiaozuo.scenarios:
        out["paths"][sc.id] = paths_numbers(jiaozuo, sc.id, SEEDS[0])
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    data = compute()
    FILE.write_text(json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True) + "\n")
    print(f"wrote {FILE} ({FILE.stat().st_size:,} bytes, {len(data['assess'])} runs)")
