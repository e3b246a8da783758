"""The ``photos`` dataset source: clean photos -> distorted pairs with formula or classical-metric labels."""
import numpy as np
import pandas as pd
import pytest
import skimage.data
from scipy import stats

from iqa_keras.data.photos import (
    fit_label_map,
    formula_score,
    read_photos,
    resize_short_side,
    textured_windows,
)
from iqa_keras.data.readers import read_dataset
from iqa_keras.data.splits import split_records
from iqa_keras.metrics.classical import compute_metric
from tests.helpers import write_image

TYPES = ["gaussian_blur", "white_noise"]


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    write_image(folder / "astronaut.png", skimage.data.astronaut()[::4, ::4])   # 128 x 128
    write_image(folder / "coffee.jpg", skimage.data.coffee()[::4, ::4])         # 100 x 150
    write_image(folder / "chelsea.png", skimage.data.chelsea()[::3, ::3])       # 100 x 151
    (folder / "notes.txt").write_text("not a photo")
    return folder


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def _read(photo_folder, cache, **options):
    defaults = dict(cache_dir=cache, photo_size=96, crop_size=64, crops_per_photo=2, distortions=TYPES)
    return read_photos(photo_folder, **{**defaults, **options})


def test_records_cover_every_photo_crop_type_and_level(photo_folder, cache):
    records = _read(photo_folder, cache)
    assert len(records) == 3 * 2 * len(TYPES) * 5
    assert set(records["content"]) == {"photos:astronaut", "photos:coffee", "photos:chelsea"}
    assert set(records["distortion"]) == set(TYPES)
    assert records.groupby(["content", "distortion"]).size().eq(10).all()
    first = records.iloc[0]
    from iqa_keras.data.images import read_image

    assert read_image(first["ref"]).shape == (64, 64, 3) == read_image(first["dist"]).shape


def test_formula_labels_follow_the_documented_curve(photo_folder, cache):
    records = _read(photo_folder, cache)
    # gaussian_blur: floor 1.3, gamma 1.0 -> 5 - 3.7 * level / 5, by hand
    blur = records[records["distortion"] == "gaussian_blur"]
    expected = 5 - 3.7 * blur["level"] / 5
    np.testing.assert_allclose(blur["mos"], expected, atol=1e-6)
    assert formula_score("anything_else", 0) == 5.0


def test_same_options_give_the_same_bytes_and_reuse_the_cache(photo_folder, cache, tmp_path):
    first = _read(photo_folder, cache)
    again = _read(photo_folder, cache)
    assert first["dist"].tolist() == again["dist"].tolist()
    fresh = _read(photo_folder, tmp_path)
    for a, b in zip(first["dist"][:12], fresh["dist"][:12]):
        assert open(a, "rb").read() == open(b, "rb").read()


def test_metric_label_is_a_positive_linear_map_of_the_metric(photo_folder, cache):
    formula = _read(photo_folder, cache)
    gmsd = _read(photo_folder, cache, label="gmsd")
    from iqa_keras.data.images import read_image

    refs = np.stack([read_image(p) for p in gmsd["ref"]])
    dists = np.stack([read_image(p) for p in gmsd["dist"]])
    raw = compute_metric("gmsd", refs, dists)
    # lower GMSD is better: the label must fall as GMSD rises, linearly (Pearson -1)
    assert stats.pearsonr(raw, gmsd["mos"])[0] == pytest.approx(-1.0, abs=1e-6)
    # the line is the least-squares fit onto the formula scores: same mean (a property of least squares)
    assert gmsd["mos"].mean() == pytest.approx(formula["mos"].mean(), abs=1e-5)
    slope, intercept = np.polyfit(-raw, formula["mos"], 1)
    np.testing.assert_allclose(gmsd["mos"], slope * -raw + intercept, atol=1e-5)


