"""Reading and writing studies as TOML or JSON.

Study files are data: they are parsed with :mod:`tomllib` or :mod:`json` and
validated by the pydantic models in :mod:`hzforecast.spec`; nothing in them is
evaluated, imported or unpickled. Limits keep hostile files from exhausting
memory or time: at most :data:`MAX_FILE_BYTES` bytes and :data:`MAX_DEPTH`
levels of nesting.

Writing is atomic: the file is written to a temporary file in the same folder
and renamed into place, so a failure leaves either the old file or none.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from importlib import resources
from pathlib import Path

import tomli_w
from pydantic import ValidationError

from ._files import atomic_write, read_capped, short_path
from .distributions import DISTRIBUTIONS
from .spec import Study

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "StudyFileError",
    "builtin_studies",
    "load_study",
    "read_study",
    "write_study",
]

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 32


class StudyFileError(ValueError):
    """A study file that cannot be read or is not a valid study.

    The message names the file, the field path, what was expected and what was given.
    """


def builtin_studies() -> list[str]:
    """Names of the studies shipped with hzforecast."""
    root = resources.files("hzforecast") / "data"
    return sorted(p.name[: -len(".toml")] for p in root.iterdir() if p.name.endswith(".toml"))


def load_study(name_or_path: str | os.PathLike) -> Study:
    """Load a built-in study by name (``"jiaozuo-2019"``) or a study file by path.

    Parameters
    ----------
    name_or_path : str or path
        A name from :func:`builtin_studies`, or a ``.toml`` / ``.json`` file.

    Returns
    -------
    Study

    Raises
    ------
    StudyFileError
        If the file is missing, too large, malformed or not a valid study.

    Examples
    --------
    >>> import hzforecast as hz
    >>> study = hz.load_study("jiaozuo-2019")
    >>> study.indicator("gdp").name_zh
    '地区生产总值'
    """
    s = os.fspath(name_or_path)
    if s in builtin_studies():
        ref = resources.files("hzforecast") / "data" / f"{s}.toml"
        return _parse(ref.read_bytes(), f"<built-in {s}>", "toml")
    path = Path(s)
    if not path.exists():
        raise StudyFileError(
            f"{s}: no such file, and not a built-in study (built-in: {builtin_studies()})"
        )
    return read_study(path)


def read_study(path: str | os.PathLike) -> Study:
    """Read a study from a ``.toml`` or ``.json`` file (see :func:`load_study`).

    The file must be a regular file of at most :data:`MAX_FILE_BYTES` bytes; it is read
    with that cap (a FIFO or a device is refused, not read)."""
    path = Path(path)
    fmt = _format_of(path)
    try:
        data = read_capped(path, MAX_FILE_BYTES)
    except OSError as exc:
        raise StudyFileError(f"{short_path(path)}: cannot read ({exc.strerror})") from None
    except ValueError as exc:
        raise StudyFileError(f"{short_path(path)}: {exc}") from None
    return _parse(data, str(path), fmt)


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise StudyFileError(
            f"{short_path(path)}: expected a .toml or .json file, got suffix {suffix[:20]!r}"
        )
    return suffix[1:]


def _parse(data: bytes, name: str, fmt: str) -> Study:
    if len(data) > MAX_FILE_BYTES:
        raise StudyFileError(f"{name}: {len(data)} bytes; the limit is {MAX_FILE_BYTES}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StudyFileError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if fmt == "toml":
        _check_toml_shape(text, name)
    try:
        if fmt == "toml":
            raw = tomllib.loads(text)
        else:
            raw = json.loads(
                text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys
            )
    except tomllib.TOMLDecodeError as exc:
        raise StudyFileError(f"{name}: invalid TOML: {exc}") from None
    except json.JSONDecodeError as exc:
        raise StudyFileError(f"{name}: invalid JSON: {exc}") from None
    except RecursionError:
        raise StudyFileError(f"{name}: nesting too deep") from None
    except ValueError as exc:  # from _reject_constant, or int too large to convert
        raise StudyFileError(f"{name}: {exc}") from None
    return study_from_dict(raw, name=name)


#: A dotted TOML key (``a.b.c = 1``) or table header may have at most this many parts.
#: ``tomllib`` spends time quadratic in the parts of one key (40,000 parts: 25 s and 6 GB);
#: a study nests at most :data:`MAX_DEPTH` levels, so a longer key is never valid anyway.
MAX_KEY_PARTS = MAX_DEPTH
#: The longest line a study file may have, in characters (a quote is at most 4,000).
MAX_LINE_CHARS = 100_000
#: At most this many of the characters that make TOML structure (``= [ { . ,``): an upper
#: bound on the keys, tables and array items the parser builds. The built-in study has
#: about 1,100; the slowest file within every limit parses in about 2 s (docs/robustness.md).
MAX_TOML_STRUCTURE = 200_000

# MAX_KEY_PARTS + 1 dot-joined bare or quoted keys in a row. The scan stays linear: a match
# starts only at the beginning of a key (the look-behind), and possessive quantifiers never
# backtrack into a run of key characters
_KEY_PART = r"""(?:[A-Za-z0-9_-]++|"[^"\n]*+"|'[^'\n]*+')[ \t]*+\.[ \t]*+"""
_LONG_KEY = re.compile(rf"(?<![A-Za-z0-9_-])(?:{_KEY_PART}){{{MAX_KEY_PARTS}}}")


