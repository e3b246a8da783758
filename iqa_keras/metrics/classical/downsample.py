"""Average-and-subsample steps that the metrics' reference implementations apply before comparing.

The MATLAB reference codes all downsample the same way: filter with an
``f x f`` box (``ones(f)/f^2``) in ``'same'`` mode, then keep every ``f``-th
row and column starting with the first. Since the box's anchor in MATLAB is
element ``floor((f + 1) / 2)``, the kept output ``j`` averages input rows
``j*f - floor((f-1)/2) .. j*f + ceil((f-1)/2)``; for ``f = 2`` these are
exactly the non-overlapping 2 x 2 blocks. The output has ``ceil(H / f)``
rows. What differs is the border, which matters when a side is not a
multiple of ``f``:

* ``"symmetric"``: ``imfilter(..., 'symmetric')`` (Wang's SSIM and MS-SSIM
  code); an odd last row is averaged with its mirror, i.e. kept as is.
* ``"zero"``: ``conv2(..., 'same')`` (GMSD and FSIM code); pixels past the
  border count as 0, so an odd last row is halved.

Sizes and the factor may be dynamic (unknown until run time), so the same
graph serves every image size.
"""
from __future__ import annotations

import tensorflow as tf

PADDINGS = ("symmetric", "zero")


def wang_downsample_factor(height, width):
    """Wang's automatic factor ``f = max(1, round(min(H, W) / 256))`` (MATLAB rounding: halves go up).

    This is the scale at which SSIM was meant to be viewed (the viewing
    distance of the LIVE experiments); the published SSIM figures on LIVE use
    it. Works on Python ints (returns an int) and on scalar tensors (returns
    an int32 tensor).
    """
    if isinstance(height, int) and isinstance(width, int):
        return max(1, int(min(height, width) / 256.0 + 0.5))
    smaller = tf.cast(tf.minimum(height, width), tf.float32)
    return tf.maximum(1, tf.cast(tf.floor(smaller / 256.0 + 0.5), tf.int32))


def average_downsample(images, factor, padding: str = "symmetric"):
    """``(batch, H, W, C)`` -> ``(batch, ceil(H/f), ceil(W/f), C)``: ``f x f`` box average, every ``f``-th pixel.

    ``factor``: an int or a scalar int tensor (1 returns the images
    unchanged). ``padding``: ``"symmetric"`` or ``"zero"`` (see the module
    docstring for which reference code uses which).
    """
    if padding not in PADDINGS:
        raise ValueError(f"average_downsample: padding must be one of {PADDINGS}, got {padding!r}")
    images = tf.convert_to_tensor(images, tf.float32)
    if isinstance(factor, int):
        if factor < 1:
            raise ValueError(f"average_downsample: factor must be a positive integer, got {factor}")
        if factor == 1:
            return images
    factor = tf.convert_to_tensor(factor, tf.int32)
    shape = tf.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    rows = (height + factor - 1) // factor
    cols = (width + factor - 1) // factor
    before = (factor - 1) // 2
    # Pad so that block j covers input rows j*f - before .. j*f - before + f - 1; the far side may need
    # a crop instead of padding (when before exceeds the shortfall), so pad generously then cut.
    after_rows = tf.maximum(rows * factor - height - before, 0)
    after_cols = tf.maximum(cols * factor - width - before, 0)
    paddings = tf.stack([[0, 0], [before, after_rows], [before, after_cols], [0, 0]])
    mode = "SYMMETRIC" if padding == "symmetric" else "CONSTANT"
    padded = tf.pad(images, paddings, mode=mode)[:, : rows * factor, : cols * factor, :]
    blocks = tf.reshape(padded, tf.stack([batch, rows, factor, cols, factor, channels]))
    return tf.reduce_mean(blocks, axis=[2, 4])
