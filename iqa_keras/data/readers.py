"""One reader per IQA dataset, each taking the root folder as its authors distribute it.

``read_dataset(name, root)`` returns the record table of ``records.py``
(absolute paths, the dataset's own score and direction); ``dataset_spec(name)``
says what the score means. File names are matched case-insensitively, which
absorbs TID's upper/lower-case quirks (``I25.bmp`` vs ``I25.BMP``,
``i01_01_1.bmp`` vs ``I01_01_1.BMP``). A malformed label line is an error
naming the file and line; an image named by a label file but absent keeps its
expected path, so ``validate_records`` reports it by row.
"""
from __future__ import annotations

import csv
import math
import os
import re
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .records import DatasetSpec, make_records

SPECS = {
    "tid2008": DatasetSpec("tid2008", "MOS", default_norm=(4.47, 1.30),
                           description="TID2008: 25 references x 17 distortions x 4 levels, MOS 0-9"),
    "tid2013": DatasetSpec("tid2013", "MOS", default_norm=(4.47, 1.30),
                           description="TID2013: 25 references x 24 distortions x 5 levels, MOS 0-9"),
    "kadid10k": DatasetSpec("kadid10k", "MOS",
                            description="KADID-10k: 81 references x 25 distortions x 5 levels; its 'dmos' column is a 1-5 MOS"),
    "pipal": DatasetSpec("pipal", "Elo", default_norm=(1449.05, 121.35),
                         description="PIPAL training set: Elo scores (range approximate)"),
    "pieapp": DatasetSpec("pieapp", "preference", official_split=True, default_crop="pad",
                          default_norm=(0.47, 0.26),
                          description="PieAPP: probability of preference for image A (train/val); test: minus the "
                                      "per-image error score, so that higher is better throughout"),
    "live": DatasetSpec("live", "DMOS",
                        description="LIVE IQA Release 2: DMOS, lower is better (reference copies excluded)"),
    "csiq": DatasetSpec("csiq", "DMOS", description="CSIQ: DMOS 0-1, lower is better"),
    "koniq10k": DatasetSpec("koniq10k", "MOS", kind="nr", official_split=True,
                            description="KonIQ-10k: no-reference, MOS 1-5, official train/val/test sets"),
    "ava": DatasetSpec("ava", "mean vote", kind="nr",
                       description="AVA: aesthetic votes 1-10 (mean of the 10-bin histogram)"),
    "embedded": DatasetSpec("embedded", "MOS",
                            description="embedded synthetic set: skimage photographs, 7 distortions x 5 levels"),
    "csv": DatasetSpec("csv", "score", description="generic CSV: ref,dist,mos[,db]"),
}


def dataset_spec(name: str) -> DatasetSpec:
    """What the scores of dataset ``name`` mean (direction, range, seed defaults)."""
    key = str(name).lower()
    if key not in SPECS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(sorted(SPECS))}")
    return SPECS[key]


class _Folder:
    """Case-insensitive file lookup in one folder (optionally recursive)."""

    def __init__(self, folder: Path, recursive: bool = False):
        self.folder = Path(folder)
        self.by_name = {}
        if not self.folder.is_dir():
            return
        walker = os.walk(self.folder) if recursive else [(str(self.folder), [], os.listdir(self.folder))]
        for directory, _, files in walker:
            for file in sorted(files):
                self.by_name.setdefault(file.lower(), os.path.join(directory, file))

    def path(self, name: str) -> str:
        """The file's real path, or its expected path when absent (reported later by row)."""
        found = self.by_name.get(name.lower())
        return os.path.abspath(found if found else self.folder / name)


def _require_dir(root, name: str) -> Path:
    if root is None:
        raise ValueError(f"dataset {name!r} needs its root folder (root=...)")
    root = Path(root).expanduser()
    if not root.exists():
        raise ValueError(f"{name}: root folder not found: {root}")
    return root


