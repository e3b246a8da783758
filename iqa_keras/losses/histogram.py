"""Losses between 10-bin score histograms (NIMA): EMD, chi-square, moments MSE, and their sum ``nima``.

Histograms are normalised to sum 1 first, so vote counts are accepted as targets.
"""
from __future__ import annotations

import keras
from keras import ops

from ..layers import PACKAGE
from ..registry import LOSSES

from ..metrics.correlation import pearson_r
from ..scales import histogram_moments

EPSILON = 1e-12
PEARSON_EPSILON = 1e-8  # r (and its gradient) finite for a batch of equal means, as in the FR Pearson loss


def _as_distribution(histograms):
    """Histograms (batch, bins) scaled to sum 1 (counts of votes are accepted too)."""
    histograms = ops.cast(histograms, "float32")
    return histograms / (ops.sum(histograms, axis=-1, keepdims=True) + EPSILON)


@LOSSES.register("emd")
@keras.saving.register_keras_serializable(package=PACKAGE)
class EMD(keras.losses.Loss):
    """Earth mover's distance between score histograms: ``(mean_k |CDF_t(k) - CDF_p(k)|^r)^(1/r)`` per sample.

    ``r=2`` is NIMA's training loss, ``r=1`` the "EMD L1" the NIMA reproductions report.
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
    standard deviation, so both terms are in score units. The Keras NIMA
    reproduction used these as regularisers next to EMD.
    """

    def __init__(self, mean_weight: float = 1.0, std_weight: float = 1.0,
                 reduction="sum_over_batch_size", name="moments_mse", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.mean_weight = float(mean_weight)
        self.std_weight = float(std_weight)

    def call(self, y_true, y_pred):
        mean_t, std_t = histogram_moments(ops.cast(y_true, "float32"), EPSILON)
        mean_p, std_p = histogram_moments(ops.cast(y_pred, "float32"), EPSILON)
        return self.mean_weight * ops.square(mean_t - mean_p) + self.std_weight * ops.square(std_t - std_p)

    def get_config(self):
        return {**super().get_config(), "mean_weight": self.mean_weight, "std_weight": self.std_weight}


@LOSSES.register("nima")
@keras.saving.register_keras_serializable(package=PACKAGE)
class NIMALoss(keras.losses.Loss):
    """NIMA's loss: EMD (``r`` = 1 or 2, 2 in the paper) plus ``moments_weight`` x moments MSE plus ``chi_square_weight`` x chi-square.

    ``mean_weight`` / ``std_weight`` weigh the two moments inside the moments term.
    ``pearson_weight`` adds ``pearson_weight * (1 - r)``, r the Pearson
    correlation of the true and predicted mean scores over the batch: the
    regulariser of the Keras NIMA reproduction's AVA "patches" model (a batch
    whose means are all equal gives r = 0, a finite loss).
    """

    def __init__(self, r: int = 2, moments_weight: float = 0.0, chi_square_weight: float = 0.0,
                 mean_weight: float = 1.0, std_weight: float = 1.0, pearson_weight: float = 0.0,
                 reduction="sum_over_batch_size", name="nima", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        if float(moments_weight) < 0 or float(chi_square_weight) < 0 or float(pearson_weight) < 0:
            raise ValueError(f"nima loss: weights must be >= 0, got moments_weight={moments_weight}, "
                             f"chi_square_weight={chi_square_weight}, pearson_weight={pearson_weight}")
        self.r = int(r)
        self.moments_weight = float(moments_weight)
        self.chi_square_weight = float(chi_square_weight)
        self.mean_weight = float(mean_weight)
        self.std_weight = float(std_weight)
        self.pearson_weight = float(pearson_weight)
        self.emd = EMD(r=self.r)
        self.moments = MomentsMSE(mean_weight=self.mean_weight, std_weight=self.std_weight)
        self.chi_square = ChiSquare()

    def call(self, y_true, y_pred):
        loss = self.emd.call(y_true, y_pred)
        if self.moments_weight:
            loss = loss + self.moments_weight * self.moments.call(y_true, y_pred)
        if self.chi_square_weight:
            loss = loss + self.chi_square_weight * self.chi_square.call(y_true, y_pred)
        if self.pearson_weight:
            mean_t, _ = histogram_moments(ops.cast(y_true, "float32"), EPSILON)
            mean_p, _ = histogram_moments(ops.cast(y_pred, "float32"), EPSILON)
            loss = loss + self.pearson_weight * (1.0 - pearson_r(mean_t, mean_p, PEARSON_EPSILON, xp=ops))
        return loss

    def get_config(self):
        return {
            **super().get_config(),
            "r": self.r,
            "moments_weight": self.moments_weight,
            "chi_square_weight": self.chi_square_weight,
            "mean_weight": self.mean_weight,
            "std_weight": self.std_weight,
            "pearson_weight": self.pearson_weight,
        }
