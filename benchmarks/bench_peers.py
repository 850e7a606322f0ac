"""The same growth model three ways: EMA Workbench, a plain Python loop, hzforecast.

Model: 10 indicators, 7 years, log-normal growth with a per-path growth drawn uniformly
from ±1 point around a central rate, a yearly shock, and one target per indicator (the
level the central growth reaches in year 7). Each way estimates P(reach) of every target.

* **EMA Workbench** (``perform_experiments`` with its ``SequentialEvaluator``): one
  experiment per path; the ten growths are its uncertainties (Latin hypercube), the
  shocks are drawn inside the model function; the outcomes are the ten 0/1 hits.
* **A plain Python loop** per path (numpy for the draws of one path).
* **hzforecast**: ``hz.assess`` on the same model as a study, plain Monte Carlo with the
  indicator estimator (like the others), and — its default — with the shocks integrated
  analytically.

Reported: time per path, and the time each needs for the *same Monte Carlo standard
error* on P(reach) (work = time per path × paths needed), as ratios to hzforecast.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import hzforecast as hz

sys.path.insert(0, str(Path(__file__).parent))
from common import synthetic_study

K, H = 10, 7
G = np.array([0.05 + 0.005 * i for i in range(K)])
SIG = np.array([0.05 + 0.005 * i for i in range(K)])
X0 = np.array([100.0 + i for i in range(K)])
THR = X0 * (1 + G) ** H


def _one_path(growths, rng):
    y = np.log(X0) + H * np.log1p(growths) + SIG * rng.standard_normal((H, K)).sum(axis=0)
    return y >= np.log(THR)


def python_loop(n, seed=1):
    rng = np.random.default_rng(seed)
    hits = np.zeros(K)
    t = time.perf_counter()
    for _ in range(n):
        g = G - 0.01 + 0.02 * rng.random(K)
        hits += _one_path(g, rng)
    return time.perf_counter() - t, hits / n


def ema(n, seed=1):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench import (
            Model,
            RealParameter,
            ScalarOutcome,
            SequentialEvaluator,
            perform_experiments,
        )
    rng = np.random.default_rng(seed)

    def model(**kw):
        g = np.array([kw[f"g{i}"] for i in range(K)])
        h = _one_path(g, rng)
        return {f"hit{i}": float(h[i]) for i in range(K)}

    m = Model("growth", function=model)
    m.uncertainties = [RealParameter(f"g{i}", G[i] - 0.01, G[i] + 0.01) for i in range(K)]
    m.outcomes = [ScalarOutcome(f"hit{i}") for i in range(K)]
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, outcomes = perform_experiments(
            m, scenarios=n, evaluator=SequentialEvaluator(m), log_progress=False
        )
    dt = time.perf_counter() - t
    return dt, np.array([outcomes[f"hit{i}"].mean() for i in range(K)])


def hz_run(n, smoothing, seed=1):
    study = synthetic_study(K, H, uncertain=True, correlated=False)
    t = time.perf_counter()
    res = hz.assess(study, scenario="s", n_paths=n, rng=seed, smoothing=smoothing, progress=False)
    dt = time.perf_counter() - t
    p = np.array([res[f"t{i}"].p_in_year.value for i in range(K)])
    se = np.array([res[f"t{i}"].p_in_year.se for i in range(K)])
    return dt, p, se


def main(quick: bool = False) -> str:
    n_slow = 500 if quick else 5000
    n_fast = 2**14 if quick else 10**6
    t_ema, p_ema = ema(n_slow)
    t_loop, p_loop = python_loop(n_slow)
    t_hz, p_hz, se_hz = hz_run(n_fast, smoothing=False)
    t_hs, p_hs, se_hs = hz_run(n_fast, smoothing=True)
    se_ema = np.sqrt(p_ema * (1 - p_ema) / n_slow)
    # paths each method needs for hzforecast's plain-MC standard error at n_fast paths:
    # the indicator estimators share the binomial variance p(1-p)/N
    per = {
        "EMA Workbench (sequential)": t_ema / n_slow,
        "plain Python loop": t_loop / n_slow,
        "hzforecast, counting": t_hz / n_fast,
        "hzforecast, shocks integrated": t_hs / n_fast,
    }
    var_count = np.mean(se_hz**2) * n_fast  # per-path variance of the counting estimator
    var_smooth = np.mean(se_hs**2) * n_fast
    work = {k: v * var_count for k, v in per.items()}
    work["hzforecast, shocks integrated"] = per["hzforecast, shocks integrated"] * var_smooth
    ref = work["hzforecast, shocks integrated"]
    lines = [
        "## The same model in EMA Workbench, a Python loop and hzforecast",
        "",
        f"10 indicators × 7 years, uncertain growth and yearly shocks, 10 targets. EMA and the "
        f"loop ran {n_slow:,} paths, hzforecast {n_fast:,}.",
        "",
        "| method | time per path | work for equal error, × hzforecast | P(reach) of target 0 |",
        "|---|---|---|---|",
    ]
    pmap = {
        "EMA Workbench (sequential)": (p_ema[0], se_ema[0]),
        "plain Python loop": (p_loop[0], math.sqrt(p_loop[0] * (1 - p_loop[0]) / n_slow)),
        "hzforecast, counting": (p_hz[0], se_hz[0]),
        "hzforecast, shocks integrated": (p_hs[0], se_hs[0]),
    }
    for k in per:
        p, se = pmap[k]
        lines.append(f"| {k} | {per[k] * 1e6:.3g} µs | {work[k] / ref:,.0f} | {p:.4f} ± {se:.4f} |")
    agree = np.all(np.abs(p_ema - p_hz) < 4 * np.sqrt(se_ema**2 + se_hz**2))
    lines += [
        "",
        f"All ten P(reach) agree between EMA and hzforecast within 4 combined standard "
        f"errors: {'yes' if agree else 'NO'}. Speed-up of hzforecast (counting) over EMA "
        f"per path: **{per['EMA Workbench (sequential)'] / per['hzforecast, counting']:,.0f}×**"
        f"; for equal error with its default estimator: "
        f"**{work['EMA Workbench (sequential)'] / ref:,.0f}×**.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main("--quick" in sys.argv))
