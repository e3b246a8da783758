"""Architecture families, and ``build_model``: a registered architecture built by name.

Importing this package registers every builder: the full-reference networks
(``fr/``), NIMA heads, ResNet-18 and the surrogate ranking network.
"""
from __future__ import annotations

import inspect

import keras

from ..model_io import infer_info
from ..registry import ARCHITECTURES
from . import fr, nima, ranking, resnet  # noqa: F401  (registration)


def build_model(name: str, **hyper_parameters) -> keras.Model:
    """Builds architecture ``name`` with the given hyper-parameters.

    Unknown names and unknown hyper-parameters are errors that list what is
    accepted, so a typo in a config never silently falls back to a default.
    The model carries ``model.iqa_info`` (inputs, input size, hyper-parameters).
    """
    builder = ARCHITECTURES.get(name)
    accepted = inspect.signature(builder).parameters
    unknown = sorted(set(hyper_parameters) - set(accepted))
    if unknown:
        raise TypeError(
            f"architecture {name!r} has no hyper-parameter(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(accepted)}"
        )
    model = builder(**hyper_parameters)
    info = infer_info(model)
    info.architecture = name
    info.hyper_parameters = {**default_hyper_parameters(name), **hyper_parameters}
    model.iqa_info = info
    return model


def default_hyper_parameters(name: str) -> dict:
    """The builder's default hyper-parameters, as a plain dict."""
    builder = ARCHITECTURES.get(name)
    return {
        key: param.default
        for key, param in inspect.signature(builder).parameters.items()
        if param.default is not inspect.Parameter.empty
    }
