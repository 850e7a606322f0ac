"""Group rules ("all", "at least k of n", "weighted score ≥ threshold") against direct
counting on the same paths and against the Poisson-binomial / enumeration closed forms; and
the status against the probability over random studies."""

import itertools
import math

import numpy as np
import pytest
from pydantic import ValidationError

import hzforecast as hz
from hzforecast import closedform as cf
from hzforecast._assess.results import probability_status

from .conftest import make
from .test_assess import within

X0 = (100.0, 50.0, 20.0)
G = (0.07, 0.05, 0.10)
SIG = (0.03, 0.06, 0.08)
K = (140.0, 64.0, 33.0)
W = (20.0, 15.0, 30.0)


def three_doc(doc, rule):
    doc["indicators"] = [
        {"id": f"x{i}", "name_zh": f"指标{i}", "name_en": f"X{i}", "unit": "亿元", "kind": "level",
         "observations": [{"year": 2018, "value": X0[i], "source": "src",
                           "text": f"{X0[i]:g}亿元"}]}
        for i in range(3)
    ]  # fmt: skip
    doc["targets"] = [
        {"id": f"t{i}", "indicator": f"x{i}", "year": 2023, "comparator": ">=", "value": K[i],
         "status": "assumed", "rationale": "t"}
        for i in range(3)
    ]  # fmt: skip
    doc["groups"] = [
        {"id": "g", "name_zh": "组", "name_en": "G", "targets": ["t0", "t1", "t2"],
         "status": "assumed", "rationale": "t", **rule}
    ]  # fmt: skip
    doc["scenarios"][0]["assumptions"] = [
        {"indicator": f"x{i}", "growth": {"dist": "fixed", "value": G[i]}, "volatility": SIG[i],
         "rationale": "t"}
        for i in range(3)
    ]  # fmt: skip
    return make(doc)


def marginals():
    return [cf.prob_level(X0[i], K[i], growth=G[i], sigma=SIG[i], years=5) for i in range(3)]


def by_enumeration(rule, p):
    """Sum over the 2^n outcomes of independent members (a second implementation)."""
    total = 0.0
    for met in itertools.product((0, 1), repeat=len(p)):
        w = math.prod(pi if m else 1 - pi for pi, m in zip(p, met, strict=True))
        if rule["rule"] == "all":
            ok = all(met)
        elif rule["rule"] == "at_least":
            ok = sum(met) >= rule["k"]
        else:
            ok = (
                sum(wi for wi, m in zip(rule["weights"], met, strict=True) if m)
                >= rule["threshold"]
            )
        total += w * ok
    return total


RULES = [
    {"rule": "all"},
    {"rule": "at_least", "k": 2},
    {"rule": "at_least", "k": 1},
    {"rule": "score", "weights": list(W), "threshold": 45.0},
    {"rule": "score", "weights": list(W), "threshold": 35.0},
]


@pytest.mark.parametrize(
    "rule", RULES, ids=lambda r: f"{r['rule']}-{r.get('k', r.get('threshold', ''))}"
)
def test_rule_counts_the_same_paths(doc, rule):
    """Without smoothing, P(rule) is the share of simulated paths on which it holds, counted
    here directly from the paths' values."""
    s = three_doc(doc, rule)
    res = hz.assess(s, scenario="base", n_paths=2**14, rng=8, smoothing=False)
    paths = hz.simulate(s, scenario="base", n_paths=2**14, rng=8)
    j = list(paths.years).index(2023)
    met = np.array([paths[f"x{i}"][:, j] >= K[i] for i in range(3)])
    if rule["rule"] == "all":
        holds = met.all(axis=0)
    elif rule["rule"] == "at_least":
        holds = met.sum(axis=0) >= rule["k"]
    else:
        holds = np.asarray(W) @ met >= rule["threshold"]
    assert res.groups[0].p_all_in_year.count == int(holds.sum())


@pytest.mark.parametrize(
    "rule", RULES, ids=lambda r: f"{r['rule']}-{r.get('k', r.get('threshold', ''))}"
)
@pytest.mark.parametrize("method", ["mc", "qmc"])
def test_rule_probability_against_enumeration(doc, rule, method):
    """With smoothing (independent members given the parameters), against the enumeration of
    the members' outcomes with their closed-form probabilities."""
    s = three_doc(doc, rule)
    res = hz.assess(s, scenario="base", n_paths=2**14, rng=8, method=method)
    within(res.groups[0].p_all_in_year, by_enumeration(rule, marginals()))
    assert res.groups[0].p_all_in_year.value <= res.groups[0].p_all_by_year.value


