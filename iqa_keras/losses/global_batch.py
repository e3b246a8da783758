"""Batch-level losses under tf.distribute: computed once on the global batch, not per replica.

Pearson's r and the surrogate Spearman term are functions of the whole batch.
Under a strategy with N replicas Keras hands each replica 1/N of the batch,
and a loss computed on that share is another loss (2 x 8 is not 1 x 16).
:class:`GlobalBatchLoss` gathers targets, predictions and sample weights from
every replica (``ReplicaContext.all_gather``), computes the value once on the
global batch, and returns it divided by N on every replica:

* the gradient of ``all_gather`` is each replica's slice of the replicas'
  summed upstream gradients, so a replica receives exactly
  d(value)/d(its predictions); Keras then sums the replicas' weight gradients,
  which gives d(value)/d(weights), as on one device;
* Keras logs a replica's loss multiplied by N (its convention for
  ``sum_over_batch_size`` losses), so the logged loss is the value itself.

The cost is one small all-gather per step (a few floats per sample) and the
loss computed N times over (on the global batch, on every replica).
``global_batch=False`` keeps the per-replica value (no communication; the
loss then depends on the number of replicas). Reductions ``"none"``/``None``
are always per replica: the caller reduces.
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

MEAN_REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight")


def replicas_in_sync() -> int:
    """Replicas of the strategy whose replica context this runs in (1 outside ``strategy.run``)."""
    context = tf.distribute.get_replica_context()
    return 1 if context is None else int(context.num_replicas_in_sync)


def _replica_device(value) -> str:
    """The device of this replica's collectives: the value's, or the worker's only device.

    (Under MultiWorkerMirroredStrategy with one device per worker, tensors in
    the training step carry no device, and a collective needs one.)
    """
    if value.device:
        return value.device
    devices = tf.distribute.get_strategy().extended.worker_devices
    return devices[0] if len(devices) == 1 else ""


def gather_batch(value):
    """``value`` of every replica, concatenated along the batch axis (in replica order).

    The gradient with respect to this replica's ``value`` is its rows of the
    sum over replicas of the gradients with respect to the gathered batch.
    The dimensions after the batch axis keep their static sizes (a loss may
    read them, as the bias-aware loss reads its target columns).
    """
    context = tf.distribute.get_replica_context()
    device = _replica_device(value)

    @tf.custom_gradient
    def gather(local):
        with tf.device(device):
            local = tf.identity(local)
            gathered = context.all_gather(local, axis=0)
            sizes = context.all_gather(tf.shape(local)[:1], axis=0)

        def gradient(upstream):
            with tf.device(device):
                total = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.identity(upstream))
                start = tf.reduce_sum(sizes[: context.replica_id_in_sync_group])
                return total[start: start + tf.shape(local)[0]]

        return tf.ensure_shape(gathered, [None, *value.shape[1:]]), gradient

    return gather(value)


class GlobalBatchLoss(keras.losses.Loss):
    """A ``keras.losses.Loss`` whose value under several replicas is that of the global batch.

    Subclasses implement ``call`` (a scalar, or one value per sample) as for
    any Keras loss and pass ``global_batch`` to this constructor.
    """

    def __init__(self, global_batch: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.global_batch = bool(global_batch)

    def __call__(self, y_true, y_pred, sample_weight=None):
        replicas = replicas_in_sync()
        if replicas == 1 or not self.global_batch or self.reduction in (None, "none"):
            return super().__call__(y_true, y_pred, sample_weight)
        with tf.name_scope(self.name):
            y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
            y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
            values = self.call(gather_batch(y_true), gather_batch(y_pred))
            weights = None
            if sample_weight is not None:
                weights = ops.convert_to_tensor(sample_weight, dtype=self.dtype)
                if len(weights.shape) > 0:
                    weights = gather_batch(weights)
                values = ops.reshape(values, (-1,)) * ops.reshape(weights, (-1,))
            total = ops.sum(values)
            if self.reduction in MEAN_REDUCTIONS and len(values.shape) > 0:
                if self.reduction == "mean_with_sample_weight" and weights is not None:
                    divisor = ops.sum(weights)
                else:
                    divisor = ops.cast(ops.size(values), total.dtype)
                total = ops.divide_no_nan(total, divisor)
            return total / float(replicas)

    def get_config(self):
        return {**super().get_config(), "global_batch": self.global_batch}
