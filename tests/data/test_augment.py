"""Lab conversion and paired augmentation, checked against scikit-image and numpy."""
import numpy as np
import pytest
import tensorflow as tf
from skimage import color

from iqa_keras.data.augment import (
    lab_to_rgb,
    paired_geometric,
    random_paired_augment,
    rgb_to_lab,
    scale_lightness,
)


def _test_image(rng, shape=(2, 24, 20, 3)):
    images = rng.integers(0, 256, shape).astype(np.uint8)
    images[0, :4] = 255  # saturated white and black rows: the wrap-around case of the seed
    images[0, 4:8] = 0
    images[1, :3, :, 0] = 255  # saturated red
    images[1, :3, :, 1:] = 0
    return images


def test_rgb_to_lab_matches_skimage(rng):
    images = _test_image(rng)
    expected = np.stack([color.rgb2lab(im) for im in images])
    got = rgb_to_lab(images.astype(np.float32)).numpy()
    assert got.shape == images.shape
    np.testing.assert_allclose(got, expected, atol=2e-3 * 100)


def test_lab_round_trip_and_lab_to_rgb_match_skimage(rng):
    images = _test_image(rng)
    lab = np.stack([color.rgb2lab(im) for im in images]).astype(np.float32)
    expected = np.stack([color.lab2rgb(x) for x in lab]) * 255.0
    got = lab_to_rgb(lab).numpy()
    assert np.abs(got - expected).max() < 1.0
    round_trip = lab_to_rgb(rgb_to_lab(images)).numpy()
    assert np.abs(round_trip - images).max() < 0.5


@pytest.mark.filterwarnings("ignore:Conversion from CIE-LAB")
@pytest.mark.parametrize("factor", [0.3, 0.7, 1.0, 1.5])
def test_scale_lightness_matches_skimage_within_one_grey_level(rng, factor):
    images = _test_image(rng)
    expected = []
    for im in images:  # independent computation: skimage Lab, L scaled and clipped
        lab = color.rgb2lab(im)
        lab[..., 0] = np.clip(lab[..., 0] * factor, 0, 100)
        expected.append(color.lab2rgb(lab) * 255.0)
    expected = np.stack(expected)
    got = scale_lightness(images.astype(np.float32), factor).numpy()
    assert got.min() >= 0 and got.max() <= 255
    assert np.abs(got - expected).max() <= 1.0
    from_uint8 = scale_lightness(images, factor).numpy()  # the lookup-table path
    assert np.abs(from_uint8 - expected).max() <= 1.0
    if factor > 1:  # no wrap-around: the white rows stay white
        assert got[0, :4].min() >= 254


def test_scale_lightness_per_image_factors_in_graph(rng):
    images = _test_image(rng).astype(np.float32)
    factors = np.array([0.5, 1.2], np.float32)
    graph = tf.function(scale_lightness)
    batch = graph(images, factors).numpy()
    for i, f in enumerate(factors):
        single = scale_lightness(images[i], float(f)).numpy()
        np.testing.assert_allclose(batch[i], single, atol=1e-3)


def _numpy_geometric(image, k, lr, ud):
    out = np.rot90(image, k, axes=(-3, -2))
    if lr:
        out = out[..., :, ::-1, :]
    if ud:
        out = out[..., ::-1, :, :]
    return out


@pytest.mark.parametrize("width", [5, 6])  # non-square and square images
@pytest.mark.parametrize("k,lr,ud", [(0, False, False), (1, True, False), (2, False, True), (3, True, True), (1, False, False), (3, False, False)])
def test_paired_geometric_matches_numpy(rng, k, lr, ud, width):
    ref = rng.integers(0, 256, (2, 6, width, 3)).astype(np.float32)
    dist = rng.integers(0, 256, (2, 6, width, 3)).astype(np.float32)
    fn = tf.function(paired_geometric)
    out_ref, out_dist = fn(ref, dist, tf.constant(k), tf.constant(lr), tf.constant(ud))
    np.testing.assert_array_equal(out_ref.numpy(), _numpy_geometric(ref, k, lr, ud))
    np.testing.assert_array_equal(out_dist.numpy(), _numpy_geometric(dist, k, lr, ud))
    single_ref, _ = paired_geometric(ref[0], dist[0], k, lr, ud)  # eager, one image
    np.testing.assert_array_equal(single_ref.numpy(), _numpy_geometric(ref[0], k, lr, ud))


def test_random_paired_augment_is_seeded_and_paired(rng):
    image = rng.integers(0, 256, (8, 8, 3)).astype(np.float32)
    outputs = set()
    for s in range(12):
        ref, dist = random_paired_augment(image, image + 0.0, tf.constant([s, 1]))
        np.testing.assert_array_equal(ref.numpy(), dist.numpy())  # same transform for both
        again, _ = random_paired_augment(image, image, tf.constant([s, 1]))
        np.testing.assert_array_equal(ref.numpy(), again.numpy())
        outputs.add(ref.numpy().tobytes())
    assert len(outputs) > 3  # several different transforms drawn
