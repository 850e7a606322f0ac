"""Where reports go: a bad --out fails before any work, --force replaces only a report, and
nothing is ever lost or half-written (issue 12, items 1 and 5)."""

import json
import os
import stat

import pytest

import hzforecast as hz
from hzforecast import _files, report
from hzforecast._files import MANIFEST, OutputError, OutputFolder, atomic_write, read_capped
from hzforecast.cli import main

FILES = ("report.html", "summary.md")


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail loudly if a report gets as far as simulating."""

    def refuse(*a, **k):
        raise AssertionError("the output folder must be checked before the simulation")

    monkeypatch.setattr(report, "assess", refuse)


def _report(study, out, scenario="baseline", **kw):
    return report.write_report(study, out, n_paths=4096, scenarios=[scenario], **kw)


def test_force_never_deletes_a_folder_that_is_not_a_report(jiaozuo, tmp_path, no_simulation):
    p = tmp_path / "p"
    p.mkdir()
    (p / "data.csv").write_text("x\n")
    with pytest.raises(OutputError, match=r"not a report folder written by hzforecast .*data\.csv"):
        _report(jiaozuo, p, force=True)
    assert sorted(os.listdir(p)) == ["data.csv"] and (p / "data.csv").read_text() == "x\n"


def test_cli_force_on_the_current_folder_is_refused(tmp_path, monkeypatch, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.chdir(tmp_path)
    assert main(["report", "jiaozuo-2019", "--out", ".", "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a report folder" in err and "notes.txt" in err
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


def test_force_replaces_a_report_and_keeps_other_files(jiaozuo, tmp_path):
    out = tmp_path / "rep"
    _report(jiaozuo, out)
    meta = json.loads((out / MANIFEST).read_text())
    assert meta["written_by"] == "hzforecast" and meta["files"] == list(FILES)
    (out / "my-notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="holds a report; pass --force"):
        _report(jiaozuo, out)
    _report(jiaozuo, out, "optimistic", force=True)
    assert (out / "my-notes.txt").read_text() == "keep me"
    assert "<code>optimistic</code>" in (out / "report.html").read_text(encoding="utf-8")


def test_an_interrupted_replace_leaves_the_folder_and_whole_files(jiaozuo, tmp_path, monkeypatch):
    out = tmp_path / "rep"
    _report(jiaozuo, out)
    old = {n: (out / n).read_bytes() for n in (*FILES, MANIFEST)}
    calls = []
    real = _files.atomic_write

    def dies_on_the_second_file(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt  # a kill between two files
        return real(path, data)

    monkeypatch.setattr(_files, "atomic_write", dies_on_the_second_file)
    with pytest.raises(KeyboardInterrupt):
        _report(jiaozuo, out, "optimistic", force=True)
    assert out.is_dir()
    assert sorted(os.listdir(out)) == sorted([*FILES, MANIFEST])  # no temporary file left
    assert (out / "report.html").read_bytes() != old["report.html"]  # the new one, whole
    assert (out / "summary.md").read_bytes() == old["summary.md"]  # the old one, whole
    assert (out / MANIFEST).read_bytes() == old[MANIFEST]  # still a report folder
    monkeypatch.undo()
    _report(jiaozuo, out, force=True)  # and --force can finish the job


def test_a_failed_new_report_leaves_nothing(jiaozuo, tmp_path, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "_markdown", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        _report(jiaozuo, tmp_path / "new")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda d: (d / "afile").write_text("x") and d / "afile" / "sub", r"afile is not a folder"),
        (lambda d: (d / "afile").write_text("x") and d / "afile", r"exists and is not a folder"),
        (lambda d: d / "no" / "such" / "dir", r"parent folder .*no/such does not exist"),
        (lambda d: d / ("x" * 5000), r"\(5,\d{3} characters\): cannot create|name too long"),
    ],
)
def test_bad_out_fails_before_the_simulation(jiaozuo, tmp_path, no_simulation, make, match):
    with pytest.raises(OutputError, match=match):
        _report(jiaozuo, make(tmp_path))


def test_dangling_symlink(jiaozuo, tmp_path, no_simulation):
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    with pytest.raises(OutputError, match=r"link is a symbolic link to .*gone, which does not"):
        _report(jiaozuo, tmp_path / "link")


def test_unwritable_folder(jiaozuo, tmp_path, no_simulation, monkeypatch):
    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_files, "_create_temporary", denied)
    with pytest.raises(OutputError, match=r"cannot write in .*: Permission denied"):
        _report(jiaozuo, tmp_path / "r")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_unwritable_folder_for_real(jiaozuo, tmp_path, no_simulation):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="cannot write in"):
            _report(jiaozuo, ro / "r")
    finally:
        ro.chmod(0o700)


def test_cli_bad_out_is_one_line_and_fast(tmp_path, capsys, no_simulation):
    (tmp_path / "afile").write_text("x")
    assert main(["report", "jiaozuo-2019", "--out", str(tmp_path / "afile" / "sub")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hzforecast: error: out: ") and err.count("\n") == 1


def test_new_files_get_the_users_mode_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a.txt", "x")
        assert stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode) == 0o644
        os.chmod(tmp_path / "a.txt", 0o640)
        atomic_write(tmp_path / "a.txt", "y")  # a replaced file keeps its mode
        assert stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode) == 0o640
        folder = OutputFolder(tmp_path / "rep", ("f",))
        folder.write({"f": "x"}, {"written_by": "hzforecast"})
        assert stat.S_IMODE(os.stat(tmp_path / "rep").st_mode) == 0o755
    finally:
        os.umask(old)


def test_write_errors_name_the_destination_not_a_temporary_file(tmp_path, monkeypatch):
    def full(*a):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError, match=r"cannot write .*a\.txt: No space left") as info:
        atomic_write(tmp_path / "a.txt", "x")
    assert ".tmp" not in str(info.value)
    assert os.listdir(tmp_path) == []


def test_read_capped_refuses_fifos_devices_and_big_files(tmp_path):
    fifo = tmp_path / "f.toml"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="expected a regular file, got a FIFO"):
        read_capped(fifo, 100)  # returns at once: no hang
    link = tmp_path / "zero.toml"
    link.symlink_to("/dev/zero")
    with pytest.raises(ValueError, match="got a device"):
        read_capped(link, 100)
    big = tmp_path / "big.toml"
    big.write_bytes(b"x" * 101)
    with pytest.raises(ValueError, match="larger than the limit of 100 bytes"):
        read_capped(big, 100)
    assert read_capped(big, 101) == b"x" * 101


def test_study_files_that_are_not_regular_files(tmp_path):
    fifo = tmp_path / "f.toml"
    os.mkfifo(fifo)
    with pytest.raises(hz.StudyFileError, match=r"f\.toml: expected a regular file, got a FIFO"):
        hz.load_study(fifo)
    link = tmp_path / "zero.toml"
    link.symlink_to("/dev/zero")
    with pytest.raises(hz.StudyFileError, match=r"zero\.toml: expected a regular file, got a dev"):
        hz.load_study(link)
    folder = tmp_path / "d.toml"
    folder.mkdir()
    with pytest.raises(hz.StudyFileError, match=r"d\.toml: expected a regular file, got a folder"):
        hz.load_study(folder)
