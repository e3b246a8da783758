"""CSIQ (Larson & Chandler 2010): the ``all_by_image`` sheet of ``csiq.DMOS.xlsx`` (or its CSV export)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..records import make_records
from .files import Folder, find_file, parse_float, require_dir, subdir

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
    root = require_dir(root, "csiq")
    try:
        labels = find_file(root, "csiq.DMOS.csv", "csiq_dmos.csv")
        table = pd.read_csv(labels, skipinitialspace=True)
        first_line = 2
    except ValueError:
        labels = find_file(root, "csiq.DMOS.xlsx", "csiq.DMOS.csv")
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
    refs = Folder(subdir(root, "src_imgs"))
    dst_root = subdir(root, "dst_imgs")
    folders = {}
    rows = []
    for position, rec in enumerate(table.itertuples(index=False)):
        where = f"{labels}:{position + first_line}"
        kind = str(rec.dst_type).strip().lower()
        if kind not in _CSIQ_TYPES:
            raise ValueError(f"{where}: unknown dst_type {rec.dst_type!r}; expected one of {sorted(_CSIQ_TYPES)}")
        folder, tag = _CSIQ_TYPES[kind]
        if folder not in folders:
            folders[folder] = Folder(subdir(dst_root, folder))
        image = str(rec.image).strip()
        if image.endswith(".0") and image[:-2].isdigit():  # numeric names read as floats
            image = image[:-2]
        level = int(parse_float(str(rec.dst_lev), where))
        rows.append({
            "dist": folders[folder].path(f"{image}.{tag}.{level}.png"), "ref": refs.path(f"{image}.png"),
            "mos": parse_float(str(rec.dmos), where),
            "mos_std": parse_float(str(rec.dmos_std), where) if "dmos_std" in table.columns else np.nan,
            "content": f"csiq:{image.lower()}", "distortion": folder, "level": level,
        })
    return make_records(rows, db="csiq")
