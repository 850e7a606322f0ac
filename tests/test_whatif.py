"""What would it take: goal seek, tornado, stress, Sobol' indices, PRIM."""

import math

import numpy as np
import pytest

import hzforecast as hz
from hzforecast import closedform as cf
from hzforecast.cli import main
from hzforecast.sensitivity import ishigami, sobol_analyze, sobol_sample

from .conftest import make


def test_goal_seek_matches_the_closed_form(doc):
    """Fixed growth 7%, σ 5%, 100 → 140 in 5 years: the growth giving P = 0.8 is
    exp((ln 1.4 + σ√5 Φ⁻¹(0.8)) / 5) − 1."""
    res = hz.required_growth(
        make(doc), "gdp-2023", probability=0.8, scenario="base", n_paths=2**12, rng=1
    )
    exact = cf.required_drift(100, 140, sigma=0.05, years=5, probability=0.8)
    assert res.value == pytest.approx(exact, abs=1e-5)
    assert res.p_at_value == pytest.approx(0.8, abs=1e-5)
    assert res.baseline_value == pytest.approx(0.07)
    assert res.required_cagr == pytest.approx(1.4**0.2 - 1)
    assert res.bracket[0] <= res.value <= res.bracket[1]
    assert res.evaluations <= 12


def test_goal_seek_with_uncertain_growth_against_quadrature(jiaozuo):
    """蒙牛 120亿 in 2019: the shift of the triangular growth that makes P = 0.8, checked by
    evaluating the quadrature closed form at the answer."""
    from hzforecast.distributions import Triangular

    res = hz.required_growth(jiaozuo, "mengniu-2019", probability=0.8, n_paths=2**15, rng=2)
    d = res.shift
    p = cf.prob_level_uncertain_growth(
        108.9,
        120.0,
        growth_dist=Triangular(low=0.02 + d, mode=0.07 + d, high=0.12 + d),
        sigma=0.05,
        years=1,
    )
    assert p == pytest.approx(0.8, abs=1e-3)
    assert res.value == pytest.approx(0.07 + d)  # the triangle's mean moves with it
    text = str(res)
    assert "mengniu_output.growth" in text and "10.19% a year" in text


def test_goal_seek_errors(jiaozuo, doc):
    with pytest.raises(ValueError, match=r"probability: must be in \(0, 1\), got 1\.5"):
        hz.required_growth(jiaozuo, "mengniu-2019", probability=1.5)
    with pytest.raises(
        ValueError,
        match=r"lever: scenario 'baseline' has no assumption for "
        r"'mingren_output'",
    ):
        hz.required_growth(jiaozuo, "mengniu-2019", lever="mingren_output.growth")
    with pytest.raises(ValueError, match=r"lever: expected"):
        hz.required_growth(jiaozuo, "mengniu-2019", lever="growth")
    # a lever that does not move P: another indicator's growth
    with pytest.raises(ValueError, match=r"does not move P\(mengniu-2019\)"):
        hz.required_growth(
            jiaozuo, "mengniu-2019", lever="gdp.growth", n_paths=2**10, search=(-0.05, 0.05)
        )
    # unreachable within the search range: say so with the best value found
    with pytest.raises(
        ValueError,
        match=r"no gdp\.growth in \[-0\.01, 0\.01\] gives "
        r"P\(gdp-2023\) = 0\.99; the closest is P = 0\.\d+ at 0\.08",
    ):
        hz.required_growth(
            make(doc),
            "gdp-2023",
            probability=0.99,
            scenario="base",
            n_paths=2**10,
            search=(-0.01, 0.01),
        )


def test_tornado_against_direct_runs(jiaozuo):
    df = hz.tornado(jiaozuo, ["mengniu-2019"], n_paths=2**12, rng=3)
    top = df.iloc[0]
    assert top.assumption == "mengniu_output.growth"
    # an independent computation: the same P with the growth fixed at its 90th percentile
    from hzforecast.distributions import Triangular

    q90 = Triangular(low=0.02, mode=0.07, high=0.12).quantile(0.9)
    assert top.high_value == pytest.approx(q90)
    exact = cf.prob_level(108.9, 120.0, growth=q90, sigma=0.05, years=1)
    assert top.p_high == pytest.approx(exact, rel=1e-9)
    # assumptions of other indicators do not move this target at all (common random numbers)
    assert np.all(df.iloc[1:].swing.abs() < 1e-12)


