"""Every dataset reader on a tiny fixture folder in the real layout and label format.

Each test writes the dataset's label files and tiny images the way their
authors distribute them, then checks the row count, score values, score
direction, and that each distorted image is paired with the right reference.
Images carry their identity in pixel values (a reference's value is repeated
in its distorted versions) so that pairing is checked on the pixels.
"""
import os

import numpy as np
import pandas as pd
import pytest
from scipy.io import savemat

from helpers import write_image
from iqa_keras.data import dataset_spec, read_dataset, read_image, validate_records


def _save(path, value, size=(8, 8)):
    """A flat image whose red channel is ``value`` (identity) and green a per-file mark."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image = np.zeros((*size, 3), np.uint8)
    image[..., 0] = value
    image[..., 1] = len(os.path.basename(path)) % 251
    write_image(path, image)


def _pairs_match(df):
    """Distorted images were written with their reference's red value."""
    return all(read_image(d)[0, 0, 0] == read_image(r)[0, 0, 0] for d, r in zip(df["dist"], df["ref"]))


# ---------------------------------------------------------------- TID
@pytest.mark.parametrize("name", ["tid2008", "tid2013"])
def test_tid(tmp_path, name):
    root = tmp_path / name
    names, lines = [], []
    for ref in (1, 25):
        # the quirk: I25 is stored as .bmp while the others are .BMP
        _save(root / "reference_images" / (f"I{ref:02d}.BMP" if ref != 25 else f"I{ref:02d}.bmp"), 10 * ref)
        for kind in (1, 2):
            for level in (1, 2):
                file = f"i{ref:02d}_{kind:02d}_{level}.bmp"
                stored = file.upper() if ref == 25 else file  # case quirk on distorted names too
                _save(root / "distorted_images" / stored, 10 * ref)
                names.append(file)
    for i, file in enumerate(names):
        lines.append(f"{6.5 - i * 0.25:.5f} {file}")
    (root / "mos_with_names.txt").write_text("\n".join(lines) + "\n")
    (root / "mos_std.txt").write_text("\n".join(f"0.{i + 1:02d}" for i in range(len(names))) + "\n")

    df = read_dataset(name, root)
    validate_records(df)
    assert len(df) == 8
    assert df["mos"].tolist() == pytest.approx([6.5 - i * 0.25 for i in range(8)])
    assert df["mos_std"].tolist() == pytest.approx([(i + 1) / 100 for i in range(8)])
    assert dataset_spec(name).higher_is_better and dataset_spec(name).score_range == (0.0, 9.0)
    assert set(df["content"]) == {"tid:i01", "tid:i25"}
    assert df.loc[5, "distortion"] == "01" and df.loc[5, "level"] == 2
    assert _pairs_match(df)


def test_tid_malformed_line_names_file_and_line(tmp_path):
    root = tmp_path / "tid2013"
    (root / "reference_images").mkdir(parents=True)
    (root / "mos_with_names.txt").write_text("5.1 i01_01_1.bmp\nfive i01_01_2.bmp\n")
    with pytest.raises(ValueError, match=r"mos_with_names.txt:2: expected a number"):
        read_dataset("tid2013", root)


# ---------------------------------------------------------------- KADID-10k
def test_kadid10k(tmp_path):
    root = tmp_path / "kadid10k"
    rows = []
    for ref in (1, 2):
        _save(root / "images" / f"I{ref:02d}.png", 50 * ref)
        for kind, level in ((1, 1), (3, 5)):
            name = f"I{ref:02d}_{kind:02d}_{level:02d}.png"
            _save(root / "images" / name, 50 * ref)
            rows.append((name, f"I{ref:02d}.png", 4.5 - level * 0.5 - ref * 0.1, 0.25 * level))
    pd.DataFrame(rows, columns=["dist_img", "ref_img", "dmos", "var"]).to_csv(root / "dmos.csv", index=False)

    df = validate_records(read_dataset("kadid10k", root))
    assert len(df) == 4
    assert df["mos"].tolist() == pytest.approx([r[2] for r in rows])
    assert df["mos_std"].tolist() == pytest.approx([np.sqrt(r[3]) for r in rows])  # var is a variance
    assert dataset_spec("kadid10k").higher_is_better and dataset_spec("kadid10k").score_range == (1.0, 5.0)
    assert df.loc[1, "distortion"] == "03" and df.loc[1, "level"] == 5
    assert _pairs_match(df)