def test_weighted_ensemble_and_per_type_calibration(photo_folder, cache):
    formula = _read(photo_folder, cache)["mos"].to_numpy()
    gmsd = _read(photo_folder, cache, label="gmsd")["mos"].to_numpy()
    psnr = _read(photo_folder, cache, label="psnr")["mos"].to_numpy()
    mix = _read(photo_folder, cache, label={"gmsd": 3.0, "psnr": 1.0})["mos"].to_numpy()
    np.testing.assert_allclose(mix, 0.75 * gmsd + 0.25 * psnr, atol=2e-6)
    with_formula = _read(photo_folder, cache, label={"gmsd": 1.0, "formula": 1.0})["mos"].to_numpy()
    np.testing.assert_allclose(with_formula, 0.5 * gmsd + 0.5 * formula, atol=2e-6)
    per_type = _read(photo_folder, cache, label="gmsd", calibrate="per_type")
    for _, group in per_type.groupby("distortion"):   # each type keeps its formula mean
        expected = np.mean([formula_score(d, int(v)) for d, v in zip(group["distortion"], group["level"])])
        assert group["mos"].mean() == pytest.approx(expected, abs=1e-5)


def test_pristine_rows_and_no_reference_mode(photo_folder, cache):
    records = _read(photo_folder, cache, include_pristine=True, label="gmsd")
    pristine = records[records["distortion"] == "pristine"]
    assert len(pristine) == 3 * 2
    assert (pristine["ref"] == pristine["dist"]).all()
    assert pristine["mos"].min() > records[records["distortion"] != "pristine"]["mos"].max() - 1e-9
    nr = _read(photo_folder, cache, reference=False)
    assert (nr["ref"] == "").all()


def test_content_split_keeps_every_crop_of_a_photo_together(photo_folder, cache):
    records = _read(photo_folder, cache)
    splits = split_records(records, "content", {"train": 0.67, "val": 0.33}, seed=0)
    assert not set(splits["train"]["content"]) & set(splits["val"]["content"])
    assert len(splits["train"]) + len(splits["val"]) == len(records)


def test_registered_as_a_dataset_source(photo_folder, cache):
    records = read_dataset("photos", str(photo_folder), cache_dir=cache, photo_size=96, crop_size=64,
                           crops_per_photo=1, distortions=["jpeg"], levels=[1, 5])
    assert len(records) == 3 * 2 and set(records["level"]) == {1.0, 5.0}


@pytest.mark.parametrize("options, message", [
    (dict(distortions=["blurr"]), "unknown"),
    (dict(levels=[0, 6]), "levels"),
    (dict(crop_size=128, photo_size=96), "crop_size"),
    (dict(label="ssimm"), "label"),
    (dict(label={"gmsd": -1.0}), "label"),
    (dict(calibrate="per_photo", label="gmsd"), "calibrate"),
])
def test_bad_options_are_named(photo_folder, cache, options, message):
    with pytest.raises(ValueError, match=message):
        _read(photo_folder, cache, **options)


def test_bad_root_is_named(tmp_path):
    with pytest.raises(ValueError, match="no image files"):
        read_photos(tmp_path)
    with pytest.raises(ValueError, match="not a folder"):
        read_photos(tmp_path / "missing")


def test_textured_windows_prefer_texture_and_limit_overlap():
    image = np.full((64, 128, 3), 128, np.uint8)
    rng = np.random.default_rng(0)
    image[:, 64:] = rng.integers(0, 256, (64, 64, 3))          # texture only on the right half
    (top, left), = textured_windows(image, 64, 1)
    assert left == 64
    windows = textured_windows(np.zeros((64, 256, 3), np.uint8) + rng.integers(0, 256, (64, 256, 3), dtype=np.uint8),
                               64, 3)
    for i, (t1, l1) in enumerate(windows):
        for t2, l2 in windows[:i]:
            assert max(0, 64 - abs(l1 - l2)) * max(0, 64 - abs(t1 - t2)) <= 0.25 * 64 * 64


def test_resize_short_side_never_enlarges():
    image = np.zeros((100, 300, 3), np.uint8)
    assert resize_short_side(image, 50).shape == (50, 150, 3)
    assert resize_short_side(image, 200).shape == (100, 300, 3)


def test_fit_label_map_matches_numpy_polyfit_and_never_reverses():
    x = np.array([0.1, 0.4, 0.5, 0.9])
    y = np.array([1.0, 2.5, 2.0, 4.0])
    assert fit_label_map(x, y) == pytest.approx(tuple(np.polyfit(x, y, 1)))
    slope, _ = fit_label_map(x, -y)
    assert slope > 0


def test_pairs_table_is_readable_without_the_package(photo_folder, cache):
    records = _read(photo_folder, cache)
    folder = __import__("pathlib").Path(records["dist"].iloc[0]).parents[1]
    table = pd.read_csv(folder / "pairs.csv")
    assert {"dist", "ref", "content", "distortion", "level"} <= set(table.columns)
