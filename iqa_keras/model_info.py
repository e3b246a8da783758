"""What a saved model says about itself, so scoring needs nothing but the file.

A ``.keras`` file is a zip archive; ``save_model`` adds one more member,
``iqa_keras.json``, holding a :class:`ModelInfo`. Keras ignores the extra
member when loading, and ``iqa_keras.load_model`` reads it back onto
``model.iqa_info``.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import zipfile
from typing import Any

INFO_MEMBER = "iqa_keras.json"


@dataclasses.dataclass
class ModelInfo:
    """Self-description of a trained IQA model.

    ``score_mean`` / ``score_std`` undo the per-dataset standardisation the
    network was trained with: ``mos = output * score_std + score_mean``.
    ``higher_is_better`` is the direction of that MOS scale (False for DMOS).
    """

    architecture: str = "unknown"
    kind: str = "fr"  # "fr" (reference, distorted) | "nr" (one image) | "nima" (10-bin histogram)
    input_size: int = 288
    score_mean: float = 0.0
    score_std: float = 1.0
    higher_is_better: bool = True
    score_range: list[float] | None = None
    hyper_parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    trained_on: list[str] = dataclasses.field(default_factory=list)
    config_text: str | None = None

    def denormalize(self, outputs):
        """Network outputs -> scores on the training set's MOS scale."""
        return outputs * self.score_std + self.score_mean

    def normalize(self, mos):
        """MOS -> the scale the network is trained on."""
        return (mos - self.score_mean) / self.score_std

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, default=_jsonable)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelInfo":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"{INFO_MEMBER}: unknown key(s) {', '.join(unknown)}")
        return cls(**data)


def _jsonable(value):
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serializable: {value!r}")


def infer_info(model) -> ModelInfo:
    """A ModelInfo from the model alone (for files saved without one)."""
    inputs = model.inputs
    size = inputs[0].shape[1] if inputs and inputs[0].shape[1] is not None else 288
    kind = "fr" if len(inputs) == 2 else "nr"
    if kind == "nr" and model.outputs and model.outputs[0].shape[-1] == 10:
        kind = "nima"
    return ModelInfo(architecture=model.name, kind=kind, input_size=int(size))


def _without_optimizer(model):
    """A functional twin sharing ``model``'s layers but not its optimizer state.

    Scoring needs no optimizer; leaving it out makes a saved model about four
    times smaller. (Resuming a run uses the run's own weight file instead.)
    """
    if getattr(model, "optimizer", None) is None or not getattr(model, "inputs", None):
        return model
    import keras

    return keras.Model(model.inputs, model.outputs, name=model.name)


def save_model(model, path: str | os.PathLike, info: ModelInfo | None = None,
               include_optimizer: bool = False) -> None:
    """Saves ``model`` as ``.keras`` with its ModelInfo, atomically.

    The file is written under a temporary name in the same folder and renamed
    when complete, so an interrupted save never leaves a half-written model.
    """
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"model path must end with .keras: {path}")
    info = info or getattr(model, "iqa_info", None) or infer_info(model)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, tmp = tempfile.mkstemp(suffix=".keras", dir=folder, prefix=".tmp-")
    os.close(handle)
    try:
        (model if include_optimizer else _without_optimizer(model)).save(tmp)
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(INFO_MEMBER, info.to_json())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_info(path: str | os.PathLike) -> ModelInfo | None:
    """The ModelInfo stored in a ``.keras`` file, or None if it has none."""
    with zipfile.ZipFile(os.fspath(path)) as archive:
        if INFO_MEMBER not in archive.namelist():
            return None
        return ModelInfo.from_dict(json.loads(archive.read(INFO_MEMBER)))
