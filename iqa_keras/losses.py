"""IQA training losses, all ``keras.losses.Loss`` subclasses that save and load with the model.

Registered in ``iqa_keras.LOSSES`` (``iqa_keras.losses.get(name, **kwargs)``):

=====================  ==========================================================
``mse``                mean squared error (Keras' own, under our name)
``pearson``            1 - r over the batch (``squared=True``: 1 - r^2, the seed's)
``surrogate_spearman`` squared rank differences through the frozen ranking network
``fr_loss``            the seed's FR loss: mse_factor MSE + (1 - mse_factor) Pearson
                       + spearman_factor SurrogateSpearman
``emd``                earth mover's distance of 10-bin histograms (r = 1 or 2)
``chi_square``         symmetric chi-square distance of histograms
``moments_mse``        MSE of the histograms' means and standard deviations
=====================  ==========================================================

Batch-level losses (Pearson, SurrogateSpearman, FRLoss) correlate the batch as
a whole; a sample weight, if given, only rescales their value.
"""
from __future__ import annotations

import keras
from keras import ops

from .layers import PACKAGE
from .registry import LOSSES

EPSILON = 1e-12


def get(name: str, **kwargs) -> keras.losses.Loss:
    """The loss registered as ``name``, built with ``kwargs`` (ValueError lists known names)."""
    return LOSSES.get(name)(**kwargs)


def _flat(values):
    return ops.reshape(ops.cast(values, "float32"), (-1,))


def pearson_r(y_true, y_pred, epsilon: float = 1e-8):
    """Pearson r of two flat tensors; 0 (not NaN) when either is constant.

    ``epsilon`` is added to each sum of squares: it keeps r and its gradient
    finite for a constant batch and is negligible once the spread of the
    batch is well above sqrt(epsilon) = 1e-4.
    """
    dt = y_true - ops.mean(y_true)
    dp = y_pred - ops.mean(y_pred)
    covariance = ops.sum(dt * dp)
    norm = ops.sqrt(ops.sum(dt * dt) + epsilon) * ops.sqrt(ops.sum(dp * dp) + epsilon)
    return ops.clip(covariance / norm, -1.0, 1.0)


