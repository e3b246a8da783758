"""Export: each format reproduces the Keras model on held-out embedded pairs, or is refused with its reason."""
import json

import numpy as np
import pytest

import iqa_keras
from iqa_keras.architectures import build_model
from iqa_keras.cli import main as cli_main
from iqa_keras.export import (TOLERANCES, ExportUnsupportedError, ParityError, export_model, info_path,
                              run_exported, validation_inputs)
from iqa_keras.export.writers import UNSUPPORTED, _write

SIZE = 32
# small variants of every image architecture (ranking16 scores vectors, not images: not an export target)
ARCHITECTURES = {
    "fr_simple": dict(dense_num=8),
    "fr_bn": dict(dense_num=8),
    "fr_attention": dict(dense_num=8),
    "fr_tiled": dict(dense_num=8, tile_size=16, lstm_units=4),
    "nima": dict(alpha=0.35, dropout=0.5),
    "nima_regression": dict(alpha=0.35, dropout=0.5, features=8),
    "resnet18": dict(width=8),
}
OUT = {"saved_model": "model", "tflite": "model.tflite", "onnx": "model.onnx"}


def _model(name):
    import keras

    keras.utils.set_random_seed(0)
    return build_model(name, input_size=SIZE, **ARCHITECTURES[name])


def _check(name, fmt, tmp_path, embedded_cache):
    model = _model(name)
    inputs = validation_inputs(model, 4, cache_dir=embedded_cache, size=48)
    assert all(v.shape == (4, SIZE, SIZE, 3) and 0 <= v.min() and v.max() <= 255 for v in inputs.values())
    description = export_model(model, fmt, tmp_path / OUT[fmt], parity_inputs=inputs)
    ordered = [inputs[t.name] for t in model.inputs]
    expected = model.predict(ordered if len(ordered) > 1 else ordered[0], verbose=0)
    difference = np.max(np.abs(run_exported(tmp_path / OUT[fmt], fmt, inputs) - expected))
    assert difference <= TOLERANCES[fmt], (name, fmt, difference)
    written = json.loads(info_path(tmp_path / OUT[fmt]).read_text())
    assert written == json.loads(json.dumps(description))
    assert written["model_info"]["architecture"] == name and written["parity"]["pairs"] == 4
    assert [i["name"] for i in written["inputs"]] == [t.name for t in model.inputs]
    return difference


def test_fr_simple_exports_a_saved_model_with_parity(tmp_path, embedded_cache):
    _check("fr_simple", "saved_model", tmp_path, embedded_cache)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["saved_model", "tflite", "onnx"])
@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_architecture_exports_with_parity_or_is_refused(name, fmt, tmp_path, embedded_cache):
    if fmt == "onnx":
        pytest.importorskip("tf2onnx", reason="ONNX export needs the export extra: pip install '.[export]'")
        pytest.importorskip("onnxruntime", reason="ONNX parity needs the export extra: pip install '.[export]'")
    if (name, fmt) in UNSUPPORTED:
        with pytest.raises(ExportUnsupportedError, match=f"{name} cannot be exported to {fmt}"):
            export_model(_model(name), fmt, tmp_path / OUT[fmt], parity_count=0)
        return
    _check(name, fmt, tmp_path, embedded_cache)


@pytest.mark.slow
def test_convlstm_really_cannot_become_builtin_tflite(tmp_path):
    """The refusal table is not stale: forcing the conversion fails in the converter itself."""
    assert ("fr_tiled", "tflite") in UNSUPPORTED
    with pytest.raises(ExportUnsupportedError, match="builtin operators cannot express"):
        _write(_model("fr_tiled"), "tflite", str(tmp_path / "tiled.tflite"))


def test_cli_refuses_an_unsupported_format_naming_the_reason(tmp_path, capsys):
    path = tmp_path / "tiled.keras"
    iqa_keras.save_model(_model("fr_tiled"), path)
    assert cli_main(["export", str(path), "--format", "tflite", "--out", str(tmp_path / "t.tflite")]) == 2
    assert "fr_tiled cannot be exported to tflite: its ConvLSTM2D" in capsys.readouterr().err
    assert not list(tmp_path.glob("t.tflite*"))


@pytest.mark.slow
def test_a_failed_parity_check_keeps_nothing(tmp_path, embedded_cache):
    model = _model("fr_simple")
    inputs = validation_inputs(model, 2, cache_dir=embedded_cache, size=48)
    with pytest.raises(ParityError, match="not kept"):
        export_model(model, "saved_model", tmp_path / "model", parity_inputs=inputs, tolerance=-1.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_cli_exports_a_saved_model_file_beside_it_with_its_description(tmp_path, capsys, monkeypatch):
    path = tmp_path / "small.keras"
    model = _model("fr_simple")
    model.iqa_info.score_mean, model.iqa_info.score_std = 3.0, 0.5
    iqa_keras.save_model(model, path)
    assert cli_main(["export", str(path), "--format", "saved_model", "--parity-pairs", "0"]) == 0
    assert "wrote " + str(tmp_path / "small_saved_model") in capsys.readouterr().out
    written = json.loads(info_path(tmp_path / "small_saved_model").read_text())
    assert written["output"] == "(N, 1) standardised score; mos = output * 0.5 + 3"
    assert written["parity"] is None and (tmp_path / "small_saved_model" / "saved_model.pb").is_file()
