"""Losses on one score per sample: MSE, Pearson and the NTIRE 2021 FR loss.

Pearson and FRLoss correlate the batch as a whole (the global batch under a
tf.distribute strategy, see :mod:`.global_batch`); a sample weight, if given,
only rescales their value.
"""
from __future__ import annotations

import keras
from keras import ops

from ..layers import PACKAGE
from ..registry import LOSSES

from ..metrics.correlation import pearson_r
from .global_batch import GlobalBatchLoss
from .rank import SurrogateSpearman, flat

PEARSON_EPSILON = 1e-8  # keeps r and its gradient finite for a constant batch


@LOSSES.register("mse")
@keras.saving.register_keras_serializable(package=PACKAGE)
class MSE(keras.losses.MeanSquaredError):
    """Mean squared error (Keras' ``MeanSquaredError``, registered under ``"mse"``)."""

    def __init__(self, reduction="sum_over_batch_size", name="mse", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


@LOSSES.register("pearson")
@keras.saving.register_keras_serializable(package=PACKAGE)
class Pearson(GlobalBatchLoss):
    """``1 - r`` (default) or ``1 - r^2`` (``squared=True``, the NTIRE 2021 reference's) of predictions vs targets over the batch.

    ``1 - r^2`` is also minimised by r = -1, so it suits only models whose sign
    is otherwise pinned (e.g. by an MSE term). For a batch of identical
    predictions or targets r is taken as 0, so the loss is 1 and finite.
    """

    def __init__(self, squared: bool = False, global_batch: bool = True, reduction="sum_over_batch_size",
                 name="pearson", dtype=None):
        super().__init__(global_batch=global_batch, reduction=reduction, name=name, dtype=dtype)
        self.squared = bool(squared)

    def call(self, y_true, y_pred):
        r = pearson_r(flat(y_true), flat(y_pred), PEARSON_EPSILON, xp=ops)
        return 1.0 - (r * r if self.squared else r)

    def get_config(self):
        return {**super().get_config(), "squared": self.squared}


@LOSSES.register("fr_loss")
@keras.saving.register_keras_serializable(package=PACKAGE)
class FRLoss(GlobalBatchLoss):
    """The NTIRE 2021 FR training loss.

    ``mse_factor * MSE + (1 - mse_factor) * Pearson + spearman_factor * SurrogateSpearman``,
    with Pearson ``1 - r`` (or ``1 - r^2`` with ``squared_pearson=True``, as in
    the NTIRE 2021 reference code). ``spearman_factor=0`` skips the ranking network.
    ``ranking_weights``: a ``.weights.h5`` for the ranking network instead of the shipped one.
    ``global_batch``: under several replicas, the value of the global batch
    (default) or of each replica's share (see :mod:`.global_batch`).
    """

    def __init__(self, mse_factor: float = 0.5, spearman_factor: float = 0.1, squared_pearson: bool = False,
                 ranking_weights=None, global_batch: bool = True, reduction="sum_over_batch_size",
                 name="fr_loss", dtype=None):
        super().__init__(global_batch=global_batch, reduction=reduction, name=name, dtype=dtype)
        self.mse_factor = float(mse_factor)
        self.spearman_factor = float(spearman_factor)
        self.squared_pearson = bool(squared_pearson)
        self.ranking_weights = None if ranking_weights is None else str(ranking_weights)
        self.pearson = Pearson(squared=self.squared_pearson)
        self.spearman = SurrogateSpearman(weights=self.ranking_weights) if self.spearman_factor else None

    def call(self, y_true, y_pred):
        flat_true, flat_pred = flat(y_true), flat(y_pred)
        loss = self.mse_factor * ops.mean(ops.square(flat_true - flat_pred))
        loss = loss + (1.0 - self.mse_factor) * self.pearson.call(flat_true, flat_pred)
        if self.spearman is not None:
            loss = loss + self.spearman_factor * self.spearman.call(flat_true, flat_pred)
        return loss

    def get_config(self):
        return {
            **super().get_config(),
            "mse_factor": self.mse_factor,
            "spearman_factor": self.spearman_factor,
            "squared_pearson": self.squared_pearson,
            "ranking_weights": self.ranking_weights,
        }
