"""AVA (Murray et al. 2012), aesthetics: ``AVA.txt`` vote counts and ``images/``."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..records import make_records
from .files import Folder, find_file, label_lines, parse_float, require_dir, subdir


def read_ava(root, skip_missing: bool = False) -> pd.DataFrame:
    """AVA (no reference): ``AVA.txt`` lines "index id v1..v10 tag1 tag2 challenge"; images ``images/<id>.jpg``.

    ``mos`` is the mean vote (1-10), ``mos_std`` the votes' standard
    deviation, and the ten counts are kept as vote_1..vote_10 (NIMA targets).
    ``skip_missing`` drops rows whose image is absent (the public archives
    lack a few).
    """
    root = require_dir(root, "ava")
    labels = find_file(root, "AVA.txt")
    image_dir = subdir(root, "images", "image")
    images = Folder(image_dir)
    scores = np.arange(1, 11, dtype=np.float64)
    rows = []
    for number, line in label_lines(labels):
        parts = line.split()
        where = f"{labels}:{number}"
        if len(parts) != 15:
            raise ValueError(f"{where}: expected 15 fields (index, id, 10 votes, 2 tags, challenge), got {len(parts)}")
        votes = np.array([parse_float(v, where) for v in parts[2:12]])
        total = votes.sum()
        if total <= 0:
            raise ValueError(f"{where}: image {parts[1]} has no votes")
        mean = float((votes * scores).sum() / total)
        std = float(np.sqrt((votes * (scores - mean) ** 2).sum() / total))
        path = images.path(f"{parts[1]}.jpg")
        if skip_missing and not os.path.isfile(path):
            continue
        row = {"dist": path, "ref": "", "mos": mean, "mos_std": std, "content": f"ava:{parts[1]}",
               "challenge": int(parse_float(parts[14], where)), "origin": where}
        row.update({f"vote_{k + 1}": votes[k] for k in range(10)})
        rows.append(row)
    return make_records(rows, db="ava")
