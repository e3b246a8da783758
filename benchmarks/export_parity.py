#!/usr/bin/env python3
"""Export parity: max |exported - Keras| of every architecture in every format, for docs/export.md.

Each architecture is built at its default size with seeded random weights
(plus the shipped presets, trained), exported with ``iqa_keras.export``
(the same path as ``iqa-keras export``) and run in its own runtime on 8
held-out embedded pairs (astronaut, chelsea) centre-cropped to the input
size. Prints one Markdown row per model: the largest absolute difference
of the raw network output per format, or why the format is refused.

    python benchmarks/export_parity.py [--pairs 8] [--formats saved_model tflite onnx] [--only fr_simple ...]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

DEFAULT_ARCHITECTURES = ("fr_simple", "fr_bn", "fr_attention", "fr_tiled", "nima", "nima_regression", "resnet18")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--formats", nargs="+", default=["saved_model", "tflite", "onnx"])
    parser.add_argument("--only", nargs="+", help="architectures or preset names (default: all, then the presets)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    import iqa_keras
    from iqa_keras.export import TOLERANCES, ExportUnsupportedError, export_model, validation_inputs

    names = args.only or [*DEFAULT_ARCHITECTURES, *(p.name for p in iqa_keras.list_presets())]
    print(f"| model | input | {' | '.join(args.formats)} |")
    print("|---|---|" + "---|" * len(args.formats))
    for name in names:
        if name in iqa_keras.ARCHITECTURES:
            keras.utils.set_random_seed(0)
            model, label = iqa_keras.build_model(name), f"{name} (random weights)"
        else:
            model, label = iqa_keras.from_preset(name), f"preset {name}"
        inputs = validation_inputs(model, args.pairs)
        cells = []
        for fmt in args.formats:
            with tempfile.TemporaryDirectory() as folder:
                out = os.path.join(folder, "model" + ("" if fmt == "saved_model" else "." + fmt))
                start = time.perf_counter()
                try:
                    parity = export_model(model, fmt, out, parity_inputs=inputs, tolerance=float("inf"))["parity"]
                    over = parity["max_abs_difference"] > TOLERANCES[fmt]
                    cells.append(f"{parity['max_abs_difference']:.1e}" + (" (over the tolerance)" if over else ""))
                except ExportUnsupportedError:
                    cells.append("refused")
                print(f"  ({name} {fmt}: {time.perf_counter() - start:.0f} s)", flush=True, file=sys.stderr)
        size = model.inputs[0].shape[1]
        print(f"| {label} | {size} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
