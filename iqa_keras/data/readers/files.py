"""Finding a dataset's files as its authors name them, and reading label files with line numbers in errors."""
from __future__ import annotations

import csv
import os
from pathlib import Path


class Folder:
    """Case-insensitive file lookup in one folder (optionally recursive)."""

    def __init__(self, folder: Path, recursive: bool = False):
        self.folder = Path(folder)
        self.by_name = {}
        if not self.folder.is_dir():
            return
        walker = os.walk(self.folder) if recursive else [(str(self.folder), [], os.listdir(self.folder))]
        for directory, _, files in walker:
            for file in sorted(files):
                self.by_name.setdefault(file.lower(), os.path.join(directory, file))

    def path(self, name: str) -> str:
        """The file's real path, or its expected path when absent (reported later by row)."""
        found = self.by_name.get(name.lower())
        return os.path.abspath(found if found else self.folder / name)


def require_dir(root, name: str) -> Path:
    if root is None:
        raise ValueError(f"dataset {name!r} needs its root folder (root=...)")
    root = Path(root).expanduser()
    if not root.exists():
        raise ValueError(f"{name}: root folder not found: {root}")
    return root


def subdir(root: Path, *candidates: str) -> Path:
    """The first existing child of ``root`` among ``candidates`` (case-insensitive)."""
    children = {p.name.lower(): p for p in root.iterdir() if p.is_dir()} if root.is_dir() else {}
    for name in candidates:
        if name.lower() in children:
            return children[name.lower()]
    return root / candidates[0]


def find_file(root: Path, *candidates: str) -> Path:
    files = {p.name.lower(): p for p in root.iterdir() if p.is_file()} if root.is_dir() else {}
    for name in candidates:
        if name.lower() in files:
            return files[name.lower()]
    raise ValueError(f"{root}: expected one of {', '.join(candidates)}")


def label_lines(path: Path):
    """Non-empty stripped lines with their 1-based numbers."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if line:
                yield number, line


def parse_float(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{where}: expected a number, got {text!r}") from None


def read_csv_checked(path: Path, required) -> list:
    """Rows of a CSV as (line number, dict of lower-case column -> stripped value); checks the header."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ValueError(f"{path}: empty file") from None
        lower = [h.lower() for h in header]
        missing = [c for c in required if c.lower() not in lower]
        if missing:
            raise ValueError(f"{path}:1: header lacks column(s) {missing}; found {header}")
        rows = []
        for number, values in enumerate(reader, start=2):
            if not values or all(not v.strip() for v in values):
                continue
            if len(values) < len(header):
                raise ValueError(f"{path}:{number}: expected {len(header)} fields, got {len(values)}")
            record = {h: v.strip() for h, v in zip(lower, values)}
            rows.append((number, record))
        return rows
