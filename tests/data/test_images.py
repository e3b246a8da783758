"""Image decoding to RGB uint8, checked against hand-computed conversions."""
import numpy as np
import pytest
from PIL import Image

from iqa_keras.data.images import ImageReadError, read_image


def test_grey_rgba_and_16bit_become_rgb_uint8(tmp_path, rng):
    grey = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    Image.fromarray(grey, "L").save(tmp_path / "g.png")
    out = read_image(tmp_path / "g.png")
    assert out.shape == (5, 7, 3) and out.dtype == np.uint8
    assert np.array_equal(out[..., 1], grey)

    rgba = rng.integers(0, 256, (4, 6, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    assert np.array_equal(read_image(tmp_path / "a.png"), rgba[..., :3])

    deep = rng.integers(0, 65536, (3, 5), dtype=np.uint16)
    Image.fromarray(deep).save(tmp_path / "d.png")
    expected = np.round(deep.astype(np.float64) * 255 / 65535).astype(np.uint8)
    assert np.array_equal(read_image(tmp_path / "d.png")[..., 0], expected)


def test_unreadable_and_missing_files_are_named(tmp_path):
    bad = tmp_path / "broken.bmp"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImageReadError, match="broken.bmp"):
        read_image(bad)
    with pytest.raises(ImageReadError, match="nothere.png"):
        read_image(tmp_path / "nothere.png")
