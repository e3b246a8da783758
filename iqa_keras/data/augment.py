"""Paired augmentation in TensorFlow ops: CIE Lab lightness scaling and rot90/flips.

Everything here takes and returns uint8-range float RGB (values 0..255, any
float dtype, shape ``(H, W, 3)`` or ``(B, H, W, 3)``) and works inside
``tf.function`` and ``tf.data`` maps, so the training pipeline and test-time
augmentation in scoring share one implementation.

Colour conversion follows the sRGB / CIE 1976 L*a*b* definitions with the D65
white point (2 degree observer), the same definitions scikit-image uses, so
results agree with ``skimage.color.rgb2lab``/``lab2rgb`` to well under one grey
level. Unlike the NTIRE 2021 reference's intensity augmentation, which cast ``L * scale`` to
uint8 and let bright pixels wrap around to dark ones, lightness is clipped to
[0, 100] and RGB to [0, 255].
"""
from __future__ import annotations

import tensorflow as tf

# Linear sRGB -> CIE XYZ (D65), and its inverse, computed once in float64.
_XYZ_FROM_RGB = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
_D65_WHITE = (0.95047, 1.0, 1.08883)
_EPSILON = 0.008856  # (6/29)^3: below it the cube root is replaced by a line
_KAPPA_SLOPE = 7.787  # slope of that line, (29/6)^2 / 3
_OFFSET = 16.0 / 116.0


def _matrices():
    forward = tf.constant(_XYZ_FROM_RGB, tf.float64)
    backward = tf.linalg.inv(forward)
    return tf.cast(forward, tf.float32), tf.cast(backward, tf.float32)


def _apply_matrix(pixels: tf.Tensor, matrix: tf.Tensor) -> tf.Tensor:
    """``pixels[..., c] -> sum_k matrix[c, k] * pixels[..., k]``."""
    return tf.tensordot(pixels, tf.transpose(matrix), axes=[[-1], [0]])


def _as_float(images) -> tuple[tf.Tensor, tf.DType]:
    images = tf.convert_to_tensor(images)
    dtype = images.dtype if images.dtype.is_floating else tf.float32
    return tf.cast(images, tf.float32), dtype


def _srgb_to_linear(images) -> tf.Tensor:
    """sRGB (0..255) -> linear light in [0, 1]; a 256-entry table for integer images."""
    images = tf.convert_to_tensor(images)
    if images.dtype == tf.uint8:
        codes = tf.range(256, dtype=tf.float32) / 255.0
        table = tf.where(codes > 0.04045, tf.pow((codes + 0.055) / 1.055, 2.4), codes / 12.92)
        return tf.gather(table, tf.cast(images, tf.int32))
    rgb = tf.clip_by_value(tf.cast(images, tf.float32) / 255.0, 0.0, 1.0)
    return tf.where(rgb > 0.04045, tf.pow((rgb + 0.055) / 1.055, 2.4), rgb / 12.92)


def _linear_to_srgb(linear: tf.Tensor) -> tf.Tensor:
    """Linear light -> sRGB 0..255 float32, clipped."""
    positive = tf.maximum(linear, 0.0031308)
    rgb = tf.where(linear > 0.0031308, 1.055 * tf.pow(positive, 1.0 / 2.4) - 0.055, 12.92 * linear)
    return tf.clip_by_value(rgb * 255.0, 0.0, 255.0)


def _lab_f(images) -> tf.Tensor:
    """(f(X/Xn), f(Y/Yn), f(Z/Zn)) of CIE Lab, from sRGB 0..255."""
    forward, _ = _matrices()
    xyz = _apply_matrix(_srgb_to_linear(images), forward) / tf.constant(_D65_WHITE, tf.float32)
    safe = tf.maximum(xyz, _EPSILON)  # keeps the cube root away from 0 (and its gradient finite)
    return tf.where(xyz > _EPSILON, tf.pow(safe, 1.0 / 3.0), _KAPPA_SLOPE * xyz + _OFFSET)


def _rgb_from_lab_f(f: tf.Tensor) -> tf.Tensor:
    """Inverse of ``_lab_f``; f(Z) below 0 (not a colour) is clipped to 0 like scikit-image."""
    f = tf.concat([f[..., :2], tf.maximum(f[..., 2:], 0.0)], axis=-1)
    xyz = tf.where(f > 6.0 / 29.0, f * f * f, (f - _OFFSET) / _KAPPA_SLOPE)
    _, backward = _matrices()
    return _linear_to_srgb(_apply_matrix(xyz * tf.constant(_D65_WHITE, tf.float32), backward))


def rgb_to_lab(images) -> tf.Tensor:
    """uint8-range sRGB -> CIE Lab (L in [0, 100]); float32, same shape."""
    f = _lab_f(images)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return tf.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab_to_rgb(lab) -> tf.Tensor:
    """CIE Lab -> uint8-range sRGB float32, clipped to [0, 255] (out-of-gamut colours clip)."""
    lab = tf.cast(tf.convert_to_tensor(lab), tf.float32)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = tf.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    return _rgb_from_lab_f(f)


