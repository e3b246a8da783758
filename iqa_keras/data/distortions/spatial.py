"""Spatial distortions (KADID-10k types 19-23): jitter, non-eccentricity patches, pixelation,
grey-level quantisation and colour blocks.

Level parameters (``LEVELS``), level 1 (barely visible) to 5 (very bad):

* ``jitter``: standard deviation sigma, in pixels, of the random displacement
  of every pixel: each pixel takes the value of the pixel ``(dy, dx)`` away,
  dy and dx independent, ``round(N(0, sigma^2))``, clipped to
  ``+-ceil(3 sigma)``; a share ``1 - erf(1 / (2 sqrt(2) sigma))^2`` of the
  pixels moves (:func:`jitter_share`): edges turn ragged, texture grainy;
* ``non_eccentricity_patch``: share of the image covered by small square
  patches (side :func:`patch_side`) that are each replaced by a copy of a
  nearby patch (moved between half and one patch side in a random
  direction, the opposite one where the border would cut the move short):
  local, hard-to-spot misplacements that pile up into a mosaic;
* ``pixelate``: side, in pixels, of the square blocks replaced by their mean
  colour (the grid starts at the top-left corner; blocks cut by the right or
  bottom edge average what is inside);
* ``quantisation``: number of grey levels kept per channel; the thresholds
  are the multi-level Otsu thresholds of that channel (the partition of its
  histogram with the least within-class variance, found exactly by dynamic
  programming) and each class is replaced by its mean: banding, posterised
  flat areas;
* ``colour_block``: share of the image covered by uniformly coloured square
  blocks (side :func:`block_side`, random positions and colours), as from
  lost or corrupted packets.

All random choices come from the generator; patches and blocks are drawn
row by row from one array, so a higher level with the same seed keeps the
lower level's patches or blocks and adds more.
"""
from __future__ import annotations

import math

import numpy as np

from ...registry import DISTORTIONS
from ._common import level_parameter, to_uint8

LEVELS = {
    "jitter": (0.35, 0.6, 1.0, 1.6, 2.5),  # displacement std, pixels
    "non_eccentricity_patch": (0.02, 0.05, 0.1, 0.18, 0.3),  # share of the image in moved patches
    "pixelate": (2, 3, 5, 8, 12),  # block side, pixels
    "quantisation": (10, 7, 5, 4, 3),  # grey levels per channel
    "colour_block": (0.01, 0.03, 0.06, 0.12, 0.2),  # share of the image under coloured blocks
}


def jitter_share(sigma: float) -> float:
    """Expected share of pixels that take another pixel's value (dy or dx not zero)."""
    still = math.erf(0.5 / (sigma * math.sqrt(2.0)))
    return 1.0 - still * still


