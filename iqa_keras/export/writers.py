"""Writing SavedModel, TFLite and ONNX files from a Keras model, with its description beside them.

SavedModel and ONNX come from ``model.export``; TFLite from TensorFlow's
converter restricted to TFLite's builtin operators, so the file runs in any
TFLite runtime (no Flex delegate). A file is written under a temporary name,
checked for parity, and only then renamed into place; an architecture that
cannot be expressed in a format is refused with the reason.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..model_io import load_model
from ..utils.atomic import TEMPORARY_PREFIX, atomic_path, atomic_write_text
from ..version import __version__

FORMATS = ("saved_model", "tflite", "onnx")
SUFFIXES = {"saved_model": "", "tflite": ".tflite", "onnx": ".onnx"}
# (architecture, format) -> why it cannot be exported; checked before any work
UNSUPPORTED = {
    ("fr_tiled", "tflite"): (
        "its ConvLSTM2D layer becomes a TensorFlow while-loop over tensor lists, which TFLite's builtin "
        "operators cannot express (the converter would need the Flex delegate's TensorFlow ops, which "
        "the TFLite runtime does not have); export it as saved_model or onnx"
    ),
}
INPUT_CONVENTION = "float32 RGB pixels in 0..255, shape (N, S, S, 3); no other preprocessing"


class ExportUnsupportedError(ValueError):
    """An architecture that cannot be exported to the format asked for."""


def unsupported_reason(architecture: str, fmt: str) -> str | None:
    return UNSUPPORTED.get((architecture, fmt))


def info_path(out: str | os.PathLike) -> Path:
    """Where the description of an export goes: ``PATH.iqa_keras.json`` beside it."""
    return Path(os.fspath(out) + ".iqa_keras.json")


def _write(model, fmt: str, target: str) -> None:
    if fmt == "saved_model":
        model.export(target, format="tf_saved_model", verbose=False)
    elif fmt == "onnx":
        try:
            model.export(target, format="onnx", verbose=False)
        except ImportError as error:
            raise ImportError(f"ONNX export needs tf2onnx: pip install 'iqa_keras[export]' ({error})") from None
    else:
        import tensorflow as tf

        try:
            model.export(target, format="litert", verbose=False,
                         target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]})
        except Exception as error:  # noqa: BLE001 - the converter raises its own error types
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ExportUnsupportedError(f"{model.name}: TFLite's builtin operators cannot express this model "
                                         f"({first})") from None


def _describe(model, fmt: str, out: Path, source: str, parity) -> dict:
    info = model.iqa_info
    histogram = info.kind == "nima"
    return {
        "format": fmt,
        "file": out.name,
        "source": source,
        "inputs": [{"name": t.name, "shape": [None, *t.shape[1:]], "dtype": "float32"} for t in model.inputs],
        "input_convention": INPUT_CONVENTION,
        "output": ("(N, 10) probabilities of the scores 1..10 (NIMA); the score is their mean" if histogram else
                   f"(N, 1) standardised score; mos = output * {info.score_std:g} + {info.score_mean:g}"),
        "higher_is_better": info.higher_is_better,
        "model_info": dataclasses.asdict(info),
        "parity": parity.to_dict() if parity is not None else None,
        "exported_by": f"iqa_keras {__version__}",
    }


def _call_once(model, inputs) -> None:
    """Runs the model once: the ONNX exporter needs a model that has been called (a loaded one has not)."""
    import numpy as np

    from .parity import keras_outputs

    if inputs is None:
        inputs = {t.name: np.zeros((1, *t.shape[1:]), np.float32) for t in model.inputs}
    keras_outputs(model, inputs)


def _place_directory(temporary: Path, out: Path) -> None:
    """Moves a finished SavedModel folder onto ``out`` (replacing an earlier SavedModel, nothing else)."""
    if out.exists():
        if not (out / "saved_model.pb").is_file():
            raise FileExistsError(f"{out} exists and is not a SavedModel folder; choose another --out")
        shutil.rmtree(out)
    os.replace(temporary, out)


def export_model(model, fmt: str, out: str | os.PathLike, parity_inputs=None, parity_count: int = 8,
                 cache_dir=None, tolerance: float | None = None):
    """Exports ``model`` (a Keras model or a ``.keras`` path) to ``out``; returns the description written beside it.

    Parity is checked on ``parity_inputs`` (input name -> pixels) or on
    ``parity_count`` held-out embedded pairs (0: not checked) before the file
    is moved into place; a failed check leaves nothing behind.
    """
    from .parity import check_parity, validation_inputs

    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    source = os.fspath(model) if isinstance(model, (str, os.PathLike)) else model.name
    if isinstance(model, (str, os.PathLike)):
        model = load_model(model)
    architecture = model.iqa_info.architecture
    reason = unsupported_reason(architecture, fmt)
    if reason:
        raise ExportUnsupportedError(f"{architecture} cannot be exported to {fmt}: {reason}")
    out = Path(out)
    if fmt != "saved_model" and out.suffix != SUFFIXES[fmt]:
        raise ValueError(f"--out for {fmt} must end with {SUFFIXES[fmt]}: {out}")
    if parity_inputs is None and parity_count > 0:
        parity_inputs = validation_inputs(model, parity_count, cache_dir=cache_dir)
    _call_once(model, parity_inputs)
    out.parent.mkdir(parents=True, exist_ok=True)
    parity = None
    if fmt == "saved_model":
        workdir = Path(tempfile.mkdtemp(prefix=TEMPORARY_PREFIX, dir=out.parent))
        try:
            temporary = workdir / out.name
            _write(model, fmt, str(temporary))
            if parity_inputs is not None:
                parity = check_parity(model, temporary, fmt, parity_inputs, tolerance)
            _place_directory(temporary, out)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    else:
        with atomic_path(out) as temporary:
            temporary.unlink()  # the writers create the file themselves
            _write(model, fmt, str(temporary))
            if parity_inputs is not None:
                parity = check_parity(model, temporary, fmt, parity_inputs, tolerance)
    description = _describe(model, fmt, out, source, parity)
    atomic_write_text(info_path(out), json.dumps(description, indent=2, default=str) + "\n")
    return description
