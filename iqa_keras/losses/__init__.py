"""IQA training losses, all ``keras.losses.Loss`` subclasses that save and load with the model.

Registered by name (``iqa_keras.losses.get(name, **kwargs)``, config ``[loss] name``):

=====================  ==========================================================
``mse``                mean squared error (Keras' own, under our name)
``pearson``            1 - r over the batch (``squared=True``: 1 - r^2)
``surrogate_spearman`` squared rank differences through the frozen ranking network
``fr_loss``            the NTIRE 2021 FR loss: mse_factor MSE + (1 - mse_factor) Pearson
                       + spearman_factor SurrogateSpearman
``emd``                earth mover's distance of 10-bin histograms (r = 1 or 2)
``chi_square``         symmetric chi-square distance of histograms
``moments_mse``        MSE of the histograms' means and standard deviations
``nima``               EMD + optional moments and chi-square terms (NIMA's loss)
``bias_aware``         per-dataset bias polynomial f_d: (f_d(pred) - y)^2 (+ MSE),
                       f_d estimated by ``iqa_keras.training.bias.BiasUpdater``
=====================  ==========================================================

Every registered loss refuses NaN or infinite targets (see :mod:`.finite`).
"""
from __future__ import annotations

import keras

from ..registry import LOSSES
from .bias_aware import BIAS_FUNCTIONS, BiasAwareLoss, resolve_anchor  # noqa: F401
from .histogram import EMD, ChiSquare, MomentsMSE, NIMALoss  # noqa: F401
from .rank import SurrogateSpearman, rank_groups  # noqa: F401
from .regression import MSE, FRLoss, Pearson  # noqa: F401


from .finite import require_finite_targets  # noqa: E402

for _name in LOSSES:  # NaN or infinite targets are an error, not a silent NaN loss
    require_finite_targets(LOSSES.get(_name))


def get(name: str, **kwargs) -> keras.losses.Loss:
    """The loss registered as ``name``, built with ``kwargs`` (ValueError lists known names)."""
    return LOSSES.get(name)(**kwargs)
