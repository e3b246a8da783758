"""Local contrast normalisation (MSCN): against scipy's Gaussian filter, and as the input of a NIMA trunk."""
import numpy as np
import pytest
from scipy import ndimage

from helpers import assert_keras_round_trip
from iqa_keras.layers import LocalContrastNormalize


def _mscn_scipy(image, sigma=7 / 6, radius=3, constant=1.0):
    """BRISQUE's MSCN per channel, with scipy's Gaussian (mirrored borders, truncated at ``radius``)."""
    out = np.empty(image.shape, dtype=np.float64)
    for c in range(image.shape[-1]):
        channel = image[..., c].astype(np.float64)
        blur = lambda x: ndimage.gaussian_filter(x, sigma, truncate=radius / sigma, mode="reflect")  # noqa: E731
        mean = blur(channel)
        std = np.sqrt(np.maximum(blur(channel * channel) - mean * mean, 0.0))
        out[..., c] = (channel - mean) / (std + constant)
    return out


@pytest.mark.parametrize("sigma, radius, constant", [(7 / 6, 3, 1.0), (2.0, 5, 10.0)])
def test_matches_scipy_including_the_borders(sigma, radius, constant):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (2, 21, 17, 3)).astype(np.float32)
    got = np.asarray(LocalContrastNormalize(sigma, radius, constant)(images))
    expected = np.stack([_mscn_scipy(im, sigma, radius, constant) for im in images])
    np.testing.assert_allclose(got, expected, atol=2e-5)


def test_removes_brightness_and_keeps_contrast_out():
    """A flat image is all zeros; a brighter copy of a texture gives the same coefficients."""
    flat = np.full((1, 16, 16, 3), 200.0, np.float32)
    np.testing.assert_allclose(np.asarray(LocalContrastNormalize()(flat)), 0.0, atol=1e-4)
    texture = np.random.default_rng(1).uniform(50, 150, (1, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(LocalContrastNormalize()(texture + 60.0)),
                               np.asarray(LocalContrastNormalize()(texture)), atol=1e-3)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="radius at least 1"):
        LocalContrastNormalize(radius=0)


def test_nima_regression_on_local_contrast_saves_and_loads(tmp_path):
    from iqa_keras import build_model

    model = build_model("nima_regression", input_size=32, backbone="MobileNetV2", alpha=0.35, features=8,
                        dropout=0.0, normalize="local_contrast")
    assert isinstance(model.get_layer("preprocess"), LocalContrastNormalize)
    images = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    assert_keras_round_trip(model, tmp_path / "lcn.keras", images)


def test_local_contrast_is_refused_for_backbones_that_rescale_inside_and_unknown_names():
    from iqa_keras import build_model

    with pytest.raises(ValueError, match="EfficientNetB0 rescales its input inside itself"):
        build_model("nima", input_size=32, backbone="EfficientNetB0", normalize="local_contrast")
    with pytest.raises(ValueError, match="normalize must be one of backbone, local_contrast"):
        build_model("nima", input_size=32, normalize="mscn")
