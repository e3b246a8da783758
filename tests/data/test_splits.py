"""Splits by content: no content on two sides, seeded, per dataset, official splits kept."""
import numpy as np
import pandas as pd

from iqa_keras.data import make_records, split_by_content


def _table():
    rows = []
    for db, contents in (("tid2008", 25), ("tid2013", 25), ("kadid10k", 30)):
        family = "tid" if db.startswith("tid") else "kadid"
        for c in range(contents):
            for k in range(4):
                rows.append({"dist": f"/{db}/{c}_{k}.bmp", "ref": f"/{db}/{c}.bmp", "mos": float(k),
                             "content": f"{family}:i{c:02d}"})
    return pd.concat([make_records([r for r in rows if r["dist"].startswith(f"/{db}/")], db=db)
                      for db in ("tid2008", "tid2013", "kadid10k")], ignore_index=True)


def test_no_content_in_two_splits_and_fractions():
    df = _table()
    splits = split_by_content(df, {"train": 0.6, "val": 0.2, "test": 0.2}, seed=3)
    seen = [set(part["content"]) for part in splits.values()]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not seen[i] & seen[j]
    assert sum(len(p) for p in splits.values()) == len(df)
    # TID2008 and TID2013 share their 25 scenes: each scene sits on one side for both
    tid_val = splits["val"][splits["val"]["db"].str.startswith("tid")]
    assert set(tid_val[tid_val.db == "tid2008"]["content"]) == set(tid_val[tid_val.db == "tid2013"]["content"])
    # contents per split follow the fractions within each dataset (25 tid scenes, 30 kadid)
    counts = {name: part.groupby("db")["content"].nunique().to_dict() for name, part in splits.items()}
    assert counts["train"]["kadid10k"] == 18 and counts["val"]["kadid10k"] == 6
    assert counts["train"]["tid2008"] == 15 and counts["test"]["tid2008"] == 5


def test_same_seed_same_split_whatever_the_row_order():
    df = _table()
    a = split_by_content(df, seed=7)
    b = split_by_content(df.sample(frac=1.0, random_state=1), seed=7)
    assert set(a["val"]["dist"]) == set(b["val"]["dist"])
    c = split_by_content(df, seed=8)
    assert set(a["val"]["content"]) != set(c["val"]["content"])


def test_every_requested_split_gets_a_content_and_official_split_is_kept():
    df = make_records([{"dist": f"/x/{i}.png", "mos": 1.0, "content": f"c{i}"} for i in range(3)], db="tiny")
    splits = split_by_content(df, {"train": 0.9, "val": 0.05, "test": 0.05}, seed=0)
    assert [len(splits[k]) for k in ("train", "val", "test")] == [1, 1, 1]
    df["split"] = ["train", "test", "train"]
    official = split_by_content(df, use_official=True)
    assert sorted(official) == ["test", "train"] and len(official["train"]) == 2
    assert np.array_equal(official["test"]["dist"], ["/x/1.png"])
