"""``iqa-keras experiment NAME``: reproductions of published experiments (``bias-blur``)."""
from __future__ import annotations

import argparse


def _cmd_bias_blur(args: argparse.Namespace) -> int:
    from ..experiments.bias_blur import options_from_args, run_experiment

    run_experiment(options_from_args(args))
    return 0


def add_parser(sub) -> None:
    """Adds ``experiment`` and its sub-commands to the ``iqa-keras`` parser."""
    from ..experiments.bias_blur import add_arguments

    experiment = sub.add_parser("experiment", help="run a published experiment (e.g. bias-blur)")
    names = experiment.add_subparsers(dest="experiment", required=True)
    bias_blur = names.add_parser(
        "bias-blur",
        help="bias-aware loss on blurred images with four artificially biased training sets",
        description="The synthetic experiment of the bias-aware loss paper (Mittag et al., QoMEX 2021): "
        "reference images blurred with Gaussian sigmas in [1, 3], sigma mapped to a MOS, four training "
        "datasets whose MOS are biased by known polynomials, a ResNet-18 trained from scratch, validation "
        "on unbiased MOS.",
    )
    add_arguments(bias_blur)
    bias_blur.set_defaults(func=_cmd_bias_blur)
