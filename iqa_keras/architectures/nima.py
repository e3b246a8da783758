"""NIMA (Talebi & Milanfar 2018): a ``keras.applications`` backbone with a 10-bin score histogram head.

``nima``: image (uint8-range RGB) -> the backbone's own input preprocessing
(a registered layer, :class:`BackbonePreprocess`) -> backbone without its
classifier (a nested model named ``"backbone"``) -> global average pooling
(layer ``"pooled"``) -> Dropout(0.75) -> Dense(10, softmax) (layer
``"histogram"``): the predicted distribution over scores 1..10, whose mean
``sum_i i p_i`` is the quality score.

``nima_regression``: the Keras NIMA reproduction's TID2013 model: the same backbone and pooling,
then Dropout, an extra Dense "features" layer (ReLU) and one linear output.

Backbones are built with random weights, or loaded from a local weights file
the user names (``weights = "/path/to/..._no_top.h5"``); nothing is ever
downloaded, and ``weights = "imagenet"`` is an error that says how to supply
the file. ``normalize = "local_contrast"`` replaces the ImageNet preprocessing
by local contrast normalisation (MSCN; Kang et al. 2014 trained a no-reference
CNN on it), which takes the scene's brightness and contrast out of the input:
a backbone trained from scratch on few photographs then learns the statistics
that distortions change rather than the scenes. ``bn_momentum`` replaces the momentum of the backbone's
BatchNormalization layers: the applications use 0.99-0.999, which needs
thousands of steps before the moving statistics (used at inference) match a
backbone trained from scratch; 0.9 suits short runs on a CPU.
"""
from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from ..layers import BackbonePreprocess, LocalContrastNormalize
from ..registry import ARCHITECTURES

# Backbone name -> (preprocessing mode of its keras.applications module, accepts ``alpha``).
#   "tf": x / 127.5 - 1;  "caffe": RGB -> BGR, minus the ImageNet BGR means;
#   "torch": x / 255, minus the ImageNet RGB means, divided by their stds;
#   "none": the backbone rescales inside itself (EfficientNet, ConvNeXt, MobileNetV3).
BACKBONES = {
    "MobileNet": ("tf", True),
    "MobileNetV2": ("tf", True),
    "MobileNetV3Small": ("none", True),
    "MobileNetV3Large": ("none", True),
    "InceptionResNetV2": ("tf", False),
    "InceptionV3": ("tf", False),
    "Xception": ("tf", False),
    "NASNetMobile": ("tf", False),
    "NASNetLarge": ("tf", False),
    "ResNet50V2": ("tf", False),
    "ResNet101V2": ("tf", False),
    "ResNet152V2": ("tf", False),
    "VGG16": ("caffe", False),
    "VGG19": ("caffe", False),
    "ResNet50": ("caffe", False),
    "ResNet101": ("caffe", False),
    "ResNet152": ("caffe", False),
    "DenseNet121": ("torch", False),
    "DenseNet169": ("torch", False),
    "DenseNet201": ("torch", False),
    **{f"EfficientNetB{i}": ("none", False) for i in range(8)},
    **{f"EfficientNetV2{v}": ("none", False) for v in ("B0", "B1", "B2", "B3", "S", "M", "L")},
    **{f"ConvNeXt{v}": ("none", False) for v in ("Tiny", "Small", "Base", "Large", "XLarge")},
}
MIN_INPUT_SIZE = {"InceptionResNetV2": 75, "InceptionV3": 75, "Xception": 71, "NASNetLarge": 32}
BINS = 10


def imagenet_error(backbone: str) -> str:
    return (
        f"NIMA: weights=\"imagenet\" would download the {backbone} weights, and this package never downloads. "
        f"Download the no-top ImageNet weights file of keras.applications.{backbone} yourself (the "
        f"'*_no_top.h5' file keras.applications would fetch for include_top=False; with keras installed, "
        f"keras.applications.{backbone}(include_top=False, weights='imagenet') run once on a machine with "
        f"internet access leaves it in ~/.keras/models/), then name it in the config: [model] weights = "
        f"\"/path/to/file.h5\" (or leave weights unset for random initial weights)."
    )


def _weights_file(weights, backbone: str) -> str | None:
    if weights is None or str(weights).strip().lower() in ("", "none", "random"):
        return None
    if str(weights).strip().lower() == "imagenet":
        raise ValueError(imagenet_error(backbone))
    path = Path(str(weights)).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"NIMA: backbone weights file not found: {path} (model.weights)")
    return str(path)


def backbone_names() -> list[str]:
    return sorted(BACKBONES)


