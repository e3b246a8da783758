"""Scorer, TTA, patches, pairing and score files, checked against loops and hand computations."""
import os
import zipfile

import keras
import numpy as np
import pytest
from PIL import Image

from helpers import write_image
from iqa_keras import build_model, save_model
from iqa_keras.data.augment import scale_lightness
from iqa_keras.layers import AbsDifference
from iqa_keras.model_io import ModelInfo
from iqa_keras.scoring.pairing import MissingReferenceError, pair_folders
from iqa_keras.scoring.patches import coverage_map, extract_patches, patch_grid
from iqa_keras.scoring.outputs import ntire_output_text, ntire_readme_text, write_ntire_zip
from iqa_keras.scoring.scorer import NoModelsError, Scorer, model_files
from iqa_keras.scoring.tta import Augmentation, resolve_tta

SIZE = 32
# The NTIRE 2021 reference's 22 copies, written out from docs/scoring.md: rotations 0, 90, 180, 270;
# up-down, left-right and both flips; Lab lightness x 0.1, 0.2, ..., 1.5.
NTIRE_22 = (*(Augmentation(rot_k=k) for k in range(4)), Augmentation(flip_ud=True), Augmentation(flip_lr=True),
            Augmentation(flip_lr=True, flip_ud=True), *(Augmentation(lightness=i / 10) for i in range(1, 16)))


def _with_info(model, size=SIZE, mean=0.0, std=1.0, higher=True):
    model.iqa_info = ModelInfo(architecture=model.name, kind="fr", input_size=size, score_mean=mean,
                               score_std=std, higher_is_better=higher)
    return model


def sensitive_model(seed=0, size=SIZE, mean=0.0, std=1.0):
    """Not invariant to anything: a conv over both images, flattened into a dense output."""
    keras.utils.set_random_seed(seed)
    ref = keras.Input((size, size, 3))
    dist = keras.Input((size, size, 3))
    x = keras.layers.Concatenate()([ref, dist])
    x = keras.layers.Rescaling(1 / 255.0)(x)
    x = keras.layers.Conv2D(4, 3, activation="tanh")(x)
    x = keras.layers.Flatten()(x)
    out = keras.layers.Dense(1)(x)
    return _with_info(keras.Model([ref, dist], out), size, mean, std)


def pooled_model(seed=0, size=SIZE, difference_only=False):
    """Global average pooling makes the output invariant to any rearrangement of pixels."""
    keras.utils.set_random_seed(seed)
    ref = keras.Input((size, size, 3))
    dist = keras.Input((size, size, 3))
    diff = keras.layers.GlobalAveragePooling2D()(AbsDifference()([ref, dist]))
    if difference_only:
        features = diff
    else:
        features = keras.layers.Concatenate()([diff, keras.layers.GlobalAveragePooling2D()(ref),
                                               keras.layers.GlobalAveragePooling2D()(dist)])
    out = keras.layers.Dense(1, kernel_initializer="random_normal", bias_initializer="ones")(features)
    return _with_info(keras.Model([ref, dist], out), size)


def predict(model, ref, dist):
    """The model's de-normalised score for one pair of uint8 arrays (no Scorer involved)."""
    out = model.predict([ref[None].astype("float32"), dist[None].astype("float32")], verbose=0)
    return float(out[0, 0]) * model.iqa_info.score_std + model.iqa_info.score_mean


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(7)
    return [rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8) for _ in range(4)]


@pytest.fixture(scope="module")
def model():
    return sensitive_model(0, mean=100.0, std=10.0)


# ---- patches ------------------------------------------------------------------------------


def test_patch_grid_covers_image_with_edge_aligned_last_patch():
    grid = patch_grid(100, 600, 288)  # height padded, width tiled with stride 144
    assert grid.starts_x == (0, 144, 288, 312)  # 312 = 600 - 288: aligned to the right edge
    assert grid.starts_y == (0,) and grid.pad == (94, 94, 0, 0)
    assert patch_grid(288, 288, 288).count == 1
    assert patch_grid(100, 100, 64, stride=32).starts_y == (0, 32, 36)
    assert patch_grid(128, 128, 64, stride=64).starts_y == (0, 64)
    with pytest.raises(ValueError, match="stride"):
        patch_grid(100, 100, 64, stride=65)


