"""Compute precision of a built model: float32, or bfloat16 arithmetic on float32 weights.

CPUs with AVX512-BF16 (and accelerators) multiply bfloat16 faster than
float32. ``set_precision(model, "bf16")`` gives every layer Keras' ``mixed_bfloat16``
policy (weights stay float32, layers compute in bfloat16) except the model's
output layers, which stay float32 so that scores are not rounded to
bfloat16's 8 significant bits (steps of 0.016 near a score of 3).
``"float32"`` sets every layer back, so a model trained in mixed precision
scores in float32 when asked. Scores move by a few thousandths on the 1-5
scale in bfloat16; ``benchmarks/precision_check.py`` measures both.
"""
from __future__ import annotations

import keras

PRECISIONS = {"float32": "float32", "fp32": "float32", "bf16": "mixed_bfloat16", "mixed_bfloat16": "mixed_bfloat16"}


def policy_name(precision: str) -> str:
    """The Keras dtype policy of a precision name ("float32"/"fp32", "bf16"/"mixed_bfloat16")."""
    try:
        return PRECISIONS[str(precision)]
    except KeyError:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}") from None


def _output_layers(model: keras.Model) -> set[int]:
    ids = set()
    for tensor in model.outputs:
        layer = tensor._keras_history.operation  # the layer that produced each output
        ids.add(id(layer))
    return ids


def computes_in(model: keras.Model, precision: str) -> bool:
    """True when every layer of ``model`` already computes as ``set_precision(model, precision)`` would leave it."""
    policy = policy_name(precision)
    keep_float32 = _output_layers(model)
    return all(layer.dtype_policy.name == ("float32" if id(layer) in keep_float32 else policy)
               for layer in model._flatten_layers(include_self=False, recursive=True)
               if not isinstance(layer, keras.layers.InputLayer))


def set_precision(model: keras.Model, precision: str) -> keras.Model:
    """Sets the compute precision of every layer of ``model`` (nested ones too) in place; returns it."""
    policy = policy_name(precision)
    keep_float32 = _output_layers(model)
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        layer.dtype_policy = "float32" if id(layer) in keep_float32 else policy
    for traced in ("predict_function", "test_function", "train_function"):  # graphs traced in the old precision
        if hasattr(model, traced):
            setattr(model, traced, None)
    return model
