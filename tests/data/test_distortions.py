"""The distortion zoo (25 KADID-10k-like types x 5 levels): what each type does, checked against
independent computations (scipy, scikit-image, Pillow, loops written here), determinism, shapes,
input checks, and the order of the levels (MS-SSIM falls strictly from level 1 to 5 on photographs)."""
import io
import math

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from iqa_keras.data.distortions import (
    DISTORTION_TYPES,
    FAMILIES,
    LEVEL_PARAMETERS,
    RANDOM_TYPES,
    distort,
)
from iqa_keras.data.distortions import blur, brightness, colour, compression, noise, sharpness_contrast, spatial
from iqa_keras.registry import DISTORTIONS

LEVELS = range(1, 6)
KADID_ORDER = (  # KADID-10k's type numbers 1..25
    "gaussian_blur", "lens_blur", "motion_blur", "colour_diffusion", "colour_shift", "colour_quantisation",
    "colour_saturation_1", "colour_saturation_2", "jpeg2000", "jpeg", "white_noise",
    "white_noise_colour_component", "impulse_noise", "multiplicative_noise", "denoise", "brighten", "darken",
    "mean_shift", "jitter", "non_eccentricity_patch", "pixelate", "quantisation", "colour_block", "high_sharpen",
    "contrast_change",
)
PHOTOS = ("astronaut", "chelsea", "coffee")
SIZE = 192  # MS-SSIM's five scales need at least 161 pixels a side


def _photo(name: str, size: int = SIZE) -> np.ndarray:
    """A scikit-image sample photograph, short side resized to ``size``, centre ``size`` x ``size`` crop."""
    import skimage.data

    image = getattr(skimage.data, name)()
    h, w = image.shape[:2]
    scale = size / min(h, w)
    resized = np.asarray(Image.fromarray(image).resize((max(size, round(w * scale)), max(size, round(h * scale))),
                                                       Image.LANCZOS))
    top, left = (resized.shape[0] - size) // 2, (resized.shape[1] - size) // 2
    return np.ascontiguousarray(resized[top:top + size, left:left + size])


@pytest.fixture(scope="module")
def photos():
    return {name: _photo(name) for name in PHOTOS}


@pytest.fixture(scope="module")
def photo(photos):
    return photos["astronaut"]


def _noise_image(shape=(96, 128), seed=5) -> np.ndarray:
    """Uniform random pixels: a moved or replaced pixel almost surely changes value."""
    return np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)


def _flat(value, shape=(96, 96)) -> np.ndarray:
    return np.full((*shape, 3), value, np.uint8)


def _rng(seed=3):
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- API and registry
def test_the_25_types_in_kadid_order_families_and_level_tables():
    assert DISTORTION_TYPES == KADID_ORDER
    assert sum(len(names) for names in FAMILIES.values()) == 25
    assert tuple(n for names in FAMILIES.values() for n in names) == KADID_ORDER
    assert set(FAMILIES) == {"blur", "colour", "compression", "noise", "brightness", "spatial", "sharpness_contrast"}
    assert tuple(LEVEL_PARAMETERS) == KADID_ORDER
    assert all(len(LEVEL_PARAMETERS[name]) == 5 for name in KADID_ORDER)
    assert set(KADID_ORDER) <= set(DISTORTIONS.names())
    assert RANDOM_TYPES <= set(KADID_ORDER)
    for module in (blur, colour, compression, noise, brightness, spatial, sharpness_contrast):
        assert module.__doc__ and all(name in module.__doc__ for name in module.LEVELS)  # tables documented
        for name, values in module.LEVELS.items():
            assert LEVEL_PARAMETERS[name] == values


def test_distort_checks_its_inputs(photo):
    with pytest.raises(ValueError, match="unknown distortion type 'blurr'.*gaussian_blur.*contrast_change"):
        distort(photo, "blurr", 1, _rng())
    for level in (0, 6, 2.0, True, "3"):
        with pytest.raises(ValueError, match="level must be an integer 1..5"):
            distort(photo, "jpeg", level, _rng())
    for bad in (photo.astype(np.float32), photo[..., 0], np.dstack([photo, photo[..., :1]]), photo[None]):
        with pytest.raises(ValueError, match=r"uint8 RGB image of shape \(H, W, 3\)"):
            distort(bad, "jpeg", 1, _rng())
    with pytest.raises(ValueError, match="at least 32 x 32"):
        distort(photo[:31], "jpeg", 1, _rng())
    with pytest.raises(ValueError, match="numpy.random.Generator"):
        distort(photo, "white_noise", 1, 0)
    with pytest.raises(ValueError, match="level must be an integer 1..5"):  # the registered functions check too
        DISTORTIONS.get("gaussian_blur")(photo, 7, _rng())
    assert np.array_equal(distort(photo, "jpeg", np.int64(2), _rng()), distort(photo, "jpeg", 2, _rng()))


