"""``ranking16``: the 16-wide surrogate ranking network of the NTIRE 2021 reference's Spearman loss.

A vector of 16 scores goes in, an estimate of their 16 ranks (1..16, ties
averaged) comes out. The network is differentiable, which is the point: a
loss can compare the ranks of predictions and targets through it.

Layer for layer as in the reference (Conv1D 8/16/32/64/96/128/256 with kernels
2/3/5/7/10/7/7, 'same' padding, PReLU, BatchNorm after the 2nd, 3rd, 4th, 6th
and 7th convolution, then Flatten and Dense(16)): 471,864 parameters, 470,872
trainable. One parameter-free layer is added in front when
``standardize_input=True`` (the default, and what the shipped weights use):
each vector is shifted to mean 0 and scaled to standard deviation 1. Ranks do
not change under such a map, so the network then sees the same kind of input
whether the scores are N(0, 1), U(-10, 10) or sigmoid outputs in [0.45, 0.55].
"""
from __future__ import annotations

import keras
from keras import layers

from ..layers import StandardizeScores
from ..registry import ARCHITECTURES

RANK_WIDTH = 16

# (filters, kernel size, batch norm) for each Conv1D, as in the reference table.
CONV_STACK = (
    (8, 2, False),
    (16, 3, True),
    (32, 5, True),
    (64, 7, True),
    (96, 10, False),
    (128, 7, True),
    (256, 7, True),
)


@ARCHITECTURES.register("ranking16")
def build_ranking16(standardize_input: bool = True) -> keras.Model:
    """The surrogate ranking network: (batch, 16) scores -> (batch, 16) ranks."""
    scores = keras.Input(shape=(RANK_WIDTH,), name="scores")
    x = StandardizeScores(name="standardize")(scores) if standardize_input else scores
    x = layers.Reshape((RANK_WIDTH, 1), name="as_sequence")(x)
    for index, (filters, kernel, batch_norm) in enumerate(CONV_STACK, start=1):
        x = layers.Conv1D(filters, kernel, padding="same", name=f"conv{index}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"bn{index}")(x)
        x = layers.PReLU(name=f"prelu{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    ranks = layers.Dense(RANK_WIDTH, name="ranks")(x)
    return keras.Model(scores, ranks, name="ranking16")
