"""FLOPs of one forward pass, counted from the layers' shapes.

Throughput figures mean little without the work they do: pairs/s times FLOPs
per pair gives the arithmetic rate a path achieves, which can then be put next
to the machine's matrix-multiply rate. This module gives that FLOP count.

What is counted, for ONE sample (batch 1; for a full-reference model one
(reference, distorted) pair, so the shared encoder counts twice):

- multiply-adds count 2 FLOPs (a multiply and an add), every output position
  counts in full (zero padding is not discounted), and a bias adds 1 FLOP per
  output element;
- ``Conv1D/2D/3D`` (strides, groups and dilation enter through the output
  shape and the kernel's shape): ``2 x output positions x kernel size``;
- ``DepthwiseConv*`` alike; ``SeparableConv*``: its depthwise and pointwise
  parts; ``Conv*Transpose``: ``2 x input positions x kernel size``;
- ``Dense`` on an input of any rank: ``2 x leading positions x in x units``;
- ``ConvLSTM1D/2D/3D``: per timestep, the input convolution and the recurrent
  ('same'-padded, stride 1) convolution of each of the four gates, plus the
  gates' bias, as Keras computes them (the first step's convolution of the
  zero initial state included);
- nested models and custom layers that hold sub-layers (a ``keras.applications``
  backbone nested as one layer, ``AttentionBlock``, ``ResidualBlock``) are
  entered, and every call counts: a sub-model applied twice counts twice.

Not counted: activations, BatchNormalization (folded into the preceding
convolution at inference), pooling, upsampling, concatenation, elementwise
arithmetic (the difference maps, residual sums, attention gates), input
normalisation and losses. These are memory-bound and small next to the
convolutions: TensorFlow's profiler, which counts many of them, gives 0.3%
more for ``fr_simple``, 0.7% for ``fr_attention`` and 4% for a MobileNetV2
backbone (unfused BatchNorm and residual sums next to light depthwise
convolutions).

The shapes are taken from one real call of the model on zeros of batch 1,
recording each layer's input and output shapes as it runs; a layer only
enters the count through those shapes and its kernel's shape.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import keras
import numpy as np


def _shape(tensor) -> tuple[int, ...]:
    return tuple(int(d) for d in tensor.shape)


def _positions(shape, data_format) -> int:
    """Spatial positions of a (batch, ..., channels) or (batch, channels, ...) shape, batch included."""
    spatial = shape[:-1] if data_format != "channels_first" else (shape[0], *shape[2:])
    return math.prod(spatial)


def _size(variable) -> int:
    return math.prod(int(d) for d in variable.shape)


def _first_tensor(value):
    while isinstance(value, (list, tuple)):
        value = value[0]
    return value


def _bias_flops(layer, output_shape) -> int:
    return math.prod(output_shape) if getattr(layer, "use_bias", False) else 0


def _conv_lstm_flops(layer, input_shape, output_shape) -> int:
    # Input (batch, time, *spatial, channels); output (batch, [time,] *spatial', units).
    cell = layer.cell
    channels_first = cell.data_format == "channels_first"
    steps = input_shape[1]
    out = output_shape[2:] if layer.return_sequences else output_shape[1:]
    out_spatial = out[1:] if channels_first else out[:-1]
    positions = input_shape[0] * math.prod(out_spatial)
    per_step = 2 * positions * (_size(cell.kernel) + _size(cell.recurrent_kernel))
    if cell.use_bias:
        per_step += positions * 4 * cell.filters
    return steps * per_step


def layer_flops(layer, input_shape, output_shape) -> int | None:
    """FLOPs of one call of ``layer``, or None for a layer whose sub-layers (if any) carry the count."""
    layers = keras.layers
    fmt = getattr(layer, "data_format", "channels_last")
    if isinstance(layer, (layers.ConvLSTM1D, layers.ConvLSTM2D, layers.ConvLSTM3D)):
        return _conv_lstm_flops(layer, input_shape, output_shape)
    if isinstance(layer, (layers.SeparableConv1D, layers.SeparableConv2D)):
        positions = _positions(output_shape, fmt)
        work = _size(layer.depthwise_kernel) + _size(layer.pointwise_kernel)
        return 2 * positions * work + _bias_flops(layer, output_shape)
    if isinstance(layer, (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)):
        return 2 * _positions(input_shape, fmt) * _size(layer.kernel) + _bias_flops(layer, output_shape)
    if isinstance(layer, (layers.DepthwiseConv1D, layers.DepthwiseConv2D)):
        # kernel (*k, in, multiplier): each output position does k x in x multiplier multiply-adds.
        return 2 * _positions(output_shape, fmt) * _size(layer.kernel) + _bias_flops(layer, output_shape)
    if isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Conv3D)):
        # kernel (*k, in / groups, filters): one multiply-add per kernel entry per output position.
        return 2 * _positions(output_shape, fmt) * _size(layer.kernel) + _bias_flops(layer, output_shape)
    if isinstance(layer, layers.Dense):
        return 2 * math.prod(input_shape[:-1]) * _size(layer.kernel) + _bias_flops(layer, output_shape)
    return None


@contextmanager
def _recording(model):
    """Wraps every layer's ``call`` so that each call appends (path, class, FLOPs); restores them after."""
    records: list[tuple[str, str, int]] = []
    depth = {"counted": 0}
    names: list[str] = []  # the calls we are inside, outermost first: the path of a recorded call
    patched = []
    for layer in model._flatten_layers(include_self=True, recursive=True):
        original = layer.call
        owned = "call" in vars(layer)

        def wrapper(*args, layer_=layer, original_=original, **kwargs):
            if depth["counted"]:  # inside a counted layer (the ConvLSTM's cell): already included
                return original_(*args, **kwargs)
            inputs = args[0] if args else kwargs.get("inputs")
            kinds = keras.layers
            counted = isinstance(layer_, (kinds.Conv1D, kinds.Conv2D, kinds.Conv3D, kinds.Dense,
                                           kinds.DepthwiseConv1D, kinds.DepthwiseConv2D,
                                           kinds.SeparableConv1D, kinds.SeparableConv2D,
                                           kinds.Conv1DTranspose, kinds.Conv2DTranspose,
                                           kinds.Conv3DTranspose, kinds.ConvLSTM1D, kinds.ConvLSTM2D,
                                           kinds.ConvLSTM3D))
            depth["counted"] += counted
            names.append(layer_.name)
            try:
                outputs = original_(*args, **kwargs)
            finally:
                depth["counted"] -= counted
                path = "/".join(names)
                names.pop()
            if counted:
                flops = layer_flops(layer_, _shape(_first_tensor(inputs)), _shape(_first_tensor(outputs)))
                records.append((path, type(layer_).__name__, int(flops)))
            return outputs

        object.__setattr__(layer, "call", wrapper)
        patched.append((layer, original, owned))
    try:
        yield records
    finally:
        for layer, original, owned in patched:
            if owned:
                object.__setattr__(layer, "call", original)
            else:
                object.__delattr__(layer, "call")


def _zeros_like_inputs(model):
    inputs = model.inputs
    if not inputs:
        raise ValueError(f"count_flops: model {model.name!r} has no defined inputs; build it as a functional model")
    arrays = []
    for tensor in inputs:
        shape = tuple(tensor.shape[1:])
        if any(d is None for d in shape):
            raise ValueError(
                f"count_flops: input {tensor.name!r} of model {model.name!r} has shape {tuple(tensor.shape)}; "
                "expected fixed sizes apart from the batch (build the model with an input_size)")
        arrays.append(np.zeros((1, *shape), dtype="float32"))
    return arrays if len(arrays) > 1 else arrays[0]


def flops_by_layer(model: keras.Model) -> list[tuple[str, str, int]]:
    """(layer path, layer class, FLOPs) of every counted layer call in one forward pass of one sample."""
    inputs = _zeros_like_inputs(model)
    with _recording(model) as records:
        model(inputs, training=False)
    return list(records)


def count_flops(model: keras.Model) -> int:
    """FLOPs of one forward pass of one sample (batch 1); see the module docstring for what counts."""
    return sum(flops for _, _, flops in flops_by_layer(model))
