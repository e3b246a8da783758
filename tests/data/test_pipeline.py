"""tf.data pipelines from record tables, checked against numpy crops/pads and PIL decoding."""
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from helpers import write_image, write_random_image
from iqa_keras.data import decode_rgb, make_dataset, make_records, read_image


@pytest.mark.parametrize("kind", ["rgb_png", "grey_png", "rgba_png", "palette_png", "deep_png", "bmp", "grey_bmp", "tiff", "jpeg"])
def test_decode_matches_read_image(tmp_path, rng, kind):
    rgb = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    path = tmp_path / f"image.{kind.split('_')[-1]}"
    if kind in ("rgb_png", "bmp", "tiff"):
        Image.fromarray(rgb).save(path)
    elif kind in ("grey_png", "grey_bmp"):
        Image.fromarray(rgb[..., 0], "L").save(path)
    elif kind == "rgba_png":
        Image.fromarray(np.dstack([rgb, rgb[..., :1]]), "RGBA").save(path)
    elif kind == "palette_png":
        Image.fromarray(rgb).convert("P").save(path)
    elif kind == "deep_png":
        Image.fromarray(rng.integers(0, 65536, (9, 7), dtype=np.uint16)).save(path)
    elif kind == "jpeg":
        Image.fromarray(rgb).save(path, quality=95)
    got = decode_rgb(tf.constant(str(path))).numpy()
    expected = read_image(path)
    assert got.shape == expected.shape == (9, 7, 3)
    tolerance = 2 if kind == "jpeg" else 0  # two JPEG decoders may round an IDCT differently
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= tolerance
    # Lossless files also against the pixels written (grey repeated on the three channels).
    written = {"rgb_png": rgb, "bmp": rgb, "tiff": rgb, "rgba_png": rgb,
               "grey_png": np.repeat(rgb[..., :1], 3, -1), "grey_bmp": np.repeat(rgb[..., :1], 3, -1)}
    if kind in written:
        np.testing.assert_array_equal(got, written[kind])


def _pair_table(tmp_path, rng, shape=(10, 12), n=4, db="toy"):
    rows = []
    for i in range(n):
        ref = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        write_image(tmp_path / f"{db}_r{i}.png", ref)
        write_image(tmp_path / f"{db}_d{i}.png", 255 - ref)  # distorted = negative: pairing is checkable
        rows.append({"dist": str(tmp_path / f"{db}_d{i}.png"), "ref": str(tmp_path / f"{db}_r{i}.png"),
                     "mos": 1.0 + i, "content": f"{db}{i}"})
    return make_records(rows, db=db)


def _collect(ds):
    refs, dists, ys = [], [], []
    for (ref, dist), y in ds:
        refs.append(ref.numpy())
        dists.append(dist.numpy())
        ys.append(y.numpy())
    return np.concatenate(refs), np.concatenate(dists), np.concatenate(ys)


def test_center_crop_pad_and_scores(tmp_path, rng):
    df = _pair_table(tmp_path, rng, shape=(10, 12))
    ref, dist, y = _collect(make_dataset(df, 8, 3, score_norm=(2.0, 0.5)))
    assert ref.shape == (4, 8, 8, 3) and ref.dtype == np.float32 and y.shape == (4, 1)
    for i in range(4):
        image = read_image(df["ref"][i])
        np.testing.assert_array_equal(ref[i], image[1:9, 2:10])  # (10-8)//2, (12-8)//2
        np.testing.assert_array_equal(dist[i], 255 - image[1:9, 2:10])
    np.testing.assert_allclose(y[:, 0], (df["mos"] - 2.0) / 0.5)
    # zero padding of smaller images, centred (the seed's PieAPP 256 -> 288 uses offset 16)
    ref, _, _ = _collect(make_dataset(df, 16, 4, crop="pad"))
    image = read_image(df["ref"][0])
    np.testing.assert_array_equal(ref[0, 3:13, 2:14], image)
    assert ref[0, :3].max() == 0 and ref[0, 13:].max() == 0 and ref[0, :, :2].max() == 0


def test_random_crop_paired_seeded_and_off_outside_training(tmp_path, rng):
    df = _pair_table(tmp_path, rng, shape=(20, 20))
    a_ref, a_dist, _ = _collect(make_dataset(df, 8, 4, crop="random", seed=5))
    np.testing.assert_array_equal(a_dist, 255 - a_ref)  # the same window for both images
    b_ref, _, _ = _collect(make_dataset(df, 8, 4, crop="random", seed=5))
    np.testing.assert_array_equal(a_ref, b_ref)
    c_ref, _, _ = _collect(make_dataset(df, 8, 4, crop="random", seed=6))
    assert not np.array_equal(a_ref, c_ref)
    for i in range(4):  # each crop is a window of its own image
        image = read_image(df["ref"][i]).astype(np.float32)
        windows = [image[t:t + 8, l:l + 8] for t in range(13) for l in range(13)]
        assert any(np.array_equal(a_ref[i], w) for w in windows)
    centre, _, _ = _collect(make_dataset(df, 8, 4, crop="random", training=False))
    np.testing.assert_array_equal(centre[0], read_image(df["ref"][0])[6:14, 6:14])


