"""The ``hzforecast`` command line.

::

    hzforecast show STUDY [--lang en|zh]
    hzforecast audit STUDY
    hzforecast run STUDY [--scenario S ...] [--paths N] [--seed S] [--method M]
                         [--format table|csv|json] [--lang en|zh]
    hzforecast forecast FILE.csv --horizon H [--levels 80,95] [--quantiles 0.05,0.5,0.95]
                         [--targets TARGETS.csv] [--format csv|json]
    hzforecast whatif STUDY --target T [--probability 0.8] [--lever IND.growth]
    hzforecast sensitivity STUDY --target T [--method tornado|sobol]
    hzforecast discover STUDY --group G
    hzforecast report STUDY --out DIR [--scenario S ...] [--lang zh|en] [--force]

STUDY is a built-in name (``jiaozuo-2019``) or a path to a .toml/.json study file.
Errors print one line to standard error and exit with status 2 (bad input) or 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from concurrent.futures import BrokenExecutor

import numpy as np

from . import __version__
from .io import StudyFileError, load_study

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line, exit 2
        self.exit(2, f"hzforecast: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        v = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def _standard_error(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 0.002, got {text!r}") from None
    if not 0 < v < 0.5:
        raise argparse.ArgumentTypeError(
            f"a probability's standard error must be in (0, 0.5), got {text}"
        )
    return v


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be non-negative, got {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="hzforecast", description="Reachability of development targets.")
    p.add_argument("--version", action="version", version=f"hzforecast {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("show", help="indicators and targets with their sources")
    s.add_argument("study")
    s.add_argument("--lang", choices=["en", "zh"], default="en")

    s = sub.add_parser("audit", help="check the study's figures against each other")
    s.add_argument("study")

    s = sub.add_parser("run", help="P(reach) of every target, per scenario")
    s.add_argument("study")
    s.add_argument("--scenario", action="append", help="scenario id (repeatable; default: all)")
    s.add_argument("--paths", type=_positive_int, default=100_000, help="paths per scenario")
    s.add_argument(
        "--target-se",
        type=_standard_error,
        default=None,
        help="double the paths (from --paths) until every P's standard error is at most this",
    )
    s.add_argument("--seed", type=_seed, default=20190128, help="seed (default 20190128)")
    s.add_argument("--method", choices=["mc", "antithetic", "qmc"], default="mc")
    s.add_argument("--format", choices=["table", "csv", "json"], default="table")
    s.add_argument("--no-bom", action="store_true", help="CSV without the UTF-8 byte-order mark")
    s.add_argument("--lang", choices=["en", "zh"], default="en")
    s.add_argument(
        "--corrections",
        choices=["use", "ignore"],
        default="use",
        help="start from the study's corrected alternatives (default) or stated figures",
    )
    s.add_argument("--workers", type=_positive_int, default=1, help="worker processes")
    s.add_argument("--no-audit", action="store_true", help="do not print the audit findings")
    s.add_argument("--no-progress", action="store_true")

    s = sub.add_parser("whatif", help="the growth a target needs for a given probability")
    s.add_argument("study")
    s.add_argument("--target", required=True)
    s.add_argument("--probability", type=float, default=0.8)
    s.add_argument("--lever", default=None, help="default: the target's indicator .growth")
    s.add_argument("--scenario", default=None, help="default: the study's default scenario")
    s.add_argument("--paths", type=_positive_int, default=2**15)
    s.add_argument("--seed", type=_seed, default=20190128)

    s = sub.add_parser("sensitivity", help="which assumptions decide P(reach)")
    s.add_argument("study")
    s.add_argument("--target", required=True, help="a target or a target group")
    s.add_argument("--method", choices=["tornado", "sobol"], default="tornado")
    s.add_argument("--scenario", default=None, help="default: the study's default scenario")
    s.add_argument(
        "--paths",
        type=_positive_int,
        default=2**14,
        help="paths per run (tornado) or base points (sobol, a power of two)",
    )
    s.add_argument("--seed", type=_seed, default=20190128)

    s = sub.add_parser("discover", help="PRIM: conditions under which a group is met")
    s.add_argument("study")
    s.add_argument("--group", required=True, help="a target group (or a single target)")
    s.add_argument("--scenario", default=None, help="default: the study's default scenario")
    s.add_argument("--paths", type=_positive_int, default=2**15)
    s.add_argument("--seed", type=_seed, default=20190128)
    s.add_argument("--min-density", type=float, default=0.8)

    s = sub.add_parser("report", help="write an HTML report and a Markdown summary")
    s.add_argument("study")
    s.add_argument("--out", required=True, help="folder to write report.html and summary.md")
    s.add_argument("--scenario", action="append", help="scenario id (repeatable; default: all)")
    s.add_argument("--lang", choices=["en", "zh"], default="en")
    s.add_argument("--paths", type=_positive_int, default=100_000)
    s.add_argument("--seed", type=_seed, default=20190128)
    s.add_argument("--force", action="store_true", help="replace an existing report")

    s = sub.add_parser("forecast", help="fit and forecast every series of a long CSV file")
    s.add_argument("file", help="CSV with columns series,year,value")
    s.add_argument("--horizon", type=_positive_int, required=True, help="years ahead")
    s.add_argument("--levels", default="80,95", help="interval levels, e.g. 80,95")
    s.add_argument("--quantiles", default=None, help="extra quantiles, e.g. 0.05,0.5,0.95")
    s.add_argument("--targets", default=None, help="CSV with columns series,year,threshold")
    s.add_argument("--format", choices=["csv", "json"], default="csv")
    s.add_argument("--no-bom", action="store_true", help="CSV without the UTF-8 byte-order mark")
    s.add_argument("--workers", type=_positive_int, default=1, help="worker processes")
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:  # no command: the usage, as --help gives it
        build_parser().print_help()
        return 0
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed its one line (or --help / --version)
        return int(exc.code or 0)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        # Ctrl-C: one line, the shell's code for SIGINT; results are printed only when
        # complete and reports are written atomically, so nothing is half-written
        print("hzforecast: interrupted", file=sys.stderr)
        return 130
    except BrokenExecutor:
        print(
            "hzforecast: error: a worker process died (killed, or out of memory); nothing was "
            "written — rerun with fewer --workers or --paths",
            file=sys.stderr,
        )
        return 1
    except MemoryError:
        print(
            "hzforecast: error: out of memory; nothing was written — rerun with fewer --paths",
            file=sys.stderr,
        )
        return 1
    except StudyFileError as exc:
        first = str(exc).splitlines()
        more = f" (and {len(first) - 1} more problem(s))" if len(first) > 1 else ""
        print(f"hzforecast: error: {first[0]}{more}", file=sys.stderr)
        for line in first[1:]:
            print(f"  {line}", file=sys.stderr)
        return 2
    except (ValueError, KeyError, TypeError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"hzforecast: error: {msg}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into head
        return 0


def _dispatch(args) -> int:
    if args.command == "forecast":
        return _forecast(args)
    study = load_study(args.study)
    if args.command == "show":
        print(study.summary(lang=args.lang))
        return 0
    if args.command == "audit":
        found = study.audit()
        print(found)
        # an ERROR finding is a figure that cannot be right: exit 1, as a linter does
        return 1 if any(f.severity == "error" for f in found.findings) else 0
    if args.command == "run":
        return _run(study, args)
    if args.command in ("whatif", "sensitivity", "discover"):
        given = args.scenario is not None
        args.scenario = study.scenario_id(args.scenario)
        sc = study.scenario(args.scenario)
        print(
            f"Scenario {sc.id!r} ({sc.name_en})"
            + ("" if given else " — the study's default; choose another with --scenario")
        )
    if args.command == "whatif":
        from .whatif import required_growth

        res = required_growth(
            study,
            args.target,
            probability=args.probability,
            lever=args.lever,
            scenario=args.scenario,
            n_paths=_pow2(args.paths),
            rng=args.seed,
        )
        print(res)
        return 0
    if args.command == "sensitivity":
        return _sensitivity(study, args)
    if args.command == "report":
        from .report import write_report

        try:
            out = write_report(
                study,
                args.out,
                scenarios=args.scenario,
                lang=args.lang,
                n_paths=args.paths,
                rng=args.seed,
                force=args.force,
            )
        except FileExistsError as exc:
            raise ValueError(str(exc)) from None
        print(f"wrote {out / 'report.html'} and {out / 'summary.md'}")
        return 0
    if args.command == "discover":
        from .discover import discover

        if not 0 < args.min_density <= 1:
            raise ValueError(f"--min-density: must be in (0, 1], got {args.min_density}")
        res = discover(study, args.group, scenario=args.scenario, n_paths=args.paths, rng=args.seed)
        i = res.choose(args.min_density)
        print(res.to_frame().to_string(index=False))
        print(f"\nChosen box (step {i}): " + res.rules(i, what=args.group))
        return 0
    raise AssertionError(args.command)  # pragma: no cover - argparse rejects others


def _run(study, args) -> int:
    from .assess import assess

    scenarios = args.scenario or [s.id for s in study.scenarios]
    if not scenarios:
        raise ValueError(f"study {study.id!r} has no scenarios to run")
    for sid in scenarios:
        study.scenario(sid)  # unknown names fail before any work
    n = args.paths
    if args.method == "qmc" and n & (n - 1):
        up = 1 << (n - 1).bit_length()  # Sobol' points come in powers of two
        print(
            f"note: --method qmc uses a power of two; {n:,} paths rounded up to {up:,}",
            file=sys.stderr,
        )
        n = up
    seq = np.random.SeedSequence(args.seed)
    with _pool(args.workers) as ex:
        results = [
            assess(
                study,
                scenario=sid,
                n_paths=n,
                rng=seq,
                method=args.method,
                corrections=args.corrections,
                progress=False if args.no_progress else None,
                executor=ex,
                target_se=args.target_se,
            )
            for sid in scenarios
        ]
    if args.format == "table":
        from ._assess import comparison_table

        blocks = [r.table(lang=args.lang) for r in results]
        if len(results) > 1:  # the plan and what provinces did, side by side
            blocks.append(comparison_table(results, lang=args.lang))
        print(("\n\n").join(blocks))
        if not args.no_audit:
            print()
            print(study.audit().text(args.lang))
    elif args.format == "csv":
        import pandas as pd

        frames = []
        for r in results:
            f = r.to_frame()
            f.insert(0, "scenario", r.scenario_id)
            f.insert(1, "n_paths", r.n_paths)
            f.insert(2, "method", r.method)
            f.insert(3, "seed", args.seed)
            frames.append(f)
        _write_csv(pd.concat(frames, ignore_index=True), bom=not args.no_bom)
    else:
        out = []
        for r in results:
            rows = r.to_frame().to_dict(orient="records")
            out.append(
                {
                    "scenario": r.scenario_id,
                    "n_paths": r.n_paths,
                    "method": r.method,
                    "seed": args.seed,
                    "corrections": [str(c) for c in r.corrections],
                    "assumptions": list(r.assumed),
                    "targets": rows,
                }
            )
        print(_json({"study": study.id, "results": out}, indent=2))
    return 0


@contextlib.contextmanager
def _pool(workers: int):
    """A process pool for ``--workers`` > 1, else nothing (serial, the same numbers). On an
    error or Ctrl-C the pool is shut down without waiting for queued work."""
    if workers <= 1:
        yield None
        return
    from concurrent.futures import ProcessPoolExecutor

    ex = ProcessPoolExecutor(workers)
    try:
        yield ex
    except BaseException:
        ex.shutdown(wait=False, cancel_futures=True)
        raise
    ex.shutdown(wait=True)


def _pow2(n: int) -> int:
    if n & (n - 1):
        raise ValueError(f"--paths: the QMC runs need a power of two, got {n}")
    return n


def _sensitivity(study, args) -> int:
    if args.method == "tornado":
        from .whatif import tornado

        t = args.target
        # a group: its joint swing first, then its members'
        targets = [t, *study.group(t).targets] if t in {g.id for g in study.groups} else [t]
        df = tornado(
            study, targets, scenario=args.scenario, n_paths=_pow2(args.paths), rng=args.seed
        )
        zero = df["swing"].abs() <= 1e-12
        moved = set(df.loc[~zero, "assumption"])
        still = [a for a in dict.fromkeys(df.loc[zero, "assumption"]) if a not in moved]
        df = df[~zero]
        print(df.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        print(
            "\n(each assumption at its 10th and 90th percentile, the others as distributed; "
            "rows with a swing of exactly 0 are left out)"
        )
        if still:
            print(f"no effect on any of these targets: {', '.join(still)}")
    else:
        from .sensitivity import sobol_indices

        print(
            sobol_indices(
                study, args.target, scenario=args.scenario, n_base=_pow2(args.paths), rng=args.seed
            )
        )
    return 0


def _number_list(text: str, what: str, *, keep_text: bool = False):
    out = []
    for part in text.split(","):
        part = part.strip()
        try:
            v = float(part)
        except ValueError:
            raise ValueError(f"--{what}: expected comma-separated numbers, got {part!r}") from None
        out.append(part if keep_text else v)
    return out


def _forecast(args) -> int:
    from .batch import forecast_table, read_long_csv, read_targets_csv

    levels = _number_list(args.levels, "levels")
    quantiles = (
        _number_list(args.quantiles, "quantiles", keep_text=True) if args.quantiles else None
    )
    data = read_long_csv(args.file)
    targets = read_targets_csv(args.targets) if args.targets else None
    with _pool(args.workers) as ex:
        table = forecast_table(
            data,
            horizon=args.horizon,
            levels=[_int_if_whole(v) for v in levels],
            quantiles=quantiles,
            targets=targets,
            executor=ex,
        )
    if args.format == "csv":
        _write_csv(table, bom=not args.no_bom)
    else:
        print(_json(table.to_dict(orient="records"), indent=1))
    return 0


def _int_if_whole(v: float):
    return int(v) if float(v).is_integer() else v


def _write_csv(frame, *, bom: bool) -> None:
    """CSV on standard output: ten significant digits (not seventeen), whole years as
    integers, and a UTF-8 byte-order mark first so that Excel shows Chinese text (``--no-bom``
    leaves it out for tools that do not expect it)."""
    text = frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    sys.stdout.write(("\ufeff" if bom else "") + text)


def _json(obj, indent: int) -> str:
    """Strict JSON (RFC 8259): numpy scalars as Python numbers at full precision, and a
    number that is not finite (NaN for "not computed", an overflowed ±inf) as null —
    ``json.dumps`` would write ``NaN`` and ``Infinity``, which JSON parsers refuse."""

    def plain(v):
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            return None
        return v

    return json.dumps(plain(obj), ensure_ascii=False, indent=indent, allow_nan=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