def test_rule_probability_is_the_poisson_binomial():
    from hzforecast._assess.blockstats import rule_probability

    rng = np.random.default_rng(0)
    p = rng.random((7, 50))
    for k in range(1, 8):
        g = hz.TargetGroup(id="g", name_zh="组", name_en="G",
                           targets=tuple(f"t{i}" for i in range(7)),
                           rule="at_least", k=k, status="assumed", rationale="r")  # fmt: skip
        want = [by_enumeration({"rule": "at_least", "k": k}, p[:, j]) for j in range(50)]
        assert rule_probability(g, p) == pytest.approx(want, abs=1e-12)
    w = tuple(float(x) for x in rng.integers(1, 6, 7))
    g = hz.TargetGroup(id="g", name_zh="组", name_en="G",
                       targets=tuple(f"t{i}" for i in range(7)),
                       rule="score", weights=w, threshold=11.0, status="assumed",
                       rationale="r")  # fmt: skip
    want = [
        by_enumeration({"rule": "score", "weights": w, "threshold": 11.0}, p[:, j])
        for j in range(50)
    ]
    assert rule_probability(g, p) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize(
    ("rule", "match"),
    [
        ({"rule": "at_least"}, "k: rule 'at_least' needs k"),
        ({"rule": "at_least", "k": 4}, "k: rule 'at_least' needs k"),
        ({"rule": "all", "k": 2}, "k: only meaningful"),
        ({"rule": "score", "weights": [1.0, 2.0], "threshold": 1.0}, "one weight per target"),
        ({"rule": "score", "weights": [1.0, 2.0, 3.0], "threshold": 7.0}, "at most the total"),
        ({"rule": "score", "weights": [1.0, -2.0, 3.0], "threshold": 1.0}, "weights"),
        ({"rule": "all", "threshold": 1.0}, "only meaningful with rule 'score'"),
    ],
)
def test_rule_errors(doc, rule, match):
    with pytest.raises((ValidationError, hz.StudyFileError, ValueError), match=match):
        three_doc(doc, rule)


def test_status_agrees_with_probability_and_growth_over_random_studies(doc):
    """Random growths, volatilities and targets: the status is the probability's bucket, and a
    scenario whose median growth reaches the required growth has P(in year) ≥ 1/2 (and
    below it < 1/2), to within the Monte Carlo error."""
    rng = np.random.default_rng(20190128)
    for _ in range(12):
        d = {k: v for k, v in doc.items()}
        g = [float(x) for x in rng.uniform(-0.02, 0.15, 3)]
        s = [float(x) for x in rng.uniform(0.01, 0.12, 3)]
        k = [X0[i] * (1 + rng.uniform(-0.05, 0.15)) ** 5 for i in range(3)]
        st = three_doc(d | {}, {"rule": "all"})
        st = st.model_copy(
            update={
                "targets": tuple(t.model_copy(update={"value": float(k[i])})
                                 for i, t in enumerate(st.targets)),
                "scenarios": (st.scenarios[0].model_copy(update={"assumptions": tuple(
                    a.model_copy(update={"growth": hz.distributions.Fixed(value=g[i]),
                                         "volatility": s[i]})
                    for i, a in enumerate(st.scenarios[0].assumptions))}),),
            }
        )  # fmt: skip
        res = hz.assess(st, scenario="base", n_paths=2**12, rng=int(rng.integers(1 << 30)))
        for r in res.targets:
            p = r.p_in_year
            assert r.status == probability_status(p.value)
            if abs(p.value - 0.5) > 4 * p.se + 1e-3:
                assert (r.anticipated_growth >= r.required_growth) == (p.value >= 0.5)
        assert res.groups[0].status == probability_status(res.groups[0].p_all_in_year.value)


def test_share_growth_is_in_percentage_points(doc):
    res = hz.assess(make(doc), ["share-2023"], scenario="base", n_paths=2**12, rng=1)
    r = res["share-2023"]
    assert r.growth_unit == "pp"
    assert r.required_growth == pytest.approx((0.25 - 0.2) / 5)
    assert r.anticipated_growth == pytest.approx((r.value_quantiles[0.5] - 0.2) / 5)
    assert "+1.00pp" in str(res)  # (0.25 − 0.20)/5 a year, compact in the terminal


@pytest.mark.parametrize(
    "rule", RULES, ids=lambda r: f"{r['rule']}-{r.get('k', r.get('threshold', ''))}"
)
def test_probability_given_parameters_follows_the_rule(doc, rule):
    """What Sobol' indices evaluate for a group: its rule's probability given the inputs,
    against enumeration with the closed-form marginals (fixed growth: one design point)."""
    from hzforecast import _assess, _engine

    s = three_doc(doc, rule)
    model = _engine.compile_model(s, "base")
    g = s.group("g")
    plans = _assess.plan_targets(s, model, [s.target(t) for t in g.targets], strict=True)
    theta = np.array([[G[i]] for i in range(3)])  # the three fixed growths, one column
    y = _assess.probability_given_parameters(plans, model, theta, g)
    assert y[0] == pytest.approx(by_enumeration(rule, marginals()), rel=1e-9)
