"""Every output the docs print, generated from the code (``make docs`` runs this).

Writes text files into docs/generated/ that the pages include, so that what a page shows is what
the library prints with the same seed — never typed by hand.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import hzforecast as hz
from hzforecast.cli import main

OUT = Path(__file__).resolve().parents[1] / "docs" / "generated"
SEED = 20190128


def cli(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        main(list(args))
    return (out.getvalue() + err.getvalue()).rstrip() + "\n"


def write(name: str, text: str) -> None:
    path = OUT / name
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    print(f"wrote {path.relative_to(OUT.parents[1])}", file=sys.stderr)


def main_() -> None:
    OUT.mkdir(exist_ok=True)
    study = hz.load_study("jiaozuo-2019")
    run = ("run", "jiaozuo-2019", "--paths", "100000", "--seed", str(SEED), "--no-progress")
    write("demo-baseline.txt", cli(*run, "--scenario", "baseline", "--no-audit"))
    write("demo-track-record.txt", cli(*run, "--scenario", "track-record", "--no-audit"))
    write("demo-baseline-zh.txt", cli(*run, "--scenario", "baseline", "--no-audit", "--lang", "zh"))
    write("audit.txt", cli("audit", "jiaozuo-2019"))
    write(
        "whatif-required.txt",
        str(hz.required_growth(study, "mengniu-2019", probability=0.8)) + "\n",
    )
    write(
        "tornado.txt",
        cli(
            "sensitivity",
            "jiaozuo-2019",
            "--target",
            "innovative-park-2025",
            "--scenario",
            "baseline",
        ),
    )
    write("sobol.txt", str(hz.sobol_indices(study, "innovative-park-2025", n_base=2**10)) + "\n")
    st = hz.stress(study, "profile-2025-gdp-cagr", assumption="gdp.growth", band=(0, 0.1))
    write(
        "stress.txt",
        "P(profile-2025-gdp-cagr | gdp.growth in its lowest decile) = "
        f"{st['p']:.3f} ± {st['se']:.2g} "
        f"({st['n']:,} paths in the band); {st['p_all']:.3f} over all paths\n",
    )
    res = hz.discover(study, "innovative-park-2025", scenario="optimistic")
    i = res.choose(0.8)
    write("discover.txt", res.rules(i, what="the 2025 profile") + f"   (step {i})\n")
    write(
        "cli-error.txt",
        "$ hzforecast run jiaozuo-2019 --scenario worst\n"
        + cli("run", "jiaozuo-2019", "--scenario", "worst"),
    )


if __name__ == "__main__":
    main_()