@pytest.mark.parametrize("shape", [(45, 67), (32, 32), (67, 33)])
def test_shape_and_dtype_kept_and_input_untouched_on_odd_non_square_images(photo, shape):
    image = np.ascontiguousarray(photo[:shape[0], :shape[1]])
    before = image.copy()
    for name in KADID_ORDER:
        for level in LEVELS:
            out = distort(image, name, level, _rng())
            assert out.shape == image.shape and out.dtype == np.uint8, (name, level)
            assert out is not image
            assert np.array_equal(image, before), (name, level)


def test_same_seed_same_bytes_other_seed_other_output_for_random_types():
    image = _photo("chelsea", 64)
    for name in KADID_ORDER:
        for level in (1, 5):
            first = distort(image, name, level, np.random.default_rng(11))
            again = distort(image, name, level, np.random.default_rng(11))
            other = distort(image, name, level, np.random.default_rng(12))
            assert first.tobytes() == again.tobytes(), (name, level)
            if name in RANDOM_TYPES:
                assert not np.array_equal(first, other), (name, level)
            else:  # the deterministic types ignore the generator
                assert np.array_equal(first, other), (name, level)


# ----------------------------------------------------------------------------- the order of the levels
def _ms_ssim(reference: np.ndarray, distorted: np.ndarray, measure: str) -> np.ndarray:
    """MS-SSIM of a reference against a batch of distorted images.

    ``"luma"``: the package's classical MS-SSIM (BT.601 luma); ``"rgb"``:
    ``tf.image.ssim_multiscale`` on R, G and B (the mean of the three), which
    also sees chroma. Without the classical metrics module, both use the RGB form.
    """
    references = np.repeat(reference[None], len(distorted), axis=0)
    if measure == "luma":
        try:
            from iqa_keras.metrics.classical import compute_metric
        except ImportError:
            measure = "rgb"
        else:
            return np.asarray(compute_metric("ms_ssim", references, distorted, batch_size=len(distorted)))
    import tensorflow as tf

    return tf.image.ssim_multiscale(references.astype(np.float32), distorted.astype(np.float32), 255.0).numpy()


# colour_diffusion blurs only the chroma planes of L*a*b* and keeps L*: luma MS-SSIM is all but blind
# to it (its levels differ by ~1e-4 there), so its order is checked with MS-SSIM on R, G, B.
CHROMA_ONLY = {"colour_diffusion"}


@pytest.mark.parametrize("name", KADID_ORDER)
def test_ms_ssim_falls_strictly_from_level_1_to_level_5(photos, name):
    measure = "rgb" if name in CHROMA_ONLY else "luma"
    for photo_name, reference in photos.items():
        distorted = np.stack([distort(reference, name, level, _rng(7)) for level in LEVELS])
        scores = _ms_ssim(reference, distorted, measure)
        assert np.all(np.diff(scores) < 0), (photo_name, scores.round(5).tolist())
        assert scores[0] < 1.0 and scores[0] > 0.95, (photo_name, scores[0])  # level 1: visible, but barely


# ----------------------------------------------------------------------------- blur
def test_gaussian_kernel_and_blur_match_scipy(photo):
    from iqa_keras.data.distortions._common import gaussian_kernel

    for level, sigma in zip(LEVELS, blur.LEVELS["gaussian_blur"]):
        kernel = gaussian_kernel(sigma)
        assert kernel.sum() == pytest.approx(1.0) and np.allclose(kernel, kernel[::-1])
        assert len(kernel) == 2 * math.ceil(4 * sigma) + 1
        expected = ndimage.gaussian_filter(photo.astype(np.float64), (sigma, sigma, 0), mode="reflect", truncate=4.0)
        out = distort(photo, "gaussian_blur", level, _rng())
        assert np.abs(out.astype(float) - expected).max() <= 0.51