@LOSSES.register("mse")
@keras.saving.register_keras_serializable(package=PACKAGE)
class MSE(keras.losses.MeanSquaredError):
    """Mean squared error (Keras' ``MeanSquaredError``, registered under ``"mse"``)."""

    def __init__(self, reduction="sum_over_batch_size", name="mse", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


@LOSSES.register("pearson")
@keras.saving.register_keras_serializable(package=PACKAGE)
class Pearson(keras.losses.Loss):
    """``1 - r`` (default) or ``1 - r^2`` (``squared=True``, the seed's) of predictions vs targets over the batch.

    ``1 - r^2`` is also minimised by r = -1, so it suits only models whose sign
    is otherwise pinned (e.g. by an MSE term). For a batch of identical
    predictions or targets r is taken as 0, so the loss is 1 and finite.
    """

    def __init__(self, squared: bool = False, reduction="sum_over_batch_size", name="pearson", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.squared = bool(squared)

    def call(self, y_true, y_pred):
        r = pearson_r(_flat(y_true), _flat(y_pred))
        return 1.0 - (r * r if self.squared else r)

    def get_config(self):
        return {**super().get_config(), "squared": self.squared}


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
class SurrogateSpearman(keras.losses.Loss):
    """Differentiable rank loss: ``mean((R(y) - R(y_pred))^2)`` with R the frozen 16-wide ranking network.

    For two 16-vectors, Spearman's rho = 1 - 6 sum d^2 / (16 (16^2 - 1)), so
    this is ``(1 - rho) * 42.5`` up to the network's error; ``normalize=True``
    divides by 42.5 so the value approximates ``1 - rho`` directly.
    Any batch size >= 2 works: see :func:`rank_groups` for how a batch is cut
    into groups of 16 (overlapping last group; a batch below 16 is padded by
    repeating its members). The value is the mean over all groups.

    ``ranking_network``: a Keras model (batch, 16) -> (batch, 16), or None for
    the shipped pretrained one; ``weights``: a ``.weights.h5`` file for the
    ``ranking16`` architecture instead of the shipped one. Only ``weights``
    travels in the config: a loss built from a model object saves as the
    shipped network (or ``weights``) when reloaded.
    """

    width = 16

    def __init__(self, ranking_network=None, weights=None, normalize: bool = False,
                 reduction="sum_over_batch_size", name="surrogate_spearman", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        if ranking_network is None:
            from .ranking import load_ranking_network

            ranking_network = load_ranking_network(weights)
        ranking_network.trainable = False
        self.ranking_network = ranking_network
        self.ranking_weights = None if weights is None else str(weights)
        self.normalize = bool(normalize)

    def ranks(self, scores):
        """Ranks of (groups, 16) score vectors by the frozen network (inference mode)."""
        return self.ranking_network(scores, training=False)

    def call(self, y_true, y_pred):
        y_true, y_pred = _flat(y_true), _flat(y_pred)
        indices = rank_groups(ops.shape(y_pred)[0], self.width)
        true_ranks = ops.stop_gradient(self.ranks(ops.take(y_true, indices)))
        pred_ranks = self.ranks(ops.take(y_pred, indices))
        loss = ops.mean(ops.square(true_ranks - pred_ranks))
        if self.normalize:
            loss = loss * 6.0 / (self.width * self.width - 1)
        return loss

    def get_config(self):
        return {**super().get_config(), "weights": self.ranking_weights, "normalize": self.normalize}


@LOSSES.register("fr_loss")
@keras.saving.register_keras_serializable(package=PACKAGE)
class FRLoss(keras.losses.Loss):
    """The seed's FR training loss.

    ``mse_factor * MSE + (1 - mse_factor) * Pearson + spearman_factor * SurrogateSpearman``,
    with Pearson ``1 - r`` (or ``1 - r^2`` with ``squared_pearson=True``, as in
    the seed's code). ``spearman_factor=0`` skips the ranking network.
    ``ranking_weights``: a ``.weights.h5`` for the ranking network instead of the shipped one.
    """

    def __init__(self, mse_factor: float = 0.5, spearman_factor: float = 0.1, squared_pearson: bool = False,
                 ranking_weights=None, reduction="sum_over_batch_size", name="fr_loss", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.mse_factor = float(mse_factor)
        self.spearman_factor = float(spearman_factor)
        self.squared_pearson = bool(squared_pearson)
        self.ranking_weights = None if ranking_weights is None else str(ranking_weights)
        self.pearson = Pearson(squared=self.squared_pearson)
        self.spearman = SurrogateSpearman(weights=self.ranking_weights) if self.spearman_factor else None

    def call(self, y_true, y_pred):
        flat_true, flat_pred = _flat(y_true), _flat(y_pred)
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


# ------------------------------------------------------------ histogram losses
def _as_distribution(histograms):
    """Histograms (batch, bins) scaled to sum 1 (counts of votes are accepted too)."""
    histograms = ops.cast(histograms, "float32")
    return histograms / (ops.sum(histograms, axis=-1, keepdims=True) + EPSILON)


def _bin_scores(bins: int):
    return ops.arange(1, bins + 1, dtype="float32")


def histogram_mean_std(histograms):
    """Mean and standard deviation of the score over bins 1..K of (batch, K) histograms."""
    p = _as_distribution(histograms)
    scores = _bin_scores(ops.shape(p)[-1])
    mean = ops.sum(p * scores, axis=-1)
    variance = ops.sum(p * ops.square(scores - mean[:, None]), axis=-1)
    return mean, ops.sqrt(variance + EPSILON)


@LOSSES.register("emd")
@keras.saving.register_keras_serializable(package=PACKAGE)
class EMD(keras.losses.Loss):
    """Earth mover's distance between score histograms: ``(mean_k |CDF_t(k) - CDF_p(k)|^r)^(1/r)`` per sample.

    ``r=2`` is NIMA's training loss, ``r=1`` the "EMD L1" the seeds report.
    Both histograms are normalised to sum 1 first. A tiny constant inside the
    root keeps the gradient finite when prediction and target coincide.
    """

    def __init__(self, r: int = 2, reduction="sum_over_batch_size", name="emd", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        if r not in (1, 2):
            raise ValueError(f"EMD: r must be 1 or 2, got {r!r}")
        self.r = int(r)

    def call(self, y_true, y_pred):
        difference = ops.cumsum(_as_distribution(y_true), axis=-1) - ops.cumsum(_as_distribution(y_pred), axis=-1)
        if self.r == 1:
            return ops.mean(ops.abs(difference), axis=-1)
        return ops.sqrt(ops.mean(ops.square(difference), axis=-1) + EPSILON)

    def get_config(self):
        return {**super().get_config(), "r": self.r}


@LOSSES.register("chi_square")
@keras.saving.register_keras_serializable(package=PACKAGE)
class ChiSquare(keras.losses.Loss):
    """Symmetric chi-square distance ``1/2 sum_k (t_k - p_k)^2 / (t_k + p_k)`` of normalised histograms.

    Bins empty in both histograms contribute 0 (a small constant in the
    denominator), so one-hot targets are fine.
    """

    def __init__(self, reduction="sum_over_batch_size", name="chi_square", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def call(self, y_true, y_pred):
        t, p = _as_distribution(y_true), _as_distribution(y_pred)
        return 0.5 * ops.sum(ops.square(t - p) / (t + p + 1e-7), axis=-1)


@LOSSES.register("moments_mse")
@keras.saving.register_keras_serializable(package=PACKAGE)
class MomentsMSE(keras.losses.Loss):
    """``mean_weight (mu_t - mu_p)^2 + std_weight (sigma_t - sigma_p)^2`` of the histograms' score moments.

    First moment: the mean score over bins 1..K; second: the (central)
    standard deviation, so both terms are in score units. Seed 002 used these
    as regularisers next to EMD.
    """

    def __init__(self, mean_weight: float = 1.0, std_weight: float = 1.0,
                 reduction="sum_over_batch_size", name="moments_mse", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.mean_weight = float(mean_weight)
        self.std_weight = float(std_weight)

    def call(self, y_true, y_pred):
        mean_t, std_t = histogram_mean_std(y_true)
        mean_p, std_p = histogram_mean_std(y_pred)
        return self.mean_weight * ops.square(mean_t - mean_p) + self.std_weight * ops.square(std_t - std_p)

    def get_config(self):
        return {**super().get_config(), "mean_weight": self.mean_weight, "std_weight": self.std_weight}