def _subdir(root: Path, *candidates: str) -> Path:
    """The first existing child of ``root`` among ``candidates`` (case-insensitive)."""
    children = {p.name.lower(): p for p in root.iterdir() if p.is_dir()} if root.is_dir() else {}
    for name in candidates:
        if name.lower() in children:
            return children[name.lower()]
    return root / candidates[0]


def _find_file(root: Path, *candidates: str) -> Path:
    files = {p.name.lower(): p for p in root.iterdir() if p.is_file()} if root.is_dir() else {}
    for name in candidates:
        if name.lower() in files:
            return files[name.lower()]
    raise ValueError(f"{root}: expected one of {', '.join(candidates)}")


def _lines(path: Path):
    """Non-empty stripped lines with their 1-based numbers."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if line:
                yield number, line


def _float(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{where}: expected a number, got {text!r}") from None


# ---------------------------------------------------------------- TID2008 / TID2013
def _read_tid(root, name: str) -> pd.DataFrame:
    root = _require_dir(root, name)
    labels = _find_file(root, "mos_with_names.txt")
    refs = _Folder(_subdir(root, "reference_images"))
    dists = _Folder(_subdir(root, "distorted_images"))
    rows = []
    for number, line in _lines(labels):
        parts = line.split()
        where = f"{labels}:{number}"
        if len(parts) != 2:
            raise ValueError(f"{where}: expected '<mos> <image name>', got {line!r}")
        mos, file = _float(parts[0], where), parts[1]
        match = re.fullmatch(r"(i\d+)_(\d+)_(\d+)\.\w+", file, flags=re.IGNORECASE)
        if not match:
            raise ValueError(f"{where}: image name {file!r} is not of the form iXX_TT_L.bmp")
        content = match.group(1).lower()
        rows.append({
            "dist": dists.path(file), "ref": refs.path(f"{content}.bmp"), "mos": mos,
            "content": f"tid:{content}", "distortion": match.group(2), "level": int(match.group(3)),
        })
    std_file = root / "mos_std.txt"
    if std_file.is_file():
        stds = [(_float(line.split()[0], f"{std_file}:{n}")) for n, line in _lines(std_file)]
        if len(stds) != len(rows):
            raise ValueError(f"{std_file}: {len(stds)} values for {len(rows)} lines of {labels}")
        for row, std in zip(rows, stds):
            row["mos_std"] = std
    return make_records(rows, db=name)


def read_tid2008(root) -> pd.DataFrame:
    """TID2008: ``mos_with_names.txt`` ("<mos> <name>"), optional ``mos_std.txt``, image folders."""
    return _read_tid(root, "tid2008")


def read_tid2013(root) -> pd.DataFrame:
    """TID2013: ``mos_with_names.txt``, ``mos_std.txt`` (same order), image folders."""
    return _read_tid(root, "tid2013")


# ---------------------------------------------------------------- KADID-10k
def read_kadid10k(root) -> pd.DataFrame:
    """KADID-10k: ``dmos.csv`` (dist_img, ref_img, dmos, var); images in ``images/``.

    ``var`` is a variance: ``mos_std = sqrt(var)``.
    """
    root = _require_dir(root, "kadid10k")
    labels = _find_file(root, "dmos.csv")
    images = _Folder(_subdir(root, "images"), recursive=True)
    table = _read_csv_checked(labels, ("dist_img", "ref_img", "dmos", "var"))
    rows = []
    for line, rec in table:
        where = f"{labels}:{line}"
        dist, ref = rec["dist_img"], rec["ref_img"]
        var = _float(rec["var"], where)
        match = re.fullmatch(r"(i\d+)_(\d+)_(\d+)\.\w+", dist, flags=re.IGNORECASE)
        rows.append({
            "dist": images.path(dist), "ref": images.path(ref), "mos": _float(rec["dmos"], where),
            "mos_std": math.sqrt(var) if var >= 0 else float("nan"),
            "content": f"kadid:{Path(ref).stem.upper()}",
            "distortion": match.group(2) if match else "", "level": int(match.group(3)) if match else np.nan,
        })
    return make_records(rows, db="kadid10k")


def _read_csv_checked(path: Path, required) -> list:
    """Rows of a CSV as (line number, dict of lower-case column -> stripped value); checks the header."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ValueError(f"{path}: empty file") from None
        lower = [h.lower() for h in header]
        missing = [c for c in required if c.lower() not in lower]
        if missing:
            raise ValueError(f"{path}:1: header lacks column(s) {missing}; found {header}")
        rows = []
        for number, values in enumerate(reader, start=2):
            if not values or all(not v.strip() for v in values):
                continue
            if len(values) < len(header):
                raise ValueError(f"{path}:{number}: expected {len(header)} fields, got {len(values)}")
            record = {h: v.strip() for h, v in zip(lower, values)}
            rows.append((number, record))
        return rows


