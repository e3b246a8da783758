"""The one split policy: official splits where a dataset has them, else seeded splits by content.

:func:`split_records` is what a config's ``split`` option means; it uses
:func:`split_by_content`, which keeps every reference image on one side.

The NTIRE 2021 reference split pairs at random, so distortions of one reference image sat in
both training and validation and the validation score measured memory of the
scene. Here whole contents (``records.content``) are assigned to splits.
Contents are shuffled per dataset (``db``) so that every dataset of a mixture
is represented in every split; a content shared by several datasets (TID2008
and TID2013 share their 25 images) is assigned once, with the first dataset
(in name order) that holds it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _allocate(count: int, fractions: list) -> list:
    """Number of contents per split: rounded shares, every positive share gets one when possible."""
    total = sum(fractions)
    shares = [f / total * count for f in fractions]
    sizes = [int(np.floor(s)) for s in shares]
    order = np.argsort([-(s - np.floor(s)) for s in shares], kind="stable")
    for index in order[: count - sum(sizes)]:
        sizes[index] += 1
    for index, fraction in enumerate(fractions):  # a split asked for must not come out empty
        if fraction > 0 and sizes[index] == 0:
            donor = int(np.argmax(sizes))
            if sizes[donor] > 1:
                sizes[donor] -= 1
                sizes[index] += 1
    return sizes


def split_by_content(df: pd.DataFrame, fractions=None, seed: int = 0, use_official: bool = False) -> dict:
    """``{split name: DataFrame}``: rows grouped by content into splits of the given fractions.

    ``fractions`` defaults to ``{"train": 0.8, "val": 0.2}``; the fractions are
    of contents (per dataset), not of rows. The same table and seed always
    give the same split, whatever the row order. With ``use_official`` and a
    ``split`` column filled for every row, the official split is returned
    instead.
    """
    fractions = dict(fractions or {"train": 0.8, "val": 0.2})
    if not fractions or any(float(f) < 0 for f in fractions.values()) or sum(fractions.values()) <= 0:
        raise ValueError(f"split fractions must be non-negative and sum to more than 0, got {fractions}")
    if "content" not in df.columns:
        raise ValueError("split_by_content: the record table has no 'content' column")
    if use_official and "split" in df.columns and df["split"].notna().all():
        return {str(name): part.reset_index(drop=True) for name, part in df.groupby("split", sort=True)}
    names = list(fractions)
    weights = [float(fractions[n]) for n in names]
    dbs = df["db"].astype(str) if "db" in df.columns else pd.Series("", index=df.index)
    contents = df["content"].astype(str)
    owner = {}
    for content, db in sorted(zip(contents, dbs), key=lambda pair: (pair[1], pair[0])):
        owner.setdefault(content, db)
    assignment = {}
    rng = np.random.default_rng(seed)
    for db in sorted(set(owner.values())):
        own = sorted(c for c, d in owner.items() if d == db)
        shuffled = [own[i] for i in rng.permutation(len(own))]
        start = 0
        for name, size in zip(names, _allocate(len(own), weights)):
            for content in shuffled[start:start + size]:
                assignment[content] = name
            start += size
    labels = contents.map(assignment)
    return {name: df[(labels == name).to_numpy()].reset_index(drop=True) for name in names}


SPLIT_POLICIES = ("auto", "official", "content", "train", "val", "test")
ROLES = ("train", "val", "test")


def split_records(records: pd.DataFrame, policy: str = "auto", fractions=None, seed: int = 0) -> dict:
    """``{role: DataFrame}`` of one dataset under a split policy.

    ``"auto"``: the dataset's official split (a ``split`` column filled on
    every row) when it has one, else a seeded split by content with
    ``fractions``; ``"official"``: the official split (an error without one);
    ``"content"``: always the seeded split by content; ``"train"``, ``"val"``
    or ``"test"``: the whole dataset in that role.
    """
    if policy not in SPLIT_POLICIES:
        raise ValueError(f"split: expected one of {', '.join(SPLIT_POLICIES)}, got {policy!r}")
    if policy in ROLES:
        return {policy: records}
    has_official = "split" in records.columns and records["split"].notna().all()
    if policy == "official" and not has_official:
        raise ValueError("split: the dataset has no official split (no 'split' value on every row)")
    if has_official and policy in ("auto", "official"):
        return {str(role): part.reset_index(drop=True) for role, part in records.groupby("split")}
    return split_by_content(records, fractions=dict(fractions or {"train": 0.8, "val": 0.2}), seed=seed)
