"""A generic CSV of pairs (or images) and scores: any dataset without a reader of its own."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..records import make_records
from .files import read_csv_checked, require_dir

_TEXT_COLUMNS = {"ref", "dist", "db", "content", "distortion", "split", "mos"}


def read_csv_records(root, db: str | None = None) -> pd.DataFrame:
    """A generic CSV (``root``: the file, or a folder holding exactly one .csv).

    Columns ``dist`` and ``mos`` are required; ``ref`` (empty for no-reference),
    ``db``, ``mos_std``, ``content``, ``distortion``, ``level``, ``split`` are
    optional. Relative paths are relative to the CSV's folder. ``content``
    defaults to the reference's (else the image's) file stem. Each row keeps
    its ``origin`` (``file.csv:line``) so that errors name the line to fix;
    a UTF-8 byte-order mark (as spreadsheets write) is ignored.
    """
    path = Path(require_dir(root, "csv"))
    if path.is_dir():
        found = sorted(path.glob("*.csv"))
        if len(found) != 1:
            raise ValueError(f"csv: {path} holds {len(found)} .csv files; name the file itself as root")
        path = found[0]
    try:
        lines = read_csv_checked(path, ("dist", "mos"))
    except ValueError as error:
        raise ValueError(f"{error}; expected ref,dist,mos[,db]") from None
    table = pd.DataFrame([record for _, record in lines])
    if table.empty:
        raise ValueError(f"{path}: no rows below the header")
    table = table.replace("", np.nan)
    for column in set(table.columns) - _TEXT_COLUMNS:  # numbers where a column holds only numbers (vote_1, ...)
        numbers = pd.to_numeric(table[column], errors="coerce")
        if numbers.notna().sum() == table[column].notna().sum():
            table[column] = numbers
    table["origin"] = [f"{path}:{line}" for line, _ in lines]
    base = path.parent

    def absolute(value) -> str:
        if not isinstance(value, str) or not value.strip():
            return ""
        return os.path.abspath(base / value.strip())

    table["dist"] = [absolute(v) for v in table["dist"]]
    table["ref"] = [absolute(v) for v in table["ref"]] if "ref" in table.columns else ""
    if "content" not in table.columns:
        table["content"] = [Path(r or d).stem for r, d in zip(table["ref"], table["dist"])]
    table["content"] = table["content"].fillna("")
    table["mos"] = pd.to_numeric(table["mos"], errors="coerce")
    bad = np.flatnonzero(~np.isfinite(table["mos"].to_numpy(dtype=np.float64)))
    if len(bad):
        raise ValueError(f"{table['origin'].iloc[bad[0]]}: mos is not a number")
    default_db = db or path.stem
    if "db" in table.columns:
        table["db"] = table["db"].fillna(default_db)
    return make_records(table, db=default_db)