# ---------------------------------------------------------------- PIPAL
def read_pipal(root) -> pd.DataFrame:
    """PIPAL: ``Train_Label/<REF>.txt`` lines "<name>,<elo>"; reference ``<name before first _>.bmp``.

    Images are found anywhere under ``root`` (``Train_Ref/``, ``Train_Dis/`` or
    ``Distortion_*/`` folders all work).
    """
    root = _require_dir(root, "pipal")
    label_dir = _subdir(root, "Train_Label", "Train_Labels", "Labels")
    if not label_dir.is_dir():
        raise ValueError(f"pipal: label folder not found: {label_dir}")
    images = _Folder(root, recursive=True)
    rows = []
    for label_file in sorted(label_dir.glob("*.txt")):
        for number, line in _lines(label_file):
            where = f"{label_file}:{number}"
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 2:
                raise ValueError(f"{where}: expected '<image name>,<elo score>', got {line!r}")
            name = parts[0]
            stem = name.split("_")[0]
            pieces = Path(name).stem.split("_")
            rows.append({
                "dist": images.path(name), "ref": images.path(f"{stem}.bmp"), "mos": _float(parts[1], where),
                "content": f"pipal:{stem}", "distortion": pieces[1] if len(pieces) > 1 else "",
            })
    if not rows:
        raise ValueError(f"pipal: no label lines in {label_dir}/*.txt")
    return make_records(rows, db="pipal")


# ---------------------------------------------------------------- PieAPP
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
    root = _require_dir(root, "pieapp")
    label_root = _subdir(root, "labels")
    rows = []
    for split in ("train", "val", "test"):
        ref_dir = _subdir(_subdir(root, "reference_images"), split)
        dist_root = _subdir(_subdir(root, "distorted_images"), split)
        split_labels = _subdir(label_root, split)
        if not split_labels.is_dir():
            continue
        ref_list = root / f"{split}_reference_list.txt"
        if ref_list.is_file():
            ref_names = [line.split()[0] for _, line in _lines(ref_list)]
        else:
            ref_names = sorted(p.name for p in ref_dir.glob("*.png"))
        refs = _Folder(ref_dir)
        for ref_name in ref_names:
            stem = Path(ref_name).stem
            dists = _Folder(_subdir(dist_root, stem))
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


# ---------------------------------------------------------------- LIVE Release 2
LIVE_FOLDERS = ("jp2k", "jpeg", "wn", "gblur", "fastfading")


def _mat_strings(value) -> list:
    """A MATLAB cell array of strings (as scipy loads it) -> list of str."""
    out = []
    for item in np.asarray(value, dtype=object).ravel():
        while isinstance(item, np.ndarray) and item.dtype == object and item.size == 1:
            item = item.ravel()[0]
        out.append(str(np.asarray(item).ravel()[0]) if isinstance(item, np.ndarray) else str(item))
    return out


