"""LIVE IQA Release 2 (Sheikh et al. 2006): ``dmos.mat``, ``refnames_all.mat``, five distortion folders."""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..records import make_records
from .files import Folder, find_file, require_dir, subdir

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

    root = require_dir(root, "live")
    dmos_file = find_file(root, "dmos.mat")
    refnames_file = find_file(root, "refnames_all.mat")
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
        directory = subdir(root, folder)
        numbers = sorted(
            int(m.group(1)) for f in (os.listdir(directory) if directory.is_dir() else [])
            if (m := re.fullmatch(r"img(\d+)\.bmp", f, flags=re.IGNORECASE))
        )
        if numbers and numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"live: {directory} should hold img1.bmp ... img{len(numbers)}.bmp without gaps")
        files = Folder(directory)
        entries += [(folder, files.path(f"img{n}.bmp")) for n in range(1, len(numbers) + 1)]
    if not (len(entries) == len(dmos) == len(names) == len(orgs)):
        raise ValueError(
            f"live: {len(entries)} images in {', '.join(LIVE_FOLDERS)} but {len(dmos)} DMOS values in {dmos_file.name}, "
            f"{len(orgs)} orgs and {len(names)} reference names in {refnames_file.name}"
        )
    refs = Folder(subdir(root, "refimgs"))
    rows = [
        {"dist": path, "ref": refs.path(ref), "mos": score, "content": f"live:{Path(ref).stem.lower()}",
         "distortion": folder}
        for (folder, path), score, org, ref in zip(entries, dmos, orgs, names) if org != 1
    ]
    return make_records(rows, db="live")