def test_stress_against_brute_force(doc):
    doc["scenarios"][0]["assumptions"][0]["growth"] = {"dist": "uniform", "low": 0.0, "high": 0.14}
    res = hz.stress(
        make(doc),
        "gdp-2023",
        assumption="gdp.growth",
        band=(0.0, 0.1),
        scenario="base",
        n_paths=2**15,
        rng=4,
    )
    # in the lowest decile growth is uniform on [0, 0.014]: average the closed form over it
    g = np.linspace(0.0, 0.014, 2001)
    exact = np.mean([cf.prob_level(100, 140, growth=x, sigma=0.05, years=5) for x in g])
    assert abs(res["p"] - exact) < 4 * res["se"] + 1e-3 * exact
    assert res["values"][1] == pytest.approx(0.014, abs=5e-4)
    assert res["p"] < res["p_all"]


def test_sobol_on_ishigami():
    s = sobol_sample(3, n_base=2**13, rng=5)
    res = sobol_analyze(s, ishigami(s.points(bounds=[(-math.pi, math.pi)] * 3)), rng=5)
    # analytic values (Ishigami & Homma 1990; a = 7, b = 0.1)
    np.testing.assert_allclose(res.first, [0.3139, 0.4424, 0.0], atol=0.03)
    np.testing.assert_allclose(res.total, [0.5576, 0.4424, 0.2437], atol=0.03)
    for i, (lo, hi) in enumerate(res.total_ci):
        assert lo <= [0.5576, 0.4424, 0.2437][i] <= hi


def test_sobol_refuses_outputs_of_another_design():
    s = sobol_sample(3, n_base=2**6, rng=1)
    y = np.zeros(2**6 * 4)  # as if drawn with 2 inputs
    with pytest.raises(
        ValueError,
        match=r"y: the sample was drawn with n_base=64 and d=3 "
        r"inputs, so it needs 320 outputs \(N\(d \+ 2\)\); got shape \(256,\)",
    ):
        sobol_analyze(s, y)
    with pytest.raises(ValueError, match=r"n_base: must be a power of two >= 2, got 100"):
        sobol_sample(3, n_base=100)


def test_sobol_of_the_2025_profile(jiaozuo):
    res = hz.sobol_indices(jiaozuo, "innovative-park-2025", n_base=2**11, rng=6)
    f = res.to_frame().set_index("input")
    # only the inputs of the profile's indicators matter; the rest have zero total index
    for name in ("budget_revenue.growth", "mengniu_output.growth", "sei_share.growth"):
        assert abs(f.loc[name, "total"]) < 1e-12
    assert f.index[0] == "hightech_share.growth"
    assert "rank correlation" in res.note


def test_prim_finds_a_known_box():
    rng = np.random.default_rng(8)
    x = rng.random((20_000, 4))
    y = ((x[:, 0] > 0.6) & (x[:, 2] < 0.3)).astype(float)
    res = hz.prim(x, y, ["a", "b", "c", "d"], alpha=0.05)
    i = res.choose(0.95)
    box = res.box(i)
    assert set(box.bounds) >= {"a", "c"}
    assert box.bounds["a"][0] == pytest.approx(0.6, abs=0.03)
    assert box.bounds["c"][1] == pytest.approx(0.3, abs=0.03)
    assert box.density >= 0.95 and box.coverage > 0.8
    assert "a ≥ 0." in res.rules(i)


def test_discover_on_the_profile(jiaozuo):
    res = hz.discover(jiaozuo, "innovative-park-2025", scenario="optimistic", n_paths=2**13, rng=9)
    i = res.choose(0.8)
    b = res.box(i)
    # the box's reported density is the share of its paths meeting every target
    assert b.density >= 0.8
    assert res.trajectory[0].density == pytest.approx(res.base_density)
    assert "hightech_share.growth" in b.bounds