def test_extract_patches_are_slices_and_padding_is_centred(rng):
    image = rng.integers(0, 256, (50, 100, 3), dtype=np.uint8)
    grid = patch_grid(50, 100, 64, stride=32)
    patches = extract_patches(image, grid)
    assert grid.starts_x == (0, 32, 36) and grid.pad == (7, 7, 0, 0)
    assert patches.shape == (3, 64, 64, 3)
    padded = np.zeros((64, 100, 3), np.uint8)
    padded[7:57] = image
    for patch, x in zip(patches, (0, 32, 36)):
        assert np.array_equal(patch, padded[:, x : x + 64])
    # boxes are in original-image coordinates (padding excluded)
    assert grid.boxes.tolist() == [[0, 0, 50, 64], [0, 32, 50, 96], [0, 36, 50, 100]]


def test_coverage_map_is_mean_of_covering_patches():
    grid = patch_grid(4, 6, 4, stride=2)  # x starts 0, 2
    values = [1.0, 3.0]
    expected = np.array([[1, 1, 2, 2, 3, 3]] * 4, dtype=float)
    assert np.allclose(coverage_map(grid, values), expected)


def test_large_image_score_is_mean_over_hand_cut_patches(model, rng):
    ref = rng.integers(0, 256, (40, 70, 3), dtype=np.uint8)
    dist = rng.integers(0, 256, (40, 70, 3), dtype=np.uint8)
    # stride 16 along width 70: starts 0, 16, 32, 38; height 40: 0, 8
    expected = np.mean([predict(model, ref[y : y + 32, x : x + 32], dist[y : y + 32, x : x + 32])
                        for y in (0, 8) for x in (0, 16, 32, 38)])
    scorer = Scorer(model, stride=16, batch_size=3)
    assert scorer.score_pair(ref, dist) == pytest.approx(expected, abs=1e-4)
    patches = scorer.patch_scores(ref, dist)
    assert patches.grid.count == 8 and patches.score == pytest.approx(expected, abs=1e-4)


def test_small_image_is_zero_padded_in_the_centre(model, rng):
    ref = rng.integers(0, 256, (20, 25, 3), dtype=np.uint8)
    dist = rng.integers(0, 256, (20, 25, 3), dtype=np.uint8)
    pad = ((6, 6), (3, 4), (0, 0))
    expected = predict(model, np.pad(ref, pad), np.pad(dist, pad))
    assert Scorer(model).score_pair(ref, dist) == pytest.approx(expected, abs=1e-4)


# ---- test-time augmentation ---------------------------------------------------------------


def test_named_tta_sets():
    ntire = resolve_tta("ntire")
    assert len(ntire) == 22
    assert [a.rot_k for a in ntire[:4]] == [0, 1, 2, 3]
    assert [a.lightness for a in ntire[7:]] == pytest.approx([0.1 * i for i in range(1, 16)])
    assert len(NTIRE_22) == 22 and ntire == NTIRE_22  # the whole documented list, in order
    assert len(set(resolve_tta("geometric"))) == 8
    custom = resolve_tta("identity, rot90+flip_lr, lightness:0.5")
    assert custom == (Augmentation(), Augmentation(rot_k=1, flip_lr=True), Augmentation(lightness=0.5))
    with pytest.raises(ValueError, match="ntire"):
        resolve_tta("fancy")


def test_geometric_tta_of_an_invariant_model_is_the_plain_score(images):
    model = pooled_model(1)
    ref, dist = images[0], images[1]
    plain = Scorer(model).score_pair(ref, dist)
    assert Scorer(model, tta="geometric").score_pair(ref, dist) == pytest.approx(plain, abs=1e-5)


def test_ntire_tta_of_an_invariant_model_and_input_is_the_plain_score(images):
    # |ref - dist| pooled is invariant to every augmentation when both images get the same one
    model = pooled_model(2, difference_only=True)
    plain = Scorer(model).score_pair(images[2], images[2])
    assert Scorer(model, tta="ntire").score_pair(images[2], images[2]) == pytest.approx(plain, abs=1e-5)


def _augment_numpy(image, aug):
    """One augmentation computed on its own: numpy for geometry, one scale_lightness call per factor."""
    out = image.astype(np.float32)
    if aug.lightness is not None:
        out = scale_lightness(out, aug.lightness).numpy()
    out = np.rot90(out, aug.rot_k)
    if aug.flip_lr:
        out = out[:, ::-1]
    if aug.flip_ud:
        out = out[::-1]
    return np.ascontiguousarray(out)


def test_ntire_tta_is_the_mean_of_22_separately_computed_scores(model, images):
    ref, dist = images[0], images[1]
    separate = []
    for aug in NTIRE_22:  # the documented list, not the package's table
        r, d = _augment_numpy(ref, aug), _augment_numpy(dist, aug)
        out = model.predict([r[None], d[None]], verbose=0)[0, 0]
        separate.append(out * 10.0 + 100.0)
    assert np.std(separate) > 0.05  # the augmentations do change this model's score
    scorer = Scorer(model, tta="ntire")
    assert scorer.score_pair(ref, dist) == pytest.approx(np.mean(separate), abs=2e-3)
    assert abs(np.mean(separate) - predict(model, ref, dist)) > 0.01