def test_lens_blur_kernel_is_a_normalised_disk_and_the_blur_a_convolution(photo):
    for level, radius in zip(LEVELS, blur.LEVELS["lens_blur"]):
        kernel = blur.disk_kernel(radius)
        assert kernel.sum() == pytest.approx(1.0)
        assert np.allclose(kernel, kernel.T) and np.allclose(kernel, kernel[::-1])
        assert np.allclose(kernel, kernel[:, ::-1])
        half = kernel.shape[0] // 2
        yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
        corner_far = np.hypot(np.abs(yy) + 0.5, np.abs(xx) + 0.5)  # farthest point of each pixel
        corner_near = np.hypot(np.maximum(np.abs(yy) - 0.5, 0), np.maximum(np.abs(xx) - 0.5, 0))
        inside, outside = corner_far <= radius, corner_near >= radius
        assert np.allclose(kernel[inside], kernel.max())  # flat top
        assert np.all(kernel[outside] == 0)
        assert 1.0 / kernel.max() == pytest.approx(math.pi * radius ** 2, rel=0.01)  # the disk's area
        expected = ndimage.convolve(photo.astype(np.float64), kernel[:, :, None], mode="reflect")
        out = distort(photo, "lens_blur", level, _rng())
        assert np.abs(out.astype(float) - expected).max() <= 0.51


def test_motion_kernel_is_a_line_and_the_blur_follows_the_drawn_angle(photo):
    for length in blur.LEVELS["motion_blur"]:
        horizontal = blur.motion_kernel(length, 0.0)
        assert horizontal.sum() == pytest.approx(1.0)
        row = horizontal[horizontal.shape[0] // 2]
        assert np.count_nonzero(horizontal) == length == np.count_nonzero(row)  # a box of `length` pixels
        assert np.allclose(row[row > 0], 1.0 / length)
        assert np.allclose(blur.motion_kernel(length, 90.0), horizontal.T)
        diagonal = blur.motion_kernel(length, 45.0)  # up and to the right: the anti-diagonal
        assert np.count_nonzero(diagonal) == np.count_nonzero(np.fliplr(diagonal).diagonal())
    for level, length in zip(LEVELS, blur.LEVELS["motion_blur"]):
        angle = _rng(4).uniform(0.0, 180.0)  # the documented draw: the generator's first, uniform in [0, 180)
        kernel = blur.motion_kernel(length, angle)
        expected = ndimage.convolve(photo.astype(np.float64), kernel[:, :, None], mode="reflect")
        out = distort(photo, "motion_blur", level, _rng(4))
        assert np.abs(out.astype(float) - expected).max() <= 0.51


# ----------------------------------------------------------------------------- colour
def test_colour_diffusion_keeps_lightness_and_smooths_chroma(photo):
    from skimage.color import rgb2lab

    lab = rgb2lab(photo)
    roughness = []
    for level in LEVELS:
        out_lab = rgb2lab(distort(photo, "colour_diffusion", level, _rng()))
        assert np.median(np.abs(out_lab[..., 0] - lab[..., 0])) < 0.5  # L* kept (up to gamut clipping)
        chroma_gradient = sum(np.abs(np.diff(out_lab[..., c], axis=a)).mean() for c in (1, 2) for a in (0, 1))
        roughness.append(chroma_gradient)
    original = sum(np.abs(np.diff(lab[..., c], axis=a)).mean() for c in (1, 2) for a in (0, 1))
    assert original > roughness[0] and np.all(np.diff(roughness) < 0)


def test_colour_shift_moves_only_green_and_only_at_edges(photo):
    weight = colour.edge_weight(photo.astype(np.float32))
    for level in LEVELS:
        out = distort(photo, "colour_shift", level, _rng())
        assert np.array_equal(out[..., [0, 2]], photo[..., [0, 2]])
        change = np.abs(out[..., 1].astype(int) - photo[..., 1])
        assert change.max() > 0
        assert np.all(change[weight == 0] == 0)  # flat areas keep their green
        assert change[weight > 0.5].mean() > 3 * change[weight < 0.1].mean()
    flat = _flat(90)
    assert np.array_equal(distort(flat, "colour_shift", 5, _rng()), flat)


def test_colour_shift_moves_the_green_plane_by_the_stated_distance():
    plane = np.zeros((40, 40), np.float32)
    plane[20, 20] = 1.0
    moved = colour.shift_plane(plane, 3.0, -2.0)
    assert moved[23, 18] == pytest.approx(1.0)
    moved = colour.shift_plane(plane, 0.5, 0.0)  # half a pixel: shared by two rows
    assert moved[20, 20] == pytest.approx(0.5) and moved[21, 20] == pytest.approx(0.5)


def test_colour_quantisation_leaves_at_most_the_stated_number_of_colours(photo):
    for level, colours in zip(LEVELS, colour.LEVELS["colour_quantisation"]):
        out = distort(photo, "colour_quantisation", level, _rng())
        assert len(np.unique(out.reshape(-1, 3), axis=0)) <= colours
        assert np.abs(out.astype(float).mean(axis=(0, 1)) - photo.mean(axis=(0, 1))).max() < 6  # dithered: means kept


def test_colour_saturation_1_scales_hsv_saturation_and_keeps_hue_and_value(photo):
    from skimage.color import rgb2hsv

    hsv = rgb2hsv(photo)
    coloured = (hsv[..., 1] > 0.3) & (hsv[..., 2] > 0.3)
    lit = hsv[..., 2] > 0.3  # where rounding to a grey level moves the saturation by < 0.007
    for level, factor in zip(LEVELS, colour.LEVELS["colour_saturation_1"]):
        out_hsv = rgb2hsv(distort(photo, "colour_saturation_1", level, _rng()))
        assert np.abs(out_hsv[..., 2] - hsv[..., 2]).max() <= 0.5 / 255 + 1e-9  # value kept
        assert np.abs(out_hsv[..., 1] - factor * hsv[..., 1])[lit].max() < 0.01  # saturation x factor
        if factor >= 0.4:
            hue_error = np.abs(out_hsv[..., 0] - hsv[..., 0])
            assert np.median(np.minimum(hue_error, 1 - hue_error)[coloured]) < 0.005
    grey = distort(photo, "colour_saturation_1", 5, _rng())  # factor 0: every pixel grey
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])


