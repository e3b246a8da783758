"""The experiment's data: blur sigmas, the paper's MOS formula, the four artificial biases, the tables."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

TRAIN_DATASETS = ("train_1", "train_2", "train_3", "train_4")
# The paper's artificial biases, [b0, b1, b2, b3] of b0 + b1 x + b2 x^2 + b3 x^3.
TRUE_BIASES = {
    "train_1": (0.0, 1.0, 0.0, 0.0),
    "train_2": (0.5, 0.5, 0.0, 0.0),
    "train_3": (3.0, 0.3, 0.0, 0.0),
    "train_4": (-2.3, 5.03133896, -1.6883704, 0.19968759),
}
IDENTITY_BIAS = (0.0, 1.0, 0.0, 0.0)
SAMPLES_PER_SPLIT = 80
SIGMA_RANGE = (1.0, 3.0)
MOS_RANGE = (1.0, 5.0)  # the paper's MOS scale; third-order f must increase on it
SEED_TRAIN_FRACTION = 20 / 29  # the paper's 20 training and 9 validation references

# Embedded default: scikit-image sample photographs that ship with the package
# (no download). Grey ones are repeated to RGB; the largest are reduced to
# ``max_side`` before blurring. 12 training contents (a multiple of four, so
# that each content belongs to one dataset, as in the paper: content j goes to
# dataset train_{(j - 1) mod 4 + 1}) and 4 validation contents never seen in
# training. (An order that put the most detailed photographs in train_1, the
# anchor, was tried: plain MSE then generalised worse, 0.77 instead of 0.90,
# and the bias-aware loss did not gain.)
EMBEDDED_TRAIN = (
    "astronaut", "rocket", "motorcycle_left", "immunohistochemistry", "hubble_deep_field", "retina",
    "camera", "brick", "grass", "moon", "page", "text",
)
EMBEDDED_VAL = ("chelsea", "coffee", "coins", "gravel")


def sigma_to_mos(sigma):
    """The paper's simulated MOS of a Gaussian blur of standard deviation ``sigma``."""
    sigma = np.asarray(sigma, dtype=float)
    m = 100.0 - 50.0 * (sigma - 1.0)
    return np.maximum(1.0, 1.0 + 0.035 * m + m * (m - 60.0) * (100.0 - m) * 7e-6)


def true_bias(label: str) -> tuple:
    """The artificial bias of dataset ``label`` (``train_k`` or ``train_mixed_k``: that of train_k)."""
    key = label if label in TRUE_BIASES else f"train_{label.rsplit('_', 1)[-1]}"
    if key not in TRUE_BIASES:
        raise ValueError(f"dataset label {label!r}: expected one of {', '.join(TRUE_BIASES)} (or train_mixed_1..4)")
    return TRUE_BIASES[key]


def reference_biases(labels) -> dict:
    """``{label: bias}`` in the reference implementation's way: the k-th label to appear gets train_k's bias.

    For the paper's ``iqb_train.csv`` (train_1 .. train_4 in order) this is
    the same as :func:`true_bias`; for ``iqb_train_mixed.csv``, whose labels
    first appear as train_mixed_1, _4, _2, _3, train_mixed_4 gets train_2's
    bias, and so on.
    """
    order = list(dict.fromkeys(str(label) for label in labels))
    if len(order) > len(TRAIN_DATASETS):
        raise ValueError(f"the reference assigns {len(TRAIN_DATASETS)} biases; the table has {len(order)} "
                         f"datasets ({', '.join(order)})")
    return {label: TRUE_BIASES[TRAIN_DATASETS[k]] for k, label in enumerate(order)}


def seed_scheme(train_names, val_names, count: int = SAMPLES_PER_SPLIT, sigma_range=SIGMA_RANGE):
    """The paper's tables for any lists of references: (train, val) DataFrames.

    Sample i of each split gets sigma ``linspace(low, high, count)[i]`` and
    reference ``names[(i + 1) % len(names)]`` (names sorted as given); training
    sample i goes to dataset ``train_{i % 4 + 1}``. On the 29 LIVE references
    sorted by name, first 20 for training, this gives the paper's
    ``iqb_train.csv`` and ``iqb_val.csv`` exactly.
    """
    import pandas as pd

    if not train_names or not val_names:
        raise ValueError("seed_scheme: need at least one training and one validation reference")
    sigmas = np.linspace(sigma_range[0], sigma_range[1], count)
    train = pd.DataFrame({
        "src_image": [train_names[(i + 1) % len(train_names)] for i in range(count)],
        "sigma": sigmas,
        "db": [TRAIN_DATASETS[i % 4] for i in range(count)],
    })
    val = pd.DataFrame({
        "src_image": [val_names[(i + 1) % len(val_names)] for i in range(count)],
        "sigma": sigmas,
        "db": "val",
    })
    return train, val


def read_table(path):
    """One of the paper's tables (``src_image,sigma,db``), checked row by row."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"experiment table not found: {path}")
    table = pd.read_csv(path)
    missing = [c for c in ("src_image", "sigma", "db") if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected src_image,sigma,db")
    for row, sigma in enumerate(table["sigma"]):
        if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"{path}: line {row + 2}: sigma must be a non-negative number, got {sigma!r}")
    return table


def _folder_split(names: list[str]) -> tuple[list[str], list[str]]:
    """Sorted names, the first ~20/29 (a multiple of 4) for training, as the paper's tables."""
    names = sorted(names)
    n_train = max(4, int(round(len(names) * SEED_TRAIN_FRACTION)) // 4 * 4)
    if len(names) <= n_train:
        raise ValueError(f"need more than {n_train} reference images to keep some for validation, got {len(names)}")
    return names[:n_train], names[n_train:]


def experiment_tables(options):
    """(train, val) tables: the given CSVs, the paper's CSVs beside ``--refs``, or the paper's scheme."""
    from ...data.images import is_image_file

    if options.refs is None:
        if options.train_table or options.val_table:
            raise ValueError("--train-table/--val-table need --refs (the folder holding their images)")
        return seed_scheme(list(EMBEDDED_TRAIN), list(EMBEDDED_VAL))
    refs = Path(options.refs)
    if not refs.is_dir():
        raise FileNotFoundError(f"--refs: not a folder: {refs}")
    train_table, val_table = options.train_table, options.val_table
    if train_table is None and val_table is None:
        for folder in (refs, refs.parent):
            candidates = (folder / "bias_loss_iqb_train.csv", folder / "bias_loss_iqb_val.csv")
            if all(c.is_file() for c in candidates):
                train_table, val_table = map(str, candidates)
                break
    if (train_table is None) != (val_table is None):
        raise ValueError("give both --train-table and --val-table, or neither")
    if train_table is not None:
        return read_table(train_table), read_table(val_table)
    names = [p.name for p in refs.iterdir() if p.is_file() and is_image_file(p.name)]
    return seed_scheme(*_folder_split(names))
