"""HDF5 stores of prepared pairs, in the seed's layout, written chunk by chunk.

Layout (one file per split)::

    x        N x 2 x S x S x 3 uint8   reference first, then distorted
                                       (N x 1 x S x S x 3 for no-reference data)
    y        N x 1 float32             standardised score, (mos - mean[db]) / std[db]
    mos      N float32                 the dataset's own score
    db       N str                     dataset name of each row
    name     N str                     distorted image file name
    content  N str                     content (reference image) id
    attrs    score_norm (JSON {db: [mean, std]}), input_size, crop (JSON {db: policy}),
             kind ("fr"/"nr"), count, format ("iqa_keras-h5-v1")

Images are centre-cropped or zero-padded to S exactly as the tf.data pipeline
does (``pipeline.fit_to_size_numpy``; the seed's TID centre crop and PieAPP
zero-padding). Rows are decoded and written in blocks of ``block_rows``, so
memory stays bounded whatever the dataset size; the file is written under a
temporary name and renamed when complete. The seed stored (distorted,
reference) for PIPAL but (reference, distorted) for TID/PieAPP; here the
order is always reference first.
"""
from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from .images import read_image
from .pipeline import fit_to_size_numpy, normalised_scores
from .records import compute_score_norm, is_full_reference

FORMAT = "iqa_keras-h5-v1"


def _load_row(row, size: int, full_reference: bool) -> np.ndarray:
    dist = read_image(row[0])
    images = [dist]
    if full_reference:
        ref = read_image(row[1])
        if ref.shape != dist.shape:
            raise ValueError(f"reference {row[1]} is {ref.shape[1]}x{ref.shape[0]} but distorted {row[0]} "
                             f"is {dist.shape[1]}x{dist.shape[0]}")
        images = [ref, dist]
    return np.stack([fit_to_size_numpy(image, size) for image in images])


def write_h5(
    df: pd.DataFrame,
    path,
    input_size: int = 288,
    score_norm="auto",
    block_rows: int = 64,
    compression: str | None = None,
    workers: int = 2,
    progress: bool = True,
) -> Path:
    """Writes the pairs of ``df`` to ``path`` (see the module docstring); returns the path.

    ``score_norm``: "auto" (mean/std per db of ``df``), None (y = raw mos),
    ``(mean, std)`` or ``{db: (mean, std)}``. ``compression``: None, "gzip"
    or "lzf" (chunks are one sample, so random reads stay cheap).
    """
    import h5py

    if len(df) == 0:
        raise ValueError("write_h5: the record table is empty")
    path = Path(path)
    size = int(input_size)
    full_reference = is_full_reference(df)
    if score_norm == "auto":
        score_norm = compute_score_norm(df)
    y = normalised_scores(df, score_norm)
    if score_norm is None:
        norm_attr = {db: [0.0, 1.0] for db in sorted(df["db"].astype(str).unique())}
    elif isinstance(score_norm, dict):
        norm_attr = {str(k): [float(v[0]), float(v[1])] for k, v in score_norm.items()}
    else:
        norm_attr = {db: [float(score_norm[0]), float(score_norm[1])] for db in sorted(df["db"].astype(str).unique())}
    crops = {}
    if "crop" in df.columns:
        crops = {str(db): str(c) for db, c in df.groupby("db")["crop"].first().items()}
    per_row = 2 if full_reference else 1
    count = len(df)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    string = h5py.string_dtype()
    rows = list(zip(df["dist"].astype(str), df["ref"].fillna("").astype(str)))
    try:
        with h5py.File(temporary, "w") as handle:
            x = handle.create_dataset(
                "x", shape=(count, per_row, size, size, 3), dtype="uint8",
                chunks=(1, per_row, size, size, 3), compression=compression,
            )
            handle.create_dataset("y", data=y.reshape(count, 1).astype(np.float32))
            handle.create_dataset("mos", data=df["mos"].to_numpy(dtype=np.float32))
            handle.create_dataset("db", data=df["db"].astype(str).to_numpy(dtype=object), dtype=string)
            handle.create_dataset("name", data=np.array([os.path.basename(d) for d, _ in rows], dtype=object), dtype=string)
            handle.create_dataset("content", data=df["content"].astype(str).to_numpy(dtype=object), dtype=string)
            handle.attrs.update({
                "format": FORMAT, "input_size": size, "kind": "fr" if full_reference else "nr", "count": count,
                "score_norm": json.dumps(norm_attr), "crop": json.dumps(crops),
            })
            with ThreadPoolExecutor(max(1, workers)) as pool:
                for start in range(0, count, block_rows):
                    block = rows[start:start + block_rows]
                    x[start:start + len(block)] = np.stack(list(pool.map(lambda r: _load_row(r, size, full_reference), block)))
                    if progress:
                        done = start + len(block)
                        print(f"\r{path.name}: {done}/{count} rows", end="" if done < count else "\n",
                              file=sys.stderr, flush=True)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return path


def read_h5_info(path) -> dict:
    """The attributes and row count of an HDF5 store (without reading images)."""
    import h5py

    with h5py.File(path, "r") as handle:
        info = dict(handle.attrs)
        info["count"] = int(handle["x"].shape[0])
        info["x_shape"] = tuple(handle["x"].shape)
    for key in ("score_norm", "crop"):
        if isinstance(info.get(key), (str, bytes)):
            info[key] = json.loads(info[key])
    return info