def test_colour_saturation_2_raises_saturation_and_keeps_lightness(photo):
    from skimage.color import rgb2hsv, rgb2lab

    lab = rgb2lab(photo)
    saturation = [rgb2hsv(photo)[..., 1].mean()]
    for level in LEVELS:
        out = distort(photo, "colour_saturation_2", level, _rng())
        saturation.append(rgb2hsv(out)[..., 1].mean())
        assert np.median(np.abs(rgb2lab(out)[..., 0] - lab[..., 0])) < 1.0
    assert np.all(np.diff(saturation) > 0)


# ----------------------------------------------------------------------------- compression
def test_jpeg_is_pillows_round_trip_and_the_file_shrinks_with_the_level(photo):
    sizes = []
    for level, quality in zip(LEVELS, compression.LEVELS["jpeg"]):
        buffer = io.BytesIO()
        Image.fromarray(photo).save(buffer, format="JPEG", quality=quality)
        sizes.append(buffer.tell())
        expected = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
        assert np.array_equal(distort(photo, "jpeg", level, _rng()), expected)
    assert np.all(np.diff(sizes) < 0)


def test_jpeg2000_hits_its_compression_ratio_and_the_file_shrinks_with_the_level(photo):
    raw = photo.size  # bytes of the 24-bit image
    sizes = []
    for level, ratio in zip(LEVELS, compression.LEVELS["jpeg2000"]):
        data = compression.encode_jpeg2000(photo, ratio)
        with Image.open(io.BytesIO(data)) as decoded:
            assert decoded.format == "JPEG2000"
            expected = np.asarray(decoded.convert("RGB"))
        assert np.array_equal(distort(photo, "jpeg2000", level, _rng()), expected)
        assert len(data) <= raw / ratio * 1.05 + 64  # the rate control meets the target (header aside)
        sizes.append(len(data))
    assert np.all(np.diff(sizes) < 0)


# ----------------------------------------------------------------------------- noise
def test_white_noise_has_the_stated_standard_deviation():
    grey = _flat(128, (128, 128))
    for level, std in zip(LEVELS, noise.LEVELS["white_noise"]):
        difference = distort(grey, "white_noise", level, _rng()).astype(float) - 128
        measured = math.sqrt(max(difference.var() - 1 / 12, 0))  # minus the rounding's variance
        assert measured == pytest.approx(std, rel=0.03)
        assert abs(difference.mean()) < 0.5
        assert abs(np.corrcoef(difference[..., 0].ravel(), difference[..., 1].ravel())[0, 1]) < 0.03


