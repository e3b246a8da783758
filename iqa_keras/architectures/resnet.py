"""``resnet18``: a ResNet-18 for no-reference quality regression, trained from scratch.

The bias-aware loss paper (Mittag et al., QoMEX 2021) trains this network on blurred images. Layout as in
He et al. (2016): a 7x7/2 convolution and a 3x3/2 max pooling, four stages of
two basic blocks (two 3x3 convolutions with BatchNorm, identity shortcut, or
a 1x1/2 convolution with BatchNorm where the shape changes) with ``width``,
2·``width``, 4·``width`` and 8·``width`` channels, global average pooling and
one linear output. ``width=64`` is the standard network (11,177,025 trainable
parameters with the single output); a smaller width makes the same topology
affordable on a CPU (``width=16``: 1/16 of the multiply-adds).

Input: one uint8-range RGB image (B, S, S, 3); output: (B, 1) quality score.
No pretrained weights: nothing is downloaded.
"""
from __future__ import annotations

import keras
from keras import layers

from ..layers import BackbonePreprocess, Normalize
from ..registry import ARCHITECTURES

STAGE_BLOCKS = (2, 2, 2, 2)
# Input normalisations: to [-1, 1] (the package's default), or torchvision's ImageNet
# statistics ((x / 255 - mean) / std per channel), which the bias-aware loss paper's code used.
INPUT_NORMALIZATIONS = ("symmetric", "imagenet")


def _conv_bn(x, filters: int, kernel: int, strides: int, name: str, l2: float, relu: bool = True):
    regularizer = keras.regularizers.L2(l2) if l2 else None
    x = layers.Conv2D(
        filters, kernel, strides=strides, padding="same", use_bias=False,
        kernel_initializer="he_normal", kernel_regularizer=regularizer, name=f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def _basic_block(x, filters: int, strides: int, name: str, l2: float):
    """Two 3x3 convolutions plus the (projected where needed) input."""
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, strides, f"{name}_down", l2, relu=False)
    y = _conv_bn(x, filters, 3, strides, f"{name}_a", l2)
    y = _conv_bn(y, filters, 3, 1, f"{name}_b", l2, relu=False)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(y)


@ARCHITECTURES.register("resnet18")
def build_resnet18(input_size=224, width=64, l2=0.0, drop_out=0.0, input_normalization="symmetric") -> keras.Model:
    """ResNet-18 regression network (no-reference, one image in, one score out).

    ``input_size``: side of the square crops (at least 32, any size: the
    pooling is global). ``width``: channels of the first stage (64 = standard).
    ``l2``: L2 weight decay on the convolution kernels. ``drop_out``: dropout
    before the output layer. ``input_normalization``: "symmetric" ((x - 127.5) /
    127.5) or "imagenet" (per-channel ImageNet mean and std after scaling to
    [0, 1]); it lives in the model, so callers always feed raw RGB.
    """
    input_size, width = int(input_size), int(width)
    if input_size < 32:
        raise ValueError(f"resnet18: input_size must be at least 32, got {input_size}")
    if width < 1:
        raise ValueError(f"resnet18: width must be a positive channel count, got {width}")
    if not 0.0 <= float(drop_out) < 1.0:
        raise ValueError(f"resnet18: drop_out must be in [0, 1), got {drop_out}")
    if input_normalization not in INPUT_NORMALIZATIONS:
        raise ValueError(f"resnet18: input_normalization must be one of {INPUT_NORMALIZATIONS}, "
                         f"got {input_normalization!r}")
    image = keras.Input((input_size, input_size, 3), name="image")
    if input_normalization == "imagenet":
        x = BackbonePreprocess("torch", name="normalize")(image)
    else:
        x = Normalize(name="normalize")(image)
    x = _conv_bn(x, width, 7, 2, "stem", l2)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage, blocks in enumerate(STAGE_BLOCKS):
        filters = width * 2**stage
        for block in range(blocks):
            strides = 2 if stage > 0 and block == 0 else 1
            x = _basic_block(x, filters, strides, f"stage{stage + 1}_block{block + 1}", l2)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    if drop_out:
        x = layers.Dropout(float(drop_out), name="drop_out")(x)
    score = layers.Dense(1, name="score")(x)
    return keras.Model(image, score, name="resnet18")
