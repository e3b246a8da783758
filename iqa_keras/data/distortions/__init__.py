"""The distortion zoo: 25 types x 5 levels, modelled on KADID-10k (Lin, Hosu & Saupe, 2019).

Builds (reference, distorted) pairs from any folder of clean photographs with
the variety of a large synthetic IQA database, at tens of milliseconds per
image (numpy, scipy and Pillow only)::

    import numpy as np
    from iqa_keras.data.distortions import DISTORTION_TYPES, distort

    rng = np.random.default_rng(0)
    distorted = distort(photo, "lens_blur", 3, rng)      # uint8 (H, W, 3) in, same out

Every type is a function ``(image, level, rng) -> image`` registered by name
in ``iqa_keras.registry.DISTORTIONS``: ``image`` uint8 RGB (H, W, 3), any
size from 32 x 32; ``level`` 1 (barely visible) to 5 (very bad), the visible
damage growing with the level; ``rng`` a ``numpy.random.Generator``, the only
source of randomness, so the same seed gives the same bytes. Types that draw
nothing from it are listed outside ``RANDOM_TYPES``.

``DISTORTION_TYPES`` is KADID-10k's order (its type numbers 1-25);
``FAMILIES`` groups them as KADID-10k does; ``LEVEL_PARAMETERS[name]`` holds
each type's five parameters, which each family module's docstring explains
(and docs/datasets.md, "Distortion zoo", summarises).
"""
from __future__ import annotations

import numpy as np

from ...registry import DISTORTIONS
from . import blur, brightness, colour, compression, noise, sharpness_contrast, spatial
from ._common import NUM_LEVELS

FAMILIES = {
    "blur": ("gaussian_blur", "lens_blur", "motion_blur"),
    "colour": ("colour_diffusion", "colour_shift", "colour_quantisation", "colour_saturation_1",
               "colour_saturation_2"),
    "compression": ("jpeg2000", "jpeg"),
    "noise": ("white_noise", "white_noise_colour_component", "impulse_noise", "multiplicative_noise", "denoise"),
    "brightness": ("brighten", "darken", "mean_shift"),
    "spatial": ("jitter", "non_eccentricity_patch", "pixelate", "quantisation", "colour_block"),
    "sharpness_contrast": ("high_sharpen", "contrast_change"),
}
DISTORTION_TYPES = tuple(name for names in FAMILIES.values() for name in names)
LEVEL_PARAMETERS = {}
for _module in (blur, colour, compression, noise, brightness, spatial, sharpness_contrast):
    LEVEL_PARAMETERS.update(_module.LEVELS)
LEVEL_PARAMETERS = {name: LEVEL_PARAMETERS[name] for name in DISTORTION_TYPES}
RANDOM_TYPES = frozenset({
    "motion_blur", "colour_shift", "white_noise", "white_noise_colour_component", "impulse_noise",
    "multiplicative_noise", "denoise", "jitter", "non_eccentricity_patch", "colour_block",
})
MIN_SIZE = 32


def distort(image: np.ndarray, name: str, level: int, rng: np.random.Generator) -> np.ndarray:
    """Applies distortion type ``name`` at ``level`` (1..5) to a uint8 RGB image; returns a new array.

    Checks the inputs so that a bad call fails here, with what was expected,
    rather than deep inside a filter.
    """
    if name not in DISTORTION_TYPES:
        raise ValueError(f"unknown distortion type {name!r}; known: {', '.join(DISTORTION_TYPES)}")
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or not 1 <= level <= NUM_LEVELS:
        raise ValueError(f"distortion level must be an integer 1..{NUM_LEVELS}, got {level!r}")
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"distortion {name!r}: expected a uint8 RGB image of shape (H, W, 3), "
                         f"got dtype {image.dtype} and shape {image.shape}")
    if min(image.shape[:2]) < MIN_SIZE:
        raise ValueError(f"distortion {name!r}: expected an image of at least {MIN_SIZE} x {MIN_SIZE} pixels, "
                         f"got {image.shape[1]} x {image.shape[0]}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"distortion {name!r}: expected a numpy.random.Generator (np.random.default_rng(seed)), "
                         f"got {type(rng).__name__}")
    return DISTORTIONS.get(name)(image, int(level), rng)


__all__ = ["DISTORTION_TYPES", "FAMILIES", "LEVEL_PARAMETERS", "MIN_SIZE", "RANDOM_TYPES", "distort"]