@DISTORTIONS.register("jitter")
def jitter(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Every pixel takes the value of a randomly displaced neighbour (rounded Gaussian offsets)."""
    sigma = level_parameter(LEVELS, "jitter", level)
    h, w = image.shape[:2]
    reach = int(math.ceil(3.0 * sigma))
    offsets = np.clip(np.rint(rng.standard_normal((2, h, w)) * sigma), -reach, reach).astype(np.intp)
    rows = np.clip(np.arange(h)[:, None] + offsets[0], 0, h - 1)
    cols = np.clip(np.arange(w)[None, :] + offsets[1], 0, w - 1)
    return image[rows, cols]


def patch_side(height: int, width: int) -> int:
    """Side of a non-eccentricity patch: 1/16 of the short side, between 4 and 16 pixels."""
    return int(min(16, max(4, min(height, width) // 16)))


def block_side(height: int, width: int) -> int:
    """Side of a colour block: 1/12 of the short side, between 4 and 32 pixels."""
    return int(min(32, max(4, min(height, width) // 12)))


def _count(share: float, height: int, width: int, side: int) -> int:
    """Number of squares of ``side`` whose total area is ``share`` of the image (at least one)."""
    return max(1, int(round(share * height * width / side ** 2)))


def _source(top: int, left: int, dy: int, dx: int, h: int, w: int, side: int) -> tuple:
    """Top-left corner of the patch (dy, dx) away, kept inside the image."""
    return min(max(top + dy, 0), h - side), min(max(left + dx, 0), w - side)


@DISTORTIONS.register("non_eccentricity_patch")
def non_eccentricity_patch(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Replaces small patches by copies of nearby patches (random direction, 0.5-1 patch side away).

    Copies are taken from the undistorted image, so overlapping patches do
    not smear content further than one move.
    """
    share = level_parameter(LEVELS, "non_eccentricity_patch", level)
    h, w = image.shape[:2]
    side = patch_side(h, w)
    draws = rng.random((_count(share, h, w, side), 4))
    out = np.array(image, copy=True)
    for u_y, u_x, u_angle, u_distance in draws:
        top, left = int(u_y * (h - side + 1)), int(u_x * (w - side + 1))
        angle, distance = 2.0 * math.pi * u_angle, side * (0.5 + 0.5 * u_distance)
        dy, dx = int(round(distance * math.sin(angle))), int(round(distance * math.cos(angle)))
        src_top, src_left = _source(top, left, dy, dx, h, w, side)
        if max(abs(src_top - top), abs(src_left - left)) < side // 2:  # the border ate the move: go the other way
            src_top, src_left = _source(top, left, -dy, -dx, h, w, side)
        out[top:top + side, left:left + side] = image[src_top:src_top + side, src_left:src_left + side]
    return out


@DISTORTIONS.register("pixelate")
def pixelate(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Replaces each block of the grid by its mean colour (a low-resolution image shown enlarged)."""
    side = level_parameter(LEVELS, "pixelate", level)
    h, w = image.shape[:2]
    row_starts, col_starts = np.arange(0, h, side), np.arange(0, w, side)
    sums = np.add.reduceat(np.add.reduceat(image.astype(np.float64), row_starts, axis=0), col_starts, axis=1)
    counts = np.outer(np.diff(np.append(row_starts, h)), np.diff(np.append(col_starts, w)))
    means = to_uint8(sums / counts[..., None])
    return np.repeat(np.repeat(means, side, axis=0)[:h], side, axis=1)[:, :w]


def otsu_thresholds(counts: np.ndarray, classes: int) -> np.ndarray:
    """Multi-level Otsu thresholds of a histogram (``counts[v]``: pixels with value v).

    Returns ``classes - 1`` increasing values t, class k holding the values
    ``t[k-1] < v <= t[k]``. Maximising Otsu's between-class variance is the
    same as minimising the within-class sum of squares, which splits into a
    sum over contiguous classes; dynamic programming over the occupied bins
    finds the exact optimum in O(classes x bins^2).
    """
    values = np.flatnonzero(counts)
    if len(values) <= classes:
        return values[:-1].astype(np.int64)
    n = counts[values].astype(np.float64)
    v = values.astype(np.float64)
    c0 = np.concatenate([[0.0], np.cumsum(n)])
    c1 = np.concatenate([[0.0], np.cumsum(n * v)])
    c2 = np.concatenate([[0.0], np.cumsum(n * v * v)])
    m = len(values)
    i, j = np.meshgrid(np.arange(m + 1), np.arange(m + 1), indexing="ij")  # class = bins i..j-1
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = c0[j] - c0[i]
        cost = c2[j] - c2[i] - (c1[j] - c1[i]) ** 2 / weight
    cost = np.where(j > i, cost, np.inf)
    best = cost[0].copy()  # best[j]: least cost of bins 0..j-1 in one class
    choices = []
    for _ in range(classes - 1):
        total = best[:, None] + cost
        choices.append(np.argmin(total, axis=0))
        best = total[choices[-1], np.arange(m + 1)]
    ends, end = [], m
    for choice in reversed(choices):
        end = int(choice[end])
        ends.append(end)
    return values[np.array(sorted(ends)) - 1].astype(np.int64)


@DISTORTIONS.register("quantisation")
def quantisation(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Quantises each channel to a few grey levels (:func:`otsu_thresholds`), each class at its mean."""
    classes = level_parameter(LEVELS, "quantisation", level)
    out = np.empty_like(image)
    for c in range(image.shape[2]):
        channel = image[..., c]
        counts = np.bincount(channel.reshape(-1), minlength=256)
        thresholds = otsu_thresholds(counts, classes)
        label_of_value = np.searchsorted(thresholds, np.arange(256), side="left")
        class_sum = np.bincount(label_of_value, weights=counts * np.arange(256), minlength=len(thresholds) + 1)
        class_count = np.bincount(label_of_value, weights=counts, minlength=len(thresholds) + 1)
        means = to_uint8(class_sum / np.maximum(class_count, 1))
        out[..., c] = means[label_of_value][channel]
    return out


@DISTORTIONS.register("colour_block")
def colour_block(image: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Pastes uniformly coloured squares at random places (random colours, uniform over RGB)."""
    share = level_parameter(LEVELS, "colour_block", level)
    h, w = image.shape[:2]
    side = block_side(h, w)
    draws = rng.random((_count(share, h, w, side), 5))
    out = np.array(image, copy=True)
    for u_y, u_x, red, green, blue in draws:
        top, left = int(u_y * (h - side + 1)), int(u_x * (w - side + 1))
        out[top:top + side, left:left + side] = to_uint8(np.array([red, green, blue]) * 255.0)
    return out