def read_live(root) -> pd.DataFrame:
    """LIVE IQA Release 2: ``dmos.mat`` (dmos, orgs), ``refnames_all.mat``, five distortion folders.

    The DMOS vector runs over the folders in the order jp2k, jpeg, wn, gblur,
    fastfading, each folder's ``img1.bmp ... imgN.bmp`` in number order; rows
    with ``orgs == 1`` (the references' own copies, DMOS 0) are left out.
    DMOS: lower is better. References in ``refimgs/``.
    """
    from scipy.io import loadmat

    root = _require_dir(root, "live")
    dmos_file = _find_file(root, "dmos.mat")
    refnames_file = _find_file(root, "refnames_all.mat")
    mat = loadmat(dmos_file)
    if "dmos" not in mat:
        raise ValueError(f"{dmos_file}: expected a variable 'dmos', found {sorted(k for k in mat if not k.startswith('__'))}")
    dmos = np.asarray(mat["dmos"], dtype=np.float64).ravel()
    orgs = np.asarray(mat.get("orgs", np.zeros_like(dmos)), dtype=np.float64).ravel()
    refnames = loadmat(refnames_file)
    if "refnames_all" not in refnames:
        raise ValueError(f"{refnames_file}: expected a variable 'refnames_all'")
    names = _mat_strings(refnames["refnames_all"])
    entries = []
    for folder in LIVE_FOLDERS:
        directory = _subdir(root, folder)
        numbers = sorted(
            int(m.group(1)) for f in (os.listdir(directory) if directory.is_dir() else [])
            if (m := re.fullmatch(r"img(\d+)\.bmp", f, flags=re.IGNORECASE))
        )
        if numbers and numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"live: {directory} should hold img1.bmp ... img{len(numbers)}.bmp without gaps")
        files = _Folder(directory)
        entries += [(folder, files.path(f"img{n}.bmp")) for n in range(1, len(numbers) + 1)]
    if not (len(entries) == len(dmos) == len(names) == len(orgs)):
        raise ValueError(
            f"live: {len(entries)} images in {', '.join(LIVE_FOLDERS)} but {len(dmos)} DMOS values in {dmos_file.name}, "
            f"{len(orgs)} orgs and {len(names)} reference names in {refnames_file.name}"
        )
    refs = _Folder(_subdir(root, "refimgs"))
    rows = [
        {"dist": path, "ref": refs.path(ref), "mos": score, "content": f"live:{Path(ref).stem.lower()}",
         "distortion": folder}
        for (folder, path), score, org, ref in zip(entries, dmos, orgs, names) if org != 1
    ]
    return make_records(rows, db="live")


# ---------------------------------------------------------------- CSIQ
_CSIQ_TYPES = {  # label in csiq.DMOS -> (folder, file tag)
    "noise": ("awgn", "AWGN"), "awgn": ("awgn", "AWGN"),
    "jpeg": ("jpeg", "JPEG"),
    "jpeg 2000": ("jpeg2000", "jpeg2000"), "jpeg2000": ("jpeg2000", "jpeg2000"),
    "1/f noise": ("fnoise", "fnoise"), "fnoise": ("fnoise", "fnoise"),
    "blur": ("blur", "BLUR"),
    "contrast": ("contrast", "contrast"),
}


