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
def legacy_hard_sigmoid(x):
    """``clip(0.2 x + 0.5, 0, 1)``: the ``hard_sigmoid`` of Keras 2 / TensorFlow 2.4.

    The NTIRE 2021 reference's ConvLSTM2D gated with it (its default
    ``recurrent_activation`` then). Keras 3 renamed the slope: its
    ``hard_sigmoid`` is ``clip(x / 6 + 0.5, 0, 1)``, a different function, so
    reproducing the reference needs this one. Registered, so a model using it
    loads with ``import iqa_keras``.
    """
    return ops.clip(0.2 * x + 0.5, 0.0, 1.0)


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
    """Channel and spatial attention of the NTIRE 2021 reference's attention-residual network.

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


# ImageNet statistics of the keras.applications backbones' preprocessing modes.
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
TORCH_RGB_MEAN = (0.485, 0.456, 0.406)
TORCH_RGB_STD = (0.229, 0.224, 0.225)


@keras.saving.register_keras_serializable(package=PACKAGE)
class BackbonePreprocess(layers.Layer):
    """The input preprocessing a ``keras.applications`` backbone was trained with, inside the model.

    Input: uint8-range RGB floats. ``mode`` is one of "tf", "caffe", "torch",
    "none" (see ``iqa_keras.architectures.nima.BACKBONES``). Living in the model, it saves and loads
    with it, so callers always feed raw RGB.
    """

    MODES = ("tf", "caffe", "torch", "none")

    def __init__(self, mode: str = "tf", **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"BackbonePreprocess: mode must be one of {self.MODES}, got {mode!r}")
        self.mode = mode

    def call(self, x):
        x = ops.cast(x, self.compute_dtype)
        if self.mode == "tf":
            return x / 127.5 - 1.0
        if self.mode == "caffe":
            return ops.flip(x, axis=-1) - ops.convert_to_tensor(CAFFE_BGR_MEAN, dtype=self.compute_dtype)
        if self.mode == "torch":
            mean = ops.convert_to_tensor(TORCH_RGB_MEAN, dtype=self.compute_dtype)
            std = ops.convert_to_tensor(TORCH_RGB_STD, dtype=self.compute_dtype)
            return (x / 255.0 - mean) / std
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package=PACKAGE)
class LocalContrastNormalize(layers.Layer):
    """Divisive normalisation of each colour channel: ``(x - mu) / (sigma + constant)``.

    ``mu`` and ``sigma`` are the local mean and standard deviation over a
    Gaussian window (standard deviation ``sigma_window``, ``radius`` pixels
    either side, borders mirrored as scipy's ``mode="reflect"``). These are the
    MSCN coefficients of BRISQUE (Mittal et al. 2012; window 7 x 7, 7/6,
    constant 1 on the 0-255 scale) and the input normalisation of Kang et al.
    2014's CNN for no-reference IQA: they remove the scene's local brightness
    and contrast, so that a network trained on few scenes sees the statistics
    that distortions change (blur smooths them, noise roughens flat regions)
    rather than the content. Input: uint8-range RGB floats.
    """

    def __init__(self, sigma_window: float = 7.0 / 6.0, radius: int = 3, constant: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if float(sigma_window) <= 0 or int(radius) < 1 or float(constant) <= 0:
            raise ValueError(
                "LocalContrastNormalize: sigma_window and constant must be positive and radius at least 1, got "
                f"sigma_window={sigma_window}, radius={radius}, constant={constant}")
        self.sigma_window, self.radius, self.constant = float(sigma_window), int(radius), float(constant)

    def _kernel(self, channels: int):
        import numpy as np

        offsets = np.arange(-self.radius, self.radius + 1, dtype="float64")
        line = np.exp(-0.5 * (offsets / self.sigma_window) ** 2)
        line /= line.sum()
        window = np.outer(line, line)[:, :, None, None]
        return ops.convert_to_tensor(np.tile(window, (1, 1, channels, 1)), dtype=self.compute_dtype)

    def _blur(self, x, kernel):
        r = self.radius
        padded = ops.pad(x, ((0, 0), (r, r), (r, r), (0, 0)), mode="symmetric")
        return ops.depthwise_conv(padded, kernel, strides=1, padding="valid")

    def call(self, x):
        x = ops.cast(x, self.compute_dtype)
        kernel = self._kernel(x.shape[-1])
        mean = self._blur(x, kernel)
        variance = ops.relu(self._blur(x * x, kernel) - mean * mean)
        return (x - mean) / (ops.sqrt(variance) + self.constant)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "sigma_window": self.sigma_window, "radius": self.radius,
                "constant": self.constant}


@keras.saving.register_keras_serializable(package=PACKAGE)
class StandardizeScores(layers.Layer):
    """``(x - mean(x)) / sqrt(var(x) + epsilon)`` over the last axis, per vector.

    ``epsilon`` keeps a vector of identical scores (variance 0) finite, with
    finite gradients, mapping it to all zeros (all ranks tied); vectors whose
    spread is far below sqrt(epsilon) = 1e-4 are treated as nearly tied.
    """

    def __init__(self, epsilon: float = 1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, x):
        x = ops.cast(x, self.compute_dtype)
        centred = x - ops.mean(x, axis=-1, keepdims=True)
        variance = ops.mean(ops.square(centred), axis=-1, keepdims=True)
        return centred / ops.sqrt(variance + self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
