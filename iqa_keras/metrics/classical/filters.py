"""Small linear filters shared by the metrics: MATLAB-style Gaussian windows and gradient operators.

Everything here works on ``(batch, H, W, C)`` float32 tensors with sizes
that may be unknown until run time.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf


def gaussian_window(size: int, sigma: float) -> np.ndarray:
    """1-D ``size``-tap Gaussian, normalised to sum 1, centred on the middle tap.

    The outer product of two of these is MATLAB's ``fspecial('gaussian',
    size, sigma)`` (a 2-D Gaussian is separable), so the 2-D filtering is
    done as two 1-D passes.
    """
    if size < 1 or sigma <= 0:
        raise ValueError(f"gaussian_window: expected size >= 1 and sigma > 0, got size={size}, sigma={sigma}")
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    window = np.exp(-(coords**2) / (2.0 * sigma**2))
    return window / window.sum()


def separable_filter(images, window_1d: np.ndarray, padding: str = "VALID"):
    """Filters each channel of ``images`` with ``outer(window_1d, window_1d)``.

    ``padding="VALID"`` is MATLAB's ``filter2(..., 'valid')`` (output shrinks
    by ``len(window) - 1``); ``"SAME"`` pads with zeros.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    channels = images.shape[-1]
    if channels is None:
        raise ValueError("separable_filter: the channel count must be known when the graph is built")
    taps = np.asarray(window_1d, np.float32)
    column = np.tile(taps.reshape(-1, 1, 1, 1), (1, 1, channels, 1))
    row = np.tile(taps.reshape(1, -1, 1, 1), (1, 1, channels, 1))
    out = tf.nn.depthwise_conv2d(images, column, strides=[1, 1, 1, 1], padding=padding)
    return tf.nn.depthwise_conv2d(out, row, strides=[1, 1, 1, 1], padding=padding)


def filter_same_zero(images, kernel_2d: np.ndarray):
    """MATLAB ``conv2(image, kernel, 'same')`` for an odd-sized kernel: zero padding, output the input's size.

    TensorFlow correlates rather than convolves, so the kernel is flipped
    first; for the gradient operators this only flips the sign, which the
    gradient magnitude ignores, but the flip keeps the function exact.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    channels = images.shape[-1]
    if channels is None:
        raise ValueError("filter_same_zero: the channel count must be known when the graph is built")
    kernel = np.asarray(kernel_2d, np.float32)[::-1, ::-1]
    if kernel.shape[0] % 2 == 0 or kernel.shape[1] % 2 == 0:
        raise ValueError(f"filter_same_zero: expected an odd-sized kernel, got {kernel.shape}")
    kernel = np.tile(kernel[:, :, None, None], (1, 1, channels, 1))
    return tf.nn.depthwise_conv2d(images, kernel, strides=[1, 1, 1, 1], padding="SAME")


def gradient_magnitude(images, kernel_x: np.ndarray):
    """``sqrt(gx^2 + gy^2)`` with ``gx = conv2(I, kernel_x, 'same')`` and ``gy`` from the transposed kernel."""
    kernel_x = np.asarray(kernel_x, np.float32)
    gx = filter_same_zero(images, kernel_x)
    gy = filter_same_zero(images, kernel_x.T)
    return tf.sqrt(gx * gx + gy * gy)