# ---------------------------------------------------------------- PIPAL
def test_pipal(tmp_path):
    root = tmp_path / "pipal"
    scores = {}
    for ref in (1, 2):
        stem = f"A{ref:04d}"
        _save(root / "Train_Ref" / f"{stem}.bmp", 70 * ref)
        lines = []
        for kind, index in ((0, 0), (2, 7)):
            name = f"{stem}_{kind:02d}_{index:02d}.bmp"
            _save(root / "Train_Dis" / name, 70 * ref)
            scores[name] = 1400.0 + 10 * ref + kind
            lines.append(f"{name},{scores[name]:.4f}")
        (root / "Train_Label").mkdir(exist_ok=True)
        (root / "Train_Label" / f"{stem}.txt").write_text("\n".join(lines) + "\n")

    df = validate_records(read_dataset("pipal", root))
    assert len(df) == 4
    assert {os.path.basename(d): m for d, m in zip(df["dist"], df["mos"])} == pytest.approx(scores)
    assert all(os.path.basename(r) == os.path.basename(d).split("_")[0] + ".bmp" for d, r in zip(df["dist"], df["ref"]))
    assert dataset_spec("pipal").higher_is_better and dataset_spec("pipal").score_name == "Elo"
    assert _pairs_match(df)


# ---------------------------------------------------------------- PieAPP
def test_pieapp(tmp_path):
    root = tmp_path / "pieapp"
    expected = {}
    for split, refs in (("train", (1, 2)), ("val", (3,)), ("test", (4,))):
        (root / f"{split}_reference_list.txt").parent.mkdir(parents=True, exist_ok=True)
        (root / f"{split}_reference_list.txt").write_text("".join(f"ref_{r:04d}.png\n" for r in refs))
        for r in refs:
            stem = f"ref_{r:04d}"
            _save(root / "reference_images" / split / f"{stem}.png", 40 * r)
            names = [f"distort_{r:04d}_gaussian_blur_inter_{k}.png" for k in (1, 2, 3)]
            for name in names:
                _save(root / "distorted_images" / split / stem / name, 40 * r)
            labels = root / "labels" / split
            labels.mkdir(parents=True, exist_ok=True)
            if split == "test":
                scores = [0.5, 1.5, 2.5]
                pd.DataFrame({"ref. image": f"{stem}.png", " distorted image": names, " score for distorted image": scores}) \
                    .to_csv(labels / f"{stem}_per_image_score.csv", index=False)
                expected.update({n: -s for n, s in zip(names, scores)})  # error score, negated
            else:
                a = [names[0], names[0], names[1], names[2]]
                b = [names[1], names[2], names[2], names[0]]
                processed = [0.8, 0.6, 0.3, 0.1]
                pd.DataFrame({"ref. image": f"{stem}.png", " distorted image A": a, " distorted image B": b,
                              " raw preference for A": [0.8, "", 0.3, 0.1], " processed preference for A": processed}) \
                    .to_csv(labels / f"{stem}_pairwise_labels.csv", index=False)
                expected.update({names[0]: 0.7, names[1]: 0.3, names[2]: 0.1})  # mean over rows as image A

    df = validate_records(read_dataset("pieapp", root))
    assert len(df) == 3 * 3 + 3
    got = {(s, os.path.basename(d)): m for s, d, m in zip(df["split"], df["dist"], df["mos"])}
    assert got[("test", "distort_0004_gaussian_blur_inter_2.png")] == pytest.approx(-1.5)
    assert got[("train", "distort_0002_gaussian_blur_inter_1.png")] == pytest.approx(0.7)
    assert got[("val", "distort_0003_gaussian_blur_inter_3.png")] == pytest.approx(0.1)
    assert sorted(df["split"].unique()) == ["test", "train", "val"]
    assert df["distortion"].eq("gaussian_blur").all()
    spec = dataset_spec("pieapp")
    assert spec.higher_is_better and spec.default_crop == "pad" and spec.default_norm == (0.47, 0.26)
    assert _pairs_match(df)
    per_comparison = read_dataset("pieapp", root, aggregate=None)  # the seed: one row per labelled pair
    assert len(per_comparison) == 3 * 4 + 3
    validate_records(per_comparison, allow_duplicates=True)