def test_white_noise_colour_component_is_stronger_in_chroma():
    grey = _flat(128, (128, 128))
    reference = np.asarray(Image.fromarray(grey).convert("YCbCr")).astype(float)
    for level, std in list(zip(LEVELS, noise.LEVELS["white_noise_colour_component"]))[:3]:  # no clipping yet
        out = distort(grey, "white_noise_colour_component", level, _rng())
        ycbcr = np.asarray(Image.fromarray(out).convert("YCbCr")).astype(float) - reference  # Pillow's JFIF YCbCr
        stds = ycbcr.reshape(-1, 3).std(axis=0)
        assert stds[0] == pytest.approx(noise.LUMA_SHARE * std, rel=0.1, abs=0.4)
        assert stds[1] == pytest.approx(std, rel=0.08) and stds[2] == pytest.approx(std, rel=0.08)


def test_impulse_noise_hits_the_stated_fraction_with_black_and_white(photo):
    image = _noise_image((200, 200))
    image[(image == 0) | (image == 255)] = 128  # no pure black or white before
    for level, fraction in zip(LEVELS, noise.LEVELS["impulse_noise"]):
        out = distort(image, "impulse_noise", level, _rng())
        changed = np.any(out != image, axis=2)
        black, white = np.all(out == 0, axis=2), np.all(out == 255, axis=2)
        assert np.array_equal(changed, black | white)  # whole pixels, only black or white
        n = image.shape[0] * image.shape[1]
        assert changed.sum() == pytest.approx(fraction * n, abs=4 * math.sqrt(fraction * n) + 2)
        if level >= 3:
            assert black.sum() == pytest.approx(white.sum(), rel=0.25)


def test_multiplicative_noise_grows_with_the_brightness():
    image = np.concatenate([_flat(60, (100, 100)), _flat(180, (100, 100))], axis=1)
    for level, std in zip(LEVELS, noise.LEVELS["multiplicative_noise"]):
        out = distort(image, "multiplicative_noise", level, _rng()).astype(float)
        dark, bright = out[:, :100] - 60, out[:, 100:] - 180
        if level <= 3:  # below clipping
            assert dark.std() == pytest.approx(60 * std, rel=0.08, abs=0.3)
            assert bright.std() == pytest.approx(180 * std, rel=0.05)
        assert bright.std() > 2 * dark.std()
    black = _flat(0)
    assert np.array_equal(distort(black, "multiplicative_noise", 5, _rng()), black)


def test_bilateral_filter_matches_a_direct_loop():
    plane = np.random.default_rng(2).normal(100, 30, (9, 11)).astype(np.float32)
    radius, sigma_space, sigma_range = 2, 1.5, 25.0
    padded = np.pad(plane.astype(np.float64), radius, mode="symmetric")
    expected = np.empty(plane.shape)
    for y in range(plane.shape[0]):
        for x in range(plane.shape[1]):
            window = padded[y:y + 2 * radius + 1, x:x + 2 * radius + 1]
            dy, dx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
            weight = (np.exp(-(dy ** 2 + dx ** 2) / (2 * sigma_space ** 2))
                      * np.exp(-(window - plane[y, x]) ** 2 / (2 * sigma_range ** 2)))
            expected[y, x] = (weight * window).sum() / weight.sum()
    np.testing.assert_allclose(noise.bilateral_filter(plane, radius, sigma_space, sigma_range), expected, atol=1e-3)


def test_denoise_removes_most_of_the_noise_it_adds(photo):
    grey = _flat(120, (96, 96))
    for level, (std, _) in zip(LEVELS, noise.LEVELS["denoise"]):
        out = distort(photo, "denoise", level, _rng()).astype(float)
        # better than the noisy image, even on this finely textured crop where texture goes with the noise
        assert np.mean((out - photo) ** 2) < 0.7 * std ** 2
        assert not np.array_equal(out, photo)
        flat_out = distort(grey, "denoise", level, _rng()).astype(float)
        assert flat_out.std() < 0.4 * std  # flat areas come out much smoother than the noise
        # detail is smoothed too: less high-frequency energy than the reference
        assert np.abs(ndimage.laplace(out.mean(axis=2))).mean() < np.abs(ndimage.laplace(
            photo.astype(float).mean(axis=2))).mean() * (1.0 if level == 1 else 1.3)


