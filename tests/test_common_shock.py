"""The common yearly shock: against its closed form (two indicators sharing it), and its
contracts (loadings, reproducibility, no smoothing across it, errors)."""

import math

import numpy as np
import pytest
from pydantic import ValidationError

import hzforecast as hz
from hzforecast import closedform as cf

from .conftest import make
from .test_assess import within

SIG = (0.03, 0.05)
LOAD = (1.0, 2.0)
G = (0.07, 0.05)
K = (135.0, 60.0)


def two_level_doc(doc, common):
    """gdp (100) and rev (50), fixed growth, own shocks, a common shock; both targets in a
    group."""
    rev = {
        "id": "rev", "name_zh": "收入", "name_en": "Revenue", "unit": "亿元", "kind": "level",
        "observations": [{"year": 2018, "value": 50.0, "source": "src", "text": "50亿元"}],
    }  # fmt: skip
    doc["indicators"].append(rev)
    doc["targets"] = [
        doc["targets"][0] | {"value": K[0]},
        {"id": "rev-2023", "indicator": "rev", "year": 2023, "comparator": ">=",
         "value": K[1], "status": "assumed", "rationale": "t"},
    ]  # fmt: skip
    doc["groups"] = [
        {"id": "both", "name_zh": "两者", "name_en": "Both", "targets": ["gdp-2023", "rev-2023"],
         "status": "assumed", "rationale": "t"}
    ]  # fmt: skip
    sc = doc["scenarios"][0]
    sc["assumptions"] = [
        {"indicator": "gdp", "growth": {"dist": "fixed", "value": G[0]}, "volatility": SIG[0],
         "rationale": "t"},
        {"indicator": "rev", "growth": {"dist": "fixed", "value": G[1]}, "volatility": SIG[1],
         "rationale": "t"},
    ]  # fmt: skip
    if common is not None:
        sc["common_shock"] = common
    return make(doc)


def exact(sd, p=0.0, size=0.0):
    return cf.prob_two_levels_common_shock(
        (100.0, 50.0), K, growth=G, sigma=SIG, loadings=LOAD, years=5, sd=sd,
        bad_year_probability=p, bad_year_size=size,
    )  # fmt: skip


def test_closed_form_reduces_to_independence():
    alone = [cf.prob_level(x, k, growth=g, sigma=s, years=5) for x, k, g, s in
             zip((100.0, 50.0), K, G, SIG, strict=True)]  # fmt: skip
    assert exact(0.0) == pytest.approx(alone[0] * alone[1], rel=1e-6)


@pytest.mark.parametrize("method", ["mc", "antithetic", "qmc"])
@pytest.mark.parametrize(("sd", "p", "size"), [(0.02, 0.0, 0.0), (0.01, 0.1, 0.04)])
def test_group_and_targets_against_closed_form(doc, method, sd, p, size):
    common = {"sd": sd, "bad_year_probability": p, "bad_year_size": size,
              "loadings": {"rev": LOAD[1]}, "rationale": "t"}  # fmt: skip
    s = two_level_doc(doc, common)
    res = hz.assess(s, scenario="base", n_paths=2**16, rng=11, method=method)
    want = exact(sd, p, size)
    within(res.groups[0].p_all_in_year, want)
    # the joint probability is not the product of the marginals: the shock links them
    p1, p2 = res["gdp-2023"].p_in_year.value, res["rev-2023"].p_in_year.value
    assert abs(want - p1 * p2) > 8 * res.groups[0].p_all_in_year.se
    # each target alone: one log-normal mixture
    for k, tid in enumerate(("gdp-2023", "rev-2023")):
        other = 1 - k
        big = [100.0, 50.0]
        # the other indicator's threshold far below: P(both) = P(this one)
        th = list(K)
        th[other] = 1e-6 * big[other]
        m = cf.prob_two_levels_common_shock(
            (100.0, 50.0), tuple(th), growth=G, sigma=SIG, loadings=LOAD, years=5, sd=sd,
            bad_year_probability=p, bad_year_size=size,
        )  # fmt: skip
        within(res[tid].p_in_year, m)
        assert res[tid].p_in_year.estimator != "smoothed"  # the shock is not integrated out


def test_correlation_of_the_log_levels(doc):
    sd = 0.02
    s = two_level_doc(doc, {"sd": sd, "loadings": {"rev": LOAD[1]}, "rationale": "t"})
    paths = hz.simulate(s, scenario="base", n_paths=2**16, rng=3)
    a = np.log(paths["gdp"][:, -1])
    b = np.log(paths["rev"][:, -1])
    rho = (
        LOAD[0]
        * LOAD[1]
        * sd**2
        / math.sqrt((SIG[0] ** 2 + LOAD[0] ** 2 * sd**2) * (SIG[1] ** 2 + LOAD[1] ** 2 * sd**2))
    )
    r = np.corrcoef(a, b)[0, 1]
    # the sample correlation's SE ≈ (1 − ρ²)/√n
    assert abs(r - rho) < 4 * (1 - rho**2) / math.sqrt(a.size)
    assert np.var(a) == pytest.approx(5 * (SIG[0] ** 2 + sd**2), rel=0.03)


def test_zero_loading_leaves_an_indicator_alone(doc):
    common = {"sd": 0.05, "loadings": {"gdp": 0.0}, "rationale": "t"}
    with_shock = hz.assess(two_level_doc(doc, common), ["gdp-2023"], scenario="base",
                           n_paths=2**14, rng=5)  # fmt: skip
    alone = cf.prob_level(100.0, K[0], growth=G[0], sigma=SIG[0], years=5)
    within(with_shock["gdp-2023"].p_in_year, alone)
    assert with_shock["gdp-2023"].p_in_year.estimator == "smoothed"


def test_common_shock_is_reproducible_across_executors_and_chunks(doc):
    from concurrent.futures import ThreadPoolExecutor

    s = two_level_doc(doc, {"sd": 0.02, "bad_year_probability": 0.05, "bad_year_size": 0.03,
                            "rationale": "t"})  # fmt: skip
    a = hz.simulate(s, scenario="base", n_paths=3 * 4096 + 17, rng=9)
    with ThreadPoolExecutor(2) as ex:
        b = hz.simulate(s, scenario="base", n_paths=3 * 4096 + 17, rng=9, executor=ex)
    assert np.array_equal(a["rev"], b["rev"])


@pytest.mark.parametrize(
    ("common", "match"),
    [
        ({"sd": 0.0, "rationale": "t"}, "sd: a common shock needs"),
        ({"sd": 0.01, "bad_year_probability": 0.1, "rationale": "t"}, "bad year needs both"),
        ({"sd": 0.01}, "rationale: required"),
        ({"sd": 0.01, "loadings": {"nope": 1.0}, "rationale": "t"}, "'nope' has no assumption"),
        ({"sd": 0.8, "rationale": "t"}, "sd"),
    ],
)
def test_common_shock_errors(doc, common, match):
    with pytest.raises((ValidationError, hz.StudyFileError, ValueError), match=match):
        two_level_doc(doc, common)
