"""``fr_simple``: the NTIRE 2021 reference's basic FR network (shared encoder, U-Net-like decoder).

Also provides the body that ``fr_bn`` reuses with BatchNorm switched on.
"""
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


def build_unet_fr(
    name: str,
    batch_norm: bool,
    input_size=DEFAULT_INPUT_SIZE,
    nfs=DEFAULT_NFS,
    kss=DEFAULT_KSS,
    alpha=DEFAULT_ALPHA,
    l2=DEFAULT_L2,
    dense_num=DEFAULT_DENSE_NUM,
    drop_out=DEFAULT_DROP_OUT,
) -> keras.Model:
    """The simple network; ``batch_norm`` adds BN after the marked activations."""
    nfs, kss, alpha, l2, dense_num, drop_out, input_size = check_hyper_parameters(
        nfs, kss, alpha, l2, dense_num, drop_out, input_size, multiple=16
    )
    l2_dense, l2_conv = l2
    encoder = build_encoder(input_size, nfs, kss, alpha, l2_conv, batch_norm=batch_norm)
    reference, distorted = pair_inputs(input_size)
    dist_features, diffs = encode_pair(encoder, reference, distorted)
    x = unet_decoder(dist_features[-1], diffs, nfs, alpha, l2_conv, batch_norm=batch_norm)
    x = strided_convs(x, nfs[8], nfs[9], alpha, l2_conv)
    score = regression_head(x, dense_num, drop_out, l2_dense, squash="sigmoid")
    return keras.Model([reference, distorted], score, name=name)


@ARCHITECTURES.register("fr_simple")
def build_fr_simple(
    input_size=DEFAULT_INPUT_SIZE,
    nfs=DEFAULT_NFS,
    kss=DEFAULT_KSS,
    alpha=DEFAULT_ALPHA,
    l2=DEFAULT_L2,
    dense_num=DEFAULT_DENSE_NUM,
    drop_out=DEFAULT_DROP_OUT,
) -> keras.Model:
    """Basic FR network of the NTIRE 2021 reference implementation (1.5 M parameters at defaults)."""
    return build_unet_fr("fr_simple", False, input_size, nfs, kss, alpha, l2, dense_num, drop_out)
