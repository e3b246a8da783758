"""``compute_metric``: classical metrics on NumPy images, one compiled graph per metric.

This is the labelling path (e.g. scoring tens of thousands of generated
pairs to train a network on a classical metric): arrays in, float64 scores
out. Each metric is wrapped once in a ``tf.function`` whose input shape is
``(None, None, None, 3)``, so pairs of any size reuse the same graph instead
of retracing for every new size.
"""
from __future__ import annotations

import threading

import numpy as np
import tensorflow as tf

from ...registry import FR_METRICS
from .metric import ClassicalMetric

_GRAPHS: dict[str, object] = {}
_LOCK = threading.Lock()
_SIGNATURE = [tf.TensorSpec([None, None, None, 3], tf.float32)] * 2


def get_metric(name: str) -> ClassicalMetric:
    """The registered ``ClassicalMetric`` called ``name`` (a ValueError lists the known names otherwise)."""
    return FR_METRICS.get(name)


def metric_graph(name: str):
    """The metric's function as a ``tf.function`` over float32 ``(batch, H, W, 3)`` pairs of any size (cached)."""
    metric = get_metric(name)
    with _LOCK:
        graph = _GRAPHS.get(name)
        if graph is None:
            graph = tf.function(metric.function, input_signature=_SIGNATURE, reduce_retracing=True)
            _GRAPHS[name] = graph
    return graph


def _as_float_batch(images: np.ndarray, name: str, what: str) -> np.ndarray:
    if images.dtype == np.uint8 or np.issubdtype(images.dtype, np.floating):
        return images.astype(np.float32, copy=False)
    raise ValueError(f"{name}: {what} must be uint8 or float pixels on [0, 255], got dtype {images.dtype}")


def compute_metric(name: str, reference, distorted, batch_size: int = 8) -> np.ndarray:
    """Scores of ``name`` (e.g. ``"ssim"``) for one pair or a batch of pairs, as float64.

    ``reference``, ``distorted``: ``(H, W, 3)`` (one pair; a 0-d array is
    returned, ``float()`` of it is the score) or ``(B, H, W, 3)`` (returns
    ``(B,)``) RGB arrays, uint8 or float on [0, 255]. Float data on [0, 1]
    must be scaled by 255 first: every metric's constants assume [0, 255].
    ``batch_size`` pairs go through the graph at a time. Consecutive calls
    may use different image sizes.
    """
    metric = get_metric(name)
    reference = np.asarray(reference)
    distorted = np.asarray(distorted)
    if reference.shape != distorted.shape:
        raise ValueError(f"{name}: reference and distorted differ in shape: {reference.shape} and {distorted.shape}")
    if reference.ndim not in (3, 4) or reference.shape[-1] != 3:
        raise ValueError(f"{name}: expected one RGB pair of shape (H, W, 3) or batches of shape (B, H, W, 3), "
                         f"got {reference.shape}")
    if int(batch_size) < 1:
        raise ValueError(f"{name}: batch_size must be a positive integer, got {batch_size}")
    single = reference.ndim == 3
    if single:
        reference, distorted = reference[None], distorted[None]
    height, width = reference.shape[1:3]
    if min(height, width) < metric.min_size:
        raise ValueError(f"{name}: images must be at least {metric.min_size} x {metric.min_size} pixels, "
                         f"got {height} x {width} (height x width)")
    reference = _as_float_batch(reference, name, "reference")
    distorted = _as_float_batch(distorted, name, "distorted")
    graph = metric_graph(name)
    batch_size = int(batch_size)
    scores = [
        graph(tf.constant(reference[start:start + batch_size]), tf.constant(distorted[start:start + batch_size]))
        .numpy()
        for start in range(0, len(reference), batch_size)
    ]
    result = np.concatenate(scores).astype(np.float64) if scores else np.zeros(0, np.float64)
    return result.reshape(()) if single else result
