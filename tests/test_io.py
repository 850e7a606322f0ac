"""Reading and writing study files: exact round trips, clear errors, atomic writes."""

import json

import pytest

import hzforecast as hz
from hzforecast.io import MAX_FILE_BYTES, StudyFileError, dumps_study, read_study, write_study


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_round_trip_is_exact(tmp_path, jiaozuo, fmt):
    path = write_study(jiaozuo, tmp_path / f"j.{fmt}")
    back = read_study(path)
    assert back == jiaozuo
    # and a second trip gives the same text, byte for byte
    assert dumps_study(back, fmt) == path.read_text(encoding="utf-8")


def test_toml_to_json_to_toml(tmp_path, jiaozuo):
    j = read_study(write_study(jiaozuo, tmp_path / "a.json"))
    t = read_study(write_study(j, tmp_path / "b.toml"))
    assert t == jiaozuo
    assert t.indicator("gdp").observations[1].correction.value == 141.95


def test_floats_survive_exactly(tmp_path, doc):
    from .conftest import make

    doc["indicators"][0]["observations"][0].update(value=0.1 + 0.2)
    del doc["indicators"][0]["observations"][0]["text"]
    s = make(doc)
    for fmt in ("toml", "json"):
        back = read_study(write_study(s, tmp_path / f"f.{fmt}"))
        assert back.indicator("gdp").observations[0].value == 0.30000000000000004


def test_builtin_and_path(tmp_path, jiaozuo):
    assert "jiaozuo-2019" in hz.builtin_studies()
    p = write_study(jiaozuo, tmp_path / "copy.toml")
    assert hz.load_study(str(p)) == jiaozuo
    assert hz.load_study(p) == jiaozuo


def test_missing_file_names_builtins(tmp_path):
    with pytest.raises(
        StudyFileError,
        match=r"nope\.toml: no such file, and not a built-in study "
        r"\(built-in: \['jiaozuo-2019'\]\)",
    ):
        hz.load_study(tmp_path / "nope.toml")


