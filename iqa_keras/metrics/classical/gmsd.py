"""GMSD: gradient magnitude similarity deviation (Xue, Zhang, Mou & Bovik 2014); LOWER is better.

GMSD is a distance: 0 for identical images, growing with the distortion
(about 0.35 at most in practice). It follows the authors' reference code:

* BT.601 luma (see :mod:`.colour`), data range 255;
* a 2 x 2 box average and every second pixel (MATLAB ``conv2(..., 'same')``,
  zero border: an odd last row or column is halved), always, whatever the
  image size -- the paper's fixed model of the viewing distance;
* Prewitt gradients ``[1 0 -1; 1 0 -1; 1 0 -1] / 3`` and its transpose, again
  ``conv2(..., 'same')`` with a zero border. The border therefore shows a
  large gradient wherever the image is bright; it does so in both images and
  mostly cancels; keeping it gives the reference code's figures;
* the gradient magnitude similarity ``(2 m_r m_d + c) / (m_r^2 + m_d^2 + c)``
  with ``c = 170`` (for data on [0, 255]);
* pooled by its standard deviation over the map (``std2``: normalised by
  ``N - 1``), not its mean: a distortion that affects some regions more than
  others is what people see.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from ...registry import FR_METRICS
from .colour import rgb_to_luma
from .downsample import average_downsample
from .filters import gradient_magnitude
from .metric import ClassicalMetric, check_pair

PREWITT_X = np.array([[1.0, 0.0, -1.0]] * 3) / 3.0
GMSD_C = 170.0
GMSD_MIN_SIZE = 4  # two pixels a side after the 2x downsampling, so that the deviation is defined


def gradient_similarity_map(reference, distorted):
    """GMSD's per-pixel gradient magnitude similarity, ``(batch, ceil(H/2), ceil(W/2), 1)``."""
    x = average_downsample(rgb_to_luma(reference), 2, padding="zero")
    y = average_downsample(rgb_to_luma(distorted), 2, padding="zero")
    mx = gradient_magnitude(x, PREWITT_X)
    my = gradient_magnitude(y, PREWITT_X)
    return (2.0 * mx * my + GMSD_C) / (mx * mx + my * my + GMSD_C)


def gmsd(reference, distorted):
    """GMSD of each pair: ``(batch, H, W, 3)`` RGB on [0, 255] twice -> ``(batch,)`` float32; lower is better."""
    check_pair(reference, distorted, "gmsd", GMSD_MIN_SIZE)
    # The deviation of the similarity equals that of 1 - similarity = (m_r - m_d)^2 / (m_r^2 + m_d^2 + c),
    # which is exactly 0 for identical images (the ratio form rounds to 1 +- 1e-7 in float32).
    x = average_downsample(rgb_to_luma(reference), 2, padding="zero")
    y = average_downsample(rgb_to_luma(distorted), 2, padding="zero")
    mx = gradient_magnitude(x, PREWITT_X)
    my = gradient_magnitude(y, PREWITT_X)
    dissimilarity = tf.square(mx - my) / (mx * mx + my * my + GMSD_C)
    flat = tf.reshape(dissimilarity, tf.stack([tf.shape(dissimilarity)[0], -1]))
    count = tf.cast(tf.shape(flat)[1], tf.float32)
    deviation = flat - tf.reduce_mean(flat, axis=1, keepdims=True)
    return tf.sqrt(tf.reduce_sum(deviation * deviation, axis=1) / (count - 1.0))


GMSD = FR_METRICS.register("gmsd")(ClassicalMetric(
    name="gmsd",
    function=gmsd,
    higher_is_better=False,
    description="gradient magnitude similarity deviation on BT.601 luma, 2x downsampled, c = 170 (0 = identical; "
                "lower is better)",
    min_size=GMSD_MIN_SIZE,
))
