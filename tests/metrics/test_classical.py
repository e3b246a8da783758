"""Classical full-reference metrics, checked against independent sources.

SSIM against scikit-image; MS-SSIM against ``tf.image.ssim_multiscale`` and
a float64 NumPy transcription of Wang's multi-scale definition; PSNR, GMSD,
VIF against float64 NumPy/SciPy transcriptions of their papers' equations
and against hand-computed values; FSIM and phase congruency against the
invariances of their definitions; all metrics against the ordering of
distortion levels.
"""
import math

import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage, signal
from skimage import data
from skimage.metrics import structural_similarity

from iqa_keras.metrics import classical
from iqa_keras.metrics.classical import compute_metric
from iqa_keras.registry import FR_METRICS

MATLAB_RGB2GRAY = np.array([0.2989, 0.5870, 0.1140])  # as printed in MATLAB's rgb2gray documentation


# ---------------------------------------------------------------- independent helpers
def luma(rgb) -> np.ndarray:
    """BT.601 luma in float64 with MATLAB's full-precision weights."""
    return np.asarray(rgb, np.float64) @ np.asarray(classical.LUMA_WEIGHTS, np.float64)


def gaussian_2d(size, sigma) -> np.ndarray:
    """MATLAB fspecial('gaussian', size, sigma)."""
    r = (size - 1) / 2.0
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    w = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    return w / w.sum()


