"""``iqa-keras models``: the registered architectures, and the shipped models with what they were trained and checked on."""
from __future__ import annotations

import argparse


def cmd_models(args: argparse.Namespace) -> int:
    from ..architectures import build_model, default_hyper_parameters
    from ..registry import ARCHITECTURES

    if args.shipped:
        return print_shipped_models()
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


def print_shipped_models() -> int:
    """One block per ``.keras`` file under the shipped ``models/`` folder, from its stored ModelInfo."""
    from ..model_io import read_info
    from ..scoring.scorer import DEFAULT_MODELS_DIR

    files = sorted(DEFAULT_MODELS_DIR.rglob("*.keras")) if DEFAULT_MODELS_DIR.is_dir() else []
    files = [f for f in files if not f.name.startswith(".")]
    print(f"shipped models ({DEFAULT_MODELS_DIR}; the .keras files directly in it are the default ensemble):")
    if not files:
        print("  (none)")
    for path in files:
        info = read_info(path)
        default = " [default]" if path.parent == DEFAULT_MODELS_DIR else ""
        print(f"  {path.relative_to(DEFAULT_MODELS_DIR)}{default}")
        if info is None:
            print("    no stored description")
            continue
        low_high = f"{info.score_range[0]:g} to {info.score_range[1]:g}" if info.score_range else "not recorded"
        print(f"    {info.kind} {info.architecture}, input {info.input_size} px; scores {low_high}, "
              f"{'higher' if info.higher_is_better else 'lower'} is better")
        if info.description:
            print(f"    {info.description}")
        print(f"    trained on: {', '.join(info.trained_on) or 'not recorded'}"
              + (f"; labels: {info.label_source}" if info.label_source else ""))
        if info.checks:
            print("    checked: " + ", ".join(f"{k} {v}" for k, v in info.checks.items()))
    return 0


def add_parser(sub) -> None:
    parser = sub.add_parser("models", help="list the registered architectures and the shipped models")
    parser.add_argument("names", nargs="*", help="only these architectures")
    parser.add_argument("--shipped", action="store_true", help="only the shipped models")
    parser.set_defaults(func=cmd_models)