def build_backbone(backbone: str, input_size: int, alpha: float = 1.0, weights=None,
                   bn_momentum: float | None = None) -> keras.Model:
    """The classifier-less ``keras.applications`` model named ``backbone``, as a model named "backbone"."""
    if backbone not in BACKBONES:
        raise ValueError(f"NIMA: unknown backbone {backbone!r}; known: {', '.join(backbone_names())}")
    input_size = int(input_size)
    minimum = MIN_INPUT_SIZE.get(backbone, 32)
    if input_size < minimum:
        raise ValueError(f"NIMA: {backbone} needs input_size >= {minimum}, got {input_size}")
    _, takes_alpha = BACKBONES[backbone]
    if float(alpha) != 1.0 and not takes_alpha:
        raise ValueError(f"NIMA: backbone {backbone} has no width multiplier alpha (only MobileNet*), got {alpha}")
    path = _weights_file(weights, backbone)
    kwargs = {"alpha": float(alpha)} if takes_alpha else {}
    constructor = getattr(keras.applications, backbone)
    model = constructor(include_top=False, weights=None, input_shape=(input_size, input_size, 3),
                        name="backbone", **kwargs)
    if path is not None:
        try:
            model.load_weights(path)
        except Exception as error:  # noqa: BLE001 - re-raised with the file named
            raise ValueError(
                f"NIMA: {path} does not fit backbone {backbone} (alpha {alpha}, input {input_size}); it must be "
                f"the include_top=False weights of that backbone: {error}"
            ) from None
    if bn_momentum is not None:
        if not 0.0 <= float(bn_momentum) < 1.0:
            raise ValueError(f"NIMA: bn_momentum must be in [0, 1), got {bn_momentum}")
        for layer in model.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.momentum = float(bn_momentum)
    return model


NORMALIZATIONS = ("backbone", "local_contrast")


def _input_layer(backbone: str, normalize: str):
    """The layer between raw RGB and the backbone: its own preprocessing, or local contrast normalisation."""
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"NIMA: normalize must be one of {', '.join(NORMALIZATIONS)}, got {normalize!r}")
    mode = BACKBONES.get(backbone, ("tf", False))[0]
    if normalize == "backbone":
        return BackbonePreprocess(mode, name="preprocess")
    if mode == "none":
        raise ValueError(
            f"NIMA: normalize = \"local_contrast\" needs a backbone without its own input rescaling; {backbone} "
            "rescales its input inside itself")
    return LocalContrastNormalize(name="preprocess")


def _trunk(input_size, backbone, alpha, weights, bn_momentum, dropout, normalize="backbone"):
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"NIMA: dropout must be in [0, 1), got {dropout}")
    image = keras.Input((int(input_size), int(input_size), 3), name="image")
    x = _input_layer(backbone, normalize)(image)
    x = build_backbone(backbone, input_size, alpha, weights, bn_momentum)(x)
    pooled = layers.GlobalAveragePooling2D(name="pooled")(x)
    return image, layers.Dropout(float(dropout), name="dropout")(pooled)


@ARCHITECTURES.register("nima")
def build_nima(input_size=224, backbone="MobileNetV2", alpha=1.0, weights=None, dropout=0.75,
               bn_momentum=None, normalize="backbone") -> keras.Model:
    """NIMA: backbone, global average pooling, Dropout(``dropout``), Dense(10, softmax).

    ``backbone``: a name of :data:`BACKBONES`; ``alpha``: width of MobileNet*;
    ``weights``: None (random) or a local no-top weights file of the backbone;
    ``normalize``: "backbone" (its ImageNet preprocessing) or "local_contrast"
    (:class:`~iqa_keras.layers.LocalContrastNormalize`, for backbones trained from scratch).
    Output (B, 10): the predicted distribution over scores 1..10.
    """
    image, x = _trunk(input_size, backbone, alpha, weights, bn_momentum, dropout, normalize)
    histogram = layers.Dense(BINS, activation="softmax", name="histogram")(x)
    return keras.Model(image, histogram, name="nima")


@ARCHITECTURES.register("nima_regression")
def build_nima_regression(input_size=224, backbone="MobileNetV2", alpha=1.0, weights=None, dropout=0.75,
                          bn_momentum=None, features=256, normalize="backbone") -> keras.Model:
    """The regression variant of the Keras NIMA reproduction: backbone, pooling, Dropout, Dense(``features``, ReLU) "features", Dense(1).

    Output (B, 1): the (standardised) MOS, trained like any no-reference regression.
    """
    if int(features) < 1:
        raise ValueError(f"nima_regression: features must be a positive layer width, got {features}")
    image, x = _trunk(input_size, backbone, alpha, weights, bn_momentum, dropout, normalize)
    x = layers.Dense(int(features), activation="relu", name="features")(x)
    score = layers.Dense(1, name="score")(x)
    return keras.Model(image, score, name="nima_regression")


def feature_layer_name(model: keras.Model) -> str:
    """The layer whose output is the image's feature vector: "features" if present, else "pooled"."""
    names = {layer.name for layer in model.layers}
    for name in ("features", "pooled"):
        if name in names:
            return name
    raise ValueError(f"model {model.name!r} has no 'features' or 'pooled' layer; is it a NIMA model?")
