"""AVA (Murray et al. 2012), aesthetics: ``AVA.txt`` vote counts and ``images/``."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..records import make_records
from .files import Folder, find_file, label_lines, parse_float, require_dir, subdir


def _read_split_list(path: Path, role: str) -> set:
    """Image ids of one of idealo's AVA lists: a JSON array of ``{"image_id": ..., "label": [...]}``."""
    if not path.is_file():
        raise ValueError(f"ava: split_lists.{role}: file not found: {path} (idealo's ava_labels_train.json / "
                         "ava_labels_test.json from its image-quality-assessment repository)")
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        return {str(entry["image_id"]).strip() for entry in entries}
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"{path}: expected a JSON array of {{\"image_id\": ..., \"label\": [...]}} "
                         f"objects ({type(error).__name__}: {error})") from None


def _split_roles(root: Path, split_lists) -> dict:
    """``{image id: role}`` from ``{role: list file}`` (paths relative to ``root``); an id in two lists is an error."""
    if not isinstance(split_lists, dict) or not split_lists or not set(split_lists) <= {"train", "val", "test"}:
        raise ValueError(f"ava: split_lists: expected {{train = file, val = file[, test = file]}}, got {split_lists!r}")
    roles = {}
    for role, name in split_lists.items():
        for image_id in _read_split_list(root / Path(str(name)).expanduser(), role):
            if roles.setdefault(image_id, role) != role:
                raise ValueError(f"ava: split_lists: image {image_id} is in both the {roles[image_id]} "
                                 f"and the {role} list")
    return roles


def read_ava(root, skip_missing: bool = False, split_lists=None) -> pd.DataFrame:
    """AVA (no reference): ``AVA.txt`` lines "index id v1..v10 tag1 tag2 challenge"; images ``images/<id>.jpg``.

    ``mos`` is the mean vote (1-10), ``mos_std`` the votes' standard
    deviation, and the ten counts are kept as vote_1..vote_10 (NIMA targets).
    ``skip_missing`` drops rows whose image is absent (the public archives
    lack a few). ``split_lists`` = ``{train = "ava_labels_train.json", val =
    "ava_labels_test.json"}`` (paths relative to ``root``) takes the split from
    idealo's lists, as the Keras NIMA reproduction did (it validated on
    idealo's test list): the rows get a ``split`` column and images in no
    list are left out.
    """
    root = require_dir(root, "ava")
    labels = find_file(root, "AVA.txt")
    image_dir = subdir(root, "images", "image")
    images = Folder(image_dir)
    scores = np.arange(1, 11, dtype=np.float64)
    roles = None if split_lists is None else _split_roles(root, split_lists)
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
        if roles is not None and parts[1] not in roles:
            continue
        row = {"dist": path, "ref": "", "mos": mean, "mos_std": std, "content": f"ava:{parts[1]}",
               "challenge": int(parse_float(parts[14], where)), "origin": where}
        if roles is not None:
            row["split"] = roles[parts[1]]
        row.update({f"vote_{k + 1}": votes[k] for k in range(10)})
        rows.append(row)
    if roles is not None and not rows:
        raise ValueError(f"ava: split_lists: no image of {labels} is in the lists {split_lists}")
    return make_records(rows, db="ava")
