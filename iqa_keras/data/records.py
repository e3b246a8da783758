"""One record table for every dataset, and the checks that run before training.

Every reader returns a pandas DataFrame with the columns of ``COLUMNS``:

``dist``
    absolute path of the distorted (or, for no-reference sets, the rated) image
``ref``
    absolute path of its reference image; "" for no-reference datasets
``mos``
    the dataset's own score (MOS, DMOS, Elo, preference probability ...),
    in the dataset's direction (see ``DatasetSpec.higher_is_better``)
``mos_std``
    standard deviation of the opinions when published, else NaN
``db``
    dataset name (the label used for per-dataset normalisation and metrics)
``content``
    id of the reference image (the scene). Ids carry a family prefix
    ("tid:i01", "kadid:I01" ...) so that datasets sharing scenes (TID2008 and
    TID2013 use the same 25 images) share content ids, and a split by content
    keeps a scene on one side even when datasets are mixed.
``distortion``
    distortion type as the dataset names it ("" when unknown)
``level``
    distortion level (float; NaN when the dataset has no ordered level)

plus ``split`` when the dataset has an official split, and dataset-specific
extras (``vote_1`` ... for AVA and KonIQ-10k).
"""
from __future__ import annotations

import dataclasses
import os
from typing import Optional

import numpy as np
import pandas as pd

from ..scales import DATASET_SCALES

COLUMNS = ("dist", "ref", "mos", "mos_std", "db", "content", "distortion", "level")
_MAX_REPORTED = 20


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What a dataset's scores mean and how the NTIRE 2021 recipes prepared its images.

    The score's range and direction come from ``iqa_keras.scales.DATASET_SCALES``
    (``score_range`` is approximate for Elo scores; None for a generic CSV);
    ``default_norm`` is the recipe's (mean, std) standardisation when it used
    one, ``default_crop`` its crop/pad policy, ``kind`` "fr" or "nr".
    """

    name: str
    score_name: str = "MOS"
    kind: str = "fr"
    official_split: bool = False
    default_crop: str = "center"
    default_norm: Optional[tuple] = None
    description: str = ""

    @property
    def scale(self):
        """The dataset's ``ScoreScale`` (range and direction), or None when it has none."""
        return DATASET_SCALES.get(self.name)

    @property
    def higher_is_better(self) -> bool:
        return True if self.scale is None else self.scale.higher_is_better

    @property
    def score_range(self) -> Optional[tuple]:
        return None if self.scale is None else self.scale.range


def make_records(rows, db: str) -> pd.DataFrame:
    """Builds a record table from a list of dicts (or a DataFrame), filling missing columns."""
    df = pd.DataFrame(rows)
    if df.empty:
        df = pd.DataFrame(columns=list(COLUMNS))
    for column, default in (("ref", ""), ("mos_std", np.nan), ("db", db), ("content", ""),
                            ("distortion", ""), ("level", np.nan)):
        if column not in df.columns:
            df[column] = default
    df["ref"] = df["ref"].fillna("").astype(str)
    df["dist"] = df["dist"].astype(str)
    df["mos"] = pd.to_numeric(df["mos"], errors="coerce").astype(np.float64)
    df["mos_std"] = pd.to_numeric(df["mos_std"], errors="coerce").astype(np.float64)
    df["level"] = pd.to_numeric(df["level"], errors="coerce").astype(np.float64)
    df["db"] = df["db"].fillna(db).astype(str)
    df["content"] = df["content"].astype(str)
    df["distortion"] = df["distortion"].fillna("").astype(str)
    extras = [c for c in df.columns if c not in COLUMNS]
    return df[list(COLUMNS) + extras].reset_index(drop=True)


def is_full_reference(df: pd.DataFrame) -> bool:
    """True when every row has a reference image."""
    return bool(len(df)) and bool(df["ref"].fillna("").astype(str).str.len().gt(0).all())


def _check_image(path: str, decode: bool) -> Optional[str]:
    """None when ``path`` is a readable image, else what is wrong with it."""
    if not os.path.isfile(path):
        return "file not found"
    if decode:
        from .images import ImageReadError, read_image

        try:
            read_image(path)
        except ImageReadError as error:
            return str(error)
        return None
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.verify()
    except Exception as error:  # noqa: BLE001 - PIL raises many types for broken files
        return f"not a readable image ({type(error).__name__}: {error})"
    return None


def validate_records(df: pd.DataFrame, check_files=True, allow_duplicates: bool = False) -> pd.DataFrame:
    """Checks a record table before any training starts; returns it unchanged.

    Raises ValueError listing (up to 20 of) the problems, each naming the row
    (0-based position in the table) and the file: missing columns, empty
    paths, non-finite scores, duplicate (ref, dist) pairs and, with
    ``check_files``, missing or unreadable images (``True``: the file exists
    and its header/structure verifies; ``"decode"``: every image is fully
    decoded, slower). Each distinct file is checked once.
    """
    missing = [c for c in ("dist", "ref", "mos", "db", "content") if c not in df.columns]
    if missing:
        raise ValueError(f"record table lacks column(s) {missing}; expected {list(COLUMNS)}")
    if len(df) == 0:
        raise ValueError("record table is empty: the dataset reader found no rows")
    problems = []
    dist = df["dist"].fillna("").astype(str).to_numpy()
    ref = df["ref"].fillna("").astype(str).to_numpy()
    mos = pd.to_numeric(df["mos"], errors="coerce").to_numpy(dtype=np.float64)
    for row in np.flatnonzero(~np.isfinite(mos)):
        problems.append(f"row {row} ({dist[row] or '?'}): score is {df['mos'].iloc[row]!r}, expected a finite number")
    for row in np.flatnonzero(dist == ""):
        problems.append(f"row {row}: empty distorted-image path")
    if not allow_duplicates:
        keys = pd.Series([f"{r}\x00{d}" for r, d in zip(ref, dist)])
        duplicated = keys.duplicated(keep="first").to_numpy()
        first_of = {}
        for row, key in enumerate(keys):
            if key not in first_of:
                first_of[key] = row
            elif duplicated[row]:
                problems.append(f"row {row} ({dist[row]}): duplicate of row {first_of[key]} (same reference and distorted image)")
    if check_files:
        decode = check_files == "decode"
        checked = {}
        for column, paths in (("dist", dist), ("ref", ref)):
            for row, path in enumerate(paths):
                if not path:
                    continue
                if path not in checked:
                    checked[path] = _check_image(path, decode)
                    if checked[path] is not None:
                        problems.append(f"row {row} ({column}={path}): {checked[path]}")
                if len(problems) > _MAX_REPORTED:
                    break
    if problems:
        shown = problems[:_MAX_REPORTED]
        more = f"\n  ... and more ({len(problems)} shown so far)" if len(problems) > _MAX_REPORTED else ""
        raise ValueError(f"invalid records ({len(problems)} problem(s)):\n  " + "\n  ".join(shown) + more)
    return df


def drop_missing_files(df: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """Rows whose images all exist, and the list of missing paths (for AVA's known gaps)."""
    exists = {}
    keep = []
    for d, r in zip(df["dist"].astype(str), df["ref"].fillna("").astype(str)):
        ok = True
        for path in (d, r):
            if path:
                if path not in exists:
                    exists[path] = os.path.isfile(path)
                ok = ok and exists[path]
        keep.append(ok)
    missing = sorted(p for p, e in exists.items() if not e)
    return df[np.array(keep, bool)].reset_index(drop=True), missing
