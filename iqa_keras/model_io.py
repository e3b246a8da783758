"""Saving and loading ``.keras`` models that describe themselves, so scoring needs nothing but the file.

A ``.keras`` file is a zip archive; :func:`save_model` adds one more member,
``iqa_keras.json``, holding a :class:`ModelInfo` (inputs, input size, score
scale and direction, the config it was trained from). Keras ignores the extra
member when loading, and :func:`load_model` reads it back onto
``model.iqa_info``. Every custom layer lives in :mod:`iqa_keras.layers`, so
loading needs no other module of the package.
"""
from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from typing import Any

from . import layers  # noqa: F401  (registers the custom layers for loading)
from .scales import denormalise
from .utils.atomic import atomic_path

INFO_MEMBER = "iqa_keras.json"


class ModelFileError(ValueError):
    """A model file exists but is not a loadable ``.keras`` archive (truncated, corrupt, another format)."""


@dataclasses.dataclass
class ModelInfo:
    """Self-description of a trained IQA model.

    ``score_mean`` / ``score_std`` undo the per-dataset standardisation the
    network was trained with: ``mos = output * score_std + score_mean``.
    ``higher_is_better`` is the direction of that MOS scale (False for DMOS).
    ``description``, ``label_source`` and ``checks`` describe a shipped model:
    what it is, where its training scores came from, and the figures it was
    checked on (e.g. ``{"live_dev_srcc_pooled": 0.96}``). ``pooling`` is how
    the scorer turns the model's patch scores into one image score
    (``"mean"`` or ``"texture"``, see :mod:`iqa_keras.scoring.pooling`).
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
    description: str | None = None
    label_source: str | None = None
    checks: dict[str, Any] = dataclasses.field(default_factory=dict)
    pooling: str = "mean"

    def denormalize(self, outputs):
        """Network outputs -> scores on the training set's MOS scale."""
        return denormalise(outputs, self.score_mean, self.score_std)

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
    with atomic_path(path, suffix=".keras") as temporary:
        (model if include_optimizer else _without_optimizer(model)).save(temporary)
        with zipfile.ZipFile(temporary, "a") as archive:
            archive.writestr(INFO_MEMBER, info.to_json())


def read_info(path: str | os.PathLike) -> ModelInfo | None:
    """The ModelInfo stored in a ``.keras`` file, or None if it has none."""
    with zipfile.ZipFile(os.fspath(path)) as archive:
        if INFO_MEMBER not in archive.namelist():
            return None
        return ModelInfo.from_dict(json.loads(archive.read(INFO_MEMBER)))


def update_info(path: str | os.PathLike, **fields) -> ModelInfo:
    """Rewrites the ModelInfo of a ``.keras`` file with ``fields`` changed (atomically); returns the new info.

    Used to stamp a shipped model with its description and the figures it was
    checked on after training, without loading or re-saving the network.
    """
    path = os.fspath(path)
    info = read_info(path)
    if info is None:
        raise ValueError(f"{path} holds no {INFO_MEMBER}; save it with iqa_keras.save_model first")
    data = dataclasses.asdict(info)
    unknown = sorted(set(fields) - set(data))
    if unknown:
        raise ValueError(f"update_info: unknown ModelInfo field(s) {', '.join(unknown)}")
    data.update(fields)
    info = ModelInfo.from_dict(data)
    with zipfile.ZipFile(path) as source, atomic_path(path, suffix=".keras") as temporary:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                if item.filename != INFO_MEMBER:
                    target.writestr(item, source.read(item.filename))
            target.writestr(INFO_MEMBER, info.to_json())
    return info


def load_model(path: str | os.PathLike, compile: bool = False):
    """Loads a ``.keras`` file written by this package (or any Keras 3 model).

    The returned model carries ``model.iqa_info`` (a :class:`ModelInfo`): read
    from the file when it was saved with :func:`save_model`, inferred from the
    model's inputs otherwise. ``compile=False`` by default: scoring needs no
    optimizer state, and a training run restores its own optimizer when it resumes.
    A file that is there but cannot be loaded is a :class:`ModelFileError`
    naming it and why (Keras itself reports a truncated archive as "File not found").
    """
    import keras

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: not a .keras model (not a complete zip archive: truncated, corrupt, "
                             f"or another format), {os.path.getsize(path)} bytes")
    try:
        model = keras.saving.load_model(path, compile=compile)
        info = read_info(path)
    except Exception as error:  # noqa: BLE001 - Keras, h5py and zipfile raise many kinds for a damaged file
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ModelFileError(f"{path}: cannot load the model ({type(error).__name__}: {reason})") from None
    model.iqa_info = info or infer_info(model)
    return model