# ---------------------------------------------------------------- LIVE Release 2
def test_live(tmp_path):
    root = tmp_path / "live"
    counts = {"jp2k": 2, "jpeg": 2, "wn": 1, "gblur": 1, "fastfading": 2}
    refs = ["bikes.bmp", "caps.bmp"]
    for i, ref in enumerate(refs):
        _save(root / "refimgs" / ref, 100 + i)
    dmos, orgs, names = [], [], []
    k = 0
    for folder, count in counts.items():
        for n in range(1, count + 1):
            ref_index = k % 2
            _save(root / folder / f"img{n}.bmp", 100 + ref_index)
            names.append(refs[ref_index])
            is_original = folder == "fastfading" and n == 2
            orgs.append(1 if is_original else 0)
            dmos.append(0.0 if is_original else 20.0 + k)
            k += 1
    savemat(root / "dmos.mat", {"dmos": np.array([dmos]), "orgs": np.array([orgs], dtype=np.float64)})
    cell = np.empty((1, len(names)), dtype=object)
    cell[0, :] = names
    savemat(root / "refnames_all.mat", {"refnames_all": cell})

    df = validate_records(read_dataset("live", root))
    assert len(df) == 7  # the reference copy (orgs == 1) is left out
    assert df["mos"].tolist() == pytest.approx([20.0 + i for i in range(7)])
    assert df["distortion"].tolist() == ["jp2k", "jp2k", "jpeg", "jpeg", "wn", "gblur", "fastfading"]
    spec = dataset_spec("live")
    assert not spec.higher_is_better and spec.score_name == "DMOS"
    assert os.path.basename(df.loc[2, "dist"]) == "img1.bmp" and os.path.basename(df.loc[2, "ref"]) == "bikes.bmp"
    assert _pairs_match(df)


def test_live_count_mismatch_is_explained(tmp_path):
    root = tmp_path / "live"
    _save(root / "jp2k" / "img1.bmp", 1)
    savemat(root / "dmos.mat", {"dmos": np.array([[1.0, 2.0]]), "orgs": np.array([[0.0, 0.0]])})
    cell = np.empty((1, 2), dtype=object)
    cell[0, :] = ["a.bmp", "b.bmp"]
    savemat(root / "refnames_all.mat", {"refnames_all": cell})
    with pytest.raises(ValueError, match=r"1 images .* but 2 DMOS values"):
        read_dataset("live", root)


# ---------------------------------------------------------------- CSIQ
def test_csiq(tmp_path):
    root = tmp_path / "csiq"
    table = []
    tags = {"noise": ("awgn", "AWGN"), "jpeg 2000": ("jpeg2000", "jpeg2000"), "blur": ("blur", "BLUR")}
    for i, image in enumerate(("1600", "aerial_city")):
        _save(root / "src_imgs" / f"{image}.png", 30 + i)
        for j, (kind, (folder, tag)) in enumerate(tags.items()):
            _save(root / "dst_imgs" / folder / f"{image}.{tag}.{j + 1}.png", 30 + i)
            table.append({"image": image, "dst_idx": j + 1, "dst_type": kind, "dst_lev": j + 1,
                          "dmos_std": 0.05, "dmos": 0.1 * (j + 1) + 0.01 * i})
    pd.DataFrame(table).to_csv(root / "csiq.DMOS.csv", index=False)

    df = validate_records(read_dataset("csiq", root))
    assert len(df) == 6
    assert df["mos"].tolist() == pytest.approx([t["dmos"] for t in table])
    assert df["distortion"].tolist() == ["awgn", "jpeg2000", "blur"] * 2
    assert not dataset_spec("csiq").higher_is_better and dataset_spec("csiq").score_range == (0.0, 1.0)
    assert set(df["content"]) == {"csiq:1600", "csiq:aerial_city"}  # numeric names stay text
    assert _pairs_match(df)


