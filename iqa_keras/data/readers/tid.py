"""TID2008 and TID2013 (Ponomarenko et al.): ``mos_with_names.txt``, ``mos_std.txt``, image folders."""
from __future__ import annotations

import re

import pandas as pd

from ..records import make_records
from .files import Folder, find_file, label_lines, parse_float, require_dir, subdir


def _hold_out_first(rows: list, count, labels) -> None:
    """Gives every row a ``split``: its reference among the first ``count`` (i01, i02, ...) -> "val", else "train".

    The Keras NIMA reproduction on TID2013 held out "the first 3 images with
    all their distortions"; with this the split rule travels with the records
    (``split = "auto"`` or ``"official"`` then uses it).
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"{labels}: hold_out_first must be a whole number of references >= 0, got {count!r}")
    contents = sorted({row["content"] for row in rows})
    if count >= len(contents):
        raise ValueError(f"{labels}: hold_out_first = {count} would leave no reference image for training "
                         f"(the file names {len(contents)})")
    held_out = set(contents[:count])
    for row in rows:
        row["split"] = "val" if row["content"] in held_out else "train"


def _read_tid(root, name: str, hold_out_first: int = 0) -> pd.DataFrame:
    root = require_dir(root, name)
    labels = find_file(root, "mos_with_names.txt")
    refs = Folder(subdir(root, "reference_images"))
    dists = Folder(subdir(root, "distorted_images"))
    rows = []
    for number, line in label_lines(labels):
        parts = line.split()
        where = f"{labels}:{number}"
        if len(parts) != 2:
            raise ValueError(f"{where}: expected '<mos> <image name>', got {line!r}")
        mos, file = parse_float(parts[0], where), parts[1]
        match = re.fullmatch(r"(i\d+)_(\d+)_(\d+)\.\w+", file, flags=re.IGNORECASE)
        if not match:
            raise ValueError(f"{where}: image name {file!r} is not of the form iXX_TT_L.bmp")
        content = match.group(1).lower()
        rows.append({
            "dist": dists.path(file), "ref": refs.path(f"{content}.bmp"), "mos": mos,
            "content": f"tid:{content}", "distortion": match.group(2), "level": int(match.group(3)), "origin": where,
        })
    std_file = root / "mos_std.txt"
    if std_file.is_file():
        stds = [(parse_float(line.split()[0], f"{std_file}:{n}")) for n, line in label_lines(std_file)]
        if len(stds) != len(rows):
            raise ValueError(f"{std_file}: {len(stds)} values for {len(rows)} lines of {labels}")
        for row, std in zip(rows, stds):
            row["mos_std"] = std
    if hold_out_first:
        _hold_out_first(rows, hold_out_first, labels)
    return make_records(rows, db=name)


def read_tid2008(root, hold_out_first: int = 0) -> pd.DataFrame:
    """TID2008: ``mos_with_names.txt`` ("<mos> <name>"), optional ``mos_std.txt``, image folders.

    ``hold_out_first`` = n > 0 adds a ``split`` column: the distortions of the
    first n reference images (by number) "val", the rest "train".
    """
    return _read_tid(root, "tid2008", hold_out_first)


def read_tid2013(root, hold_out_first: int = 0) -> pd.DataFrame:
    """TID2013: ``mos_with_names.txt``, ``mos_std.txt`` (same order), image folders.

    ``hold_out_first`` = n > 0 adds a ``split`` column: the distortions of the
    first n reference images (i01 .. i0n) "val", the rest "train" (the Keras
    NIMA reproduction's split: n = 3).
    """
    return _read_tid(root, "tid2013", hold_out_first)
