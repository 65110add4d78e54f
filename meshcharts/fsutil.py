"""Writing output folders so that readers see the old tree or the new one, never half."""

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

__all__ = ["replace_dir", "staged_dir", "write_files"]

_RENAME_EXCHANGE = 2


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
        raise UserError(str(target), "exists and is not a folder")
    if _exchange(staged, target):
        shutil.rmtree(staged)
        return
    aside = target.with_name(f".{target.name}.old-{os.getpid()}")
    target.rename(aside)
    staged.rename(target)
    shutil.rmtree(aside)


@contextmanager
def staged_dir(target: Path) -> Iterator[Path]:
    """A fresh folder beside ``target``; on success it replaces ``target``, on error it goes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield staged
        staged.chmod(0o755)
        replace_dir(staged, target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise


def write_files(root: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` (relative path -> bytes) under ``root``."""
    for relpath, data in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
