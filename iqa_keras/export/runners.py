"""Running an exported file in the runtime its users would use: TensorFlow, the TFLite interpreter, onnxruntime.

Inputs are fed by name (``reference``/``distorted`` or ``image``): float32
RGB pixels in 0..255, ``(N, S, S, 3)``; the result is the network's raw
output ``(N, ...)``, before the ModelInfo's de-normalisation.
"""
from __future__ import annotations

import os
import warnings

import numpy as np


def run_exported(path: str | os.PathLike, fmt: str, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The exported model's output for ``inputs`` (input name -> array)."""
    runner = {"saved_model": _run_saved_model, "tflite": _run_tflite, "onnx": _run_onnx}.get(fmt)
    if runner is None:
        raise ValueError(f"unknown export format {fmt!r}")
    return np.asarray(runner(os.fspath(path), {k: np.asarray(v, np.float32) for k, v in inputs.items()}))


def _run_saved_model(path, inputs):
    import tensorflow as tf

    serve = tf.saved_model.load(path).signatures["serving_default"]
    outputs = serve(**{name: tf.constant(value) for name, value in inputs.items()})
    return next(iter(outputs.values())).numpy()


def _input_name(tensor_name: str) -> str:
    """``serving_default_reference:0`` -> ``reference``."""
    return tensor_name.split(":")[0].removeprefix("serving_default_")


def tflite_interpreter(path: str):
    """TensorFlow's TFLite interpreter without its default XNNPACK delegate.

    With the delegate, TensorFlow 2.21 miscomputes the FR networks' 3 x 3
    convolution with stride 4 (``down4_conv``): the output no longer depends on
    the input. The reference kernels compute it correctly (docs/export.md).
    """
    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's notice that it moves to ai_edge_litert
        return tf.lite.Interpreter(
            model_path=path,
            experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)


def _run_tflite(path, inputs):
    interpreter = tflite_interpreter(path)
    details = interpreter.get_input_details()
    for detail in details:
        interpreter.resize_tensor_input(detail["index"], inputs[_input_name(detail["name"])].shape)
    interpreter.allocate_tensors()
    for detail in details:
        interpreter.set_tensor(detail["index"], inputs[_input_name(detail["name"])])
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def _run_onnx(path, inputs):
    try:
        import onnxruntime
    except ImportError:
        raise ImportError("running an ONNX export needs onnxruntime: pip install 'iqa_keras[export]'") from None
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {i.name: inputs[i.name] for i in session.get_inputs()})[0]
