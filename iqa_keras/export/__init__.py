"""Exporting a trained model to SavedModel, TFLite or ONNX, checked against the Keras model before it is kept.

:func:`export_model` writes the format (:mod:`.writers`), runs the written
file in its own runtime (:mod:`.runners`) on the embedded set's held-out
pairs, compares with the Keras model (:mod:`.parity`), and only then moves
the file into place, with ``PATH.iqa_keras.json`` beside it: the ModelInfo
(score scale and direction, input size), the input convention and the
measured difference. See docs/export.md.
"""
from .parity import TOLERANCES, ParityError, ParityReport, check_parity, validation_inputs
from .runners import run_exported
from .writers import FORMATS, ExportUnsupportedError, export_model, info_path, unsupported_reason

__all__ = [
    "FORMATS",
    "TOLERANCES",
    "ExportUnsupportedError",
    "ParityError",
    "ParityReport",
    "check_parity",
    "export_model",
    "info_path",
    "run_exported",
    "unsupported_reason",
    "validation_inputs",
]
