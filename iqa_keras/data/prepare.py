"""Dataset folders -> HDF5 stores per split (``iqa-keras prepare`` and ``prepare_dataset/``).

Each named dataset is read, validated (missing/corrupt images and bad scores
stop the run before anything is written), given its crop/pad policy (the
seed's: centre crop for TID, zero padding for PieAPP; ``--crop NAME=MODE``
overrides), split by content (no reference image in two splits; an official
test split stays a test split), standardised per dataset and written as
``<out>/<prefix>_<split>.h5`` with ``h5store.write_h5``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from .h5store import write_h5
from .readers import dataset_spec, read_dataset
from .records import compute_score_norm, validate_records
from .splits import split_by_content


def _parse_pairs(items, what: str) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"{what}: expected NAME=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip() or None  # "embedded=" : no root
    return out


def _parse_fractions(text: str) -> dict:
    fractions = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            fractions[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--fractions: expected name=fraction[,name=fraction...], got {text!r}") from None
    return fractions


def prepare_h5(
    datasets: dict,
    out_dir,
    input_size: int = 288,
    split: str = "content",
    fractions=None,
    seed: int = 0,
    score_norm="seed",
    crops: dict | None = None,
    prefix: str = "data",
    compression: str | None = None,
    check_files=True,
) -> dict:
    """Writes one HDF5 file per split; returns ``{split: path}``.

    ``datasets``: ``{name: root}`` (reader names of ``read_dataset``).
    ``split``: "content" (seeded split by content with ``fractions``; an
    official test split is kept apart as "test"), "official", or "none" (one
    file, split "all"). ``score_norm``: "seed" (the seed's mean/std where it
    had one, else "auto"), "auto" (mean/std of the training split), "none".
    """
    fractions = dict(fractions or {"train": 0.8, "val": 0.2})
    crops = dict(crops or {})
    parts: dict[str, list] = {}
    norms = {}
    for name, root in datasets.items():
        spec = dataset_spec(name)
        records = validate_records(read_dataset(name, root), check_files=check_files)
        records = records.assign(crop=crops.get(name, spec.default_crop))
        if split == "none":
            groups = {"all": records}
        elif split == "official":
            if "split" not in records.columns or records["split"].isna().any():
                raise ValueError(f"{name}: the dataset has no official split; use --split content")
            groups = split_by_content(records, use_official=True)
        elif split == "content":
            groups = {}
            if "split" in records.columns and records["split"].eq("test").any():
                groups["test"] = records[records["split"].eq("test")].reset_index(drop=True)
                records = records[~records["split"].eq("test")].reset_index(drop=True)
            for key, part in split_by_content(records, fractions, seed=seed).items():
                groups[key] = pd.concat([groups[key], part], ignore_index=True) if key in groups else part
        else:
            raise ValueError(f"split must be 'content', 'official' or 'none', got {split!r}")
        training = groups.get("train", records)
        if score_norm == "seed" and spec.default_norm is not None:
            norms[name] = spec.default_norm
        elif score_norm in ("seed", "auto"):
            norms.update(compute_score_norm(training.assign(db=name)))
        elif score_norm == "none":
            norms[name] = (0.0, 1.0)
        else:
            raise ValueError(f"score_norm must be 'seed', 'auto' or 'none', got {score_norm!r}")
        for key, part in groups.items():
            if len(part):
                parts.setdefault(key, []).append(part.assign(db=name))
    written = {}
    for key, frames in parts.items():
        table = pd.concat(frames, ignore_index=True)
        path = Path(out_dir) / f"{prefix}_{key}.h5"
        written[key] = write_h5(table, path, input_size=input_size, score_norm=norms, compression=compression)
        print(f"{path}: {len(table)} rows ({', '.join(f'{db} {n}' for db, n in table['db'].value_counts().sort_index().items())})")
    return written


def add_prepare_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--dataset", action="append", required=True, metavar="NAME=ROOT",
                        help="a dataset reader name and its root folder (repeatable), e.g. tid2013=/data/tid2013")
    parser.add_argument("--out", required=True, help="output folder for <prefix>_<split>.h5")
    parser.add_argument("--size", type=int, default=288, help="stored image size S (default 288)")
    parser.add_argument("--crop", action="append", metavar="NAME=MODE",
                        help="crop/pad policy per dataset: center or pad (default: the seed's per dataset)")
    parser.add_argument("--split", default="content", choices=("content", "official", "none"))
    parser.add_argument("--fractions", default="train=0.8,val=0.2", help="content split fractions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--score-norm", default="seed", choices=("seed", "auto", "none"))
    parser.add_argument("--prefix", default="data")
    parser.add_argument("--compression", default=None, choices=(None, "gzip", "lzf"))
    return parser


def run_prepare(args: argparse.Namespace) -> int:
    prepare_h5(
        _parse_pairs(args.dataset, "--dataset"), args.out, input_size=args.size, split=args.split,
        fractions=_parse_fractions(args.fractions), seed=args.seed, score_norm=args.score_norm,
        crops=_parse_pairs(args.crop, "--crop"), prefix=args.prefix, compression=args.compression,
    )
    return 0


def main(argv=None, defaults: dict | None = None, description: str | None = None) -> int:
    """Command-line entry used by the ``prepare_dataset/`` scripts."""
    parser = add_prepare_arguments(argparse.ArgumentParser(description=description or __doc__.splitlines()[0]))
    if defaults:
        parser.set_defaults(**defaults)
    return run_prepare(parser.parse_args(argv))
