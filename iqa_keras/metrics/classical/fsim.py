"""FSIM: feature similarity index (Zhang, Zhang, Mou & Zhang 2011); higher is better, 1 for identical images.

FSIM compares two low-level features, phase congruency (PC, see
:mod:`.phase_congruency`) and gradient magnitude (GM), and pools the local
similarity weighted by the larger of the two PC maps, because people look at
where the structure is:

    FSIM = sum(S_PC * S_G * PC_m) / sum(PC_m),
    S_PC = (2 PC_r PC_d + T1) / (PC_r^2 + PC_d^2 + T1),   T1 = 0.85
    S_G  = (2 G_r G_d + T2) / (G_r^2 + G_d^2 + T2),       T2 = 160
    PC_m = max(PC_r, PC_d)

Conventions of the authors' reference code:

* the Y channel of YIQ (``0.299 R + 0.587 G + 0.114 B``; see
  :mod:`.colour`), data range 255. ``chromatic=True`` gives FSIMc, which also
  multiplies in ``(S_I S_Q)^0.03`` with ``S_I``, ``S_Q`` the similarities of
  the I and Q channels (``T3 = T4 = 200``; the real part of the power, as the
  reference code takes, when the product is negative);
* downsampling by ``f = max(1, round(min(H, W) / 256))`` (like SSIM's) with
  an ``f x f`` box average, MATLAB ``conv2(..., 'same')`` (zero border), then
  every ``f``-th pixel;
* gradients with the Scharr operator ``[3 0 -3; 10 0 -10; 3 0 -3] / 16``
  and its transpose, ``conv2(..., 'same')`` (zero border).

Two images with no structure anywhere (constant images) have no PC to
weight by: their FSIM is ``nan``.
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from ...registry import FR_METRICS
from .colour import rgb_to_yiq
from .filters import gradient_magnitude
from .metric import ClassicalMetric, check_pair
from .phase_congruency import phase_congruency
from .ssim import wang_downsample

SCHARR_X = np.array([[3.0, 0.0, -3.0], [10.0, 0.0, -10.0], [3.0, 0.0, -3.0]]) / 16.0
T1, T2, T3, T4 = 0.85, 160.0, 200.0, 200.0
CHROMA_EXPONENT = 0.03
FSIM_MIN_SIZE = 8  # the finest log-Gabor wavelength is 6 pixels


def _similarity(a, b, constant):
    return (2.0 * a * b + constant) / (a * a + b * b + constant)


def _downsample(images):
    return wang_downsample(images, padding="zero")


def fsim(reference, distorted, chromatic: bool = False):
    """FSIM (or FSIMc with ``chromatic=True``) of each pair: ``(batch, H, W, 3)`` RGB on [0, 255] -> ``(batch,)``."""
    check_pair(reference, distorted, "fsim", FSIM_MIN_SIZE)
    x = _downsample(rgb_to_yiq(reference))
    y = _downsample(rgb_to_yiq(distorted))
    pc_x = phase_congruency(x[..., 0])
    pc_y = phase_congruency(y[..., 0])
    gm_x = gradient_magnitude(x[..., :1], SCHARR_X)[..., 0]
    gm_y = gradient_magnitude(y[..., :1], SCHARR_X)[..., 0]
    similarity = _similarity(pc_x, pc_y, T1) * _similarity(gm_x, gm_y, T2)
    if chromatic:
        chroma = _similarity(x[..., 1], y[..., 1], T3) * _similarity(x[..., 2], y[..., 2], T4)
        # real part of chroma ** 0.03 for a negative product: |p|^0.03 cos(0.03 pi)
        power = tf.pow(tf.abs(chroma), CHROMA_EXPONENT)
        similarity *= tf.where(chroma < 0.0, power * math.cos(CHROMA_EXPONENT * math.pi), power)
    weight = tf.maximum(pc_x, pc_y)
    return tf.reduce_sum(similarity * weight, axis=[1, 2]) / tf.reduce_sum(weight, axis=[1, 2])


FSIM = FR_METRICS.register("fsim")(ClassicalMetric(
    name="fsim",
    function=fsim,
    higher_is_better=True,
    description="feature similarity (phase congruency and Scharr gradients) on the Y of YIQ, downsampled by "
                "round(min(H, W) / 256) (1 = identical)",
    min_size=FSIM_MIN_SIZE,
))
