"""Assess a study written as a TOML file: load, audit, simulate, assess, compare.

Run:  python examples/study_from_toml.py  [path/to/study.toml]
"""

from __future__ import annotations

import sys
from pathlib import Path

import hzforecast as hz

HERE = Path(__file__).parent


def main(path: str | Path = HERE / "xinxiang-toy.toml") -> hz.Assessment:
    study = hz.load_study(path)
    print(study.summary())
    print()
    print(study.audit())
    print()
    res = hz.assess(
        study, scenario=study.scenarios[0].id, n_paths=2**16, rng=2021, method="qmc", progress=False
    )
    print(res)
    r = res[study.targets[0].id]
    print(
        f"\n{r.id}: needs {r.required_growth:.1%} a year, the scenario gives "
        f"{r.anticipated_growth:.1%}; P(in {r.target.year}) = {r.p_in_year}"
    )
    return res


if __name__ == "__main__":
    main(*sys.argv[1:])