def test_custom_tta_rotates_counter_clockwise_then_mirrors(model, images):
    ref, dist = images[0], images[3]
    turned = [np.ascontiguousarray(np.rot90(x, 1)[:, ::-1]) for x in (ref, dist)]  # rot90 first, then mirror
    assert Scorer(model, tta="rot90+flip_lr").score_pair(ref, dist) == pytest.approx(
        predict(model, *turned), abs=1e-4)


def test_augmentations_of_a_batch_run_in_one_graph_call(model, images):
    scorer = Scorer(model, tta="ntire", batch_size=2)
    group = scorer._groups[0]
    calls = []
    inner = group.batch_fn
    group.batch_fn = lambda r, d: calls.append(len(r)) or inner(r, d)
    scores = scorer.score_pairs([(images[0], images[1]), (images[1], images[2]), (images[2], images[3])])
    assert calls == [2, 1]  # 3 pairs, batch of 2: two calls whatever the number of augmentations
    assert scores[1] == pytest.approx(Scorer(model, tta="ntire").score_pair(images[1], images[2]), abs=1e-4)


# ---- ensembles, batching, inputs ----------------------------------------------------------


def test_ensemble_is_mean_of_denormalised_member_scores(images, tmp_path):
    first = sensitive_model(3, mean=1449.05, std=121.35)
    second = sensitive_model(4, mean=4.47, std=1.30)
    save_model(first, tmp_path / "a.keras")
    save_model(second, tmp_path / "b.keras")
    expected = (predict(first, images[0], images[1]) + predict(second, images[0], images[1])) / 2
    scorer = Scorer(tmp_path)
    assert scorer.model_names == ["a.keras", "b.keras"]
    assert scorer.score_pair(images[0], images[1]) == pytest.approx(expected, abs=1e-3)


def test_pair_order_and_batch_boundaries_do_not_change_scores(model, rng):
    pairs = [
        (rng.integers(0, 256, shape, dtype=np.uint8), rng.integers(0, 256, shape, dtype=np.uint8))
        for shape in [(32, 32, 3), (50, 70, 3), (20, 20, 3), (64, 40, 3), (32, 32, 3)]
    ]
    one_by_one = [Scorer(model, batch_size=1).score_pair(*pair) for pair in pairs[:1]]
    batched = Scorer(model, batch_size=3).score_pairs(pairs)
    big = Scorer(model, batch_size=64).score_pairs(pairs)
    assert np.allclose(batched, big, atol=1e-4)
    assert batched[0] == pytest.approx(one_by_one[0], abs=1e-4)
    assert batched[0] == pytest.approx(predict(model, *pairs[0]), abs=1e-4)


