"""KonIQ-10k (Hosu et al. 2020), no-reference: ``koniq10k_distributions_sets.csv`` with its official split."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..records import make_records
from .files import Folder, find_file, parse_float, read_csv_checked, require_dir, subdir

_KONIQ_SETS = {"training": "train", "train": "train", "validation": "val", "val": "val", "test": "test"}


def read_koniq10k(root, resolution: str = "1024x768") -> pd.DataFrame:
    """KonIQ-10k (no reference): ``koniq10k_distributions_sets.csv`` with its official split.

    Columns image_name, c1..c5 (vote counts, kept as vote_1..vote_5), MOS, SD,
    set (training/validation/test -> split train/val/test). Images in
    ``<resolution>/`` (``1024x768`` or ``512x384``).
    """
    root = require_dir(root, "koniq10k")
    labels = find_file(root, "koniq10k_distributions_sets.csv")
    table = read_csv_checked(labels, ("image_name", "MOS", "SD", "set"))
    images = Folder(subdir(root, resolution, "1024x768", "512x384", "images"))
    rows = []
    for line, rec in table:
        where = f"{labels}:{line}"
        split = _KONIQ_SETS.get(rec["set"].lower())
        if split is None:
            raise ValueError(f"{where}: set must be training/validation/test, got {rec['set']!r}")
        row = {"dist": images.path(rec["image_name"]), "ref": "", "mos": parse_float(rec["mos"], where),
               "mos_std": parse_float(rec["sd"], where), "content": f"koniq:{Path(rec['image_name']).stem}",
               "split": split, "origin": where}
        for k in range(1, 6):
            if f"c{k}" in rec:
                row[f"vote_{k}"] = parse_float(rec[f"c{k}"], where)
        rows.append(row)
    return make_records(rows, db="koniq10k")
