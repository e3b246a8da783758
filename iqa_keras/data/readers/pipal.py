"""PIPAL (Jinjin et al. 2020), the NTIRE 2021 challenge's training set: Elo scores per reference."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..records import make_records
from .files import Folder, label_lines, parse_float, require_dir, subdir


def read_pipal(root) -> pd.DataFrame:
    """PIPAL: ``Train_Label/<REF>.txt`` lines "<name>,<elo>"; reference ``<name before first _>.bmp``.

    Images are found anywhere under ``root`` (``Train_Ref/``, ``Train_Dis/`` or
    ``Distortion_*/`` folders all work).
    """
    root = require_dir(root, "pipal")
    label_dir = subdir(root, "Train_Label", "Train_Labels", "Labels")
    if not label_dir.is_dir():
        raise ValueError(f"pipal: label folder not found: {label_dir}")
    images = Folder(root, recursive=True)
    rows = []
    for label_file in sorted(label_dir.glob("*.txt")):
        for number, line in label_lines(label_file):
            where = f"{label_file}:{number}"
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 2:
                raise ValueError(f"{where}: expected '<image name>,<elo score>', got {line!r}")
            name = parts[0]
            stem = name.split("_")[0]
            pieces = Path(name).stem.split("_")
            rows.append({
                "dist": images.path(name), "ref": images.path(f"{stem}.bmp"), "mos": parse_float(parts[1], where),
                "content": f"pipal:{stem}", "distortion": pieces[1] if len(pieces) > 1 else "", "origin": where,
            })
    if not rows:
        raise ValueError(f"pipal: no label lines in {label_dir}/*.txt")
    return make_records(rows, db="pipal")
