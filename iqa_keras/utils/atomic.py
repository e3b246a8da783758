"""Writing files so that a reader never sees half of one.

Every file the package writes (run files, models, figures, score files,
weights) goes through :func:`atomic_path`: the content is written under a
temporary name in the target folder and renamed over the target only when
complete, so an interrupted run leaves either the old file, the whole new
file, or nothing. A failure to create or rename the file is an ``OSError``
whose ``filename`` is the target the caller named, not the temporary name.
A process killed in the middle of a write leaves its temporary file behind;
:func:`remove_stale_temporaries` clears them when the folder is next used.
"""
from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yields a temporary path beside ``path``; renames it onto ``path`` when the block succeeds.

    ``suffix`` (default: the target's own suffixes, e.g. ``.weights.h5``) is
    kept on the temporary name for writers that choose the format by it.
    The temporary file is removed when the block raises.
    """
    path = Path(path)
    suffix = "".join(path.suffixes) if suffix is None else suffix
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder; expected a file name", os.fspath(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=suffix, dir=path.parent)
    except OSError as error:
        raise _naming(error, path) from None
    os.close(handle)
    temporary = Path(temporary)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_current_umask())  # as a plain open() would create it
        try:
            os.replace(temporary, path)
        except OSError as error:
            raise _naming(error, path) from None
    finally:
        if temporary.exists():
            temporary.unlink()


TEMPORARY_PREFIX = ".tmp-"


def _naming(error: OSError, path: Path) -> OSError:
    """The same kind of OSError, naming the caller's ``path`` (the temporary name means nothing to a user)."""
    if error.filename == os.fspath(path):
        return error
    return type(error)(error.errno, error.strerror or str(error), os.fspath(path))


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Removes the temporary files a killed writer left directly in ``folder``; returns them.

    Only for folders that one process writes at a time (a run folder), at its
    start: a live writer's temporary file would be removed too.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for candidate in folder.glob(f"{TEMPORARY_PREFIX}*"):
        if candidate.is_file():
            candidate.unlink()
            removed.append(candidate)
    return removed


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes ``data`` to ``path`` through a temporary file, synced, then renamed."""
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Writes ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
