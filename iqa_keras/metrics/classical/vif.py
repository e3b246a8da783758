"""VIFp: pixel-domain visual information fidelity (Sheikh & Bovik 2006); higher is better.

VIF asks how much of the information a viewer could extract from the
reference survives in the distorted image. Locally, the distorted image is
modelled as a gain ``g`` times the reference plus additive noise of variance
``sigma_v^2``, and both pass through the viewer's own noise ``sigma_n^2``:

    VIF = sum over scales and positions of log(1 + g^2 s_r^2 / (sigma_v^2 + sigma_n^2))
          / sum of log(1 + s_r^2 / sigma_n^2)

(``s_r^2``: the reference's local variance). 1 for identical images, below
1 for losses, above 1 for contrast enhancement; it is invariant to adding a
constant to either image (only local variances and covariances enter).

Conventions of the pixel-domain reference code (``vifp_mscale``):

* BT.601 luma (see :mod:`.colour`), data range 255, ``sigma_n^2 = 2``;
* 4 scales; scale ``s`` uses a Gaussian window of ``N = 2^(4-s+1) + 1``
  taps (17, 9, 5, 3) and sigma ``N / 5``; local statistics with
  ``filter2(..., 'valid')``. Before scales 2-4 the images are filtered with
  that scale's window ('valid') and every second pixel is kept;
* negative variances (rounding) are set to 0; where the reference's variance
  is below 1e-10 the gain is 0 and the noise is the distorted variance; where
  the distorted variance is below 1e-10 the gain and noise are 0; a negative
  gain is set to 0 with the noise equal to the distorted variance; the noise
  variance is at least 1e-10.

The statistics are computed in float32 from images shifted by their own
mean, which changes nothing mathematically but keeps ``E[x^2] - E[x]^2``
precise. A constant reference has no information to lose (denominator 0):
its VIF is ``nan``. Images must be at least 41 pixels a side (so that the
coarsest scale keeps one window position).
"""
from __future__ import annotations

import tensorflow as tf

from ...registry import FR_METRICS
from .colour import rgb_to_luma
from .filters import gaussian_window, separable_filter
from .metric import ClassicalMetric, check_pair

VIF_SCALES = 4
SIGMA_NSQ = 2.0
_TINY = 1e-10


def vif_window(scale: int):
    """The 1-D Gaussian window of scale 1..4: ``N = 2^(4-scale+1) + 1`` taps, sigma ``N / 5``."""
    taps = 2 ** (VIF_SCALES - scale + 1) + 1
    return gaussian_window(taps, taps / 5.0)


def _fits(size: int) -> bool:
    """Whether every scale of an image side of ``size`` pixels keeps a window position."""
    for scale in range(1, VIF_SCALES + 1):
        taps = 2 ** (VIF_SCALES - scale + 1) + 1
        if scale > 1:
            size = (size - taps + 1 + 1) // 2  # 'valid' pre-filter, then every second pixel
        if size - taps + 1 < 1:
            return False
    return True


VIF_MIN_SIZE = next(size for size in range(1, 1024) if _fits(size))  # 41


def _scale_terms(x, y, window):
    """Numerator and denominator sums of one scale, per image: two ``(batch,)`` tensors."""
    mu_x = separable_filter(x, window)
    mu_y = separable_filter(y, window)
    var_x = tf.nn.relu(separable_filter(x * x, window) - mu_x * mu_x)
    var_y = tf.nn.relu(separable_filter(y * y, window) - mu_y * mu_y)
    cov = separable_filter(x * y, window) - mu_x * mu_y

    gain = cov / (var_x + _TINY)
    noise = var_y - gain * cov
    flat_ref = var_x < _TINY
    gain = tf.where(flat_ref, 0.0, gain)
    noise = tf.where(flat_ref, var_y, noise)
    var_x = tf.where(flat_ref, 0.0, var_x)
    flat_dist = var_y < _TINY
    gain = tf.where(flat_dist, 0.0, gain)
    noise = tf.where(flat_dist, 0.0, noise)
    negative = gain < 0.0
    noise = tf.where(negative, var_y, noise)
    gain = tf.where(negative, 0.0, gain)
    noise = tf.maximum(noise, _TINY)

    log10 = tf.math.log(10.0)
    numerator = tf.math.log1p(gain * gain * var_x / (noise + SIGMA_NSQ)) / log10
    denominator = tf.math.log1p(var_x / SIGMA_NSQ) / log10
    return tf.reduce_sum(numerator, axis=[1, 2, 3]), tf.reduce_sum(denominator, axis=[1, 2, 3])


def vif(reference, distorted):
    """VIFp of each pair: ``(batch, H, W, 3)`` RGB on [0, 255] twice -> ``(batch,)`` float32; higher is better."""
    check_pair(reference, distorted, "vif", VIF_MIN_SIZE)
    x, y = rgb_to_luma(reference), rgb_to_luma(distorted)
    x = x - tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    y = y - tf.reduce_mean(y, axis=[1, 2, 3], keepdims=True)
    numerator = denominator = 0.0
    for scale in range(1, VIF_SCALES + 1):
        window = vif_window(scale)
        if scale > 1:
            x = separable_filter(x, window)[:, ::2, ::2, :]
            y = separable_filter(y, window)[:, ::2, ::2, :]
        num, den = _scale_terms(x, y, window)
        numerator += num
        denominator += den
    return numerator / denominator


VIF = FR_METRICS.register("vif")(ClassicalMetric(
    name="vif",
    function=vif,
    higher_is_better=True,
    description="pixel-domain visual information fidelity (VIFp) on BT.601 luma, 4 scales, sigma_n^2 = 2 "
                "(1 = identical; at least 41 px a side)",
    min_size=VIF_MIN_SIZE,
))