# ----------------------------------------------------------------------------- brightness
def test_brighten_raises_and_darken_lowers_the_mean_keeping_hue_and_saturation(photo):
    from skimage.color import rgb2hsv

    hsv = rgb2hsv(photo)
    coloured = (hsv[..., 1] > 0.3) & (hsv[..., 2] > 0.3)
    for name, sign in (("brighten", 1), ("darken", -1)):
        means = [photo.mean()]
        for level in LEVELS:
            out = distort(photo, name, level, _rng())
            means.append(out.mean())
            out_hsv = rgb2hsv(out)
            hue_error = np.abs(out_hsv[..., 0] - hsv[..., 0])
            assert np.median(np.minimum(hue_error, 1 - hue_error)[coloured]) < 0.01, (name, level)
            assert np.median(np.abs(out_hsv[..., 1] - hsv[..., 1])[coloured]) < 0.02, (name, level)
        assert np.all(sign * np.diff(means) > 0), (name, means)
    ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 32, axis=0).repeat(3, axis=2)
    for name in ("brighten", "darken"):  # tone curves: order kept, black and white fixed
        out = distort(ramp, name, 3, _rng())[0, :, 0].astype(int)
        assert out[0] == 0 and out[-1] == 255 and np.all(np.diff(out) >= 0)
    curve = distort(ramp, "brighten", 2, _rng())[0, :, 0] / 255.0
    p = brightness.LEVELS["brighten"][1]
    np.testing.assert_allclose(curve, 1 - (1 - np.arange(256) / 255.0) ** p, atol=0.5 / 255 + 1e-9)


def test_mean_shift_moves_the_mean_by_the_stated_amount(photo):
    dark, bright = _flat(90), _flat(170)
    for level, shift in zip(LEVELS, brightness.LEVELS["mean_shift"]):
        assert distort(dark, "mean_shift", level, _rng()).mean() == pytest.approx(90 + shift, abs=0.5)
        assert distort(bright, "mean_shift", level, _rng()).mean() == pytest.approx(170 - shift, abs=0.5)
        out = distort(photo, "mean_shift", level, _rng()).astype(int)
        sign = 1 if photo.mean() < 127.5 else -1
        unclipped = (out > 0) & (out < 255)
        assert np.all(np.abs(out[unclipped] - photo[unclipped] - sign * shift) <= 0.5)


# ----------------------------------------------------------------------------- spatial
def test_jitter_moves_the_stated_share_of_pixels_within_reach():
    image = _noise_image((120, 130))
    h, w = image.shape[:2]
    for level, sigma in zip(LEVELS, spatial.LEVELS["jitter"]):
        out = distort(image, "jitter", level, _rng())
        changed = np.any(out != image, axis=2)
        still = math.erf(0.5 / (sigma * math.sqrt(2)))
        assert spatial.jitter_share(sigma) == pytest.approx(1 - still ** 2)
        inner = changed[10:-10, 10:-10]  # away from the clamped border
        assert inner.mean() == pytest.approx(1 - still ** 2, abs=0.02)
        reach = math.ceil(3 * sigma)  # every value comes from a pixel at most `reach` away in each axis
        padded = np.pad(image, ((reach, reach), (reach, reach), (0, 0)), mode="edge")
        found = np.zeros((h, w), bool)
        for dy in range(-reach, reach + 1):
            for dx in range(-reach, reach + 1):
                found |= np.all(padded[reach + dy:reach + dy + h, reach + dx:reach + dx + w] == out, axis=2)
        assert found.all()


def test_non_eccentricity_patch_changes_at_most_the_stated_share():
    image = _noise_image((128, 160))
    h, w = image.shape[:2]
    side = spatial.patch_side(h, w)
    previous = None
    for level, share in zip(LEVELS, spatial.LEVELS["non_eccentricity_patch"]):
        out = distort(image, "non_eccentricity_patch", level, _rng())
        changed = np.any(out != image, axis=2)
        count = max(1, round(share * h * w / side ** 2))
        assert changed.mean() <= count * side ** 2 / (h * w) + 1e-9
        assert changed.mean() >= 0.4 * share
        if previous is not None:  # the same seed keeps the lower level's patches
            assert np.all(changed[previous] | (out[previous] == image[previous]).all(axis=1))
            assert changed.sum() > previous.sum()
        previous = changed
        # every moved patch is a copy: each changed pixel's value occurs in the original nearby
        ys, xs = np.nonzero(changed)
        for y, x in list(zip(ys, xs))[::97]:
            window = image[max(0, y - 2 * side):y + 2 * side + 1, max(0, x - 2 * side):x + 2 * side + 1]
            assert np.any(np.all(window == out[y, x], axis=2))


