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
import tempfile
import tomllib
from importlib import resources
from pathlib import Path

import tomli_w
from pydantic import ValidationError

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
    """Read a study from a ``.toml`` or ``.json`` file (see :func:`load_study`)."""
    path = Path(path)
    fmt = _format_of(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise StudyFileError(f"{path}: cannot read ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise StudyFileError(f"{path}: file is {size} bytes; the limit is {MAX_FILE_BYTES}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StudyFileError(f"{path}: cannot read ({exc.strerror})") from None
    return _parse(data, str(path), fmt)


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise StudyFileError(f"{path}: expected a .toml or .json file, got suffix {suffix!r}")
    return suffix[1:]


def _parse(data: bytes, name: str, fmt: str) -> Study:
    if len(data) > MAX_FILE_BYTES:
        raise StudyFileError(f"{name}: {len(data)} bytes; the limit is {MAX_FILE_BYTES}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StudyFileError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        if fmt == "toml":
            raw = tomllib.loads(text)
        else:
            raw = json.loads(text, parse_constant=_reject_constant)
    except tomllib.TOMLDecodeError as exc:
        raise StudyFileError(f"{name}: invalid TOML: {exc}") from None
    except json.JSONDecodeError as exc:
        raise StudyFileError(f"{name}: invalid JSON: {exc}") from None
    except RecursionError:
        raise StudyFileError(f"{name}: nesting too deep") from None
    except ValueError as exc:  # from _reject_constant, or int too large to convert
        raise StudyFileError(f"{name}: {exc}") from None
    return study_from_dict(raw, name=name)


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
    try:
        return Study.model_validate(raw)
    except ValidationError as exc:
        raise StudyFileError(format_validation_error(exc, name)) from None


def _loc(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("fixed", "uniform", "triangular", "normal", "lognormal", "pert"):
            continue  # discriminator branch names are not field names
        else:
            out += f".{part}" if out else str(part)
    return out


def format_validation_error(exc: ValidationError, name: str) -> str:
    """One line per problem: ``file: field.path: message (got value)``."""
    lines = []
    for err in exc.errors(include_url=False):
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

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    fmt = _format_of(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: exists; pass overwrite=True to replace it")
    text = dumps_study(study, fmt)
    atomic_write_text(path, text)
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