def read_csiq(root) -> pd.DataFrame:
    """CSIQ: the "all_by_image" sheet of ``csiq.DMOS.xlsx`` (or its CSV export ``csiq.DMOS.csv``).

    Columns image, dst_type, dst_lev, dmos[, dmos_std]; references
    ``src_imgs/<image>.png``, distorted ``dst_imgs/<type>/<image>.<TYPE>.<lev>.png``.
    DMOS 0-1, lower is better. Reading the .xlsx needs openpyxl.
    """
    root = _require_dir(root, "csiq")
    try:
        labels = _find_file(root, "csiq.DMOS.csv", "csiq_dmos.csv")
        table = pd.read_csv(labels, skipinitialspace=True)
        first_line = 2
    except ValueError:
        labels = _find_file(root, "csiq.DMOS.xlsx", "csiq.DMOS.csv")
        try:
            table = pd.read_excel(labels, sheet_name="all_by_image")
        except ImportError:
            raise ValueError(f"{labels}: reading .xlsx needs openpyxl; install it or export the 'all_by_image' "
                             f"sheet to {root / 'csiq.DMOS.csv'}") from None
        first_line = 2
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in ("image", "dst_type", "dst_lev", "dmos") if c not in table.columns]
    if missing:
        raise ValueError(f"{labels}:1: header lacks column(s) {missing}; found {list(table.columns)}")
    refs = _Folder(_subdir(root, "src_imgs"))
    dst_root = _subdir(root, "dst_imgs")
    folders = {}
    rows = []
    for position, rec in enumerate(table.itertuples(index=False)):
        where = f"{labels}:{position + first_line}"
        kind = str(rec.dst_type).strip().lower()
        if kind not in _CSIQ_TYPES:
            raise ValueError(f"{where}: unknown dst_type {rec.dst_type!r}; expected one of {sorted(_CSIQ_TYPES)}")
        folder, tag = _CSIQ_TYPES[kind]
        if folder not in folders:
            folders[folder] = _Folder(_subdir(dst_root, folder))
        image = str(rec.image).strip()
        if image.endswith(".0") and image[:-2].isdigit():  # numeric names read as floats
            image = image[:-2]
        level = int(_float(str(rec.dst_lev), where))
        rows.append({
            "dist": folders[folder].path(f"{image}.{tag}.{level}.png"), "ref": refs.path(f"{image}.png"),
            "mos": _float(str(rec.dmos), where),
            "mos_std": _float(str(rec.dmos_std), where) if "dmos_std" in table.columns else np.nan,
            "content": f"csiq:{image.lower()}", "distortion": folder, "level": level,
        })
    return make_records(rows, db="csiq")


# ---------------------------------------------------------------- KonIQ-10k
_KONIQ_SETS = {"training": "train", "train": "train", "validation": "val", "val": "val", "test": "test"}


def read_koniq10k(root, resolution: str = "1024x768") -> pd.DataFrame:
    """KonIQ-10k (no reference): ``koniq10k_distributions_sets.csv`` with its official split.

    Columns image_name, c1..c5 (vote counts, kept as vote_1..vote_5), MOS, SD,
    set (training/validation/test -> split train/val/test). Images in
    ``<resolution>/`` (``1024x768`` or ``512x384``).
    """
    root = _require_dir(root, "koniq10k")
    labels = _find_file(root, "koniq10k_distributions_sets.csv")
    table = _read_csv_checked(labels, ("image_name", "MOS", "SD", "set"))
    images = _Folder(_subdir(root, resolution, "1024x768", "512x384", "images"))
    rows = []
    for line, rec in table:
        where = f"{labels}:{line}"
        split = _KONIQ_SETS.get(rec["set"].lower())
        if split is None:
            raise ValueError(f"{where}: set must be training/validation/test, got {rec['set']!r}")
        row = {"dist": images.path(rec["image_name"]), "ref": "", "mos": _float(rec["mos"], where),
               "mos_std": _float(rec["sd"], where), "content": f"koniq:{Path(rec['image_name']).stem}",
               "split": split}
        for k in range(1, 6):
            if f"c{k}" in rec:
                row[f"vote_{k}"] = _float(rec[f"c{k}"], where)
        rows.append(row)
    return make_records(rows, db="koniq10k")


# ---------------------------------------------------------------- AVA
def read_ava(root, skip_missing: bool = False) -> pd.DataFrame:
    """AVA (no reference): ``AVA.txt`` lines "index id v1..v10 tag1 tag2 challenge"; images ``images/<id>.jpg``.

    ``mos`` is the mean vote (1-10), ``mos_std`` the votes' standard
    deviation, and the ten counts are kept as vote_1..vote_10 (NIMA targets).
    ``skip_missing`` drops rows whose image is absent (the public archives
    lack a few).
    """
    root = _require_dir(root, "ava")
    labels = _find_file(root, "AVA.txt")
    image_dir = _subdir(root, "images", "image")
    images = _Folder(image_dir)
    scores = np.arange(1, 11, dtype=np.float64)
    rows = []
    for number, line in _lines(labels):
        parts = line.split()
        where = f"{labels}:{number}"
        if len(parts) != 15:
            raise ValueError(f"{where}: expected 15 fields (index, id, 10 votes, 2 tags, challenge), got {len(parts)}")
        votes = np.array([_float(v, where) for v in parts[2:12]])
        total = votes.sum()
        if total <= 0:
            raise ValueError(f"{where}: image {parts[1]} has no votes")
        mean = float((votes * scores).sum() / total)
        std = float(np.sqrt((votes * (scores - mean) ** 2).sum() / total))
        path = images.path(f"{parts[1]}.jpg")
        if skip_missing and not os.path.isfile(path):
            continue
        row = {"dist": path, "ref": "", "mos": mean, "mos_std": std, "content": f"ava:{parts[1]}",
               "challenge": int(_float(parts[14], where))}
        row.update({f"vote_{k + 1}": votes[k] for k in range(10)})
        rows.append(row)
    return make_records(rows, db="ava")