def test_pixelate_gives_constant_blocks_of_the_mean(photo):
    image = np.ascontiguousarray(photo[:101, :77])
    for level, side in zip(LEVELS, spatial.LEVELS["pixelate"]):
        out = distort(image, "pixelate", level, _rng())
        for top in range(0, image.shape[0], side):
            for left in range(0, image.shape[1], side):
                block = out[top:top + side, left:left + side].reshape(-1, 3)
                mean = image[top:top + side, left:left + side].reshape(-1, 3).mean(axis=0)
                assert np.all(block == block[0])
                assert np.abs(block[0] - mean).max() <= 0.5 + 1e-9


def test_quantisation_leaves_at_most_the_stated_levels_at_otsu_thresholds(photo):
    from skimage.filters import threshold_multiotsu

    for level, classes in zip(LEVELS, spatial.LEVELS["quantisation"]):
        out = distort(photo, "quantisation", level, _rng())
        for c in range(3):
            assert len(np.unique(out[..., c])) <= classes
    for classes in (3, 4):
        channel = photo[..., 1]
        ours = spatial.otsu_thresholds(np.bincount(channel.ravel(), minlength=256), classes)
        theirs = threshold_multiotsu(channel, classes=classes)
        agree = np.mean(np.digitize(channel, ours, right=True) == np.digitize(channel, theirs, right=True))
        assert agree > 0.99, (ours, theirs)
    few = np.repeat(np.array([[10, 20, 30]], np.uint8), 40 * 40, axis=0).reshape(40, 40, 3)
    assert np.array_equal(distort(few, "quantisation", 5, _rng()), few)  # fewer values than levels: unchanged


def test_colour_block_covers_at_most_the_stated_share_with_flat_blocks():
    image = _noise_image((144, 180))
    h, w = image.shape[:2]
    side = spatial.block_side(h, w)
    for level, share in zip(LEVELS, spatial.LEVELS["colour_block"]):
        out = distort(image, "colour_block", level, _rng())
        changed = np.any(out != image, axis=2)
        count = max(1, round(share * h * w / side ** 2))
        assert 0 < changed.mean() <= count * side ** 2 / (h * w) + 1e-9
        assert len(np.unique(out[changed], axis=0)) <= count  # one colour per block
        labels, n = ndimage.label(changed)
        assert n <= count


# ----------------------------------------------------------------------------- sharpness and contrast
def test_high_sharpen_is_unsharp_masking_and_raises_high_frequencies(photo):
    x = photo.astype(np.float64)
    energy = [np.abs(ndimage.laplace(x.mean(axis=2))).mean()]
    for level, amount in zip(LEVELS, sharpness_contrast.LEVELS["high_sharpen"]):
        out = distort(photo, "high_sharpen", level, _rng())
        blurred = ndimage.gaussian_filter(x, (sharpness_contrast.SHARPEN_SIGMA,) * 2 + (0,), mode="reflect")
        expected = np.clip(x + amount * (x - blurred), 0, 255)
        assert np.abs(out - expected).max() <= 0.5 + 1e-3 * (1 + amount)
        energy.append(np.abs(ndimage.laplace(out.astype(float).mean(axis=2))).mean())
    assert np.all(np.diff(energy) > 0)


def test_contrast_change_raises_the_spread_and_keeps_black_mid_grey_and_white(photo):
    from iqa_keras.data.distortions._common import luma

    stds = [luma(photo.astype(np.float32)).std()]
    for level in LEVELS:
        stds.append(luma(distort(photo, "contrast_change", level, _rng()).astype(np.float32)).std())
    assert np.all(np.diff(stds) > 0)
    for value in (0, 128, 255):
        assert abs(int(distort(_flat(value), "contrast_change", 5, _rng())[0, 0, 0]) - value) <= 1
    assert distort(_flat(64), "contrast_change", 3, _rng())[0, 0, 0] < 64
    assert distort(_flat(192), "contrast_change", 3, _rng())[0, 0, 0] > 192
