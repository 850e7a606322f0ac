"""The track record of plans, as docs/trackrecord.md shows it (run by ``make docs``).

Writes Markdown to stdout: the record by indicator and year, the gap models, the
leave-one-year-out Brier scores and reliability table, and the Jiaozuo 2019 growth targets
under the plan read as a forecast (baseline) and under the track record, side by side.
"""

from __future__ import annotations

import sys

import hzforecast as hz
from hzforecast import trackrecord as tr

SEED = 20190128
N_PATHS = 2**16
MAIN = ("gdp_growth", "budget_revenue", "fixed_asset_investment")


def table(df, floatfmt="{:.3f}") -> str:
    cols = [*df.index.names, *df.columns]
    out = ["| " + " | ".join(str(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in df.iterrows():
        idx = idx if isinstance(idx, tuple) else (idx,)
        cells = [str(i) for i in idx]
        for v in row:
            cells.append(
                f"{int(v)}" if float(v).is_integer() and abs(v) > 1 else floatfmt.format(v)
            )
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    r = hz.reference.plans()
    w = sys.stdout.write
    w(f"Record: {r!r}\n\n")
    w("### Outcome − target (percentage points) by indicator and year\n\n")
    d = r.describe()
    names = [tr.INDICATORS[a] for a in (*MAIN, "urban_income", "rural_income")]
    d = d[d.index.get_level_values(0).isin(names)]
    w(table(d, "{:.2f}") + "\n\n")
    w(
        "hit_rate: share of targets met (outcome ≥ lower end); on_floor: met within 0.1 pp of the "
        "lower end; gap quantiles by the inverted CDF.\n\n"
    )
    w("### The gap models (all four years)\n\n")
    for a in MAIN:
        w(f"* {r.fit(a).describe()}\n")
    w("\n### Leave one year out: Brier scores (lower is better)\n\n")
    b = r.brier()
    w(table(b, "{:.3f}") + "\n\n")
    w(
        "model: the gap model fitted on the other three years; climatology: their hit rate; plan: "
        "the plan read as a forecast (½ for a point target).\n\n"
    )
    w("### Reliability of the leave-one-year-out predictions (GDP and budget revenue)\n\n")
    rel = r.reliability()
    rel.index = rel.index.astype(str)
    w(table(rel, "{:.3f}") + "\n\n")
    w("### Jiaozuo's 2019 growth targets: the plan as a forecast and the track record\n\n")
    s = hz.load_study("jiaozuo-2019")
    runs = {sc: hz.assess(s, scenario=sc, n_paths=N_PATHS, rng=SEED) for sc in
            ("baseline", "track-record")}  # fmt: skip
    w(f"{N_PATHS:,} paths each, Monte Carlo, seed {SEED}; P(in year) ± its Monte Carlo SE.\n\n")
    w("| target | baseline (plan as forecast) | track record | what the track record rests on |\n")
    w("|---|---|---|---|\n")
    for t in (
        "gdp-growth-2019",
        "budget-revenue-growth-2019",
        "fixed-asset-investment-growth-2019",
    ):
        a = s.scenario("track-record").assumption(s.target(t).indicator)
        rec = a.track_record
        w(
            f"| {t} ({s.target(t).describe()}) | {runs['baseline'][t].p_in_year.text()} "
            f"({runs['baseline'][t].status}) | {runs['track-record'][t].p_in_year.text()} "
            f"({runs['track-record'][t].status}) | {rec.targets} provincial targets, "
            f"{rec.provinces} provinces, {rec.years[0]}–{rec.years[1]}; hit rate "
            f"{rec.hit_rate:.2f} |\n"
        )
    w(
        "\nThe baseline judges nominal growth of an assumed 8–8.5% a year with a 3% shock; the "
        "track record judges the outcome provinces achieved against targets like it (real growth "
        "for GDP). Both are assumptions; neither is a fact about 2019.\n"
    )


if __name__ == "__main__":
    main()
