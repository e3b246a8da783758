"""How patch scores become one image score: their mean, the mean of the worst 30%, or a texture-weighted mean.

A model that sees an image as patches gives every patch a score; averaging
them counts a patch of blue sky as much as a patch of foliage, although a
distortion on a flat patch is barely visible and a flat patch's score says
little about the image (the same reasoning as the information-content
weighting of IW-SSIM, Wang & Li 2011, and the weighted pooling studied by
Moorthy & Bovik 2009). ``"texture"`` pooling weighs each patch by the mean
gradient magnitude of its reference (luma, Sobel), so textured regions
decide the score; for a no-reference model the distorted patch stands in for
the reference. ``"mean"`` is the unweighted mean of earlier versions.

The pooling of a shipped model is recorded in its ``ModelInfo.pooling``
(chosen on held-out photographs of the training corpus:
``benchmarks/pooling_study.py``); the scoring commands use it unless told
otherwise (``--pooling``).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..config import POOLING_RULES as POOLINGS
from ..metrics.classical.colour import rgb_to_luma
WORST_FRACTION = 0.3
TEXTURE_FLOOR = 1.0  # grey levels per pixel: a perfectly flat patch still counts a little


def check_pooling(pooling: str, where: str = "pooling") -> str:
    """``pooling`` if it is a known rule, else a ValueError that names ``where``."""
    if pooling not in POOLINGS:
        raise ValueError(f"{where}: unknown pooling {pooling!r}; expected one of {', '.join(POOLINGS)}")
    return pooling


def patch_texture(patches: tf.Tensor) -> tf.Tensor:
    """``(N, S, S, 3)`` RGB patches (0..255) -> ``(N,)`` mean Sobel gradient magnitude of their luma, plus a floor."""
    luma = rgb_to_luma(patches)  # the classical metrics' BT.601 luma
    edges = tf.image.sobel_edges(luma)[:, 1:-1, 1:-1, 0, :] / 8.0  # interior only; /8: the kernel's gain
    magnitude = tf.sqrt(tf.reduce_sum(tf.square(edges), axis=-1))
    return tf.reduce_mean(magnitude, axis=[1, 2]) + TEXTURE_FLOOR


def patch_weights(pooling: str, reference_patches) -> np.ndarray:
    """The weight of each patch's score under ``pooling`` (texture for ``"texture"``, else ones)."""
    if pooling == "texture":
        return patch_texture(tf.constant(reference_patches)).numpy().astype(np.float64)
    return np.ones(len(reference_patches))


def pool_scores(pooling: str, scores, weights=None, higher_is_better: bool = True) -> float:
    """One image score from its patch scores (and, for ``"texture"``, their weights)."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if scores.size == 0:
        raise ValueError("pool_scores: no patch scores")
    if pooling == "texture":
        return float(np.average(scores, weights=weights))
    if pooling == "worst30":
        worst_first = np.sort(scores) if higher_is_better else -np.sort(-scores)
        return float(worst_first[: max(1, int(round(WORST_FRACTION * scores.size)))].mean())
    check_pooling(pooling)
    return float(scores.mean())


__all__ = ["POOLINGS", "WORST_FRACTION", "check_pooling", "patch_texture", "patch_weights", "pool_scores"]
