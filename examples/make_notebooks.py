"""Write the example notebooks (run once by developers; the notebooks are committed without
outputs and executed by the test suite)."""

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).parent


def nb(cells):
    book = nbf.v4.new_notebook()
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    book.cells = [
        nbf.v4.new_markdown_cell(c[3:]) if c.startswith("md:") else nbf.v4.new_code_cell(c)
        for c in cells
    ]
    return book


WALKTHROUGH = [
    "md:# 焦作高新区 2019 — a walkthrough\n\nLoad the built-in study, read its figures and "
    "their sources, check them, and ask how reachable each target is — and what it would take.",
    "import hzforecast as hz\nstudy = hz.load_study('jiaozuo-2019')\nstudy",
    "md:## What does not add up\n\nThe article's 2018 GDP of 14195亿元 contradicts its own "
    "'增长35倍'; the audit finds it and suggests 141.95亿元.",
    "audit = study.audit()\naudit",
    "md:## Reachability of every target, baseline scenario",
    "res = hz.assess(study, scenario='baseline', n_paths=2**16, rng=2019, method='qmc')\nres",
    "res['mengniu-2019'].p_in_year",
    "md:## A fan chart of GDP and of the 蒙牛 cluster with its 120亿 target",
    "import matplotlib.pyplot as plt\nfrom hzforecast import plot\n"
    "paths = hz.simulate(study, scenario='baseline', n_paths=20_000, rng=2019)\n"
    "fig, axs = plt.subplots(1, 2, figsize=(12, 4))\n"
    "plot.fan_chart(paths, 'gdp', study=study, ax=axs[0], lang='zh')\n"
    "plot.fan_chart(paths, 'mengniu_output', study=study, target='mengniu-2019', ax=axs[1])\n"
    "fig.tight_layout()",
    "md:## Scenarios side by side (common random numbers)",
    "table, results = hz.compare_scenarios(study, n_paths=2**15, rng=2019)\ntable",
    "plot.scenario_comparison(results);",
    "md:## What would it take?",
    "print(hz.required_growth(study, 'mengniu-2019', probability=0.8, n_paths=2**14))",
    "tor = hz.tornado(study, ['profile-2025-hte', 'profile-2025-hightech-share'], n_paths=2**13)\n"
    "tor[tor.swing.abs() > 1e-6]",
    "print(hz.sobol_indices(study, 'innovative-park-2025', n_base=2**11, rng=1))",
    "found = hz.discover(study, 'innovative-park-2025', scenario='optimistic', n_paths=2**14)\n"
    "i = found.choose(0.8)\nprint(found.rules(i, what='the 2025 profile'))\n"
    "plot.prim_tradeoff(found, chosen=i);",
    "md:## Growth learned from the history (two points each)",
    "for name in ['gdp', 'urban_income', 'rural_income']:\n"
    "    print(hz.fit(study.indicator(name)).summary(), '\\n')",
]

FROM_SCRATCH = [
    "md:# A study from scratch\n\nA zone with a handful of figures from its work report "
    "(invented for this example): GDP in 2012 and 2020, R&D intensity in 2020, and two 2025 "
    "targets. We fit growth from the history, turn the fits into a scenario and assess.",
    "import pandas as pd\nimport hzforecast as hz\n\n"
    "doc = {\n"
    "    'id': 'example-zone-2021', 'name_zh': '示例高新区', 'name_en': 'Example zone',\n"
    "    'sources': [\n"
    "        {'id': 'report', 'title': '2021年政府工作报告', 'date': '2021-02-01', 'kind': 'report'},\n"
    "        {'id': 'analyst', 'title': 'Our assumptions', 'date': '2021-03-01', 'kind': 'assumption'},\n"
    "    ],\n"
    "    'indicators': [\n"
    "        {'id': 'gdp', 'name_zh': '地区生产总值', 'name_en': 'GDP', 'unit': '亿元', 'kind': 'level',\n"
    "         'observations': [\n"
    "             {'year': 2012, 'value': 62.0, 'text': '62亿元', 'source': 'report'},\n"
    "             {'year': 2020, 'value': 118.5, 'text': '118.5亿元', 'source': 'report'}]},\n"
    "        {'id': 'rd_share', 'name_zh': '研发投入强度', 'name_en': 'R&D intensity', 'unit': '%',\n"
    "         'kind': 'share', 'observations': [\n"
    "             {'year': 2020, 'value': 0.024, 'text': '2.4%', 'source': 'report'}]},\n"
    "    ],\n"
    "    'targets': [\n"
    "        {'id': 'gdp-2025', 'indicator': 'gdp', 'year': 2025, 'comparator': '>=', 'value': 180.0,\n"
    "         'status': 'stated', 'source': 'report', 'quote': '到2025年地区生产总值达到180亿元'},\n"
    "        {'id': 'rd-2025', 'indicator': 'rd_share', 'year': 2025, 'comparator': '>=',\n"
    "         'value': 0.03, 'status': 'stated', 'source': 'report', 'quote': '研发投入强度达到3%'},\n"
    "    ],\n"
    "}\n"
    "study = hz.Study.model_validate(doc)\nstudy",
    "md:## Fit growth from the history\n\nGDP has two points eight years apart; the R&D "
    "intensity one point, so its drift comes from a prior — here the plan's, 'rising to 3% by "
    "2025' (about 4.6% a year).",
    "gdp_fit = hz.fit(study.indicator('gdp'))\n"
    "rd_fit = hz.fit(study.indicator('rd_share'), prior=hz.GrowthPrior.from_plan(0.03, 0.06))\n"
    "print(gdp_fit.summary())\nprint(rd_fit.summary())\ngdp_fit.forecast(5)",
    "md:## A scenario made of the fits, and the assessment",
    "scenario = hz.Scenario(id='fitted', name_zh='拟合', name_en='Fitted', base_year=2020,\n"
    "                       end_year=2025, rationale='growth learned from the history',\n"
    "                       assumptions=(gdp_fit.to_assumption(), rd_fit.to_assumption()))\n"
    "study = hz.Study.model_validate({**study.to_dict(), 'scenarios': [scenario.model_dump(mode='json', exclude_none=True)]})\n"
    "res = hz.assess(study, scenario='fitted', n_paths=2**15, rng=1, method='qmc')\nres",
    "print('fit alone:', round(gdp_fit.prob_reach(180.0, 2025), 3))",
    "md:## Save it as a study file",
    "import tempfile, pathlib\n"
    "path = pathlib.Path(tempfile.mkdtemp()) / 'example-zone.toml'\n"
    "hz.write_study(study, path)\n"
    "assert hz.load_study(path) == study\nprint(path.read_text()[:400])",
]

if __name__ == "__main__":
    nbf.write(nb(WALKTHROUGH), HERE / "jiaozuo_walkthrough.ipynb")
    nbf.write(nb(FROM_SCRATCH), HERE / "study_from_scratch.ipynb")
