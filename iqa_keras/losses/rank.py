"""The differentiable rank loss: squared rank differences through the frozen 16-wide ranking network."""
from __future__ import annotations

import keras
from keras import ops

from ..layers import PACKAGE
from ..registry import LOSSES
from .global_batch import GlobalBatchLoss


def flat(values):
    """Any tensor of scores as a flat float32 vector."""
    return ops.reshape(ops.cast(values, "float32"), (-1,))


def rank_groups(batch_size, width: int = 16):
    """Indices (groups, width) cutting a batch of ``batch_size`` into groups of ``width``.

    Groups are consecutive; when ``batch_size`` is not a multiple of ``width``
    the last group is the last ``width`` members (overlapping the previous
    group). A batch smaller than ``width`` becomes one group that repeats its
    members cyclically (e.g. size 5: 1 2 3 4 5 1 2 3 4 5 ... then the last
    ``width`` of that cycle), so some scores appear twice, in both the target
    and the prediction vector at the same places: tied pairs that the ranking
    network maps to equal ranks.
    Works with a batch size known only when the graph runs.
    """
    batch_size = ops.cast(batch_size, "int32")
    groups = ops.maximum((batch_size + width - 1) // width, 1)
    starts = ops.minimum(ops.arange(groups, dtype="int32") * width, batch_size - width)
    indices = starts[:, None] + ops.arange(width, dtype="int32")[None, :]
    return ops.mod(indices, batch_size)


@LOSSES.register("surrogate_spearman")
@keras.saving.register_keras_serializable(package=PACKAGE)
class SurrogateSpearman(GlobalBatchLoss):
    """Differentiable rank loss: ``mean((R(y) - R(y_pred))^2)`` with R the frozen 16-wide ranking network.

    For two 16-vectors, Spearman's rho = 1 - 6 sum d^2 / (16 (16^2 - 1)), so
    this is ``(1 - rho) * 42.5`` up to the network's error; ``normalize=True``
    divides by 42.5 so the value approximates ``1 - rho`` directly.
    Any batch size >= 2 works: see :func:`rank_groups` for how a batch is cut
    into groups of 16 (overlapping last group; a batch below 16 is padded by
    repeating its members). The value is the mean over all groups. Under a
    tf.distribute strategy the groups are cut from the global batch
    (``global_batch=False``: from each replica's share; see :mod:`.global_batch`).

    ``ranking_network``: a Keras model (batch, 16) -> (batch, 16), or None for
    the shipped pretrained one; ``weights``: a ``.weights.h5`` file for the
    ``ranking16`` architecture instead of the shipped one. Only ``weights``
    travels in the config: a loss built from a model object saves as the
    shipped network (or ``weights``) when reloaded.
    """

    width = 16

    def __init__(self, ranking_network=None, weights=None, normalize: bool = False, global_batch: bool = True,
                 reduction="sum_over_batch_size", name="surrogate_spearman", dtype=None):
        super().__init__(global_batch=global_batch, reduction=reduction, name=name, dtype=dtype)
        if ranking_network is None:
            from ..ranking.weights import load_ranking_network

            ranking_network = load_ranking_network(weights)
        ranking_network.trainable = False
        self.ranking_network = ranking_network
        self.ranking_weights = None if weights is None else str(weights)
        self.normalize = bool(normalize)

    def ranks(self, scores):
        """Ranks of (groups, 16) score vectors by the frozen network (inference mode)."""
        return self.ranking_network(scores, training=False)

    def call(self, y_true, y_pred):
        y_true, y_pred = flat(y_true), flat(y_pred)
        indices = rank_groups(ops.shape(y_pred)[0], self.width)
        true_ranks = ops.stop_gradient(self.ranks(ops.take(y_true, indices)))
        pred_ranks = self.ranks(ops.take(y_pred, indices))
        loss = ops.mean(ops.square(true_ranks - pred_ranks))
        if self.normalize:
            loss = loss * 6.0 / (self.width * self.width - 1)
        return loss

    def get_config(self):
        return {**super().get_config(), "weights": self.ranking_weights, "normalize": self.normalize}