def block_mean(image, f, pad_mode):
    """f x f non-overlapping block means after padding the far sides (numpy.pad mode) to a multiple of f."""
    h, w = image.shape
    H, W = -(-h // f) * f, -(-w // f) * f
    padded = np.pad(image, ((0, H - h), (0, W - w)), mode=pad_mode)
    return padded.reshape(H // f, f, W // f, f).mean(axis=(1, 3))


def blur(image, sigma):
    out = ndimage.gaussian_filter(image.astype(np.float64), sigma=(sigma, sigma, 0), mode="reflect")
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def noisy(image, std, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(np.round(image + rng.normal(0, std, image.shape)), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def astronaut():
    return data.astronaut()  # 512 x 512 RGB uint8


@pytest.fixture(scope="module")
def coffee():
    return data.coffee()  # 400 x 600 RGB uint8


# ---------------------------------------------------------------- registry and colour
def test_every_metric_is_registered_with_its_direction():
    expected = {"psnr": True, "ssim": True, "ms_ssim": True, "gmsd": False, "vif": True, "fsim": True}
    for name, higher in expected.items():
        metric = FR_METRICS.get(name)
        assert isinstance(metric, classical.ClassicalMetric)
        assert metric.name == name and metric.higher_is_better is higher
        assert metric.description
    assert set(classical.METRIC_NAMES) == set(expected)


def test_luma_uses_matlab_rgb2gray_weights(rng):
    pixels = rng.uniform(0, 255, (2, 5, 7, 3)).astype(np.float32)
    got = classical.rgb_to_luma(pixels).numpy()[..., 0]
    assert got.shape == (2, 5, 7)
    np.testing.assert_allclose(got, pixels @ MATLAB_RGB2GRAY, atol=1e-4 * 255)


def test_yiq_y_matches_luma_and_grey_has_no_chroma():
    grey = np.full((1, 2, 2, 3), 100.0, np.float32)
    yiq = classical.rgb_to_yiq(grey).numpy()
    np.testing.assert_allclose(yiq[..., 0], 100.0, rtol=1e-6)
    np.testing.assert_allclose(yiq[..., 1:], 0.0, atol=1e-4)


@pytest.mark.parametrize("height, width, factor", [
    (383, 1000, 1),  # 1.496 rounds down
    (384, 500, 2),   # 1.5: MATLAB rounds halves away from zero
    (640, 640, 3),   # 2.5 -> 3 (Python's round would give 2)
    (100, 20, 1),    # never below 1
    (512, 768, 2),   # the LIVE images
])
def test_wang_downsample_factor(height, width, factor):
    assert classical.wang_downsample_factor(height, width) == factor
    tensor_factor = classical.wang_downsample_factor(tf.constant(height), tf.constant(width))
    assert int(tensor_factor) == factor


@pytest.mark.parametrize("factor", [2, 3, 4])
@pytest.mark.parametrize("padding, scipy_mode", [("symmetric", "reflect"), ("zero", "constant")])
def test_average_downsample_matches_matlab_filter_then_subsample(rng, factor, padding, scipy_mode):
    # MATLAB: imfilter/conv2 with ones(f)/f^2 in 'same' mode (anchor floor((f+1)/2)), then (1:f:end, 1:f:end).
    # scipy's uniform_filter centres at f//2; an even f needs the window moved one pixel right (origin -1).
    image = rng.uniform(0, 255, (23, 17))
    origin = -1 if factor % 2 == 0 else 0
    expected = ndimage.uniform_filter(image, size=factor, mode=scipy_mode, cval=0.0, origin=origin)
    expected = expected[::factor, ::factor]
    got = classical.average_downsample(image[None, :, :, None].astype(np.float32), factor, padding)
    np.testing.assert_allclose(got.numpy()[0, :, :, 0], expected, rtol=1e-5, atol=1e-3)


# ---------------------------------------------------------------- PSNR
def test_psnr_matches_hand_computation(rng):
    ref = rng.integers(0, 256, (3, 21, 34, 3)).astype(np.uint8)
    dist = noisy(ref, 12.0)
    mse = ((ref.astype(np.float64) - dist) ** 2).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(compute_metric("psnr", ref, dist), 10 * np.log10(255.0**2 / mse), atol=1e-4)
    assert compute_metric("psnr", ref[0], ref[0]) == np.inf


# ---------------------------------------------------------------- SSIM
def skimage_ssim(ref, dist):
    return structural_similarity(luma(ref), luma(dist), gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, data_range=255)


@pytest.mark.parametrize("crop", [(slice(100, 201), slice(150, 283)), (slice(0, 64), slice(0, 64))])
def test_ssim_matches_scikit_image_without_downsampling(astronaut, crop):
    ref = astronaut[crop]
    for dist in (noisy(ref, 15.0), blur(ref, 2.0), np.clip(ref.astype(int) + 30, 0, 255).astype(np.uint8)):
        got = classical.ssim(ref[None].astype(np.float32), dist[None].astype(np.float32), downsample=False)
        assert float(got[0]) == pytest.approx(skimage_ssim(ref, dist), abs=1e-4)


def test_ssim_downsamples_like_wang_before_comparing(coffee):
    # 400 x 600 -> f = round(400 / 256) = 2; an odd crop also checks the symmetric last row.
    ref = coffee[:399, :597]
    dist = blur(ref, 1.5)
    expected = structural_similarity(block_mean(luma(ref), 2, "symmetric"), block_mean(luma(dist), 2, "symmetric"),
                                     gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    assert float(compute_metric("ssim", ref, dist)) == pytest.approx(expected, abs=1e-4)
    # small images are compared at full resolution
    small_ref, small_dist = ref[:200, :300], dist[:200, :300]
    assert float(compute_metric("ssim", small_ref, small_dist)) == pytest.approx(
        skimage_ssim(small_ref, small_dist), abs=1e-4)


# ---------------------------------------------------------------- MS-SSIM
def numpy_ms_ssim(ref, dist):
    """Wang's multi-scale SSIM in float64: cs at scales 1-4, SSIM at scale 5, 2x2 box averaging in between."""
    weights = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
    window = gaussian_2d(11, 1.5)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    x, y = luma(ref), luma(dist)
    result = 1.0
    for scale, weight in enumerate(weights):
        if scale:
            x, y = block_mean(x, 2, "symmetric"), block_mean(y, 2, "symmetric")

        def local(a):
            return signal.correlate2d(a, window, mode="valid")

        mx, my = local(x), local(y)
        vx, vy, cov = local(x * x) - mx * mx, local(y * y) - my * my, local(x * y) - mx * my
        cs = (2 * cov + c2) / (vx + vy + c2)
        term = cs if scale < len(weights) - 1 else cs * (2 * mx * my + c1) / (mx * mx + my * my + c1)
        result *= max(term.mean(), 0.0) ** weight
    return result


def test_ms_ssim_matches_tensorflow_and_the_definition(astronaut):
    ref = astronaut[:177, :203]  # odd sizes: every scale has an odd side somewhere
    for dist in (noisy(ref, 20.0), blur(ref, 1.5)):
        got = float(compute_metric("ms_ssim", ref, dist))
        tf_value = tf.image.ssim_multiscale(luma(ref)[None, :, :, None].astype(np.float32),
                                            luma(dist)[None, :, :, None].astype(np.float32), max_val=255.0)
        assert got == pytest.approx(float(tf_value[0]), abs=1e-5)
        assert got == pytest.approx(numpy_ms_ssim(ref, dist), abs=2e-4)


def test_ms_ssim_needs_161_pixels(astronaut):
    with pytest.raises(ValueError, match="ms_ssim.*161"):
        compute_metric("ms_ssim", astronaut[:160, :300], astronaut[:160, :300])


# ---------------------------------------------------------------- GMSD
def numpy_gmsd(ref, dist):
    """GMSD from the paper with the reference code's borders (conv2 'same', zero fill), float64."""
    prewitt = np.array([[1, 0, -1]] * 3) / 3.0
    c = 170.0

    def magnitude(rgb):
        y = block_mean(luma(rgb), 2, "constant")
        gx = signal.convolve2d(y, prewitt, mode="same")
        gy = signal.convolve2d(y, prewitt.T, mode="same")
        return np.hypot(gx, gy)

    mr, md = magnitude(ref), magnitude(dist)
    gms = (2 * mr * md + c) / (mr**2 + md**2 + c)
    return gms.std(ddof=1)


def test_gmsd_matches_the_definition(astronaut, rng):
    random_ref = rng.integers(0, 256, (37, 50, 3)).astype(np.uint8)
    pairs = [(random_ref, noisy(random_ref, 25.0))]
    ref = astronaut[201:300, 100:233]
    pairs += [(ref, blur(ref, 1.0)), (ref, noisy(ref, 10.0))]
    for a, b in pairs:
        assert float(compute_metric("gmsd", a, b)) == pytest.approx(numpy_gmsd(a, b), rel=1e-4, abs=1e-6)


def test_gmsd_of_two_constant_images_by_hand():
    # 8 x 8 constants -> 4 x 4 after the 2x average. Prewitt with a zero border: interior gradient 0,
    # edge (non-corner) magnitude v (3 rows of (0 - v)/3), corner magnitude sqrt(2) * 2v/3.
    a, b, c = 100.0, 130.0, 170.0
    edge = (2 * a * b + c) / (a * a + b * b + c)
    ca, cb = math.sqrt(2) * 2 * a / 3, math.sqrt(2) * 2 * b / 3
    corner = (2 * ca * cb + c) / (ca * ca + cb * cb + c)
    similarity = np.array([1.0] * 4 + [corner] * 4 + [edge] * 8)
    ref = np.full((8, 8, 3), a, np.float32)
    dist = np.full((8, 8, 3), b, np.float32)
    assert float(compute_metric("gmsd", ref, dist)) == pytest.approx(similarity.std(ddof=1), rel=1e-5)
    assert float(compute_metric("gmsd", ref, ref)) == 0.0


def test_gmsd_is_zero_for_identical_images(astronaut):
    assert float(compute_metric("gmsd", astronaut[:101, :77], astronaut[:101, :77])) == 0.0


# ---------------------------------------------------------------- VIF
def numpy_vifp(ref, dist, sigma_nsq=2.0):
    """Pixel-domain VIF (Sheikh & Bovik), float64, from the paper's model and the reference code's guards."""
    x, y = luma(ref), luma(dist)
    num = den = 0.0
    for scale in range(1, 5):
        n = 2 ** (4 - scale + 1) + 1
        window = gaussian_2d(n, n / 5.0)

        def local(a):
            return signal.correlate2d(a, window, mode="valid")

        if scale > 1:
            x, y = local(x)[::2, ::2], local(y)[::2, ::2]
        mx, my = local(x), local(y)
        vx = np.maximum(local(x * x) - mx * mx, 0)
        vy = np.maximum(local(y * y) - my * my, 0)
        cov = local(x * y) - mx * my
        g = cov / (vx + 1e-10)
        sv = vy - g * cov
        flat_x = vx < 1e-10
        g[flat_x], sv[flat_x], vx[flat_x] = 0, vy[flat_x], 0
        flat_y = vy < 1e-10
        g[flat_y], sv[flat_y] = 0, 0
        neg = g < 0
        sv[neg], g[neg] = vy[neg], 0
        sv = np.maximum(sv, 1e-10)
        num += np.log10(1 + g * g * vx / (sv + sigma_nsq)).sum()
        den += np.log10(1 + vx / sigma_nsq).sum()
    return num / den


def test_vif_matches_the_definition(astronaut):
    ref = astronaut[150:247, 200:309]
    for dist in (noisy(ref, 15.0), blur(ref, 2.0), (ref * 0.6).astype(np.float32)):
        assert float(compute_metric("vif", ref, dist)) == pytest.approx(numpy_vifp(ref, dist), rel=2e-4)


def test_vif_hand_checks(astronaut):
    ref = (astronaut[:96, :120] * (200.0 / 255.0)).astype(np.float32)  # [0, 200]: room to shift and stretch
    assert float(compute_metric("vif", ref, ref)) == pytest.approx(1.0, abs=1e-6)
    assert float(compute_metric("vif", ref, ref + 40.0)) == pytest.approx(1.0, abs=1e-4)  # a constant shift
    assert float(compute_metric("vif", ref, ref * 0.5)) < 1.0  # contrast loss loses information
    assert float(compute_metric("vif", ref, ref * 1.25)) > 1.0  # contrast enhancement scores above 1
    with pytest.raises(ValueError, match="vif.*41"):
        compute_metric("vif", ref[:40], ref[:40])


# ---------------------------------------------------------------- FSIM and phase congruency
def test_phase_congruency_invariances_and_a_step_edge(astronaut):
    grey = luma(astronaut[100:164, 200:272]).astype(np.float32)[None]
    pc = classical.phase_congruency(grey).numpy()
    assert pc.shape == grey.shape and pc.min() >= 0.0 and pc.max() <= 1.0 + 1e-6
    # no DC response, and every threshold scales with the amplitude: brightness and contrast do not matter
    np.testing.assert_allclose(classical.phase_congruency(grey + 50.0).numpy(), pc, atol=2e-3)
    np.testing.assert_allclose(classical.phase_congruency(grey * 0.3).numpy(), pc, atol=2e-3)
    # a thin line: every Fourier component peaks there in phase (PC = 1), nowhere else
    line = np.zeros((1, 48, 64), np.float32)
    line[:, :, 32] = 100.0
    profile = classical.phase_congruency(line).numpy()[0, 24]
    assert profile[32] > 0.95 and profile[8:28].max() < 0.1 and profile[36:56].max() < 0.1


def test_fsim_identity_and_chroma(astronaut):
    ref = astronaut[:90, :110].astype(np.float32) * 0.8 + 20
    assert float(compute_metric("fsim", ref, ref)) == pytest.approx(1.0, abs=1e-6)
    # shift along a colour direction with zero luma: FSIM (Y only) does not see it, FSIMc does
    direction = np.array([0.587, -0.299, 0.0], np.float32) * 60
    recoloured = ref + direction
    assert float(compute_metric("fsim", ref, recoloured)) == pytest.approx(1.0, abs=1e-4)
    fsimc = classical.fsim(ref[None], recoloured[None], chromatic=True)
    assert float(fsimc[0]) < 0.999


# ---------------------------------------------------------------- orderings across metrics
@pytest.mark.parametrize("kind", ["blur", "noise"])
def test_every_metric_orders_distortion_levels(astronaut, kind):
    ref = astronaut[96:288, 160:352]  # 192 x 192: large enough for MS-SSIM
    levels = [0.7, 1.5, 3.0] if kind == "blur" else [5.0, 15.0, 40.0]
    dists = np.stack([blur(ref, s) if kind == "blur" else noisy(ref, s, seed=1) for s in levels])
    refs = np.broadcast_to(ref, dists.shape)
    for name in classical.METRIC_NAMES:
        scores = compute_metric(name, refs, dists)
        if not FR_METRICS.get(name).higher_is_better:
            scores = -scores
        assert np.all(np.diff(scores) < 0), (name, kind, scores)


# ---------------------------------------------------------------- compute_metric
def test_compute_metric_inputs_and_outputs(astronaut):
    ref = astronaut[:64, :80]
    dist = noisy(ref, 10.0)
    single = compute_metric("ssim", ref, dist)
    assert single.shape == () and single.dtype == np.float64
    batch = compute_metric("ssim", np.stack([ref, dist, ref]), np.stack([dist, dist, ref]), batch_size=2)
    assert batch.shape == (3,)
    assert batch[0] == pytest.approx(float(single)) and batch[1] == pytest.approx(1.0) and batch[2] == 1.0
    assert float(compute_metric("ssim", ref.astype(np.float64), dist.astype(np.float32))) == pytest.approx(
        float(single), abs=1e-7)
    other_size = astronaut[:71, :45]
    assert 0.0 < float(compute_metric("ssim", other_size, noisy(other_size, 10.0))) < 1.0


def test_compute_metric_errors(astronaut):
    with pytest.raises(ValueError, match=r"gmsd: reference and distorted differ in shape: \(64, 64, 3\) and "
                                         r"\(64, 65, 3\)"):
        compute_metric("gmsd", astronaut[:64, :64], astronaut[:64, :65])
    with pytest.raises(ValueError, match="unknown full-reference metric 'nope'"):
        compute_metric("nope", astronaut, astronaut)
    with pytest.raises(ValueError, match=r"ssim: expected one RGB pair"):
        compute_metric("ssim", astronaut[..., 0], astronaut[..., 0])
    with pytest.raises(ValueError, match="uint8 or float"):
        compute_metric("psnr", astronaut.astype(np.int16), astronaut.astype(np.int16))
    with pytest.raises(ValueError, match="ssim: images must be at least 11"):
        compute_metric("ssim", astronaut[:10], astronaut[:10])


def test_metric_functions_run_in_a_graph(astronaut):
    ref = tf.constant(astronaut[None, :48, :56].astype(np.float32))
    dist = tf.constant(noisy(astronaut[:48, :56], 8.0)[None].astype(np.float32))
    for name in ("psnr", "ssim", "gmsd", "vif", "fsim"):
        metric = FR_METRICS.get(name)
        eager = metric(ref, dist).numpy()
        graph = tf.function(metric.function)(ref, dist).numpy()
        assert graph.shape == (1,) and graph.dtype == np.float32
        np.testing.assert_allclose(graph, eager, rtol=1e-5)


def test_phase_congruency_noise_median_is_numpys(rng):
    from iqa_keras.metrics.classical.phase_congruency import _median_last_axis

    for count in (1, 2, 5, 8, 1001):
        values = rng.integers(0, 6, (3, count)).astype(np.float32) * rng.uniform(0, 3)  # ties
        np.testing.assert_array_equal(_median_last_axis(values).numpy(), np.median(values, axis=1))
    spread = (rng.uniform(0, 255, (2, 4096)) ** 2).astype(np.float32)
    np.testing.assert_allclose(_median_last_axis(spread).numpy(), np.median(spread, axis=1), rtol=1e-7)
