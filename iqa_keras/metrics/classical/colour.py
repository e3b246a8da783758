"""Colour conversions the classical metrics start from.

Most full-reference metrics were designed for grey images; their authors ran
them on colour databases (LIVE, TID, CSIQ) after MATLAB's ``rgb2gray``, i.e.
the ITU-R BT.601 luma ``0.2989 R + 0.5870 G + 0.1140 B``. Using the same
weights here is what makes the published correlations reproducible. The luma
is kept in floating point: ``rgb2gray`` on uint8 input rounds to integers,
which changes scores by far less than the differences between metrics and
would make the functions piecewise constant (no gradient).

FSIM works in YIQ (NTSC) space: its Y is the same luma to three decimals and
FSIMc also compares the chromatic I and Q channels.
"""
from __future__ import annotations

import keras
import numpy as np

#: MATLAB ``rgb2gray`` weights (ITU-R BT.601 luma), as MATLAB computes them from the NTSC matrix.
LUMA_WEIGHTS = (0.298936021293775, 0.587043074451121, 0.114020904255103)

#: RGB -> YIQ (NTSC) matrix used by FSIM's reference implementation (rows: Y, I, Q).
YIQ_MATRIX = (
    (0.299, 0.587, 0.114),
    (0.596, -0.274, -0.322),
    (0.211, -0.523, 0.312),
)


def _check_rgb(images, what: str):
    images = keras.ops.convert_to_tensor(images)
    if images.shape.rank != 4 or (images.shape[-1] is not None and images.shape[-1] != 3):
        raise ValueError(f"{what}: expected RGB images of shape (batch, H, W, 3), got {tuple(images.shape)}")
    return keras.ops.cast(images, "float32")


def rgb_to_luma(images):
    """``(batch, H, W, 3)`` RGB -> ``(batch, H, W, 1)`` float32 BT.601 luma, on the input's scale."""
    images = _check_rgb(images, "rgb_to_luma")
    weights = keras.ops.convert_to_tensor(np.asarray(LUMA_WEIGHTS, np.float32).reshape(3, 1))
    return keras.ops.matmul(images, weights)


def rgb_to_yiq(images):
    """``(batch, H, W, 3)`` RGB -> ``(batch, H, W, 3)`` float32 YIQ (channels Y, I, Q), on the input's scale."""
    images = _check_rgb(images, "rgb_to_yiq")
    matrix = keras.ops.convert_to_tensor(np.asarray(YIQ_MATRIX, np.float32).T)
    return keras.ops.matmul(images, matrix)
