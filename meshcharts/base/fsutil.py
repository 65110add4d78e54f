"""Writing output folders so that readers see the old tree or the new one, never half.

A run removes the temporary entries that killed runs left beside its target (their names
carry the pid of a process that is gone), so a kill never leaves litter for good.

An output folder is *owned*: meshcharts writes into a folder that is missing or empty, or
replaces one that it wrote itself (it holds the marker file :data:`MARKER`). Any other
folder, a file, a link, the current folder, one of its parents, ``/`` and the home folder
are refused before anything is written, so a mistyped ``--out`` never costs a user's files.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from meshcharts.errors import UserError

__all__ = [
    "MARKER",
    "OutputError",
    "check_output_dir",
    "clean_stale",
    "replace_dir",
    "staged_dir",
    "write_atomic",
    "write_files",
]

_RENAME_EXCHANGE = 2

MARKER = ".meshcharts"
"""The file that marks a folder meshcharts wrote (and may therefore replace)."""

_MARKER_TEXT = (
    b"This folder was written by meshcharts; the next run that writes here replaces it whole.\n"
)


class OutputError(UserError):
    """An output path cannot be used: it is not meshcharts' to replace, or cannot be written."""


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux renameat2(RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)


def replace_dir(staged: Path, target: Path) -> None:
    """Put the folder ``staged`` in place of ``target`` (which may not exist yet).

    On Linux the two are swapped in one atomic step; elsewhere the old folder is moved
    aside first, so a crash leaves it next to the target rather than losing it.
    """
    if not target.exists():
        staged.rename(target)
        return
    if not target.is_dir():
        raise OutputError(str(target), "exists and is not a folder")
    if _exchange(staged, target):
        shutil.rmtree(staged)
        return
    aside = target.with_name(f".{target.name}.old-{os.getpid()}-")
    target.rename(aside)
    staged.rename(target)
    shutil.rmtree(aside)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive, and not ours to judge
        return True
    return True


def clean_stale(folder: Path, *prefixes: str) -> list[Path]:
    """Remove what killed runs of meshcharts left in ``folder``: ``<prefix><pid>-...`` entries.

    Temporary names carry the pid of the process that made them; an entry whose process is
    gone is left over from a killed run and removed (a live process's entry is kept, so
    concurrent runs never remove each other's work). Returns what was removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        prefix = next((p for p in prefixes if entry.name.startswith(p)), None)
        if prefix is None:
            continue
        pid_text = entry.name[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _protected(resolved: Path) -> str:
    """Why a folder may never be replaced ("" if it may)."""
    if resolved == Path(resolved.anchor):
        return "is the root folder"
    if resolved == Path.home().resolve():
        return "is the home folder"
    cwd = Path.cwd().resolve()
    if resolved == cwd:
        return "is the current folder; give a folder inside it, such as charts_out"
    if resolved in cwd.parents:
        return "contains the current folder"
    return ""


def _first_entry(folder: Path) -> str | None:
    """The first entry of ``folder`` by name, or None if it is empty."""
    with os.scandir(folder) as entries:
        names = sorted(entry.name for entry in entries)
    return names[0] if names else None


def check_output_dir(target: Path, *, what: str, legacy: tuple[str, ...] = ()) -> None:
    """Refuse an output folder that meshcharts may not replace.

    Args:
        target: the folder to write.
        what: how the user named it, for messages (``--out charts_out``).
        legacy: file names that also mark a folder as meshcharts' own (e.g. ``build.json``
            of builds made before the marker existed).

    Raises:
        OutputError: ``target`` is a link, a file, the root, home or current folder (or a
            parent of it), or a non-empty folder without the marker.
    """
    if target.is_symlink():
        raise OutputError(what, "is a symbolic link; give the folder itself")
    why = _protected(target.resolve())
    if why:
        raise OutputError(what, why)
    if not target.exists():
        parent = next((p for p in target.parents if p.exists() or p.is_symlink()), None)
        if parent is not None and not parent.is_dir():
            raise OutputError(what, f"cannot be created: {parent} is not a folder")
        return
    if not target.is_dir():
        raise OutputError(what, "exists and is not a folder")
    try:
        first = _first_entry(target)
    except OSError as exc:
        raise OutputError(what, f"cannot be read: {exc.strerror or exc}") from None
    if first is None or any((target / name).is_file() for name in (MARKER, *legacy)):
        return
    raise OutputError(
        what,
        f"is not empty and was not written by meshcharts (it holds {first!r}); "
        "give a new or empty folder",
    )


@contextmanager
def staged_dir(target: Path, *, what: str | None = None) -> Iterator[Path]:
    """A fresh folder beside ``target``; on success it replaces ``target``, on error it goes.

    The folder gets the :data:`MARKER` file, so a later run may replace it in turn. Call
    :func:`check_output_dir` first: this only writes.

    Raises:
        OutputError: the folder cannot be created or swapped in (no permission, a full
            disk, a read-only file system).
    """
    subject = what or str(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(target.parent, f".{target.name}.tmp-", f".{target.name}.old-")
        staged = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent)
        )
    except OSError as exc:
        raise OutputError(subject, f"cannot be written: {exc.strerror or exc}") from None
    try:
        yield staged
        (staged / MARKER).write_bytes(_MARKER_TEXT)
        staged.chmod(0o755)
        replace_dir(staged, target)
    except OSError as exc:
        shutil.rmtree(staged, ignore_errors=True)
        raise OutputError(subject, f"cannot be written: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise


def write_files(root: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` (relative path -> bytes) under ``root``."""
    for relpath, data in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def write_atomic(path: Path, data: bytes, *, what: str | None = None, clean: bool = True) -> None:
    """Replace the regular file ``path`` with ``data`` in one rename, synced to disk.

    The temporary file is created exclusively (a unique name) in the target's folder, so
    readers see the old file or the new one. A destination that exists and is not a regular
    file (a folder, a link, a FIFO, a device) is refused, never replaced. With ``clean``, the
    temporary files of ``path`` that killed runs left are removed first (one folder scan: a
    caller writing many files into one folder cleans them once, with :func:`clean_stale`).

    Raises:
        OutputError: the destination is not a regular file, or cannot be written.
    """
    subject = what or str(path)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        kind = "a symbolic link" if path.is_symlink() else "not a regular file"
        raise OutputError(subject, f"is {kind}; give the path of a regular file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if clean:
            clean_stale(path.parent, f".{path.name}.tmp-")
        # mkstemp opens with O_CREAT | O_EXCL on a new random name: nothing planted there
        # (a link, a FIFO) can be written through.
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-{os.getpid()}-", dir=path.parent)
    except OSError as exc:
        raise OutputError(subject, f"cannot be written: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(subject, f"cannot be written: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
