"""Offline lightness copies: one extra, fixed copy of every training pair with its lightness scaled.

The NTIRE 2021 reference augmented PIPAL once, before training: it appended
to the training set one copy of every (reference, distorted) pair with the
CIE Lab lightness of both images multiplied by a factor drawn from
U(0.3, 1.5), and trained on originals and copies alike, so an epoch was twice
the data (2,320 steps of 16 instead of 1,160) and each copy kept its factor
for the whole run. The default here draws a new factor for every pair at
every epoch instead (``augment.lightness_policy = "on_the_fly"``);
``"offline_copy"`` reproduces the reference with this module.

No image is written: a copy is a record row with a ``lightness_factor``
column (0 for the originals), which the tf.data pipeline applies to both
images of the pair when it decodes them. The factors are drawn once from a
seeded generator, so the copies are the same in every epoch and every run
with the same seed, as stored copies would be.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

FACTOR_COLUMN = "lightness_factor"


def add_lightness_copies(records: pd.DataFrame, lightness, seed: int = 0) -> pd.DataFrame:
    """``records`` followed by one copy of each row whose ``lightness_factor`` is drawn from U(low, high).

    ``lightness`` = (low, high) with 0 < low <= high. The originals get
    factor 0 (unchanged). Row order: all originals, then all copies (the
    training pipeline shuffles).
    """
    if len(lightness) != 2 or not 0 < float(lightness[0]) <= float(lightness[1]):
        raise ValueError(f"lightness copies: expected (low, high) with 0 < low <= high, got {lightness!r}")
    if FACTOR_COLUMN in records.columns:
        raise ValueError(f"lightness copies: the records already have a {FACTOR_COLUMN!r} column (copied twice?)")
    low, high = float(lightness[0]), float(lightness[1])
    factors = np.random.default_rng(seed).uniform(low, high, len(records))
    originals = records.assign(**{FACTOR_COLUMN: 0.0})
    copies = records.assign(**{FACTOR_COLUMN: factors})
    return pd.concat([originals, copies], ignore_index=True)
