"""Sharpness and contrast (KADID-10k types 24-25): over-sharpening and a contrast change.

Level parameters (``LEVELS``), level 1 (barely visible) to 5 (very bad):

* ``high_sharpen``: amount a of unsharp masking, ``x + a (x - blur(x))`` with
  a Gaussian blur of sigma ``SHARPEN_SIGMA`` pixels, applied to R, G and B:
  halos and overshoot along edges, amplified grain;
* ``contrast_change``: steepness k of the S-shaped tone curve (a logistic
  around mid-grey, rescaled so that 0 and 1 stay fixed) applied to HSV value
  with hue and saturation kept: higher contrast, crushed shadows and blown
  highlights. Its slope at mid-grey is ``(k / 4) / (2 (logistic(k / 2) - 1/2))``,
  1 for k -> 0.

These are deterministic: the random generator is not used.
"""
from __future__ import annotations

import numpy as np

from ...registry import DISTORTIONS
from ._common import as_float, gaussian_blur, level_parameter, scale_value, to_uint8

LEVELS = {
    "high_sharpen": (1.0, 2.0, 3.5, 5.5, 8.0),  # unsharp-mask amount
    "contrast_change": (3.0, 5.0, 7.0, 10.0, 14.0),  # logistic steepness k
}
SHARPEN_SIGMA = 1.0  # pixels


@DISTORTIONS.register("high_sharpen")
def high_sharpen(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Unsharp masking with a large amount: the detail layer is added back several times over."""
    amount = level_parameter(LEVELS, "high_sharpen", level)
    x = as_float(image)
    return to_uint8(x + amount * (x - gaussian_blur(x, SHARPEN_SIGMA)))


def contrast_curve(v: np.ndarray, steepness: float) -> np.ndarray:
    """Logistic S-curve through (0, 0), (1/2, 1/2) and (1, 1); steeper in the middle for larger k."""
    def logistic(t):
        return 1.0 / (1.0 + np.exp(-t))

    half = logistic(steepness / 2.0) - 0.5
    return 0.5 + (logistic(steepness * (v - 0.5)) - 0.5) / (2.0 * half)


@DISTORTIONS.register("contrast_change")
def contrast_change(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Raises contrast with an S-shaped tone curve on HSV value (:func:`contrast_curve`)."""
    k = level_parameter(LEVELS, "contrast_change", level)
    return to_uint8(scale_value(as_float(image), lambda v: contrast_curve(v, k).astype(np.float32)))
