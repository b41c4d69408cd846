"""Files under `SPECBRIDGE_HOME` hold secrets or what calls did (vault, keys, audit): each is created
readable by its owner only (files 0600, folders 0700), whatever the umask, and one found more open is
narrowed when it is opened again."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TextIO

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # a folder of another owner (a shared mount) is left as it is
        os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """`path` existing with mode 0600 (created empty when absent), its folder private."""
    private_dir(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
    return path


def narrow(*paths: Path) -> None:
    """Files another program created beside ours (SQLite's -wal and -shm): 0600 when they exist."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.chmod(path, FILE_MODE)


def open_private_append(path: Path) -> TextIO:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    with contextlib.suppress(OSError):
        os.fchmod(descriptor, FILE_MODE)
    return os.fdopen(descriptor, "a", encoding="utf-8")
