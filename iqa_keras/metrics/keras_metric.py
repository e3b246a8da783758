"""SRCC / PLCC / KRCC as a ``keras.metrics.Metric``: one figure over everything seen, not a mean of batches.

``model.evaluate(..., metrics=[Correlation("srcc")])`` reports the rank
correlation of the whole evaluation set, as the papers do; a per-batch
average of correlations is a different (and batch-size dependent) number.
The predictions and targets seen since the last reset are kept in
fixed-size buffers (``capacity`` values; the figure is NaN once more were
seen), and the figure is computed on the host with
:mod:`iqa_keras.metrics.correlation` when Keras asks for the result.
Targets of shape ``(N, 2)`` (the bias-aware ``[mos, dataset]``) use their
first column. The result runs inside TensorFlow graphs through
``tf.numpy_function``; on other backends it needs eager execution
(``run_eagerly=True``).
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from .correlation import krcc, plcc, srcc

KINDS = {"srcc": srcc, "plcc": plcc, "krcc": krcc}


@keras.saving.register_keras_serializable(package="iqa_keras")
class Correlation(keras.metrics.Metric):
    """Whole-set ``kind`` ("srcc", "plcc" or "krcc") of predictions against targets."""

    def __init__(self, kind: str = "srcc", capacity: int = 65536, name: str | None = None, dtype=None):
        if kind not in KINDS:
            raise ValueError(f"Correlation: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if int(capacity) < 2:
            raise ValueError(f"Correlation: capacity must be at least 2, got {capacity!r}")
        super().__init__(name=name or kind, dtype=dtype)
        self.kind, self.capacity = kind, int(capacity)
        self.predictions = self.add_variable(shape=(self.capacity,), initializer="zeros", name="predictions")
        self.targets = self.add_variable(shape=(self.capacity,), initializer="zeros", name="targets")
        self.seen = self.add_variable(shape=(), initializer="zeros", dtype="int32", name="seen")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true)
        if len(y_true.shape) == 2 and y_true.shape[-1] == 2:
            y_true = y_true[:, 0]
        targets = ops.reshape(ops.cast(y_true, "float32"), (-1,))
        predictions = ops.reshape(ops.cast(y_pred, "float32"), (-1,))
        start = ops.minimum(self.seen, self.capacity - ops.shape(predictions)[0])  # kept in range; NaN result below
        self.predictions.assign(ops.slice_update(self.predictions, [ops.maximum(start, 0)], predictions))
        self.targets.assign(ops.slice_update(self.targets, [ops.maximum(start, 0)], targets))
        self.seen.assign(self.seen + ops.shape(predictions)[0])

    def _host_result(self, predictions, targets, seen):
        seen = int(seen)
        if seen > self.capacity or seen < 2:
            return np.float32(np.nan)
        return np.float32(KINDS[self.kind](predictions[:seen], targets[:seen]))

    def result(self):
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            value = tf.numpy_function(self._host_result, [self.predictions.value, self.targets.value,
                                                          self.seen.value], tf.float32)
            return tf.reshape(value, [])
        return ops.convert_to_tensor(self._host_result(*(ops.convert_to_numpy(v) for v in
                                                         (self.predictions, self.targets, self.seen))))

    def reset_state(self):
        for variable in (self.predictions, self.targets, self.seen):
            variable.assign(ops.zeros(variable.shape, variable.dtype))

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "capacity": self.capacity}