# ---------------------------------------------------------------- KonIQ-10k
def test_koniq10k(tmp_path):
    root = tmp_path / "koniq10k"
    rows = []
    for i, split in enumerate(("training", "training", "validation", "test")):
        name = f"{1000 + i}.jpg"
        _save(root / "1024x768" / name, i)
        votes = [1, 2, 3 + i, 2, 1]
        mos = sum((k + 1) * v for k, v in enumerate(votes)) / sum(votes)
        rows.append({"image_name": name, "c1": votes[0], "c2": votes[1], "c3": votes[2], "c4": votes[3],
                     "c5": votes[4], "c_total": sum(votes), "MOS": mos, "SD": 0.7, "MOS_zscore": 50.0, "set": split})
    pd.DataFrame(rows).to_csv(root / "koniq10k_distributions_sets.csv", index=False)

    df = validate_records(read_dataset("koniq10k", root))
    assert len(df) == 4 and df["ref"].eq("").all()
    assert df["mos"].tolist() == pytest.approx([r["MOS"] for r in rows])
    assert df["split"].tolist() == ["train", "train", "val", "test"]
    assert df["vote_3"].tolist() == [3, 4, 5, 6]
    spec = dataset_spec("koniq10k")
    assert spec.kind == "nr" and spec.higher_is_better and spec.official_split


# ---------------------------------------------------------------- AVA
def test_ava(tmp_path):
    root = tmp_path / "ava"
    lines = []
    votes = [[0, 1, 2, 3, 4, 5, 4, 3, 2, 1], [10, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 7]]
    for i, v in enumerate(votes):
        image_id = 953619 + i
        if i < 2:
            _save(root / "images" / f"{image_id}.jpg", i)
        lines.append(" ".join(map(str, [i + 1, image_id, *v, 1, 22, 1396])))
    (root / "AVA.txt").write_text("\n".join(lines) + "\n")

    df = read_dataset("ava", root)
    assert len(df) == 3
    scores = np.arange(1, 11)
    means = [np.average(scores, weights=v) for v in votes]
    stds = [np.sqrt(np.average((scores - m) ** 2, weights=v)) for v, m in zip(votes, means)]
    assert df["mos"].tolist() == pytest.approx(means) and df["mos_std"].tolist() == pytest.approx(stds)
    assert df.loc[0, [f"vote_{k}" for k in range(1, 11)]].tolist() == votes[0]
    with pytest.raises(ValueError, match=r"AVA\.txt:3: dist image .*953621\.jpg: file not found"):
        validate_records(df)
    assert len(read_dataset("ava", root, skip_missing=True)) == 2
    spec = dataset_spec("ava")
    assert spec.kind == "nr" and spec.score_range == (1.0, 10.0)


def test_ava_bad_line(tmp_path):
    (tmp_path / "AVA.txt").write_text("1 953619 0 1 2\n")
    with pytest.raises(ValueError, match=r"AVA.txt:1: expected 15 fields"):
        read_dataset("ava", tmp_path)


# ---------------------------------------------------------------- generic CSV
def test_generic_csv(tmp_path):
    _save(tmp_path / "refs" / "a.png", 11)
    _save(tmp_path / "dist" / "a_1.png", 11)
    _save(tmp_path / "refs" / "b.png", 12)
    _save(tmp_path / "dist" / "b_1.png", 12)
    (tmp_path / "scores.csv").write_text("ref,dist,mos,db\nrefs/a.png,dist/a_1.png,3.5,mine\nrefs/b.png,dist/b_1.png,2.0,\n")
    df = validate_records(read_dataset("csv", tmp_path / "scores.csv"))
    assert df["mos"].tolist() == [3.5, 2.0]
    assert df["db"].tolist() == ["mine", "scores"]  # missing db: the file's stem
    assert df["content"].tolist() == ["a", "b"]
    assert _pairs_match(df)
    (tmp_path / "bad.csv").write_text("ref,dist,mos\nrefs/a.png,dist/a_1.png,x\n")
    with pytest.raises(ValueError, match=r"bad.csv:2: mos is not a number"):
        read_dataset("csv", tmp_path / "bad.csv")