# ---------------------------------------------------------------- generic CSV
def read_csv_records(root, db: str | None = None) -> pd.DataFrame:
    """A generic CSV (``root``: the file, or a folder holding exactly one .csv).

    Columns ``dist`` and ``mos`` are required; ``ref`` (empty for no-reference),
    ``db``, ``mos_std``, ``content``, ``distortion``, ``level``, ``split`` are
    optional. Relative paths are relative to the CSV's folder. ``content``
    defaults to the reference's (else the image's) file stem.
    """
    path = Path(_require_dir(root, "csv"))
    if path.is_dir():
        found = sorted(path.glob("*.csv"))
        if len(found) != 1:
            raise ValueError(f"csv: {path} holds {len(found)} .csv files; name the file itself as root")
        path = found[0]
    table = pd.read_csv(path, skipinitialspace=True, dtype={"ref": str, "dist": str, "db": str, "content": str})
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in ("dist", "mos") if c not in table.columns]
    if missing:
        raise ValueError(f"{path}:1: header lacks column(s) {missing}; expected ref,dist,mos[,db]")
    base = path.parent

    def absolute(value) -> str:
        if not isinstance(value, str) or not value.strip():
            return ""
        return os.path.abspath(base / value.strip())

    table["dist"] = [absolute(v) for v in table["dist"]]
    table["ref"] = [absolute(v) for v in table["ref"]] if "ref" in table.columns else ""
    if "content" not in table.columns:
        table["content"] = [Path(r or d).stem for r, d in zip(table["ref"], table["dist"])]
    table["mos"] = pd.to_numeric(table["mos"], errors="coerce")
    bad = np.flatnonzero(~np.isfinite(table["mos"].to_numpy(dtype=np.float64)))
    if len(bad):
        raise ValueError(f"{path}:{bad[0] + 2}: mos is not a number")
    default_db = db or path.stem
    if "db" in table.columns:
        table["db"] = table["db"].fillna(default_db)
    return make_records(table, db=default_db)


# ---------------------------------------------------------------- entry point
def _read_embedded(root=None, **kwargs) -> pd.DataFrame:
    from .synthetic import read_embedded

    return read_embedded(root, **kwargs)


READERS: dict[str, Callable[..., pd.DataFrame]] = {
    "tid2008": read_tid2008,
    "tid2013": read_tid2013,
    "kadid10k": read_kadid10k,
    "pipal": read_pipal,
    "pieapp": read_pieapp,
    "live": read_live,
    "csiq": read_csiq,
    "koniq10k": read_koniq10k,
    "ava": read_ava,
    "csv": read_csv_records,
    "embedded": _read_embedded,
}


def read_dataset(name: str, root=None, **kwargs) -> pd.DataFrame:
    """Record table of dataset ``name`` (see ``READERS``) from its root folder.

    ``embedded`` needs no root (its cache folder; ``cache_dir=``, ``size=``,
    ``seed=`` are accepted); extra keyword arguments go to the reader.
    """
    key = str(name).lower()
    if key not in READERS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(sorted(READERS))}")
    return READERS[key](root, **kwargs)


__all__ = ["READERS", "SPECS", "dataset_spec", "read_dataset"]
