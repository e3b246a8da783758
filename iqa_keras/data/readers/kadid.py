"""KADID-10k (Lin et al. 2019): ``dmos.csv`` and ``images/``."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..records import make_records
from .files import Folder, find_file, parse_float, read_csv_checked, require_dir, subdir


def read_kadid10k(root) -> pd.DataFrame:
    """KADID-10k: ``dmos.csv`` (dist_img, ref_img, dmos, var); images in ``images/``.

    ``var`` is a variance: ``mos_std = sqrt(var)``.
    """
    root = require_dir(root, "kadid10k")
    labels = find_file(root, "dmos.csv")
    images = Folder(subdir(root, "images"), recursive=True)
    table = read_csv_checked(labels, ("dist_img", "ref_img", "dmos", "var"))
    rows = []
    for line, rec in table:
        where = f"{labels}:{line}"
        dist, ref = rec["dist_img"], rec["ref_img"]
        var = parse_float(rec["var"], where)
        match = re.fullmatch(r"(i\d+)_(\d+)_(\d+)\.\w+", dist, flags=re.IGNORECASE)
        rows.append({
            "dist": images.path(dist), "ref": images.path(ref), "mos": parse_float(rec["dmos"], where),
            "mos_std": math.sqrt(var) if var >= 0 else float("nan"),
            "content": f"kadid:{Path(ref).stem.upper()}",
            "distortion": match.group(2) if match else "", "level": int(match.group(3)) if match else np.nan,
            "origin": where,
        })
    return make_records(rows, db="kadid10k")
