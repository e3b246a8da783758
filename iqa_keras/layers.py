"""Custom serializable layers shared by the architectures.

Every layer here is registered with Keras so that a model saved as ``.keras``
loads back with nothing but ``import iqa_keras``. No ``Lambda`` layers: a
``Lambda`` does not survive serialization safely.
"""
from __future__ import annotations

import keras
from keras import layers, ops

PACKAGE = "iqa_keras"


@keras.saving.register_keras_serializable(package=PACKAGE)
class Normalize(layers.Layer):
    """Maps uint8-range pixels to [-1, 1]: ``(x - 127.5) / 127.5``.

    Living inside the model means callers feed raw RGB and can never forget
    (or double-apply) the normalisation the weights were trained with.
    """

    def call(self, x):
        x = ops.cast(x, self.compute_dtype)
        return (x - 127.5) / 127.5


@keras.saving.register_keras_serializable(package=PACKAGE)
class AbsDifference(layers.Layer):
    """``|a - b|`` of two feature maps: the FR networks' difference maps."""

    def call(self, inputs):
        a, b = inputs
        return ops.abs(a - b)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@keras.saving.register_keras_serializable(package=PACKAGE)
class TileImage(layers.Layer):
    """Cuts ``(B, H, W, C)`` into a sequence ``(B, N, t, t, C)`` of tiles.

    Tiles do not overlap and come in raster order (rows top to bottom, left to
    right inside a row), the order the ConvLSTM2D of ``fr_tiled`` reads them.
    """

    def __init__(self, tile_size: int, **kwargs):
        super().__init__(**kwargs)
        self.tile_size = int(tile_size)

    def _grid(self, input_shape):
        height, width = input_shape[1], input_shape[2]
        for name, size in (("height", height), ("width", width)):
            if size is not None and size % self.tile_size:
                raise ValueError(
                    f"TileImage: image {name} {size} is not a multiple of "
                    f"tile_size {self.tile_size}"
                )
        return height // self.tile_size, width // self.tile_size

    def build(self, input_shape):
        self._grid(input_shape)
        super().build(input_shape)

    def call(self, x):
        t = self.tile_size
        shape = ops.shape(x)
        rows, cols, channels = shape[1] // t, shape[2] // t, shape[3]
        x = ops.reshape(x, (-1, rows, t, cols, t, channels))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, rows * cols, t, t, channels))

    def compute_output_shape(self, input_shape):
        rows, cols = self._grid(input_shape)
        return (input_shape[0], rows * cols, self.tile_size, self.tile_size, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "tile_size": self.tile_size}


@keras.saving.register_keras_serializable(package=PACKAGE)
class AttentionBlock(layers.Layer):
    """Channel and spatial attention of the seed's attention-residual network.

    ``a = conv3(relu) -> BN -> conv3``; channel gate from the global average of
    ``a``; spatial gate per pixel of ``a``; the output is a 1x1 convolution of
    ``concat[input, a * channel_gate, a * spatial_gate]``.
    """

    def __init__(self, width: int, **kwargs):
        super().__init__(**kwargs)
        self.width = int(width)
        w = self.width
        self.conv_a1 = layers.Conv2D(w, 3, padding="same", activation="relu", name="conv_a1")
        self.bn_a = layers.BatchNormalization(name="bn_a")
        self.conv_a2 = layers.Conv2D(w, 3, padding="same", name="conv_a2")
        self.channel_fc1 = layers.Conv2D(w, 1, activation="relu", name="channel_fc1")
        self.channel_fc2 = layers.Conv2D(w, 1, activation="sigmoid", name="channel_fc2")
        self.spatial_fc1 = layers.Conv2D(w, 1, activation="relu", name="spatial_fc1")
        self.spatial_fc2 = layers.Conv2D(w, 1, activation="sigmoid", name="spatial_fc2")
        self.fuse = layers.Conv2D(w, 1, name="fuse")

    def build(self, input_shape):
        batch, height, width, channels = input_shape
        inner = (batch, height, width, self.width)
        self.conv_a1.build(input_shape)
        self.bn_a.build(inner)
        self.conv_a2.build(inner)
        self.channel_fc1.build((batch, 1, 1, self.width))
        self.channel_fc2.build((batch, 1, 1, self.width))
        self.spatial_fc1.build(inner)
        self.spatial_fc2.build(inner)
        self.fuse.build((batch, height, width, channels + 2 * self.width))
        super().build(input_shape)

    def call(self, x, training=None):
        a = self.conv_a2(self.bn_a(self.conv_a1(x), training=training))
        channel_gate = self.channel_fc2(self.channel_fc1(ops.mean(a, axis=(1, 2), keepdims=True)))
        spatial_gate = self.spatial_fc2(self.spatial_fc1(a))
        return self.fuse(ops.concatenate([x, a * channel_gate, a * spatial_gate], axis=-1))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.width)

    def get_config(self):
        return {**super().get_config(), "width": self.width}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ResidualBlock(layers.Layer):
    """``x + conv3(conv3_relu(x))`` with as many channels as ``x``."""

    def build(self, input_shape):
        channels = input_shape[-1]
        self.conv1 = layers.Conv2D(channels, 3, padding="same", activation="relu", name="conv1")
        self.conv2 = layers.Conv2D(channels, 3, padding="same", name="conv2")
        self.conv1.build(input_shape)
        self.conv2.build(input_shape)
        super().build(input_shape)

    def call(self, x):
        return x + self.conv2(self.conv1(x))

    def compute_output_shape(self, input_shape):
        return input_shape


CUSTOM_LAYERS = (Normalize, AbsDifference, TileImage, AttentionBlock, ResidualBlock)
