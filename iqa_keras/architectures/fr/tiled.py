"""``fr_tiled``: tiles each image, summarises the tile sequence with a ConvLSTM2D,
then runs the simple encoder/decoder at tile resolution."""
from __future__ import annotations

import keras

from ...registry import ARCHITECTURES
from .common import (
    DEFAULT_ALPHA,
    DEFAULT_DENSE_NUM,
    DEFAULT_DROP_OUT,
    DEFAULT_INPUT_SIZE,
    DEFAULT_KSS,
    DEFAULT_L2,
    DEFAULT_NFS,
    LSTM_GATES,
    build_encoder,
    check_hyper_parameters,
    encode_pair,
    pair_inputs,
    regression_head,
    strided_convs,
    unet_decoder,
)


@ARCHITECTURES.register("fr_tiled")
def build_fr_tiled(
    input_size=DEFAULT_INPUT_SIZE,
    nfs=DEFAULT_NFS,
    kss=DEFAULT_KSS,
    alpha=DEFAULT_ALPHA,
    l2=DEFAULT_L2,
    dense_num=DEFAULT_DENSE_NUM,
    drop_out=DEFAULT_DROP_OUT,
    tile_size=72,
    lstm_units=32,
    lstm_gate="sigmoid",
) -> keras.Model:
    """Tiled ConvLSTM2D FR network (288 / 72 gives a 4 x 4 grid of 16 tiles).

    ``lstm_gate``: the ConvLSTM2D's recurrent (gate) activation, "sigmoid"
    (Keras 3's default) or "hard_sigmoid", TensorFlow 2.4's clip(0.2 x + 0.5, 0, 1),
    which the NTIRE 2021 reference trained with. Both have the same weights
    (the parameter count does not change), but they give different outputs,
    so weights trained under one gate should be used under the same gate.
    """
    tile_size, lstm_units = int(tile_size), int(lstm_units)
    if lstm_gate not in LSTM_GATES:
        raise ValueError(f"lstm_gate must be one of {', '.join(LSTM_GATES)}, got {lstm_gate!r}")
    if tile_size < 8 or tile_size % 8:
        raise ValueError(f"tile_size {tile_size} must be a positive multiple of 8")
    if int(input_size) % tile_size:
        raise ValueError(
            f"input_size {input_size} is not divisible by tile_size {tile_size}"
        )
    if lstm_units < 1:
        raise ValueError(f"lstm_units must be positive, got {lstm_units}")
    nfs, kss, alpha, l2, dense_num, drop_out, input_size = check_hyper_parameters(
        nfs, kss, alpha, l2, dense_num, drop_out, input_size, multiple=tile_size
    )
    l2_dense, l2_conv = l2
    encoder = build_encoder(
        input_size, nfs, kss, alpha, l2_conv, tile_size=tile_size, lstm_units=lstm_units, lstm_gate=lstm_gate
    )
    reference, distorted = pair_inputs(input_size)
    dist_features, diffs = encode_pair(encoder, reference, distorted)
    x = unet_decoder(dist_features[-1], diffs, nfs, alpha, l2_conv, pool_first=False)
    x = strided_convs(x, nfs[8], nfs[9], alpha, l2_conv)
    score = regression_head(x, dense_num, drop_out, l2_dense, squash="sigmoid")
    return keras.Model([reference, distorted], score, name="fr_tiled")