def test_wrong_suffix(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("id: x")
    with pytest.raises(
        StudyFileError,
        match=r"s\.yaml: expected a \.toml or \.json file, got "
        r"suffix '\.yaml'",
    ):
        hz.load_study(p)


def test_invalid_toml(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("id = [unclosed", encoding="utf-8")
    with pytest.raises(StudyFileError, match=r"bad\.toml: invalid TOML"):
        hz.load_study(p)


def test_invalid_json(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{", encoding="utf-8")
    with pytest.raises(StudyFileError, match=r"bad\.json: invalid JSON"):
        hz.load_study(p)


def test_top_level_must_be_table(tmp_path):
    p = tmp_path / "list.json"
    p.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(
        StudyFileError,
        match=r"list\.json: the top level must be a table/object, "
        r"got list",
    ):
        hz.load_study(p)


def test_not_utf8(tmp_path):
    p = tmp_path / "gbk.toml"
    p.write_bytes('id = "焦作"'.encode("gbk"))
    with pytest.raises(StudyFileError, match=r"gbk\.toml: not UTF-8 text"):
        hz.load_study(p)


def test_too_large(tmp_path):
    p = tmp_path / "big.json"
    p.write_bytes(b" " * (MAX_FILE_BYTES + 1))
    with pytest.raises(StudyFileError, match=r"big\.json: file is larger than the limit of 5,2"):
        hz.load_study(p)


def test_too_deep(tmp_path):
    p = tmp_path / "deep.json"
    p.write_text(
        json.dumps(
            {"id": "x", "a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}
        )
    )
    with pytest.raises(StudyFileError, match=r"deep\.json: nesting deeper than 32 levels"):
        hz.load_study(p)


def test_many_errors_are_all_listed(tmp_path, doc):
    doc["indicators"][0]["unit"] = "千元"
    doc["targets"][0]["year"] = 3000
    p = tmp_path / "two.json"
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(StudyFileError) as info:
        hz.load_study(p)
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"{p}: ") for line in lines)


def test_write_refuses_to_overwrite(tmp_path, jiaozuo):
    p = write_study(jiaozuo, tmp_path / "s.toml")
    with pytest.raises(FileExistsError, match=r"s\.toml: exists; pass overwrite=True"):
        write_study(jiaozuo, p)
    write_study(jiaozuo, p, overwrite=True)


def test_failed_write_leaves_nothing(tmp_path, jiaozuo, monkeypatch):
    import hzforecast.io as io

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(io.os, "replace", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_study(jiaozuo, tmp_path / "s.toml")
    assert list(tmp_path.iterdir()) == []


def test_study_files_are_data_only(tmp_path, doc):
    # a string that would be code is only ever a string
    doc["name_en"] = "__import__('os').system('echo pwned')"
    from .conftest import make

    s = make(doc)
    back = read_study(write_study(s, tmp_path / "x.json"))
    assert back.name_en == doc["name_en"]


# ---------------------------------------------------------------- hostile files (issue 12)


@pytest.mark.parametrize(
    "text,match",
    [
        (".".join(["a"] * 40000) + " = 1", r"line 1: a dotted key with more than 32 parts"),
        ('id = "x"\n' + ".".join(['"q"'] * 33) + " = 1", r"line 2: a dotted key with more"),
        ("x = {" + ".".join(["a"] * 33) + " = 1}", r"a dotted key with more than 32 parts"),
        ("[" + ".".join(["a"] * 33) + "]", r"a dotted key with more than 32 parts"),
        ('x = "' + "a" * 100_001 + '"', r"line 1 has 100,007 characters; the limit is 100,000"),
        ("x = [" + ",".join(["1"] * 200_001) + "]", r"200,002 keys, tables, array items"),
    ],
)
def test_toml_that_would_parse_slowly_is_refused_before_parsing(tmp_path, text, match, monkeypatch):
    # the parse these files would cost (25 s and 6 GB for the first) never starts; the
    # worst file the limits allow is measured by `make fuzz` (docs/robustness.md)
    import tomllib

    def no_parse(*a, **k):
        raise AssertionError("parsed a file the shape check should have refused")

    p = tmp_path / "s.toml"
    p.write_text(text, encoding="utf-8")
    monkeypatch.setattr(tomllib, "loads", no_parse)
    with pytest.raises(StudyFileError, match=match):
        read_study(p)


def test_long_keys_within_the_limits_still_read(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(".".join(["a"] * 32) + " = 1\n", encoding="utf-8")
    with pytest.raises(StudyFileError, match=r"s\.toml: id: Field required"):
        read_study(p)  # parsed, then refused as a study: the shape check let it through


def test_a_long_run_of_key_characters_is_not_a_long_key(tmp_path):
    # (the scan's time on such lines is measured by `make fuzz`: backtracking made it
    # quadratic, 11 s for one line, before the look-behind)
    p = tmp_path / "s.toml"
    p.write_text(("a" * 99_000 + "\n") * 40, encoding="utf-8")
    with pytest.raises(StudyFileError, match="invalid TOML"):
        read_study(p)


def test_duplicate_json_keys_are_refused(tmp_path):
    p = tmp_path / "d.json"
    p.write_text('{"id": "a", "id": "b"}', encoding="utf-8")
    with pytest.raises(StudyFileError, match=r"d\.json: duplicate key 'id' in one object"):
        read_study(p)


def test_many_problems_are_counted_not_all_listed(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text("\n".join(f"k{i} = {i}" for i in range(1000)), encoding="utf-8")
    with pytest.raises(StudyFileError) as info:
        read_study(p)
    lines = str(info.value).splitlines()
    assert len(lines) == 21 and lines[-1].endswith("… and 985 more problem(s)")


def test_write_study_refuses_what_could_not_be_read_back(tmp_path, jiaozuo):
    big = jiaozuo.model_copy(update={"description": "x" * 4000, "sources": jiaozuo.sources * 1})
    ind = big.indicators[0]
    obs = [
        ind.observations[0].model_copy(update={"year": 1949 + i, "quote": "字" * 4000})
        for i in range(150)
    ]
    many = [ind.model_copy(update={"id": f"i{k}", "observations": tuple(obs)}) for k in range(4)]
    big = big.model_copy(update={"indicators": big.indicators + tuple(many)})
    with pytest.raises(StudyFileError, match=r"above the 5,242,880 bytes a study file may have"):
        write_study(big, tmp_path / "big.toml")
    assert list(tmp_path.iterdir()) == []


def test_write_study_keeps_the_files_mode(tmp_path, jiaozuo):
    import os
    import stat

    p = tmp_path / "s.toml"
    write_study(jiaozuo, p)
    mode = stat.S_IMODE(os.stat(p).st_mode)
    assert mode != 0o600 and mode == 0o666 & ~_umask()
    os.chmod(p, 0o640)
    write_study(jiaozuo, p, overwrite=True)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o640


def _umask():
    import os

    m = os.umask(0)
    os.umask(m)
    return m