def test_augmentation_is_paired_and_epochs_differ(tmp_path, rng):
    df = _pair_table(tmp_path, rng, shape=(8, 8), n=6)
    ds = make_dataset(df, 8, 6, augment="geometric", seed=1)
    first = _collect(ds)
    second = _collect(ds)
    for ref, dist in ((first[0], first[1]), (second[0], second[1])):
        np.testing.assert_array_equal(dist, 255 - ref)
    assert not np.array_equal(first[0], second[0])  # new transforms each epoch
    np.testing.assert_array_equal(first[0], _collect(make_dataset(df, 8, 6, augment="geometric", seed=1))[0])
    ref, dist, _ = _collect(make_dataset(df, 8, 6, augment={"rot90": False, "flip_lr": False, "flip_ud": False,
                                                            "lightness": [0.5, 0.5]}))
    assert ref.max() <= 255 and ref.min() >= 0
    assert ref.mean() < np.mean([read_image(p).mean() for p in df["ref"]])  # darker, no wrap-around


def test_shuffle_per_db_norm_and_no_reference(tmp_path, rng):
    df = _pair_table(tmp_path, rng, n=6)
    other = _pair_table(tmp_path, rng, n=2, db="other")
    both = make_records(list(df.to_dict("records")) + list(other.to_dict("records")), db="x")
    _, _, y = _collect(make_dataset(both, 8, 8, score_norm={"toy": (1.0, 2.0), "other": (0.0, -1.0)}))
    np.testing.assert_allclose(y[:, 0], [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, -1.0, -2.0])
    with pytest.raises(ValueError, match=r"score_norm has no .* \['other'\]"):
        make_dataset(both, 8, 8, score_norm={"toy": (1.0, 2.0)})
    shuffled = make_dataset(df, 8, 6, shuffle=True, seed=0)
    orders = [tuple(_collect(shuffled)[2][:, 0]) for _ in range(2)]
    assert all(sorted(order) == sorted(df["mos"]) for order in orders)
    assert any(order != tuple(df["mos"]) for order in orders)
    assert orders[0] == tuple(_collect(make_dataset(df, 8, 6, shuffle=True, seed=0))[2][:, 0])
    no_ref = df.assign(ref="")
    images, y = next(iter(make_dataset(no_ref, 8, 6)))
    assert images.shape == (6, 8, 8, 3) and y.shape == (6, 1)


def test_size_mismatch_names_both_files(tmp_path, rng):
    df = _pair_table(tmp_path, rng, n=1)
    write_random_image(tmp_path / "small.png", rng, (5, 5))
    df.loc[0, "dist"] = str(tmp_path / "small.png")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"toy_r0.png.*small.png"):
        _collect(make_dataset(df, 8, 1))


def test_resize_before_the_crop(tmp_path):
    """``resize``: the whole image is resized to a square first (NIMA's 256 then 224), not cropped from."""
    image = np.zeros((20, 40, 3), np.uint8)
    image[:, 20:] = 255  # left half black, right half white
    write_image(tmp_path / "a.png", image)
    table = make_records([{"dist": str(tmp_path / "a.png"), "ref": "", "mos": 1.0, "content": "a"}], db="toy")
    resized, _ = next(iter(make_dataset(table.assign(resize=32), 32, 1, crop="center")))
    plain, _ = next(iter(make_dataset(table, 32, 1, crop="center")))
    resized = np.asarray(resized)[0]
    assert resized.shape == (32, 32, 3)
    # Both halves fill the square (the columns of the middle blend); no zero padding rows.
    assert np.all(resized[:, :15] < 1) and np.all(resized[:, 17:] > 254)
    plain = np.asarray(plain)[0]
    assert np.all(plain[:6] == 0)  # without resize: 20 rows padded to 32, 6 black rows above


def test_fixed_lightness_copies_are_the_same_every_epoch(tmp_path, rng):
    """Offline copies: each copy's factor is drawn once; its pixels equal L x factor (scikit-image's Lab)."""
    from skimage import color

    from iqa_keras.data.lightness_copies import add_lightness_copies

    table = _pair_table(tmp_path, rng, shape=(8, 8), n=2)
    copied = add_lightness_copies(table, (0.3, 1.5), seed=4)
    assert len(copied) == 4 and list(copied["lightness_factor"][:2]) == [0.0, 0.0]
    again = add_lightness_copies(table, (0.3, 1.5), seed=4)
    np.testing.assert_array_equal(copied["lightness_factor"], again["lightness_factor"])
    ds = make_dataset(copied, 8, 4, shuffle=False, crop="center")
    (ref_1, dist_1), _ = next(iter(ds))
    (ref_2, dist_2), _ = next(iter(ds))  # a second epoch
    np.testing.assert_array_equal(dist_1, dist_2)
    for row in (2, 3):
        factor = copied["lightness_factor"][row]
        original = read_image(copied["dist"][row]).astype(np.float64) / 255.0
        lab = color.rgb2lab(original)
        lab[..., 0] = np.clip(lab[..., 0] * factor, 0, 100)
        expected = np.clip(color.lab2rgb(lab), 0, 1) * 255.0
        assert np.abs(np.asarray(dist_1[row]) - expected).max() < 1.0
        np.testing.assert_allclose(np.asarray(dist_1[row - 2]), read_image(copied["dist"][row]), atol=0)
