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
) -> keras.Model:
    """Tiled ConvLSTM2D FR network (288 / 72 gives a 4 x 4 grid of 16 tiles)."""
    tile_size, lstm_units = int(tile_size), int(lstm_units)
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
        input_size, nfs, kss, alpha, l2_conv, tile_size=tile_size, lstm_units=lstm_units
    )
    reference, distorted = pair_inputs(input_size)
    dist_features, diffs = encode_pair(encoder, reference, distorted)
    x = unet_decoder(dist_features[-1], diffs, nfs, alpha, l2_conv, pool_first=False)
    x = strided_convs(x, nfs[8], nfs[9], alpha, l2_conv)
    score = regression_head(x, dense_num, drop_out, l2_dense, squash="sigmoid")
    return keras.Model([reference, distorted], score, name="fr_tiled")
