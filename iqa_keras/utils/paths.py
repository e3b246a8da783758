"""Checking, before any work, that an output path can be written.

A scoring run that fails only when it writes its results has wasted all of
its work; a training run whose folder is a file fails after reading the
data. These checks run first and raise an ``OSError`` naming the user's
path: a folder given where a file is expected (or the reverse), a parent
that is a file, or a folder where no file can be created (permissions, a
read-only file system). Writability is tested by creating and removing a
probe file, which also holds for the root user, whom permission bits do not
stop.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def _check_can_create_in(folder: Path, user_path: Path) -> None:
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{existing} is a file, not a folder", os.fspath(user_path))
    try:
        handle, probe = tempfile.mkstemp(prefix=".tmp-probe-", dir=existing)
    except OSError as error:
        raise type(error)(error.errno, f"cannot create files in {existing} ({error.strerror})",
                          os.fspath(user_path)) from None
    os.close(handle)
    os.unlink(probe)


def check_output_file(path: str | os.PathLike) -> Path:
    """``path`` names a file that can be written (created or replaced); returns it as a Path."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder; expected a file name", os.fspath(path))
    _check_can_create_in(path.parent, path)
    return path


def check_output_dir(path: str | os.PathLike) -> Path:
    """``path`` is a folder (existing or to be created) in which files can be written; returns it."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "is an existing file; expected a folder", os.fspath(path))
    _check_can_create_in(path, path)
    return path
