"""Parity: an exported model must give the Keras model's outputs, within a tolerance per format.

The inputs are the embedded synthetic set's held-out pairs (the two
photographs the demo validates on), centre-cropped to the model's input
size: real images, so the check exercises the range of values a user sends.
"""
from __future__ import annotations

import dataclasses

import numpy as np

# largest absolute difference allowed between the exported and the Keras model's raw outputs
TOLERANCES = {"saved_model": 1e-4, "tflite": 1e-3, "onnx": 1e-4}
HELD_OUT = ("astronaut", "chelsea")


class ParityError(ValueError):
    """An exported model whose outputs differ from the Keras model's by more than the format allows."""


@dataclasses.dataclass
class ParityReport:
    format: str
    pairs: int
    max_abs_difference: float
    tolerance: float
    output_range: tuple[float, float]

    def to_dict(self) -> dict:
        return {"pairs": self.pairs, "max_abs_difference": self.max_abs_difference, "tolerance": self.tolerance,
                "keras_output_range": list(self.output_range)}


def validation_inputs(model, count: int = 8, cache_dir=None, size: int | None = None) -> dict[str, np.ndarray]:
    """Input name -> ``(count, S, S, 3)`` float32 pixels from the held-out embedded pairs (spread over them)."""
    from ..data.images import read_image
    from ..data.pipeline import fit_to_size_numpy
    from ..data.synthetic import DEFAULT_SIZE, read_embedded

    records = read_embedded(cache_dir=cache_dir, size=size or DEFAULT_SIZE, contents=list(HELD_OUT))
    picks = np.linspace(0, len(records) - 1, num=min(count, len(records))).round().astype(int)
    side = int(model.inputs[0].shape[1])
    columns = {"reference": "ref", "distorted": "dist", "image": "dist"}
    inputs = {}
    for tensor in model.inputs:
        column = columns.get(tensor.name, "dist")
        images = [fit_to_size_numpy(read_image(records[column].iloc[i]), side) for i in picks]
        inputs[tensor.name] = np.stack(images).astype(np.float32)
    return inputs


def keras_outputs(model, inputs: dict[str, np.ndarray]) -> np.ndarray:
    ordered = [inputs[t.name] for t in model.inputs]
    return np.asarray(model(ordered if len(ordered) > 1 else ordered[0], training=False))


def check_parity(model, path, fmt: str, inputs: dict[str, np.ndarray], tolerance: float | None = None) -> ParityReport:
    """Runs the exported file on ``inputs``; raises :class:`ParityError` when it strays beyond the tolerance."""
    from .runners import run_exported

    tolerance = TOLERANCES[fmt] if tolerance is None else float(tolerance)
    expected = keras_outputs(model, inputs)
    actual = run_exported(path, fmt, inputs)
    if actual.shape != expected.shape:
        raise ParityError(f"{path}: exported output shape {actual.shape}, Keras model {expected.shape}")
    difference = float(np.max(np.abs(actual.astype(np.float64) - expected.astype(np.float64))))
    report = ParityReport(fmt, len(expected), difference, tolerance, (float(expected.min()), float(expected.max())))
    if not difference <= tolerance:  # also catches NaN
        raise ParityError(f"{path}: the {fmt} export differs from the Keras model by {difference:.3g} on "
                          f"{report.pairs} held-out inputs (allowed {tolerance:g}); not kept")
    return report
