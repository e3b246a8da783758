"""Blurs (KADID-10k types 1-3): Gaussian, lens (out-of-focus disk) and linear motion.

Level parameters (``LEVELS``), level 1 (barely visible) to 5 (very bad):

* ``gaussian_blur``: standard deviation of the Gaussian, in pixels;
* ``lens_blur``: radius of the disk (the image of an out-of-focus point
  through a round aperture), in pixels;
* ``motion_blur``: length of the straight camera path, in pixels; its angle
  is random, uniform in [0, 180) degrees (the generator's first draw).

Borders are mirrored so that the blur does not darken or tint the edges.
"""
from __future__ import annotations

import numpy as np

from ...registry import DISTORTIONS
from ._common import as_float, convolve_spatial, gaussian_blur as _gaussian_blur, level_parameter, to_uint8

LEVELS = {
    "gaussian_blur": (0.5, 1.0, 2.0, 3.5, 5.0),  # sigma, pixels
    "lens_blur": (1.0, 2.0, 3.0, 5.0, 7.0),  # disk radius, pixels
    "motion_blur": (3, 5, 9, 15, 23),  # path length, pixels (odd: the path is centred on a pixel)
}
_SUPERSAMPLING = 16  # sub-pixel samples per axis when rasterising a kernel shape


def disk_kernel(radius: float) -> np.ndarray:
    """Normalised disk of ``radius`` pixels, each weight the pixel's area inside the circle.

    Anti-aliased by supersampling, so that the kernel grows smoothly with a
    non-integer radius instead of jumping a ring of pixels at a time.
    """
    if radius <= 0:
        raise ValueError(f"disk radius must be positive, got {radius}")
    half = int(np.ceil(radius - 0.5))  # pixels whose square reaches the circle
    s = _SUPERSAMPLING
    offsets = (np.arange(s) + 0.5) / s - 0.5
    t = (np.arange(-half, half + 1)[:, None] + offsets[None, :]).reshape(-1)
    inside = (t[:, None] ** 2 + t[None, :] ** 2) <= radius ** 2
    size = 2 * half + 1
    kernel = inside.reshape(size, s, size, s).mean(axis=(1, 3))
    return kernel / kernel.sum()


def motion_kernel(length: float, angle_degrees: float) -> np.ndarray:
    """Normalised straight line of ``length`` pixels through the centre, at ``angle_degrees``.

    The angle is anticlockwise from the x axis as seen on screen (rows grow
    downwards). The line is sampled densely and each sample is given to the
    pixel it falls in, so a horizontal or vertical line of odd length is an
    exact box of that many pixels.
    """
    if length < 1:
        raise ValueError(f"motion blur length must be at least 1 pixel, got {length}")
    theta = np.deg2rad(angle_degrees)
    dx, dy = np.cos(theta), -np.sin(theta)
    n = int(np.ceil(length * _SUPERSAMPLING))
    t = ((np.arange(n) + 0.5) / n - 0.5) * length
    cols = np.rint(t * dx + 1e-9).astype(int)  # the tiny shift breaks x.5 ties the same way on both ends
    rows = np.rint(t * dy + 1e-9).astype(int)
    half = int(max(np.abs(cols).max(), np.abs(rows).max()))
    kernel = np.zeros((2 * half + 1, 2 * half + 1))
    np.add.at(kernel, (rows + half, cols + half), 1.0)
    return kernel / kernel.sum()


@DISTORTIONS.register("gaussian_blur")
def gaussian_blur(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Isotropic Gaussian blur (a defocused or low-pass camera), sigma from ``LEVELS``."""
    sigma = level_parameter(LEVELS, "gaussian_blur", level)
    return to_uint8(_gaussian_blur(as_float(image), sigma))


@DISTORTIONS.register("lens_blur")
def lens_blur(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Out-of-focus blur: convolution with a uniform disk (:func:`disk_kernel`), radius from ``LEVELS``."""
    radius = level_parameter(LEVELS, "lens_blur", level)
    return to_uint8(convolve_spatial(as_float(image), disk_kernel(radius)))


@DISTORTIONS.register("motion_blur")
def motion_blur(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Camera shake along a straight line (:func:`motion_kernel`) of random direction."""
    length = level_parameter(LEVELS, "motion_blur", level)
    angle = rng.uniform(0.0, 180.0)
    return to_uint8(convolve_spatial(as_float(image), motion_kernel(length, angle)))
