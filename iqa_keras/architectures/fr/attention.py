"""``fr_attention``: bn encoder/decoder, attention block and residual blocks before the head."""
from __future__ import annotations

import keras

from ...layers import AttentionBlock, ResidualBlock
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


@ARCHITECTURES.register("fr_attention")
def build_fr_attention(
    input_size=DEFAULT_INPUT_SIZE,
    nfs=DEFAULT_NFS,
    kss=DEFAULT_KSS,
    alpha=DEFAULT_ALPHA,
    l2=DEFAULT_L2,
    dense_num=DEFAULT_DENSE_NUM,
    drop_out=DEFAULT_DROP_OUT,
    num_resblocks=3,
    attention_flag=True,
) -> keras.Model:
    """Attention-residual FR network. ``nfs[8]`` is the attention width; the
    two strided convolutions both use ``nfs[9]`` filters, as in the NTIRE 2021 reference."""
    nfs, kss, alpha, l2, dense_num, drop_out, input_size = check_hyper_parameters(
        nfs, kss, alpha, l2, dense_num, drop_out, input_size, multiple=16
    )
    if int(num_resblocks) < 0:
        raise ValueError(f"num_resblocks must be >= 0, got {num_resblocks}")
    l2_dense, l2_conv = l2
    encoder = build_encoder(input_size, nfs, kss, alpha, l2_conv, batch_norm=True)
    reference, distorted = pair_inputs(input_size)
    dist_features, diffs = encode_pair(encoder, reference, distorted)
    x = unet_decoder(dist_features[-1], diffs, nfs, alpha, l2_conv, batch_norm=True)
    x = strided_convs(x, nfs[9], nfs[9], alpha, l2_conv, batch_norm=True)
    if attention_flag:
        x = AttentionBlock(nfs[8], name="attention")(x)
    for block in range(int(num_resblocks)):
        x = ResidualBlock(name=f"resblock{block + 1}")(x)
    score = regression_head(x, dense_num, drop_out, l2_dense, squash="tanh")
    return keras.Model([reference, distorted], score, name="fr_attention")
