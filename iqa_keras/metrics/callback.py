"""``EpochMetrics``: whole-set SRCC/PLCC/KRCC/RMSE in the epoch logs of ``model.fit``.

It puts ``val_srcc``, ``val_plcc``, ``val_krcc``, ``val_rmse`` and
``val_main`` (= SRCC + PLCC, the NTIRE 2021 challenge's score) into the
epoch logs, so checkpoint and early-stopping callbacks can monitor them;
put it *before* those callbacks in the list. With ``groups=`` (one dataset
label per sample) it also logs ``val_<label>_srcc/plcc/krcc/rmse`` per
dataset, from the same predictions.
"""
from __future__ import annotations

import math
from typing import Callable

import keras
import numpy as np

from .correlation import METRICS


def predict_batch(model, inputs) -> np.ndarray:
    """``model.predict_on_batch(inputs)``, also right under a multi-replica ``tf.distribute`` strategy.

    Under ``MirroredStrategy`` with several replicas, Keras 3's
    ``predict_on_batch`` runs the whole batch on every replica and returns
    the copies one after the other (replicas x batch rows); there the batch
    goes through ``model.predict``, which splits it between the replicas, or,
    when it is smaller than the number of replicas (a replica would get an
    empty batch), through one direct call of the model.
    """
    strategy = getattr(model, "distribute_strategy", None)
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    if replicas > 1:
        size = int(keras.tree.flatten(inputs)[0].shape[0])
        if size < replicas:
            return keras.ops.convert_to_numpy(model(inputs, training=False))
        return np.asarray(model.predict(inputs, batch_size=size, verbose=0))
    return np.asarray(model.predict_on_batch(inputs))


class EpochMetrics(keras.callbacks.Callback):
    """At each epoch end, predicts ``dataset`` whole and logs ``{prefix}_srcc/plcc/krcc/rmse/main``.

    ``dataset`` yields ``(inputs, y)`` or ``(inputs, y, sample_weight)`` batches
    (sample weights are ignored; every sample counts once). ``denormalize``
    (a callable, or an object with a ``.denormalize`` method such as
    ``ModelInfo``) maps outputs and targets back to the MOS scale before the
    figures, so RMSE is in MOS units. ``to_score`` turns a batch of outputs
    (or targets) into one score per sample; by default outputs must be one
    column. An undefined correlation (constant predictions) is logged as 0.0 so
    that "max" monitors keep working.
    ``last_predictions`` / ``last_targets`` keep the latest 1-D arrays for plots.

    Per-group figures (several datasets in one validation set): ``groups``
    gives one label per sample, in the order the dataset yields them (an
    unshuffled pipeline of the records); each epoch then also logs
    ``{prefix}_{group}_srcc/plcc/krcc/rmse`` from the same predictions.
    ``group_denormalize`` maps a group label to a callable applied to that
    group's scores (outputs and targets, before ``denormalize``), so each
    group's RMSE is on its own MOS scale; groups without one use ``denormalize``.
    A group with fewer than 2 samples logs ``nan``.
    """

    def __init__(self, dataset, prefix: str = "val", denormalize=None, to_score: Callable | None = None,
                 groups=None, group_denormalize: dict | None = None):
        super().__init__()
        self.dataset = dataset
        self.prefix = prefix
        self.denormalize = self._as_callable(denormalize)
        self.to_score = to_score
        self.groups = None if groups is None else np.asarray(groups).astype(str).reshape(-1)
        self.group_denormalize = {str(k): self._as_callable(v) for k, v in (group_denormalize or {}).items()}
        self.last_predictions: np.ndarray | None = None
        self.last_targets: np.ndarray | None = None
        self.last_figures: dict | None = None

    @staticmethod
    def _as_callable(denormalize):
        if denormalize is not None and not callable(denormalize):
            denormalize = getattr(denormalize, "denormalize", None)
            if denormalize is None:
                raise TypeError("EpochMetrics: denormalize must be callable or have a .denormalize method")
        return denormalize

    def _scores(self, values) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        if self.to_score is not None:
            return np.asarray(self.to_score(values), dtype=np.float64).reshape(-1)
        if values.ndim > 1 and int(np.prod(values.shape[1:])) != 1:
            raise ValueError(
                f"EpochMetrics: outputs of shape {values.shape} are not one score per sample; pass to_score="
            )
        return values.reshape(-1)

    def predict(self):
        """Predictions and targets over the whole dataset (1-D, denormalised)."""
        return self._mapped(self.denormalize, *self._predict_scores())

    @staticmethod
    def _mapped(mapping, predictions, targets):
        if mapping is None:
            return predictions, targets
        return np.asarray(mapping(predictions), dtype=np.float64), np.asarray(mapping(targets), dtype=np.float64)

    def _predict_scores(self):
        """Predictions and targets over the whole dataset, one score per sample, not denormalised."""
        predictions, targets = [], []
        for batch in self.dataset:
            if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
                raise ValueError("EpochMetrics: the dataset must yield (inputs, y) or (inputs, y, sample_weight)")
            inputs, y = batch[0], batch[1]
            predictions.append(self._scores(predict_batch(self.model, inputs)))
            targets.append(self._scores(y))
        return np.concatenate(predictions), np.concatenate(targets)

    @staticmethod
    def _figures(predictions, targets) -> dict:
        if not (np.all(np.isfinite(predictions))):
            return {"srcc": 0.0, "plcc": 0.0, "krcc": 0.0, "rmse": math.inf}
        figures = {name: function(predictions, targets) for name, function in METRICS.items()}
        for name in ("srcc", "plcc", "krcc"):
            if not np.isfinite(figures[name]):
                figures[name] = 0.0
        return figures

    def _group_figures(self, scores, score_targets) -> dict:
        """``{"{group}_{metric}": value}`` per group, each on its own scale."""
        if self.groups.size != scores.size:
            raise ValueError(
                f"EpochMetrics: {self.groups.size} group labels for {scores.size} predicted samples; "
                "groups must label every sample of the (unshuffled, unrepeated) dataset in order"
            )
        figures = {}
        for group in dict.fromkeys(self.groups.tolist()):  # first-seen order
            mask = self.groups == group
            mapping = self.group_denormalize.get(group, self.denormalize)
            predictions, targets = self._mapped(mapping, scores[mask], score_targets[mask])
            values = self._figures(predictions, targets) if mask.sum() >= 2 else dict.fromkeys(METRICS, math.nan)
            figures.update({f"{group}_{name}": value for name, value in values.items()})
        return figures

    def compute(self) -> dict:
        scores, score_targets = self._predict_scores()
        predictions, targets = self._mapped(self.denormalize, scores, score_targets)
        self.last_predictions, self.last_targets = predictions, targets
        figures = self._figures(predictions, targets)
        figures["main"] = figures["srcc"] + figures["plcc"]
        if self.groups is not None:
            figures.update(self._group_figures(scores, score_targets))
        self.last_figures = figures
        return figures

    def on_epoch_end(self, epoch, logs=None):
        figures = self.compute()
        if logs is not None:
            for name, value in figures.items():
                logs[f"{self.prefix}_{name}"] = float(value)
