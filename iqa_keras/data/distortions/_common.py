"""Helpers shared by the distortion families: level lookup, rounding, filters, colour spaces.

Everything works on float32 arrays in 0..255 (H, W, C) so that one call on a
384 x 384 image costs milliseconds; each family converts its uint8 input once
with :func:`as_float` and rounds once at the end with :func:`to_uint8`, so
rounding errors never pile up between steps.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage, signal

NUM_LEVELS = 5


def level_parameter(table: dict, name: str, level) -> object:
    """``table[name][level - 1]``, with an error that names the expected range."""
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or not 1 <= level <= NUM_LEVELS:
        raise ValueError(f"distortion {name!r}: level must be an integer 1..{NUM_LEVELS}, got {level!r}")
    return table[name][int(level) - 1]


def as_float(image: np.ndarray) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Rounds to the nearest grey level and clips to 0..255 (the only place values are quantised)."""
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def gaussian_kernel(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Normalised 1-D Gaussian of radius ``ceil(truncate * sigma)`` (float64, sums to 1)."""
    radius = max(1, int(np.ceil(truncate * sigma)))
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (t / sigma) ** 2)
    return kernel / kernel.sum()


def gaussian_blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur over the two spatial axes, mirrored borders (float32 in and out).

    Mirroring (``reflect``: the edge pixel is repeated) keeps the border from
    darkening, as a zero border would.
    """
    kernel = gaussian_kernel(sigma).astype(np.float32)
    out = ndimage.correlate1d(x, kernel, axis=0, mode="reflect")
    return ndimage.correlate1d(out, kernel, axis=1, mode="reflect")


def smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of the spatial axes; for sigma > 3 pixels, three box passes of the same variance.

    A box filter costs the same for any width, so a wide blur (colour
    diffusion at sigma 20) stays at a few milliseconds; three passes of
    width w (variance ``3 (w^2 - 1) / 12``) are within a few percent of the
    Gaussian, which no eye tells apart at that width. Narrow blurs use the
    exact kernel (:func:`gaussian_blur`).
    """
    if sigma <= 3.0:
        return gaussian_blur(x, sigma)
    width = int(round(np.sqrt(4.0 * sigma * sigma + 1.0)))
    width += 1 - width % 2  # odd: centred boxes, no drift
    out = x
    for axis in (0, 1):
        for _ in range(3):
            out = ndimage.uniform_filter1d(out, width, axis=axis, mode="reflect")
    return out


def convolve_spatial(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolves each channel of ``x`` (H, W, C) with a 2-D ``kernel`` (odd sides), mirrored borders.

    FFT convolution of the padded image: a 21 x 21 kernel costs the same as a
    3 x 3 one, which direct convolution would not.
    """
    ky, kx = kernel.shape
    py, px = ky // 2, kx // 2
    padded = np.pad(x, ((py, py), (px, px), (0, 0)), mode="symmetric")
    out = signal.fftconvolve(padded, kernel.astype(np.float32)[:, :, None], mode="valid", axes=(0, 1))
    return out.astype(np.float32, copy=False)


# JPEG / JFIF full-range YCbCr (ITU-R BT.601 weights), chroma centred on 128.
_RGB_TO_YCBCR = np.array([[0.299, 0.587, 0.114],
                          [-0.168736, -0.331264, 0.5],
                          [0.5, -0.418688, -0.081312]], dtype=np.float32)
_YCBCR_TO_RGB = np.linalg.inv(_RGB_TO_YCBCR.astype(np.float64)).astype(np.float32)


def rgb_to_ycbcr(x: np.ndarray) -> np.ndarray:
    out = x @ _RGB_TO_YCBCR.T
    out[..., 1:] += 128.0
    return out


def ycbcr_to_rgb(x: np.ndarray) -> np.ndarray:
    centred = x.copy()
    centred[..., 1:] -= 128.0
    return centred @ _YCBCR_TO_RGB.T


def luma(x: np.ndarray) -> np.ndarray:
    """BT.601 luma of a float RGB image (H, W)."""
    return x @ _RGB_TO_YCBCR[0]


# CIE L*a*b* (D65 white, sRGB primaries), written out so that one conversion
# costs a few milliseconds: the sRGB transfer curve is a table lookup both ways.
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]], dtype=np.float64)
_WHITE = _RGB_TO_XYZ.sum(axis=1)  # XYZ of sRGB white (D65)
_RGB_TO_XYZN = (_RGB_TO_XYZ / _WHITE[:, None]).astype(np.float32)
_XYZN_TO_RGB = np.linalg.inv(_RGB_TO_XYZ / _WHITE[:, None]).astype(np.float32)
_DELTA = 6.0 / 29.0


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((np.maximum(c, 0.04045) + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.power(np.maximum(c, 0.0031308), 1 / 2.4) - 0.055)


_DECODE_TABLE = _srgb_to_linear(np.arange(256) / 255.0).astype(np.float32)  # uint8 -> linear light
_ENCODE_STEPS = 65535  # linear light -> 0..255: steepest slope 12.92 x 255, so a step moves < 0.06 grey level
_ENCODE_TABLE = (255.0 * _linear_to_srgb(np.arange(_ENCODE_STEPS + 1) / _ENCODE_STEPS)).astype(np.float32)


def rgb_to_lab(image: np.ndarray) -> np.ndarray:
    """uint8 sRGB -> float32 L* (0..100), a*, b* (D65)."""
    xyz = _DECODE_TABLE[image] @ _RGB_TO_XYZN.T
    f = np.where(xyz > _DELTA ** 3, np.cbrt(xyz), xyz * (1.0 / (3 * _DELTA ** 2)) + 4.0 / 29.0)
    lab = np.empty_like(f)
    lab[..., 0] = 116.0 * f[..., 1] - 16.0
    lab[..., 1] = 500.0 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200.0 * (f[..., 1] - f[..., 2])
    return lab


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """L*a*b* -> sRGB float32 0..255; colours outside the sRGB gamut are clipped per channel in linear light."""
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    xyz = np.where(f > _DELTA, f * f * f, (3 * _DELTA ** 2) * (f - 4.0 / 29.0))
    linear = np.clip(xyz @ _XYZN_TO_RGB.T, 0.0, 1.0)
    return _ENCODE_TABLE[(linear * _ENCODE_STEPS + 0.5).astype(np.int32)]


def hsv_value(x: np.ndarray) -> np.ndarray:
    """HSV value: the largest channel, (H, W) (pairwise maxima: faster than a reduction over 3)."""
    return np.maximum(np.maximum(x[..., 0], x[..., 1]), x[..., 2])


def scale_value(x: np.ndarray, curve) -> np.ndarray:
    """Maps HSV value through ``curve`` (0..1 -> 0..1) with hue and saturation kept.

    With hue and saturation fixed, every channel is proportional to the value,
    so the whole pixel is scaled by ``curve(V) / V``; the largest channel lands
    exactly on the new value, and nothing is pushed out of gamut.
    """
    v = hsv_value(x) / 255.0
    new_v = curve(v)
    ratio = np.divide(new_v, v, out=np.zeros_like(v), where=v > 0)
    return x * ratio[..., None]
