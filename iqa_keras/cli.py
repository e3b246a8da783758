"""The ``iqa-keras`` command line: one subcommand per task.

The top-level scripts (``evaluation_*.py``) call into this module too, so all
argument handling lives in one place.
"""
from __future__ import annotations

import argparse
import sys


def _cmd_models(args: argparse.Namespace) -> int:
    """Lists the registered architectures with their parameter counts."""
    from .models import build_model, default_hyper_parameters
    from .registry import ARCHITECTURES

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


def _cmd_train(args: argparse.Namespace) -> int:
    """Trains (or resumes) the run a config file describes."""
    from .config import load_config
    from .training import train

    config = load_config(args.config, args.set)
    train(config, args.out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iqa-keras", description="Keras 3 image quality assessment model zoo."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    models = sub.add_parser("models", help="list the registered architectures")
    models.add_argument("names", nargs="*", help="only these architectures")
    models.set_defaults(func=_cmd_models)

    train = sub.add_parser("train", help="train a model from a config file (resumes if interrupted)")
    train.add_argument("config", help="config text file (TOML), e.g. configs/demo_fr_simple.toml")
    train.add_argument("--out", help="run folder (default: the config's output.dir, else runs/<config name>)")
    train.add_argument(
        "--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
        help="override a config value, e.g. --set train.epochs=3 (repeatable)",
    )
    train.set_defaults(func=_cmd_train)

    from .scoring_cli import add_score_parser  # `score`: pairs or folders in, CSV/JSON out

    add_score_parser(sub)

    from .nima_cli import add_jpeg_check_parser  # `jpeg-check`: NIMA score vs JPEG quality (seed 002)

    add_jpeg_check_parser(sub)

    from .experiments import add_experiment_parser  # `experiment bias-blur`: the bias-aware loss seed

    add_experiment_parser(sub)

    from .data.prepare import add_prepare_arguments, run_prepare  # `prepare`: dataset folders -> HDF5

    prepare = sub.add_parser("prepare", help="dataset folders -> HDF5 stores per split (chunked, bounded memory)")
    add_prepare_arguments(prepare).set_defaults(func=run_prepare)
    return parser


def evaluation_single_image(argv: list[str] | None = None) -> int:
    """Entry point of ``evaluation_single_image.py`` (arguments in ``scoring_cli``)."""
    from .scoring_cli import single_image_main

    return single_image_main(argv)


def evaluation_ntire(argv: list[str] | None = None) -> int:
    """Entry point of ``evaluation_ntire.py`` (arguments in ``scoring_cli``)."""
    from .scoring_cli import ntire_main

    return ntire_main(argv)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"iqa-keras {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
