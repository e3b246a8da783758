"""The NIMA training loss: EMD of the histograms plus optional regularisers (registered as ``"nima"``).

``loss = EMD_r + moments_weight * MomentsMSE + chi_square_weight * ChiSquare``

EMD with r = 2 is NIMA's loss; seed 002 added the MSE of the histograms'
first and second moments and tried chi-square. With both weights 0 (the
default) this is plain ``emd``. The terms are the classes of
``iqa_keras.losses``.
"""
from __future__ import annotations

import keras

from .layers import PACKAGE
from .losses import EMD, ChiSquare, MomentsMSE
from .registry import LOSSES


@LOSSES.register("nima")
@keras.saving.register_keras_serializable(package=PACKAGE)
class NIMALoss(keras.losses.Loss):
    """EMD (``r`` = 1 or 2) plus ``moments_weight`` x moments MSE plus ``chi_square_weight`` x chi-square.

    ``mean_weight`` / ``std_weight`` weigh the two moments inside the moments term.
    """

    def __init__(self, r: int = 2, moments_weight: float = 0.0, chi_square_weight: float = 0.0,
                 mean_weight: float = 1.0, std_weight: float = 1.0,
                 reduction="sum_over_batch_size", name="nima", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        if float(moments_weight) < 0 or float(chi_square_weight) < 0:
            raise ValueError(f"nima loss: weights must be >= 0, got moments_weight={moments_weight}, "
                             f"chi_square_weight={chi_square_weight}")
        self.r = int(r)
        self.moments_weight = float(moments_weight)
        self.chi_square_weight = float(chi_square_weight)
        self.mean_weight = float(mean_weight)
        self.std_weight = float(std_weight)
        self.emd = EMD(r=self.r)
        self.moments = MomentsMSE(mean_weight=self.mean_weight, std_weight=self.std_weight)
        self.chi_square = ChiSquare()

    def call(self, y_true, y_pred):
        loss = self.emd.call(y_true, y_pred)
        if self.moments_weight:
            loss = loss + self.moments_weight * self.moments.call(y_true, y_pred)
        if self.chi_square_weight:
            loss = loss + self.chi_square_weight * self.chi_square.call(y_true, y_pred)
        return loss

    def get_config(self):
        return {
            **super().get_config(),
            "r": self.r,
            "moments_weight": self.moments_weight,
            "chi_square_weight": self.chi_square_weight,
            "mean_weight": self.mean_weight,
            "std_weight": self.std_weight,
        }
