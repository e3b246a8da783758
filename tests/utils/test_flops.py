"""The FLOP counter against hand counts, TensorFlow's own profiler, and the published fr_simple figure."""
import tomllib
from pathlib import Path

import keras
import pytest
import tensorflow as tf

from iqa_keras import build_model
from iqa_keras.layers import ResidualBlock
from iqa_keras.utils.flops import count_flops, flops_by_layer

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def profiler_flops(model, op_types=None) -> int:
    """TensorFlow's profiler count on the graph of the model at batch 1, optionally only some op types."""
    specs = [tf.TensorSpec((1, *tuple(t.shape[1:])), tf.float32) for t in model.inputs]
    function = tf.function(lambda *x: model(list(x) if len(x) > 1 else x[0], training=False))
    graph = function.get_concrete_function(*specs).graph
    builder = tf.compat.v1.profiler.ProfileOptionBuilder
    options = builder(builder.float_operation()).with_empty_output()
    if op_types:
        options = options.with_accounted_types([f"^{t}$" for t in op_types])
    return int(tf.compat.v1.profiler.profile(graph=graph, options=options.build()).total_float_ops)


def test_hand_counts_of_conv_dense_and_depthwise_layers():
    # 8x8x3 -> Conv2D(4, 3x3, stride 2, same) -> 4x4x4: 16 positions x 4 filters x 27 multiply-adds, + 64 biases.
    # -> DepthwiseConv2D(3x3, multiplier 2, valid, no bias) -> 2x2x8: 4 positions x 8 channels x 9 multiply-adds.
    # -> Dense(5) on the rank-4 map: 4 positions x 8 inputs x 5 units multiply-adds, + 20 biases.
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same")(inputs)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False)(x)
    x = keras.layers.Dense(5)(x)
    model = keras.Model(inputs, x)
    expected = [2 * 16 * 4 * 27 + 64, 2 * 4 * 8 * 9, 2 * 4 * 8 * 5 + 20]
    assert [flops for _, _, flops in flops_by_layer(model)] == expected
    assert count_flops(model) == sum(expected)


def test_hand_counts_of_groups_dilation_separable_transpose():
    inputs = keras.Input((10, 10, 4))
    # groups 2: each of 6 filters sees 2 of the 4 channels; dilation 2 with 'valid' leaves 6x6 positions.
    x = keras.layers.Conv2D(6, 3, groups=2, dilation_rate=2, use_bias=False)(inputs)
    # separable: depthwise 3x3 on 6 channels (x1) then pointwise 6 -> 5, at 6x6 ('same') positions.
    x = keras.layers.SeparableConv2D(5, 3, padding="same", use_bias=False)(x)
    # transpose 2x2 stride 2: every one of 36 input positions scatters 2*2*5*3 multiply-adds.
    x = keras.layers.Conv2DTranspose(3, 2, strides=2, use_bias=False)(x)
    model = keras.Model(inputs, x)
    expected = [2 * 36 * 6 * 9 * 2, 2 * 36 * (9 * 6 + 6 * 5), 2 * 36 * 2 * 2 * 5 * 3]
    assert [flops for _, _, flops in flops_by_layer(model)] == expected


def test_conv_lstm_hand_count_and_unrolled_profiler():
    # 3 steps of 6x6x2 -> 4 units, 3x3 kernel, 'same': per step and gate, an input conv (2 channels) and a
    # recurrent conv (4 channels) at 36 positions; 4 gates.
    inputs = keras.Input((3, 6, 6, 2))
    layer = keras.layers.ConvLSTM2D(4, 3, padding="same", use_bias=False, unroll=True)
    model = keras.Model(inputs, layer(inputs))
    expected = 3 * 4 * 2 * 36 * 4 * 9 * (2 + 4)
    assert count_flops(model) == expected
    # Unrolled, every gate convolution is a Conv2D op in the graph, which the profiler counts on its own.
    assert profiler_flops(model, ["Conv2D"]) == expected


def test_nested_models_count_per_call_and_custom_layers_are_entered():
    inner_in = keras.Input((4, 4, 2))
    inner = keras.Model(inner_in, keras.layers.Conv2D(2, 1, use_bias=False)(inner_in), name="inner")
    a, b = keras.Input((4, 4, 2)), keras.Input((4, 4, 2))
    x = keras.layers.Add()([inner(a), inner(b)])
    x = ResidualBlock(name="res")(x)  # two 3x3 'same' convs 2 -> 2 with bias
    model = keras.Model([a, b], x)
    one_by_one = 2 * 16 * 2 * 2
    residual = 2 * (2 * 16 * 2 * 9 * 2 + 16 * 2)
    assert count_flops(model) == 2 * one_by_one + residual
    paths = [path for path, _, _ in flops_by_layer(model)]
    assert paths.count(paths[0]) == 2 and paths[0].endswith("inner/" + inner.layers[-1].name)
    assert any(path.endswith("res/conv1") for path in paths)


def test_matches_tensorflow_profiler_for_fr_simple():
    model = build_model("fr_simple", input_size=64)
    ours = count_flops(model)
    # The profiler's convolutions, matrix products and bias additions are exactly what the counter counts.
    assert profiler_flops(model, ["Conv2D", "MatMul", "BiasAdd", "AddV2"]) == ours
    # Its total also counts max-pooling and the input normalisation / difference-map arithmetic
    # (MaxPool, Sub, RealDiv, Mul), which the counter leaves out: a systematic +0.3% here.
    total = profiler_flops(model)
    assert ours < total < 1.01 * ours


def test_nested_backbone_matches_tensorflow_profiler():
    # The no-reference preset's network: a MobileNetV2 (alpha 0.5) nested as the layer "backbone".
    model = build_model("nima_regression", input_size=96, backbone="MobileNetV2", alpha=0.5, features=128)
    ours = count_flops(model)
    assert profiler_flops(model, ["Conv2D", "DepthwiseConv2dNative", "MatMul"]) == pytest.approx(ours, rel=0.001)
    # Besides, the profiler counts the unfused inference BatchNorm (Mul, AddV2, Rsqrt) and the residual sums,
    # which weigh more next to depthwise convolutions: about +4%.
    assert ours < profiler_flops(model) < 1.06 * ours


def test_fr_simple_model1_at_288_is_1_54_gflop():
    hyper = tomllib.loads((CONFIGS / "fr_simple_model1.toml").read_text())["model"]
    hyper.pop("architecture")
    model = build_model("fr_simple", **hyper)
    assert hyper["input_size"] == 288
    ours = count_flops(model)
    assert ours == pytest.approx(1.54e9, rel=0.05)
    assert profiler_flops(model) == pytest.approx(ours, rel=0.01)


def test_model_without_fixed_input_size_is_refused():
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3)(inputs))
    with pytest.raises(ValueError, match="expected fixed sizes"):
        count_flops(model)
