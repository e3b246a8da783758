"""PSNR: peak signal-to-noise ratio, ``10 log10(255^2 / MSE)`` in dB; higher is better.

Conventions: the mean squared error is taken over every pixel and all three
RGB channels (as ``tf.image.psnr``, which this builds on, and most
image-restoration papers do; some IQA papers report PSNR on luma only,
which gives slightly different figures). Data range 255. Identical images
give ``+inf``.
"""
from __future__ import annotations

import tensorflow as tf

from ...registry import FR_METRICS
from .metric import ClassicalMetric


def psnr(reference, distorted):
    """PSNR in dB of each pair: ``(batch, H, W, 3)`` RGB on [0, 255] twice -> ``(batch,)`` float32."""
    reference = tf.cast(reference, tf.float32)
    distorted = tf.cast(distorted, tf.float32)
    return tf.image.psnr(reference, distorted, max_val=255.0)


PSNR = FR_METRICS.register("psnr")(ClassicalMetric(
    name="psnr",
    function=psnr,
    higher_is_better=True,
    description="peak signal-to-noise ratio in dB over the RGB channels (data range 255; identical images: inf)",
))