def test_unknown_dataset_and_missing_root():
    with pytest.raises(ValueError, match="unknown dataset 'tid2020'.*kadid10k"):
        read_dataset("tid2020", "/nowhere")
    with pytest.raises(ValueError, match="needs its root"):
        read_dataset("kadid10k")


# ---------------------------------------------------------------- split rules of the reproductions
def test_pieapp_rows_say_which_score_they_carry(tmp_path):
    from helpers import write_pieapp

    root = write_pieapp(tmp_path / "pieapp", comparisons=2)
    df = read_dataset("pieapp", root)
    assert set(df.loc[df["split"] == "test", "score_kind"]) == {"minus_error"}
    assert set(df.loc[df["split"] != "test", "score_kind"]) == {"preference"}
    # "none" (TOML has no null) keeps one row per labelled comparison, each with its own id.
    per_comparison = read_dataset("pieapp", root, aggregate="none")
    train_val = per_comparison[per_comparison["split"] != "test"]
    assert len(train_val) == 3 * 6  # three references x three images x two comparisons each
    assert train_val.duplicated(["ref", "dist"]).any() and not per_comparison["comparison"].duplicated().any()
    with pytest.raises(ValueError, match="aggregate"):
        read_dataset("pieapp", root, aggregate="median")


def test_tid2013_hold_out_first_references(tmp_path):
    """The Keras NIMA reproduction's TID2013 split: the first 3 references (all distortions) held out."""
    from helpers import write_tid

    root = write_tid(tmp_path / "tid", refs=(1, 2, 3, 4, 25))
    df = read_dataset("tid2013", root, hold_out_first=3)
    held_out = sorted(set(df.loc[df["split"] == "val", "content"]))
    assert held_out == ["tid:i01", "tid:i02", "tid:i03"]
    assert sorted(set(df.loc[df["split"] == "train", "content"])) == ["tid:i04", "tid:i25"]
    assert "split" not in read_dataset("tid2013", root).columns
    with pytest.raises(ValueError, match="hold_out_first"):
        read_dataset("tid2013", root, hold_out_first=5)


def test_ava_split_lists_give_idealos_split(tmp_path):
    import json

    root = tmp_path / "ava"
    lines = []
    for index, image_id in enumerate((101, 102, 103, 104)):
        _save(root / "images" / f"{image_id}.jpg", 10 * index)
        lines.append(f"{index + 1} {image_id} " + " ".join(["1"] * 10) + " 0 0 1\n")
    (root / "AVA.txt").write_text("".join(lines))
    # idealo's lists: JSON arrays of {"image_id", "label"}; 104 is in neither list
    (root / "train.json").write_text(json.dumps([{"image_id": "101", "label": [1] * 10},
                                                 {"image_id": "103", "label": [1] * 10}]))
    (root / "test.json").write_text(json.dumps([{"image_id": "102", "label": [1] * 10}]))
    df = read_dataset("ava", root, split_lists={"train": "train.json", "val": "test.json"})
    roles = {os.path.basename(d): s for d, s in zip(df["dist"], df["split"])}
    assert roles == {"101.jpg": "train", "103.jpg": "train", "102.jpg": "val"}
    with pytest.raises(ValueError, match="missing.json"):
        read_dataset("ava", root, split_lists={"train": "missing.json", "val": "test.json"})
    (root / "both.json").write_text(json.dumps([{"image_id": "101", "label": [1] * 10}]))
    with pytest.raises(ValueError, match="both"):
        read_dataset("ava", root, split_lists={"train": "train.json", "val": "both.json"})
