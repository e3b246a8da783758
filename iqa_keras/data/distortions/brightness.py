"""Brightness changes (KADID-10k types 16-18): brighten, darken (tone curves) and mean shift.

Level parameters (``LEVELS``), level 1 (barely visible) to 5 (very bad):

* ``brighten``: exponent p of the tone curve ``V' = 1 - (1 - V)^p`` applied
  to HSV value V (0..1), hue and saturation kept: shadows and mid-tones are
  lifted, black and white stay put, highlights wash out;
* ``darken``: exponent p of the mirrored curve ``V' = V^p``: shadows sink
  into black, white stays white;
* ``mean_shift``: grey levels added to every channel of every pixel (then
  clipped to 0..255), upwards when the image's mean is below 127.5 and
  downwards otherwise, so that clipping eats as little of the shift as
  possible and the mean moves by (nearly) the stated amount.

These are deterministic: the random generator is not used.
"""
from __future__ import annotations

import numpy as np

from ...registry import DISTORTIONS
from ._common import as_float, level_parameter, scale_value, to_uint8

LEVELS = {
    "brighten": (1.3, 1.7, 2.3, 3.2, 4.5),  # exponent p of 1 - (1 - V)^p
    "darken": (1.3, 1.7, 2.3, 3.2, 4.5),  # exponent p of V^p
    "mean_shift": (10.0, 20.0, 35.0, 55.0, 80.0),  # grey levels added (sign: towards the far side)
}


@DISTORTIONS.register("brighten")
def brighten(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Lifts HSV value through ``1 - (1 - V)^p``, hue and saturation kept (an over-exposed look)."""
    p = level_parameter(LEVELS, "brighten", level)
    return to_uint8(scale_value(as_float(image), lambda v: 1.0 - (1.0 - v) ** p))


@DISTORTIONS.register("darken")
def darken(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Lowers HSV value through ``V^p``, hue and saturation kept (an under-exposed look)."""
    p = level_parameter(LEVELS, "darken", level)
    return to_uint8(scale_value(as_float(image), lambda v: v ** p))


def mean_shift_sign(image: np.ndarray) -> float:
    """+1 when the image's mean grey level is below 127.5 (more room upwards), else -1."""
    return 1.0 if float(np.mean(image)) < 127.5 else -1.0


@DISTORTIONS.register("mean_shift")
def mean_shift(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Adds one constant to every value (an offset error), towards the side with more headroom."""
    shift = level_parameter(LEVELS, "mean_shift", level)
    return to_uint8(as_float(image) + mean_shift_sign(image) * shift)
