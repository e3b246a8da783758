"""Atomic writes: a failed write leaves the old file (or nothing) and no temporary file; modes follow the umask."""
import os
import stat

import pytest

from iqa_keras.utils.atomic import atomic_path, atomic_write_bytes, atomic_write_text


def test_write_replaces_the_whole_file(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    atomic_write_text(target, "first\n")
    atomic_write_bytes(target, b"second\n")
    assert target.read_bytes() == b"second\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "new.json") as temporary:
            raise RuntimeError("interrupted before anything was written")
    assert not (tmp_path / "new.json").exists()


def test_temporary_keeps_the_suffixes_writers_need(tmp_path):
    with atomic_path(tmp_path / "last.weights.h5") as temporary:
        assert temporary.name.endswith(".weights.h5") and temporary.parent == tmp_path
        temporary.write_bytes(b"x")
    with atomic_path(tmp_path / "figure.png", suffix=".png") as temporary:
        assert temporary.suffix == ".png"
        temporary.write_bytes(b"x")


def test_mode_follows_the_umask_like_open(tmp_path):
    previous = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        with open(tmp_path / "b.txt", "w") as handle:  # what a plain open() creates
            handle.write("x")
    finally:
        os.umask(previous)
    mode = stat.S_IMODE((tmp_path / "a.txt").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o640
