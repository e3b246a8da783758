"""The embedded synthetic set: contents, distortions, documented MOS curve, caching, determinism."""
import os

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from iqa_keras.data import read_dataset, validate_records
from iqa_keras.data.synthetic import build_embedded

SIZE = 32  # tiny images keep the tests fast; the default is 288
# The documented curve mos = 5 - (5 - floor) * (level / 5) ** gamma (docs/datasets.md), with each
# type's (floor, gamma) written out here so that a change of the shipped table is noticed.
CURVES = {"gaussian_blur": (1.3, 1.0), "white_noise": (1.5, 0.9), "jpeg": (1.4, 1.2),
          "contrast_reduction": (1.9, 1.1), "down_up_sampling": (1.6, 1.0), "colour_cast": (2.0, 1.0),
          "impulse_noise": (1.7, 0.8)}


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return cache, read_dataset("embedded", cache_dir=cache, size=SIZE, seed=0)


def test_size_contents_distortions_and_levels(embedded):
    _, df = embedded
    validate_records(df)
    # docs/datasets.md: 9 photographs x 7 distortions x 5 levels = 315 pairs
    assert df["content"].nunique() == 9 and df["distortion"].nunique() == 7
    assert len(df) == 9 * 7 * 5
    assert set(df["level"]) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert {"gaussian_blur", "white_noise", "jpeg", "contrast_reduction", "down_up_sampling"} <= set(df["distortion"])
    image = np.asarray(Image.open(df["dist"].iloc[0]))
    assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8
    # every distorted image is paired with its own content's reference
    assert all(os.path.basename(r)[:-4] == c.split(":")[1] for r, c in zip(df["ref"], df["content"]))
    assert all(os.path.basename(d).startswith(c.split(":")[1] + "__") for d, c in zip(df["dist"], df["content"]))


def test_mos_follows_the_documented_monotone_curve(embedded):
    _, df = embedded
    assert df["mos"].between(1.0, 5.0).all()
    row = df[(df["distortion"] == "gaussian_blur") & (df["level"] == 3)].iloc[0]
    assert row["mos"] == pytest.approx(5 - (5 - 1.3) * 0.6)  # hand computation, floor 1.3, gamma 1
    for distortion, part in df.groupby("distortion"):
        means = part.groupby("level")["mos"].mean().to_numpy()
        assert np.all(np.diff(means) < 0), distortion  # strictly worse with level
        assert part.groupby("level")["mos"].nunique().eq(1).all()  # a function of type and level only
        floor, gamma = CURVES[distortion]
        expected = [5 - (5 - floor) * (level / 5) ** gamma for level in range(1, 6)]
        np.testing.assert_allclose(means, expected, atol=1e-6)  # labels.csv keeps 6 decimals
        assert means[-1] == pytest.approx(floor)


def test_distortions_match_independent_computations(embedded):
    _, df = embedded
    pick = df[df["content"] == "embedded:astronaut"]
    ref = np.asarray(Image.open(pick["ref"].iloc[0])).astype(np.float64)
    blur = np.asarray(Image.open(pick[(pick.distortion == "gaussian_blur") & (pick.level == 5)]["dist"].iloc[0]))
    expected = np.clip(np.round(ndimage.gaussian_filter(ref, (4.5, 4.5, 0))), 0, 255)
    assert np.abs(blur - expected).max() <= 1
    contrast = np.asarray(Image.open(pick[(pick.distortion == "contrast_reduction") & (pick.level == 1)]["dist"].iloc[0]))
    expected = np.clip(np.round(ref.mean() + 0.8 * (ref - ref.mean())), 0, 255)
    assert np.abs(contrast - expected).max() <= 1


def test_cached_deterministic_and_seeded(embedded, tmp_path, monkeypatch):
    cache, df = embedded
    folder = build_embedded(cache, size=SIZE, seed=0)
    stamp = os.stat(folder / "labels.csv").st_mtime_ns
    assert build_embedded(cache, size=SIZE, seed=0) == folder  # generated once
    assert os.stat(folder / "labels.csv").st_mtime_ns == stamp
    assert [p.name for p in cache.iterdir()] == [folder.name]  # no temporary folders left behind
    monkeypatch.setenv("IQA_KERAS_CACHE", str(tmp_path / "env"))
    again = read_dataset("embedded", size=SIZE, seed=0)  # cache folder from the environment
    assert again["dist"].iloc[0].startswith(str(tmp_path / "env"))
    for a, b in zip(df["dist"], again["dist"]):
        assert open(a, "rb").read() == open(b, "rb").read()
    other = read_dataset("embedded", size=SIZE, seed=1)
    noise = other["distortion"] == "white_noise"
    assert any(open(a, "rb").read() != open(b, "rb").read() for a, b in zip(df["dist"][noise], other["dist"][noise]))
