"""Noise (KADID-10k types 11-15): white, white in colour components, impulse, multiplicative, denoised.

Level parameters (``LEVELS``), level 1 (barely visible) to 5 (very bad); all
noise is drawn from the generator, so the same seed gives the same image:

* ``white_noise``: standard deviation, in grey levels, of zero-mean Gaussian
  noise added independently to R, G and B;
* ``white_noise_colour_component``: standard deviation of Gaussian noise
  added to the chroma planes Cb, Cr of full-range (JPEG) YCbCr; the luma Y
  gets half of it (``LUMA_SHARE``): mostly coloured blotches rather than grain;
* ``impulse_noise``: fraction of pixels replaced by black or white (salt and
  pepper, each with probability 1/2), all three channels together;
* ``multiplicative_noise``: standard deviation of speckle ``x (1 + n)``, n
  Gaussian: the noise grows with the brightness;
* ``denoise``: (standard deviation of the white noise added to R, G, B, edge
  threshold of the edge-preserving filter that then removes it). The filter
  works in YCbCr: the luma through a 5 x 5 bilateral filter whose range
  sigma is that threshold, twice the noise's (smooth areas turn waxy, fine
  texture goes with the noise, some grain survives at edges); the chroma,
  where the eye sees little detail, through a Gaussian blur of sigma
  ``DENOISE_CHROMA_SIGMA``. This stands in for the learned denoiser of
  KADID-10k: both leave the plastic, over-smoothed look of strong denoising.
"""
from __future__ import annotations

import numpy as np

from ...registry import DISTORTIONS
from ._common import as_float, gaussian_blur, level_parameter, rgb_to_ycbcr, to_uint8, ycbcr_to_rgb

LEVELS = {
    "white_noise": (4.0, 8.0, 14.0, 22.0, 34.0),  # std, grey levels
    "white_noise_colour_component": (6.0, 12.0, 20.0, 32.0, 48.0),  # chroma std, grey levels
    "impulse_noise": (0.002, 0.008, 0.025, 0.06, 0.12),  # fraction of pixels
    "multiplicative_noise": (0.05, 0.1, 0.17, 0.27, 0.4),  # relative std
    "denoise": ((10.0, 20.0), (18.0, 36.0), (28.0, 56.0), (40.0, 80.0), (55.0, 110.0)),  # (noise std, edge threshold)
}
LUMA_SHARE = 0.5  # luma noise std / chroma noise std in white_noise_colour_component
DENOISE_RADIUS = 2  # bilateral window: (2 r + 1)^2 pixels
DENOISE_SPATIAL_SIGMA = 1.5  # bilateral spatial sigma, pixels
DENOISE_CHROMA_SIGMA = 2.0  # Gaussian blur of Cb, Cr, pixels


def _gaussian(rng: np.random.Generator, shape, std: float) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(std)


@DISTORTIONS.register("white_noise")
def white_noise(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Adds independent Gaussian noise to every channel of every pixel (sensor read noise)."""
    std = level_parameter(LEVELS, "white_noise", level)
    return to_uint8(as_float(image) + _gaussian(rng, image.shape, std))


@DISTORTIONS.register("white_noise_colour_component")
def white_noise_colour_component(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Adds Gaussian noise in YCbCr, stronger in the chroma planes than in the luma: colour noise."""
    std = level_parameter(LEVELS, "white_noise_colour_component", level)
    stds = np.array([LUMA_SHARE * std, std, std], dtype=np.float32)
    ycbcr = rgb_to_ycbcr(as_float(image)) + rng.standard_normal(image.shape, dtype=np.float32) * stds
    return to_uint8(ycbcr_to_rgb(ycbcr))


@DISTORTIONS.register("impulse_noise")
def impulse_noise(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Salt and pepper: a fraction of the pixels becomes pure black or pure white (dead/hot pixels, bit errors)."""
    fraction = level_parameter(LEVELS, "impulse_noise", level)
    draw = rng.random(image.shape[:2])
    out = np.array(image, copy=True)
    out[draw < fraction / 2] = 0
    out[(draw >= fraction / 2) & (draw < fraction)] = 255
    return out


@DISTORTIONS.register("multiplicative_noise")
def multiplicative_noise(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Speckle: each value times (1 + n), n Gaussian; bright areas get the most noise, black none."""
    std = level_parameter(LEVELS, "multiplicative_noise", level)
    x = as_float(image)
    return to_uint8(x * (1.0 + _gaussian(rng, image.shape, std)))


def bilateral_filter(plane: np.ndarray, radius: int, sigma_space: float, sigma_range: float) -> np.ndarray:
    """Bilateral filter of a float (H, W) plane over a (2 radius + 1)^2 window, mirrored borders.

    Each output pixel is the average of its neighbours weighted by their
    distance (Gaussian, ``sigma_space``) and by how close their value is
    (Gaussian, ``sigma_range``): noise is averaged away, edges higher than a
    few ``sigma_range`` are kept. One pass per window offset, vectorised over
    the image.
    """
    h, w = plane.shape
    padded = np.pad(plane, radius, mode="symmetric")
    total = np.zeros_like(plane)
    weights = np.zeros_like(plane)
    inv_range = np.float32(-0.5 / sigma_range ** 2)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            neighbour = padded[radius + dy:radius + dy + h, radius + dx:radius + dx + w]
            difference = neighbour - plane
            weight = np.exp(difference * difference * inv_range) * np.float32(
                np.exp(-0.5 * (dy * dy + dx * dx) / sigma_space ** 2))
            total += weight * neighbour
            weights += weight
    return total / weights


@DISTORTIONS.register("denoise")
def denoise(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """White noise, then an edge-preserving denoiser (bilateral luma, blurred chroma): over-smoothed residue."""
    std, threshold = level_parameter(LEVELS, "denoise", level)
    noisy = np.clip(as_float(image) + _gaussian(rng, image.shape, std), 0.0, 255.0)  # a stored noisy image
    ycbcr = rgb_to_ycbcr(noisy)
    ycbcr[..., 0] = bilateral_filter(np.ascontiguousarray(ycbcr[..., 0]), DENOISE_RADIUS,
                                     DENOISE_SPATIAL_SIGMA, threshold)
    ycbcr[..., 1:] = gaussian_blur(np.ascontiguousarray(ycbcr[..., 1:]), DENOISE_CHROMA_SIGMA)
    return to_uint8(ycbcr_to_rgb(ycbcr))
