"""The fuzz harness: valid studies mutated field by field, written to real files, loaded, and
run when they load.

Each case takes one of the seed studies (the built-in Jiaozuo study and the hand-written toy
example), changes one field — a number to an extreme or by a unit slip, a string to hostile
text, a value to another type, a field removed, a list item duplicated, or the file's bytes
flipped — writes it to a file (TOML, or JSON where TOML cannot hold the value) and reads it
with :func:`hzforecast.load_study`. A study that loads is audited, assessed under the scenario
the mutation touched (512 paths) and rendered (text, HTML, Markdown, a frame, strict JSON).

Every case ends in one of:

* **accepted** — loaded, ran, and every published number passed the checks below;
* **clean error** — a :class:`~hzforecast.StudyFileError` or
  :class:`~hzforecast.SimulationError` with a message;
* **traceback** — any other exception;
* **hang** — no answer within :data:`TIMEOUT` seconds;
* **silent wrong** — it ran but published something wrong: a probability outside [0, 1] or not
  a number, P(in year) above P(by year) beyond Monte Carlo error, JSON with NaN or infinity,
  hostile text unescaped in HTML, or a unit slip (a figure ×100 or ÷100) in a series of several
  observations that the audit did not flag.

``python -m tests.fuzzing --cases 2000`` (``make fuzz``) prints the table of
docs/robustness.md; ``tests/test_fuzz.py`` runs a small derandomised sample of it.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import random
import signal
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

import tomli_w

import hzforecast as hz
from hzforecast.io import StudyFileError, dumps_study

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60
N_PATHS = 512

CATEGORIES = (
    "numeric extreme",
    "unit slip (×100, ÷100)",
    "hostile string",
    "type swap",
    "field removed",
    "item duplicated",
    "bytes flipped",
)
OUTCOMES = ("accepted", "clean error", "traceback", "hang", "silent wrong")

EXTREMES = (
    0, -0.0, -1, 1e308, -1e308, 5e-324, 1e-300, 2**63, -(2**63), 10**30, float("inf"),
    float("-inf"), float("nan"), 1e-9, 0.999999, 1.000001, 2100, 1800,
)  # fmt: skip
HOSTILE = (
    "", " ", "x" * 5000, "\u202etxt.exe", "<script>alert(1)</script>", "../../etc/passwd",
    "亿元亿元", "1e309", "NaN", "🎉" * 50, "e\u0301" * 100, "\t\n\r", "a" * 64, "--force",
    "'; DROP TABLE studies; --", "=cmd|' /C calc'!A0", "\\u0000", "%s%s%s%n",
)  # fmt: skip


class Timeout(Exception):
    pass


def _alarm(signum, frame):  # pragma: no cover - only on a hang
    raise Timeout


def seeds() -> dict[str, dict]:
    return {
        "jiaozuo-2019": hz.load_study("jiaozuo-2019").to_dict(),
        "xinxiang-toy": hz.load_study(ROOT / "examples" / "xinxiang-toy.toml").to_dict(),
    }


def leaves(obj, prefix=()):
    """Every (path, value) of a nested document."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield (*prefix, k), v
            yield from leaves(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield (*prefix, i), v
            yield from leaves(v, (*prefix, i))


def _parent(doc, path):
    for key in path[:-1]:
        doc = doc[key]
    return doc


def mutate(doc: dict, category: str, rnd: random.Random):
    """One mutation of a copy of ``doc``: (new document, description, scale) — ``scale`` is
    the factor of a unit slip (else None)."""
    doc = copy.deepcopy(doc)
    all_leaves = list(leaves(doc))
    numbers = [
        (p, v) for p, v in all_leaves if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    strings = [(p, v) for p, v in all_leaves if isinstance(v, str)]
    if category == "numeric extreme":
        path, _ = rnd.choice(numbers)
        value = rnd.choice(EXTREMES)
        _parent(doc, path)[path[-1]] = value
        return doc, f"{_where(path)} = {value!r}", None
    if category == "unit slip (×100, ÷100)":
        path, v = rnd.choice(numbers)
        k = rnd.choice((100.0, 0.01))
        _parent(doc, path)[path[-1]] = float(v) * k
        return doc, f"{_where(path)} ×{k:g}", (path, k)
    if category == "hostile string":
        path, _ = rnd.choice(strings)
        value = rnd.choice(HOSTILE)
        _parent(doc, path)[path[-1]] = value
        return doc, f"{_where(path)} = {value[:20]!r}", None
    if category == "type swap":
        path, v = rnd.choice(all_leaves)
        swaps = (
            [str(v), [v], {"v": v}, True, None, 7] if not isinstance(v, dict | list) else [1, "x"]
        )
        value = rnd.choice(swaps)
        _parent(doc, path)[path[-1]] = value
        return doc, f"{_where(path)} -> {type(value).__name__}", None
    if category == "field removed":
        dict_keys = [(p, v) for p, v in all_leaves if isinstance(p[-1], str)]
        path, _ = rnd.choice(dict_keys)
        del _parent(doc, path)[path[-1]]
        return doc, f"{_where(path)} removed", None
    if category == "item duplicated":
        items = [(p, v) for p, v in all_leaves if isinstance(p[-1], int)]
        path, v = rnd.choice(items)
        _parent(doc, path).insert(path[-1], copy.deepcopy(v))
        return doc, f"{_where(path)} duplicated", None
    raise ValueError(category)


def _where(path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def write(doc: dict, folder: Path, name: str) -> Path:
    """The document as a real file: TOML where it can hold it, else JSON."""
    try:
        text = tomli_w.dumps(doc)
        path = folder / f"{name}.toml"
    except (TypeError, ValueError):
        text = json.dumps(doc, ensure_ascii=False, allow_nan=True)
        path = folder / f"{name}.json"
    path.write_text(text, encoding="utf-8")
    return path


def flip_bytes(doc: dict, folder: Path, name: str, rnd: random.Random) -> tuple[Path, str]:
    fmt = rnd.choice(("toml", "json"))
    data = bytearray(dumps_study(hz.io.study_from_dict(doc), fmt).encode("utf-8"))
    for _ in range(rnd.randint(1, 6)):
        i = rnd.randrange(len(data))
        data[i] = rnd.randrange(256)
    path = folder / f"{name}.{fmt}"
    path.write_bytes(bytes(data))
    return path, f"{fmt}: bytes flipped"


def _scenario_of(study, desc: str) -> str:
    if desc.startswith("scenarios["):
        i = int(desc[len("scenarios[") : desc.index("]")])
        if i < len(study.scenarios):
            return study.scenarios[i].id
    return study.scenarios[0].id


def _strict_json(obj) -> str:
    text = json.dumps(obj, allow_nan=False, default=str)

    def refuse(token):
        raise ValueError(f"non-standard JSON constant {token}")

    json.loads(text, parse_constant=refuse)
    return text


def check_published(study, res) -> str | None:
    """What is wrong with a run's published numbers, or None."""
    for r in res.targets:
        if not r.assessable:
            continue
        for e in (r.p_in_year, r.p_by_year):
            if not (math.isfinite(e.value) and 0.0 <= e.value <= 1.0):
                return f"{r.id}: probability {e.value!r}"
            if not (math.isfinite(e.se) and e.se >= 0):
                return f"{r.id}: standard error {e.se!r}"
        gap = r.p_in_year.value - r.p_by_year.value
        if gap > 4 * max(r.p_in_year.se, r.p_by_year.se) + 1e-12:
            return f"{r.id}: P(in) {r.p_in_year.value} > P(by) {r.p_by_year.value}"
    for g in res.groups:
        if g.assessable and not (0.0 <= g.p_all_in_year.value <= 1.0):
            return f"group {g.group_id}: probability {g.p_all_in_year.value!r}"
    frame = res.to_frame()
    try:
        _strict_json(json.loads(frame.to_json(orient="records")))
    except ValueError as exc:
        return f"JSON: {exc}"
    html = res._repr_html_()
    if "<script>" in html:
        return "hostile text unescaped in HTML"
    str(res)
    return None


def check_unit_slip(study, slip) -> str | None:
    """A figure ×100 or ÷100 in a series of several observations must be flagged by the audit."""
    path, k = slip
    if len(path) < 5 or path[0] != "indicators" or path[2] != "observations" or path[-1] != "value":
        return None
    ind = study.indicators[path[1]]
    if len(ind.observations) < 2 or ind.kind not in ("level", "count"):
        return None
    flagged = [
        f
        for f in study.audit().findings
        if f.indicator == ind.id and f.severity in ("warning", "error")
    ]
    return None if flagged else f"{ind.id}: a ×{k:g} slip passed the audit without a finding"


def run_case(doc: dict, category: str, rnd: random.Random, folder: Path, name: str):
    """(outcome, description, detail) of one case."""
    slip = None
    try:
        if category == "bytes flipped":
            path, desc = flip_bytes(doc, folder, name, rnd)
        else:
            new, desc, slip = mutate(doc, category, rnd)
            path = write(new, folder, name)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        return "skip", repr(exc), ""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT)
    caught = warnings.catch_warnings()
    caught.__enter__()
    warnings.simplefilter("error")  # a warning leaking to the user counts as a traceback
    try:
        study = hz.load_study(path)
        study.audit()
        if slip is not None and (why := check_unit_slip(study, slip)):
            return "silent wrong", desc, why
        if not study.scenarios:  # nothing to run: a study may hold figures and targets only
            str(study.audit())
            return "accepted", desc, ""
        res = hz.assess(study, scenario=_scenario_of(study, desc), n_paths=N_PATHS, rng=1)
        why = check_published(study, res)
        return ("silent wrong", desc, why) if why else ("accepted", desc, "")
    except (StudyFileError, hz.SimulationError) as exc:
        msg = str(exc)
        if not msg.strip():
            return "traceback", desc, "an error without a message"
        return "clean error", desc, msg.splitlines()[0][:200]
    except Timeout:
        return "hang", desc, f"no answer in {TIMEOUT} s"
    except Exception as exc:
        return "traceback", desc, f"{type(exc).__name__}: {exc}"[:300]
    finally:
        signal.alarm(0)
        caught.__exit__(None, None, None)


def run(cases_per_category: int, seed: int = 0, *, verbose: bool = False):
    """Counts by category and outcome, and the failures (traceback, hang, silent wrong)."""
    rnd = random.Random(seed)
    docs = seeds()
    counts = {c: Counter() for c in CATEGORIES}
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for cat in CATEGORIES:
            done = 0
            while done < cases_per_category:
                sid = rnd.choice(sorted(docs))
                outcome, desc, detail = run_case(docs[sid], cat, rnd, folder, f"case{done}")
                if outcome == "skip":
                    continue
                done += 1
                counts[cat][outcome] += 1
                if outcome in ("traceback", "hang", "silent wrong"):
                    failures.append((cat, sid, desc, outcome, detail))
                    if verbose:
                        print(f"{outcome}: {sid} {desc}: {detail}")
    return counts, failures


def table(counts) -> str:
    lines = [
        "| category | tried | " + " | ".join(OUTCOMES) + " |",
        "|---|---:|" + "---:|" * len(OUTCOMES),
    ]
    total = Counter()
    for cat in CATEGORIES:
        c = counts[cat]
        total.update(c)
        lines.append(
            f"| {cat} | {sum(c.values()):,} | " + " | ".join(f"{c[o]:,}" for o in OUTCOMES) + " |"
        )
    lines.append(
        f"| **all** | **{sum(total.values()):,}** | "
        + " | ".join(f"**{total[o]:,}**" for o in OUTCOMES)
        + " |"
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=300, help="cases per category")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    counts, failures = run(args.cases, args.seed, verbose=args.verbose)
    print(table(counts))
    print(
        f"\n{args.cases:,} cases per category, seed {args.seed}, {N_PATHS} paths per run, "
        f"{time.perf_counter() - t0:.0f} s (`python -m tests.fuzzing --cases {args.cases} "
        f"--seed {args.seed}`)."
    )
    for f in failures:
        print("FAIL", *f)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
