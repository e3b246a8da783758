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

import pandas as pd

from ...registry import DATASETS
from ..records import DatasetSpec
from .ava import read_ava
from .csiq import read_csiq
from .kadid import read_kadid10k
from .koniq import read_koniq10k
from .live import read_live
from .pieapp import read_pieapp
from .pipal import read_pipal
from .table import read_csv_records
from .tid import read_tid2008, read_tid2013

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
    "photos": DatasetSpec("photos", "score",
                          description="a folder of clean photographs distorted by the zoo; formula or classical-metric "
                                      "labels on a 1-5 scale, higher is better"),
    "csv": DatasetSpec("csv", "score", description="generic CSV: ref,dist,mos[,db]"),
}


def dataset_spec(name: str) -> DatasetSpec:
    """What the scores of dataset ``name`` mean (direction, range, recipe defaults)."""
    key = str(name).lower()
    if key not in SPECS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(sorted(SPECS))}")
    return SPECS[key]


def _read_photos(root=None, **kwargs) -> pd.DataFrame:
    from ..photos import read_photos

    return read_photos(root, **kwargs)


def _read_embedded(root=None, **kwargs) -> pd.DataFrame:
    from ..synthetic import read_embedded

    return read_embedded(root, **kwargs)


for _name, _reader in (
    ("tid2008", read_tid2008),
    ("tid2013", read_tid2013),
    ("kadid10k", read_kadid10k),
    ("pipal", read_pipal),
    ("pieapp", read_pieapp),
    ("live", read_live),
    ("csiq", read_csiq),
    ("koniq10k", read_koniq10k),
    ("ava", read_ava),
    ("csv", read_csv_records),
    ("embedded", _read_embedded),
    ("photos", _read_photos),
):
    DATASETS.register(_name)(_reader)
READERS = DATASETS  # the readers by name (``[[data.datasets]] name``)


def read_dataset(name: str, root=None, **kwargs) -> pd.DataFrame:
    """Record table of dataset ``name`` (a registered source, see ``DATASETS``) from its root folder.

    ``embedded`` needs no root (its cache folder; ``cache_dir=``, ``size=``,
    ``seed=`` are accepted); extra keyword arguments go to the reader.
    """
    key = str(name).lower()
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS.names())}")
    return DATASETS.get(key)(root, **kwargs)


__all__ = ["READERS", "SPECS", "dataset_spec", "read_dataset"]
