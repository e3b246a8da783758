"""``iqa-keras models``: the registered architectures with their parameter counts and defaults."""
from __future__ import annotations

import argparse


def cmd_models(args: argparse.Namespace) -> int:
    from ..architectures import build_model, default_hyper_parameters
    from ..registry import ARCHITECTURES

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
    return 0


def add_parser(sub) -> None:
    parser = sub.add_parser("models", help="list the registered architectures")
    parser.add_argument("names", nargs="*", help="only these architectures")
    parser.set_defaults(func=cmd_models)
