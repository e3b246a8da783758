"""Building blocks shared by the four full-reference (FR) networks.

The layer-by-layer description lives in ``shared/reference/fr_architectures.md``;
these helpers turn it into Keras 3 functional graphs. The encoder is built as a
sub-model so that one set of weights is applied to the reference and to the
distorted image.
"""
from __future__ import annotations

from typing import Sequence

import keras
from keras import layers

from ...layers import AbsDifference, Normalize, TileImage, legacy_hard_sigmoid

DEFAULT_NFS = (8, 16, 32, 64, 64, 64, 32, 16, 8, 32)
DEFAULT_KSS = (5, 5, 3, 3)
DEFAULT_ALPHA = 0.5
DEFAULT_L2 = (1e-6, 1e-4)
DEFAULT_DENSE_NUM = 32
DEFAULT_DROP_OUT = 0.0
DEFAULT_INPUT_SIZE = 288
# ConvLSTM2D gate activations: Keras 3's default, and the NTIRE 2021 reference's
# (TensorFlow 2.4's ``hard_sigmoid``, clip(0.2 x + 0.5, 0, 1); see ``layers.legacy_hard_sigmoid``).
LSTM_GATES = {"sigmoid": "sigmoid", "hard_sigmoid": legacy_hard_sigmoid}


def check_hyper_parameters(nfs, kss, alpha, l2, dense_num, drop_out, input_size, multiple):
    """Validates the NTIRE 2021 reference's hyper-parameters and returns them normalised.

    ``multiple`` is the factor the input size must be divisible by for the
    encoder's pooling and the decoder's upsampling to line up.
    """
    nfs = tuple(int(n) for n in nfs)
    kss = tuple(int(k) for k in kss)
    if len(nfs) != 10 or min(nfs) < 1:
        raise ValueError(f"nfs must be 10 positive filter counts, got {list(nfs)}")
    if len(kss) != 4 or min(kss) < 1:
        raise ValueError(f"kss must be 4 positive kernel sizes, got {list(kss)}")
    l2 = tuple(float(v) for v in l2)
    if len(l2) != 2 or min(l2) < 0:
        raise ValueError(f"l2 must be [l2_dense, l2_conv] >= 0, got {list(l2)}")
    if not 0.0 <= float(drop_out) < 1.0:
        raise ValueError(f"drop_out must be in [0, 1), got {drop_out}")
    if int(dense_num) < 1:
        raise ValueError(f"dense_num must be positive, got {dense_num}")
    if int(input_size) < multiple or int(input_size) % multiple:
        raise ValueError(f"input_size {input_size} must be a positive multiple of {multiple}")
    return nfs, kss, float(alpha), l2, int(dense_num), float(drop_out), int(input_size)


def conv(filters: int, kernel: int, l2: float, strides: int = 1, activation=None, name=None):
    """A 'same'-padded Conv2D with an optional L2 kernel regulariser."""
    return layers.Conv2D(
        filters,
        kernel,
        strides=strides,
        padding="same",
        activation=activation,
        kernel_regularizer=keras.regularizers.L2(l2) if l2 else None,
        name=name,
    )


def act(x, alpha: float, batch_norm: bool = False, name: str | None = None):
    """LeakyReLU(alpha), followed by BatchNorm in the bn/attention variants."""
    x = layers.LeakyReLU(negative_slope=alpha, name=f"{name}_act" if name else None)(x)
    if batch_norm:
        x = layers.BatchNormalization(name=f"{name}_bn" if name else None)(x)
    return x


def build_encoder(
    input_size: int,
    nfs: Sequence[int],
    kss: Sequence[int],
    alpha: float,
    l2_conv: float,
    batch_norm: bool = False,
    tile_size: int | None = None,
    lstm_units: int | None = None,
    lstm_gate: str = "sigmoid",
) -> keras.Model:
    """The shared encoder: raw uint8-range RGB in, feature maps y1..y4 out.

    With ``tile_size`` the normalised image is cut into a raster sequence of
    tiles and summarised by a ConvLSTM2D before the convolutional stages;
    ``lstm_gate`` names its recurrent (gate) activation (``LSTM_GATES``).
    """
    image = keras.Input((input_size, input_size, 3), name="image")
    x = Normalize(name="normalize")(image)
    if tile_size:
        x = TileImage(tile_size, name="tile")(x)
        x = layers.ConvLSTM2D(
            lstm_units, 5, padding="same", return_sequences=False,
            recurrent_activation=LSTM_GATES[lstm_gate], name="conv_lstm",
        )(x)
    x = conv(3, kss[0], l2_conv, name="e0")(x)
    features = []
    for stage in range(4):
        if stage:
            x = layers.MaxPooling2D(2, name=f"y{stage + 1}_pool")(x)
        x = conv(nfs[stage], kss[stage], l2_conv, name=f"y{stage + 1}_conv")(x)
        x = act(x, alpha, batch_norm, name=f"y{stage + 1}")
        features.append(x)
    return keras.Model(image, features, name="encoder")


def pair_inputs(input_size: int):
    """The two model inputs, reference first, in uint8 range (float dtype)."""
    reference = keras.Input((input_size, input_size, 3), name="reference")
    distorted = keras.Input((input_size, input_size, 3), name="distorted")
    return reference, distorted


def encode_pair(encoder: keras.Model, reference, distorted):
    """Applies the one encoder to both images; returns (dist features, diffs)."""
    ref_features = encoder(reference)
    dist_features = encoder(distorted)
    diffs = [
        AbsDifference(name=f"d{i + 1}")([r, d])
        for i, (r, d) in enumerate(zip(ref_features, dist_features))
    ]
    return dist_features, diffs


def unet_decoder(y4, diffs, nfs, alpha, l2_conv, batch_norm=False, pool_first=True):
    """Decoder steps 1-4: conv -> act -> (upsample) -> concat difference map.

    ``pool_first`` (simple/bn/attention) starts with a max-pool so that every
    step upsamples; the tiled variant starts at y4's own resolution instead.
    """
    x = layers.MaxPooling2D(2, name="dec_pool")(y4) if pool_first else y4
    for step, diff in enumerate(reversed(diffs)):
        x = conv(nfs[4 + step], 3, l2_conv, name=f"dec{step + 1}_conv")(x)
        x = act(x, alpha, batch_norm, name=f"dec{step + 1}")
        if pool_first or step:
            x = layers.UpSampling2D(2, interpolation="nearest", name=f"dec{step + 1}_up")(x)
        x = layers.Concatenate(name=f"dec{step + 1}_concat")([x, diff])
    return x


def strided_convs(x, first_filters, second_filters, alpha, l2_conv, batch_norm=False):
    """Step 5: stride-4 then stride-2 convolutions down to 1/8 resolution."""
    x = conv(first_filters, 3, l2_conv, strides=4, name="down4_conv")(x)
    x = act(x, alpha, batch_norm, name="down4")
    x = conv(second_filters, 3, l2_conv, strides=2, name="down2_conv")(x)
    return act(x, alpha, batch_norm, name="down2")


def regression_head(x, dense_num, drop_out, l2_dense, squash="sigmoid"):
    """Flatten -> dense(relu) -> dropout -> dense(1, squash) -> dense(1, linear)."""
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(
        dense_num,
        activation="relu",
        kernel_regularizer=keras.regularizers.L2(l2_dense) if l2_dense else None,
        name="dense",
    )(x)
    x = layers.Dropout(drop_out, name="dropout")(x)
    x = layers.Dense(1, activation=squash, name=f"dense_{squash}")(x)
    return layers.Dense(1, name="score")(x)