def _check_toml_shape(text: str, name: str) -> None:
    """Refuse, before parsing, what would make the TOML parser slow: overlong lines, keys
    with more parts than a study can nest, and more structure than a study needs. Linear in
    the text."""
    structure = sum(text.count(c) for c in "=[{.,")
    if structure > MAX_TOML_STRUCTURE:
        raise StudyFileError(
            f"{name}: {structure:,} keys, tables, array items and dots; a study file may have "
            f"at most {MAX_TOML_STRUCTURE:,}"
        )
    for lineno, line in enumerate(text.split("\n"), 1):
        if len(line) > MAX_LINE_CHARS:
            raise StudyFileError(
                f"{name}: line {lineno} has {len(line):,} characters; the limit is "
                f"{MAX_LINE_CHARS:,}"
            )
    m = _LONG_KEY.search(text)
    if m is not None:
        lineno = text.count("\n", 0, m.start()) + 1
        raise StudyFileError(
            f"{name}: line {lineno}: a dotted key with more than {MAX_KEY_PARTS} parts; a study "
            f"nests at most {MAX_DEPTH} levels"
        )


def _no_duplicate_keys(pairs):
    """A JSON object, refusing a key given twice (TOML refuses it too; JSON would keep the
    last silently)."""
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r} in one object")
        out[k] = v
    return out


def _reject_constant(token: str):
    raise ValueError(f"JSON constant {token} is not allowed (values must be finite)")


def _depth(obj, limit: int, level: int = 0) -> int:
    if level > limit:
        return level
    if isinstance(obj, dict):
        return max([level, *(_depth(v, limit, level + 1) for v in obj.values())])
    if isinstance(obj, list):
        return max([level, *(_depth(v, limit, level + 1) for v in obj)])
    return level


def study_from_dict(raw, *, name: str = "<dict>") -> Study:
    """Validate plain data (as read from TOML or JSON) into a :class:`Study`."""
    if not isinstance(raw, dict):
        raise StudyFileError(
            f"{name}: the top level must be a table/object, got {type(raw).__name__}"
        )
    if _depth(raw, MAX_DEPTH) > MAX_DEPTH:
        raise StudyFileError(f"{name}: nesting deeper than {MAX_DEPTH} levels")
    from ._resolve import resolve_study

    try:
        raw = resolve_study(raw)
    except ValueError as exc:
        raise StudyFileError(f"{name}: {exc}") from None
    try:
        return Study.model_validate(raw)
    except ValidationError as exc:
        raise StudyFileError(format_validation_error(exc, name)) from None


def _loc(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in DISTRIBUTIONS:
            continue  # discriminator branch names are not field names
        else:
            out += f".{part}" if out else str(part)
    return out


#: At most this many problems are listed in one error (the count of the rest is given).
MAX_PROBLEMS = 20


def format_validation_error(exc: ValidationError, name: str) -> str:
    """One line per problem: ``file: field.path: message (got value)``; at most
    :data:`MAX_PROBLEMS` lines, then how many more there are."""
    lines = []
    errors = exc.errors(include_url=False)
    for err in errors[:MAX_PROBLEMS]:
        where = _loc(err["loc"]) or "(top level)"
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        got = err.get("input")
        show_got = err["type"] not in ("value_error", "missing") and not isinstance(
            got, dict | list
        )
        if show_got:
            text = repr(got)
            if len(text) > 80:
                text = text[:77] + "..."
            msg = f"{msg}, got {text}"
        lines.append(f"{name}: {where}: {msg}")
    if len(errors) > MAX_PROBLEMS:
        lines.append(f"{name}: … and {len(errors) - MAX_PROBLEMS:,} more problem(s)")
    return "\n".join(lines)


def _clean(obj):
    """Check every float is finite before writing (TOML/JSON cannot hold NaN/inf faithfully)."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError(f"cannot write non-finite number {obj!r}")
    return obj


def dumps_study(study: Study, fmt: str = "toml") -> str:
    """The study as TOML or JSON text."""
    data = _clean(study.model_dump(mode="python", exclude_none=True, by_alias=True))
    if fmt == "toml":
        return tomli_w.dumps(data)
    if fmt == "json":
        return json.dumps(_jsonable(data), ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"fmt: expected 'toml' or 'json', got {fmt!r}")


def _jsonable(obj):
    import datetime as dt

    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, dt.date):
        return obj.isoformat()
    return obj


def write_study(study: Study, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``study`` to ``path`` (.toml or .json), atomically.

    The file gets the mode a new file gets (0666 less the umask) or keeps the mode of the
    file it replaces.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false.
    StudyFileError
        If the study would be larger than :data:`MAX_FILE_BYTES` (it could not be read back).
    """
    path = Path(path)
    fmt = _format_of(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: exists; pass overwrite=True to replace it")
    data = dumps_study(study, fmt).encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        raise StudyFileError(
            f"{short_path(path)}: the study is {len(data):,} bytes as {fmt.upper()}, above the "
            f"{MAX_FILE_BYTES:,} bytes a study file may have; it could not be read back"
        )
    atomic_write(path, data)
    return path