def test_cli_whatif_sensitivity_discover(capsys):
    assert main(["whatif", "jiaozuo-2019", "--target", "mengniu-2019", "--paths", "4096"]) == 0
    assert "needs mengniu_output.growth = 15.2" in capsys.readouterr().out
    assert (
        main(
            [
                "sensitivity",
                "jiaozuo-2019",
                "--target",
                "innovative-park-2025",
                "--method",
                "sobol",
                "--paths",
                "1024",
            ]
        )
        == 0
    )
    assert "hightech_share.growth" in capsys.readouterr().out
    assert (
        main(
            [
                "discover",
                "jiaozuo-2019",
                "--group",
                "innovative-park-2025",
                "--paths",
                "8192",
                "--scenario",
                "optimistic",
            ]
        )
        == 0
    )
    assert "Chosen box" in capsys.readouterr().out
    assert main(["whatif", "jiaozuo-2019", "--target", "mengniu-2019", "--paths", "1000"]) == 2
    assert "power of two" in capsys.readouterr().err


def test_goal_seek_and_tornado_with_an_executor_are_identical(jiaozuo):
    from concurrent.futures import ProcessPoolExecutor

    a = hz.required_growth(jiaozuo, "mengniu-2019", n_paths=2**13, rng=5)
    t1 = hz.tornado(jiaozuo, ["mengniu-2019"], n_paths=2**13, rng=5)
    with ProcessPoolExecutor(2) as ex:
        b = hz.required_growth(jiaozuo, "mengniu-2019", n_paths=2**13, rng=5, executor=ex)
        t2 = hz.tornado(jiaozuo, ["mengniu-2019"], n_paths=2**13, rng=5, executor=ex)
    assert a == b
    assert t1.equals(t2)


def test_discovered_box_density_by_an_independent_count(jiaozuo):
    """Recount the chosen box's density from the paths directly (numpy on the values)."""
    res = hz.discover(jiaozuo, "innovative-park-2025", scenario="optimistic", n_paths=2**13, rng=9)
    b = res.box(res.choose(0.8))
    paths = hz.simulate(jiaozuo, scenario="optimistic", n_paths=2**13, rng=9)
    yi = {int(y): i for i, y in enumerate(paths.years)}
    g = jiaozuo.group("innovative-park-2025")
    score = np.zeros(paths.n_paths)
    for tid, w in zip(g.targets, g.weights, strict=True):  # the group's weighted score
        t = jiaozuo.target(tid)
        x = paths[t.indicator]
        if t.measure == "cagr":
            ratio = x[:, yi[t.year]] / x[:, yi[t.base_year]]
            ok = ratio ** (1 / (t.year - t.base_year)) - 1 >= t.value
        else:
            ok = x[:, yi[t.year]] >= t.value
        score += w * ok
    met = score >= g.threshold
    inside = np.ones(paths.n_paths, dtype=bool)
    for name, (lo, hi) in b.bounds.items():
        inside &= (paths.params[name] >= lo) & (paths.params[name] <= hi)
    assert inside.sum() == b.n
    assert met[inside].mean() == pytest.approx(b.density, abs=1e-12)
    assert met[inside].sum() / met.sum() == pytest.approx(b.coverage, abs=1e-12)


def test_sobol_with_an_executor_is_identical(jiaozuo):
    from concurrent.futures import ThreadPoolExecutor

    a = hz.sobol_indices(jiaozuo, "innovative-park-2025", n_base=2**8, rng=2)
    with ThreadPoolExecutor(2) as ex:
        b = hz.sobol_indices(jiaozuo, "innovative-park-2025", n_base=2**8, rng=2, executor=ex)
    np.testing.assert_array_equal(a.first, b.first)
    np.testing.assert_array_equal(a.total_ci, b.total_ci)


def test_too_few_paths_for_the_method(jiaozuo):
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError, match=r"x: PRIM needs at least 20 paths, got 10"):
        hz.prim(rng.random((10, 2)), np.ones(10))
    with pytest.raises(ValueError, match=r"y: no path meets the target"):
        hz.prim(rng.random((100, 2)), np.zeros(100))
    with pytest.raises(
        ValueError,
        match=r"band: only \d path\(s\) fall in the band; use more "
        r"paths",
    ):
        hz.stress(
            jiaozuo,
            "mengniu-2019",
            assumption="mengniu_output.growth",
            band=(0.5, 0.5001),
            n_paths=64,
        )
    with pytest.raises(ValueError, match=r"assumption: 'gdp.volatility' is not a drawn parameter"):
        hz.stress(jiaozuo, "mengniu-2019", assumption="gdp.volatility", n_paths=64)


