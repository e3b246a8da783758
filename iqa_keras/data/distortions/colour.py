"""Colour distortions (KADID-10k types 4-8): diffusion, shift, quantisation, two saturation changes.

Level parameters (``LEVELS``), level 1 (barely visible) to 5 (very bad):

* ``colour_diffusion``: standard deviation, in pixels, of the Gaussian blur
  (above 3 pixels: three box passes of the same variance) applied to the
  chroma planes (a*, b* of CIE L*a*b*) while lightness L* is kept: colours
  bleed across edges that stay sharp;
* ``colour_shift``: distance, in pixels, by which the green plane is moved in
  a random direction (uniform in [0, 360) degrees, the generator's first
  draw); the moved plane is blended in where the image has edges (weight: the
  gradient magnitude, normalised by its 99th percentile and clipped to 1), so
  that misregistered colour fringes appear along edges, as from a poorly
  aligned sensor or lens;
* ``colour_quantisation``: number of palette colours (octree palette,
  Floyd-Steinberg dithering), as when an image is saved as a GIF;
* ``colour_saturation_1``: factor applied to HSV saturation (hue and value
  kept): below 1, the image fades towards grey;
* ``colour_saturation_2``: factor applied to the chroma planes a*, b* of
  L*a*b* (lightness kept), above 1: over-saturated, garish colours, clipped
  to the sRGB gamut.
"""
from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from ...registry import DISTORTIONS
from ._common import as_float, hsv_value, lab_to_rgb, level_parameter, luma, rgb_to_lab, smooth, to_uint8

LEVELS = {
    "colour_diffusion": (2.0, 4.0, 7.0, 12.0, 20.0),  # chroma blur sigma, pixels
    "colour_shift": (1.0, 2.0, 4.0, 6.0, 9.0),  # green-plane displacement, pixels
    "colour_quantisation": (128, 48, 20, 10, 5),  # palette colours
    "colour_saturation_1": (0.8, 0.6, 0.4, 0.2, 0.0),  # HSV saturation factor
    "colour_saturation_2": (1.25, 1.5, 1.9, 2.5, 3.3),  # a*, b* factor
}


@DISTORTIONS.register("colour_diffusion")
def colour_diffusion(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Blurs the a*, b* planes of L*a*b* and keeps L*: colour bleeds while the detail stays sharp."""
    sigma = level_parameter(LEVELS, "colour_diffusion", level)
    lab = rgb_to_lab(image)
    lab[..., 1:] = smooth(np.ascontiguousarray(lab[..., 1:]), sigma)
    return to_uint8(lab_to_rgb(lab))


def edge_weight(x: np.ndarray) -> np.ndarray:
    """Gradient magnitude of the luma, divided by its 99th percentile and clipped to [0, 1]."""
    y = luma(x)
    magnitude = np.hypot(ndimage.sobel(y, axis=0, mode="reflect"), ndimage.sobel(y, axis=1, mode="reflect"))
    scale = float(np.percentile(magnitude, 99))
    if scale <= 0:
        return np.zeros_like(magnitude)
    return np.minimum(magnitude / scale, 1.0)


def shift_plane(plane: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """``plane`` moved by (dy, dx) pixels (fractions interpolated bilinearly); borders repeat the edge.

    Sub-pixel moves keep the displacement growing smoothly with the level in
    every direction (rounding would make 1 and 2 pixels at 45 degrees the same move).
    """
    h, w = plane.shape
    rows, cols = np.arange(h, dtype=np.float32) - dy, np.arange(w, dtype=np.float32) - dx
    r0, c0 = np.floor(rows), np.floor(cols)
    fr, fc = (rows - r0)[:, None], (cols - c0)[None, :]
    r0, c0 = r0.astype(np.intp), c0.astype(np.intp)
    r1, c1 = np.clip(r0 + 1, 0, h - 1), np.clip(c0 + 1, 0, w - 1)
    r0, c0 = np.clip(r0, 0, h - 1), np.clip(c0, 0, w - 1)
    top = plane[r0][:, c0] * (1 - fc) + plane[r0][:, c1] * fc
    bottom = plane[r1][:, c0] * (1 - fc) + plane[r1][:, c1] * fc
    return top * (1 - fr) + bottom * fr


@DISTORTIONS.register("colour_shift")
def colour_shift(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Moves the green plane and blends it in along edges (:func:`edge_weight`): colour fringes.

    Only the green channel changes; red and blue are returned untouched.
    """
    distance = level_parameter(LEVELS, "colour_shift", level)
    angle = np.deg2rad(rng.uniform(0.0, 360.0))
    dy, dx = distance * np.sin(angle), distance * np.cos(angle)
    x = as_float(image)
    weight = edge_weight(x)
    green = x[..., 1]
    moved = shift_plane(green, dy, dx)
    out = np.array(image, copy=True)
    out[..., 1] = to_uint8(green + weight * (moved - green))
    return out


@DISTORTIONS.register("colour_quantisation")
def colour_quantisation(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Reduces the image to a small palette (Pillow's fast octree) with Floyd-Steinberg dithering.

    Dithering trades banding for a fine pattern of palette colours, as in a
    GIF. The octree palette is ten times faster than median cut in Pillow and
    closer to the image (fewer rare colours lost).
    """
    colours = level_parameter(LEVELS, "colour_quantisation", level)
    picture = Image.fromarray(np.ascontiguousarray(image))
    palette = picture.quantize(colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    indexed = picture.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG)
    return np.asarray(indexed.convert("RGB")).copy()


@DISTORTIONS.register("colour_saturation_1")
def colour_saturation_1(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Multiplies HSV saturation by a factor, hue and value kept (factor 0: grey image).

    With hue and value fixed, each channel is ``c = V - S * V * k_c(hue)``,
    linear in the saturation S, so scaling S by f is ``c' = V - f (V - c)``:
    no colour-space round trip is needed.
    """
    factor = level_parameter(LEVELS, "colour_saturation_1", level)
    x = as_float(image)
    value = hsv_value(x)[..., None]
    return to_uint8(value - factor * (value - x))


@DISTORTIONS.register("colour_saturation_2")
def colour_saturation_2(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Multiplies the chroma planes a*, b* of L*a*b* by a factor (lightness kept), clipped to sRGB."""
    factor = level_parameter(LEVELS, "colour_saturation_2", level)
    lab = rgb_to_lab(image)
    lab[..., 1:] *= factor
    return to_uint8(lab_to_rgb(lab))
