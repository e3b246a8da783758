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

plus ``split`` when the dataset has an official split, ``origin``
(``label file:line``) when the reader knows where a row came from (errors
name the row by it), and dataset-specific extras (``vote_1`` ... for AVA and
KonIQ-10k).
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


def record_names(df: pd.DataFrame) -> list[str]:
    """How errors name each row: its ``origin`` (``file:line`` of the label file) or ``record N`` (from 1)."""
    origins = df["origin"].fillna("").astype(str).tolist() if "origin" in df.columns else [""] * len(df)
    return [origin or f"record {row + 1}" for row, origin in enumerate(origins)]


def _check_header(path: str) -> Optional[str]:
    """None when ``path`` exists and its image header verifies, else what is wrong with it."""
    if not os.path.isfile(path):
        return "file not found"
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.verify()
    except Exception as error:  # noqa: BLE001 - PIL raises many types for broken files
        return f"not a readable image ({type(error).__name__}: {error})"
    return None


def _file_problems(names: list, dist, ref, decode: bool) -> list:
    """Missing or unreadable images, one line each, each file once (``decode``: fully decoded by ``read_image``)."""
    problems, problem_of, reported = [], {}, set()
    for row, name in enumerate(names):
        for column, path in (("dist", dist[row]), ("ref", ref[row])):
            if not path or path in reported:
                continue
            if path not in problem_of:
                problem_of[path] = _check_decode(path) if decode else _check_header(path)
            if problem_of[path] is not None:
                reported.add(path)
                problems.append(f"{name}: {column} image {path}: {problem_of[path]}")
        if len(problems) > _MAX_REPORTED:
            break
    return problems


def _check_decode(path: str) -> Optional[str]:
    from .images import ImageReadError, read_image

    if not os.path.isfile(path):
        return "file not found"
    try:
        read_image(path)
    except ImageReadError as error:
        return str(error)
    return None


def raise_problems(problems: list) -> None:
    """One ValueError for a list of record problems: the first on the first line, up to 20 listed."""
    if not problems:
        return
    shown = problems[:_MAX_REPORTED]
    more = f"\n  ... and more ({len(problems)} shown so far)" if len(problems) > _MAX_REPORTED else ""
    if len(problems) == 1:
        raise ValueError(f"invalid record: {problems[0]}")
    raise ValueError(f"{len(problems)} problems in the records; the first: {shown[0]}\n  "
                     + "\n  ".join(shown[1:]) + more)


def validate_records(df: pd.DataFrame, check_files=True, allow_duplicates: bool = False) -> pd.DataFrame:
    """Checks a record table before any training starts; returns it unchanged.

    Raises ValueError listing (up to 20 of) the problems, each naming the row
    by its ``origin`` (the label file and line it came from) or as ``record N``
    (counted from 1), and the file: missing columns, empty paths, non-finite
    scores, duplicate (ref, dist) pairs and, with ``check_files``, missing or
    unreadable images. ``check_files=True``: the file exists and its header
    verifies; ``"decode"``: every image is fully decoded by ``read_image``.
    Each distinct file is checked once. (Training goes further before its
    first epoch: :mod:`.image_check` decodes with the pipeline's own decoder,
    caches the verdicts and checks that each pair has one size.)
    """
    missing = [c for c in ("dist", "ref", "mos", "db", "content") if c not in df.columns]
    if missing:
        raise ValueError(f"record table lacks column(s) {missing}; expected {list(COLUMNS)}")
    if len(df) == 0:
        raise ValueError("record table is empty: the dataset reader found no rows")
    problems = []
    names = record_names(df)
    dist = df["dist"].fillna("").astype(str).to_numpy()
    ref = df["ref"].fillna("").astype(str).to_numpy()
    mos = pd.to_numeric(df["mos"], errors="coerce").to_numpy(dtype=np.float64)
    for row in np.flatnonzero(~np.isfinite(mos)):
        problems.append(f"{names[row]} ({dist[row] or '?'}): score is {df['mos'].iloc[row]!r}, expected a finite number")
    for row in np.flatnonzero(dist == ""):
        problems.append(f"{names[row]}: empty distorted-image path")
    if not allow_duplicates:
        first_of = {}
        for row, key in enumerate(zip(ref, dist)):
            if key in first_of:
                problems.append(f"{names[row]} ({dist[row]}): duplicate of {names[first_of[key]]} "
                                "(same reference and distorted image)")
            else:
                first_of[key] = row
    if check_files and len(problems) <= _MAX_REPORTED:
        problems += _file_problems(names, dist, ref, check_files == "decode")
    raise_problems(problems)
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