@pytest.mark.parametrize("rng", [3, "generator"])
def test_common_random_numbers_whatever_rng_is(jiaozuo, rng):
    """Issue 13: a numpy Generator passed as rng broke the common random numbers — a lever
    on an unrelated indicator moved P by up to 1.7e-4. With an int or a Generator it moves
    P by exactly 0."""
    r = np.random.default_rng(3) if rng == "generator" else rng
    df = hz.tornado(jiaozuo, ["mengniu-2019"], n_paths=2**12, rng=r)
    other = df[df.assumption == "hte_national.growth"]
    assert len(other) == 1
    assert other.p_low.iloc[0] == other.p_base.iloc[0] == other.p_high.iloc[0]
    own = df[df.assumption == "mengniu_output.growth"]
    assert own.p_high.iloc[0] > own.p_base.iloc[0] > own.p_low.iloc[0]


def test_goal_seek_is_as_precise_with_a_generator(jiaozuo):
    a = hz.required_growth(jiaozuo, "mengniu-2019", n_paths=2**12, rng=3)
    b = hz.required_growth(jiaozuo, "mengniu-2019", n_paths=2**12, rng=np.random.default_rng(3))
    assert b.evaluations == a.evaluations  # was 14 against 10
    assert b.se < 2 * a.se  # was 8.9e-4 against 3.2e-4


def test_tornado_takes_groups_and_shows_their_joint_swing():
    """#16: the API accepted targets only; a group's row is its joint probability moving."""
    from pathlib import Path

    s = hz.load_study(Path(__file__).resolve().parents[1] / "examples" / "xinxiang-toy.toml")
    t = hz.tornado(s, ["plan-2025"], n_paths=1024, rng=3)
    assert set(t["kind"]) == {"group"} and set(t["target"]) == {"plan-2025"}
    members = hz.tornado(s, ["gdp-2025", "rd-2025"], n_paths=1024, rng=3)
    # the group's swing under gdp.growth is not any member's: it is the joint probability
    g = t.set_index("assumption").loc["gdp.growth", "swing"]
    m = members.set_index(["target", "assumption"]).loc[("gdp-2025", "gdp.growth"), "swing"]
    assert 0 < g < m
    # an assumption that does not touch a target moves it by exactly 0 (common random numbers)
    assert (
        members.set_index(["target", "assumption"]).loc[("gdp-2025", "rd_share.growth"), "swing"]
        == 0.0
    )
    # p_base of the group is the group's P as assessed
    res = hz.assess(s, groups=["plan-2025"], n_paths=1024, rng=3, method="qmc")
    assert t["p_base"].iloc[0] == res.group("plan-2025").p_all_in_year.value


def test_a_volatility_lever_searches_volatilities_and_says_so():
    from pathlib import Path

    s = hz.load_study(Path(__file__).resolve().parents[1] / "examples" / "xinxiang-toy.toml")
    with pytest.raises(
        ValueError, match=r"lever: gdp\.volatility is σ of the yearly shock .*got -0\.5"
    ):
        hz.whatif.apply_lever(s, "plan", "gdp.volatility", -0.5)
    r = hz.required_growth(
        s, "gdp-2025", probability=0.6, lever="gdp.volatility", n_paths=1024, rng=1
    )
    assert 0 < r.value <= 1 and r.scenario == "plan"


def test_prim_rules_name_only_the_inputs_that_decide():
    """#16: peeling restricts inputs that merely happened to help; the rule prunes them."""
    rng = np.random.default_rng(0)
    x = rng.random((4000, 4))
    y = ((x[:, 0] > 0.6) & (x[:, 1] > 0.3)).astype(float)  # inputs 3 and 4 are noise
    res = hz.prim(x, y, ["a", "b", "c", "d"])
    i = res.choose(0.9)
    kept = res.pruned(i).bounds
    assert set(kept) <= {"a", "b"} and "a" in kept
    # pruning costs less than a point of density
    assert res.pruned(i).density > res.box(i).density - 0.01


def test_discover_uses_the_groups_rule(jiaozuo):
    """A weighted-score group is discovered by its own rule, not as 'all members met'."""
    r = hz.discover(jiaozuo, "innovative-park-2025", n_paths=2**13, rng=1)
    p = hz.assess(jiaozuo, groups=["innovative-park-2025"], n_paths=2**13, rng=1, smoothing=False)
    assert r.base_density == p.group("innovative-park-2025").p_all_in_year.value
