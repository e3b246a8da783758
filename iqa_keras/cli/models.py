"""``iqa-keras models``: the registered architectures, and the presets (shipped models) with what they were trained and checked on."""
from __future__ import annotations

import argparse
from pathlib import Path


def cmd_models(args: argparse.Namespace) -> int:
    from ..architectures import build_model, default_hyper_parameters
    from ..registry import ARCHITECTURES

    if args.shipped or args.preset_dir:
        return print_shipped_models(args.preset_dir)
    names = args.names or ARCHITECTURES.names()
    rows = []
    for name in names:
        model = build_model(name)
        total = model.count_params()
        trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
        rows.append((name, total, trainable, default_hyper_parameters(name)))
    width = max(len(r[0]) for r in rows)
    print(f"{'architecture':<{width}}  {'parameters':>12}  {'trainable':>12}  defaults")
    for name, total, trainable, defaults in rows:
        shown = ", ".join(f"{k}={v}" for k, v in defaults.items() if k != "name")
        print(f"{name:<{width}}  {total:>12,}  {trainable:>12,}  {shown}")
    if not args.names:
        print()
        print_shipped_models()
    return 0


def print_shipped_models(source=None) -> int:
    """One block per preset (the shipped models, or the folder ``source``): name, file, integrity, ModelInfo."""
    from ..presets import MANIFEST, PresetError, list_presets, verify
    from ..scoring.scorer import DEFAULT_MODELS_DIR

    folder = Path(source) if source is not None else DEFAULT_MODELS_DIR
    checked = (folder / MANIFEST).is_file()
    print(f"presets in {folder} ("
          + (f"checked against {MANIFEST}" if checked else f"no {MANIFEST}: the files as found")
          + "; the .keras files directly in the shipped folder are the default ensemble):")
    presets = list_presets(folder) if folder.is_dir() else []
    if not presets:
        print("  (none)")
    for preset in presets:
        try:
            verify(preset)
            status = "sha256 ok" if checked else "not checked"
        except PresetError as error:
            status = f"REFUSED: {error}"
        default = " [default]" if source is None and "/" not in preset.file else ""
        print(f"  {preset.file}{default}: preset {preset.name!r}, {status}")
        low_high = f"{preset.score_range[0]:g} to {preset.score_range[1]:g}" if preset.score_range else "not recorded"
        print(f"    {preset.kind} ({preset.head}) {preset.architecture}, input {preset.input_size} px; "
              f"scores {low_high}, {'higher' if preset.higher_is_better else 'lower'} is better")
        if preset.description:
            print(f"    {preset.description}")
        print(f"    trained on: {', '.join(preset.trained_on) or 'not recorded'}"
              + (f"; labels: {preset.label_source}" if preset.label_source else ""))
        if preset.checks:
            print("    checked: " + ", ".join(f"{k} {v}" for k, v in preset.checks.items()))
    return 0


def add_parser(sub) -> None:
    parser = sub.add_parser("models", help="list the registered architectures and the presets (shipped models)")
    parser.add_argument("names", nargs="*", help="only these architectures")
    parser.add_argument("--shipped", action="store_true", help="only the presets (the shipped models)")
    parser.add_argument("--preset-dir", help="only the presets in this folder of .keras files")
    parser.set_defaults(func=cmd_models)
