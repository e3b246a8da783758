"""``iqa-keras export MODEL.keras --format saved_model|tflite|onnx``: an exported model, checked for parity."""
from __future__ import annotations

import argparse
from pathlib import Path


def default_out(model: str, fmt: str) -> Path:
    """Beside the model: ``name_saved_model/``, ``name.tflite`` or ``name.onnx``."""
    path = Path(model)
    return path.with_name(path.stem + "_saved_model") if fmt == "saved_model" else path.with_suffix("." + fmt)


def cmd_export(args: argparse.Namespace) -> int:
    from ..export import export_model, info_path

    if not Path(args.model).is_file():
        raise FileNotFoundError(f"model file not found: {args.model}")
    out = Path(args.out) if args.out else default_out(args.model, args.format)
    description = export_model(args.model, args.format, out, parity_count=args.parity_pairs, tolerance=args.tolerance)
    print(f"wrote {out} ({args.format})")
    parity = description["parity"]
    if parity is None:
        print("parity: not checked (--parity-pairs 0)")
    else:
        print(f"parity on {parity['pairs']} held-out embedded pairs: max |exported - keras| = "
              f"{parity['max_abs_difference']:.3g} (allowed {parity['tolerance']:g})")
    print(f"description (score scale, direction, inputs): {info_path(out)}")
    return 0


def add_parser(sub) -> None:
    from ..export import FORMATS

    parser = sub.add_parser("export", help="export a .keras model to SavedModel, TFLite or ONNX (parity-checked)")
    parser.add_argument("model", help="a .keras model file (e.g. runs/demo_fr_simple/best.keras)")
    parser.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    parser.add_argument("--out", help="output path (default: beside the model: NAME_saved_model/, NAME.tflite, "
                                      "NAME.onnx); its description goes to OUT.iqa_keras.json")
    parser.add_argument("--parity-pairs", type=int, default=8,
                        help="held-out embedded pairs the export must reproduce before it is kept (0: no check; "
                             "default 8)")
    parser.add_argument("--tolerance", type=float,
                        help="largest allowed |exported - keras| output difference (default: 1e-4, TFLite 1e-3)")
    parser.set_defaults(func=cmd_export)
