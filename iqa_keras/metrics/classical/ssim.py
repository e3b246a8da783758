"""SSIM and MS-SSIM (Wang, Bovik, Sheikh & Simoncelli 2004; Wang, Simoncelli & Bovik 2003); higher is better.

Both are computed on the BT.601 luma (see :mod:`.colour`), data range 255,
with an 11 x 11 Gaussian window of sigma 1.5, ``K1 = 0.01``, ``K2 = 0.03``,
the window's statistics taken with weights summing to 1 (no sample-size
correction) and the local map averaged over the positions where the window
fits entirely in the image (MATLAB ``filter2(..., 'valid')``). These are the
conventions of Wang's reference code and of ``tf.image.ssim``, on which this
builds.

SSIM downsamples first, as Wang's reference code does: by
``f = max(1, round(min(H, W) / 256))`` with an ``f x f`` box average and
symmetric borders (:func:`.downsample.wang_downsample_factor`). This models
the viewing distance of the subjective tests, and the published LIVE figures
(SRCC 0.952 on Gaussian blur, 0.969 on white noise) use it; without it SSIM
on the 768 x 512 LIVE images is noticeably worse on blur. Images under 384
pixels on their shorter side are not downsampled, so the 256 x 256 crops of
training sets are compared at full resolution. ``downsample=False`` gives the
plain single-scale SSIM (what scikit-image's ``structural_similarity``
computes with ``gaussian_weights=True``).

MS-SSIM uses five scales, each after a 2 x 2 box average (symmetric border)
of the previous one, the weights 0.0448, 0.2856, 0.3001, 0.2363, 0.1333 on
the contrast-structure terms of scales 1-4 and on the full SSIM of scale 5,
and no initial downsampling (its scales model viewing distances
themselves): Wang's ``msssim.m``, as ``tf.image.ssim_multiscale``. One
difference from the MATLAB code: a negative term is clipped to 0 (MATLAB
would give a complex number). The coarsest scale must hold the window, so
images must be at least 161 pixels on each side.
"""
from __future__ import annotations

import tensorflow as tf

from ...registry import FR_METRICS
from .colour import rgb_to_luma
from .downsample import average_downsample, wang_downsample_factor
from .metric import ClassicalMetric, check_pair

WINDOW_SIZE = 11
WINDOW_SIGMA = 1.5
K1, K2 = 0.01, 0.03
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
SSIM_MIN_SIZE = WINDOW_SIZE
MS_SSIM_MIN_SIZE = (WINDOW_SIZE - 1) * 2 ** (len(MS_SSIM_WEIGHTS) - 1) + 1  # 161


def wang_downsample(images, padding: str = "symmetric"):
    """``(batch, H, W, C)`` -> the same downsampled by Wang's automatic factor (``padding``: the border rule)."""
    images = tf.convert_to_tensor(images, tf.float32)
    height, width = images.shape[1], images.shape[2]
    if height is not None and width is not None:
        factor = wang_downsample_factor(int(height), int(width))
    else:
        shape = tf.shape(images)
        factor = wang_downsample_factor(shape[1], shape[2])
    return average_downsample(images, factor, padding=padding)


def ssim(reference, distorted, downsample: bool = True):
    """Mean SSIM of each pair: ``(batch, H, W, 3)`` RGB on [0, 255] twice -> ``(batch,)`` float32.

    ``downsample=True``: Wang's automatic downsampling first (the published
    convention, see the module docstring).
    """
    check_pair(reference, distorted, "ssim", SSIM_MIN_SIZE)
    x, y = rgb_to_luma(reference), rgb_to_luma(distorted)
    if downsample:
        x, y = wang_downsample(x), wang_downsample(y)
    return tf.image.ssim(x, y, max_val=255.0, filter_size=WINDOW_SIZE, filter_sigma=WINDOW_SIGMA, k1=K1, k2=K2)


def ms_ssim(reference, distorted):
    """MS-SSIM of each pair: ``(batch, H, W, 3)`` RGB on [0, 255] twice (at least 161 x 161) -> ``(batch,)``."""
    check_pair(reference, distorted, "ms_ssim", MS_SSIM_MIN_SIZE)
    x, y = rgb_to_luma(reference), rgb_to_luma(distorted)
    return tf.image.ssim_multiscale(
        x, y, max_val=255.0, power_factors=MS_SSIM_WEIGHTS,
        filter_size=WINDOW_SIZE, filter_sigma=WINDOW_SIGMA, k1=K1, k2=K2,
    )


SSIM = FR_METRICS.register("ssim")(ClassicalMetric(
    name="ssim",
    function=ssim,
    higher_is_better=True,
    description="SSIM on BT.601 luma after Wang's automatic downsampling (11x11 Gaussian, sigma 1.5; 1 = identical)",
    min_size=SSIM_MIN_SIZE,
))
MS_SSIM = FR_METRICS.register("ms_ssim")(ClassicalMetric(
    name="ms_ssim",
    function=ms_ssim,
    higher_is_better=True,
    description="multi-scale SSIM on BT.601 luma, 5 scales, Wang's weights (1 = identical; at least 161 px a side)",
    min_size=MS_SSIM_MIN_SIZE,
))
