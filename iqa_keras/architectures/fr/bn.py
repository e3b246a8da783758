"""``fr_bn``: the simple FR network with BatchNorm after encoder and decoder activations."""
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
)
from .simple import build_unet_fr


@ARCHITECTURES.register("fr_bn")
def build_fr_bn(
    input_size=DEFAULT_INPUT_SIZE,
    nfs=DEFAULT_NFS,
    kss=DEFAULT_KSS,
    alpha=DEFAULT_ALPHA,
    l2=DEFAULT_L2,
    dense_num=DEFAULT_DENSE_NUM,
    drop_out=DEFAULT_DROP_OUT,
) -> keras.Model:
    """Batch-norm FR network; the strided convolutions stay without BN, as in the NTIRE 2021 reference."""
    return build_unet_fr("fr_bn", True, input_size, nfs, kss, alpha, l2, dense_num, drop_out)
