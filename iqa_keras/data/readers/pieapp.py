"""PieAPP (Prashnani et al. 2018): pairwise preferences (train/val) and per-image error scores (test)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..records import make_records
from .files import Folder, label_lines, require_dir, subdir


def _column(header, *keywords) -> str:
    """The first column whose lower-case name contains all ``keywords``."""
    for name in header:
        low = name.strip().lower()
        if all(k in low for k in keywords):
            return name
    raise KeyError(" ".join(keywords))


def _pieapp_distortion(name: str) -> str:
    parts = Path(name).stem.split("_")
    if len(parts) >= 5 and parts[0] == "distort":
        return "_".join(parts[2:-2])
    return ""


def read_pieapp(root, aggregate: str | None = "mean") -> pd.DataFrame:
    """PieAPP with its official train/val/test split (column ``split``).

    Train/val: the NTIRE 2021 reference's score, the "processed preference for A" of each
    labelled pair, as the score of image A. With ``aggregate="mean"`` (default)
    each distorted image gets the mean over its rows as image A (one row per
    image); ``aggregate=None`` keeps one row per comparison like the NTIRE 2021 reference
    (duplicate pairs: validate with ``allow_duplicates=True``). Test: the
    per-image scores of ``ref_XXX_per_image_score.csv``, negated (PieAPP's are
    error scores, higher = worse) so that higher is better throughout.
    """
    root = require_dir(root, "pieapp")
    label_root = subdir(root, "labels")
    rows = []
    for split in ("train", "val", "test"):
        ref_dir = subdir(subdir(root, "reference_images"), split)
        dist_root = subdir(subdir(root, "distorted_images"), split)
        split_labels = subdir(label_root, split)
        if not split_labels.is_dir():
            continue
        ref_list = root / f"{split}_reference_list.txt"
        if ref_list.is_file():
            ref_names = [line.split()[0] for _, line in label_lines(ref_list)]
        else:
            ref_names = sorted(p.name for p in ref_dir.glob("*.png"))
        refs = Folder(ref_dir)
        for ref_name in ref_names:
            stem = Path(ref_name).stem
            dists = Folder(subdir(dist_root, stem))
            if split == "test":
                label_file = split_labels / f"{stem}_per_image_score.csv"
                keywords = (("distorted",), ("score",))
            else:
                label_file = split_labels / f"{stem}_pairwise_labels.csv"
                keywords = (("image a",), ("processed",))
            if not label_file.is_file():
                raise ValueError(f"pieapp: label file not found: {label_file}")
            table = pd.read_csv(label_file, skipinitialspace=True)
            try:
                image_col = _column(table.columns, *keywords[0])
                score_col = _column(table.columns, *keywords[1])
            except KeyError as missing:
                raise ValueError(f"{label_file}:1: no column with {missing} in header {list(table.columns)}") from None
            for position, (image, score) in enumerate(zip(table[image_col], table[score_col])):
                image = str(image).strip()
                value = pd.to_numeric(score, errors="coerce")
                if split == "test":
                    value = -value
                is_ref = image.lower() == ref_name.lower()
                rows.append({
                    "dist": refs.path(image) if is_ref else dists.path(image), "ref": refs.path(ref_name),
                    "mos": value, "content": f"pieapp:{stem}", "distortion": _pieapp_distortion(image),
                    "split": split, "_line": f"{label_file}:{position + 2}",
                })
    if not rows:
        raise ValueError(f"pieapp: no label files found under {label_root}")
    df = pd.DataFrame(rows)
    if aggregate == "mean":
        keys = ["dist", "ref", "content", "distortion", "split"]
        df = df.groupby(keys, sort=False, as_index=False).agg(mos=("mos", "mean"))
    elif aggregate is not None:
        raise ValueError(f"pieapp: aggregate must be 'mean' or None, got {aggregate!r}")
    return make_records(df.drop(columns=["_line"], errors="ignore"), db="pieapp")
