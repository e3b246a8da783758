"""Build a registered architecture by name, and load a saved ``.keras`` model."""
from __future__ import annotations

import inspect
import os

import keras

from . import architectures  # noqa: F401  (registers the builders)
from . import layers  # noqa: F401  (registers the custom layers for loading)
from .model_info import ModelInfo, infer_info, read_info
from .registry import ARCHITECTURES


def build_model(name: str, **hyper_parameters) -> keras.Model:
    """Builds architecture ``name`` with the given hyper-parameters.

    Unknown names and unknown hyper-parameters are errors that list what is
    accepted, so a typo in a config never silently falls back to a default.
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


def load_model(path: str | os.PathLike, compile: bool = False) -> keras.Model:
    """Loads a ``.keras`` file written by this package (or any Keras 3 model).

    The returned model carries ``model.iqa_info`` (a :class:`ModelInfo`): read
    from the file when it was saved with ``iqa_keras.save_model``, inferred
    from the model's inputs otherwise.
    ``compile=False`` by default: scoring needs no optimizer state, and a
    training run restores its own optimizer when it resumes.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file not found: {path}")
    model = keras.saving.load_model(path, compile=compile)
    model.iqa_info = read_info(path) or infer_info(model)
    return model