def test_grey_rgba_and_16bit_files_score_like_their_rgb(model, images, tmp_path):
    grey = images[0][..., 0]
    Image.fromarray(grey, "L").save(tmp_path / "grey.png")
    rgba = np.dstack([images[1], np.full((SIZE, SIZE), 90, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    deep = (images[2][..., 1].astype(np.uint16) * 257)  # 16-bit whose 8-bit value is exact
    Image.fromarray(deep).save(tmp_path / "deep.png")
    scorer = Scorer(model)
    expected = predict(model, np.repeat(grey[..., None], 3, -1), images[1])
    assert scorer.score_pair(tmp_path / "grey.png", tmp_path / "rgba.png") == pytest.approx(expected, abs=1e-4)
    expected = predict(model, np.repeat(images[2][..., 1:2], 3, -1), images[1])
    assert scorer.score_pair(str(tmp_path / "deep.png"), images[1]) == pytest.approx(expected, abs=1e-4)


def test_bad_inputs_give_clear_errors(model, images, tmp_path):
    write_image(tmp_path / "ref.png", images[0])
    write_image(tmp_path / "small.png", np.zeros((20, 30, 3), np.uint8))
    (tmp_path / "broken.bmp").write_bytes(b"not an image")
    scorer = Scorer(model)
    with pytest.raises(ValueError, match=r"ref\.png is 32x32 .*small\.png is 30x20"):
        scorer.score_pair(tmp_path / "ref.png", tmp_path / "small.png")
    with pytest.raises(ValueError, match="broken.bmp"):
        scorer.score_pair(tmp_path / "ref.png", tmp_path / "broken.bmp")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NoModelsError, match="--models"):
        model_files(empty)
    with pytest.raises(ValueError, match="unknown TTA part"):
        Scorer(model, tta="rot45")


def test_saved_fr_simple_scores_like_the_in_memory_model(images, tmp_path):
    model = build_model("fr_simple", input_size=SIZE, dense_num=8)
    save_model(model, tmp_path / "m.keras")
    expected = predict(model, images[0], images[1])
    assert Scorer(tmp_path / "m.keras").score_pair(images[0], images[1]) == pytest.approx(expected, abs=1e-4)


# ---- pairing ------------------------------------------------------------------------------


def _touch_images(folder, names):
    for name in names:
        write_image(folder / name, np.zeros((4, 4, 3), np.uint8))


def test_pipal_pairing_and_seed_order(tmp_path):
    _touch_images(tmp_path / "ref", ["A0002.bmp", "A0010.bmp", "A0001.bmp"])
    dist_names = ["A0010_00_01.bmp", "A0002_10_00.bmp", "A0002_02_11.bmp", "A0001_01_00.bmp", "A0002_02_03.bmp"]
    _touch_images(tmp_path / "dist", dist_names)
    pairing = pair_folders(tmp_path / "ref", tmp_path / "dist")
    # the seed's key: int(ref digits + type + index)
    seed_order = sorted(dist_names, key=lambda n: int(n.split(".")[0][1:].replace("_", "")))
    assert pairing.names == seed_order
    assert [os.path.basename(r) for r, _ in pairing.pairs] == [n.split("_")[0] + ".bmp" for n in seed_order]


def test_missing_references_are_all_listed_or_skipped(tmp_path):
    _touch_images(tmp_path / "ref", ["A0001.bmp"])
    _touch_images(tmp_path / "dist", ["A0001_00_00.bmp", "A0003_00_00.bmp", "A0004_01_02.bmp"])
    with pytest.raises(MissingReferenceError) as error:
        pair_folders(tmp_path / "ref", tmp_path / "dist")
    assert "A0003_00_00.bmp" in str(error.value) and "A0004_01_02.bmp" in str(error.value)
    pairing = pair_folders(tmp_path / "ref", tmp_path / "dist", skip_missing=True)
    assert pairing.names == ["A0001_00_00.bmp"]
    assert [os.path.basename(d) for d, _ in pairing.missing] == ["A0003_00_00.bmp", "A0004_01_02.bmp"]


def test_other_pair_rules_and_empty_folder(tmp_path):
    _touch_images(tmp_path / "ref", ["I01.BMP", "cat.png"])
    _touch_images(tmp_path / "dist", ["i01_01_1.bmp", "i01_02_5.bmp"])
    pairing = pair_folders(tmp_path / "ref", tmp_path / "dist", rule=r"regex:(?P<ref>i\d+)_.*")
    assert [os.path.basename(r) for r, _ in pairing.pairs] == ["I01.BMP", "I01.BMP"]
    _touch_images(tmp_path / "same", ["cat.png"])
    assert pair_folders(tmp_path / "ref", tmp_path / "same", rule="same-name").names == ["cat.png"]
    (tmp_path / "none").mkdir()
    with pytest.raises(ValueError, match="no image files"):
        pair_folders(tmp_path / "ref", tmp_path / "none")
    with pytest.raises(ValueError, match="unknown pair rule"):
        pair_folders(tmp_path / "ref", tmp_path / "dist", rule="fuzzy")


# ---- score files --------------------------------------------------------------------------


def test_ntire_output_readme_and_zip(tmp_path):
    text = ntire_output_text(["A0001_00_00.bmp", "A0001_00_01.bmp"], [1381.0543870192307, 1500.0])
    assert text == "A0001_00_00.bmp,1381.0543870192307\nA0001_00_01.bmp,1500.0\n"
    readme = ntire_readme_text(0.25, cpu=True, extra_data=False, description="two models\nwith TTA")
    assert readme.splitlines() == [
        "runtime per image [s] : 0.2500",
        "CPU[1] / GPU[0] : 1",
        "Extra Data [1] / No Extra Data [0] : 0",
        "Other description : two models with TTA",
    ]
    write_ntire_zip(tmp_path / "sub.zip", text, readme)
    with zipfile.ZipFile(tmp_path / "sub.zip") as archive:
        assert sorted(archive.namelist()) == ["output.txt", "readme.txt"]
        assert archive.read("output.txt").decode() == text
    assert os.listdir(tmp_path) == ["sub.zip"]  # no temporary file left behind
