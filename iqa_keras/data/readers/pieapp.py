"""PieAPP (Prashnani et al. 2018): pairwise preferences (train/val) and per-image error scores (test).

The two label kinds are different quantities: a probability of preference
(0..1) for the train/val comparisons and a per-image perceptual error (minus
it here, so that higher is better) for the test images. Every row says which
it carries in the ``score_kind`` column ("preference" or "minus_error"), so
that training never standardises or mixes one with the other's constants
(see ``iqa_keras.training.data``).
"""
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


PER_COMPARISON = ("none", "comparison")  # ``aggregate`` values that keep one row per comparison


def read_pieapp(root, aggregate: str | None = "mean") -> pd.DataFrame:
    """PieAPP with its official train/val/test split (column ``split``).

    Train/val: the NTIRE 2021 reference's score, the "processed preference for A" of each
    labelled pair, as the score of image A. With ``aggregate="mean"`` (default)
    each distorted image gets the mean over its rows as image A (one row per
    image); ``aggregate="none"`` (or None; TOML has no null) keeps one row per
    labelled comparison like the NTIRE 2021 reference (~77k rows for train + val).
    Such rows repeat (reference, distorted) pairs; each carries its
    comparison's id (``label file:line``) in the ``comparison`` column, which
    the training data check accepts as what makes a repeated pair distinct
    (other callers validate with ``allow_duplicates=True``). Test: the
    per-image scores of ``ref_XXX_per_image_score.csv``, negated (PieAPP's are
    error scores, higher = worse) so that higher is better throughout, with
    ``score_kind`` "minus_error" (train/val rows: "preference").
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
                    "split": split, "comparison": f"{label_file}:{position + 2}",
                    "score_kind": "minus_error" if split == "test" else "preference",
                })
    if not rows:
        raise ValueError(f"pieapp: no label files found under {label_root}")
    df = pd.DataFrame(rows)
    if aggregate == "mean":
        keys = ["dist", "ref", "content", "distortion", "split", "score_kind"]
        df = df.groupby(keys, sort=False, as_index=False).agg(mos=("mos", "mean"))
    elif aggregate is not None and aggregate not in PER_COMPARISON:
        raise ValueError(f"pieapp: aggregate must be 'mean' or 'none' (one row per comparison), got {aggregate!r}")
    return make_records(df, db="pieapp")
