"""The bias-aware loss for training on several datasets at once.

Mittag et al., "Bias-Aware Loss for Training Image and Speech Quality
Prediction Models from Multiple Datasets" (QoMEX 2021): each dataset d rates
quality on its own monotone scale f_d, so the loss compares
``f_d(prediction)`` with dataset d's MOS. The loss only applies the f_d; they
are estimated from the network's predictions at every epoch end by
:class:`iqa_keras.training.bias.BiasUpdater`, which also describes how the
dataset index travels with the targets.
"""
from __future__ import annotations

from typing import Sequence

import keras
import numpy as np
from keras import ops

from ..layers import PACKAGE
from ..registry import LOSSES
from .global_batch import GlobalBatchLoss

BIAS_FUNCTIONS = ("first_order", "third_order")
_IDENTITY_BIAS = np.array([0.0, 1.0, 0.0, 0.0])


@LOSSES.register("bias_aware")
@keras.saving.register_keras_serializable(package=PACKAGE)
class BiasAwareLoss(GlobalBatchLoss):
    """``(f_d(ŷ) - y)^2 + mse_weight * (ŷ - y)^2`` per sample, f_d the dataset's bias.

    How the dataset index travels and how the biases are estimated is
    described in :mod:`iqa_keras.training.bias`. ``y_true``: (B, 2) = ``[mos, db_index]`` in the
    training pipeline; a plain (B, 1) MOS gives the plain squared error
    ``(ŷ - y)^2`` (validation data, other tools).

    ``bias_fun``: "first_order" or "third_order". ``r_th``: the training-set
    Pearson r the predictions must exceed before the biases are first
    estimated (1: never, which is plain MSE training). ``anchor_db``: label
    (or index) of the dataset whose f stays the identity. ``mse_weight``: the
    weight of the plain MSE term that anchors the prediction scale.
    ``datasets``: the dataset labels in index order (for ``anchor_db`` by
    label and for readable logs; :class:`BiasUpdater` can be given them
    instead). ``mos_range``: [low, high] on which a
    third-order f must be increasing (default: the data's range).
    ``max_slope``: an upper bound on f' (None: unbounded, as the reference);
    it stops a dataset's scale and f_d from running away together.
    ``constraint_grid``: [low, high, step]: a third-order f must have f' >= 0
    exactly at ``arange(low, high, step)`` (the reference implementation's
    [1, 5, 0.001]) instead of at 101 points of ``mos_range`` widened to the
    predictions (None, the default).
    ``max_datasets``: rows of the coefficient variable. ``biases``: initial
    coefficients (rows of [b0, b1, b2, b3]), identity by default.
    ``global_batch``: under several replicas, the mean over the global batch
    (default; exact also when the replicas' shares differ in size) or Keras'
    mean of the replicas' means (see :mod:`.global_batch`).
    The options other than ``mse_weight`` are read by :class:`BiasUpdater`.
    """

    def __init__(
        self,
        bias_fun: str = "first_order",
        r_th: float = 0.7,
        anchor_db=None,
        mse_weight: float = 0.0,
        datasets: Sequence[str] | None = None,
        mos_range: Sequence[float] | None = None,
        max_slope: float | None = None,
        constraint_grid: Sequence[float] | None = None,
        max_datasets: int = 16,
        biases=None,
        global_batch: bool = True,
        name: str = "bias_aware",
        reduction: str = "sum_over_batch_size",
        dtype=None,
    ):
        super().__init__(global_batch=global_batch, name=name, reduction=reduction, dtype=dtype)
        if bias_fun not in BIAS_FUNCTIONS:
            raise ValueError(f"bias_fun: expected one of {', '.join(BIAS_FUNCTIONS)}, got {bias_fun!r}")
        if float(mse_weight) < 0:
            raise ValueError(f"mse_weight: expected a non-negative weight, got {mse_weight!r}")
        self.bias_fun, self.r_th, self.mse_weight = bias_fun, float(r_th), float(mse_weight)
        self.datasets = list(datasets) if datasets is not None else None
        self.max_datasets = int(max(max_datasets, len(self.datasets or [])))
        self.anchor_db = anchor_db
        if self.datasets is not None:
            resolve_anchor(anchor_db, self.datasets)  # an unknown label is an error now, not at epoch end
        self.mos_range = None if mos_range is None else [float(v) for v in mos_range]
        if max_slope is not None and not float(max_slope) > 0:
            raise ValueError(f"max_slope: expected a positive slope or None, got {max_slope!r}")
        self.max_slope = None if max_slope is None else float(max_slope)
        self.constraint_grid = None if constraint_grid is None else [float(v) for v in constraint_grid]
        if self.constraint_grid is not None and not (
                len(self.constraint_grid) == 3 and self.constraint_grid[0] < self.constraint_grid[1]
                and self.constraint_grid[2] > 0):
            raise ValueError(f"constraint_grid: expected [low, high, step] with low < high and step > 0, "
                             f"got {constraint_grid!r}")
        initial = np.tile(_IDENTITY_BIAS, (self.max_datasets, 1))
        if biases is not None:
            given = np.asarray(biases, dtype=float).reshape(-1, 4)
            initial[: len(given)] = given
        self.biases = keras.Variable(initial.astype("float32"), trainable=False, dtype="float32", name="dataset_biases")

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        predicted = ops.reshape(y_pred, (-1,))
        if y_true.shape[-1] == 2:
            mos = ops.cast(y_true[:, 0], predicted.dtype)
            index = ops.cast(ops.round(y_true[:, 1]), "int32")
            b = ops.cast(ops.take(self.biases, index, axis=0), predicted.dtype)
            mapped = b[:, 0] + predicted * (b[:, 1] + predicted * (b[:, 2] + predicted * b[:, 3]))
            return ops.square(mapped - mos) + self.mse_weight * ops.square(predicted - mos)
        mos = ops.cast(ops.reshape(y_true, (-1,)), predicted.dtype)
        return ops.square(predicted - mos)

    def set_biases(self, biases) -> None:
        """Assigns (n, 4) coefficients to the first n datasets (the rest keep theirs)."""
        values = np.array(self.biases.numpy(), dtype="float32")
        given = np.asarray(biases, dtype="float32").reshape(-1, 4)
        if len(given) > self.max_datasets:
            raise ValueError(f"BiasAwareLoss: {len(given)} datasets but max_datasets={self.max_datasets}")
        values[: len(given)] = given
        self.biases.assign(values)

    def get_biases(self, num_datasets: int | None = None) -> np.ndarray:
        return np.array(self.biases.numpy(), dtype=float)[: num_datasets or self.max_datasets]

    def get_config(self):
        return {
            **super().get_config(),
            "bias_fun": self.bias_fun,
            "r_th": self.r_th,
            "anchor_db": self.anchor_db,
            "mse_weight": self.mse_weight,
            "datasets": self.datasets,
            "mos_range": self.mos_range,
            "max_slope": self.max_slope,
            "constraint_grid": self.constraint_grid,
            "max_datasets": self.max_datasets,
            "biases": self.get_biases().tolist(),
        }


def resolve_anchor(anchor_db, datasets: Sequence[str] | None) -> int | None:
    """The anchor's index from a label (needs ``datasets``) or an index; None for none."""
    if anchor_db is None or anchor_db == "":
        return None
    if isinstance(anchor_db, (int, np.integer)) and not isinstance(anchor_db, bool):
        return int(anchor_db)
    if datasets is None:
        raise ValueError(f"anchor_db {anchor_db!r}: a label needs the list of dataset labels (datasets=...)")
    if anchor_db not in datasets:
        raise ValueError(f"anchor_db {anchor_db!r} is not one of the datasets: {', '.join(map(str, datasets))}")
    return list(datasets).index(anchor_db)