def _broadcast_factor(factor, images: tf.Tensor) -> tf.Tensor:
    """A scalar, or one factor per image of a batch, shaped to multiply ``images[..., 0]``."""
    factor = tf.cast(tf.convert_to_tensor(factor), tf.float32)
    if factor.shape.rank == 1 and images.shape.rank == 4:
        factor = tf.reshape(factor, (-1, 1, 1))
    return factor


def scale_lightness(images, factor) -> tf.Tensor:
    """Multiplies the CIE Lab lightness by ``factor`` (the NTIRE 2021 reference's intensity augmentation).

    ``factor`` is a scalar or, for a batch ``(B, H, W, 3)``, a vector of B
    factors. L is clipped to [0, 100] and RGB to [0, 255]; a and b are kept.
    The result is uint8-range float32 RGB, never wrapped around. uint8 input
    takes a faster path (a lookup table for the sRGB decoding).
    """
    images = tf.convert_to_tensor(images)
    f = _lab_f(images)
    fy = f[..., 1:2]
    lightness = tf.clip_by_value((116.0 * fy - 16.0) * _broadcast_factor(factor, images)[..., None], 0.0, 100.0)
    # a and b fixed: f(X) - f(Y) and f(Y) - f(Z) stay, so every f moves with f(Y).
    return _rgb_from_lab_f(f + ((lightness + 16.0) / 116.0 - fy))


def _rot90(image: tf.Tensor, k) -> tf.Tensor:
    """``numpy.rot90(image, k)`` on the height/width axes (counter-clockwise), k a tensor."""
    rank = image.shape.rank
    h_axis, w_axis = rank - 3, rank - 2
    perm = list(range(rank))
    perm[h_axis], perm[w_axis] = w_axis, h_axis
    branches = [
        lambda: image,
        lambda: tf.reverse(tf.transpose(image, perm), axis=[h_axis]),
        lambda: tf.reverse(image, axis=[h_axis, w_axis]),
        lambda: tf.reverse(tf.transpose(image, perm), axis=[w_axis]),
    ]
    if image.shape[h_axis] is not None and image.shape[h_axis] == image.shape[w_axis]:
        return tf.switch_case(tf.cast(k, tf.int32) % 4, branches)
    return tf.image.rot90(image, k=tf.cast(k, tf.int32) % 4)  # non-square: shapes differ per branch


def _geometric(image: tf.Tensor, rot_k, flip_lr, flip_ud) -> tf.Tensor:
    image = _rot90(image, rot_k)
    image = tf.cond(tf.cast(flip_lr, tf.bool), lambda: tf.reverse(image, axis=[-2]), lambda: image)
    image = tf.cond(tf.cast(flip_ud, tf.bool), lambda: tf.reverse(image, axis=[-3]), lambda: image)
    return image


def paired_geometric(ref, dist, rot_k, flip_lr, flip_ud):
    """Applies the same transform to reference and distorted images.

    Order: rotate by ``rot_k`` x 90 degrees counter-clockwise (``numpy.rot90``
    on the height/width axes), then mirror left-right if ``flip_lr``, then
    up-down if ``flip_ud``. Works on single images ``(H, W, C)`` and batches
    ``(B, H, W, C)`` (one transform for the whole batch). ``ref`` may be None
    for no-reference data.
    """
    dist = tf.convert_to_tensor(dist)
    out_dist = _geometric(dist, rot_k, flip_lr, flip_ud)
    if ref is None:
        return None, out_dist
    return _geometric(tf.convert_to_tensor(ref), rot_k, flip_lr, flip_ud), out_dist


def random_paired_augment(ref, dist, seed, *, geometric=True, lightness_range=None):
    """Draws one random geometric transform (and lightness factor) per pair from a stateless seed.

    ``seed`` is a shape-(2,) int tensor (as made by ``tf.data`` with
    ``Dataset.random``/``enumerate``), so runs with the same seed see the same
    augmentations. The lightness factor, drawn uniformly from
    ``lightness_range`` (the NTIRE 2021 reference used [0.3, 1.5]), is applied to both images
    of the pair, like the geometric transform.
    """
    seed = tf.cast(seed, tf.int32)
    draws = tf.random.stateless_uniform((3,), seed=seed, minval=0, maxval=4, dtype=tf.int32)
    if geometric:
        ref, dist = paired_geometric(ref, dist, draws[0], draws[1] % 2 == 1, draws[2] % 2 == 1)
    if lightness_range is not None:
        low, high = lightness_range
        factor = tf.random.stateless_uniform((), seed=seed + tf.constant([7, 13]), minval=low, maxval=high)
        dist = scale_lightness(dist, factor)
        if ref is not None:
            ref = scale_lightness(ref, factor)
    return ref, dist
