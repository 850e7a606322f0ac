"""Files the library reads and writes: capped reads, atomic writes, report folders.

Reading
    :func:`read_capped` opens without blocking, refuses anything that is not a regular file
    (a FIFO would hang, ``/dev/zero`` would fill memory) and reads at most ``limit + 1``
    bytes, so the size limit holds whatever ``stat()`` says.

Writing
    :func:`atomic_write` writes a temporary file beside the destination and renames it into
    place: a failure or a kill leaves the old file or none, never half of one. The new file
    gets the mode the user's umask gives (or the mode of the file it replaces), and errors
    name the destination, not the temporary file.

Report folders
    :class:`OutputFolder` is where a report goes. It is checked before any work is done
    (so a bad ``--out`` fails in a second, not after the simulation). A folder holding a
    report carries a manifest (:data:`MANIFEST`); ``force`` replaces only such a folder,
    and only the files its manifest lists — a folder of anything else is refused, whatever
    ``force`` says. A new report is assembled in a temporary folder and renamed into place;
    an existing one is replaced file by file, each atomically, the manifest last, so the
    folder never goes missing and no file is ever half-written.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from pathlib import Path

__all__ = [
    "MANIFEST",
    "OutputError",
    "OutputFolder",
    "atomic_write",
    "read_capped",
    "short_path",
]

#: The file that marks a folder as a report hzforecast wrote.
MANIFEST = ".hzforecast-report.json"


class OutputError(ValueError):
    """An output location that cannot be used (the message says why)."""


def read_capped(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Raises
    ------
    OSError
        The file cannot be opened or read (the caller words the message).
    ValueError
        Not a regular file, or larger than ``limit``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = (
                "a FIFO"
                if stat.S_ISFIFO(st.st_mode)
                else "a device"
                if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a folder"
                if stat.S_ISDIR(st.st_mode)
                else "a socket"
                if stat.S_ISSOCK(st.st_mode)
                else "not a regular file"
            )
            raise ValueError(f"expected a regular file, got {kind}")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise ValueError(f"file is larger than the limit of {limit:,} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    The file's mode is the one a plain ``open(path, "w")`` would give (0666 less the umask),
    or the mode of the file it replaces. On failure the temporary file is removed and an
    ``OSError`` naming ``path`` is raised.
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = None
    tmp = None
    try:
        tmp, fd = _create_temporary(path.parent, f".{path.name[:80]}.", ".tmp")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if mode is not None:
                os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _create_temporary(folder: Path, prefix: str, suffix: str) -> tuple[Path, int]:
    """A new file in ``folder`` created with mode 0666 (the umask applies, as for any new
    file), and its descriptor. ``mkstemp`` would make it 0600, and the rename would keep that."""
    for _ in range(100):
        name = folder / f"{prefix}{os.urandom(6).hex()}{suffix}"
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            continue
        return name, fd
    raise OSError(errno.EEXIST, f"cannot create a temporary file in {folder}")


class OutputFolder:
    """A folder a report is written into, checked before any work is done.

    Parameters
    ----------
    out : path
        The folder. It may not exist yet (its parent must), may be empty, or may hold a
        report hzforecast wrote (then ``force`` is needed to replace it).
    files : tuple of str
        The names of the files the report writes.
    force : bool
        Replace a report already in ``out``.

    Raises
    ------
    OutputError
        ``out`` cannot be used: it is a file, a dangling link, in a folder that does not
        exist or cannot be written, a name the system refuses, or a non-empty folder that
        is not a report (whatever ``force`` says).
    FileExistsError
        ``out`` holds a report and ``force`` is false.
    """

    def __init__(self, out: str | os.PathLike, files: tuple[str, ...], *, force: bool = False):
        self.path = Path(out)
        self.files = tuple(files)
        self.replace = False
        shown = short_path(self.path)
        try:
            self._check(shown, force)
        except FileExistsError:
            raise
        except OSError as exc:  # anything the checks did not word themselves
            raise OutputError(f"out: {shown}: {exc.strerror or exc}") from None

    def _check(self, shown: str, force: bool) -> None:
        p = self.path
        if p.is_symlink() and not p.exists():
            raise OutputError(
                f"out: {shown} is a symbolic link to {os.readlink(p)!s}, which does not exist"
            )
        if p.exists():
            if not p.is_dir():
                raise OutputError(f"out: {shown} exists and is not a folder")
            entries = sorted(os.listdir(p))
            if entries:
                manifest = _read_manifest(p)
                if manifest is None:
                    listed = ", ".join(entries[:3]) + (" …" if len(entries) > 3 else "")
                    raise OutputError(
                        f"out: {shown} is not empty and is not a report folder written by "
                        f"hzforecast (no {MANIFEST}; it holds {listed}); --force (force=True) "
                        f"only replaces a report — choose a new or empty folder"
                    )
                if not force:
                    raise FileExistsError(
                        f"out: {shown} holds a report; pass --force (force=True) to replace it"
                    )
                self.replace = True
            self._probe(p)
            return
        parent = p.parent
        if not parent.exists():
            raise OutputError(f"out: the parent folder {short_path(parent)} does not exist")
        if not parent.is_dir():
            raise OutputError(f"out: {short_path(parent)} is not a folder")
        self._probe(parent)
        # the name itself must be acceptable (length, characters): try it
        try:
            os.mkdir(p)
        except OSError as exc:
            raise OutputError(f"out: cannot create {shown}: {exc.strerror}") from None
        os.rmdir(p)

    @staticmethod
    def _probe(folder: Path) -> None:
        """Create and remove a file: the folder is writable (access() says yes to root)."""
        try:
            name, fd = _create_temporary(folder, ".hzforecast-probe.", ".tmp")
        except OSError as exc:
            raise OutputError(
                f"out: cannot write in {short_path(folder)}: {exc.strerror}"
            ) from None
        os.close(fd)
        os.unlink(name)

    def write(self, contents: dict[str, bytes | str], manifest: dict) -> Path:
        """Write the report's files (every name in ``files``) and the manifest."""
        if sorted(contents) != sorted(self.files):
            raise ValueError(f"contents: expected files {sorted(self.files)}")
        meta = json.dumps({**manifest, "files": list(self.files)}, ensure_ascii=False, indent=1)
        if self.replace:
            # file by file, each atomically, the manifest last: the folder never goes
            # missing, and an interrupted replace leaves whole files of one run or the other
            for name in self.files:
                atomic_write(self.path / name, contents[name])
            atomic_write(self.path / MANIFEST, meta)
            return self.path
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name[:80]}.", dir=self.path.parent))
        try:
            os.chmod(tmp, _default_folder_mode(self.path.parent))
            for name in self.files:
                atomic_write(tmp / name, contents[name])
            atomic_write(tmp / MANIFEST, meta)
            # rename onto a missing or empty folder: all or nothing
            os.rename(tmp, self.path)
        except BaseException:
            for child in tmp.iterdir() if tmp.exists() else ():
                child.unlink()
            if tmp.exists():
                tmp.rmdir()
            raise
        return self.path


def _read_manifest(folder: Path) -> dict | None:
    try:
        data = read_capped(folder / MANIFEST, 1 << 16)
        meta = json.loads(data.decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("written_by") != "hzforecast":
        return None
    return meta


def _default_folder_mode(parent: Path) -> int:
    """The mode ``mkdir`` would give a new folder here (0777 less the umask), found by making
    one — reading the umask would mean changing it, which is process-wide state."""
    probe = Path(tempfile.mkdtemp(dir=parent))
    try:
        inner = probe / "d"
        os.mkdir(inner)
        return stat.S_IMODE(os.stat(inner).st_mode)
    finally:
        if (probe / "d").exists():
            (probe / "d").rmdir()
        probe.rmdir()


def short_path(p: Path) -> str:
    """A path as it is shown in a message: very long names are cut in the middle."""
    s = str(p)
    return s if len(s) <= 200 else f"{s[:100]}…{s[-60:]} ({len(s):,} characters)"
